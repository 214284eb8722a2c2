"""Explicit credentials reach only the registry they belong to: module, lookup and role, two registries on loopback.

The kit's token registry is where the credentials belong; a loopback fault server is the other registry (a
Bearer challenge with its token service on its own host, handing anyone a token) and records every request, so
that the test can look for the password in every form a reader could use.
"""

from __future__ import annotations

import base64
import json
import typing as t
import urllib.parse
from pathlib import Path

import pytest

from tests.kit.faults import FaultServer, Reply, Request, json_reply

from .conftest import local_play, run_lookup, run_module, run_playbook

USER = "robot$ci"


def _other_registry(request: Request) -> Reply:
    host = request.header("Host")
    if request.path == "/token":
        return json_reply({"token": "other-token"})
    if request.header("Authorization") != "Bearer other-token":
        return Reply(401, b"", [("WWW-Authenticate", f'Bearer realm="https://{host}/token",service="other"')])
    return json_reply({"name": "org/app", "tags": ["1.0", "2.0"]})


@pytest.fixture
def other(faults: FaultServer) -> FaultServer:
    faults.handler = _other_registry
    return faults


@pytest.fixture
def ca_bundle(kit: dict[str, t.Any], other: FaultServer, tmp_path: Path) -> str:
    bundle = tmp_path / "ca-bundle.pem"
    bundle.write_text(Path(kit["ca"]).read_text() + Path(other.ca).read_text())
    return str(bundle)


def leaked(password: str, requests: list[Request]) -> list[str]:
    received = "\n".join(f"{r.method} {r.path} {r.query} {r.headers} {r.body!r}" for r in requests)
    forms = {
        "plaintext": password,
        "basic": base64.b64encode(f"{USER}:{password}".encode()).decode(),
        "url-encoded": urllib.parse.quote(password, safe=""),
        "form-encoded": urllib.parse.quote_plus(password),
    }
    return [name for name, form in forms.items() if form in received]


def images(kit: dict[str, t.Any], other: FaultServer) -> list[str]:
    return [f"{kit['token_registry']}/private/app:1.0.0", f"{other.host}/org/app"]


def test_module_sends_credentials_only_to_auth_registry(
    kit: dict[str, t.Any], other: FaultServer, ca_bundle: str
) -> None:
    password = kit["users"][USER]
    run = run_module(
        {
            "images": images(kit, other),
            "username": USER,
            "password": password,
            "auth_registry": kit["token_registry"],
            "ca_path": ca_bundle,
        }
    )
    assert run.rc == 0, run.output
    assert [image["tags"] for image in run.result["images"]][1] == ["1.0", "2.0"]
    assert run.result["images"][0]["exists"] is True
    assert other.requests, "the other registry was never asked"
    assert leaked(password, other.requests) == []


def test_module_without_auth_registry_fails_before_any_request(
    kit: dict[str, t.Any], other: FaultServer, ca_bundle: str
) -> None:
    token_log = Path(kit["dir"]) / "token-server.log"
    before = token_log.read_text()
    run = run_module(
        {"images": images(kit, other), "username": USER, "password": kit["users"][USER], "ca_path": ca_bundle}
    )
    assert run.rc != 0
    assert run.result["msg"].startswith("username and password given for images on 2 registries (")
    assert "set auth_registry to the registry they belong to" in run.result["msg"]
    assert other.requests == []
    assert token_log.read_text() == before


def test_lookup_sends_credentials_only_to_auth_registry(
    kit: dict[str, t.Any], other: FaultServer, ca_bundle: str
) -> None:
    password = kit["users"][USER]
    options = {"username": USER, "password": password, "auth_registry": kit["token_registry"], "ca_path": ca_bundle}
    run = run_lookup(images(kit, other), options)
    assert run.rc == 0, run.output
    assert run.result["msg"][-2:] == ["1.0", "2.0"]
    assert other.requests
    assert leaked(password, other.requests) == []


def test_role_sends_credentials_only_to_auth_registry(
    kit: dict[str, t.Any], other: FaultServer, ca_bundle: str, tmp_path: Path
) -> None:
    password = kit["users"][USER]
    playbook = tmp_path / "gate.yml"
    play = local_play(
        "Gate on two registries",
        roles=[
            {
                "role": "tagscope.registry.tag_gate",
                "tag_gate_images": [*images(kit, other), f"{other.host}/org/app:2.0"],
                "tag_gate_username": USER,
                "tag_gate_password": password,
                "tag_gate_auth_registry": kit["token_registry"],
                "tag_gate_ca_path": ca_bundle,
            }
        ],
    )
    playbook.write_text(json.dumps(play))
    run = run_playbook(playbook)
    assert run.rc == 0, run.output
    assert "tag_gate: 3 images checked, 2 required tags present" in run.output
    assert leaked(password, other.requests) == []
