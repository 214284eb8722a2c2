# make demo: the main job (demo playbook against the embedded local registry); installs requirements-kit.txt only
# make test: everything CI runs (lint, sanity, unit, integration, molecule, release checks)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
KIT_DIR ?= .kit
BIN := $(abspath $(VENV))/bin
PY := $(BIN)/python
COLLECTIONS := $(CURDIR)/.build/collections
INSTALLED := $(CURDIR)/.build/installed
SANITY_ROOT := $(CURDIR)/.build/sanity/ansible_collections/tagscope/registry
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export ANSIBLE_NOCOLOR ?= 1

.PHONY: deps demo-deps system-deps release-system-deps collection demo test lint sanity units integration molecule kit-up kit-down clean bench mutation fuzz release-check docs integration-lowest

deps: system-deps $(VENV)/.installed collection

# What the demo and the test kit need, and no test or lint tool: a new user's `make demo` installs no more.
demo-deps: system-deps $(VENV)/.kit-installed collection

system-deps:
	@missing=""; \
	[ -x /usr/bin/docker-registry ] || missing="$$missing docker-registry"; \
	$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	command -v git >/dev/null || missing="$$missing git"; \
	$(PYTHON) -W ignore -c 'import crypt' 2>/dev/null || command -v htpasswd >/dev/null || missing="$$missing apache2-utils"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.kit-installed: requirements.txt requirements-kit.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-kit.txt
	touch $@

# The same venv, with the test and lint tools added: a demo run first leaves less to install.
$(VENV)/.installed: $(VENV)/.kit-installed requirements-dev.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# The working tree as ansible_collections/tagscope/registry, for tests and ad hoc runs.
collection:
	@mkdir -p $(COLLECTIONS)/ansible_collections/tagscope
	@ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/tagscope/registry

# The demo runs the collection as users get it: built and installed from the tarball.
$(INSTALLED): demo-deps
	rm -rf $(CURDIR)/.build/dist $(INSTALLED)
	$(BIN)/ansible-galaxy collection build --force --output-path $(CURDIR)/.build/dist .
	$(BIN)/ansible-galaxy collection install --force -p $(INSTALLED) $(CURDIR)/.build/dist/tagscope-registry-*.tar.gz

demo: demo-deps $(INSTALLED)
	@$(PY) -m tests.kit up --dir $(KIT_DIR)
	@status=0; \
	ANSIBLE_COLLECTIONS_PATH=$(INSTALLED) $(BIN)/ansible-playbook -i localhost, -c local \
		playbooks/demo.yml -e @$(KIT_DIR)/vars.json || status=$$?; \
	$(PY) -m tests.kit down --dir $(KIT_DIR); \
	exit $$status

kit-up: demo-deps
	$(PY) -m tests.kit up --dir $(KIT_DIR)

kit-down:
	$(PY) -m tests.kit down --dir $(KIT_DIR)

test: deps lint sanity units integration molecule release-check

lint: deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(PY) -m tests.docsite --check
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(BIN)/ansible-lint --offline

# ansible-test wants the collection at .../ansible_collections/tagscope/registry: test a copy of the tree.
sanity: deps
	rm -rf $(SANITY_ROOT) && mkdir -p $(SANITY_ROOT)
	git ls-files -co --exclude-standard | tar -T - -cf - | tar -xf - -C $(SANITY_ROOT)
	# A repository of its own: inside this checkout, git would call the copy ignored and ansible-test skip it all.
	cd $(SANITY_ROOT) && git init -q && git add -A
	$(PY) tests/sanity/install_pip_bootstrap.py
	cd $(SANITY_ROOT) && $(BIN)/ansible-test sanity --venv \
		--python $$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')

units: deps
	$(BIN)/pytest tests/unit

integration: deps
	$(BIN)/pytest tests/integration

# The integration tests on the lowest ansible-core meta/runtime.yml claims (requires_ansible), in a venv of their
# own; make test runs the newest only (CI time). It takes as long as make integration.
LOWEST_VENV := $(CURDIR)/.venv-lowest
$(LOWEST_VENV)/.installed: requirements.txt requirements-lowest.txt
	$(PYTHON) -m venv $(LOWEST_VENV)
	$(LOWEST_VENV)/bin/pip install -q --upgrade pip
	$(LOWEST_VENV)/bin/pip install -q -r requirements-lowest.txt
	touch $@

integration-lowest: system-deps collection $(LOWEST_VENV)/.installed
	$(LOWEST_VENV)/bin/ansible --version | sed -n 1p
	$(LOWEST_VENV)/bin/pytest tests/integration

