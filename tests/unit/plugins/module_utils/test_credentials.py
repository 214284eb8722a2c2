"""Where credentials come from: files, keys, helpers (no registry needed)."""

from __future__ import annotations

import json
import os
import sys
import typing as t
import urllib.parse
from pathlib import Path

import pytest

from ansible_collections.tagscope.registry.plugins.module_utils._registry.credentials import (
    CredentialStore,
    Identity,
    registry_key,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import (
    ConfigurationError,
    CredentialHelperError,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.options import ClientOptions
from ansible_collections.tagscope.registry.plugins.module_utils._registry.query import query_images
from ansible_collections.tagscope.registry.plugins.module_utils._registry.reference import ImageReference
from tests.kit.bearer import BearerRegistry
from tests.kit.faults import FaultServer, Reply, Request, json_reply
from tests.kit.helpers import Helper, basic_auth, write_config
from tests.unit.ids import case_id


@pytest.fixture(autouse=True)
def _no_machine_run_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """/run/containers/$UID is read when XDG_RUNTIME_DIR is unset: never the machine's own in these tests."""
    monkeypatch.setattr(CredentialStore, "run_root", tmp_path_factory.mktemp("run-containers"))


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
    # An exact key beats an alias of the same registry, whatever the order in the file. Reference:
    # containers/image pkg/docker/config (findCredentialsInFile: exact keys first, normalized keys after).
    KeyCase("docker.io/library/alpine", {"https://index.docker.io/v1/": "alias", "docker.io": "exact"}, "exact"),
    KeyCase("docker.io/library/alpine", {"docker.io": "exact", "https://index.docker.io/v1/": "alias"}, "exact"),
    KeyCase("alpine", {"index.docker.io": "alias", "docker.io": "exact", "registry-1.docker.io": "api"}, "exact"),
    KeyCase("ghcr.io/org/app", {"https://ghcr.io/v2/": "alias", "ghcr.io": "exact"}, "exact"),
    KeyCase("ghcr.io/org/app", {"ghcr.io": "exact", "https://ghcr.io": "alias"}, "exact"),
    # A trailing slash is still the exact key; a v1/ or v2/ path is the host; stray slashes are ignored.
    KeyCase("ghcr.io/org/app", {"https://ghcr.io": "alias", "ghcr.io/": "exact"}, "exact"),
    KeyCase("ghcr.io/org/app", {"https://ghcr.io/v2/token": "host"}, "host"),
    KeyCase("ghcr.io/org/app", {"https://ghcr.io/v1/x/y": "host"}, "host"),
    KeyCase("r.example.com/team/app", {"r.example.com//team/": "team", "r.example.com": "host"}, "team"),
    # A namespace key still beats an exact host key: it is more specific.
    KeyCase("ghcr.io/org/app", {"ghcr.io": "exact", "https://ghcr.io/org": "org"}, "org"),
    # Keys that do not cover the image do not end the search, wherever they stand.
    KeyCase("r.example.com/teamwork/app", {"r.example.com/team": "team", "r.example.com": "host"}, "host"),
    KeyCase("ghcr.io/org/app", {"quay.io": "quay", "ghcr.io/other": "other", "ghcr.io/org": "org"}, "org"),
    # For a namespace too, the exact key beats an alias of it, whatever the order.
    KeyCase("r.example.com/team/app", {"https://r.example.com/team/": "alias", "r.example.com/team": "exact"}, "exact"),
    KeyCase("r.example.com/team/app", {"r.example.com/team": "exact", "https://r.example.com/team": "alias"}, "exact"),
    # Keys that rank the same: the first in the file. containers/image leaves this to Go's map order; docker reads
    # only the key it wrote itself (https://index.docker.io/v1/ for Docker Hub).
    KeyCase("alpine", {"index.docker.io": "first", "https://index.docker.io/v1/": "second"}, "first"),
    KeyCase("alpine", {"https://index.docker.io/v1/": "first", "index.docker.io": "second"}, "first"),
]


@pytest.mark.parametrize("case", KEYS, ids=[case_id(f"{c.image}:{list(c.keys)}") for c in KEYS])
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
    write_config(chosen, {"auths": {"ghcr.io": {"auth": basic_auth("chosen", "pw")}}})
    found = CredentialStore(auth_file=str(chosen), environ={"HOME": str(tmp_path)}).identity_for(
        ImageReference.parse("ghcr.io/org/app")
    )
    assert (found.username, found.source) == ("chosen", f"{chosen} (auths key 'ghcr.io')")
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
    # Where it came from, for the hint when the token service refuses it.
    assert found.source == f"{tmp_path}/.docker/config.json (auths key 'myacr.azurecr.io')"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "{not json",
            "credentials file {config} is not valid JSON (Expecting property name enclosed in double quotes at line "
            "1); fix it, or point auth_file at another file",
        ),
        ("[]", "credentials file {config} does not hold a JSON object"),
        (
            '{"auths": {"ghcr.io": {"auth": "!!!"}}}',
            "credentials in {config} (auths key 'ghcr.io'): 'auth' is not base64 of user:password; log in again with "
            "docker login or podman login",
        ),
        (
            '{"auths": {"ghcr.io": {"auth": "bm9jb2xvbg=="}}}',
            "credentials in {config} (auths key 'ghcr.io'): 'auth' does not hold user:password; log in again with "
            "docker login or podman login",
        ),
    ],
    ids=case_id,
)
def test_broken_files(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text(content)
    with pytest.raises(ConfigurationError) as caught:
        store(tmp_path).identity_for(ImageReference.parse("ghcr.io/org/app"))
    assert str(caught.value) == message.format(config=tmp_path / ".docker" / "config.json")


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
            "failed for ghcr.io with exit code 3; run 'docker-credential-kittest get' by hand to see why",
        ),
        (
            {"mode": "garbage", "leak": "s3cr3t-leak"},
            "did not print JSON with Username and Secret for ghcr.io; run 'docker-credential-kittest get' by hand to "
            "see what it prints",
        ),
    ],
    ids=case_id,
)
def test_broken_helpers_never_show_their_output(tmp_path: Path, behaviour: dict[str, str], message: str) -> None:
    helper = Helper(tmp_path)
    helper.answer(**behaviour)
    write_config(tmp_path / ".docker" / "config.json", {"credHelpers": {"ghcr.io": "kittest"}})
    env = {"HOME": str(tmp_path), "PATH": f"{helper.bin}:{os.environ['PATH']}"}
    with pytest.raises(CredentialHelperError) as caught:
        CredentialStore(environ=env).identity_for(ImageReference.parse("ghcr.io/org/app"))
    config = tmp_path / ".docker" / "config.json"
    assert str(caught.value) == f"credential helper docker-credential-kittest (named in {config}) {message}"
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
        Identity(username="robot", identity_token="rt-secret", source="docker-credential-acr via /x/config.json"),
        Identity(),
    ]
    assert [i.describe() for i in identities] == [
        "user 'alice'",
        "an identity token (from /x/config.json (auths key 'ghcr.io'))",
        "the given token",
        "an identity token of user 'robot' (from docker-credential-acr via /x/config.json)",
        "anonymous access",
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


def _bearer_registry(server: FaultServer) -> BearerRegistry:
    """A registry with its token service on its own host: tokens for anyone, and the canary token taken as given;
    who sent what is recorded."""
    challenge = f'Bearer realm="https://{server.host}/token",service="svc"'
    return BearerRegistry(challenge, denied=b"", accept={f"Bearer {CANARY_TOKEN}"})


CANARY_USER, CANARY_PASSWORD, CANARY_TOKEN = "canary-user", "Canary-pw:7c1e", "Canary-bearer-93ad"


def _every_form(requests: list[Request]) -> str:
    """Everything a server received, headers, query and body, so that no encoding of a secret escapes the check."""
    return "\n".join(f"{r.method} {r.path} {r.query} {r.headers} {r.body!r}" for r in requests)


def _leaks(text: str) -> list[str]:
    forms = [
        CANARY_PASSWORD,
        CANARY_TOKEN,
        basic_auth(CANARY_USER, CANARY_PASSWORD),
        urllib.parse.quote(CANARY_PASSWORD),
        urllib.parse.quote_plus(CANARY_PASSWORD),
    ]
    return [form for form in forms if form in text]


@pytest.mark.parametrize(
    "explicit",
    [
        Identity(username=CANARY_USER, password=CANARY_PASSWORD, source="options"),
        Identity(bearer_token=CANARY_TOKEN, source="options"),
    ],
    ids=["password", "token"],
)
def test_explicit_credentials_go_only_to_auth_registry(tmp_path: Path, fault_pki: Path, explicit: Identity) -> None:
    # Reference: docker and podman scope every credential to one registry (docker login <registry>); the
    # second registry here has its own entry in a config file, a third image on it goes anonymous otherwise.
    with FaultServer(fault_pki) as home, FaultServer(fault_pki) as elsewhere:
        home.handler = home_registry = _bearer_registry(home)
        elsewhere.handler = elsewhere_registry = _bearer_registry(elsewhere)
        write_config(
            tmp_path / ".docker" / "config.json", {"auths": {elsewhere.host: {"auth": basic_auth("eve", "x")}}}
        )
        results = query_images(
            [f"{home.host}/org/app", f"{elsewhere.host}/org/app"],
            ClientOptions(
                ca_path=home.ca, environ={"HOME": str(tmp_path)}, credentials=explicit, credentials_registry=home.host
            ),
        )
        assert [r.tags for r in results] == [["1.0"], ["1.0"]]
        assert _leaks(_every_form(home.requests)), "the registry the credentials are for never got them"
        assert _leaks(_every_form(elsewhere.requests)) == []
        # The other registry got its own credentials from the file instead.
        assert "Basic " + basic_auth("eve", "x") in {r.header("Authorization") for r in elsewhere.requests}
        assert [r.user for r in elsewhere_registry.token_requests] == ["eve"]
        assert [r.user for r in home_registry.token_requests] == ([CANARY_USER] if explicit.username else [])


def test_explicit_credentials_and_several_registries_need_auth_registry(fault_pki: Path) -> None:
    with FaultServer(fault_pki) as first, FaultServer(fault_pki) as second:
        first.handler, second.handler = _bearer_registry(first), _bearer_registry(second)
        explicit = Identity(username=CANARY_USER, password=CANARY_PASSWORD, source="options")
        with pytest.raises(ConfigurationError) as caught:
            query_images(
                [f"{first.host}/org/app", f"{second.host}/org/app"],
                ClientOptions(ca_path=first.ca, environ={"HOME": "/nonexistent"}, credentials=explicit),
            )
        hosts = ", ".join(sorted([first.host, second.host]))
        assert str(caught.value) == (
            f"username and password given for images on 2 registries ({hosts}); explicit credentials are only ever "
            "sent to one registry; set auth_registry to the registry they belong to; images on the others use the "
            "docker or podman credential files, or anonymous access"
        )
        # Refused before any request.
        assert first.requests == [] and second.requests == []


def test_auth_registry_must_be_the_registry_of_an_image() -> None:
    explicit = Identity(bearer_token=CANARY_TOKEN, source="options")
    with pytest.raises(ConfigurationError) as caught:
        query_images(
            ["127.0.0.1:9/org/app"],
            ClientOptions(credentials=explicit, credentials_registry="ghcr.io", environ={"HOME": "/nonexistent"}),
        )
    assert str(caught.value).startswith(
        "auth_registry ghcr.io is not the registry of any image (127.0.0.1:9), so the token would go unused"
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("ghcr.io", "ghcr.io"),
        ("GHCR.io", "ghcr.io"),
        ("https://index.docker.io/v1/", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("registry.example.com:5000", "registry.example.com:5000"),
        ("https://registry.example.com:5000/", "registry.example.com:5000"),
    ],
    ids=case_id,
)
def test_auth_registry_is_normalized_like_references(text: str, key: str) -> None:
    assert registry_key(text) == key


@pytest.mark.parametrize("text", ["ghcr.io/org", "", "https://"], ids=case_id)
def test_auth_registry_that_is_not_a_host(text: str) -> None:
    with pytest.raises(ConfigurationError, match="is not a registry host"):
        registry_key(text)


# Reference for the sources below: docker/cli cli/config (DOCKER_AUTH_CONFIG, then $DOCKER_CONFIG/config.json);
# containers/image pkg/docker/config getPathToAuthWithOS ($XDG_RUNTIME_DIR/containers/auth.json, or
# /run/containers/$UID/auth.json when it is unset; $XDG_CONFIG_HOME/containers/auth.json, default ~/.config).


def test_docker_auth_config_variable(tmp_path: Path) -> None:
    config = json.dumps({"auths": {"ghcr.io": {"auth": basic_auth("from-env", "pw")}}})
    write_config(tmp_path / ".docker" / "config.json", {"auths": {"ghcr.io": {"auth": basic_auth("file", "pw")}}})
    found = store(tmp_path, DOCKER_AUTH_CONFIG=config).identity_for(ImageReference.parse("ghcr.io/org/app"))
    assert (found.username, found.source) == ("from-env", "DOCKER_AUTH_CONFIG (auths key 'ghcr.io')")
    # Without an entry for the registry there, the search goes on to the file.
    other = json.dumps({"auths": {"quay.io": {"auth": basic_auth("q", "q")}}})
    assert store(tmp_path, DOCKER_AUTH_CONFIG=other).identity_for(ImageReference.parse("ghcr.io/x")).username == "file"


def test_docker_auth_config_that_is_not_json_names_the_variable_not_its_content(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        store(tmp_path, DOCKER_AUTH_CONFIG='{"auths": {"ghcr.io": "Canary-env-pw"').identity_for(
            ImageReference.parse("ghcr.io/org/app")
        )
    assert str(caught.value).startswith("DOCKER_AUTH_CONFIG is not valid JSON (")
    assert "Canary" not in str(caught.value)


def test_xdg_config_home_auth_json(tmp_path: Path) -> None:
    write_config(tmp_path / "xdg" / "containers" / "auth.json", {"auths": {"ghcr.io": {"auth": basic_auth("x", "p")}}})
    write_config(
        tmp_path / ".config" / "containers" / "auth.json", {"auths": {"ghcr.io": {"auth": basic_auth("h", "p")}}}
    )
    ref = ImageReference.parse("ghcr.io/org/app")
    assert store(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "xdg")).identity_for(ref).username == "x"
    assert store(tmp_path).identity_for(ref).username == "h"


def test_run_containers_uid_when_xdg_runtime_dir_is_unset(tmp_path: Path) -> None:
    # podman's default for root: `sudo podman login` writes /run/containers/0/auth.json, the file right below the
    # UID (no containers/ there, unlike under XDG_RUNTIME_DIR).
    run_file = CredentialStore.run_root / str(os.getuid()) / "auth.json"
    write_config(run_file, {"auths": {"ghcr.io": {"auth": basic_auth("root-login", "pw")}}})
    ref = ImageReference.parse("ghcr.io/org/app")
    found = store(tmp_path).identity_for(ref)
    assert (found.username, found.source) == ("root-login", f"{run_file} (auths key 'ghcr.io')")
    # With XDG_RUNTIME_DIR set, that directory is read instead.
    assert store(tmp_path, XDG_RUNTIME_DIR=str(tmp_path / "elsewhere")).identity_for(ref).anonymous


# The class default, read before the autouse fixture moves it: the machine's directory is never read here.
_MACHINE_RUN_ROOT = CredentialStore.run_root


class PodmanPathCase(t.NamedTuple):
    xdg_runtime_dir: str  # "" for unset; "{tmp}" is a directory of the test
    prefix: bool  # RootForImplicitAbsolutePaths: the test's directory in front of /run/containers
    expected: str  # as containers/image writes it, "{uid}" and "{tmp}" filled in by the test


# containers/image, pkg/docker/config/config_test.go, TestGetPathToAuth (containers/image commit 2f17a83), the
# rows for linux that name a file, checked against getPathToAuthWithOS in pkg/docker/config/config.go
# (defaultPerUIDPathFormat "/run/containers/%d/auth.json", xdgRuntimeDirPath "containers/auth.json"). Rows left
# out: AuthFilePath and LegacyFormatAuthFilePath (our auth_file, tested above; no legacy format), darwin and
# freebsd (the module runs on Linux hosts), and an XDG_RUNTIME_DIR that does not exist, which containers/image
# refuses and we skip as a file that is not there.
PODMAN_PATHS = [
    PodmanPathCase("", False, "/run/containers/{uid}/auth.json"),
    PodmanPathCase("", True, "{tmp}/run/containers/{uid}/auth.json"),
    PodmanPathCase("{tmp}", False, "{tmp}/containers/auth.json"),
]


@pytest.mark.parametrize("case", PODMAN_PATHS, ids=[case_id(f"{c.xdg_runtime_dir}-{c.prefix}") for c in PODMAN_PATHS])
def test_podman_runtime_auth_json_as_containers_image_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: PodmanPathCase
) -> None:
    def fill(text: str) -> str:
        return text.format(uid=os.getuid(), tmp=tmp_path)

    root = tmp_path / "run" / "containers" if case.prefix else _MACHINE_RUN_ROOT
    monkeypatch.setattr(CredentialStore, "run_root", root)
    environ = {"XDG_RUNTIME_DIR": fill(case.xdg_runtime_dir)} if case.xdg_runtime_dir else {}
    # Only the list of places is computed; no file is opened, so the machine's /run/containers stays unread.
    places = [name for name, _path in store(tmp_path / "home", **environ).sources()]
    home = tmp_path / "home"
    assert places == [
        str(home / ".docker" / "config.json"),
        fill(case.expected),
        str(home / ".config" / "containers" / "auth.json"),
    ]


