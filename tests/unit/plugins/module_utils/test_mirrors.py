"""Mirrors and pull budgets: the ``mirrors`` option as written, and the client against real loopback servers, one
playing the registry and others its mirrors (a dead one is a port nobody listens on).

The kit's real pull-through mirror (Distribution in proxy mode) is in tests/integration/test_mirrors.py; here every
fault a mirror can have is scripted, and every request counted.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import time
import typing as t
from pathlib import Path

import pytest
import requests

from ansible_collections.tagscope.registry.plugins.module_utils._registry.client import RegistryClient
from ansible_collections.tagscope.registry.plugins.module_utils._registry.credentials import (
    CredentialStore,
    Identity,
    check_explicit_scope,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import (
    BudgetError,
    ConfigurationError,
    RegistryError,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.mirrors import Mirror, parse_mirrors
from ansible_collections.tagscope.registry.plugins.module_utils._registry.options import ClientOptions, QueryOptions
from ansible_collections.tagscope.registry.plugins.module_utils._registry.query import (
    ImageResult,
    MissingTagsError,
    query_images,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.reference import ImageReference
from ansible_collections.tagscope.registry.plugins.module_utils._registry.transport import make_session
from tests.kit.bearer import BearerRegistry
from tests.kit.faults import FaultServer, Reply, Request, json_reply
from tests.unit.ids import case_id

NO_FILES = {"HOME": "/nonexistent"}
ALICE = Identity(username="alice", password="alice-secret", source="options")


def digest(tag: str) -> str:
    return "sha256:" + (tag.encode().hex() * 64)[:64]


# ---------------------------------------------------------------------------------------------------------------
# The option as written.


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        (None, {}),
        ({}, {}),
        ({"docker.io": ["mirror.example.com:5000"]}, {"docker.io": (Mirror("mirror.example.com:5000"),)}),
        # Docker Hub's aliases are Docker Hub, as in image references; hosts are lowercased, trailing / dropped.
        ({"index.docker.io": "Mirror.Example.com/"}, {"docker.io": (Mirror("mirror.example.com"),)}),
        ({"registry-1.docker.io": ["a:1", "b:2", "a:1"]}, {"docker.io": (Mirror("a:1"), Mirror("b:2"))}),
        ({"ghcr.io": ["harbor.example.com/ghcr-proxy"]}, {"ghcr.io": (Mirror("harbor.example.com", "ghcr-proxy"),)}),
        (
            {"127.0.0.1:5000": ["[::1]:5001", "localhost"]},
            {"127.0.0.1:5000": (Mirror("[::1]:5001"), Mirror("localhost"))},
        ),
        ({"quay.io": []}, {"quay.io": ()}),
        # The registry itself under a path is another repository tree: a mirror, not a loop.
        (
            {"reg.example:5000": ["reg.example:5000/cache"]},
            {"reg.example:5000": (Mirror("reg.example:5000", "cache"),)},
        ),
    ],
    ids=case_id,
)
def test_mirrors_as_written(value: t.Any, parsed: dict[str, tuple[Mirror, ...]]) -> None:
    assert parse_mirrors(value) == parsed


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["mirror:5000"], "mirrors must be a dictionary of registry to a list of mirror hosts, got list; write it "),
        ({"https://docker.io": ["m:1"]}, "mirrors has the key 'https://docker.io', which is not a registry host"),
        ({"docker.io/library": ["m:1"]}, "mirrors has the key 'docker.io/library', which is not a registry host"),
        ({"docker.io": 5000}, "mirrors of docker.io must be a list of mirror hosts, got int"),
        (
            {"docker.io": ["https://m:5000"]},
            "mirrors: 'https://m:5000', a mirror of docker.io, has a URL scheme; write host",
        ),
        ({"docker.io": ["m:99999"]}, "mirrors: 'm:99999', a mirror of docker.io, is not host[:port][/path]"),
        ({"docker.io": [""]}, "mirrors: '', a mirror of docker.io, is not host[:port][/path]"),
        ({"docker.io": [None]}, "mirrors: 'None', a mirror of docker.io, is not host[:port][/path]"),
        (
            {"docker.io": ["m:1/Proxy"]},
            "mirrors: 'm:1/Proxy', a mirror of docker.io, has the path 'Proxy', which is not",
        ),
        (
            {"docker.io": ["index.docker.io"]},
            "mirrors: 'index.docker.io', a mirror of docker.io, is the registry itself",
        ),
        ({"docker.io": ["m:1"], "index.docker.io": ["n:1"]}, "mirrors names registry docker.io twice"),
    ],
    ids=case_id,
)
def test_bad_mirrors_are_refused_naming_the_option(value: t.Any, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ClientOptions.build(mirrors=value)
    assert str(caught.value).startswith(message)


def test_min_remaining_below_zero_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"^min_remaining must be 0 or more, got -1; leave it unset"):
        ClientOptions.build(min_remaining=-1)


def test_a_mirror_reference_keeps_tag_and_digest_under_the_mirror_path() -> None:
    ref = ImageReference.parse(f"alpine:3.19@{digest('a')}")
    assert Mirror("harbor.example.com", "hub").reference(ref) == ImageReference(
        "harbor.example.com", "hub/library/alpine", "3.19", digest("a")
    )


def test_auth_registry_may_name_a_mirror_of_the_images_registry() -> None:
    refs = [ImageReference.parse("ghcr.io/org/app")]
    check_explicit_scope(refs, ALICE, "mirror.example.com", mirror_hosts={"ghcr.io": ["mirror.example.com"]})
    with pytest.raises(ConfigurationError) as caught:
        check_explicit_scope(refs, ALICE, "quay.io", mirror_hosts={"ghcr.io": ["mirror.example.com"]})
    assert str(caught.value) == (
        "auth_registry quay.io is not the registry of any image (ghcr.io) nor one of their mirrors, so the username "
        "and password would go unused; set auth_registry to the registry of the images the credentials are for"
    )


def test_explicit_credentials_of_the_one_registry_never_go_to_a_mirror() -> None:
    store = CredentialStore(explicit=ALICE, environ=NO_FILES, mirror_hosts={"mirror.example.com"})
    assert store.identity_for(ImageReference.parse("mirror.example.com/org/app")).anonymous
    assert store.identity_for(ImageReference.parse("ghcr.io/org/app")) is ALICE
    store.pin({"ghcr.io"})
    assert store.identity_for(ImageReference.parse("quay.io/org/app")).anonymous


# ---------------------------------------------------------------------------------------------------------------
# Against loopback servers.


class Repository:
    """An open registry (or mirror) of ``org/app``: tag -> digest; sends rate-limit headers when told to."""

    def __init__(self, tags: dict[str, str], *, prefix: str = "", limits: list[tuple[str, str]] | None = None):
        self.tags = tags
        self.prefix = prefix
        self.limits = limits or []

    def __call__(self, request: Request) -> Reply:
        match = re.fullmatch(rf"/v2/{re.escape(self.prefix)}org/app/(tags/list|manifests/(.+))", request.path)
        if match is None:
            return json_reply({"errors": [{"code": "NAME_UNKNOWN"}]}, 404, self.limits)
        reference = match.group(2)
        if reference is None:
            return json_reply({"name": "org/app", "tags": sorted(self.tags)})
        found = self.tags.get(reference) or (reference if reference in self.tags.values() else None)
        if found is None:
            return json_reply({"errors": [{"code": "MANIFEST_UNKNOWN"}]}, 404, self.limits)
        return Reply(200, b"", [("Docker-Content-Digest", found), *self.limits])


@pytest.fixture
def mirror(fault_pki: Path) -> t.Iterator[FaultServer]:
    with FaultServer(fault_pki) as server:
        yield server


@pytest.fixture
def second_mirror(fault_pki: Path) -> t.Iterator[FaultServer]:
    with FaultServer(fault_pki) as server:
        yield server


def dead_port() -> str:
    """A loopback port nobody listens on: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


