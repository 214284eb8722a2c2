"""One HTTP exchange: what is retried and how often, what is read, what a failure says, proxies and CA bundles.

Against the scripted server on loopback (tests/kit/faults.py), which gives the faults a real registry rarely does:
5xx, 429, resets, slow answers. Found wanting by mutation testing (docs/testing.md).
"""

from __future__ import annotations

import http.client
import random
import re
import socket
import time
import typing as t
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests
import urllib3

from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import (
    ConfigurationError,
    ProtocolError,
    RegistryConnectionError,
    TLSError,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.transport import (
    MAX_ERROR_BODY,
    RetryPolicy,
    Transport,
    _backoff,
    _ca_bundle_from_environment,
    _dropped,
    _reason,
    make_session,
    parse_retry_after,
    shared_session,
    strip_query,
)
from tests.fuzz.server import Action, Drip, HostileServer, Send
from tests.kit.faults import FaultServer, Reply, Request
from tests.unit.ids import case_id
from tests.unit.plugins.module_utils.test_realm_rules import RecordingAdapter


def transport(server: FaultServer, *, retries: int = 4, max_wait: float = 60.0, timeout: float = 5.0) -> Transport:
    return Transport(
        make_session(),
        verify=server.ca if server.tls else True,
        timeout=timeout,
        policy=RetryPolicy(retries=retries, max_wait=max_wait),
    )


def script(*replies: Reply) -> t.Callable[[Request], Reply]:
    """Answer with ``replies`` in turn, the last one from then on."""
    queue = list(replies)

    def handle(request: Request) -> Reply:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return handle


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_passing_failures_are_retried(faults: FaultServer, status: int) -> None:
    faults.handler = script(Reply(status, b"", [("Retry-After", "0")]), Reply(200, b"ok"))
    reply = transport(faults).send("GET", f"{faults.url}/v2/")
    assert (reply.status_code, reply.content, reply.attempts) == (200, b"ok", 2)
    assert len(faults.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 501])
def test_other_statuses_are_answers(faults: FaultServer, status: int) -> None:
    faults.handler = script(Reply(status, b"", [("Retry-After", "0")]), Reply(200))
    reply = transport(faults).send("GET", f"{faults.url}/v2/")
    assert (reply.status_code, reply.attempts) == (status, 1)
    assert len(faults.requests) == 1


def test_retries_are_bounded_by_count(faults: FaultServer) -> None:
    faults.handler = script(Reply(503, b"", [("Retry-After", "0")]))
    reply = transport(faults, retries=2).send("GET", f"{faults.url}/v2/")
    assert (reply.status_code, reply.attempts) == (503, 3)
    assert len(faults.requests) == 3


def test_retries_are_bounded_by_total_wait(faults: FaultServer) -> None:
    faults.handler = script(Reply(429, b"", [("Retry-After", "1")]))
    started = time.monotonic()
    reply = transport(faults, retries=10, max_wait=2).send("GET", f"{faults.url}/v2/")
    # Waits of 1 s while the total stays within 2 s: two retries, three requests.
    assert (reply.status_code, reply.attempts) == (429, 3)
    assert 2 <= time.monotonic() - started < 4


def test_no_retry_when_the_wait_alone_exceeds_the_budget(faults: FaultServer) -> None:
    faults.handler = script(Reply(429, b"", [("Retry-After", "5")]))
    started = time.monotonic()
    reply = transport(faults, max_wait=4).send("GET", f"{faults.url}/v2/")
    assert reply.attempts == 1
    assert time.monotonic() - started < 1


def test_without_retry_after_the_backoff_is_waited(faults: FaultServer) -> None:
    faults.handler = script(Reply(503), Reply(200))
    started = time.monotonic()
    assert transport(faults).send("GET", f"{faults.url}/v2/").attempts == 2
    # The first backoff is between 0.25 and 0.5 s.
    assert 0.25 <= time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (6, 10.0), (9, 10.0)]
)
def test_backoff_doubles_with_jitter_up_to_a_cap(attempt: int, ceiling: float) -> None:
    random.seed(attempt)
    waits = [_backoff(attempt) for _sample in range(2000)]
    assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
    # Jitter: the waits spread over the whole range.
    assert min(waits) < ceiling * 0.52 and max(waits) > ceiling * 0.98


def test_a_dropped_connection_is_retried(faults: FaultServer) -> None:
    faults.handler = script(Reply(reset=True), Reply(200, b"ok"))
    reply = transport(faults).send("GET", f"{faults.url}/v2/")
    assert (reply.content, reply.attempts) == (b"ok", 2)


