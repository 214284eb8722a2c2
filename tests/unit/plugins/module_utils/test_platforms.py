"""Platforms a manifest offers, pinned references, and rate-limit headroom, against a scripted loopback registry.

References: containerd's platforms package (Normalize: aarch64 -> arm64, arm64 -> arm64/v8, arm -> arm/v7);
BuildKit's attestation manifests (platform unknown/unknown, annotation vnd.docker.reference.type).
"""

from __future__ import annotations

import hashlib
import json
import typing as t

import pytest

from ansible_collections.tagscope.registry.plugins.module_utils._registry.client import _rate
from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import (
    ConfigurationError,
    ProtocolError,
    RegistryError,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.manifests import (
    config_digest,
    from_config,
    from_index,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.options import ClientOptions, QueryOptions
from ansible_collections.tagscope.registry.plugins.module_utils._registry.platforms import Platform
from ansible_collections.tagscope.registry.plugins.module_utils._registry.policy import Policy
from ansible_collections.tagscope.registry.plugins.module_utils._registry.query import MissingTagsError, query_images
from tests.kit.faults import FaultServer, Reply, Request, json_reply
from tests.unit.ids import case_id

NO_FILES = {"HOME": "/nonexistent"}
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("linux/amd64", "linux/amd64"),
        ("linux/arm64/v8", "linux/arm64"),
        ("linux/aarch64", "linux/arm64"),
        ("linux/arm", "linux/arm"),
        ("linux/arm/v7", "linux/arm"),
        ("linux/arm/v6", "linux/arm/v6"),
        ("linux/x86_64", "linux/amd64"),
        ("linux/amd64/v3", "linux/amd64"),
        ("Windows/AMD64", "windows/amd64"),
    ],
    ids=case_id,
)
def test_platforms_normalize_as_containerd_does(text: str, expected: str) -> None:
    assert str(Platform.parse(text)) == expected
    assert Platform.parse(text) == Platform.parse(expected)


@pytest.mark.parametrize("text", ["linux", "linux/", "/amd64", "linux/arm/v7/extra", "linux amd64"], ids=case_id)
def test_bad_platforms_are_refused(text: str) -> None:
    with pytest.raises(ConfigurationError, match="is not os/architecture"):
        QueryOptions.build(platforms=[text])


def _entry(media_type: str, digest: str, platform: dict[str, str] | None, **annotations: str) -> dict[str, t.Any]:
    entry: dict[str, t.Any] = {"mediaType": media_type, "digest": digest, "size": 100}
    if platform is not None:
        entry["platform"] = platform
    if annotations:
        entry["annotations"] = annotations
    return entry


def _digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


INDEX = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            _entry(OCI_MANIFEST, "sha256:" + "1" * 64, {"os": "linux", "architecture": "amd64"}),
            _entry(OCI_MANIFEST, "sha256:" + "2" * 64, {"os": "linux", "architecture": "arm64", "variant": "v8"}),
            # BuildKit's attestations: not platforms.
            _entry(
                OCI_MANIFEST,
                "sha256:" + "3" * 64,
                {"os": "unknown", "architecture": "unknown"},
                **{"vnd.docker.reference.type": "attestation-manifest"},
            ),
        ],
    }
).encode()
LIST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": DOCKER_LIST,
        "manifests": [
            _entry(DOCKER_MANIFEST, "sha256:" + "4" * 64, {"os": "linux", "architecture": "amd64"}),
            _entry(DOCKER_MANIFEST, "sha256:" + "5" * 64, {"os": "linux", "architecture": "arm", "variant": "v7"}),
        ],
    }
).encode()
CONFIG = json.dumps({"os": "linux", "architecture": "amd64", "rootfs": {"type": "layers"}}).encode()
SINGLE = json.dumps(
    {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {"digest": _digest(CONFIG), "size": len(CONFIG)}}
).encode()
SINGLE_DOCKER = json.dumps(
    {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST, "config": {"digest": _digest(CONFIG), "size": len(CONFIG)}}
).encode()
MANIFESTS = {
    "index": (INDEX, OCI_INDEX),
    "list": (LIST, DOCKER_LIST),
    "single": (SINGLE, OCI_MANIFEST),
    "single-docker": (SINGLE_DOCKER, DOCKER_MANIFEST),
}


