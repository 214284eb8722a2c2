"""Where credentials come from: files, keys, helpers (no registry needed)."""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

import pytest

from ansible_collections.tagscope.registry.plugins.module_utils._registry.client import ClientOptions
from ansible_collections.tagscope.registry.plugins.module_utils._registry.credentials import (
    CredentialStore,
    Identity,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import (
    ConfigurationError,
    CredentialHelperError,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.query import query_images
from ansible_collections.tagscope.registry.plugins.module_utils._registry.reference import ImageReference
from tests.kit.faults import FaultServer, Reply, Request, json_reply
from tests.kit.helpers import Helper, basic_auth, write_config


def store(home: Path, **environ: str) -> CredentialStore:
    return CredentialStore(environ={"HOME": str(home), "PATH": os.environ["PATH"], **environ})


def who(found: Identity) -> tuple[str | None, str | None, str | None]:
    return (found.username, found.password, found.identity_token)


class KeyCase(t.NamedTuple):
    image: str
    keys: dict[str, str]  # auths key -> user
    user: str | None


KEYS = [
    KeyCase("alpine", {"https://index.docker.io/v1/": "hub"}, "hub"),
    KeyCase("docker.io/library/alpine", {"index.docker.io": "hub"}, "hub"),
    KeyCase("user/app", {"registry-1.docker.io": "hub", "ghcr.io": "gh"}, "hub"),
    KeyCase("ghcr.io/org/app", {"https://index.docker.io/v1/": "hub", "ghcr.io": "gh"}, "gh"),
    KeyCase("ghcr.io/org/app", {"https://ghcr.io": "gh"}, "gh"),
    KeyCase("ghcr.io/org/app", {"https://ghcr.io/v2/": "gh"}, "gh"),
    KeyCase("GHCR.io/org/app", {"ghcr.io": "gh"}, "gh"),
    KeyCase("r.example.com:5000/team/app", {"r.example.com": "nope"}, None),
    KeyCase("r.example.com:5000/team/app", {"r.example.com:5000": "port"}, "port"),
    # Namespace-scoped keys, most specific first, on path-component boundaries only.
    KeyCase(
        "r.example.com/team/app",
        {"r.example.com": "host", "r.example.com/team": "team", "r.example.com/team/app": "app"},
        "app",
    ),
    KeyCase("r.example.com/team/other", {"r.example.com": "host", "r.example.com/team": "team"}, "team"),
    KeyCase("r.example.com/teamwork/app", {"r.example.com": "host", "r.example.com/team": "team"}, "host"),
    KeyCase("quay.io/org/app", {"ghcr.io": "gh"}, None),
]


@pytest.mark.parametrize("case", KEYS, ids=[f"{c.image}:{list(c.keys)}" for c in KEYS])
def test_auths_keys(tmp_path: Path, case: KeyCase) -> None:
    auths = {key: {"auth": basic_auth(user, f"{user}-pw")} for key, user in case.keys.items()}
    write_config(tmp_path / ".docker" / "config.json", {"auths": auths})
    found = store(tmp_path).identity_for(ImageReference.parse(case.image))
    expected = (case.user, f"{case.user}-pw", None) if case.user else (None, None, None)
    assert who(found) == expected


def test_file_order_first_file_with_an_entry_wins(tmp_path: Path) -> None:
    entry = {"ghcr.io": {"auth": basic_auth("first", "pw")}}
    other = {"ghcr.io": {"username": "second", "password": "pw"}}
    write_config(tmp_path / "podman.json", {"auths": entry})
    write_config(tmp_path / "dockercfg" / "config.json", {"auths": other})
    write_config(tmp_path / "run" / "containers" / "auth.json", {"auths": other})
    write_config(tmp_path / ".config" / "containers" / "auth.json", {"auths": other})
    ref = ImageReference.parse("ghcr.io/org/app")
    env = {"DOCKER_CONFIG": str(tmp_path / "dockercfg"), "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    assert (
        store(tmp_path, REGISTRY_AUTH_FILE=str(tmp_path / "podman.json"), **env).identity_for(ref).username == "first"
    )
    found = store(tmp_path, **env).identity_for(ref)
    assert found.username == "second"
    assert found.source == f"{tmp_path / 'dockercfg' / 'config.json'} (auths key 'ghcr.io')"
    # A file without an entry for the registry does not stop the search.
    write_config(tmp_path / "dockercfg" / "config.json", {"auths": {"quay.io": {"auth": basic_auth("q", "q")}}})
    found = store(tmp_path, **env).identity_for(ref)
    assert found.source.startswith(str(tmp_path / "run" / "containers" / "auth.json"))


def test_auth_file_option_is_the_only_file(tmp_path: Path) -> None:
    write_config(tmp_path / ".docker" / "config.json", {"auths": {"ghcr.io": {"auth": basic_auth("home", "pw")}}})
    chosen = write_config(tmp_path / "chosen.json", {"auths": {}})
    found = CredentialStore(auth_file=str(chosen), environ={"HOME": str(tmp_path)}).identity_for(
        ImageReference.parse("ghcr.io/org/app")
    )
    assert found.anonymous
    with pytest.raises(ConfigurationError, match=r"auth_file '/nonexistent\.json' does not exist"):
        CredentialStore(auth_file="/nonexistent.json").identity_for(ImageReference.parse("ghcr.io/org/app"))


def test_explicit_credentials_win(tmp_path: Path) -> None:
    write_config(tmp_path / ".docker" / "config.json", {"auths": {"ghcr.io": {"auth": basic_auth("file", "pw")}}})
    explicit = Identity(username="option", password="pw", source="options")
    found = CredentialStore(explicit=explicit, environ={"HOME": str(tmp_path)}).identity_for(
        ImageReference.parse("ghcr.io/org/app")
    )
    assert found.username == "option"


def test_identity_token_entries(tmp_path: Path) -> None:
    auths = {
        "myacr.azurecr.io": {"auth": basic_auth("00000000-0000-0000-0000-000000000000", ""), "identitytoken": "rt"}
    }
    write_config(tmp_path / ".docker" / "config.json", {"auths": auths})
    found = store(tmp_path).identity_for(ImageReference.parse("myacr.azurecr.io/app"))
    assert who(found) == ("00000000-0000-0000-0000-000000000000", None, "rt")
    assert "rt" not in repr(found)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON (Expecting property name enclosed in double quotes at line 1)"),
        ("[]", "does not hold a JSON object"),
        ('{"auths": {"ghcr.io": {"auth": "!!!"}}}', "'auth' is not base64 of user:password"),
        ('{"auths": {"ghcr.io": {"auth": "bm9jb2xvbg=="}}}', "'auth' does not hold user:password"),
    ],
)
def test_broken_files(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text(content)
    with pytest.raises(ConfigurationError) as caught:
        store(tmp_path).identity_for(ImageReference.parse("ghcr.io/org/app"))
    assert message in str(caught.value)


def test_cred_helpers_and_store(tmp_path: Path) -> None:
    helper = Helper(tmp_path)
    helper.answer(
        {
            "ghcr.io": {"Username": "gh-user", "Secret": "gh-secret"},
            "https://index.docker.io/v1/": {"Username": "hub-user", "Secret": "hub-secret"},
            "quay.io": {"Username": "<token>", "Secret": "quay-refresh"},
        }
    )
    config = {
        "credsStore": "kittest",
        "credHelpers": {"ghcr.io": "kittest"},
        "auths": {"r.example.com": {"auth": basic_auth("file-user", "file-pw")}},
    }
    write_config(tmp_path / ".docker" / "config.json", config)
    env = {"HOME": str(tmp_path), "PATH": f"{helper.bin}:{os.environ['PATH']}"}
    credentials = CredentialStore(environ=env)
    assert who(credentials.identity_for(ImageReference.parse("ghcr.io/org/app"))) == ("gh-user", "gh-secret", None)
    assert who(credentials.identity_for(ImageReference.parse("alpine"))) == ("hub-user", "hub-secret", None)
    assert who(credentials.identity_for(ImageReference.parse("quay.io/org/app"))) == (None, None, "quay-refresh")
    # The store knows nothing of r.example.com: the auths entry answers.
    assert who(credentials.identity_for(ImageReference.parse("r.example.com/app"))) == ("file-user", "file-pw", None)
    assert credentials.identity_for(ImageReference.parse("nothing.example.com/app")).anonymous
    assert helper.calls == [
        "ghcr.io",
        "https://index.docker.io/v1/",
        "quay.io",
        "r.example.com",
        "nothing.example.com",
    ]
    # Asked once per repository and run.
    credentials.identity_for(ImageReference.parse("ghcr.io/org/app"))
    assert len(helper.calls) == 5


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        (
            {"mode": "fail", "leak": "s3cr3t-leak"},
            "failed for ghcr.io with exit code 3; run 'docker-credential-kittest get'",
        ),
        ({"mode": "garbage", "leak": "s3cr3t-leak"}, "did not print JSON with Username and Secret for ghcr.io"),
    ],
)
def test_broken_helpers_never_show_their_output(tmp_path: Path, behaviour: dict[str, str], message: str) -> None:
    helper = Helper(tmp_path)
    helper.answer(**behaviour)
    write_config(tmp_path / ".docker" / "config.json", {"credHelpers": {"ghcr.io": "kittest"}})
    env = {"HOME": str(tmp_path), "PATH": f"{helper.bin}:{os.environ['PATH']}"}
    with pytest.raises(CredentialHelperError) as caught:
        CredentialStore(environ=env).identity_for(ImageReference.parse("ghcr.io/org/app"))
    assert message in str(caught.value)
    assert "credential helper docker-credential-kittest (named in" in str(caught.value)
    assert "s3cr3t-leak" not in str(caught.value)


