"""Credentials from docker and podman files and helpers, against the kit's real registry."""

from __future__ import annotations

import json
import os
import re
import typing as t
from pathlib import Path

import pytest
import requests

from tests.kit.helpers import Helper, basic_auth, write_config

from .conftest import run_module, run_playbook, token_mode

PLAYBOOKS = Path(__file__).parent / "playbooks"


def private(kit: dict[str, t.Any], tag: str = "2.0.0") -> str:
    return f"{kit['token_registry']}/private/app:{tag}"


def token_log(kit: dict[str, t.Any], since: int) -> list[str]:
    text = (Path(kit["dir"]) / "token-server.log").read_text()[since:]
    return [line.split(" ", 1)[1] for line in text.splitlines()]


def token_log_size(kit: dict[str, t.Any]) -> int:
    return (Path(kit["dir"]) / "token-server.log").stat().st_size


def users_in(lines: list[str]) -> set[str]:
    return {line.split("user=")[1].split(" ")[0] for line in lines if "user=" in line}


def entry(kit: dict[str, t.Any], user: str) -> dict[str, str]:
    return {"auth": basic_auth(user, kit["users"][user])}


def query(kit: dict[str, t.Any], env: dict[str, str], *images: str, **args: t.Any) -> t.Any:
    return run_module({"images": list(images) or [private(kit)], "ca_path": kit["ca"], **args}, env=env)


def assert_found(kit: dict[str, t.Any], run: t.Any) -> None:
    assert run.rc == 0, run.output
    assert run.result["images"][0]["digest"] == kit["repos"]["private/app"]["2.0.0"]


def test_docker_config_dir_with_base64_auth(kit: dict[str, t.Any], tmp_path: Path) -> None:
    write_config(tmp_path / "docker" / "config.json", {"auths": {kit["token_registry"]: entry(kit, "alice")}})
    since = token_log_size(kit)
    run = query(kit, {"DOCKER_CONFIG": str(tmp_path / "docker")})
    assert_found(kit, run)
    assert users_in(token_log(kit, since)) == {"'alice'"}


def test_home_docker_config(kit: dict[str, t.Any], tmp_path: Path) -> None:
    key = f"https://{kit['token_registry']}/v1/"
    write_config(tmp_path / ".docker" / "config.json", {"auths": {key: entry(kit, "robot$ci")}})
    since = token_log_size(kit)
    assert_found(kit, query(kit, {"HOME": str(tmp_path)}))
    assert users_in(token_log(kit, since)) == {"'robot$ci'"}


def test_podman_registry_auth_file_with_username_and_password(kit: dict[str, t.Any], tmp_path: Path) -> None:
    fields = {"username": "robot$ci", "password": kit["users"]["robot$ci"]}
    path = write_config(tmp_path / "auth.json", {"auths": {f"https://{kit['token_registry']}": fields}})
    assert_found(kit, query(kit, {"REGISTRY_AUTH_FILE": str(path)}))


def test_xdg_runtime_dir_and_home_containers_auth(kit: dict[str, t.Any], tmp_path: Path) -> None:
    write_config(tmp_path / "run" / "containers" / "auth.json", {"auths": {kit["token_registry"]: entry(kit, "alice")}})
    assert_found(kit, query(kit, {"XDG_RUNTIME_DIR": str(tmp_path / "run")}))
    home = tmp_path / "home"
    write_config(home / ".config" / "containers" / "auth.json", {"auths": {kit["token_registry"]: entry(kit, "alice")}})
    assert_found(kit, query(kit, {"HOME": str(home)}))


def test_most_specific_key_wins(kit: dict[str, t.Any], tmp_path: Path) -> None:
    host = kit["token_registry"]
    auths = {
        host: {"auth": basic_auth("alice", "wrong-password")},
        f"{host}/private": entry(kit, "robot$ci"),
        f"{host}/public": {"auth": basic_auth("alice", "also-wrong")},
    }
    write_config(tmp_path / "docker" / "config.json", {"auths": auths})
    since = token_log_size(kit)
    assert_found(kit, query(kit, {"DOCKER_CONFIG": str(tmp_path / "docker")}))
    assert users_in(token_log(kit, since)) == {"'robot$ci'"}