def test_connections_dropped_every_time_say_how_often_they_were_tried(faults: FaultServer) -> None:
    faults.handler = script(Reply(reset=True))
    with pytest.raises(RegistryConnectionError) as caught:
        transport(faults, retries=1).send("GET", f"{faults.url}/v2/?secret=1")
    message = str(caught.value)
    assert message.startswith(f"GET {faults.url}/v2/: cannot connect: ")
    assert message.endswith(
        " (after 2 attempts); check the registry host and port, and that it is reachable from where the task runs"
    )
    assert caught.value.context() == {"method": "GET", "url": f"{faults.url}/v2/"}
    assert len(faults.requests) == 2


def test_a_slow_answer_is_a_timeout_and_not_retried(faults: FaultServer) -> None:
    faults.handler = script(Reply(200, b"late", delay=1.5))
    with pytest.raises(RegistryConnectionError) as caught:
        transport(faults, timeout=0.5).send("GET", f"{faults.url}/v2/")
    assert str(caught.value) == (
        f"GET {faults.url}/v2/: no answer within 0.5 s; check that the registry is reachable, or raise timeout"
    )
    assert len(faults.requests) == 1


def test_a_refused_connection_is_final() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"https://127.0.0.1:{sock.getsockname()[1]}/v2/"
        started = time.monotonic()
        with pytest.raises(RegistryConnectionError) as caught:
            Transport(make_session(), verify=True, timeout=5, policy=RetryPolicy()).send("GET", url)
    assert time.monotonic() - started < 0.25
    assert caught.value.retryable is False
    assert str(caught.value).startswith(f"GET {url}: cannot connect: ")
    assert "Connection refused" in str(caught.value)
    assert "attempts" not in str(caught.value)


def test_https_to_a_plain_http_server_says_so(fault_pki: Path) -> None:
    with FaultServer(fault_pki, tls=False) as plain, pytest.raises(TLSError) as caught:
        url = f"https://{plain.host}/v2/"
        Transport(make_session(), verify=plain.ca, timeout=5, policy=RetryPolicy()).send("GET", url)
    # OpenSSL 3.0 says WRONG_VERSION_NUMBER, later versions RECORD_LAYER_FAILURE.
    assert re.fullmatch(
        re.escape(f"GET {url}: TLS failed: [SSL: ")
        + r"(WRONG_VERSION_NUMBER\] wrong version number|RECORD_LAYER_FAILURE\] record layer failure)"
        + re.escape("; the server seems to speak plain HTTP; list the registry in http_registries if that is intended"),
        str(caught.value),
    )


def test_an_unknown_ca_says_how_to_trust_it(faults: FaultServer) -> None:
    with pytest.raises(TLSError) as caught:
        Transport(make_session(), verify=True, timeout=5, policy=RetryPolicy()).send("GET", f"{faults.url}/v2/")
    assert str(caught.value) == (
        f"GET {faults.url}/v2/: TLS failed: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get "
        "local issuer certificate; set ca_path to the CA bundle that signed the registry's certificate (or "
        "validate_certs: false for a registry you trust)"
    )


def test_a_body_over_its_cap_is_refused(faults: FaultServer) -> None:
    faults.handler = script(Reply(200, b"x" * 2048))
    with pytest.raises(ProtocolError) as caught:
        transport(faults).send("GET", f"{faults.url}/v2/?q=1", limit=1024)
    assert str(caught.value) == (
        f"GET {faults.url}/v2/: 200: response body is larger than 1 KiB; the server misbehaves; refusing to read more"
    )
    assert caught.value.context() == {"method": "GET", "url": f"{faults.url}/v2/", "status": 200}


def test_a_body_at_its_cap_is_read(faults: FaultServer) -> None:
    faults.handler = script(Reply(200, b"x" * 1024))
    assert transport(faults).send("GET", f"{faults.url}/v2/", limit=1024).content == b"x" * 1024


@pytest.mark.parametrize("status", [400, 404, 501])
def test_an_error_body_is_cut_not_refused(faults: FaultServer, status: int) -> None:
    faults.handler = script(Reply(status, b"e" * (MAX_ERROR_BODY * 3)))
    reply = transport(faults).send("GET", f"{faults.url}/v2/", limit=MAX_ERROR_BODY * 4)
    assert reply.status_code == status
    assert reply.content == b"e" * (MAX_ERROR_BODY + 1)


