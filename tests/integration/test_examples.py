"""Every YAML example in README.md, roles/tag_gate/README.md, docs/ and the plugins' EXAMPLES runs against the kit.

An example is run as written, with only these rewrites: the registries it names (ghcr.io, quay.io, docker.io,
registry.example.com, ...) become the kit's token registry, which holds stand-ins for the repositories the
examples use (tests/kit/seed.py, EXAMPLE_REPOS), also as keys of ``mirrors``; the mirror it names
(mirror.example.com:5000) becomes the kit's pull-through mirror; bare Docker Hub names (``alpine``) get the kit's
host; file paths become files the test writes. Variables the examples leave to the user (``ghcr_user``,
``release``, ...) are given as extra vars. An example either succeeds or fails exactly as its text says it does
(``FAILURES``).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import requests
import yaml

from tests.conftest import REPO

from .conftest import BIN, ansible_env

DOCUMENTS = [REPO / "README.md", REPO / "roles" / "tag_gate" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
PLUGINS = [REPO / "plugins" / "modules" / "image_tags.py", REPO / "plugins" / "lookup" / "image_tags.py"]
HOSTS = ("ghcr.io", "quay.io", "docker.io", "registry.example.com:5000", "registry.example.com", "harbor.example.com")
MIRROR = "mirror.example.com:5000"
DOCKER_HUB_NAMES = ("alpine",)

# Examples that document a failure: a text of the example -> what the failure says ({kit} is the registry).
FAILURES = {
    "image: ghcr.io/example/web:1.4.2\n    platforms": (
        "1.4.2 in {kit}/example/web lacks linux/arm64; it has linux/amd64"
    ),
    "ghcr.io/org/api:1.4.2": (
        "2 tags not found: 1.4.2 not found in {kit}/org/api (nearest: 1.4.1, 1.5.0); "
        "1.4.2 not found in {kit}/org/web (nearest: 1.4.0)"
    ),
}


class Example(t.NamedTuple):
    source: str  # file and line, for the test id
    text: str


def _markdown_examples(path: Path) -> list[Example]:
    examples = []
    lines = path.read_text().splitlines()
    start = None
    for number, line in enumerate(lines, 1):
        if line.strip() == "```yaml":
            start = number
        elif line.strip() == "```" and start is not None:
            examples.append(Example(f"{path.relative_to(REPO)}:{start}", "\n".join(lines[start : number - 1])))
            start = None
    return examples


def _plugin_examples(path: Path) -> list[Example]:
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", "") == "EXAMPLES" for target in node.targets):
            return [Example(f"{path.relative_to(REPO)}:EXAMPLES", ast.literal_eval(node.value))]
    raise AssertionError(f"{path} has no EXAMPLES")


EXAMPLES = [example for path in DOCUMENTS for example in _markdown_examples(path)] + [
    example for path in PLUGINS for example in _plugin_examples(path)
]


def test_the_examples_were_found() -> None:
    # Every document that shows the collection in use has examples, so an extraction bug cannot pass silently.
    sources = {example.source.split(":")[0] for example in EXAMPLES}
    assert {"README.md", "roles/tag_gate/README.md", "docs/gating.md", "docs/credentials.md"} <= sources
    assert {"plugins/modules/image_tags.py", "plugins/lookup/image_tags.py"} <= sources
    assert len(EXAMPLES) >= 19


def rewrite(text: str, kit: dict[str, t.Any], files: dict[str, str], mirror: str) -> str:
    registry = kit["token_registry"]
    text = text.replace(MIRROR, mirror)
    for host in HOSTS:
        text = re.sub(rf"(?<![\w.-]){re.escape(host)}/", f"{registry}/", text)
        text = re.sub(rf"(auth_registry: ){re.escape(host)}(?![\w.:-])", rf"\g<1>{registry}", text)
        # A key of mirrors: the registry the mirrors stand in for.
        text = re.sub(rf"(?<![\w./-]){re.escape(host)}(?=:\s)", registry, text)
    for name in DOCKER_HUB_NAMES:
        # As a reference: an image: value, a list item or a quoted term (not a register: name).
        text = re.sub(
            rf"(image: |- |['\"]){name}(?=[\s'\"]|:[\w.]|$)", rf"\g<1>{registry}/library/{name}", text, flags=re.M
        )
    for path, replacement in files.items():
        text = text.replace(path, replacement)
    return text


@pytest.fixture(scope="module")
def setting(kit: dict[str, t.Any], kit_mirror: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, t.Any]:
    """Extra vars, files and an inventory for the examples."""
    directory = tmp_path_factory.mktemp("examples")
    registry = kit["token_registry"]
    auth = {"auths": {registry: {"auth": _basic("alice", kit["users"]["alice"])}}}
    files = {}
    for path in ("/builds/.docker/config.json", "/etc/containers/ci-auth.json", "/etc/tagscope/auth.json"):
        target = directory / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(auth))
        files[path] = str(target)
    files["/builds/.docker"] = str(directory / "builds" / ".docker")
    files["/etc/pki/registry-ca.pem"] = kit["ca"]
    token = requests.get(
        kit["realm"],
        params={"service": kit["service"], "scope": "repository:team/app:pull"},
        auth=("alice", kit["users"]["alice"]),
        verify=kit["ca"],
        timeout=10,
    ).json()["token"]
    alice = kit["users"]["alice"]
    extra = {
        "ansible_python_interpreter": sys.executable,
        "release": "1.4.2",
        "registry_bearer_token": token,
        **{name: "alice" for name in ("ghcr_user", "quay_user", "registry_user", "vault_ghcr_user")},
        **{name: alice for name in ("ghcr_token", "quay_token", "registry_password", "vault_ghcr_token")},
        "vault_harbor_robot_secret": kit["users"]["robot$ci"],
    }
    (directory / "vars.json").write_text(json.dumps(extra))
    (directory / "deploy.yml").write_text("---\n- name: Deploy\n  ansible.builtin.debug:\n    msg: deploying\n")
    (directory / "hosts.ini").write_text(
        "localhost ansible_connection=local\n"
        "[app_servers]\napp1\napp2\napp3\n[app_servers:vars]\nansible_connection=local\n"
    )
    return {"dir": directory, "files": files, "mirror": kit_mirror}


def _basic(user: str, password: str) -> str:
    import base64  # noqa: PLC0415 - only here

    return base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.source for example in EXAMPLES])
def test_example_runs_as_written(kit: dict[str, t.Any], setting: dict[str, t.Any], example: Example) -> None:
    text = rewrite(example.text, kit, setting["files"], setting["mirror"])
    content = yaml.safe_load(text)
    assert isinstance(content, list) and content, f"{example.source} is not a list of tasks or plays"
    if all(isinstance(item, dict) and "sources" in item for item in content):
        # A rulebook: ansible-rulebook runs it, not ansible-playbook (tests/integration/test_event_source.py runs
        # its source's arguments); here it must name the collection's source and a playbook the docs ship.
        for rulebook in content:
            plugins = [[key for key in source if key not in ("name", "filters")] for source in rulebook["sources"]]
            assert plugins == [["tagscope.registry.image_tags"]], example.source
            for rule in rulebook["rules"]:
                run = rule["action"].get("run_playbook")
                # Beside the rulebook, as ansible-rulebook finds it.
                assert run is None or (REPO / "docs" / run["name"]).is_file(), f"{example.source}: {run}"
        return
    options = ("--syntax-check",) if "ansible_eda" in example.text else ()
    if not all(isinstance(item, dict) and "hosts" in item for item in content):
        content = [{"name": example.source, "hosts": "localhost", "gather_facts": False, "tasks": content}]
    directory: Path = setting["dir"]
    playbook = directory / (re.sub(r"\W+", "_", example.source) + ".yml")
    playbook.write_text(yaml.safe_dump(content, sort_keys=False))
    process = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            str(directory / "hosts.ini"),
            "-e",
            f"@{directory / 'vars.json'}",
            *options,
            str(playbook),
        ],
        capture_output=True,
        text=True,
        env=ansible_env(TAGSCOPE_REGISTRY_CA_PATH=kit["ca"], ANSIBLE_INJECT_FACT_VARS="False"),
        timeout=300,
        check=False,
    )
    output = process.stdout + process.stderr
    expected = next((failure for marker, failure in FAILURES.items() if marker in example.text), None)
    if expected is None:
        assert process.returncode == 0, output
        assert "[DEPRECATION WARNING]" not in output, output
    else:
        assert process.returncode == 2, output
        assert expected.format(kit=kit["token_registry"]) in output, output
