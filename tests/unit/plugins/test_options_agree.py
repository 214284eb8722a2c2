"""Every place that names a shared option agrees with the table (plugins/module_utils/_registry/table.py): the doc
fragments, the lookup's variables and environment, the module's own options, the core's option objects and the
tag_gate role. Dropping an option, an alias or a no_log from any one place fails here."""

from __future__ import annotations

import inspect
import re
import typing as t
from pathlib import Path

import pytest
import yaml
from ansible.plugins.loader import lookup_loader
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ansible_collections.tagscope.registry.plugins.doc_fragments import connection, selection
from ansible_collections.tagscope.registry.plugins.lookup import image_tags as lookup_plugin
from ansible_collections.tagscope.registry.plugins.module_utils._argspec import module_argument_spec
from ansible_collections.tagscope.registry.plugins.module_utils._registry.options import (
    ClientOptions,
    QueryOptions,
    RunOptions,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.policy import Policy
from ansible_collections.tagscope.registry.plugins.module_utils._registry.select import Selection
from ansible_collections.tagscope.registry.plugins.module_utils._registry.table import (
    CLIENT,
    CONNECTION_DOCS,
    LOOKUP,
    MODULE,
    MODULE_DOCS,
    OPTION,
    OPTIONS,
    POLICY,
    QUERY,
    ROLE,
    RUNNER,
    SELECTION,
    SELECTION_DOCS,
    Option,
    names,
)
from ansible_collections.tagscope.registry.plugins.modules import image_tags as module
from tests.unit.ids import case_id

ROLE_DIR = Path(__file__).resolve().parents[3] / "roles" / "tag_gate"
FRAGMENTS = {
    CONNECTION_DOCS: yaml.safe_load(connection.ModuleDocFragment.DOCUMENTATION)["options"],
    SELECTION_DOCS: yaml.safe_load(selection.ModuleDocFragment.DOCUMENTATION)["options"],
    MODULE_DOCS: yaml.safe_load(module.DOCUMENTATION)["options"],
}
PLUGINS = yaml.safe_load(connection.ModuleDocFragment.PLUGINS)["options"]
ROLE_SPEC = yaml.safe_load((ROLE_DIR / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
ROLE_DEFAULTS = yaml.safe_load((ROLE_DIR / "defaults" / "main.yml").read_text())
ROLE_TASKS = (ROLE_DIR / "tasks" / "main.yml").read_text()
ROLE_README = (ROLE_DIR / "README.md").read_text()
# The role's own variables, which are not options of the module.
ROLE_OWN = {"tag_gate_images", "tag_gate_delegate_to", "tag_gate_per_host"}


def by_name(option: Option) -> str:
    return case_id(option.name)


def documented(option: Option) -> dict[str, t.Any]:
    return FRAGMENTS[option.docs][option.name]


def description(entry: dict[str, t.Any]) -> str:
    text = entry["description"]
    return " ".join(text) if isinstance(text, list) else text


@pytest.mark.parametrize("docs", [CONNECTION_DOCS, SELECTION_DOCS])
def test_each_fragment_documents_exactly_its_options(docs: str) -> None:
    assert list(FRAGMENTS[docs]) == [option.name for option in OPTIONS if option.docs == docs]


@pytest.mark.parametrize("option", OPTIONS, ids=by_name)
def test_the_docs_say_what_the_table_says(option: Option) -> None:
    entry = documented(option)
    assert entry.get("type", "str") == option.type
    assert entry.get("default") == option.default
    assert entry.get("elements") == option.elements
    assert (tuple(entry["choices"]) if "choices" in entry else None) == option.choices
    assert tuple(entry.get("aliases", ())) == option.aliases


@pytest.mark.parametrize("option", OPTIONS, ids=by_name)
def test_secrets_and_only_secrets_say_never_logged(option: Option) -> None:
    assert ("Never logged" in description(documented(option))) is bool(option.no_log)


@pytest.mark.parametrize("option", OPTIONS, ids=by_name)
def test_the_environment_variable_is_documented_for_module_and_lookup(option: Option) -> None:
    mentioned = re.findall(r"E\((TAGSCOPE_REGISTRY_\w+)\)", description(documented(option)))
    assert mentioned == ([option.env_name] if option.env_name else [])
    lookup_env = [entry["name"] for entry in PLUGINS.get(option.name, {}).get("env", [])]
    assert lookup_env == ([option.env_name] if option.env_name else [])


def test_the_lookup_reads_each_connection_option_from_its_variable() -> None:
    assert list(PLUGINS) == [option.name for option in OPTIONS if option.docs == CONNECTION_DOCS]
    for name, entry in PLUGINS.items():
        assert [variable["name"] for variable in entry["vars"]] == [OPTION[name].variable], name


def test_the_lookup_takes_every_option_of_its_face_with_the_table_defaults() -> None:
    lookup = lookup_loader.get("tagscope.registry.image_tags")
    lookup.set_options(var_options={}, direct={})
    assert set(lookup._options) - {"_terms", "latest"} == set(names(face=LOOKUP))
    for name in names(face=LOOKUP):
        assert lookup.get_option(name) == OPTION[name].default, name
    own = yaml.safe_load(lookup_plugin.DOCUMENTATION)["options"]
    assert set(own) == {"_terms", "latest"}


def test_the_module_argument_spec_is_the_table() -> None:
    spec = module_argument_spec()
    assert set(spec) - {"images", "list_tags", "merge_facts"} == set(names(face=MODULE))
    for name in names(face=MODULE):
        option = OPTION[name]
        assert spec[name].get("no_log") == option.no_log, name
        assert tuple(spec[name].get("aliases", ())) == option.aliases, name
        fallback = spec[name].get("fallback")
        assert (fallback[1] if fallback else None) == ([option.env_name] if option.env_name else None), name


def test_module_documents_its_own_options() -> None:
    docs = yaml.safe_load(module.DOCUMENTATION)["options"]
    own = {name: spec for name, spec in module_argument_spec().items() if name not in OPTION}
    assert set(docs) == set(own) | {option.name for option in OPTIONS if option.docs == MODULE_DOCS}
    for name, spec in own.items():
        entry = docs[name]
        assert (entry.get("type"), entry.get("default"), entry.get("elements")) == (
            spec["type"],
            spec.get("default"),
            spec.get("elements"),
        )
        assert entry.get("aliases", []) == spec.get("aliases", [])


BUILDERS = {CLIENT: ClientOptions.build, QUERY: QueryOptions.build, POLICY: Policy.build, SELECTION: Selection.build}
NOT_OPTIONS = {"environ", "selection", "list_tags", "manifests", "policy"}


@pytest.mark.parametrize("goes_to", list(BUILDERS))
def test_each_builder_takes_exactly_the_options_that_go_to_it(goes_to: str) -> None:
    taken = set(inspect.signature(BUILDERS[goes_to]).parameters) - NOT_OPTIONS
    assert taken == set(names(goes_to=goes_to))


PUBLIC_KEY = (
    ec.generate_private_key(ec.SECP256R1())
    .public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
# A value for each option that differs from its default, and an equal one written differently where one exists.
CHANGED: dict[str, t.Any] = {
    "username": "ci",
    "password": "pw",
    "token": "tok",
    "auth_registry": "ghcr.io",
    "auth_file": "/etc/auth.json",
    "validate_certs": False,
    "ca_path": "/etc/ca.pem",
    "timeout": 5,
    "concurrency": 2,
    "page_size": 50,
    "retries": 1,
    "retry_max_wait": 3,
    "http_registries": ["registry.local:5000"],
    "mirrors": {"docker.io": ["mirror.local:5000"]},
    "min_remaining": 50,
    "include": ["1[.].*"],
    "exclude": "latest",
    "constraint": ">=1",
    "prereleases": True,
    "sort": "lexical",
    "reverse": True,
    "limit": 3,
    "fail_on_missing": True,
    "wait_timeout": 5,
    "wait_interval": 2,
    "platforms": ["linux/arm64"],
    "allow_moved": True,
    "digest_tags": True,
    "inspect": True,
    "signed_by": [PUBLIC_KEY],
    "require_attestations": ["sbom"],
    "require_labels": {"org.opencontainers.image.revision": "abc123"},
    "min_age": "1h",
    "max_age": "2w",
    "rate_limit_warning": 50,
}


@pytest.mark.parametrize("option", OPTIONS, ids=by_name)
def test_every_option_reaches_the_run(option: Option) -> None:
    """An option the table declares and the run ignores would be accepted and silently do nothing."""
    given = {option.name: CHANGED[option.name]}
    if option.name in ("username", "password"):
        given = {"username": "ci", "password": "pw"}
    assert RunOptions.from_params(given) != RunOptions.from_params({})
    assert RunOptions.from_params({option.name: None}) == RunOptions.from_params({})


def test_every_option_has_a_changed_value() -> None:
    assert set(CHANGED) == set(OPTION)


def test_runner_options_are_read_by_the_runner() -> None:
    for name in names(goes_to=RUNNER):
        assert name in RunOptions.__dataclass_fields__


@pytest.mark.parametrize("option", [o for o in OPTIONS if ROLE in o.faces], ids=by_name)
def test_the_role_passes_the_option_on(option: Option) -> None:
    variable = t.cast(str, option.role_variable)
    assert variable in ROLE_DEFAULTS
    spec = ROLE_SPEC[variable]
    assert spec["type"] == option.type
    assert spec.get("elements") == option.elements
    assert spec.get("no_log", False) is bool(option.no_log)
    # Unset in the role means the module's default; a value must be the module's own.
    role_default = ROLE_DEFAULTS[variable]
    if role_default not in (None, [], {}):
        assert role_default == option.default
    assert spec.get("default") == (role_default if role_default is not None else None)
    assert re.search(rf"^\s+{option.name}: .*\b{variable}\b", ROLE_TASKS, re.M), f"{option.name} not passed on"
    assert f"`{variable}`" in ROLE_README


def test_the_role_has_no_other_variables() -> None:
    passed = {option.role_variable for option in OPTIONS if ROLE in option.faces}
    assert set(ROLE_SPEC) == passed | ROLE_OWN
    assert set(ROLE_DEFAULTS) == passed | ROLE_OWN