class Registry:
    """Open registry with the manifests above; sends Docker Hub's rate-limit headers on manifests."""

    def __init__(self, remaining: int = 76) -> None:
        self.remaining = remaining

    def __call__(self, request: Request) -> Reply:
        limits = [("RateLimit-Limit", "100;w=21600"), ("RateLimit-Remaining", f"{self.remaining};w=21600")]
        if "/manifests/" in request.path:
            tag = request.path.rsplit("/", 1)[1]
            if tag not in MANIFESTS:
                return json_reply({"errors": [{"code": "MANIFEST_UNKNOWN"}]}, 404, limits)
            body, media_type = MANIFESTS[tag]
            headers = [("Content-Type", media_type), ("Docker-Content-Digest", _digest(body)), *limits]
            return Reply(200, b"" if request.method == "HEAD" else body, headers)
        if request.path.endswith(f"/blobs/{_digest(CONFIG)}"):
            return Reply(200, CONFIG, [("Content-Type", "application/octet-stream")])
        return json_reply({"name": "org/app", "tags": list(MANIFESTS)})


def query(faults: FaultServer, tags: list[str], **options: t.Any) -> t.Any:
    return query_images(
        [f"{faults.host}/org/app:{tag}" for tag in tags],
        ClientOptions(ca_path=faults.ca, environ=NO_FILES),
        QueryOptions.build(**options),
    )


@pytest.mark.parametrize(
    ("tag", "platforms", "requests"),
    [
        ("index", ["linux/amd64", "linux/arm64"], ["GET manifests/index"]),
        ("list", ["linux/amd64", "linux/arm"], ["GET manifests/list"]),
        ("single", ["linux/amd64"], ["GET manifests/single", "GET blobs"]),
        ("single-docker", ["linux/amd64"], ["GET manifests/single-docker", "GET blobs"]),
    ],
    ids=case_id,
)
def test_platforms_of_each_kind_of_manifest(
    faults: FaultServer, tag: str, platforms: list[str], requests: list[str]
) -> None:
    faults.handler = Registry()
    (result,) = query(faults, [tag], platforms=["linux/amd64"], list_tags=False)
    assert result.platforms == platforms
    assert result.missing_platforms == []
    assert result.digest == _digest(MANIFESTS[tag][0])
    assert result.pinned == f"{faults.host}/org/app:{tag}@{result.digest}"
    sent = [f"{r.method} {r.path.split('/org/app/', 1)[1].split(':', 1)[0].rstrip('/')}" for r in faults.requests]
    assert [line if "blobs" not in line else "GET blobs" for line in sent] == requests


def test_a_missing_platform_fails_like_a_missing_tag_naming_what_there_is(faults: FaultServer) -> None:
    faults.handler = Registry()
    with pytest.raises(MissingTagsError) as caught:
        query(faults, ["single"], platforms=["linux/amd64", "linux/arm64/v8"], fail_on_missing=True)
    assert str(caught.value) == f"single in {faults.host}/org/app lacks linux/arm64; it has linux/amd64"
    (result,) = caught.value.results
    assert (result.exists, result.platforms, result.missing_platforms) == (True, ["linux/amd64"], ["linux/arm64"])


def test_without_platforms_existence_is_one_head(faults: FaultServer) -> None:
    faults.handler = Registry()
    (result,) = query(faults, ["index"], list_tags=False)
    assert [r.method for r in faults.requests] == ["HEAD"]
    assert (result.platforms, result.missing_platforms) == (None, None)
    assert result.pinned == f"{faults.host}/org/app:index@{_digest(INDEX)}"


def test_pinned_is_null_for_what_does_not_exist(faults: FaultServer) -> None:
    faults.handler = Registry()
    (result,) = query(faults, ["nope"], list_tags=False)
    assert (result.exists, result.pinned) == (False, None)


