"""A fake registry behind a Bearer challenge, with its token service, for the unit tests.

One configurable handler for ``FaultServer`` (``faults.py``) instead of a token server written by hand in every
test file: the client's whole token flow runs over a real connection to 127.0.0.1, nothing is patched. It answers
as Distribution and its token server do: ``401`` with the challenge to a request without a token it knows, a token
at the realm for the scopes the token service grants, ``401 insufficient_scope`` to a token without the
repository's scope, and the tag list or manifest otherwise. The knobs below turn it into the registries real
services are (scopes granted per user or one per token, tokens that expire or are refused, OAuth2 or not, paging
with ``Link``), and ``routes`` hands any path to another handler for a fault.

    faults.handler = registry = BearerRegistry(grants={"alice": ["repository:org/app:pull"]})
    query_images([f"{faults.host}/org/app"], ClientOptions(ca_path=faults.ca, credentials=alice, ...))
    assert [(r.user, r.scopes) for r in registry.token_requests] == [("alice", ["repository:org/app:pull"])]
"""

from __future__ import annotations

import base64
import re
import threading
import typing as t
from dataclasses import dataclass
from urllib.parse import parse_qs

from .faults import Reply, Request, json_reply

Handler = t.Callable[[Request], Reply]
# One page of a tag list: its tags and the Link header that points on (None on the last page).
Page = tuple[t.Sequence[t.Any], t.Optional[str]]