def counting_session() -> tuple[requests.Session, list[str]]:
    """A session that records every attempt to send, also those that never reach a server (a refused port)."""
    session = make_session()
    sent: list[str] = []
    adapter = session.get_adapter("https://")
    send = adapter.send

    def counted(request: requests.PreparedRequest, **kwargs: t.Any) -> requests.Response:
        sent.append(f"{request.method} {request.url}")
        return send(request, **kwargs)

    adapter.send = counted  # type: ignore[method-assign]
    return session, sent


def ask(
    registry: FaultServer,
    tags: list[str],
    mirrors: list[str],
    *,
    session: requests.Session | None = None,
    warnings: list[str] | None = None,
    **options: t.Any,
) -> list[ImageResult]:
    client = {k: options.pop(k) for k in ("retries", "retry_max_wait", "concurrency", "min_remaining") if k in options}
    return query_images(
        [f"{registry.host}/org/app{tag}" for tag in tags],
        ClientOptions.build(ca_path=registry.ca, environ=NO_FILES, mirrors={registry.host: mirrors}, **client),
        QueryOptions.build(**options),
        session=session,
        warnings=warnings,
    )


TAGS = {f"1.{n}": digest(f"1.{n}") for n in range(8)}


def test_a_healthy_mirror_costs_the_registry_nothing(faults: FaultServer, mirror: FaultServer) -> None:
    faults.handler = Repository(TAGS)
    mirror.handler = Repository(TAGS)
    results = ask(faults, [f":{tag}" for tag in TAGS], [mirror.host])
    assert faults.requests == []
    assert [(r.exists, r.digest, r.served_by, r.stale_mirror) for r in results] == [
        (True, TAGS[tag], mirror.host, False) for tag in TAGS
    ]
    assert results[0].as_dict()["served_by"] == mirror.host
    # One listing for the repository, one HEAD per tag: all from the mirror.
    assert sorted(f"{r.method} {r.path}" for r in mirror.requests) == sorted(
        ["GET /v2/org/app/tags/list"] + [f"HEAD /v2/org/app/manifests/{tag}" for tag in TAGS]
    )