def test_rate_limits_come_from_the_manifest_replies_without_an_extra_request(faults: FaultServer) -> None:
    faults.handler = Registry(remaining=3)
    limits: dict[str, t.Any] = {}
    query_images(
        [f"{faults.host}/org/app:index"],
        ClientOptions(ca_path=faults.ca, environ=NO_FILES),
        QueryOptions.build(list_tags=False),
        rate_limits=limits,
    )
    assert limits == {faults.host: {"limit": 100, "remaining": 3, "window": 21600}}
    assert len(faults.requests) == 1


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("100;w=21600", (100, 21600)),
        ("76", (76, None)),
        (" 76 ; w=60 ", (76, 60)),
        ("0;w=21600", (0, 21600)),
        ("5;burst=10;w=60", (5, 60)),  # the window wherever it stands among the parameters
        ("5;w=abc", (5, None)),
        ("5;x=60", (5, None)),
        ("5;w", (5, None)),
        ("5;w=²", (5, None)),  # a latin-1 byte that isdigit() takes and int() does not
        ("²;w=60", None),
        ("many", None),
        ("", None),
        (None, None),
    ],
    ids=case_id,
)
def test_rate_limit_header_values(value: str | None, parsed: tuple[int, int | None] | None) -> None:
    assert _rate(value) == parsed


@pytest.mark.parametrize(
    ("headers", "noted"),
    [
        ([("RateLimit-Remaining", "7")], {"limit": None, "remaining": 7, "window": None}),
        ([("RateLimit-Limit", "100;w=60")], {"limit": 100, "remaining": None, "window": 60}),
        # The window of the remaining count wins; the limit's stands in when the remaining count has none.
        (
            [("RateLimit-Limit", "100;w=60"), ("RateLimit-Remaining", "7;w=30")],
            {"limit": 100, "remaining": 7, "window": 30},
        ),
        ([("RateLimit-Limit", "100;w=60"), ("RateLimit-Remaining", "7")], {"limit": 100, "remaining": 7, "window": 60}),
        ([("RateLimit-Limit", "lots")], None),
    ],
    ids=case_id,
)
def test_rate_limits_as_the_registry_sent_them(
    faults: FaultServer, headers: list[tuple[str, str]], noted: dict[str, t.Any] | None
) -> None:
    faults.handler = lambda request: Reply(200, b"", [("Docker-Content-Digest", "sha256:" + "c" * 64), *headers])
    limits: dict[str, t.Any] = {}
    query_images(
        [f"{faults.host}/org/app:1"],
        ClientOptions(ca_path=faults.ca, environ=NO_FILES),
        QueryOptions.build(list_tags=False),
        rate_limits=limits,
    )
    assert limits == ({faults.host: noted} if noted else {})


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("linux/arm64", ("linux", "arm64", "v8")),
        ("linux/arm", ("linux", "arm", "v7")),
        ("linux/armhf", ("linux", "arm", "v7")),
        ("linux/armel/v6", ("linux", "arm", "v6")),
        ("linux/x86-64", ("linux", "amd64", "")),
        ("linux/i386", ("linux", "386", "")),
        ("Linux/ARM64/V8", ("linux", "arm64", "v8")),
        (" linux/s390x ", ("linux", "s390x", "")),
        ("linux/ppc64le", ("linux", "ppc64le", "")),
    ],
    ids=case_id,
)
def test_platform_parts(text: str, parts: tuple[str, str, str]) -> None:
    platform = Platform.parse(text)
    assert (platform.os, platform.architecture, platform.variant) == parts


