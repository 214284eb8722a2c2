# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""One HTTP exchange with a registry or token service: timeouts, TLS, retries, size caps.

Every request goes through ``Transport.send``:
- connect and read timeouts on every request, the token service's included, and a deadline on the whole answer;
- 429 (honouring ``Retry-After`` in seconds or as an HTTP date), 408, 500, 502, 503, 504 and dropped connections
  are retried with capped exponential backoff and jitter, within a bound on attempts and on total wait; no other
  status (no 401, no 404) is retried;
- bodies are read up to a cap, so a misbehaving server cannot exhaust memory;
- redirects keep ``Authorization`` only within one origin (requests strips it for another host, port or scheme),
  and never lead to a link-local or unspecified address (``addresses.py``) nor to a Location that is no URL.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import re
import socket
import threading
import time
import traceback
import typing as t
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from .addresses import never_address
from .errors import (
    ConfigurationError,
    ProtocolError,
    RegistryConnectionError,
    RegistryError,
    TLSError,
    shortened,
)
from .table import default

try:
    import requests
    from requests.structures import CaseInsensitiveDict
except ImportError:  # pragma: no cover - exercised by the plugins' missing_required_lib path
    requests = None  # type: ignore[assignment]
    CaseInsensitiveDict = dict  # type: ignore[assignment,misc]
    REQUESTS_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

HAS_REQUESTS = REQUESTS_IMPORT_ERROR is None

USER_AGENT = "tagscope.registry"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
BACKOFF_BASE = 0.5
BACKOFF_CAP = 10.0
# Body caps, in bytes. A tag page of 16 MiB holds some 500,000 tags.
MAX_ERROR_BODY = 64 * 1024
MAX_TOKEN_BODY = 1024 * 1024
MAX_MANIFEST_BODY = 4 * 1024 * 1024
MAX_PAGE_BODY = 16 * 1024 * 1024
_REGISTRIES_KEPT = 32
# An answer (connection, redirects, status, headers and body) must be complete within this many timeouts.
DEADLINE_FACTOR = 2
_CHUNK = 64 * 1024
_SHOWN_REASON = 200


@dataclass
class Reply:
    """What the client needs of a response, with the body already read (and capped)."""

    method: str
    url: str
    status_code: int
    reason: str
    headers: t.Mapping[str, str]
    content: bytes = field(repr=False)
    attempts: int = 1

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> t.Any:
        try:
            return json.loads(self.content)
        except RecursionError:
            # JSON nested deeper than Python's recursion limit ([[[[...): not JSON the client can use either.
            raise ValueError("JSON nested too deeply") from None


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = default("retries")
    max_wait: float = default("retry_max_wait")