def test_head_reads_no_body_and_requests_carry_the_user_agent(faults: FaultServer) -> None:
    faults.handler = script(Reply(200, b"", [("Docker-Content-Digest", "sha256:x")]))
    reply = transport(faults).send("HEAD", f"{faults.url}/v2/?a=b")
    assert (reply.method, reply.url, reply.content, reply.headers["docker-content-digest"]) == (
        "HEAD",
        f"{faults.url}/v2/",
        b"",
        "sha256:x",
    )
    assert faults.requests[0].header("User-Agent") == "tagscope.registry"


def test_a_proxy_from_the_environment_is_used_and_no_proxy_respected(
    fault_pki: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FaultServer(fault_pki, tls=False) as proxy, FaultServer(fault_pki, tls=False) as direct:
        proxy.handler = script(Reply(200, b"via proxy"))
        direct.handler = script(Reply(200, b"direct"))
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "localhost")
        sender = Transport(make_session(), verify=True, timeout=5, policy=RetryPolicy())
        # 127.0.0.1 goes through the proxy (it is not in NO_PROXY); localhost goes direct.
        assert sender.send("GET", f"{direct.url}/v2/").content == b"via proxy"
        port = direct.host.rsplit(":", 1)[1]
        assert sender.send("GET", f"http://localhost:{port}/v2/").content == b"direct"
        # Read once per origin: a change of the environment mid-run does not apply to an origin already seen.
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert sender.send("GET", f"{direct.url}/v2/").content == b"via proxy"
    assert len(proxy.requests) == 2
    assert len(direct.requests) == 1


@pytest.mark.parametrize(
    ("environ", "verify", "expected"),
    [
        ({"REQUESTS_CA_BUNDLE": "/r.pem", "CURL_CA_BUNDLE": "/c.pem"}, True, "/r.pem"),
        ({"CURL_CA_BUNDLE": "/c.pem"}, True, "/c.pem"),
        ({}, True, True),
        ({"REQUESTS_CA_BUNDLE": "/r.pem"}, False, False),
        ({"REQUESTS_CA_BUNDLE": "/r.pem"}, "/mine.pem", "/mine.pem"),
    ],
    ids=case_id,
)
def test_ca_bundle_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], verify: t.Any, expected: t.Any
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    assert _ca_bundle_from_environment(verify) == expected


def test_one_shared_session_per_process() -> None:
    session = shared_session()
    assert session is shared_session()
    assert session.trust_env is False
    assert session.headers["User-Agent"] == "tagscope.registry"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://auth.example.com/token?account=ci&scope=x", "https://auth.example.com/token"),
        ("https://r.example.com:5000/v2/a/tags/list?n=10#f", "https://r.example.com:5000/v2/a/tags/list"),
        ("http://r.example.com/", "http://r.example.com/"),
        # A realm or Link a hostile registry made 70 kB long: its start (found by fuzzing).
        ("https://r/" + "p" * 70_000 + "?q=1", "https://r/" + "p" * 290 + "..."),
    ],
    ids=case_id,
)
def test_urls_in_messages_lose_their_query(url: str, shown: str) -> None:
    assert strip_query(url) == shown


