"""Images asked concurrently: a bound per registry, results in order, one token for all, a 429 that holds back
every request to that registry."""

from __future__ import annotations

import contextlib
import threading
import time
import typing as t
from pathlib import Path

import pytest

from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import MultipleFailuresError
from ansible_collections.tagscope.registry.plugins.module_utils._registry.options import ClientOptions
from ansible_collections.tagscope.registry.plugins.module_utils._registry.query import query_images
from tests.kit.bearer import BearerRegistry, Handler
from tests.kit.faults import FaultServer, Reply, Request, json_reply

NO_FILES = {"HOME": "/nonexistent"}


def gated(answer: Handler) -> BearerRegistry:
    """The Bearer challenge and token service every registry here sits behind; ``answer`` gets the requests that
    hold a token."""
    return BearerRegistry('Bearer realm="/token",service="svc"', denied=b"", answer=answer)


class Counting:
    """A registry (behind ``gated``) that answers slowly and counts how many requests overlap."""

    def __init__(self, delay: float = 0.15) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0

    def __call__(self, request: Request) -> Reply:
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        time.sleep(self.delay)
        with self.lock:
            self.in_flight -= 1
        name = request.path.split("/v2/", 1)[1].rsplit("/tags/list", 1)[0]
        if name.startswith("missing/"):
            return json_reply({"errors": [{"code": "NAME_UNKNOWN", "message": "no such repository"}]}, 404)
        return json_reply({"name": name, "tags": [name.rsplit("/", 1)[1]]})


def test_bounded_in_flight_results_in_order_one_token(faults: FaultServer) -> None:
    counting = Counting()
    faults.handler = gated(counting)
    names = [f"org/r{number:02d}" for number in range(12)]
    results = query_images(
        [f"{faults.host}/{name}" for name in names], ClientOptions(ca_path=faults.ca, environ=NO_FILES, concurrency=4)
    )
    assert [result.tags for result in results] == [[name.rsplit("/", 1)[1]] for name in names]
    assert 2 <= counting.most <= 4
    tokens = [r for r in faults.requests if r.path == "/token"]
    assert len(tokens) == 1
    assert sorted(tokens[0].query["scope"]) == sorted(f"repository:{name}:pull" for name in names)


def test_concurrency_one_asks_one_after_the_other(faults: FaultServer) -> None:
    counting = Counting(delay=0.05)
    faults.handler = gated(counting)
    query_images(
        [f"{faults.host}/org/r{n}" for n in range(4)], ClientOptions(ca_path=faults.ca, environ=NO_FILES, concurrency=1)
    )
    assert counting.most == 1


def test_several_failures_name_each_image(faults: FaultServer) -> None:
    faults.handler = gated(Counting(delay=0.01))
    texts = [f"{faults.host}/org/ok", f"{faults.host}/missing/one", f"{faults.host}/missing/two"]
    try:
        query_images(texts, ClientOptions(ca_path=faults.ca, environ=NO_FILES))
    except MultipleFailuresError as exc:
        assert str(exc).startswith("2 images failed: ")
        assert f"{faults.host}/missing/one: GET https://{faults.host}/v2/missing/one/tags/list: 404" in str(exc)
        assert f"{faults.host}/missing/two: GET https://{faults.host}/v2/missing/two/tags/list: 404" in str(exc)
        assert [error["image"] for error in exc.context()["errors"]] == [texts[1], texts[2]]
    else:
        raise AssertionError("no error for two missing repositories")


def test_a_429_holds_back_every_request_to_that_registry(faults: FaultServer) -> None:
    lock = threading.Lock()
    arrivals: list[tuple[float, str]] = []

    def handle(request: Request) -> Reply:
        with lock:
            arrivals.append((time.monotonic(), request.path))
            first = len(arrivals) == 2  # the second list with a token: both threads are at work by then
        if first:
            return Reply(429, b"", [("Retry-After", "1")])
        time.sleep(0.05)
        return json_reply({"name": "x", "tags": ["1"]})

    faults.handler = gated(handle)
    query_images(
        [f"{faults.host}/org/r{n}" for n in range(8)], ClientOptions(ca_path=faults.ca, environ=NO_FILES, concurrency=2)
    )
    refused_at = arrivals[1][0]
    # Within the second the registry asked for, at most the request already in flight on the other thread came.
    during = [path for when, path in arrivals if refused_at < when < refused_at + 0.9]
    assert len(during) <= 1, during
    assert len(arrivals) == 9