class Transport:
    """Sends requests for one run, from any number of threads.

    A 429 or 503 with a wait (``Retry-After``, or backoff) holds back every request to that origin, not only the
    one that got it: threads sleep until the registry said to come back instead of each collecting its own 429.
    """

    def __init__(self, session: requests.Session, *, verify: bool | str, timeout: float, policy: RetryPolicy) -> None:
        self.session = session
        self.verify = _ca_bundle_from_environment(verify)
        self.timeout = timeout
        self.policy = policy
        self._lock = threading.Lock()
        self._not_before: dict[str, float] = {}
        self._proxies: dict[str, dict[str, str]] = {}

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        params: list[tuple[str, str]] | None = None,
        data: dict[str, str] | None = None,
        limit: int = MAX_ERROR_BODY,
    ) -> Reply:
        """Send, retrying what is worth retrying; return the last reply or raise the last error."""
        origin = _origin(url)
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            self._hold(origin)
            try:
                reply = self._once(method, url, headers=headers, params=params, data=data, limit=limit)
            except RegistryConnectionError as exc:
                delay = _backoff(attempt)
                if not exc.retryable or not self._may_wait(attempt, waited, delay):
                    if attempt > 1:
                        exc.amend(f" (after {attempt} attempts)")
                    raise
                time.sleep(delay)
                waited += delay
                continue
            reply.attempts = attempt
            if reply.status_code not in RETRY_STATUSES:
                return reply
            retry_after = parse_retry_after(reply.headers.get("Retry-After"))
            delay = _backoff(attempt) if retry_after is None else retry_after
            if not self._may_wait(attempt, waited, delay):
                return reply
            self._hold_back(origin, delay)
            waited += delay

    def _hold_back(self, origin: str, delay: float) -> None:
        with self._lock:
            self._not_before[origin] = max(self._not_before.get(origin, 0.0), time.monotonic() + delay)

    def _hold(self, origin: str) -> None:
        with self._lock:
            until = self._not_before.get(origin, 0.0)
        pause = until - time.monotonic()
        if pause > 0:
            time.sleep(pause)

    def _proxies_for(self, url: str) -> dict[str, str]:
        """HTTPS_PROXY/NO_PROXY for this origin, read once (requests would read the environment per request)."""
        origin = _origin(url)
        with self._lock:
            found = self._proxies.get(origin)
        if found is None:
            found = requests.utils.get_environ_proxies(url)
            with self._lock:
                self._proxies[origin] = found
        return found

    def _may_wait(self, attempt: int, waited: float, delay: float) -> bool:
        return attempt <= self.policy.retries and waited + delay <= self.policy.max_wait

    def _once(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None,
        params: list[tuple[str, str]] | None,
        data: dict[str, str] | None,
        limit: int,
    ) -> Reply:
        shown = strip_query(url)
        try:
            response, content = self._exchange(
                method, url, shown=shown, headers=headers, params=params, data=data, limit=limit
            )
        except (requests.exceptions.RequestException, UnicodeEncodeError) as exc:
            raise _request_error(exc, method, shown, self.timeout) from None
        return Reply(
            method=method,
            url=shown,
            status_code=response.status_code,
            reason=response.reason or "",
            headers=CaseInsensitiveDict(response.headers),
            content=content,
        )

    def _exchange(
        self,
        method: str,
        url: str,
        *,
        shown: str,
        headers: dict[str, str] | None,
        params: list[tuple[str, str]] | None,
        data: dict[str, str] | None,
        limit: int,
    ) -> tuple[requests.Response, bytes]:
        """One request and its body (up to ``limit``), all within the deadline."""
        with warnings.catch_warnings(), _Deadline(DEADLINE_FACTOR * self.timeout) as deadline:
            if self.verify is False:
                # The user chose validate_certs: false; one warning per request is noise.
                warnings.simplefilter("ignore", requests.urllib3.exceptions.InsecureRequestWarning)
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    params=params,
                    data=data,
                    verify=self.verify,
                    timeout=self.timeout,
                    allow_redirects=True,
                    stream=True,
                    auth=_no_netrc,
                    proxies=self._proxies_for(url),
                    hooks={"response": self._redirect_guard(method, shown)},
                )
                try:
                    # An error body is only ever shown as an excerpt: read a little of it.
                    limit = limit if response.status_code < 400 else MAX_ERROR_BODY
                    content = _read(response, limit, method, shown)
                finally:
                    response.close()
            except requests.exceptions.RequestException:
                if not deadline.expired:
                    raise
            if deadline.expired:
                # Cut off: even an answer that seems whole may end anywhere, between two of its headers say.
                raise RegistryConnectionError(
                    f"no complete answer within {deadline.seconds:g} s",
                    method=method,
                    url=shown,
                    hint="the server sends its answer too slowly, or never ends it; raise timeout if it is only "
                    f"slow (an answer may take {DEADLINE_FACTOR} times the timeout)",
                )
        return response, content

    def _redirect_guard(self, method: str, shown: str) -> t.Callable[..., requests.Response]:
        """A response hook that vets every redirect before requests follows it (the hook sees each reply first)."""

        def check(response: requests.Response, **kwargs: t.Any) -> requests.Response:
            if not response.is_redirect:
                return response
            try:
                # The Location as requests reads it (latin-1 bytes as UTF-8, "//host" with the current scheme),
                # where it would fail with errors it does not wrap: UnicodeDecodeError, "Invalid IPv6 URL".
                target = self.session.get_redirect_target(response) or ""
                if target.startswith("//"):
                    target = f"{urlsplit(response.url).scheme}:{target}"
                absolute = urljoin(response.url, target)
                urlsplit(absolute).port  # noqa: B018 - raises ValueError for a port out of range
            except ValueError:
                refused = "to a Location that is not a valid URL"
                hint = "the registry misbehaves"
            else:
                where = never_address(absolute)
                if where is None:
                    return response
                refused = f"to {strip_query(absolute)} on {where}"
                hint = "a registry must not steer the client to internal addresses"
            response.close()
            raise ProtocolError(
                f"{response.status_code} redirect {refused}; refusing to follow it",
                method=method,
                url=shown,
                status=response.status_code,
                hint=hint,
            )

        return check