def test_a_dead_mirror_costs_one_attempt_per_run_and_warns_once(faults: FaultServer) -> None:
    faults.handler = Repository(TAGS)
    dead = dead_port()
    session, sent = counting_session()
    warnings: list[str] = []
    results = ask(faults, [f":{tag}" for tag in TAGS], [dead], session=session, warnings=warnings, concurrency=8)
    assert [(r.exists, r.served_by) for r in results] == [(True, faults.host)] * len(TAGS)
    # Whichever image asked first found the mirror dead for all of them.
    (attempt,) = [line for line in sent if dead in line]
    assert re.fullmatch(rf"HEAD https://{dead}/v2/org/app/manifests/1\.\d", attempt)
    assert len(faults.requests) == len(TAGS) + 1
    (warning,) = warnings
    assert warning.startswith(f"mirror {dead} failed, so the next mirror or the registry was asked: ")
    assert "cannot connect" in warning


def test_mirrors_are_asked_in_order_past_a_dead_one(
    faults: FaultServer, mirror: FaultServer, second_mirror: FaultServer
) -> None:
    faults.handler = Repository(TAGS)
    second_mirror.handler = Repository(TAGS)
    down = mirror.host
    mirror.stop()  # the first one went down
    results = ask(faults, [":1.0", ":1.1"], [down, second_mirror.host], list_tags=False)
    assert [r.served_by for r in results] == [second_mirror.host] * 2
    assert faults.requests == []