def test_a_refused_platform_in_full() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Platform.parse("linux")
    assert str(caught.value) == (
        "platform 'linux' is not os/architecture[/variant]; write platforms like linux/amd64, linux/arm64 or "
        "linux/arm/v7"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"manifests": []}, []),
        ({"manifests": "no"}, None),
        ({"schemaVersion": 2}, None),
        (["manifests"], None),
        (
            {
                "manifests": [
                    "junk",
                    {"digest": "sha256:1"},
                    {"platform": "linux/amd64"},
                    {"platform": {"os": "linux"}},
                    {"platform": {"architecture": "amd64"}},
                    {"platform": {"os": "unknown", "architecture": "unknown"}},
                    {"platform": {"os": "linux", "architecture": "unknown"}},
                    {"platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
                    {"platform": {"os": "linux", "architecture": "arm64"}},
                    {
                        "platform": {"os": "linux", "architecture": "amd64"},
                        "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
                    },
                    {"platform": {"os": "linux", "architecture": "s390x"}, "annotations": "not a map"},
                    {"platform": {"os": "linux", "architecture": "arm", "variant": "v6"}},
                ]
            },
            ["linux/unknown", "linux/arm64", "linux/s390x", "linux/arm/v6"],
        ),
    ],
    ids=["empty", "not-a-list", "single", "not-a-map", "mixed"],
)
def test_platforms_an_index_offers(body: t.Any, expected: list[str] | None) -> None:
    found = from_index(body)
    assert (None if found is None else [str(p) for p in found]) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"os": "linux", "architecture": "arm", "variant": "v6"}, "linux/arm/v6"),
        ({"os": "linux", "architecture": "arm64"}, "linux/arm64"),
        ({"os": "linux"}, None),
        ({"architecture": "amd64"}, None),
        ({"os": "", "architecture": "amd64"}, None),
        ("linux/amd64", None),
    ],
    ids=case_id,
)
def test_the_platform_a_config_names(body: t.Any, expected: str | None) -> None:
    found = from_config(body)
    assert (None if found is None else str(found)) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"config": {"digest": "sha256:" + "a" * 64}}, "sha256:" + "a" * 64),
        ({"config": {"digest": "md5:abc"}}, None),
        ({"config": {"digest": 42}}, None),
        ({"config": "sha256:abc"}, None),
        ({}, None),
        (None, None),
    ],
    ids=case_id,
)
def test_the_config_a_manifest_points_at(body: t.Any, expected: str | None) -> None:
    assert config_digest(body) == expected


def _serving(manifest: bytes, *, digest: str | None = None, config: bytes = CONFIG) -> t.Callable[[Request], Reply]:
    def handle(request: Request) -> Reply:
        if "/manifests/" in request.path:
            headers = [("Content-Type", OCI_MANIFEST)] + ([("Docker-Content-Digest", digest)] if digest else [])
            return Reply(200, b"" if request.method == "HEAD" else manifest, headers)
        return Reply(200, config)

    return handle


def test_the_digest_the_registry_states_wins_over_the_hash_of_the_bytes(faults: FaultServer) -> None:
    stated = "sha256:" + "e" * 64
    faults.handler = _serving(SINGLE, digest=stated)
    (result,) = query(faults, ["single"], platforms=["linux/amd64"], list_tags=False)
    assert result.digest == stated


def test_every_manifest_request_asks_for_the_four_media_types(faults: FaultServer) -> None:
    faults.handler = _serving(SINGLE)
    (result,) = query(faults, ["single"], list_tags=False)
    # No digest on HEAD: the GET that follows asks for the same types, and the digest is the hash of the bytes.
    assert result.digest == _digest(SINGLE)
    assert [(r.method, r.header("Accept")) for r in faults.requests] == [
        ("HEAD", ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST])),
        ("GET", ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST])),
    ]


def test_a_config_without_a_platform_offers_none(faults: FaultServer) -> None:
    faults.handler = _serving(SINGLE, config=b'{"rootfs": {}}')
    (result,) = query(faults, ["single"], platforms=["linux/amd64"], list_tags=False)
    assert (result.platforms, result.missing_platforms) == ([], ["linux/amd64"])