def test_missing_helper(tmp_path: Path) -> None:
    write_config(tmp_path / ".docker" / "config.json", {"credHelpers": {"ghcr.io": "nonexistent"}})
    with pytest.raises(CredentialHelperError) as caught:
        CredentialStore(environ={"HOME": str(tmp_path), "PATH": "/usr/bin"}).identity_for(
            ImageReference.parse("ghcr.io/org/app")
        )
    assert str(caught.value) == (
        f"credential helper docker-credential-nonexistent (named in {tmp_path}/.docker/config.json) is not on PATH; "
        f"install docker-credential-nonexistent, or remove it from {tmp_path}/.docker/config.json"
    )


def test_identity_descriptions_never_hold_secrets() -> None:
    identities = [
        Identity(username="alice", password="pw-secret", source="options"),
        Identity(identity_token="rt-secret", source="/x/config.json (auths key 'ghcr.io')"),
        Identity(bearer_token="bearer-secret", source="options"),
    ]
    assert [i.describe() for i in identities] == [
        "user 'alice'",
        "an identity token (from /x/config.json (auths key 'ghcr.io'))",
        "the given token",
    ]
    for identity in identities:
        assert "secret" not in repr(identity) + identity.describe() + identity.cache_key


def test_each_registry_receives_only_its_own_credentials(tmp_path: Path, fault_pki: Path) -> None:
    """Two registries with Basic challenges, one config file: each sees only its own entry."""
    with FaultServer(fault_pki) as first, FaultServer(fault_pki) as second:
        for server in (first, second):
            server.handler = _basic_registry
        auths = {
            first.host: {"auth": basic_auth("first-user", "pw1")},
            second.host: {"auth": basic_auth("second-user", "pw2")},
        }
        write_config(tmp_path / ".docker" / "config.json", {"auths": auths})
        results = query_images(
            [f"{first.host}/org/app", f"{second.host}/org/app", f"{first.host}/org/other"],
            ClientOptions(ca_path=first.ca, environ={"HOME": str(tmp_path)}),
        )
        assert [r.tags for r in results] == [["1.0"], ["1.0"], ["1.0"]]
        assert {r.header("Authorization") for r in first.requests} == {None, "Basic " + basic_auth("first-user", "pw1")}
        assert {r.header("Authorization") for r in second.requests} == {
            None,
            "Basic " + basic_auth("second-user", "pw2"),
        }


def _basic_registry(request: Request) -> Reply:
    if not request.header("Authorization"):
        return Reply(401, b"", [("WWW-Authenticate", 'Basic realm="r"')])
    return json_reply({"name": "org/app", "tags": ["1.0"]})
