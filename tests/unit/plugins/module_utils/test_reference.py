from __future__ import annotations

import typing as t

import pytest

from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import InvalidReferenceError
from ansible_collections.tagscope.registry.plugins.module_utils._registry.reference import ImageReference

SHA = "sha256:" + "a" * 64


class Parsed(t.NamedTuple):
    text: str
    name: str
    api_host: str
    tag: str | None
    digest: str | None


VALID = [
    Parsed("alpine", "docker.io/library/alpine", "registry-1.docker.io", None, None),
    Parsed("alpine:3.20", "docker.io/library/alpine", "registry-1.docker.io", "3.20", None),
    Parsed("library/alpine", "docker.io/library/alpine", "registry-1.docker.io", None, None),
    Parsed("docker.io/alpine", "docker.io/library/alpine", "registry-1.docker.io", None, None),
    Parsed("index.docker.io/library/alpine", "docker.io/library/alpine", "registry-1.docker.io", None, None),
    Parsed("registry-1.docker.io/bitnami/redis:7", "docker.io/bitnami/redis", "registry-1.docker.io", "7", None),
    Parsed("Docker.IO/user/app", "docker.io/user/app", "registry-1.docker.io", None, None),
    Parsed("user/app", "docker.io/user/app", "registry-1.docker.io", None, None),
    Parsed("ghcr.io/org/app:1.4.2", "ghcr.io/org/app", "ghcr.io", "1.4.2", None),
    Parsed("quay.io/org/sub/app", "quay.io/org/sub/app", "quay.io", None, None),
    Parsed("127.0.0.1:5000/private/app", "127.0.0.1:5000/private/app", "127.0.0.1:5000", None, None),
    Parsed("localhost/app:v1", "localhost/app", "localhost", "v1", None),
    Parsed("localhost:5000/a/b/c:latest", "localhost:5000/a/b/c", "localhost:5000", "latest", None),
    Parsed("[::1]:5000/app", "[::1]:5000/app", "[::1]:5000", None, None),
    Parsed(f"ghcr.io/org/app@{SHA}", "ghcr.io/org/app", "ghcr.io", None, SHA),
    Parsed(f"ghcr.io/org/app:1.0@{SHA}", "ghcr.io/org/app", "ghcr.io", "1.0", SHA),
    Parsed(
        "r.example.com/a.b/c_d/e__f/g-h/i--j:T_1.x-Y",
        "r.example.com/a.b/c_d/e__f/g-h/i--j",
        "r.example.com",
        "T_1.x-Y",
        None,
    ),
    Parsed("  alpine  ", "docker.io/library/alpine", "registry-1.docker.io", None, None),
    Parsed("app:" + "x" * 128, "docker.io/library/app", "registry-1.docker.io", "x" * 128, None),
]


@pytest.mark.parametrize("case", VALID, ids=[case.text.strip() for case in VALID])
def test_parse_valid(case: Parsed) -> None:
    ref = ImageReference.parse(case.text)
    assert (ref.name, ref.api_host, ref.tag, ref.digest) == (case.name, case.api_host, case.tag, case.digest)


class Invalid(t.NamedTuple):
    text: t.Any
    message: str


INVALID = [
    Invalid("", "is empty"),
    Invalid("   ", "is empty"),
    Invalid("my app", "contains whitespace"),
    Invalid("ghcr.io/Org/app", "'Org' has uppercase letters"),
    Invalid("MyApp", "'MyApp' has uppercase letters"),
    Invalid("https://ghcr.io/org/app", "has a URL scheme"),
    Invalid("ghcr.io/org/app:", "invalid tag ''"),
    Invalid("ghcr.io/org/app:-dash", "invalid tag '-dash'"),
    Invalid("ghcr.io/org/app:1.0+build", "invalid tag '1.0+build'"),
    Invalid("ghcr.io/org/app:" + "x" * 129, "invalid tag"),
    Invalid("ghcr.io/org/app@sha256:abc", "invalid digest"),
    Invalid("ghcr.io/org/app@sha256:" + "a" * 63 + "g", "invalid digest"),
    Invalid("ghcr.io/org/app@sha256:" + "a" * 65, "64 hex characters"),
    Invalid("ghcr.io/", "has no repository path"),
    Invalid("ghcr.io/org//app", "component '' is not valid"),
    Invalid("ghcr.io/org/app-", "component 'app-' is not valid"),
    Invalid("reg_istry.io:5000/app", "invalid registry host"),
    Invalid("registry.io:99999/app", "invalid registry host 'registry.io:99999'"),
    Invalid("registry.io:0/app", "invalid registry host"),
    Invalid("ghcr.io/" + "a" * 250, "longer than 255"),
    Invalid(None, "must be a string"),
    Invalid(42, "must be a string"),
]


@pytest.mark.parametrize("case", INVALID, ids=[repr(case.text)[:40] for case in INVALID])
def test_parse_invalid(case: Invalid) -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        ImageReference.parse(case.text)
    assert case.message in str(caught.value)
    # Every refusal tells the user what a reference should look like.
    assert caught.value.hint


def test_str_round_trips() -> None:
    text = f"127.0.0.1:5000/private/app:1.0@{SHA}"
    assert str(ImageReference.parse(text)) == text
    assert str(ImageReference.parse("alpine:3")) == "docker.io/library/alpine:3"