# --- Edges found by mutation testing (docs/testing.md) ---

APP = ImageReference.parse("ghcr.io/org/app")


def test_auth_file_refusal_in_full(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(ConfigurationError) as caught:
        CredentialStore(auth_file=str(missing)).identity_for(APP)
    assert str(caught.value) == (
        f"auth_file {str(missing)!r} does not exist; point auth_file at a docker config.json or a podman auth.json"
    )


def test_auth_file_with_a_tilde(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write_config(tmp_path / "auth.json", {"auths": {"ghcr.io": {"auth": basic_auth("tilde", "pw")}}})
    assert CredentialStore(auth_file="~/auth.json").identity_for(APP).username == "tilde"


def test_an_unreadable_credentials_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / ".docker" / "config.json").mkdir(parents=True)
    with pytest.raises(ConfigurationError) as caught:
        store(tmp_path).identity_for(APP)
    assert str(caught.value) == f"cannot read credentials file {tmp_path}/.docker/config.json: Is a directory"


@pytest.mark.parametrize("content", ["", "  \n"], ids=["empty", "blank"])
def test_an_empty_credentials_file_is_skipped(tmp_path: Path, content: str) -> None:
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").write_text(content)
    write_config(
        tmp_path / ".config" / "containers" / "auth.json", {"auths": {"ghcr.io": {"auth": basic_auth("p", "w")}}}
    )
    assert store(tmp_path).identity_for(APP).username == "p"


@pytest.mark.parametrize(
    ("entry", "found"),
    [
        ({"username": "u", "password": "p"}, ("u", "p", None)),
        ({"username": "u"}, None),
        ({"password": "p"}, None),
        ({"username": 1, "password": "p"}, None),
        ({"username": "u", "password": 2}, None),
        ({"auth": ""}, None),
        ({"auth": basic_auth("a", "b"), "username": "ignored", "password": "ignored"}, ("a", "b", None)),
        ({"auth": basic_auth("a", "b:c")}, ("a", "b:c", None)),
        ({"identitytoken": "rt"}, (None, None, "rt")),
        ({"identitytoken": "rt", "username": "u"}, ("u", None, "rt")),
        ({"identitytoken": ""}, None),
        # A token that is not a string is no token: the password in the entry answers.
        ({"identitytoken": 12345, "auth": basic_auth("a", "b")}, ("a", "b", None)),
        ({"identitytoken": ["rt"]}, None),
        ("not a map", None),
    ],
    ids=case_id,
)
def test_auths_entries(tmp_path: Path, entry: t.Any, found: tuple[str | None, ...] | None) -> None:
    write_config(tmp_path / ".docker" / "config.json", {"auths": {"ghcr.io": entry}})
    identity = store(tmp_path).identity_for(APP)
    assert (None if identity.anonymous else who(identity)) == found


@pytest.mark.parametrize("auths", [[], "ghcr.io", None], ids=case_id)
def test_auths_that_is_not_a_map_is_no_credentials(tmp_path: Path, auths: t.Any) -> None:
    write_config(tmp_path / ".docker" / "config.json", {"auths": auths})
    assert store(tmp_path).identity_for(APP).anonymous


@pytest.mark.parametrize(
    ("key", "normalized"),
    [
        ("https://index.docker.io/v1/", "docker.io"),
        ("http://r.example.com:5000/v2/", "r.example.com:5000"),
        ("HTTPS://GHCR.IO", "ghcr.io"),
        (" ghcr.io/ ", "ghcr.io"),
        ("registry-1.docker.io", "docker.io"),
    ],
    ids=case_id,
)
def test_auth_registry_keys_like_docker_login_writes_them(key: str, normalized: str) -> None:
    assert registry_key(key) == normalized


def test_helper_and_store_edges(tmp_path: Path) -> None:
    helper = Helper(tmp_path)
    helper.answer({"ghcr.io": {"Username": "<token>", "Secret": "rt"}, "quay.io": {"Username": "u", "Secret": ""}})
    config = {
        # An empty or non-string helper name is no helper; a helper that knows nothing leaves the auths entry.
        "credHelpers": {"ghcr.io": "kittest", "quay.io": "kittest", "r.example.com": "", "s.example.com": 7},
        "auths": {
            "quay.io": {"auth": basic_auth("file", "pw")},
            "r.example.com": {"auth": basic_auth("r", "pw")},
            "s.example.com": {"auth": basic_auth("s", "pw")},
        },
    }
    write_config(tmp_path / ".docker" / "config.json", config)
    credentials = CredentialStore(environ={"HOME": str(tmp_path), "PATH": f"{helper.bin}:{os.environ['PATH']}"})
    token = credentials.identity_for(APP)
    assert who(token) == (None, None, "rt")
    assert token.source == f"docker-credential-kittest via {tmp_path}/.docker/config.json"
    # An empty secret is no credentials: the auths entry answers.
    assert who(credentials.identity_for(ImageReference.parse("quay.io/org/app"))) == ("file", "pw", None)
    assert who(credentials.identity_for(ImageReference.parse("r.example.com/app"))) == ("r", "pw", None)
    assert who(credentials.identity_for(ImageReference.parse("s.example.com/app"))) == ("s", "pw", None)
    assert helper.calls == ["ghcr.io", "quay.io"]


def test_a_store_is_asked_with_the_key_it_was_given_or_docker_hubs_url(tmp_path: Path) -> None:
    helper = Helper(tmp_path)
    helper.answer({})
    auths = {"https://ghcr.io/v2/": {}}
    write_config(tmp_path / ".docker" / "config.json", {"credsStore": "kittest", "auths": auths})
    credentials = CredentialStore(environ={"HOME": str(tmp_path), "PATH": f"{helper.bin}:{os.environ['PATH']}"})
    for image in ("ghcr.io/org/app", "alpine", "quay.io/org/app"):
        assert credentials.identity_for(ImageReference.parse(image)).anonymous
    assert helper.calls == ["https://ghcr.io/v2/", "https://index.docker.io/v1/", "quay.io"]


def test_a_helper_that_cannot_run_or_hangs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ansible_collections.tagscope.registry.plugins.module_utils._registry import credentials  # noqa: PLC0415

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    broken = bin_dir / "docker-credential-broken"
    broken.write_text("#!/nonexistent/interpreter\n")
    broken.chmod(0o755)
    slow = bin_dir / "docker-credential-slow"
    slow.write_text("#!/bin/sh\nsleep 5\n")
    slow.chmod(0o755)
    config = write_config(
        tmp_path / ".docker" / "config.json", {"credHelpers": {"ghcr.io": "broken", "quay.io": "slow"}}
    )
    env = {"HOME": str(tmp_path), "PATH": f"{bin_dir}:/usr/bin:/bin"}
    with pytest.raises(CredentialHelperError) as caught:
        CredentialStore(environ=env).identity_for(APP)
    assert str(caught.value) == (
        f"credential helper docker-credential-broken (named in {config}) could not be run: No such file or directory"
    )
    monkeypatch.setattr(credentials, "HELPER_TIMEOUT", 0.5)
    with pytest.raises(CredentialHelperError) as caught:
        CredentialStore(environ=env).identity_for(ImageReference.parse("quay.io/org/app"))
    assert str(caught.value) == (
        f"credential helper docker-credential-slow (named in {config}) did not answer within 0.5 s"
    )


@pytest.mark.parametrize(
    "answer",
    [{"Username": 1, "Secret": "s"}, {"Username": "u", "Secret": None}, {"Username": "u"}, ["u", "s"]],
    ids=case_id,
)
def test_helper_answers_of_the_wrong_shape(tmp_path: Path, answer: t.Any) -> None:
    helper = Helper(tmp_path)
    helper.answer({"ghcr.io": answer})
    write_config(tmp_path / ".docker" / "config.json", {"credHelpers": {"ghcr.io": "kittest"}})
    env = {"HOME": str(tmp_path), "PATH": f"{helper.bin}:{os.environ['PATH']}"}
    with pytest.raises(CredentialHelperError, match=r"did not print JSON with Username and Secret for ghcr\.io"):
        CredentialStore(environ=env).identity_for(APP)


def test_identities_apart() -> None:
    alice = Identity(username="alice", password="one")
    assert alice.cache_key == Identity(username="alice", password="one").cache_key
    assert alice.cache_key != Identity(username="alice", password="two").cache_key
    assert alice.cache_key != Identity(username="bob", password="one").cache_key
    assert alice.cache_key.startswith("alice#") and len(alice.cache_key) == len("alice#") + 16
    assert Identity().cache_key == "" and Identity(username="alice").cache_key == ""
    assert alice.basic_header() == "Basic " + basic_auth("alice", "one")
    assert Identity(username="alice").basic_header() is None
    assert Identity(password="one").basic_header() is None
    assert [Identity(**kind).anonymous for kind in ({}, {"username": "u"}, {"password": "p"})] == [True, True, False]
    assert not Identity(identity_token="rt").anonymous and not Identity(bearer_token="t").anonymous


def test_a_config_path_through_a_file_is_no_file(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("x")
    write_config(
        tmp_path / ".config" / "containers" / "auth.json", {"auths": {"ghcr.io": {"auth": basic_auth("p", "w")}}}
    )
    assert store(tmp_path, DOCKER_CONFIG=str(tmp_path / "not-a-dir")).identity_for(APP).username == "p"


def test_anonymous_explicit_credentials_leave_the_files_in_charge(tmp_path: Path) -> None:
    write_config(tmp_path / ".docker" / "config.json", {"auths": {"ghcr.io": {"auth": basic_auth("file", "pw")}}})
    found = CredentialStore(explicit=Identity(source="options"), environ={"HOME": str(tmp_path)}).identity_for(APP)
    assert found.username == "file"


def _script_helper(directory: Path, body: str) -> dict[str, str]:
    bin_dir = directory / "bin"
    bin_dir.mkdir(exist_ok=True)
    helper = bin_dir / "docker-credential-script"
    helper.write_text(f"#!{sys.executable}\nimport json, os, sys\n{body}\n")
    helper.chmod(0o755)
    write_config(directory / ".docker" / "config.json", {"credHelpers": {"ghcr.io": "script"}})
    return {"HOME": str(directory), "PATH": f"{bin_dir}:/usr/bin:/bin"}


def test_a_helper_runs_with_the_environment_it_was_given(tmp_path: Path) -> None:
    env = _script_helper(tmp_path, 'print(json.dumps({"Username": os.environ["HOME"], "Secret": "s"}))')
    assert CredentialStore(environ=env).identity_for(APP).username == str(tmp_path)


def test_a_helper_saying_not_found_on_stderr_knows_nothing(tmp_path: Path) -> None:
    env = _script_helper(tmp_path, 'sys.stderr.write("credentials not found in native keychain\\n"); sys.exit(1)')
    assert CredentialStore(environ=env).identity_for(APP).anonymous


def test_a_helper_failing_with_bytes_that_are_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    env = _script_helper(tmp_path, 'sys.stderr.buffer.write(b"\\xff\\xfe not found?\\n"); sys.exit(2)')
    with pytest.raises(CredentialHelperError) as caught:
        CredentialStore(environ=env).identity_for(APP)
    config = tmp_path / ".docker" / "config.json"
    assert str(caught.value) == (
        f"credential helper docker-credential-script (named in {config}) failed for ghcr.io with exit code 2; run "
        "'docker-credential-script get' by hand to see why"
    )


def test_a_helper_identity_names_its_helper_and_file(tmp_path: Path) -> None:
    helper = Helper(tmp_path)
    helper.answer({"ghcr.io": {"Username": "u", "Secret": "pw"}})
    write_config(tmp_path / ".docker" / "config.json", {"credHelpers": {"ghcr.io": "kittest"}})
    found = CredentialStore(environ={"HOME": str(tmp_path), "PATH": f"{helper.bin}:{os.environ['PATH']}"}).identity_for(
        APP
    )
    assert (who(found), found.source) == (
        ("u", "pw", None),
        f"docker-credential-kittest via {tmp_path}/.docker/config.json",
    )


def test_a_store_identity_names_its_helper_and_file_and_a_store_that_is_no_name_is_none(tmp_path: Path) -> None:
    helper = Helper(tmp_path)
    helper.answer({"ghcr.io": {"Username": "u", "Secret": "pw"}})
    config = write_config(tmp_path / ".docker" / "config.json", {"credsStore": "kittest"})
    environ = {"HOME": str(tmp_path), "PATH": f"{helper.bin}:{os.environ['PATH']}"}
    found = CredentialStore(environ=environ).identity_for(APP)
    assert (who(found), found.source) == (("u", "pw", None), f"docker-credential-kittest via {config}")
    # A credsStore that is not a name is no store: the auths entry answers, no helper is looked for.
    write_config(config, {"credsStore": 7, "auths": {"ghcr.io": {"auth": basic_auth("file", "pw")}}})
    assert who(CredentialStore(environ=environ).identity_for(APP)) == ("file", "pw", None)
    assert helper.calls == ["ghcr.io"]


def test_a_credentials_file_that_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    # Read as UTF-8 whatever the locale of the host (docker and podman write UTF-8); Latin-1 is refused, not guessed.
    config = tmp_path / ".docker" / "config.json"
    config.parent.mkdir()
    config.write_bytes(b'{"auths": {"ghcr.io": {"username": "j\xf6rg", "password": "pw"}}}')
    with pytest.raises(ConfigurationError) as caught:
        store(tmp_path).identity_for(APP)
    assert str(caught.value) == (
        f"credentials file {config} is not UTF-8 (byte 37); save it as UTF-8, or point auth_file at another file"
    )
    config.write_bytes('{"auths": {"ghcr.io": {"username": "jörg", "password": "pw"}}}'.encode())
    assert who(store(tmp_path).identity_for(APP)) == ("jörg", "pw", None)


def test_without_an_environment_the_process_environment_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path / ".docker" / "config.json", {"auths": {"ghcr.io": {"auth": basic_auth("env", "pw")}}})
    for name in ("REGISTRY_AUTH_FILE", "DOCKER_AUTH_CONFIG", "DOCKER_CONFIG", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert who(CredentialStore().identity_for(APP)) == ("env", "pw", None)
