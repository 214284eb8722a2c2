"""Options as the plugins hand them over: what is refused (the whole message), and what a run is then set up with.

Defaults are written out here, not read from options.py: a default that moves is a change users notice.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from ansible_collections.tagscope.registry.plugins.module_utils._registry.credentials import Identity
from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import ConfigurationError
from ansible_collections.tagscope.registry.plugins.module_utils._registry.options import ClientOptions, QueryOptions
from ansible_collections.tagscope.registry.plugins.module_utils._registry.platforms import Platform
from ansible_collections.tagscope.registry.plugins.module_utils._registry.select import Selection
from tests.unit.ids import case_id

REFUSED = [
    (
        {"username": "ci"},
        "username and password go together, but password is not set; set password (or TAGSCOPE_REGISTRY_PASSWORD), "
        "or neither for anonymous access",
    ),
    (
        {"password": "pw"},
        "username and password go together, but username is not set; set username (or TAGSCOPE_REGISTRY_USERNAME), "
        "or neither for anonymous access",
    ),
    ({"timeout": 0}, "timeout must be more than 0, got 0"),
    ({"timeout": -1.5}, "timeout must be more than 0, got -1.5"),
    ({"retries": -1}, "retries must be 0 or more, got -1"),
    ({"retry_max_wait": -0.5}, "retry_max_wait must be 0 or more, got -0.5"),
    (
        {"page_size": 0},
        "page_size must be between 1 and 10000, got 0; leave it unset to let the registry choose its page size",
    ),
    (
        {"page_size": 10001},
        "page_size must be between 1 and 10000, got 10001; leave it unset to let the registry choose its page size",
    ),
    ({"concurrency": 0}, "concurrency must be between 1 and 64, got 0; 1 asks one image after the other"),
    ({"concurrency": 65}, "concurrency must be between 1 and 64, got 65; 1 asks one image after the other"),
    (
        {"auth_registry": "ghcr.io/org"},
        "auth_registry 'ghcr.io/org' is not a registry host; name the host (and port) the credentials are for, such "
        "as ghcr.io or registry.example.com:5000",
    ),
]


@pytest.mark.parametrize(("given", "message"), REFUSED, ids=case_id)
def test_refused_client_options(given: dict[str, t.Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ClientOptions.build(**given)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "given",
    [
        {"timeout": 0.001},
        {"retries": 0},
        {"retry_max_wait": 0},
        {"page_size": 1},
        {"page_size": 10000},
        {"concurrency": 1},
        {"concurrency": 64},
    ],
    ids=case_id,
)
def test_boundaries_that_are_accepted(given: dict[str, t.Any]) -> None:
    built = ClientOptions.build(**given)
    ((name, value),) = given.items()
    assert getattr(built, name) == value


def test_client_defaults() -> None:
    built = ClientOptions.build()
    assert built == ClientOptions(
        credentials=None,
        credentials_registry=None,
        auth_file=None,
        environ=None,
        validate_certs=True,
        ca_path=None,
        timeout=30.0,
        page_size=None,
        retries=4,
        retry_max_wait=60.0,
        http_registries=frozenset(),
        concurrency=8,
    )
    # What the plugins pass for options left unset: the same run.
    assert (
        ClientOptions.build(
            username="",
            password="",
            token="",
            auth_registry="",
            auth_file="",
            validate_certs=None,
            ca_path="",
            timeout=None,
            retries=None,
            retry_max_wait=None,
            http_registries=None,
            concurrency=None,
        )
        == built
    )


def test_client_options_as_given() -> None:
    environ = {"HOME": "/home/ci"}
    built = ClientOptions.build(
        username="ci",
        password="pw",
        auth_registry="Docker.io",
        auth_file="/etc/auth.json",
        validate_certs=False,
        ca_path="/etc/ca.pem",
        timeout=5,
        page_size=100,
        retries=2,
        retry_max_wait=7,
        http_registries=[" Registry.Local:5000 ", "127.0.0.1:5000"],
        concurrency=3,
        environ=environ,
    )
    assert built == ClientOptions(
        credentials=Identity(username="ci", password="pw", source="options"),
        credentials_registry="docker.io",
        auth_file="/etc/auth.json",
        environ=environ,
        validate_certs=False,
        ca_path="/etc/ca.pem",
        timeout=5.0,
        page_size=100,
        retries=2,
        retry_max_wait=7.0,
        http_registries=frozenset({"registry.local:5000", "127.0.0.1:5000"}),
        concurrency=3,
    )
    assert isinstance(built.timeout, float) and isinstance(built.retry_max_wait, float)


def test_a_token_wins_over_username_and_password() -> None:
    built = ClientOptions.build(username="ci", password="pw", token="tok")
    assert built.credentials == Identity(bearer_token="tok", source="options")


def test_verify_is_the_ca_file_or_the_validate_certs_choice(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not checked here")
    assert ClientOptions.build(ca_path=str(ca)).verify() == str(ca)
    assert ClientOptions.build(validate_certs=False).verify() is False
    assert ClientOptions.build().verify() is True
    missing = str(tmp_path / "nope.pem")
    with pytest.raises(ConfigurationError) as caught:
        ClientOptions.build(ca_path=missing).verify()
    assert str(caught.value) == (
        f"ca_path {missing!r} does not exist; point ca_path at a PEM file (or a c_rehash'd directory) with the "
        "registry's CA"
    )


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"wait_timeout": -1}, "wait_timeout must be 0 or more, got -1; 0 checks once, without waiting"),
        ({"wait_interval": 0}, "wait_interval must be more than 0, got 0"),
        ({"wait_interval": -2}, "wait_interval must be more than 0, got -2"),
    ],
    ids=case_id,
)
def test_refused_query_options(given: dict[str, t.Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        QueryOptions.build(**given)
    assert str(caught.value) == message


def test_query_defaults() -> None:
    assert QueryOptions.build() == QueryOptions(
        selection=Selection(),
        list_tags=True,
        manifests=True,
        fail_on_missing=False,
        wait_timeout=0.0,
        wait_interval=10.0,
        required_platforms=(),
        allow_moved=False,
    )
    assert QueryOptions.build(wait_timeout=None, wait_interval=None) == QueryOptions.build()


def test_query_options_as_given() -> None:
    selection = Selection(sort="name")
    built = QueryOptions.build(
        selection=selection,
        list_tags=False,
        manifests=False,
        fail_on_missing=True,
        wait_timeout=0,
        wait_interval=0.5,
        platforms=["linux/arm64/v8", "linux/amd64", "linux/arm64"],
    )
    assert built == QueryOptions(
        selection=selection,
        list_tags=False,
        manifests=False,
        fail_on_missing=True,
        wait_timeout=0.0,
        wait_interval=0.5,
        # Normalized as containerd does, each once, in the order given.
        required_platforms=(Platform.parse("linux/arm64"), Platform.parse("linux/amd64")),
    )