def test_retry_after_values() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 7 ") == 7.0
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") is None
    # Digits of other scripts (a latin-1 header byte 0xB2 reads as "²"): not a number of seconds, not an error.
    assert parse_retry_after("²") is None
    assert parse_retry_after("٣") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 28 <= t.cast(float, parse_retry_after(later)) <= 30
    # A date without a zone is taken as UTC.
    naive = (datetime.now(timezone.utc) + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S -0000")
    assert 28 <= t.cast(float, parse_retry_after(naive)) <= 30


def _wrapped(cause: BaseException) -> BaseException:
    """As requests raises it: ConnectionError(urllib3 ProtocolError("Connection aborted.", cause))."""
    return requests.exceptions.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted.", cause))


@pytest.mark.parametrize(
    ("exc", "dropped"),
    [
        (_wrapped(ConnectionResetError(104, "Connection reset by peer")), True),
        (_wrapped(http.client.RemoteDisconnected("Remote end closed connection without response")), True),
        (_wrapped(BrokenPipeError(32, "Broken pipe")), True),
        (_wrapped(ConnectionAbortedError(103, "Software caused connection abort")), True),
        (requests.exceptions.ConnectionError(ConnectionRefusedError(111, "Connection refused")), False),
        (requests.exceptions.ConnectionError(OSError(113, "No route to host")), False),
        (requests.exceptions.ConnectionError("Name or service not known"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_which_connection_failures_are_worth_another_try(exc: BaseException, dropped: bool) -> None:
    assert _dropped(exc) is dropped


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        # requests' ConnectionError wraps urllib3's MaxRetryError, which wraps the cause: the cause is shown.
        (
            requests.exceptions.ConnectionError(
                urllib3.exceptions.MaxRetryError(
                    None, "/v2/", urllib3.exceptions.ProtocolError("Connection aborted.", OSError("No route to host"))
                )
            ),
            "No route to host",
        ),
        # urllib3 1.x names the connection object first: that noise goes.
        (
            OSError("<urllib3.connection.HTTPSConnection object at 0x7f3c>: Failed to establish a new connection"),
            "Failed to establish a new connection",
        ),
        # An SSL error keeps its reason, not the C source line.
        (
            OSError(
                "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1006)"
            ),
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate",
        ),
        (RuntimeError("plain"), "plain"),
        # Found by fuzzing: the first line of an answer without a status line is whatever the server sent, a token
        # included; and a cause quoting the server is cut short.
        (
            _wrapped(http.client.BadStatusLine('{"token": "eyJ-issued-token"}')),
            "the answer does not start with an HTTP status line",
        ),
        (
            _wrapped(http.client.RemoteDisconnected("Remote end closed connection without response")),
            "Remote end closed connection without response",
        ),
        (
            RuntimeError("Invalid chunk length: got length b'" + "z" * 5000),
            "Invalid chunk length: got length b'" + "z" * 165 + "...",
        ),
    ],
    ids=["wrapped", "urllib3-1", "ssl", "plain", "bad-status-line", "disconnected", "long"],
)
def test_the_reason_a_connection_failed(exc: BaseException, reason: str) -> None:
    assert _reason(exc) == reason


def test_the_cause_is_found_through_context_too() -> None:
    try:
        try:
            raise ConnectionResetError(104, "Connection reset by peer")
        except ConnectionResetError:
            raise RuntimeError("while reading")  # noqa: B904 - the context is the point
    except RuntimeError as exc:
        assert _dropped(exc) is True
        assert _reason(exc) == "[Errno 104] Connection reset by peer"


def test_waits_for_dropped_connections_count_against_the_budget(
    faults: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ansible_collections.tagscope.registry.plugins.module_utils._registry import transport as module  # noqa: PLC0415

    monkeypatch.setattr(module, "_backoff", lambda attempt: 0.3)
    faults.handler = script(Reply(reset=True))
    with pytest.raises(RegistryConnectionError) as caught:
        transport(faults, retries=10, max_wait=0.7).send("GET", f"{faults.url}/v2/")
    # 0.3 s and 0.3 s fit in 0.7 s, a third wait would not: three attempts.
    assert len(faults.requests) == 3
    assert "(after 3 attempts)" in str(caught.value)


def test_a_shorter_wait_does_not_cut_a_longer_hold(faults: FaultServer) -> None:
    faults.handler = script(Reply(200))
    sender = transport(faults)
    sender._hold_back(faults.url, 0.6)
    sender._hold_back(faults.url, 0.0)
    started = time.monotonic()
    sender.send("GET", f"{faults.url}/v2/")
    assert time.monotonic() - started >= 0.55


def test_redirects_are_followed_and_credentials_stay_on_their_origin(fault_pki: Path) -> None:
    with FaultServer(fault_pki) as registry, FaultServer(fault_pki) as storage:
        storage.handler = script(Reply(200, b"blob"))

        def handle(request: Request) -> Reply:
            if request.path == "/v2/org/app/blobs/x":
                return Reply(307, b"", [("Location", "/v2/org/app/blobs/y")])
            if request.path == "/v2/org/app/blobs/y":
                return Reply(307, b"", [("Location", f"{storage.url}/bucket/y")])
            return Reply(404)

        registry.handler = handle
        sender = Transport(make_session(), verify=registry.ca, timeout=5, policy=RetryPolicy())
        reply = sender.send("GET", f"{registry.url}/v2/org/app/blobs/x", headers={"Authorization": "Bearer secret"})
        assert (reply.status_code, reply.content) == (200, b"blob")
        # Within the registry's origin the token goes along; to the storage on another port it does not.
        assert [r.header("Authorization") for r in registry.requests] == ["Bearer secret", "Bearer secret"]
        assert [r.header("Authorization") for r in storage.requests] == [None]


@pytest.mark.parametrize(
    ("location", "why"),
    [
        (
            "https://169.254.169.254/latest/meta-data/iam",
            "https://169.254.169.254/latest/meta-data/iam on a link-local",
        ),
        ("http://2852039166/latest/meta-data/", "http://2852039166/latest/meta-data/ on a link-local"),
        ("//[fe80::1]/x", "https://[fe80::1]/x on a link-local"),
        ("https://0.0.0.0:8443/x?token=1", "https://0.0.0.0:8443/x on an unspecified"),
    ],
    ids=case_id,
)
def test_a_redirect_to_a_link_local_or_unspecified_address_is_refused_before_any_connection(
    faults: FaultServer, location: str, why: str
) -> None:
    # Found by fuzzing (tests/fuzz): requests followed a registry's redirect to the cloud metadata service.
    faults.handler = script(Reply(302, b"", [("Location", location)]))
    session = make_session()
    recorder = RecordingAdapter()
    for prefix in ("https://169.254.169.254", "http://2852039166", "https://[fe80::1]", "https://0.0.0.0"):
        session.mount(prefix, recorder)
    sender = Transport(session, verify=faults.ca, timeout=5, policy=RetryPolicy())
    with pytest.raises(ProtocolError) as caught:
        sender.send("GET", f"{faults.url}/v2/org/app/blobs/x", headers={"Authorization": "Bearer secret"})
    assert str(caught.value) == (
        f"GET {faults.url}/v2/org/app/blobs/x: 302 redirect to {why} address; refusing to follow it; "
        "a registry must not steer the client to internal addresses"
    )
    assert (recorder.attempts, len(faults.requests)) == ([], 1)


def test_a_redirect_to_a_private_address_is_followed(faults: FaultServer) -> None:
    # A registry's storage often lives on its own network, under an address its name does not show.
    faults.handler = script(Reply(307, b"", [("Location", "http://10.0.0.8:9000/bucket/x")]))
    session = make_session()
    recorder = RecordingAdapter()
    session.mount("http://10.0.0.8:9000", recorder)
    sender = Transport(session, verify=faults.ca, timeout=5, policy=RetryPolicy(retries=0))
    with pytest.raises(RegistryConnectionError, match="a test must not connect here"):
        sender.send("GET", f"{faults.url}/v2/org/app/blobs/x")
    assert recorder.attempts == ["http://10.0.0.8:9000/bucket/x"]


@pytest.mark.parametrize(
    "location",
    # The last two as the server sends them: latin-1 characters are its bytes, which are not UTF-8.
    ["http://[::1", "http://127.0.0.1:99999/x", "/caf\xc3(", "/\xff\xfe"],
    ids=["ipv6-unclosed", "port-out-of-range", "utf8-cut", "not-utf8"],
)
def test_a_redirect_to_a_location_that_is_no_url_is_refused(faults: FaultServer, location: str) -> None:
    # Found by fuzzing: requests raised a bare ValueError (Invalid IPv6 URL) or UnicodeDecodeError for these.
    faults.handler = script(Reply(301, b"", [("Location", location)]))
    with pytest.raises(ProtocolError) as caught:
        transport(faults).send("GET", f"{faults.url}/v2/")
    assert str(caught.value) == (
        f"GET {faults.url}/v2/: 301 redirect to a Location that is not a valid URL; refusing to follow it; "
        "the registry misbehaves"
    )


_HEADERS_FOR_EVER = b"".join(b"X-Slow-%d: v\r\n" % i for i in range(99))


@pytest.mark.parametrize(
    "steps",
    [
        # Headers that never end: one more line every 0.1 s, each well within the read timeout.
        [Send(b"HTTP/1.1 200 OK\r\n"), Drip(_HEADERS_FOR_EVER, 4, 0.1)],
        # A body that never ends: 1 MiB announced, 16 bytes every 0.1 s.
        [Send(b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n"), Drip(b" " * (1 << 20), 16, 0.1)],
        # The same in chunks.
        [Send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), Drip(b"1\r\n \r\n" * 10000, 6, 0.1)],
    ],
    ids=["headers", "body", "chunks"],
)
def test_an_answer_that_trickles_for_ever_ends_at_the_deadline(steps: list[t.Any]) -> None:
    # Found by fuzzing (tests/fuzz): the read timeout bounds each wait for a byte, so a server sending a byte now
    # and then held the client until it stopped (hours, for a 16 MiB cap).
    with HostileServer("slow", tls=None) as server:
        server.script = lambda request: Action(steps)
        sender = Transport(make_session(), verify=True, timeout=0.5, policy=RetryPolicy())
        started = time.monotonic()
        with pytest.raises(RegistryConnectionError) as caught:
            sender.send("GET", f"{server.url}/v2/", limit=16 << 20)
        elapsed = time.monotonic() - started
    assert str(caught.value) == (
        f"GET {server.url}/v2/: no complete answer within 1 s; the server sends its answer too slowly, or never "
        "ends it; raise timeout if it is only slow (an answer may take 2 times the timeout)"
    )
    assert 1.0 <= elapsed < 2.5
    assert len(server.requests) == 1  # not retried, as a timeout is not


def test_an_answer_slower_than_the_timeout_in_all_but_within_the_deadline_is_read() -> None:
    body = b'{"tags": ["a"]}'
    steps = [Send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)), Drip(body, 2, 0.08)]
    with HostileServer("slow", tls=None) as server:
        server.script = lambda request: Action(steps)
        reply = Transport(make_session(), verify=True, timeout=0.5, policy=RetryPolicy()).send(
            "GET", f"{server.url}/v2/"
        )
    # Eight pieces, 0.64 s in all: longer than the timeout, within twice it.
    assert (reply.status_code, reply.content) == (200, body)


@pytest.mark.parametrize(
    "token",
    ["secret-token\n", "secret-token\r\nX-Injected: 1", "\u201csecret-token\u201d", "secret-€"],
    ids=["lf", "crlf", "typographic-quotes", "euro"],
)
def test_a_header_http_cannot_carry_is_refused_without_showing_it(faults: FaultServer, token: str) -> None:
    # Found by fuzzing (tests/fuzz): a token with a line break came back whole in the message (requests quotes the
    # header it refuses); one with typographic quotes ended in a UnicodeEncodeError traceback.
    with pytest.raises(ConfigurationError) as caught:
        transport(faults).send("GET", f"{faults.url}/v2/", headers={"Authorization": f"Bearer {token}"})
    assert str(caught.value) == (
        f"GET {faults.url}/v2/: a request header holds a line break or a character HTTP cannot carry (not shown: it "
        "may be a credential); check the token for a trailing newline or characters pasted with it (typographic "
        "quotes, say)"
    )
    assert faults.requests == []


def test_no_warning_per_request_when_certificates_are_not_verified(faults: FaultServer) -> None:
    import warnings  # noqa: PLC0415

    faults.handler = script(Reply(200))
    sender = Transport(make_session(), verify=False, timeout=5, policy=RetryPolicy())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sender.send("GET", f"{faults.url}/v2/")
    assert [str(w.message) for w in caught] == []


def test_a_hold_on_one_registry_does_not_slow_another(fault_pki: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    with FaultServer(fault_pki) as busy, FaultServer(fault_pki) as calm:
        busy.handler = script(Reply(429, b"", [("Retry-After", "2")]), Reply(200, b"busy"))
        calm.handler = script(Reply(200, b"calm"))
        sender = Transport(make_session(), verify=busy.ca, timeout=5, policy=RetryPolicy())
        with ThreadPoolExecutor(1) as pool:
            held = pool.submit(sender.send, "GET", f"{busy.url}/v2/")
            deadline = time.monotonic() + 5
            while not busy.requests and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.2)  # the 429 has been read and the hold set
            started = time.monotonic()
            reply = sender.send("GET", f"{calm.url}/v2/")
            elapsed = time.monotonic() - started
            assert held.result().content == b"busy"
        # The other registry answers at once while the busy one is held back for 2 s.
        assert (reply.content, reply.attempts) == (b"calm", 1)
        assert elapsed < 1.0
        assert len(busy.requests) == 2


@pytest.mark.parametrize("status", [200, 404])
def test_a_server_stalling_in_a_large_body_is_not_waited_for(faults: FaultServer, status: int) -> None:
    # The server announces 1 MiB, sends 128 KiB and then stalls: what is over the cap is not read, nor waited for.
    faults.handler = script(Reply(status, b"x" * (128 * 1024), length=1024 * 1024, stall=10))
    started = time.monotonic()
    if status == 200:
        with pytest.raises(ProtocolError, match="response body is larger than 64 KiB"):
            transport(faults, timeout=3).send("GET", f"{faults.url}/v2/", limit=64 * 1024)
    else:
        reply = transport(faults, timeout=3).send("GET", f"{faults.url}/v2/")
        assert (reply.status_code, len(reply.content)) == (404, MAX_ERROR_BODY + 1)
    assert time.monotonic() - started < 2.0
