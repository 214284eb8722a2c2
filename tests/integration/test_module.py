"""The module run by ``ansible`` against the kit's real Distribution registry."""

from __future__ import annotations

import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from .conftest import run_module

PRIVATE = "private/app"


def creds(kit: dict[str, t.Any], user: str) -> dict[str, str]:
    return {"username": user, "password": kit["users"][user], "ca_path": kit["ca"]}


def test_anonymous_public_image(kit: dict[str, t.Any]) -> None:
    run = run_module({"images": [f"{kit['token_registry']}/public/hello:1.1"], "ca_path": kit["ca"]})
    assert run.rc == 0, run.output
    (image,) = run.result["images"]
    assert sorted(image["tags"]) == sorted(kit["repos"]["public/hello"])
    assert image["digest"] == kit["repos"]["public/hello"]["1.1"]
    assert run.result["changed"] is False


@pytest.mark.parametrize("user", ["alice", "robot$ci"])
def test_private_image_with_credentials(kit: dict[str, t.Any], user: str) -> None:
    run = run_module({"images": [f"{kit['token_registry']}/{PRIVATE}:2.0.0"], **creds(kit, user)})
    assert run.rc == 0, run.output
    (image,) = run.result["images"]
    assert sorted(image["tags"]) == sorted(kit["repos"][PRIVATE])
    assert (image["exists"], image["digest"]) == (True, kit["repos"][PRIVATE]["2.0.0"])
    assert kit["users"][user] not in run.output


@pytest.mark.parametrize("tag", ["1.0.0", "multi", "v2.1.0"], ids=["docker-v2", "oci-index", "oci-manifest"])
def test_digest_is_the_pushed_digest_for_each_media_type(kit: dict[str, t.Any], tag: str) -> None:
    run = run_module({"images": [f"{kit['token_registry']}/{PRIVATE}:{tag}"], **creds(kit, "alice")})
    assert run.result["images"][0]["digest"] == kit["repos"][PRIVATE][tag], run.output


def test_digest_reference(kit: dict[str, t.Any]) -> None:
    digest = kit["repos"][PRIVATE]["1.5.0"]
    absent = "sha256:" + "0" * 64
    run = run_module(
        {
            "images": [f"{kit['token_registry']}/{PRIVATE}@{digest}", f"{kit['token_registry']}/{PRIVATE}@{absent}"],
            **creds(kit, "alice"),
        }
    )
    assert [(i["exists"], i["digest"]) for i in run.result["images"]] == [(True, digest), (False, None)], run.output


def test_missing_tag_exists_false(kit: dict[str, t.Any]) -> None:
    run = run_module({"images": [f"{kit['token_registry']}/{PRIVATE}:1.4.2"], **creds(kit, "alice")})
    assert run.rc == 0, run.output
    assert (run.result["images"][0]["exists"], run.result["images"][0]["digest"]) == (False, None)


def test_wrong_password(kit: dict[str, t.Any]) -> None:
    run = run_module(
        {
            "images": [f"{kit['token_registry']}/{PRIVATE}"],
            "username": "alice",
            "password": "not-the:pass word",
            "ca_path": kit["ca"],
        }
    )
    assert run.rc != 0
    assert "the token server rejected the credentials of user 'alice'" in run.result["msg"]
    assert "check username and password" in run.result["msg"]
    assert "not-the:pass word" not in run.output


def test_private_image_anonymously(kit: dict[str, t.Any]) -> None:
    run = run_module({"images": [f"{kit['token_registry']}/{PRIVATE}"], "ca_path": kit["ca"]})
    assert run.rc != 0
    assert "repository not found or access denied for anonymous access" in run.result["msg"]
    assert "set username and password" in run.result["msg"]


def test_access_denied_for_a_user(kit: dict[str, t.Any]) -> None:
    run = run_module({"images": [f"{kit['token_registry']}/restricted/vault"], **creds(kit, "alice")})
    assert "not found or access denied for user 'alice'" in run.result["msg"], run.output


def test_missing_repository(kit: dict[str, t.Any]) -> None:
    run = run_module({"images": [f"{kit['token_registry']}/private/nope"], **creds(kit, "alice")})
    assert run.rc != 0
    assert "404 NAME_UNKNOWN (repository name not known to registry)" in run.result["msg"]
    assert run.result["code"] == "NAME_UNKNOWN"


def test_tls_without_ca_path_fails_clearly(kit: dict[str, t.Any]) -> None:
    run = run_module({"images": [f"{kit['token_registry']}/public/hello"]})
    assert run.rc != 0
    assert "TLS failed: [SSL: CERTIFICATE_VERIFY_FAILED]" in run.result["msg"]
    assert "set ca_path" in run.result["msg"]
    assert "Traceback" not in run.output


def test_validate_certs_false(kit: dict[str, t.Any]) -> None:
    run = run_module({"images": [f"{kit['token_registry']}/public/hello"], "validate_certs": False})
    assert run.rc == 0, run.output
    assert "InsecureRequestWarning" not in run.output