def test_a_mirror_that_fails_after_its_retries_is_left_for_the_run(faults: FaultServer, mirror: FaultServer) -> None:
    faults.handler = Repository(TAGS)
    mirror.handler = lambda request: json_reply({"errors": [{"code": "UNAVAILABLE"}]}, 503)
    results = ask(faults, [":1.0", ":1.1", ":1.2"], [mirror.host], list_tags=False, retries=1)
    assert [r.served_by for r in results] == [faults.host] * 3
    # The first image's request and its one retry; no other image asks it.
    assert len(mirror.requests) == 2


def test_a_mirror_404_is_not_trusted(faults: FaultServer, mirror: FaultServer) -> None:
    faults.handler = Repository(TAGS)
    mirror.handler = Repository({"1.0": TAGS["1.0"]})
    results = ask(faults, [":1.0", ":1.5", ":9.9"], [mirror.host], list_tags=False)
    assert [(r.exists, r.digest, r.served_by) for r in results] == [
        (True, TAGS["1.0"], mirror.host),
        (True, TAGS["1.5"], faults.host),
        (False, None, faults.host),  # missing: the registry said so
    ]


def test_a_repository_a_mirror_does_not_know_is_listed_by_the_registry(
    faults: FaultServer, mirror: FaultServer
) -> None:
    faults.handler = Repository(TAGS)
    mirror.handler = lambda request: json_reply({"errors": [{"code": "NAME_UNKNOWN"}]}, 404)
    (result,) = ask(faults, [""], [mirror.host])
    assert (result.tags, result.served_by) == (sorted(TAGS), faults.host)


def test_a_mirror_that_serves_under_a_path(faults: FaultServer, mirror: FaultServer) -> None:
    faults.handler = Repository(TAGS)
    mirror.handler = Repository(TAGS, prefix="hub/")
    (result,) = ask(faults, [":1.3"], [f"{mirror.host}/hub"])
    assert (result.exists, result.served_by, result.tags) == (True, f"{mirror.host}/hub", sorted(TAGS))
    assert {r.path for r in mirror.requests} == {"/v2/hub/org/app/tags/list", "/v2/hub/org/app/manifests/1.3"}


# The mirror cached 1.0 before it was pushed again; it still holds the image the tag named then.
STALE = {**TAGS, "1.0": digest("old"), "then": TAGS["1.0"]}


def test_a_stale_mirror_is_confirmed_with_the_registry(faults: FaultServer, mirror: FaultServer) -> None:
    faults.handler = Repository(TAGS)
    mirror.handler = Repository(STALE)
    (result,) = ask(faults, [f":1.0@{TAGS['1.0']}"], [mirror.host], list_tags=False, fail_on_missing=True)
    assert (result.exists, result.moved, result.digest, result.served_by, result.stale_mirror) == (
        True,
        False,
        TAGS["1.0"],
        faults.host,
        True,
    )
    assert result.pinned == f"{faults.host}/org/app:1.0@{TAGS['1.0']}"
    assert [f"{r.method} {r.path}" for r in faults.requests] == ["HEAD /v2/org/app/manifests/1.0"]


def test_a_tag_that_moved_at_the_registry_is_never_paired_with_the_mirrors_digest(
    faults: FaultServer, mirror: FaultServer
) -> None:
    faults.handler = Repository({**TAGS, "1.0": digest("new")})
    mirror.handler = Repository(STALE)
    (result,) = ask(faults, [f":1.0@{TAGS['1.0']}"], [mirror.host], list_tags=False, allow_moved=True)
    # The registry's digest, never the mirror's: the tag is pinned to what the registry names.
    assert (result.moved, result.digest, result.served_by, result.stale_mirror) == (
        True,
        digest("new"),
        faults.host,
        True,
    )
    assert result.pinned == f"{faults.host}/org/app:1.0@{digest('new')}"