# Every scenario in extensions/molecule (collection mode); each starts and stops its own kit.
molecule: deps
	PATH=$(BIN):$$PATH $(BIN)/molecule test --all

clean:
	-$(PY) -m tests.kit down --dir $(KIT_DIR)
	rm -rf .build $(KIT_DIR) tests/output

# Request counts and wall times beside skopeo, on a near and a far registry (not part of make test).
bench: deps
	@command -v skopeo >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends skopeo; }
	$(PY) -m benchmarks.bench --runs 5

# Mutation testing of the core against the unit tests (slow; not part of make test). See docs/testing.md.
# A part: make mutation MUTANTS='plugins.module_utils._registry.headers*'
MUTANTS ?=
mutation: deps
	rm -rf mutants
	-$(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/mutmut results | grep -v "not checked" || true
	$(PY) tests/mutation_score.py

# The fuzzing harness (tests/fuzz): a hostile registry and token service against the module's work, 10,000 generated
# cases; make test runs a sample of 500 (tests/unit/test_fuzz_sample.py). See docs/testing.md, "Fuzzing".
# Another run: make fuzz FUZZ_SEED=7 FUZZ_CASES=20000; one case: .venv/bin/python -m tests.fuzz --seed S --case N
FUZZ_SEED ?= 1
FUZZ_CASES ?= 10000
# The peak RSS (MiB) a run may reach; docs/testing.md says where it comes from.
FUZZ_MAX_RSS ?= 700
fuzz: deps
	$(PY) -m tests.fuzz --seed $(FUZZ_SEED) --cases $(FUZZ_CASES) --max-rss-mib $(FUZZ_MAX_RSS)

# What Galaxy and the docs site check: changelog fragments, plugin and role docs, the built tarball's import.
RELEASE_VENV := $(CURDIR)/.venv-release
$(RELEASE_VENV)/.installed: requirements-release.txt
	$(PYTHON) -m venv $(RELEASE_VENV)
	$(RELEASE_VENV)/bin/pip install -q --upgrade pip
	$(RELEASE_VENV)/bin/pip install -q -r requirements-release.txt
	touch $@

# Debian's chromium, for tests/release/test_docsite.py (playwright drives it; it never downloads a browser).
release-system-deps:
	@command -v chromium >/dev/null || { echo "Installing Debian packages: chromium"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }

# The collection's HTML docs site in .build/docsite/html: plugins, role, guides (docs/docsite); no warning allowed.
DOCSITE := $(CURDIR)/.build/docsite
docs: system-deps collection $(RELEASE_VENV)/.installed
	rm -rf $(DOCSITE) && mkdir -p $(DOCSITE)/rst
	# antsibull-docs wants its output directory readable by its owner only.
	chmod 700 $(DOCSITE)/rst
	PATH=$(RELEASE_VENV)/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(RELEASE_VENV)/bin/antsibull-docs \
		collection --use-current --squash-hierarchy --fail-on-error --cleanup everything \
		--dest-dir $(DOCSITE)/rst tagscope.registry
	$(RELEASE_VENV)/bin/sphinx-build -b html -W --keep-going -q -c docs/site $(DOCSITE)/rst $(DOCSITE)/html

# Also: the changelog is current, galaxy.yml's links, execution environments (ansible-builder), the docs site in
# a browser (tests/release).
release-check: deps release-system-deps $(RELEASE_VENV)/.installed docs
	$(RELEASE_VENV)/bin/antsibull-changelog lint
	PATH=$(RELEASE_VENV)/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(RELEASE_VENV)/bin/antsibull-docs \
		lint-collection-docs --plugin-docs $(COLLECTIONS)/ansible_collections/tagscope/registry
	rm -rf $(CURDIR)/.build/release && mkdir -p $(CURDIR)/.build/release/tmp
	$(BIN)/ansible-galaxy collection build --force --output-path $(CURDIR)/.build/release .
	cd $(CURDIR)/.build/release && PATH=$(RELEASE_VENV)/bin:$$PATH ANSIBLE_LOCAL_TMP=$(CURDIR)/.build/release/tmp \
		GALAXY_IMPORTER_CONFIG=$(CURDIR)/tests/galaxy-importer.cfg \
		$(RELEASE_VENV)/bin/python -m galaxy_importer.main $(CURDIR)/.build/release/tagscope-registry-*.tar.gz
	PATH=$(RELEASE_VENV)/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(RELEASE_VENV)/bin/python -m pytest tests/release