def test_each_registry_has_its_own_bound(fault_pki: Path) -> None:
    # concurrency 1 bounds each registry, not the run: two registries are asked at the same time.
    lock = threading.Lock()
    in_flight: dict[str, int] = {}
    most: dict[str, int] = {}

    def handle(request: Request) -> Reply:
        host = t.cast(str, request.header("Host"))
        with lock:
            for key in (host, "all"):
                in_flight[key] = in_flight.get(key, 0) + 1
                most[key] = max(most.get(key, 0), in_flight[key])
        time.sleep(0.2)
        with lock:
            for key in (host, "all"):
                in_flight[key] -= 1
        return json_reply({"name": "x", "tags": [request.path.split("/")[3]]})

    with FaultServer(fault_pki) as first, FaultServer(fault_pki) as second:
        first.handler, second.handler = gated(handle), gated(handle)
        texts = [f"{server.host}/org/r{n}" for server in (first, second) for n in range(2)]
        results = query_images(texts, ClientOptions(ca_path=first.ca, environ=NO_FILES, concurrency=1))
        assert most == {first.host: 1, second.host: 1, "all": 2}
    assert [result.tags for result in results] == [["r0"], ["r1"], ["r0"], ["r1"]]


class Gathering:
    """A registry (behind ``gated``) that answers manifests and tag lists only once ``parties`` requests of that
    kind are in flight together: every run below has that many connections in use at once, whatever the machine's
    speed."""

    def __init__(self, parties: int) -> None:
        self.barriers = {kind: threading.Barrier(parties, timeout=10) for kind in ("manifests", "tags")}

    def __call__(self, request: Request) -> Reply:
        self.barriers["manifests" if "/manifests/" in request.path else "tags"].wait()
        if "/manifests/" in request.path:
            return Reply(200, b"", [("Docker-Content-Digest", "sha256:" + "a" * 64)])
        return json_reply({"name": "x", "tags": ["1.0"]})


@pytest.mark.parametrize("tls", [True, False], ids=["https", "http"])
def test_connections_are_kept_for_every_request_in_flight(fault_pki: Path, tls: bool) -> None:
    # The pool keeps as many connections as requests may be in flight: the tag lists after the manifest checks
    # go over the same 12 connections; none is closed and opened again (each costs a TCP and a TLS handshake).
    with FaultServer(fault_pki, tls=tls) as server:
        server.handler = gated(Gathering(12))
        texts = [f"{server.host}/org/r{n:02d}:1.0" for n in range(12)]
        options = ClientOptions(
            ca_path=server.ca, environ=NO_FILES, concurrency=12, http_registries=[] if tls else [server.host]
        )
        results = query_images(texts, options)
        assert [result.exists for result in results] == [True] * 12
        assert len({request.port for request in server.requests}) == 12


def test_the_process_wide_session_keeps_connections_for_the_highest_concurrency(
    faults: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ansible_collections.tagscope.registry.plugins.module_utils._registry import transport  # noqa: PLC0415

    monkeypatch.setattr(transport, "_SHARED", [])  # as in a new process
    session = transport.shared_session()
    assert session is transport.shared_session()
    assert (session.trust_env, session.headers["User-Agent"]) == (False, "tagscope.registry")
    faults.handler = gated(Gathering(64))
    texts = [f"{faults.host}/org/r{n:02d}:1.0" for n in range(64)]
    options = ClientOptions(ca_path=faults.ca, environ=NO_FILES, concurrency=64)
    try:
        # Two runs of the lookup at the highest concurrency: the second opens no connection.
        for _run in range(2):
            query_images(texts, options, session=session)
    finally:
        session.close()
    assert len({request.port for request in faults.requests}) == 64


@pytest.mark.parametrize("tls", [True, False], ids=["https", "http"])
def test_each_registry_keeps_its_connection_in_a_run_with_more_registries_than_the_concurrency(
    fault_pki: Path, tls: bool
) -> None:
    # Twelve registries at concurrency 1 (more than urllib3 keeps pools for by default): the tag list after the
    # manifest check goes over the connection the check opened, on each registry, over TLS and plain HTTP alike.
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(FaultServer(fault_pki, tls=tls)) for _n in range(12)]
        for server in servers:
            server.handler = gated(Gathering(1))
        texts = [f"{server.host}/org/app:1.0" for server in servers]
        options = ClientOptions(
            ca_path=servers[0].ca,
            environ=NO_FILES,
            concurrency=1,
            http_registries=[] if tls else [server.host for server in servers],
        )
        results = query_images(texts, options)
        assert [result.exists for result in results] == [True] * 12
        assert [len({request.port for request in server.requests}) for server in servers] == [1] * 12