def test_a_config_nested_beyond_the_recursion_limit_is_a_config_that_cannot_be_read(faults: FaultServer) -> None:
    # Found by fuzzing (tests/fuzz): reading the creation time and labels, json.loads raised RecursionError.
    nested = b"[" * 100_000 + b"]" * 100_000
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {"digest": _digest(nested)}})
    serving = _serving(manifest.encode(), config=nested)

    def handle(request: Request) -> Reply:
        if "/manifests/sha256-" in request.path or "/referrers/" in request.path:
            return json_reply({"errors": [{"code": "NOT_FOUND"}]}, 404)  # no referrers, no cosign tags
        return serving(request)

    faults.handler = handle
    (result,) = query(faults, ["single"], policy=Policy(inspect=True), list_tags=False)
    found = result.as_dict()
    assert (found["exists"], found["created"], found["labels"]) == (True, None, {})


@pytest.mark.parametrize(
    ("manifest", "config", "message"),
    [
        (b"not json", CONFIG, "GET {url}/v2/org/app/manifests/single: 200: expected JSON, got 'not json'"),
        (SINGLE, b"not json", "GET {url}/v2/org/app/blobs/{config}: 200: expected JSON, got 'not json'"),
    ],
    ids=["manifest", "config"],
)
def test_unreadable_manifests_and_configs_name_the_request(
    faults: FaultServer, manifest: bytes, config: bytes, message: str
) -> None:
    faults.handler = _serving(manifest, config=config)
    with pytest.raises(ProtocolError) as caught:
        query(faults, ["single"], platforms=["linux/amd64"], list_tags=False)
    expected = message.format(url=faults.url, config=_digest(CONFIG))
    assert str(caught.value) == (
        f"{faults.host}/org/app:single: {expected}; is this URL a container registry (or its token service)?"
    )


@pytest.mark.parametrize(("platforms", "method"), [([], "HEAD"), (["linux/amd64"], "GET")], ids=["head", "get"])
def test_a_failing_manifest_request_names_its_method(faults: FaultServer, platforms: list[str], method: str) -> None:
    faults.handler = lambda request: json_reply({"errors": [{"code": "UNKNOWN", "message": "oops"}]}, 500)
    with pytest.raises(RegistryError) as caught:
        query_images(
            [f"{faults.host}/org/app:single"],
            ClientOptions(ca_path=faults.ca, environ=NO_FILES, retries=0),
            QueryOptions.build(platforms=platforms, list_tags=False),
        )
    assert str(caught.value) == (
        f"{faults.host}/org/app:single: {method} {faults.url}/v2/org/app/manifests/single: 500 "
        + ("Internal Server Error" if method == "HEAD" else "UNKNOWN (oops)")
        + "; the registry failed; try again later"
    )
    assert caught.value.context()["status"] == 500


def test_an_image_without_any_platform_says_so(faults: FaultServer) -> None:
    faults.handler = _serving(SINGLE, config=b'{"rootfs": {}}')
    with pytest.raises(MissingTagsError) as caught:
        query(faults, ["single"], platforms=["linux/amd64"], list_tags=False, fail_on_missing=True)
    assert str(caught.value) == f"single in {faults.host}/org/app lacks linux/amd64; it has no platform"


def test_a_missing_tag_and_a_missing_platform_together(faults: FaultServer) -> None:
    faults.handler = Registry()
    with pytest.raises(MissingTagsError) as caught:
        query(faults, ["index", "nope", "single"], platforms=["linux/arm64"], fail_on_missing=True)
    assert str(caught.value) == (
        f"2 required images are missing: nope not found in {faults.host}/org/app; single in "
        f"{faults.host}/org/app lacks linux/arm64 (it has linux/amd64)"
    )


def test_several_missing_platforms_and_the_result_that_names_them(faults: FaultServer) -> None:
    faults.handler = Registry()
    with pytest.raises(MissingTagsError) as caught:
        query(faults, ["index"], platforms=["linux/arm/v7", "linux/s390x", "linux/amd64"], fail_on_missing=True)
    assert str(caught.value) == (
        f"index in {faults.host}/org/app lacks linux/arm, linux/s390x; it has linux/amd64, linux/arm64"
    )
    (result,) = caught.value.results
    shown = result.as_dict()
    assert (shown["platforms"], shown["missing_platforms"], shown["exists"]) == (
        ["linux/amd64", "linux/arm64"],
        ["linux/arm", "linux/s390x"],
        True,
    )
    assert "nearest" not in shown
