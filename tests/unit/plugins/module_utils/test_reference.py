from __future__ import annotations

import typing as t

import pytest

from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import InvalidReferenceError
from ansible_collections.tagscope.registry.plugins.module_utils._registry.reference import ImageReference
from tests.unit.ids import case_id

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


@pytest.mark.parametrize("case", VALID, ids=[case_id(case.text.strip()) for case in VALID])
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


@pytest.mark.parametrize("case", INVALID, ids=[case_id(repr(case.text)[:40]) for case in INVALID])
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


# distribution/reference normalize_test.go (TestValidateReferenceName, TestValidateRemoteName,
# TestParseRepositoryInfo, TestNormalizedSplitHostname): input -> registry and repository as docker reads them.
DISTRIBUTION_VALID = [
    ("docker/docker", "docker.io", "docker/docker"),
    ("debian", "docker.io", "library/debian"),
    ("docker.io/debian", "docker.io", "library/debian"),
    ("index.docker.io/debian", "docker.io", "library/debian"),
    ("index.docker.io/docker/docker", "docker.io", "docker/docker"),
    ("127.0.0.1:5000/debian", "127.0.0.1:5000", "debian"),
    ("192.168.0.1", "docker.io", "library/192.168.0.1"),
    ("192.168.0.1:8/debian", "192.168.0.1:8", "debian"),
    ("[fc00::1]:5000/docker/docker", "[fc00::1]:5000", "docker/docker"),
    ("[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000", "library/debian"),
    (
        "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
        "docker.io",
        "library/" + "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
    ),
    (
        "docker.io/" + "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        "docker.io",
        "library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
    ),
    ("docker---rules/docker", "docker.io", "docker---rules/docker"),
    ("d/docker", "docker.io", "d/docker"),
    ("dock__er/docker", "docker.io", "dock__er/docker"),
    ("test_com/foo", "docker.io", "test_com/foo"),
    ("test.com:8080/foo", "test.com:8080", "foo"),
    ("test-com:8080/foo", "test-com:8080", "foo"),
    ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
    ("docker.io/library/foo/bar", "docker.io", "library/foo/bar"),
    ("store/foo/bar", "docker.io", "store/foo/bar"),
    ("library/ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base"),
]


@pytest.mark.parametrize(
    ("text", "registry", "repository"), DISTRIBUTION_VALID, ids=[c[0][:40] for c in DISTRIBUTION_VALID]
)
def test_distribution_reference_valid(text: str, registry: str, repository: str) -> None:
    ref = ImageReference.parse(text)
    assert (ref.registry, ref.repository) == (registry, repository)


DISTRIBUTION_INVALID = [
    "https://github.com/docker/docker",
    "docker/Docker",
    "-docker",
    "-docker/docker",
    "-docker.io/docker/docker",
    "docker///docker",
    "docker.io/docker/Docker",
    "[fc00::1]",
    "[fc00::1]:5000",
    "fc00::1:5000/debian",
    "[fe80::1%eth0]:5000/debian",
    "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
    "docker-/docker",
    "-docker-/docker",
    "____/____",
    "_docker/_docker",
    "dock..er/docker",
    "dock_.er/docker",
    "dock-.er/docker",
    "docker/",
]


@pytest.mark.parametrize("text", DISTRIBUTION_INVALID, ids=case_id)
def test_distribution_reference_invalid(text: str) -> None:
    with pytest.raises(InvalidReferenceError):
        ImageReference.parse(text)


# Where we differ from distribution/reference on purpose:
# - "Docker/docker": docker reads an uppercase first component as a registry host named "Docker"; that is a typo in
#   practice, so we refuse it and say that paths are lowercase.
# - "[2001:db8:3:4::192.0.2.33]:5000/debian": docker refuses IPv6 literals with an embedded IPv4 part; we accept
#   any address Python's ipaddress accepts.
def test_ipv6_with_embedded_ipv4_is_accepted() -> None:
    ref = ImageReference.parse("[2001:db8:3:4::192.0.2.33]:5000/debian")
    assert (ref.registry, ref.repository) == ("[2001:db8:3:4::192.0.2.33]:5000", "debian")


@pytest.mark.parametrize("text", ["Docker/docker", "DOCKER/docker"], ids=case_id)
def test_uppercase_first_component_is_refused(text: str) -> None:
    with pytest.raises(InvalidReferenceError, match="has uppercase letters"):
        ImageReference.parse(text)


