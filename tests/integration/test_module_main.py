"""The module's main() with set arguments, against the kit's real registry.

Here rather than in tests/unit: the unit tests run without the kit, so that mutation runs take minutes.
"""

from __future__ import annotations

import json
import typing as t

import pytest

from .conftest import run_main

PRIVATE_TAG_COUNT = 30


def test_lists_tags_checks_a_tag_and_sets_facts(kit: dict[str, t.Any], capsys: pytest.CaptureFixture[str]) -> None:
    registry = kit["token_registry"]
    result = run_main(
        capsys,
        {
            "images": [f"{registry}/private/app:1.0.0", f"{registry}/private/app:9.9.9", f"{registry}/public/hello"],
            "username": "alice",
            "password": kit["users"]["alice"],
            "ca_path": kit["ca"],
        },
    )
    assert result["changed"] is False
    first, missing, public = result["images"]
    assert sorted(first["tags"]) == sorted(kit["repos"]["private/app"])
    assert len(first["tags"]) == PRIVATE_TAG_COUNT
    assert (first["exists"], first["digest"]) == (True, kit["repos"]["private/app"]["1.0.0"])
    assert (missing["exists"], missing["digest"], missing["tag"]) == (False, None, "9.9.9")
    assert (public["exists"], public["digest"], public["tag"]) == (None, None, None)
    assert result["ansible_facts"]["image_tags"] == {
        f"{registry}/private/app": first["tags"],
        f"{registry}/public/hello": public["tags"],
    }


def test_check_mode_runs_the_query(kit: dict[str, t.Any], capsys: pytest.CaptureFixture[str]) -> None:
    result = run_main(
        capsys,
        {
            "image": f"{kit['token_registry']}/public/hello:1.0",
            "ca_path": kit["ca"],
            "_ansible_check_mode": True,
        },
    )
    assert result["images"][0]["exists"] is True


def test_failure_names_image_url_status_and_code_but_not_the_password(
    kit: dict[str, t.Any], capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_main(
        capsys,
        {
            "images": [f"{kit['token_registry']}/private/app"],
            "username": "alice",
            "password": "Wr0ng-canary-pass",
            "ca_path": kit["ca"],
        },
    )
    assert result["failed"] is True
    assert result["msg"].startswith(f"{kit['token_registry']}/private/app: GET {kit['realm']}: 401 UNAUTHORIZED")
    assert "rejected the credentials of user 'alice'" in result["msg"]
    assert (result["status"], result["code"], result["url"]) == (401, "UNAUTHORIZED", kit["realm"])
    assert "Wr0ng-canary-pass" not in json.dumps(result)


def test_bad_reference_fails_before_any_request(capsys: pytest.CaptureFixture[str]) -> None:
    # The first reference points at a port nobody listens on: a request would fail differently.
    result = run_main(capsys, {"images": ["127.0.0.1:1/ok/app", "127.0.0.1:1/Bad/App"]})
    assert result["failed"] is True
    assert result["msg"] == (
        "image reference '127.0.0.1:1/Bad/App': repository path component 'Bad' has uppercase letters; "
        "repository paths are lowercase"
    )


def test_username_without_password(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_main(capsys, {"images": ["127.0.0.1:1/app"], "username": "alice"})
    assert "username and password go together, but password is not set" in result["msg"]


def test_password_comes_from_the_environment(
    kit: dict[str, t.Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAGSCOPE_REGISTRY_USERNAME", "robot$ci")
    monkeypatch.setenv("TAGSCOPE_REGISTRY_PASSWORD", kit["users"]["robot$ci"])
    monkeypatch.setenv("TAGSCOPE_REGISTRY_CA_PATH", kit["ca"])
    result = run_main(capsys, {"images": [f"{kit['token_registry']}/private/app:2.0.0"]})
    assert result["images"][0]["exists"] is True
    assert kit["users"]["robot$ci"] not in json.dumps(result)
