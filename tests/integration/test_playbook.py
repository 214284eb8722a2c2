"""Playbooks run by ansible-playbook against the kit's real registry."""

from __future__ import annotations

import base64
import json
import typing as t
import urllib.parse
from pathlib import Path

import pytest

from .conftest import run_playbook
from .test_credentials import bearer_token


def every_form(user: str, secret: str) -> list[str]:
    """The forms of a secret a reader could use: plain, Basic, URL- and form-encoded."""
    return [
        secret,
        base64.b64encode(f"{user}:{secret}".encode()).decode(),
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret),
    ]


PLAYBOOKS = Path(__file__).parent / "playbooks"


@pytest.mark.parametrize("inject", ["True", "False"], ids=["fact-injection-on", "fact-injection-off"])
def test_facts_and_lookup(kit_vars: str, inject: str) -> None:
    run = run_playbook(PLAYBOOKS / "facts_and_lookup.yml", "-e", kit_vars, env={"ANSIBLE_INJECT_FACT_VARS": inject})
    assert run.rc == 0, run.output
    assert "failed=0" in run.output and "ignored=1" in run.output, run.output


def test_check_mode(kit_vars: str) -> None:
    # The module only reads, so check mode queries for real: the playbook's assertions on the facts and the
    # lookup hold, and nothing reports a change.
    normal = run_playbook(PLAYBOOKS / "facts_and_lookup.yml", "-e", kit_vars)
    checked = run_playbook(PLAYBOOKS / "facts_and_lookup.yml", "-e", kit_vars, "--check")
    assert checked.rc == 0, checked.output
    assert "failed=0" in checked.output and "changed=0" in checked.output, checked.output
    assert "All assertions passed" in checked.output
    recap = [line for line in checked.output.splitlines() if line.startswith("localhost")]
    assert recap == [line for line in normal.output.splitlines() if line.startswith("localhost")]


def test_secrets_never_appear_at_vvvv(kit: dict[str, t.Any], kit_vars: str, tmp_path: Path) -> None:
    canary = "Canary-7f3e9c:pw with space"
    canary_token = "Canary-token-5d1b0a"
    good_token = bearer_token(kit, "alice")
    # From a file: ansible-playbook echoes its command line at -vvvv.
    secrets = tmp_path / "secrets.json"
    secrets.write_text(
        json.dumps({"canary_password": canary, "canary_token": canary_token, "canary_good_token": good_token})
    )
    run = run_playbook(PLAYBOOKS / "canary.yml", "-e", kit_vars, "-e", f"@{secrets}", "-vvvv")
    assert run.rc == 0, run.output
    # The failures really happened (so the canaries went through every path), and so did the successes.
    assert "ignored=4" in run.output, run.output
    for secret in (canary, "Canary-7f3e9c", canary_token, good_token, kit["users"]["robot$ci"]):
        assert secret not in run.output
    # Nor in any form a reader could use: Basic (base64 of user:password), Bearer, URL- and form-encoded.
    for user, secret in (("alice", canary), ("robot$ci", kit["users"]["robot$ci"])):
        for form in every_form(user, secret):
            assert form not in run.output, form
    for token in (canary_token, good_token):
        assert f"Bearer {token}" not in run.output
    # Nor any token the kit's token server issued during the run.
    assert "eyJ" not in run.output


def test_role_secrets_never_appear_at_vvvv(kit: dict[str, t.Any], kit_vars: str, tmp_path: Path) -> None:
    canary = "Role-canary-3a9f:pw"
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"canary_password": canary}))
    run = run_playbook(PLAYBOOKS / "role_canary.yml", "-e", kit_vars, "-e", f"@{secrets}", "-vvvv")
    assert run.rc == 0, run.output
    assert "rescued=1" in run.output, run.output
    assert "tag_gate: 1 image checked, 1 required tag present" in run.output
    for secret in (canary, "Role-canary", kit["users"]["robot$ci"]):
        assert secret not in run.output
    for form in every_form("alice", canary) + every_form("robot$ci", kit["users"]["robot$ci"]):
        assert form not in run.output, form