# Found by mutation testing (docs/testing.md): the whole message a user reads, hint included.
HEX = "a" * 64
MESSAGES = [
    ("", "image reference is empty; write it as [host[:port]/]path[:tag][@digest]"),
    (42, "image reference must be a string, got int; write it as [host[:port]/]path[:tag][@digest]"),
    (
        "my app",
        "image reference 'my app' contains whitespace; remove the spaces; a reference is "
        "[host[:port]/]path[:tag][@digest]",
    ),
    (
        "https://ghcr.io/org/app",
        "image reference 'https://ghcr.io/org/app' has a URL scheme; drop the scheme: write registry.example.com/app, "
        "not https://registry.example.com/app",
    ),
    (
        "ghcr.io/org/app:-dash",
        "image reference 'ghcr.io/org/app:-dash' has an invalid tag '-dash'; a tag is 1 to 128 of A-Z a-z 0-9 _ . - "
        "and does not start with . or -",
    ),
    (
        f"ghcr.io/org/app@sha256:{HEX}:x",
        f"image reference 'ghcr.io/org/app@sha256:{HEX}:x' has an invalid digest 'sha256:{HEX}:x'; a digest looks "
        "like sha256: followed by 64 hex characters",
    ),
    (
        f"ghcr.io/org/app@sha256:{HEX}a",
        f"image reference 'ghcr.io/org/app@sha256:{HEX}a' has a sha256 digest of 65 hex characters; a sha256 digest "
        "has exactly 64 hex characters",
    ),
    (
        "ghcr.io/",
        "image reference 'ghcr.io/' has no repository path; name the repository, e.g. registry.example.com/team/app",
    ),
    (
        "ghcr.io/Org/app",
        "image reference 'ghcr.io/Org/app': repository path component 'Org' has uppercase letters; repository paths "
        "are lowercase",
    ),
    (
        "a/b:c/d",
        "image reference 'a/b:c/d': repository path component 'b:c' is not valid; path components are lowercase "
        "letters and digits separated by . _ __ or -",
    ),
    (
        "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        "image reference '1a3f5e7d9c1b3a5f7e9d'... is 64 hex characters, an image ID rather than a name; name the "
        "repository; for a digest write name@sha256:<digest>",
    ),
    (
        "registry.io:65536/app",
        "image reference 'registry.io:65536/app' has an invalid registry host 'registry.io:65536'; a registry is a "
        "hostname or IP, optionally with :port (1 to 65535)",
    ),
    # An uppercase first component without a dot is a path, not a host (see test_uppercase_first_component_is_refused).
    (
        "Team/app",
        "image reference 'Team/app': repository path component 'Team' has uppercase letters; repository paths are "
        "lowercase",
    ),
    # All capitals is still "uppercase"; a component that is wrong in other ways besides is "not valid".
    (
        "team/APP",
        "image reference 'team/APP': repository path component 'APP' has uppercase letters; repository paths are "
        "lowercase",
    ),
    (
        "team/A..B",
        "image reference 'team/A..B': repository path component 'A..B' is not valid; path components are lowercase "
        "letters and digits separated by . _ __ or -",
    ),
    # Two colons after the last slash: the tag is what follows the last one, the rest is the path.
    (
        "team/app:1:2",
        "image reference 'team/app:1:2': repository path component 'app:1' is not valid; path components are "
        "lowercase letters and digits separated by . _ __ or -",
    ),
    # A bracket opens an IPv6 host, whatever follows; its port is checked like any other.
    (
        "[xyz]/app",
        "image reference '[xyz]/app' has an invalid registry host '[xyz]'; a registry is a hostname or IP, optionally "
        "with :port (1 to 65535)",
    ),
    # Hex digits in brackets are not yet an IPv6 address.
    (
        "[abc]:5000/app",
        "image reference '[abc]:5000/app' has an invalid registry host '[abc]:5000'; a registry is a hostname or IP, "
        "optionally with :port (1 to 65535)",
    ),
    (
        "[::1]:65536/app",
        "image reference '[::1]:65536/app' has an invalid registry host '[::1]:65536'; a registry is a hostname or "
        "IP, optionally with :port (1 to 65535)",
    ),
    (
        "ghcr.io/" + "a" * 248,
        f"image reference {('ghcr.io/' + 'a' * 52)!r}... is longer than 255 characters; registries reject repository "
        "names over 255 characters",
    ),
]


@pytest.mark.parametrize(("text", "message"), MESSAGES, ids=case_id)
def test_refusals_in_full(text: t.Any, message: str) -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        ImageReference.parse(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "registry"),
    [
        ("host:1/app", "host:1"),
        ("host:65535/app", "host:65535"),
        ("[::1]/app", "[::1]"),
        ("[::1]:5000/a", "[::1]:5000"),
    ],
    ids=case_id,
)
def test_registry_boundaries(text: str, registry: str) -> None:
    assert ImageReference.parse(text).registry == registry


def test_a_name_of_exactly_255_characters_is_allowed() -> None:
    assert len(ImageReference.parse("ghcr.io/" + "a" * 247).name) == 255