def _read(response: requests.Response, limit: int, method: str, shown: str) -> bytes:
    # Read to the end even when there is nothing to read (HEAD): a body read to its end lets the connection be kept
    # alive; closing a reply not read through closes its connection too.
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(_CHUNK):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            if response.status_code >= 400:
                break  # an excerpt is all that is shown of an error
            raise ProtocolError(
                f"{response.status_code}: response body is larger than {limit // 1024} KiB",
                method=method,
                url=shown,
                status=response.status_code,
                hint="the server misbehaves; refusing to read more",
            )
    # A body within its cap is whole; an error body is cut just past the cap (an excerpt shows that it was cut).
    return b"".join(chunks)[: limit + 1]


class _Deadline:
    """One exchange's time limit, connection and redirects and the whole answer included.

    requests' timeouts bound each wait for a byte, not the answer: a server that sends a byte now and then, in
    headers that never end or a body that never does, would hold the client for ever. At the deadline the
    connections the exchange took from the pool are shut down, which ends any read blocked on them.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._connections: list[t.Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        _EXCHANGE.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _EXCHANGE.deadline = None

    def watch(self, connection: t.Any) -> None:
        with self._lock:
            self._connections.append(connection)
            expired = self.expired
        if expired:
            _shut(connection)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            connections = list(self._connections)
        for connection in connections:
            _shut(connection)


# The deadline of the exchange the current thread is in; the pools hand it each connection they give out.
_EXCHANGE = threading.local()


def _shut(connection: t.Any) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            # socket.socket's own shutdown: an SSLSocket's would also drop its TLS state under the reading thread.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


if HAS_REQUESTS:

    class _Watched:
        """A connection pool that tells the current exchange's deadline about every connection it gives out."""

        def _get_conn(self, timeout: float | None = None) -> t.Any:
            connection = super()._get_conn(timeout)  # type: ignore[misc]
            deadline = getattr(_EXCHANGE, "deadline", None)
            if deadline is not None:
                deadline.watch(connection)
            return connection

    class _WatchedHTTPPool(_Watched, requests.urllib3.HTTPConnectionPool):
        pass

    class _WatchedHTTPSPool(_Watched, requests.urllib3.HTTPSConnectionPool):
        pass

    _WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}

    class _Adapter(requests.adapters.HTTPAdapter):
        """requests' adapter with watched pools, direct and through an HTTP(S) proxy."""

        def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

        def proxy_manager_for(self, proxy: str, **proxy_kwargs: t.Any) -> t.Any:
            manager = super().proxy_manager_for(proxy, **proxy_kwargs)
            if isinstance(manager, requests.urllib3.ProxyManager):  # a SOCKS manager keeps its own pools
                manager.pool_classes_by_scheme = _WATCHED_POOLS
            return manager