def test_a_pinned_tag_the_mirror_agrees_with_costs_the_registry_nothing(
    faults: FaultServer, mirror: FaultServer
) -> None:
    faults.handler = Repository(TAGS)
    mirror.handler = Repository(TAGS)
    (result,) = ask(faults, [f":1.0@{TAGS['1.0']}"], [mirror.host], list_tags=False)
    assert (result.exists, result.stale_mirror, result.served_by) == (True, False, mirror.host)
    assert faults.requests == []


def test_without_the_registry_the_mirrors_answer_stands_and_fails_the_gate(
    faults: FaultServer, mirror: FaultServer
) -> None:
    faults.handler = lambda request: Reply(503)
    mirror.handler = Repository(STALE)
    with pytest.raises(MissingTagsError) as caught:
        ask(faults, [f":1.0@{TAGS['1.0']}"], [mirror.host], list_tags=False, fail_on_missing=True, retries=0)
    (result,) = caught.value.results
    # Only the mirror could tell: the tag moved as far as anyone knows, which fails the gate.
    assert (result.exists, result.moved, result.digest, result.served_by) == (False, True, digest("old"), mirror.host)


def test_a_mirror_missing_a_tag_and_an_unreachable_registry_is_an_error_not_a_missing_tag(
    faults: FaultServer, mirror: FaultServer
) -> None:
    mirror.handler = Repository({})
    dead = dead_port()
    with pytest.raises(RegistryError) as caught:
        query_images(
            [f"{dead}/org/app:1.0"],
            ClientOptions.build(ca_path=mirror.ca, environ=NO_FILES, mirrors={dead: [mirror.host]}),
            QueryOptions.build(list_tags=False),
        )
    assert str(caught.value).startswith(f"{dead}/org/app:1.0: HEAD https://{dead}/v2/org/app/manifests/1.0: cannot")


# ---------------------------------------------------------------------------------------------------------------
# Who gets which credentials.


def test_explicit_credentials_never_reach_a_mirror(faults: FaultServer, mirror: FaultServer) -> None:
    basic = "Basic " + base64.b64encode(b"alice:alice-secret").decode()
    faults.handler = registry = BearerRegistry(accept={basic})
    mirror.handler = mirrored = BearerRegistry(manifests={})  # a 404 for every tag: the registry is asked too
    query_images(
        [f"{faults.host}/org/app:1.0"],
        ClientOptions(
            ca_path=faults.ca, environ=NO_FILES, credentials=ALICE, mirrors=parse_mirrors({faults.host: [mirror.host]})
        ),
        QueryOptions.build(list_tags=False),
    )
    assert [request.user for request in mirrored.token_requests] == [None]
    assert not any(
        "alice" in json.dumps(request.headers) or basic in request.headers.values() for request in mirror.requests
    )
    # The registry got them (at its token service).
    assert [request.user for request in registry.token_requests] == ["alice"]


def test_auth_registry_naming_the_mirror_sends_them_there_only(faults: FaultServer, mirror: FaultServer) -> None:
    faults.handler = registry = BearerRegistry()
    mirror.handler = mirrored = BearerRegistry()
    (result,) = query_images(
        [f"{faults.host}/org/app:1.0"],
        ClientOptions.build(
            ca_path=faults.ca,
            environ=NO_FILES,
            username="alice",
            password="alice-secret",
            auth_registry=mirror.host,
            mirrors={faults.host: [mirror.host]},
        ),
        QueryOptions.build(list_tags=False),
    )
    assert result.served_by == mirror.host
    assert [request.user for request in mirrored.token_requests] == ["alice"]
    assert registry.token_requests == []


def test_a_mirror_takes_the_credentials_stored_for_its_host(
    faults: FaultServer, mirror: FaultServer, tmp_path: Path
) -> None:
    faults.handler = BearerRegistry()
    mirror.handler = mirrored = BearerRegistry()
    auth = tmp_path / "auth.json"
    encoded = base64.b64encode(b"mirror-user:mirror-pw").decode()
    auth.write_text(json.dumps({"auths": {mirror.host: {"auth": encoded}}}))
    query_images(
        [f"{faults.host}/org/app:1.0"],
        ClientOptions.build(
            ca_path=faults.ca, environ=NO_FILES, auth_file=str(auth), mirrors={faults.host: [mirror.host]}
        ),
        QueryOptions.build(list_tags=False),
    )
    assert [request.user for request in mirrored.token_requests] == ["mirror-user"]


