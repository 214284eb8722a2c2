"""The job template of docs/automation-platform.md, with the credential type of extensions/aap, against the kit.

A job's environment is made the way AWX and Automation Controller make it from a credential: each injector is a
Jinja template rendered in a sandbox with the credential's inputs, an input left empty being undefined (it renders
as an empty string). The guide's playbook then runs as the job would, with nothing else to give it credentials:
no credential files (an empty HOME), no TAGSCOPE_* variable of the machine's.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import typing as t

import pytest
import requests
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tests.conftest import REPO

from .conftest import BIN, ansible_env

CREDENTIAL_TYPE = yaml.safe_load((REPO / "extensions" / "aap" / "credential_type.yml").read_text())
GUIDE = REPO / "docs" / "automation-platform.md"
# team-a/app is pullable by alice alone (tests/kit/seed.py TEAMS): anonymous access and other users are refused.
REPOSITORY = "team-a/app"


def injected_environment(inputs: dict[str, str]) -> dict[str, str]:
    """What a job gets from a credential with these inputs (empty inputs are left out, as AWX leaves them)."""
    namespace = {name: value for name, value in inputs.items() if value}
    sandbox = ImmutableSandboxedEnvironment()
    return {
        variable: sandbox.from_string(template).render(**namespace)
        for variable, template in CREDENTIAL_TYPE["injectors"]["env"].items()
    }


def guide_playbook() -> list[dict[str, t.Any]]:
    """The playbook of the guide's job template section, as written."""
    section = GUIDE.read_text().split("## A job template", 1)[1]
    (block,) = re.findall(r"^```yaml\n(.*?)^```", section, flags=re.M | re.S)
    return yaml.safe_load(block)


@pytest.fixture(scope="module")
def job(kit: dict[str, t.Any], tmp_path_factory: pytest.TempPathFactory) -> t.Callable[..., tuple[int, str]]:
    directory = tmp_path_factory.mktemp("aap-job")
    playbook = directory / "deploy-api.yml"
    playbook.write_text(yaml.safe_dump(guide_playbook(), sort_keys=False))
    (directory / "inventory.ini").write_text(
        "[app_servers]\napp1\napp2\n[app_servers:vars]\nansible_connection=local\n"
        f"ansible_python_interpreter={sys.executable}\n"
    )

    def run(environment: dict[str, str], tag: str = "1.1") -> tuple[int, str]:
        """The job, its output at -vvv (what AAP would store at its highest verbosity)."""
        extra = {"api_repository": f"{kit['token_registry']}/{REPOSITORY}", "api_tag": tag}
        command = [
            str(BIN / "ansible-playbook"),
            "-vvv",
            "-i",
            str(directory / "inventory.ini"),
            "-e",
            json.dumps(extra),
            str(playbook),
        ]
        # The CA is the machine's (an EE's trust store), not part of the registry credential.
        env = ansible_env(TAGSCOPE_REGISTRY_CA_PATH=kit["ca"], **environment)
        process = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)
        return process.returncode, process.stdout + process.stderr

    return run


def _pinned(kit: dict[str, t.Any], tag: str) -> str:
    return f"deploying {kit['token_registry']}/{REPOSITORY}:{tag}@sha256:"


def test_a_username_and_password_credential(kit: dict[str, t.Any], job: t.Callable[..., tuple[int, str]]) -> None:
    secret = kit["users"]["alice"]
    environment = injected_environment(
        {"registry": kit["token_registry"], "username": "alice", "password": secret, "token": ""}
    )
    assert environment["TAGSCOPE_REGISTRY_TOKEN"] == ""  # an empty input still sets its variable
    rc, output = job(environment)
    assert rc == 0, output
    assert output.count(_pinned(kit, "1.1")) == 2, output  # both hosts, from the one query
    assert "newest 1.x: 1.1" in output, output  # the lookup, with the same credential
    assert secret not in output


def test_a_bearer_token_credential(kit: dict[str, t.Any], job: t.Callable[..., tuple[int, str]]) -> None:
    token = requests.get(
        kit["realm"],
        params={"service": kit["service"], "scope": f"repository:{REPOSITORY}:pull"},
        auth=("alice", kit["users"]["alice"]),
        verify=kit["ca"],
        timeout=10,
    ).json()["token"]
    rc, output = job(injected_environment({"registry": kit["token_registry"], "token": token}))
    assert rc == 0, output
    assert output.count(_pinned(kit, "1.1")) == 2, output
    assert token not in output


def test_without_the_credential_the_job_is_refused(job: t.Callable[..., tuple[int, str]]) -> None:
    rc, output = job({})
    assert rc != 0
    # The registry's answer, and what to check.
    assert "401 UNAUTHORIZED: repository not found or access denied for anonymous access" in output, output
    assert "deploying" not in output


def test_a_missing_tag_stops_every_host(kit: dict[str, t.Any], job: t.Callable[..., tuple[int, str]]) -> None:
    environment = injected_environment(
        {"registry": kit["token_registry"], "username": "alice", "password": kit["users"]["alice"]}
    )
    rc, output = job(environment, tag="1.2")
    assert rc == 2, output
    reference = f"{kit['token_registry']}/{REPOSITORY}:1.2"
    assert f"tag_gate: 1 required tag is missing: {reference} (nearest: 1.1)" in output, output
    assert "deploying" not in output


def test_a_credential_for_another_registry_is_never_sent(
    kit: dict[str, t.Any], job: t.Callable[..., tuple[int, str]]
) -> None:
    # As the guide says: the job's images are all elsewhere, so the task fails before any request.
    environment = injected_environment(
        {"registry": kit["basic_registry"], "username": "alice", "password": kit["users"]["alice"]}
    )
    rc, output = job(environment)
    assert rc != 0
    assert f"auth_registry {kit['basic_registry']} is not the registry of any image" in output, output
