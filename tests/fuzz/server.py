"""A hostile HTTP server on 127.0.0.1 that writes raw bytes: whatever a case tells it to, framing errors included.

``tests/kit/faults.py`` answers through ``http.server``, which always writes a well-formed reply. A hostile
registry does not: its status line may be garbage, its headers may never end, its chunked encoding may lie. So this
server reads the request itself and then plays a list of steps (send bytes, drip them, stall, close, reset) on
the socket. Every connection and request is recorded: the runner bounds a case's wall time by the attempts the
client made, and checks who received an ``Authorization`` header.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import struct
import threading
import time
import typing as t
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

# A client that keeps a connection idle this long is dropped (the client's timeouts are far shorter).
IDLE = 10.0
# No single step runs longer than this, whatever a case asks: a case that hangs the client is then noticed as a
# hang (the runner's bound is far shorter), not as a server that never stops.
MAX_STEP = 30.0
_MAX_REQUEST_HEAD = 256 * 1024


@dataclass
class Request:
    server: str
    method: str
    target: str
    path: str
    query: dict[str, list[str]]
    headers: list[tuple[str, str]]
    body: bytes
    connection: int

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class Send:
    data: bytes


@dataclass
class Drip:
    """``data`` a few bytes at a time, pausing between them: a server that is slow but never silent for long."""

    data: bytes
    size: int
    every: float


@dataclass
class Stream:
    """``chunk`` again and again up to ``total`` bytes, pausing ``every`` seconds between chunks."""

    chunk: bytes
    total: int
    every: float = 0.0


@dataclass
class Stall:
    """Say nothing until the client closes (or ``seconds`` pass)."""

    seconds: float = MAX_STEP


@dataclass
class Close:
    pass


@dataclass
class Reset:
    pass


Step = t.Union[Send, Drip, Stream, Stall, Close, Reset]


@dataclass
class Action:
    steps: list[Step] = field(default_factory=list)
    # Read the next request on this connection afterwards (HTTP keep-alive).
    keep: bool = True


Script = t.Callable[[Request], Action]
# What to do with a new connection before reading anything: None (serve it), "silent", "close", "reset", or
# "plain" (answer in plain text on a TLS port).
OnConnect = t.Callable[[str, int], t.Optional[str]]


class HostileServer:
    def __init__(self, name: str, *, tls: ssl.SSLContext | None) -> None:
        self.name = name
        self.tls = tls
        self.script: Script = lambda request: Action([Send(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")])
        self.on_connect: OnConnect = lambda server, index: None
        self.requests: list[Request] = []
        self.connections = 0
        # Bytes written to clients: what they had to read and parse.
        self.sent = 0
        self._lock = threading.Lock()
        self._live: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._port = 0

    @property
    def port(self) -> int:
        assert self._port, "the server is not started"
        return self._port

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def attempts(self) -> int:
        """Requests received, and connections that never got as far as a request (a stalled handshake, say)."""
        with self._lock:
            served = {request.connection for request in self.requests}
            return len(self.requests) + max(0, self.connections - len(served))

    def reset_log(self) -> None:
        with self._lock:
            self.requests = []
            self.connections = 0
            self.sent = 0

    def start(self) -> HostileServer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        self._port = listener.getsockname()[1]
        thread = threading.Thread(target=self._accept, name=f"hostile-{self.name}", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        self.drop_all()
        if self._listener is not None:
            self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def drop_all(self) -> None:
        """Close every open connection: a client blocked on this server wakes up."""
        with self._lock:
            live = list(self._live)
        for sock in live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, _peer = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                index = self.connections
                self.connections += 1
                self._live.add(conn)
                # Threads that ended are forgotten, so that a long run does not keep thousands of them.
                self._threads = [each for each in self._threads if each.is_alive()]
            thread = threading.Thread(target=self._serve, args=(conn, index), daemon=True)
            with self._lock:
                self._threads.append(thread)
            thread.start()

    def _serve(self, raw: socket.socket, index: int) -> None:
        sock: socket.socket = raw
        try:
            raw.settimeout(IDLE)
            # Without it a reply written after TLS 1.3's session tickets waits for the client's delayed ACK (40 ms).
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            mode = self.on_connect(self.name, index)
            if mode == "silent":
                self._stall(raw, MAX_STEP)
                return
            if mode == "close":
                return
            if mode == "reset":
                _reset(raw)
                return
            if mode == "plain":
                raw.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                return
            if self.tls is not None:
                sock = self.tls.wrap_socket(raw, server_side=True)
                with self._lock:
                    self._live.add(sock)
            pending = b""
            while not self._stop.is_set():
                request, pending = _read_request(sock, pending, self.name, index)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                action = self.script(request)
                if not self._play(sock, action.steps) or not action.keep:
                    return
        except (OSError, ssl.SSLError, ValueError):
            return  # the client gave up, or spoke something else: its side of the story is the runner's concern
        finally:
            with self._lock:
                self._live.discard(raw)
                self._live.discard(sock)
            with contextlib.suppress(OSError):
                sock.close()
            with contextlib.suppress(OSError):
                raw.close()

    def _play(self, sock: socket.socket, steps: list[Step]) -> bool:
        """Play the steps; False when the connection is done with (closed, reset, or given up)."""
        for step in steps:
            if self._stop.is_set():
                return False
            if isinstance(step, Send):
                self._send(sock, step.data)
            elif isinstance(step, Drip):
                started = time.monotonic()
                for offset in range(0, len(step.data), step.size):
                    if self._stop.wait(step.every) or time.monotonic() - started > MAX_STEP:
                        return False
                    self._send(sock, step.data[offset : offset + step.size])
            elif isinstance(step, Stream):
                started = time.monotonic()
                sent = 0
                while sent < step.total:
                    if time.monotonic() - started > MAX_STEP or (step.every and self._stop.wait(step.every)):
                        return False
                    piece = step.chunk[: step.total - sent]
                    self._send(sock, piece)
                    sent += len(piece)
            elif isinstance(step, Stall):
                self._stall(sock, step.seconds)
                return False
            elif isinstance(step, Close):
                return False
            elif isinstance(step, Reset):
                _reset(sock)
                return False
        return True

    def _send(self, sock: socket.socket, data: bytes) -> None:
        sock.sendall(data)
        with self._lock:
            self.sent += len(data)

    def _stall(self, sock: socket.socket, seconds: float) -> None:
        """Wait, reading and discarding, until the client closes, the server stops, or ``seconds`` pass."""
        deadline = time.monotonic() + min(seconds, MAX_STEP)
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            readable, _w, _x = select.select([sock], [], [], min(left, 0.1))
            if readable:
                try:
                    if not sock.recv(65536):
                        return
                except (OSError, ssl.SSLError):
                    return


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def _read_request(sock: socket.socket, pending: bytes, server: str, index: int) -> tuple[Request | None, bytes]:
    data = pending
    while b"\r\n\r\n" not in data:
        if len(data) > _MAX_REQUEST_HEAD:
            return None, b""
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, _sep, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return None, b""
    method, target, _version = parts
    headers = []
    for line in lines[1:]:
        name, _colon, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    length = next((int(value) for name, value in headers if name.lower() == "content-length"), 0)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    body, rest = rest[:length], rest[length:]
    split = urlsplit(target)
    return (
        Request(
            server=server,
            method=method,
            target=target,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=headers,
            body=body,
            connection=index,
        ),
        rest,
    )