# ---------------------------------------------------------------------------------------------------------------
# min_remaining.


def limits(remaining: int, *extra: tuple[str, str]) -> list[tuple[str, str]]:
    """Docker Hub's headers."""
    return [("RateLimit-Limit", "100;w=21600"), ("RateLimit-Remaining", f"{remaining};w=21600"), *extra]


def test_a_low_budget_stops_the_run_after_the_reply_that_told_it(faults: FaultServer) -> None:
    faults.handler = Repository(TAGS, limits=limits(3))
    with pytest.raises(BudgetError) as caught:
        query_images(
            [f"{faults.host}/org/app:{tag}" for tag in TAGS],
            ClientOptions.build(ca_path=faults.ca, environ=NO_FILES, min_remaining=5, concurrency=8),
            QueryOptions.build(list_tags=False),
        )
    # One error, not one per image, naming the registry and no image; one request sent.
    assert str(caught.value) == (
        f"{faults.host} says 3 of 100 pulls remain in its 21600 s window, fewer than min_remaining (5); stopped "
        "before sending it more requests; wait for the window to reset, pull through a mirror (mirrors), log in for "
        "a higher limit, or lower min_remaining"
    )
    assert len(faults.requests) == 1


def test_the_budget_error_says_when_the_window_resets(faults: FaultServer) -> None:
    faults.handler = Repository(TAGS, limits=limits(0, ("RateLimit-Reset", "1200")))
    with pytest.raises(BudgetError) as caught:
        ask(faults, [":1.0", ":1.1"], [], min_remaining=1, list_tags=False)
    assert "pulls remain in its 21600 s window, fewer than min_remaining (1); stopped before sending it more " in str(
        caught.value
    )
    assert re.search(r"; the window resets in 1[12]\d\d s; wait", str(caught.value))
    assert caught.value.retry_after is not None and 1100 <= caught.value.retry_after <= 1200
    assert caught.value.context() == {"code": "BUDGET"}


def test_enough_budget_lets_the_run_through(faults: FaultServer) -> None:
    faults.handler = Repository(TAGS, limits=limits(50))
    results = ask(faults, [f":{tag}" for tag in TAGS], [], min_remaining=50)
    assert all(r.exists for r in results)


def test_a_mirrors_own_budget_is_not_counted(faults: FaultServer, mirror: FaultServer) -> None:
    faults.handler = Repository(TAGS)
    mirror.handler = Repository(TAGS, limits=limits(1))
    results = ask(faults, [":1.0", ":1.1"], [mirror.host], min_remaining=50, list_tags=False)
    assert [r.served_by for r in results] == [mirror.host] * 2


def test_a_client_that_lives_on_asks_again_once_the_window_has_reset(faults: FaultServer) -> None:
    """The event source keeps its client: a budget that ran out holds its requests back until the registry's window
    resets, and no longer."""
    faults.handler = registry = Repository(TAGS, limits=limits(0, ("RateLimit-Reset", "1")))
    client = RegistryClient(make_session(), ClientOptions.build(ca_path=faults.ca, environ=NO_FILES, min_remaining=1))
    ref = ImageReference.parse(f"{faults.host}/org/app")
    for tag in ("1.0", "1.1"):
        with pytest.raises(BudgetError):
            client.manifest(ref, tag)
    assert len(faults.requests) == 1
    registry.limits = limits(100)
    time.sleep(1.1)
    found = client.manifest(ref, "1.1")
    assert found is not None and found.digest == TAGS["1.1"]
