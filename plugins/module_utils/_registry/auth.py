# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""The token flow: challenges, token requests, and what a 401 means. Where a realm may be is ``realms.py``'s
question, how long a token lives and where it is kept ``tokens.py``'s.

For each request ``Authenticator.send`` attaches what the registry asked for last time (a Bearer token or Basic
credentials), or, for a host it has not heard from, sends the request bare and reads the challenge from the
``401``. Tokens are cached per (realm, service, identity, scope) for their lifetime.

Fewest round trips: the repositories a run will ask about are known up front (``expect``), so the first token
request for a realm carries every scope the run needs there with the same identity (repeated ``scope``
parameters, as the Distribution token spec allows). A token server that grants only some of them makes the
registry answer ``401 insufficient_scope`` for the others; those then get a token of their own, once.

Thread safety: one lock guards the caches; a lock per host makes the first request to a host the only one that
collects a challenge, and a lock per (realm, service, identity) makes one thread fetch a token while the others
wait for it.
"""

from __future__ import annotations

import re
import threading
import time
import typing as t

from .credentials import CredentialStore, Identity, basic_header
from .errors import AuthenticationError, ProtocolError, shortened
from .headers import Challenge, parse_www_authenticate
from .realms import check_realm_scheme, resolved_realm
from .replies import failure, insufficient_scope, json_body, rejected, token_refused
from .tokens import Token, TokenCache, lifetime
from .transport import MAX_TOKEN_BODY, Reply, Transport, strip_query

if t.TYPE_CHECKING:
    from .reference import ImageReference

# OAuth2 client_id sent with identity tokens (the token spec requires one).
CLIENT_ID = "tagscope.registry"
# What a token may hold (visible ASCII: JWTs and RFC 6750 b64tokens are), to go in a header as it is.
_HEADER_TOKEN = re.compile(r"[!-~]+")
# Scopes in one token request; a URL with hundreds of them would outgrow what servers accept.
MAX_SCOPES_PER_TOKEN = 30


class Authenticator:
    def __init__(self, transport: Transport, store: CredentialStore, cache: TokenCache | None = None) -> None:
        self.transport = transport
        self.store = store
        self.cache = cache or TokenCache()
        self._expected: dict[str, dict[str, ImageReference]] = {}
        self._locks: dict[t.Any, threading.Lock] = {}

    def expect(self, refs: t.Iterable[ImageReference]) -> None:
        """The repositories this run will ask about, so one token request can cover them."""
        for ref in refs:
            self._expected.setdefault(ref.api_host, {})[ref.repository] = ref

    def send(
        self, method: str, url: str, ref: ImageReference, *, headers: dict[str, str] | None = None, limit: int
    ) -> Reply:
        """``method url`` with the authorization the registry wants; raises for a 401 that cannot be cured."""
        identity = self.store.identity_for(ref)
        if identity.bearer_token:
            # A pre-obtained token goes to the registry as it is; nothing to negotiate.
            response = self.transport.send(
                method, url, headers=_with(headers, f"Bearer {identity.bearer_token}"), limit=limit
            )
            if response.status_code == 401:
                raise rejected(response, method, url, identity)
            return response
        host = ref.api_host
        scope = f"repository:{ref.repository}:pull"
        sent = self._authorization(host, scope, url, identity)
        if sent is None:
            # The first request to a host collects its challenge and a token; the others wait for them.
            learned = None
            with self._lock(("host", host)):
                sent = self._authorization(host, scope, url, identity)
                if sent is None:
                    response = self.transport.send(method, url, headers=headers, limit=limit)
                    if response.status_code != 401:
                        return response
                    self._learn(response, method, url, identity, host)
                    learned = self._authorization(host, scope, url, identity)
            if learned is not None:
                # Sent outside the lock: the other threads go on with the token meanwhile.
                return self._retry(method, url, headers=headers, limit=limit, identity=identity, authorization=learned)
        response = self.transport.send(method, url, headers=_with(headers, sent), limit=limit)
        if response.status_code != 401:
            return response
        challenge = self._learn(response, method, url, identity, host)
        if challenge.scheme == "basic" and sent and sent.startswith("Basic "):
            raise rejected(response, method, url, identity)
        # A token we sent expired, or lacked the scope: a fresh one, once (a token of its own for the scope
        # when a shared token did not cover it).
        alone = insufficient_scope(response)
        retry = self._authorization(host, scope, url, identity, rejected=sent, alone=alone)
        return self._retry(method, url, headers=headers, limit=limit, identity=identity, authorization=retry)

    def _retry(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None,
        limit: int,
        identity: Identity,
        authorization: str | None,
    ) -> Reply:
        response = self.transport.send(method, url, headers=_with(headers, authorization), limit=limit)
        if response.status_code == 401:
            raise rejected(response, method, url, identity)
        return response

    def _learn(self, response: Reply, method: str, url: str, identity: Identity, host: str) -> Challenge:
        """Read and remember the challenge of a 401; refuse what cannot be answered."""
        challenge = _pick_challenge(response, method, url)
        with self.cache.lock:
            self.cache.challenges[host] = challenge
        if challenge.scheme == "basic" and identity.basic_header() is None:
            raise AuthenticationError(
                "401 UNAUTHORIZED: the registry requires credentials (Basic challenge)",
                method=method,
                url=url,
                status=401,
                code="UNAUTHORIZED",
                hint="set username and password for this registry, or log in with docker login or podman login",
            )
        return challenge

    def _authorization(
        self,
        host: str,
        scope: str,
        url: str,
        identity: Identity,
        *,
        rejected: str | None = None,
        alone: bool = False,
    ) -> str | None:
        """The Authorization header for ``scope``; never ``rejected``, the one the registry just refused."""
        with self.cache.lock:
            challenge = self.cache.challenges.get(host)
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            return identity.basic_header()
        stale = rejected[len("Bearer ") :] if rejected and rejected.startswith("Bearer ") else None
        return f"Bearer {self._token(challenge, host, scope, url, identity, stale=stale, alone=alone)}"

    def _token(
        self,
        challenge: Challenge,
        host: str,
        scope: str,
        url: str,
        identity: Identity,
        *,
        stale: str | None,
        alone: bool,
    ) -> str:
        realm = challenge.params["realm"]  # absolute and checked, see realms.resolved_realm()
        service = challenge.params.get("service", "")
        base = (realm, service, identity.cache_key)
        key = (*base, scope)

        def usable(token: Token | None) -> bool:
            return token is not None and token.fresh and token.value != stale

        with self.cache.lock:
            if alone:
                self.cache.alone.add(key)
            held = self.cache.tokens.get(key)
        if usable(held):
            # The common case, without the fetch lock: requests with a held token never wait for another fetch.
            return t.cast(Token, held).value
        with self._lock(("token", base)):
            with self.cache.lock:
                held = self.cache.tokens.get(key)
                alone = key in self.cache.alone
            # Another thread may have replaced the token while this one waited: one fetch serves them all.
            if usable(held):
                return t.cast(Token, held).value
            scopes = [scope] if alone else [scope, *self._companions(host, base, scope, identity)]
            token = self._fetch(realm, service, scopes, identity, url)
            with self.cache.lock:
                for each in scopes:
                    self.cache.tokens[(*base, each)] = token
            return token.value

    def _companions(self, host: str, base: tuple[str, str, str], scope: str, identity: Identity) -> list[str]:
        """The other scopes the run needs on this host with this identity and holds no fresh token for."""
        companions = []
        for ref in self._expected.get(host, {}).values():
            other = f"repository:{ref.repository}:pull"
            if other == scope or len(companions) >= MAX_SCOPES_PER_TOKEN - 1:
                continue
            with self.cache.lock:
                held = self.cache.tokens.get((*base, other))
                single = (*base, other) in self.cache.alone
            if single or (held and held.fresh):
                continue
            if self.store.identity_for(ref).cache_key == identity.cache_key:
                companions.append(other)
        return companions

    def _fetch(self, realm: str, service: str, scopes: list[str], identity: Identity, registry_url: str) -> Token:
        check_realm_scheme(realm, registry_url, identity)
        shown = strip_query(realm)
        response = self._oauth(realm, service, scopes, identity) if identity.identity_token else None
        if response is None:
            params = [("service", service)] if service else []
            params += [("scope", scope) for scope in scopes]
            basic = identity.basic_header() or (
                # After a 404 to the OAuth2 POST: registries such as ACR take the refresh token as a password.
                basic_header(identity.username or "<token>", identity.identity_token)
                if identity.identity_token
                else None
            )
            response = self.transport.send(
                "GET", realm, headers={"Authorization": basic} if basic else {}, params=params, limit=MAX_TOKEN_BODY
            )
        refused = token_refused(response, identity, shown)
        if refused is not None:
            raise refused
        if response.status_code != 200:
            raise failure(response, None, response.method, shown)
        # A reply that is not JSON is quoted to show what answered (a login page, say), unless it may be a token
        # reply cut short: one that mentions a token.
        body = json_body(response, response.method, shown, quote=b"token" not in response.content)
        value = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise ProtocolError(
                "token response has neither 'token' nor 'access_token'",
                method=response.method,
                url=shown,
                status=200,
            )
        if not _HEADER_TOKEN.fullmatch(value):
            # Sent on, a line break would split the header (requests refuses it, quoting the header, token and
            # all) and a character beyond latin-1 would not encode.
            raise ProtocolError(
                "token response has a token that is not printable ASCII, which no Authorization header can carry",
                method=response.method,
                url=shown,
                status=200,
                hint="the token service misbehaves",
            )
        return Token(value=value, expires_at=time.monotonic() + lifetime(body))

    def _oauth(self, realm: str, service: str, scopes: list[str], identity: Identity) -> Reply | None:
        """OAuth2 refresh-token grant (ACR after az acr login); None when the server has no OAuth2 (404/405)."""
        form = {
            "grant_type": "refresh_token",
            "refresh_token": t.cast(str, identity.identity_token),
            "client_id": CLIENT_ID,
            # OAuth2 takes one space-separated scope parameter.
            "scope": " ".join(scopes),
        }
        if service:
            form["service"] = service
        response = self.transport.send("POST", realm, data=form, limit=MAX_TOKEN_BODY)
        return None if response.status_code in (404, 405) else response

    def _lock(self, key: t.Any) -> threading.Lock:
        with self.cache.lock:
            return self._locks.setdefault(key, threading.Lock())


def _with(headers: dict[str, str] | None, authorization: str | None) -> dict[str, str]:
    merged = dict(headers or {})
    if authorization:
        merged["Authorization"] = authorization
    return merged


def _pick_challenge(response: Reply, method: str, url: str) -> Challenge:
    try:
        challenges = parse_www_authenticate(response.headers.get("WWW-Authenticate"))
    except ProtocolError as exc:
        raise exc.at(method=method, url=url, status=401) from None
    for scheme in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == scheme:
                return resolved_realm(challenge, method, url) if scheme == "bearer" else challenge
    # Scheme names are the registry's words, as long as it likes: a few of them.
    offered = shortened(", ".join(c.scheme for c in challenges), 100) or "none"
    raise AuthenticationError(
        f"401 UNAUTHORIZED and no Bearer or Basic challenge (offered: {offered})",
        method=method,
        url=url,
        status=401,
        hint="this registry needs an authentication scheme tagscope.registry does not speak",
    )