DENIED = {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
DIGEST = "sha256:" + "a" * 64
_REPOSITORY = re.compile(r"/v2/(.+)/(?:tags/list|manifests/[^/]+|blobs/[^/]+)")


def scopes_of(request: Request) -> list[str]:
    """The scopes a token request asks for: GET query parameters, or the POST form's space-separated one."""
    if request.method == "POST":
        # Only the first scope parameter, split on single spaces: repeated parameters or stray spaces are a client
        # bug that tests comparing scopes must see.
        scope = parse_qs(request.body.decode()).get("scope")
        return scope[0].split(" ") if scope else []
    return request.query.get("scope", [])


@dataclass(frozen=True)
class TokenRequest:
    """What one request to the token service carried: who asked, for which scopes, and how."""

    method: str
    # The Basic user at the realm (also "<token>" for a refresh token sent as a password); None when anonymous or
    # for the OAuth2 refresh grant, which names no user.
    user: str | None
    scopes: list[str]
    service: str | None
    # The OAuth2 POST's grant_type; None for a GET.
    grant_type: str | None
    request: Request


class BearerRegistry:
    """A registry and its token service on one server; a ``FaultServer`` handler.

    ``challenge``: the ``WWW-Authenticate`` value of every ``401`` (None: a ``401`` without one; another scheme,
    such as ``Basic realm="r"`` with ``accept``, makes a registry that never sends a client to the token service).
    ``token_path``: where the token service listens (the realm's path).
    ``pages``: the tag list, one (tags, Link) pair per ``?page=N``; ``manifests``: tag or digest to reply, the
    others 404 (None: every manifest exists, with ``DIGEST``); ``answer``: a reply (or handler) for every request
    that holds a good token, instead of tags and manifests.
    ``token``: the token service's reply, as is, instead of issuing ``tok-1``, ``tok-2``... (a fault, or a body
    with ``expires_in`` or claims); a token named in it is honoured. ``token_delay``: seconds the token service
    takes. ``oauth``: the status of the OAuth2 POST (200; 404 or 405 for a token service without OAuth2, 401 for a
    refused refresh token).
    ``grants``: user (None for anonymous) to the scopes the token service puts in that user's tokens (None: every
    scope asked for); ``scopes_per_token``: the most scopes one token carries (Distribution's token server grants
    the first when one token may not cover several repositories).
    ``uses``: how many requests one token is good for (None: any; 0: the registry refuses every token it issued,
    as Docker Hub does for a private repository). ``revoked`` (an attribute): tokens refused as if expired.
    ``accept``: Authorization values taken besides the tokens issued (a given token, Basic credentials).
    ``denied``: the body of every ``401`` (JSON, or bytes as they are; unset, Distribution's UNAUTHORIZED).
    ``routes``: path prefix to a handler that answers those requests instead, token or not (a fault, another
    scheme, a token service that moved).
    """

    def __init__(
        self,
        challenge: str | None = 'Bearer realm="/token",service="reg.example"',
        *,
        token_path: str = "/token",
        pages: t.Sequence[Page] = ((("1.0",), None),),
        manifests: t.Mapping[str, Reply] | None = None,
        answer: Reply | Handler | None = None,
        token: Reply | None = None,
        token_delay: float = 0.0,
        oauth: int = 200,
        grants: t.Mapping[str | None, t.Collection[str]] | None = None,
        scopes_per_token: int | None = None,
        uses: int | None = None,
        accept: t.Collection[str] = (),
        denied: t.Any = None,
        routes: t.Mapping[str, Handler] | None = None,
    ) -> None:
        self.challenge = challenge
        self.token_path = token_path
        self.pages = pages
        self.manifests = manifests
        self.answer = answer
        self.token = token
        self.token_delay = token_delay
        self.oauth = oauth
        self.grants = grants
        self.scopes_per_token = scopes_per_token
        self.uses = uses
        self.accept = accept
        self.denied = DENIED if denied is None else denied
        self.routes = dict(routes or {})
        # Token to the scopes it grants; how often each was taken; the ones the registry stopped taking.
        self.issued: dict[str, frozenset[str]] = {}
        self.used: dict[str, int] = {}
        self.revoked: set[str] = set()
        self.token_requests: list[TokenRequest] = []
        # Requests arrive on the server's threads at once.
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        for prefix, handler in self.routes.items():
            if request.path.startswith(prefix):
                return handler(request)
        if request.path == self.token_path:
            return self._token(request)
        match = _REPOSITORY.fullmatch(request.path)
        repository = match.group(1) if match else None
        refused = self._refusal(request, repository)
        if refused is not None:
            return refused
        if isinstance(self.answer, Reply):
            return self.answer
        if self.answer is not None:
            return self.answer(request)
        if "/manifests/" in request.path:
            return self._manifest(request.path.rsplit("/", 1)[1])
        if request.path.endswith("/tags/list"):
            tags, link = self.pages[int(request.query.get("page", ["0"])[0])]
            return json_reply({"name": repository, "tags": tags}, headers=[("Link", link)] if link else [])
        return Reply(404)

    def refuse(self, request: Request) -> Reply:
        """The ``401`` with the challenge: what a request without a good token gets (also usable as a route)."""
        return self._denial(401, [("WWW-Authenticate", self.challenge)] if self.challenge is not None else [])

    def _manifest(self, reference: str) -> Reply:
        if self.manifests is None:
            return Reply(200, b"{}", [("Docker-Content-Digest", DIGEST)])
        return self.manifests.get(reference) or Reply(404)

    def _denial(self, status: int, headers: list[tuple[str, str]]) -> Reply:
        if isinstance(self.denied, bytes):
            return Reply(status, self.denied, headers)
        return json_reply(self.denied, status, headers)

    def _refusal(self, request: Request, repository: str | None) -> Reply | None:
        """None when the request may have its answer; else the ``401`` a registry sends."""
        authorization = request.header("Authorization") or ""
        if authorization in self.accept:
            return None
        token = authorization[len("Bearer ") :] if authorization.startswith("Bearer ") else ""
        scope = f"repository:{repository}:pull"
        with self.lock:
            granted = self.issued.get(token)
            spent = self.uses is not None and self.used.get(token, 0) >= self.uses
            if granted is None or token in self.revoked or spent:
                return self.refuse(request)
            if repository is not None and scope not in granted:
                # A valid token without the repository's scope: the client may ask for one of its own.
                return self._denial(
                    401, [("WWW-Authenticate", f'{self.challenge},scope="{scope}",error="insufficient_scope"')]
                )
            self.used[token] = self.used.get(token, 0) + 1
        return None

    def _token(self, request: Request) -> Reply:
        asked = scopes_of(request)
        fields = parse_qs(request.body.decode()) if request.method == "POST" else request.query
        # The OAuth2 password grant names its user in the form; everything else in Basic credentials.
        user = fields.get("username", [_basic_user(request.header("Authorization"))])[0]
        with self.lock:
            self.token_requests.append(
                TokenRequest(
                    method=request.method,
                    user=user,
                    scopes=asked,
                    service=fields.get("service", [None])[0],
                    grant_type=fields.get("grant_type", [None])[0] if request.method == "POST" else None,
                    request=request,
                )
            )
        if request.method == "POST" and self.oauth != 200:
            return self._denial(self.oauth, [])
        allowed = asked if self.grants is None else [s for s in asked if s in self.grants.get(user, ())]
        granted = frozenset(allowed[: self.scopes_per_token])
        with self.lock:
            if self.token is None:
                name = f"tok-{len(self.issued) + 1}"
                # OAuth2 answers with access_token, the Distribution GET with token: clients must read both.
                body = {"access_token" if request.method == "POST" else "token": name}
                reply = Reply(200, body, [("Content-Type", "application/json")], delay=self.token_delay)
            else:
                reply = self.token
                body = reply.body if isinstance(reply.body, dict) else {}
                name = body.get("token") or body.get("access_token")
            if isinstance(name, str):
                self.issued[name] = granted
        return reply


def _basic_user(authorization: str | None) -> str | None:
    if not (authorization or "").startswith("Basic "):
        return None
    decoded = base64.b64decode(t.cast(str, authorization)[len("Basic ") :]).decode()
    return decoded.split(":", 1)[0]