def test_cred_helper_for_the_registry_and_creds_store(kit: dict[str, t.Any], tmp_path: Path) -> None:
    helper = Helper(tmp_path)
    helper.answer({kit["token_registry"]: {"Username": "robot$ci", "Secret": kit["users"]["robot$ci"]}})
    env = {"DOCKER_CONFIG": str(tmp_path / "docker"), "PATH": f"{helper.bin}:{os.environ['PATH']}"}
    write_config(tmp_path / "docker" / "config.json", {"credHelpers": {kit["token_registry"]: "kittest"}})
    assert_found(kit, query(kit, env))
    write_config(tmp_path / "docker" / "config.json", {"credsStore": "kittest", "auths": {kit["token_registry"]: {}}})
    assert_found(kit, query(kit, env))
    # The helper was asked with the registry's key on stdin, once per run.
    assert helper.calls == [kit["token_registry"], kit["token_registry"]]


def refresh_token(kit: dict[str, t.Any], user: str) -> str:
    """An identity token, from the kit's token server through the OAuth2 password grant."""
    answer = requests.post(
        kit["realm"],
        data={
            "grant_type": "password",
            "username": user,
            "password": kit["users"][user],
            "client_id": "tests",
            "access_type": "offline",
            "service": kit["service"],
            "scope": "repository:private/app:pull",
        },
        verify=kit["ca"],
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["refresh_token"]


def test_identity_token_uses_the_oauth2_refresh_grant(kit: dict[str, t.Any], tmp_path: Path) -> None:
    token = refresh_token(kit, "alice")
    write_config(tmp_path / "docker" / "config.json", {"auths": {kit["token_registry"]: {"identitytoken": token}}})
    since = token_log_size(kit)
    run = query(kit, {"DOCKER_CONFIG": str(tmp_path / "docker")})
    assert_found(kit, run)
    assert token_log(kit, since) == [
        "POST /token grant=refresh_token user='alice' scopes=['repository:private/app:pull'] -> 200"
    ]
    assert token not in run.output


def test_identity_token_from_a_helper(kit: dict[str, t.Any], tmp_path: Path) -> None:
    helper = Helper(tmp_path)
    helper.answer({kit["token_registry"]: {"Username": "<token>", "Secret": refresh_token(kit, "robot$ci")}})
    write_config(tmp_path / "docker" / "config.json", {"credHelpers": {kit["token_registry"]: "kittest"}})
    since = token_log_size(kit)
    env = {"DOCKER_CONFIG": str(tmp_path / "docker"), "PATH": f"{helper.bin}:{os.environ['PATH']}"}
    assert_found(kit, query(kit, env))
    assert users_in(token_log(kit, since)) == {"'robot$ci'"}


@pytest.fixture
def no_oauth2(kit: dict[str, t.Any]) -> t.Iterator[None]:
    """The kit's token server answers 404 to POST, like registries without OAuth2."""
    with token_mode(kit, post="disabled"):
        yield


@pytest.mark.usefixtures("no_oauth2")
def test_identity_token_falls_back_to_get_on_404(kit: dict[str, t.Any], tmp_path: Path) -> None:
    write_config(
        tmp_path / "docker" / "config.json",
        {"auths": {kit["token_registry"]: {"identitytoken": refresh_token_get(kit)}}},
    )
    since = token_log_size(kit)
    assert_found(kit, query(kit, {"DOCKER_CONFIG": str(tmp_path / "docker")}))
    log = token_log(kit, since)
    assert log[0] == "POST /token grant=refresh_token -> 404"
    assert log[1].startswith("GET /token user='alice' ")
    assert len(log) == 2


def refresh_token_get(kit: dict[str, t.Any]) -> str:
    # POST is off during the test: obtain the token before switching it off would need ordering;
    # the token server keeps its refresh tokens, so one from an earlier grant works.
    mode = Path(kit["token_mode_file"])
    mode.unlink()
    try:
        return refresh_token(kit, "alice")
    finally:
        mode.write_text(json.dumps({"post": "disabled"}))


def test_each_registry_gets_its_own_credentials(kit: dict[str, t.Any], tmp_path: Path) -> None:
    auths = {kit["token_registry"]: entry(kit, "alice"), kit["basic_registry"]: entry(kit, "robot$ci")}
    write_config(tmp_path / "docker" / "config.json", {"auths": auths})
    open_log = Path(kit["dir"]) / "open_registry.log"
    open_since, token_since = open_log.stat().st_size, token_log_size(kit)
    run = query(
        kit,
        {"DOCKER_CONFIG": str(tmp_path / "docker")},
        private(kit),
        f"{kit['basic_registry']}/private/app:1.0.0",
        f"{kit['open_registry']}/public/hello:1.0",
    )
    assert run.rc == 0, run.output
    assert [image["exists"] for image in run.result["images"]] == [True, True, True]
    assert users_in(token_log(kit, token_since)) == {"'alice'"}
    # The open registry never challenged, so it never saw any credentials. (That the basic registry got
    # only its own entry is shown in tests/unit, where a server can record what it receives.)
    assert "auth.user.name" not in open_log.read_text()[open_since:]


def test_options_win_over_files(kit: dict[str, t.Any], tmp_path: Path) -> None:
    write_config(tmp_path / "docker" / "config.json", {"auths": {kit["token_registry"]: entry(kit, "alice")}})
    env = {"DOCKER_CONFIG": str(tmp_path / "docker")}
    run = query(kit, env, username="alice", password="wrong-from-options")
    assert "the token server rejected the credentials of user 'alice'" in run.result["msg"]
    wrong = {"auth": basic_auth("alice", "wrong-from-file")}
    write_config(tmp_path / "docker" / "config.json", {"auths": {kit["token_registry"]: wrong}})
    assert_found(kit, query(kit, env, username="robot$ci", password=kit["users"]["robot$ci"]))


def test_wrong_password_in_a_file_names_the_file(kit: dict[str, t.Any], tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "docker" / "config.json",
        {"auths": {kit["token_registry"]: {"auth": basic_auth("alice", "canary-file-pass")}}},
    )
    run = query(kit, {"DOCKER_CONFIG": str(tmp_path / "docker")})
    assert run.result["msg"].endswith(
        f"the token server rejected the credentials of user 'alice' (from {path} (auths key "
        f"'{kit['token_registry']}')) (invalid username or password); check the credentials in {path} (auths key "
        f"'{kit['token_registry']}')"
    )
    assert "canary-file-pass" not in run.output


def test_auth_file_option(kit: dict[str, t.Any], tmp_path: Path) -> None:
    path = write_config(tmp_path / "elsewhere.json", {"auths": {kit["token_registry"]: entry(kit, "alice")}})
    assert_found(kit, query(kit, {}, auth_file=str(path)))


def test_helper_failures_are_clear_and_quiet(kit: dict[str, t.Any], tmp_path: Path) -> None:
    helper = Helper(tmp_path)
    helper.answer(mode="fail", leak="helper-canary-secret")
    config = write_config(tmp_path / "docker" / "config.json", {"credHelpers": {kit["token_registry"]: "kittest"}})
    env = {"DOCKER_CONFIG": str(tmp_path / "docker"), "PATH": f"{helper.bin}:{os.environ['PATH']}"}
    run = query(kit, env)
    assert run.result["msg"] == (
        f"{private(kit)}: credential helper docker-credential-kittest (named in {config}) failed for "
        f"{kit['token_registry']} with exit code 3; run 'docker-credential-kittest get' by hand to see why"
    )
    assert "helper-canary-secret" not in run.output
    write_config(config, {"credHelpers": {kit["token_registry"]: "absent"}})
    run = query(kit, env)
    assert "credential helper docker-credential-absent" in run.result["msg"]
    assert "is not on PATH" in run.result["msg"]


def bearer_token(kit: dict[str, t.Any], user: str) -> str:
    answer = requests.get(
        kit["realm"],
        params={"service": kit["service"], "scope": "repository:private/app:pull"},
        auth=(user, kit["users"][user]),
        verify=kit["ca"],
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["token"]


def test_pre_obtained_token(kit: dict[str, t.Any]) -> None:
    token = bearer_token(kit, "alice")
    since = token_log_size(kit)
    run = query(kit, {}, token=token)
    assert_found(kit, run)
    assert token_log(kit, since) == []
    assert token not in run.output
    run = query(kit, {}, token="not-a-token")
    assert "401 UNAUTHORIZED" in run.result["msg"]
    assert "the registry rejected the credentials of the given token; check the token" in run.result["msg"]


def test_secrets_from_files_and_helpers_never_appear_at_vvvv(
    kit: dict[str, t.Any], kit_vars: str, tmp_path: Path
) -> None:
    helper = Helper(tmp_path)
    helper.answer({kit["basic_registry"]: {"Username": "alice", "Secret": "Helper-canary-77"}})
    auths = {kit["token_registry"]: {"auth": basic_auth("alice", "File-canary-99")}}
    write_config(
        tmp_path / "docker" / "config.json", {"auths": auths, "credHelpers": {kit["basic_registry"]: "kittest"}}
    )
    env = {"DOCKER_CONFIG": str(tmp_path / "docker"), "PATH": f"{helper.bin}:{os.environ['PATH']}"}
    run = run_playbook(PLAYBOOKS / "file_credentials.yml", "-e", kit_vars, "-vvvv", env=env)
    assert run.rc == 0, run.output
    assert "ignored=2" in run.output, run.output
    for secret in ("File-canary-99", "Helper-canary-77", basic_auth("alice", "File-canary-99")):
        assert secret not in run.output


def token_requests(kit: dict[str, t.Any], since: int) -> list[tuple[str, str, str]]:
    """(user, scopes, status) of each token request since ``since``, in a stable order (images run concurrently)."""
    found = []
    for line in token_log(kit, since):
        match = re.fullmatch(r"GET /token user=(\S+) service=\S+ scopes=(\[.*\]) -> (\d+)", line)
        assert match, line
        found.append((match[1], match[2], match[3]))
    return sorted(found)


@pytest.mark.parametrize(
    ("keys", "images", "expected"),
    [
        # One file, a key per team namespace, one user each: each repository's token request carries its own user.
        (
            {"team-a": "alice", "team-b": "robot$ci"},
            ["team-a/app:1.1", "team-b/app:1.1"],
            [
                ("'alice'", "['repository:team-a/app:pull']", "200"),
                ("'robot$ci'", "['repository:team-b/app:pull']", "200"),
            ],
        ),
        # No key covers the second repository: it goes anonymous, team-a's user is not lent to it.
        (
            {"team-a": "alice"},
            ["team-a/app:1.1", "public/hello:1.0"],
            [("'alice'", "['repository:team-a/app:pull']", "200"), ("None", "['repository:public/hello:pull']", "200")],
        ),
    ],
    ids=["a-key-each", "no-key-for-the-second"],
)
def test_credentials_belong_to_a_repository_not_to_its_registry(
    kit: dict[str, t.Any], tmp_path: Path, keys: dict[str, str], images: list[str], expected: list[tuple[str, ...]]
) -> None:
    # The kit lets team-a/ be pulled by alice only and team-b/ by robot$ci only (tests/kit/seed.py TEAMS): the
    # identity remembered for the registry instead of the repository fails one of the two images.
    host = kit["token_registry"]
    path = write_config(
        tmp_path / "auth.json", {"auths": {f"{host}/{namespace}": entry(kit, user) for namespace, user in keys.items()}}
    )
    since = token_log_size(kit)
    run = query(kit, {"REGISTRY_AUTH_FILE": str(path)}, *(f"{host}/{image}" for image in images))
    assert run.rc == 0, run.output
    assert [image["exists"] for image in run.result["images"]] == [True, True]
    assert token_requests(kit, since) == expected