def _backoff(attempt: int) -> float:
    """Capped exponential backoff with jitter: between half and all of 0.5, 1, 2, 4 ... s, never above the cap."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** (attempt - 1)))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _dropped(exc: BaseException) -> bool:
    """A connection the server reset, aborted or closed mid-answer: worth another try (a refusal is not).

    urllib3 wraps the cause (``ProtocolError('Connection aborted.', RemoteDisconnected(...))``); http.client's
    RemoteDisconnected is a ConnectionResetError.
    """
    return any(isinstance(e, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)) for e in _chain(exc))


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        inner = getattr(current, "reason", None)
        if isinstance(inner, BaseException):
            current = inner
        elif current.args and isinstance(current.args[0], BaseException):
            current = current.args[0]
        elif len(current.args) > 1 and isinstance(current.args[1], BaseException):
            current = current.args[1]
        else:
            current = current.__context__
    return seen


def _reason(exc: BaseException) -> str:
    """The innermost cause of a requests/urllib3 error, without the pool noise."""
    cause = _chain(exc)[-1]
    if isinstance(cause, http.client.BadStatusLine) and not isinstance(cause, http.client.RemoteDisconnected):
        # Its text is whatever the server sent as its first line (a body, a token): not for a message.
        return "the answer does not start with an HTTP status line"
    text = str(cause)
    match = re.search(r"\[SSL: [A-Z_]+\][^(]*", text)
    if match:
        return match.group(0).strip()
    # Other causes quote the server too (a chunk size line, say): a little of it.
    return shortened(re.sub(r"<urllib3[^>]*>: ", "", text), _SHOWN_REASON)


def strip_query(url: str) -> str:
    """URLs in messages lose their query (realms may carry account hints there), and what is past a length."""
    parts = urlsplit(url)
    return shortened(f"{parts.scheme}://{parts.netloc}{parts.path}")


def make_session(pool_size: int = 10) -> requests.Session:
    """One session per run: keep-alive, a pool as large as the requests in flight.

    ``trust_env`` is off because requests would otherwise read the proxy variables and netrc on every request;
    the transport reads HTTPS_PROXY/NO_PROXY once per origin and REQUESTS_CA_BUNDLE once, and never uses netrc.
    """
    session = requests.Session()
    session.trust_env = False
    session.headers["User-Agent"] = USER_AGENT
    # pool_maxsize: connections kept per registry; pool_connections: registries whose connections are kept (more
    # than a run names in practice; a run over more registries than that opens connections again).
    adapter = _Adapter(pool_connections=_REGISTRIES_KEPT, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


_SHARED: list[requests.Session] = []
_SHARED_LOCK = threading.Lock()


def shared_session() -> requests.Session:
    """One session (open connections) for every run of this process: the lookup's calls, a loop's items."""
    with _SHARED_LOCK:
        if not _SHARED:
            _SHARED.append(make_session(pool_size=64))
        return _SHARED[0]


def _ca_bundle_from_environment(verify: bool | str) -> bool | str:
    """What requests does with trust_env: REQUESTS_CA_BUNDLE (or CURL_CA_BUNDLE) when verifying by default."""
    if verify is True:
        return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return verify


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _no_netrc(request: t.Any) -> t.Any:
    """An auth hook that adds nothing: with it, requests never sends ~/.netrc credentials."""
    return request


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds, from delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    # isdigit() alone also takes digits float() refuses ("²", as a latin-1 header byte can be).
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _request_error(exc: Exception, method: str, shown: str, timeout: float) -> RegistryError:
    """What a failed request means, in the collection's words."""
    if isinstance(exc, requests.exceptions.SSLError):
        reason = _reason(exc)
        plain = "WRONG_VERSION_NUMBER" in reason or "RECORD_LAYER_FAILURE" in reason
        return TLSError(
            f"TLS failed: {reason}",
            method=method,
            url=shown,
            hint="the server seems to speak plain HTTP; list the registry in http_registries if that is intended"
            if plain
            else "set ca_path to the CA bundle that signed the registry's certificate "
            "(or validate_certs: false for a registry you trust)",
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return RegistryConnectionError(
            f"no answer within {timeout:g} s",
            method=method,
            url=shown,
            hint="check that the registry is reachable, or raise timeout",
        )
    if isinstance(exc, (requests.exceptions.InvalidHeader, UnicodeEncodeError)):
        # requests' own message quotes the header: the token option, with the line break pasted after it.
        return ConfigurationError(
            "a request header holds a line break or a character HTTP cannot carry (not shown: it may be a credential)",
            method=method,
            url=shown,
            hint="check the token for a trailing newline or characters pasted with it (typographic quotes, say)",
        )
    error = RegistryConnectionError(
        f"cannot connect: {_reason(exc)}",
        method=method,
        url=shown,
        hint="check the registry host and port, and that it is reachable from where the task runs",
    )
    error.retryable = _dropped(exc)
    return error
