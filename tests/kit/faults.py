"""A scripted TLS server on 127.0.0.1 for faults a real registry will not produce.

A test sets ``server.handler`` to a function from Request to Reply; every
request is recorded in ``server.requests``. Used for: relative or query-bearing
realms, challenges without ``service``, several challenges, tokens that expire
mid-walk, foreign or relative ``Link`` headers, ``null`` tags, 429, HTML errors.
A whole registry behind a Bearer challenge, with its token service, is a handler
for this server: ``bearer.BearerRegistry``.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import ssl
import struct
import threading
import time
import typing as t
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter

from .pki import make_pki


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    # The client's port: requests on one kept-alive connection share it.
    port: int = 0

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class Reply:
    status: int = 200
    body: t.Any = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    # Seconds to wait before answering (a slow server).
    delay: float = 0.0
    # Drop the connection with a TCP reset instead of answering.
    reset: bool = False
    # Announce this Content-Length instead of the body's, send the body, then hold the connection open this many
    # seconds before closing it: a server that stalls in the middle of a large body.
    length: int | None = None
    stall: float = 0.0
    # The reason phrase of the status line; None for the standard one, "" for none at all.
    reason: str | None = None

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


def json_reply(body: t.Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Reply:
    return Reply(status, body, [("Content-Type", "application/json"), *(headers or [])])


class FaultServer:
    def __init__(self, pki_dir: Path, *, tls: bool = True) -> None:
        self.tls = tls
        self.pki = (
            make_pki(pki_dir)
            if not (pki_dir / "ca.crt").exists()
            else {
                "ca": str(pki_dir / "ca.crt"),
                "server_cert": str(pki_dir / "server.crt"),
                "server_key": str(pki_dir / "server.key"),
            }
        )
        self.requests: list[Request] = []
        self.handler: t.Callable[[Request], Reply] = lambda request: Reply(404)
        self._server: ThreadingHTTPServer | None = None
        self._stopping = threading.Event()
        self._open = 0
        self._open_lock = threading.Lock()

    @property
    def ca(self) -> str:
        return self.pki["ca"]

    @property
    def host(self) -> str:
        assert self._server is not None
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def open_connections(self) -> int:
        """Connections the server still holds open (a client that keeps them alive, or has not closed them)."""
        with self._open_lock:
            return self._open

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def start(self) -> FaultServer:
        owner = self
        self._stopping.clear()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
                pass

            def setup(self) -> None:
                with owner._open_lock:
                    owner._open += 1
                super().setup()

            def finish(self) -> None:
                try:
                    super().finish()
                finally:
                    with owner._open_lock:
                        owner._open -= 1

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers=dict(self.headers.items()),
                    body=self.rfile.read(length) if length else b"",
                    port=self.client_address[1],
                )
                owner.requests.append(request)
                reply = owner.handler(request)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.reset:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    self.wfile = io.BytesIO()  # what the base class flushes after us goes nowhere
                    return
                data = reply.payload()
                self.send_response(reply.status, reply.reason)
                for key, value in reply.headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data) if reply.length is None else reply.length))
                self.end_headers()
                if self.command != "HEAD":
                    # The client may have given up first (a timeout, a body it refused to read): expected.
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError, ssl.SSLError):
                        self.wfile.write(data)
                        self.wfile.flush()
                if reply.stall:
                    owner._stopping.wait(reply.stall)
                    self.close_connection = True

            do_GET = do_HEAD = do_POST = _handle  # noqa: N815

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.pki["server_cert"], self.pki["server_key"])
            server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class RecordingAdapter(BaseAdapter):
    """Stands where a connection to an address a test must never reach would be made: records the request, connects
    nowhere. Mounted on a session for every prefix but the test's own servers, it proves that a refusal happened
    before any connection was attempted."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts: list[str] = []

    def send(self, request: requests.PreparedRequest, **kwargs: t.Any) -> requests.Response:
        self.attempts.append(str(request.url))
        raise requests.exceptions.ConnectionError("a test must not connect here")

    def close(self) -> None:
        pass
