"""The kit's own servers, run as one process: ``python -m tests.kit.servers CONFIG``.

- a token server implementing the distribution token spec (GET with optional
  Basic credentials; anonymous pull on ``public/`` and ``signed/``; ``team-a/`` and ``team-b/``
  for their own user only), signing RS256 JWTs that the
  real registry verifies against ``signing.crt`` through the ``kid`` header;
- a paging front for the real registry: Distribution 2.8 ignores ``n``/``last``
  on tags/list, so this front pages like Distribution 3.x (sorted, ``last``
  exclusive, ``Link: <...>; rel="next"``) and passes every other request, and
  every authentication header, through to the real registry unchanged.

Both listen on 127.0.0.1 over TLS and write their ports to the config's
``ports_file`` once they accept connections.
"""

from __future__ import annotations

import base64
import json
import ssl
import sys
import threading
import time
import typing as t
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from .pki import libtrust_key_id
from .seed import EXAMPLE_REPOS, TEAMS
from .supply_chain import NAMESPACE as SIGNED

DEFAULT_PAGE = 100
MAX_PAGE = 1000


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenIssuer:
    def __init__(self, config: dict[str, t.Any]) -> None:
        self.config = config
        key_bytes = Path(config["signing_key"]).read_bytes()
        self.key = serialization.load_pem_private_key(key_bytes, password=None)
        self.kid = libtrust_key_id(self.key.public_key())
        self.users: dict[str, str] = config["users"]
        # OAuth2 refresh tokens (docker's "identity tokens") handed out by the password grant.
        self.refresh_tokens: dict[str, str] = {}
        self.lock = threading.Lock()
        self.log = open(config["token_log"], "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the server

    def authenticate(self, header: str | None) -> tuple[bool, str | None]:
        """(valid, username); no header means anonymous."""
        if not header:
            return True, None
        scheme, value = ([*header.split(" ", 1), ""])[:2]
        if scheme.lower() != "basic":
            return False, None
        try:
            username, password = ([*base64.b64decode(value).decode("utf-8").split(":", 1), ""])[:2]
        except (ValueError, UnicodeDecodeError):
            return False, None
        # Like ACR, a refresh token also works as a password (any user name).
        if password in self.refresh_tokens:
            return True, self.refresh_tokens[password]
        return self.users.get(username) == password, username

    def oauth(self, form: dict[str, str]) -> tuple[int, dict[str, t.Any], str | None]:
        """The OAuth2 token endpoint (POST): password and refresh_token grants."""
        if not form.get("client_id"):
            return 400, {"error": "invalid_request", "error_description": "client_id required"}, None
        grant = form.get("grant_type")
        if grant == "password":
            user = form.get("username", "")
            if self.users.get(user) != form.get("password"):
                return 401, {"error": "invalid_grant"}, user
        elif grant == "refresh_token":
            found = self.refresh_tokens.get(form.get("refresh_token", ""))
            if found is None:
                return 401, {"error": "invalid_grant"}, None
            user = found
        else:
            return 400, {"error": "unsupported_grant_type"}, None
        body = self.issue(user, form.get("service", ""), form.get("scope", "").split())
        answer: dict[str, t.Any] = {
            "access_token": body["token"],
            "expires_in": body["expires_in"],
            "scope": form.get("scope", ""),
        }
        if grant == "password" and form.get("access_type") == "offline":
            refresh = uuid.uuid4().hex
            self.refresh_tokens[refresh] = user
            answer["refresh_token"] = refresh
        return 200, answer, user

    def mode(self) -> dict[str, t.Any]:
        """What a test asked of the token server (token-mode.json): {"post": "disabled"}, {"scopes": "first"}."""
        mode_file = Path(self.config["mode_file"])
        return json.loads(mode_file.read_text()) if mode_file.exists() else {}

    def post_enabled(self) -> bool:
        return self.mode().get("post") != "disabled"

    def allowed(self, user: str | None, name: str, actions: list[str]) -> list[str]:
        if user == "admin":
            return actions
        team = TEAMS.get(name.split("/", 1)[0])
        if team is not None:
            return [a for a in actions if a == "pull"] if user == team else []
        public = name.startswith(("public/", f"{SIGNED}/"))
        if name in EXAMPLE_REPOS or public or (user and name.startswith("private/")):
            return [a for a in actions if a == "pull"]
        return []

    def issue(self, user: str | None, service: str, scopes: list[str]) -> dict[str, t.Any]:
        access = []
        # {"scopes": "first"}: grant only the first scope asked for, like token servers that ignore the others.
        if self.mode().get("scopes") == "first":
            scopes = scopes[:1]
        for scope in scopes:
            kind, rest = ([*scope.split(":", 1), ""])[:2]
            name, actions = ([*rest.rsplit(":", 1), ""])[:2] if ":" in rest else ("", rest)
            if kind != "repository" or not name:
                continue
            granted = self.allowed(user, name, actions.split(","))
            access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        lifetime = int(self.config.get("token_lifetime", 300))
        claims = {
            "iss": self.config["issuer"],
            "sub": user or "",
            "aud": service,
            "exp": now + lifetime,
            "nbf": now - 1,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        token = f"{signing_input}.{_b64url(signature)}"
        issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        return {"token": token, "access_token": token, "expires_in": lifetime, "issued_at": issued}

    def record(self, line: str) -> None:
        with self.lock:
            self.log.write(f"{time.strftime('%H:%M:%S')} {line}\n")
            self.log.flush()


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def send_json(self, status: int, body: t.Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def token_handler(issuer: TokenIssuer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Quiet):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != "/token":
                self.send_json(404, {"errors": [{"code": "NOT_FOUND", "message": "no such endpoint"}]})
                return
            query = parse_qs(parts.query, keep_blank_values=True)
            valid, user = issuer.authenticate(self.headers.get("Authorization"))
            scopes = query.get("scope", [])
            service = (query.get("service") or [""])[0]
            if not valid:
                issuer.record(f"GET /token user={user!r} scopes={scopes} -> 401")
                self.send_json(
                    401,
                    {"errors": [{"code": "UNAUTHORIZED", "message": "invalid username or password"}]},
                    {"WWW-Authenticate": 'Basic realm="tagscope-kit-token"'},
                )
                return
            body = issuer.issue(user, service, scopes)
            issuer.record(f"GET /token user={user!r} service={service!r} scopes={scopes} -> 200")
            self.send_json(200, body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode("utf-8")).items()}
            if urlsplit(self.path).path != "/token" or not issuer.post_enabled():
                issuer.record(f"POST /token grant={form.get('grant_type')} -> 404")
                self.send_json(404, {"errors": [{"code": "NOT_FOUND", "message": "no OAuth2 here"}]})
                return
            status, body, user = issuer.oauth(form)
            scopes = form.get("scope", "").split()
            issuer.record(f"POST /token grant={form.get('grant_type')} user={user!r} scopes={scopes} -> {status}")
            self.send_json(status, body)

    return Handler


def paging_handler(upstream: str, ca: str) -> type[BaseHTTPRequestHandler]:
    session = requests.Session()
    session.trust_env = False

    class Handler(_Quiet):
        def _forward(self) -> requests.Response:
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "accept")}
            # tags/list goes upstream without n/last: the front pages the full list itself.
            url = upstream + urlsplit(self.path).path
            return session.request(self.command, url, headers=headers, verify=ca, allow_redirects=False)

        def _relay(self, response: requests.Response, body: bytes | None = None) -> None:
            data = response.content if body is None else body
            self.send_response(response.status_code)
            for key, value in response.headers.items():
                if key.lower() in (
                    "content-length",
                    "connection",
                    "transfer-encoding",
                    "keep-alive",
                    "date",
                    "server",
                    "content-encoding",
                ):
                    continue
                self.send_header(key, value)
            self.send_header(
                "Content-Length",
                str(len(data)) if self.command != "HEAD" else response.headers.get("Content-Length", "0"),
            )
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def do_HEAD(self) -> None:
            self._relay(self._forward())

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            response = self._forward()
            if not parts.path.endswith("/tags/list") or response.status_code != 200:
                self._relay(response)
                return
            query = parse_qs(parts.query)
            try:
                size = int(query["n"][0]) if "n" in query else DEFAULT_PAGE
            except ValueError:
                size = -1
            if size < 0 or size > MAX_PAGE:
                self.send_json(
                    400,
                    {
                        "errors": [
                            {
                                "code": "PAGINATION_NUMBER_INVALID",
                                "message": "invalid number of results requested",
                                "detail": {"n": query.get("n")},
                            }
                        ]
                    },
                )
                return
            body = response.json()
            tags = sorted(body.get("tags") or [])
            last = query.get("last", [""])[0]
            if last:
                tags = [tag for tag in tags if tag > last]
            page, more = tags[:size], len(tags) > size
            headers = {}
            if more and page:
                headers["Link"] = f'<{parts.path}?last={quote(page[-1])}&n={size}>; rel="next"'
            self.send_json(200, {"name": body.get("name"), "tags": page}, headers)

    return Handler


def _serve(handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(config_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(config["server_cert"], config["server_key"])
    token = _serve(token_handler(TokenIssuer(config)), context)
    ports = {"token": token.server_address[1]}
    if config.get("upstream"):
        paging = _serve(paging_handler(config["upstream"], config["ca"]), context)
        ports["paging"] = paging.server_address[1]
    Path(config["ports_file"]).write_text(json.dumps(ports))
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1])
