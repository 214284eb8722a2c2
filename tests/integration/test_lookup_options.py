"""Lookup options as playbooks write them: templated and vaulted variables, misspelt options, one-string patterns."""

from __future__ import annotations

import json
import subprocess
import typing as t
from pathlib import Path

from tests.kit.helpers import basic_auth

from .conftest import BIN, ansible_env, run_lookup, run_module, run_playbook

# Tags of the kit's private/app that match 1[.][0-9]{1,2}[.]0, in version order.
ONE_X_ZERO = ["1.0.0", "1.1.0", "1.2.0", "1.5.0", "1.9.0", "1.10.0"]


def vaulted(text: str, password_file: Path) -> str:
    """``ansible-vault encrypt_string``, indented for a YAML block under a key."""
    process = subprocess.run(
        [str(BIN / "ansible-vault"), "encrypt_string", "--vault-password-file", str(password_file), text],
        capture_output=True,
        text=True,
        env=ansible_env(),
        check=True,
    )
    return process.stdout.strip()


def test_lookup_variables_are_templated_and_may_be_vaulted(kit: dict[str, t.Any], tmp_path: Path) -> None:
    password_file = tmp_path / "vault-password"
    password_file.write_text("vault-pass-for-tests\n")
    secret = vaulted(kit["users"]["alice"], password_file)
    playbook = tmp_path / "lookup_vars.yml"
    playbook.write_text(
        f"""---
- name: Variables of the lookup, templated
  hosts: localhost
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
    vault_registry_password: {secret.replace(chr(10), chr(10) + "      ")}
    tagscope_registry_username: alice
    tagscope_registry_password: "{{{{ vault_registry_password }}}}"
    tagscope_registry_ca_path: "{{{{ kit_ca }}}}"
  tasks:
    - name: Query the private repository with the vaulted password
      ansible.builtin.set_fact:
        found: "{{{{ query('tagscope.registry.image_tags', kit_token_registry ~ '/private/app') }}}}"

    - name: Every tag came back
      ansible.builtin.assert:
        that: found | sort == kit_repos['private/app'].keys() | sort
"""
    )
    run = run_playbook(
        playbook, "-e", "@" + str(Path(kit["dir"]) / "vars.json"), "--vault-password-file", str(password_file)
    )
    assert run.rc == 0, run.output
    assert "ok=2" in run.output


def test_a_misspelt_lookup_option_fails(kit: dict[str, t.Any]) -> None:
    run = run_lookup([f"{kit['token_registry']}/public/hello"], {"contraint": ">=1", "ca_path": kit["ca"]})
    assert run.rc != 0
    assert "unknown option 'contraint' (did you mean 'constraint'?)" in run.output


def test_one_pattern_as_a_string_is_not_split_at_commas(kit: dict[str, t.Any]) -> None:
    options = {"include": "1[.][0-9]{1,2}[.]0", "username": "alice", "password": kit["users"]["alice"]}
    run = run_lookup([f"{kit['token_registry']}/private/app"], {**options, "ca_path": kit["ca"]})
    assert run.rc == 0, run.output
    assert run.result["msg"] == ONE_X_ZERO
    module = run_module({"images": [f"{kit['token_registry']}/private/app"], **options, "ca_path": kit["ca"]})
    assert module.rc == 0, module.output
    assert module.result["images"][0]["tags"] == ONE_X_ZERO


def test_a_pattern_that_is_not_a_string_is_refused(kit: dict[str, t.Any]) -> None:
    run = run_module({"images": [f"{kit['token_registry']}/public/hello"], "include": [1.5], "ca_path": kit["ca"]})
    assert run.rc != 0
    assert run.result["msg"] == "include pattern 1.5 is a number, not a string; quote the pattern in YAML"
    run = run_module(
        {"images": [f"{kit['token_registry']}/public/hello"], "exclude": {"a": 1}, "ca_path": kit["ca"]},
        in_controller=False,
    )
    assert run.result["msg"] == "exclude must be a list of regular expressions (or one as a string), got a mapping"


def test_aliases_users_bring_from_community_docker_and_podman(kit: dict[str, t.Any], tmp_path: Path) -> None:
    # name (images), ca_cert (ca_path), tls_verify (validate_certs), authfile (auth_file).
    auth = tmp_path / "auth.json"
    auth.write_text(
        json.dumps({"auths": {kit["token_registry"]: {"auth": basic_auth("alice", kit["users"]["alice"])}}})
    )
    run = run_module(
        {"name": [f"{kit['token_registry']}/private/app:1.0.0"], "ca_cert": kit["ca"], "authfile": str(auth)}
    )
    assert run.rc == 0, run.output
    assert run.result["images"][0]["exists"] is True
    refused = run_module({"name": [f"{kit['token_registry']}/public/hello"], "tls_verify": True})
    assert "TLS failed" in refused.result["msg"]
    looked_up = run_lookup([f"{kit['token_registry']}/public/hello"], {"ca_cert": kit["ca"], "tls_verify": True})
    assert looked_up.rc == 0, looked_up.output
    assert sorted(looked_up.result["msg"]) == sorted(kit["repos"]["public/hello"])