def test_missing_ca_file(kit: dict[str, t.Any], tmp_path: Path) -> None:
    run = run_module({"images": [f"{kit['token_registry']}/public/hello"], "ca_path": str(tmp_path / "none.pem")})
    assert f"ca_path '{tmp_path / 'none.pem'}' does not exist" in run.result["msg"]


def test_basic_only_registry(kit: dict[str, t.Any]) -> None:
    run = run_module({"images": [f"{kit['basic_registry']}/{PRIVATE}:1.2.0"], **creds(kit, "robot$ci")})
    assert run.rc == 0, run.output
    assert run.result["images"][0]["digest"] == kit["repos"][PRIVATE]["1.2.0"]
    anonymous = run_module({"images": [f"{kit['basic_registry']}/{PRIVATE}"], "ca_path": kit["ca"]})
    assert "the registry requires credentials (Basic challenge); set username and password" in anonymous.result["msg"]
    wrong = run_module(
        {
            "images": [f"{kit['basic_registry']}/{PRIVATE}"],
            "username": "alice",
            "password": "wrong-basic-pass",
            "ca_path": kit["ca"],
        }
    )
    assert "the registry rejected the credentials of user 'alice'" in wrong.result["msg"]
    assert "wrong-basic-pass" not in wrong.output


def test_open_registry_with_2500_tags(kit: dict[str, t.Any]) -> None:
    run = run_module({"images": [f"{kit['open_registry']}/public/many"], "ca_path": kit["ca"]})
    tags = run.result["images"][0]["tags"]
    assert len(tags) == len(set(tags)) == kit["repos"]["public/many"]["count"], run.output


@pytest.mark.parametrize("page_size", [None, 1000, 30])
def test_paging_collects_every_tag(kit: dict[str, t.Any], page_size: int | None) -> None:
    args = {"images": [f"{kit['paging_registry']}/public/many"], "ca_path": kit["ca"]}
    if page_size:
        args["page_size"] = page_size
    run = run_module(args)
    tags = run.result["images"][0]["tags"]
    assert len(tags) == len(set(tags)) == kit["repos"]["public/many"]["count"], run.output
    assert tags == sorted(tags)


def test_page_size_the_registry_refuses(kit: dict[str, t.Any]) -> None:
    run = run_module({"images": [f"{kit['paging_registry']}/public/many"], "ca_path": kit["ca"], "page_size": 5000})
    assert run.rc != 0
    assert "400 PAGINATION_NUMBER_INVALID" in run.result["msg"]


def test_invalid_reference_is_refused_before_any_request(kit: dict[str, t.Any]) -> None:
    log = Path(kit["dir"]) / "token_registry.log"
    before = log.stat().st_size
    run = run_module({"images": [f"{kit['token_registry']}/public/hello", "Not A Reference"], "ca_path": kit["ca"]})
    assert run.result["msg"] == (
        "image reference 'Not A Reference' contains whitespace; "
        "remove the spaces; a reference is [host[:port]/]path[:tag][@digest]"
    )
    assert log.stat().st_size == before


def test_connection_refused(kit: dict[str, t.Any]) -> None:
    run = run_module({"images": ["127.0.0.1:1/app"], "timeout": 5})
    assert run.rc != 0
    assert run.result["msg"].startswith("127.0.0.1:1/app: GET https://127.0.0.1:1/v2/app/tags/list: cannot connect")
    assert "Connection refused" in run.result["msg"]


def test_request_sequence_of_one_anonymous_listing(kit: dict[str, t.Any]) -> None:
    """The token flow as the registry and the token server record it."""
    registry_log = Path(kit["dir"]) / "token_registry.log"
    token_log = Path(kit["dir"]) / "token-server.log"
    offsets = registry_log.stat().st_size, token_log.stat().st_size
    run = run_module({"images": [f"{kit['token_registry']}/public/hello"], "ca_path": kit["ca"]})
    assert run.rc == 0, run.output
    access = [
        line.split('"')[1] + " " + line.split('"')[2].split()[0]
        for line in registry_log.read_text()[offsets[0] :].splitlines()
        if line.startswith("127.0.0.1 - - [")
    ]
    assert access == [
        "GET /v2/public/hello/tags/list HTTP/1.1 401",
        "GET /v2/public/hello/tags/list HTTP/1.1 200",
    ]
    tokens = [line.split(" ", 1)[1] for line in token_log.read_text()[offsets[1] :].splitlines()]
    assert tokens == ["GET /token user=None service='tagscope-kit' scopes=['repository:public/hello:pull'] -> 200"]


def test_target_without_requests(tmp_path: Path) -> None:
    """A managed host whose Python lacks requests gets Ansible's missing-library message, not a traceback."""
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    run = run_module({"images": ["alpine"]}, python=str(bare / "bin" / "python"))
    assert run.rc != 0
    assert run.result["msg"].startswith("Failed to import the required Python library (requests)")
    assert "Traceback" not in run.output
