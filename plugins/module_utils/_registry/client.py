# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""The registry API client: token flow, token cache, paging, manifest digests."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import time
import typing as t
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

from .credentials import CredentialStore, Identity, basic_header
from .errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    RegistryError,
)
from .headers import Challenge, next_link, parse_www_authenticate
from .reference import ImageReference
from .transport import (
    MAX_MANIFEST_BODY,
    MAX_PAGE_BODY,
    MAX_TOKEN_BODY,
    Reply,
    RetryPolicy,
    Transport,
    parse_retry_after,
    strip_query,
)

if t.TYPE_CHECKING:
    import requests

# OAuth2 client_id sent with identity tokens (the token spec requires one).
CLIENT_ID = "tagscope.registry"

# Listing the four types makes registries answer with the digest `docker pull`
# and `crane digest` report; without them they fall back to schema1.
MANIFEST_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)

DEFAULT_TOKEN_LIFETIME = 60
# Refresh a little before the registry would refuse the token.
TOKEN_EXPIRY_MARGIN = 5.0
MAX_PAGES = 100_000
MAX_TAGS = 1_000_000
_EXCERPT = 200


@dataclass
class _Token:
    value: str = field(repr=False)
    expires_at: float


@dataclass(frozen=True)
class ClientOptions:
    """What a run of the module or the lookup configures."""

    # Explicit credentials (options or environment), for the images on one registry: credentials_registry
    # (normalized), or the only registry of the run when it is None.
    credentials: Identity | None = None
    credentials_registry: str | None = None
    # A docker config.json or podman auth.json to read instead of the usual places.
    auth_file: str | None = None
    # Where HOME, DOCKER_CONFIG, REGISTRY_AUTH_FILE, ... are read (None: the process environment).
    environ: t.Mapping[str, str] | None = None
    validate_certs: bool = True
    ca_path: str | None = None
    timeout: float = 30.0
    page_size: int | None = None
    retries: int = 4
    retry_max_wait: float = 60.0
    # Registries (host[:port]) spoken to over plain HTTP, like docker's insecure-registries.
    http_registries: frozenset[str] = frozenset()

    def verify(self) -> bool | str:
        if self.ca_path:
            if not os.path.exists(self.ca_path):
                raise ConfigurationError(
                    f"ca_path {self.ca_path!r} does not exist",
                    hint="point ca_path at a PEM file (or a c_rehash'd directory) with the registry's CA",
                )
            return self.ca_path
        return self.validate_certs


class RegistryClient:
    """Talks to any number of registries during one run.

    Tokens are cached per (realm, service, scope, identity) for their lifetime;
    the challenge each host answered with is remembered so that later requests
    to that host send credentials up front instead of collecting a 401 first.
    """

    def __init__(self, session: requests.Session, options: ClientOptions) -> None:
        self.options = options
        self.transport = Transport(
            session,
            verify=options.verify(),
            timeout=options.timeout,
            policy=RetryPolicy(retries=options.retries, max_wait=options.retry_max_wait),
        )
        self.store = CredentialStore(
            explicit=options.credentials,
            explicit_registry=options.credentials_registry,
            auth_file=options.auth_file,
            environ=options.environ,
        )
        self._challenges: dict[str, Challenge] = {}
        self._tokens: dict[tuple[str, str, str, str], _Token] = {}

    # -- public API -------------------------------------------------------

    def list_tags(self, ref: ImageReference) -> list[str]:
        """Every tag of the repository, following ``Link: rel="next"`` to the end."""
        url = f"{self._base(ref)}/v2/{ref.repository}/tags/list"
        if self.options.page_size:
            url += f"?n={self.options.page_size}"
        tags: list[str] = []
        seen: set[str] = set()
        visited: set[str] = set()
        while url:
            if url in visited or len(visited) >= MAX_PAGES:
                raise ProtocolError(
                    "registry sent a next-page Link that repeats an earlier page",
                    method="GET",
                    url=url,
                    hint="this is a registry bug; report it to the registry's operator",
                )
            visited.add(url)
            response = self._request("GET", url, ref, limit=MAX_PAGE_BODY)
            if response.status_code != 200:
                self._fail(response, ref, "GET", url)
            body = _json_body(response, "GET", url)
            page = body.get("tags") if isinstance(body, dict) else None
            if page is not None and not isinstance(page, list):
                raise ProtocolError(
                    f"tag list has 'tags' of type {type(page).__name__}, expected a list",
                    method="GET",
                    url=url,
                )
            # Nexus has answered null tags, and pages may overlap: keep the rest.
            for tag in page or []:
                if isinstance(tag, str) and tag not in seen:
                    seen.add(tag)
                    tags.append(tag)
            if len(tags) > MAX_TAGS:
                raise ProtocolError(
                    f"more than {MAX_TAGS:,} tags; refusing to read on",
                    method="GET",
                    url=url,
                    hint="select tags on the registry side, or report the repository to its operator",
                )
            url = _checked_next(response, url)
        return tags

    def manifest_digest(self, ref: ImageReference, reference: str) -> str | None:
        """The digest of the manifest ``reference`` (a tag or digest), or None if absent."""
        url = f"{self._base(ref)}/v2/{ref.repository}/manifests/{reference}"
        headers = {"Accept": ", ".join(MANIFEST_MEDIA_TYPES)}
        response = self._request("HEAD", url, ref, headers=headers)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            self._fail(response, ref, "HEAD", url)
        digest = response.headers.get("Docker-Content-Digest")
        if digest:
            return digest
        # Some registries leave the header off HEAD; the digest is the hash of
        # the manifest bytes exactly as served.
        response = self._request("GET", url, ref, headers=headers, limit=MAX_MANIFEST_BODY)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            self._fail(response, ref, "GET", url)
        return response.headers.get("Docker-Content-Digest") or (
            "sha256:" + hashlib.sha256(response.content).hexdigest()
        )

    # -- requests with authentication ---------------------------------------

    def _base(self, ref: ImageReference) -> str:
        plain = ref.api_host in self.options.http_registries or ref.registry in self.options.http_registries
        return f"{'http' if plain else 'https'}://{ref.api_host}"

    def _request(
        self,
        method: str,
        url: str,
        ref: ImageReference,
        *,
        headers: dict[str, str] | None = None,
        limit: int = 0,
    ) -> Reply:
        scope = f"repository:{ref.repository}:pull"
        host = ref.api_host
        identity = self.store.identity_for(ref)
        if identity.bearer_token:
            # A pre-obtained token goes to the registry as it is; nothing to negotiate.
            response = self.transport.send(
                method, url, headers=_with_auth(headers, f"Bearer {identity.bearer_token}"), limit=limit
            )
            if response.status_code == 401:
                raise self._rejected(response, method, url, identity)
            return response
        sent_auth = self._authorization(host, scope, url, identity, refresh=False)
        response = self.transport.send(method, url, headers=_with_auth(headers, sent_auth), limit=limit)
        if response.status_code != 401:
            return response

        challenge = self._pick_challenge(response, method, url)
        self._challenges[host] = challenge
        if challenge.scheme == "basic" and identity.basic_header() is None:
            raise AuthenticationError(
                "401 UNAUTHORIZED: the registry requires credentials (Basic challenge)",
                method=method,
                url=url,
                status=401,
                code="UNAUTHORIZED",
                hint="set username and password for this registry, or log in with docker login or podman login",
            )
        if challenge.scheme == "basic" and sent_auth and sent_auth.startswith("Basic "):
            raise self._rejected(response, method, url, identity)
        # A bearer token we already sent has expired or lacked the scope: fetch
        # a fresh one, once.
        retry_auth = self._authorization(host, scope, url, identity, refresh=bool(sent_auth))
        response = self.transport.send(method, url, headers=_with_auth(headers, retry_auth), limit=limit)
        if response.status_code == 401:
            raise self._rejected(response, method, url, identity)
        return response

    def _pick_challenge(self, response: Reply, method: str, url: str) -> Challenge:
        try:
            challenges = parse_www_authenticate(response.headers.get("WWW-Authenticate"))
        except ProtocolError as exc:
            raise ProtocolError(exc.message, method=method, url=url, status=401) from None
        for scheme in ("bearer", "basic"):
            for challenge in challenges:
                if challenge.scheme == scheme:
                    return _resolved(challenge, method, url) if scheme == "bearer" else challenge
        offered = ", ".join(c.scheme for c in challenges) or "none"
        raise AuthenticationError(
            f"401 UNAUTHORIZED and no Bearer or Basic challenge (offered: {offered})",
            method=method,
            url=url,
            status=401,
            hint="this registry needs an authentication scheme tagscope.registry does not speak",
        )

    def _authorization(self, host: str, scope: str, url: str, identity: Identity, *, refresh: bool) -> str | None:
        challenge = self._challenges.get(host)
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            return identity.basic_header()
        token = self._token(challenge, scope, url, identity, refresh=refresh)
        return f"Bearer {token}"

    def _token(self, challenge: Challenge, scope: str, url: str, identity: Identity, *, refresh: bool) -> str:
        realm = challenge.params["realm"]  # absolute, checked by _resolved()
        service = challenge.params.get("service", "")
        key = (realm, service, scope, identity.cache_key)
        cached = self._tokens.get(key)
        if cached and not refresh and cached.expires_at > time.monotonic():
            return cached.value
        token = self._fetch_token(realm, service, scope, identity, url)
        self._tokens[key] = token
        return token.value

    def _fetch_token(self, realm: str, service: str, scope: str, identity: Identity, registry_url: str) -> _Token:
        _check_realm(realm, registry_url, identity)
        shown = strip_query(realm)
        response = None
        if identity.identity_token:
            response = self._oauth_token(realm, service, scope, identity)
        if response is None:
            params: list[tuple[str, str]] = []
            if service:
                params.append(("service", service))
            params.append(("scope", scope))
            headers = {}
            basic = identity.basic_header() or (
                # After a 404 to the OAuth2 POST: registries such as ACR take the refresh token as a password.
                basic_header(identity.username or "<token>", identity.identity_token)
                if identity.identity_token
                else None
            )
            if basic:
                headers["Authorization"] = basic
            response = self.transport.send("GET", realm, headers=headers, params=params, limit=MAX_TOKEN_BODY)
        if response.status_code in (400, 401, 403) and not identity.anonymous:
            code, detail = _error_detail(response)
            raise AuthenticationError(
                f"{response.status_code} {code or 'UNAUTHORIZED'}: the token server rejected "
                f"the credentials of {identity.describe()}" + (f" ({detail})" if detail else ""),
                method=response.method,
                url=shown,
                status=response.status_code,
                code=code,
                hint="check username and password"
                if identity.source == "options"
                else f"check the credentials in {identity.source}",
            )
        if response.status_code in (401, 403):
            code, detail = _error_detail(response)
            raise AuthenticationError(
                f"{response.status_code} {code or 'UNAUTHORIZED'}: the token server refuses anonymous access",
                method=response.method,
                url=shown,
                status=response.status_code,
                code=code,
                hint="set username and password for this registry, or log in with docker login or podman login",
            )
        if response.status_code != 200:
            self._fail(response, None, response.method, shown)
        body = _json_body(response, response.method, shown)
        value = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise ProtocolError(
                "token response has neither 'token' nor 'access_token'",
                method=response.method,
                url=shown,
                status=200,
            )
        return _Token(value=value, expires_at=time.monotonic() + _lifetime(body))

    def _oauth_token(self, realm: str, service: str, scope: str, identity: Identity) -> Reply | None:
        """OAuth2 refresh-token grant (ACR after az acr login); None when the server has no OAuth2 (404/405)."""
        form = {
            "grant_type": "refresh_token",
            "refresh_token": t.cast(str, identity.identity_token),
            "client_id": CLIENT_ID,
            "scope": scope,
        }
        if service:
            form["service"] = service
        response = self.transport.send("POST", realm, data=form, limit=MAX_TOKEN_BODY)
        if response.status_code in (404, 405):
            return None
        return response

    # -- errors ---------------------------------------------------------------

    def _rejected(self, response: Reply, method: str, url: str, identity: Identity) -> RegistryError:
        """The error for a 401 that a fresh token or credentials did not cure."""
        code, detail = _error_detail(response)
        try:
            challenges = parse_www_authenticate(response.headers.get("WWW-Authenticate"))
        except ProtocolError:
            challenges = []
        insufficient = any(c.params.get("error") == "insufficient_scope" for c in challenges)
        summary = f"401 {code or 'UNAUTHORIZED'}" + (f" ({detail})" if detail else "")
        bearer = bool(challenges) and challenges[0].scheme == "bearer"
        if not identity.bearer_token and (insufficient or (bearer and identity.anonymous)):
            return NotFoundError(
                f"{summary}: repository not found or access denied for {identity.describe()}",
                method=method,
                url=url,
                status=401,
                code=code or "UNAUTHORIZED",
                hint="check the repository name"
                + (", or set username and password" if identity.anonymous else " and that this user may pull it"),
            )
        return AuthenticationError(
            f"{summary}: the registry rejected the credentials of {identity.describe()}",
            method=method,
            url=url,
            status=401,
            code=code or "UNAUTHORIZED",
            hint="check the token" if identity.bearer_token else "check username and password",
        )

    def _fail(self, response: Reply, ref: ImageReference | None, method: str, url: str) -> t.NoReturn:
        status = response.status_code
        code, detail = _error_detail(response)
        summary = f"{status} {code or response.reason or ''}".strip() + (f" ({detail})" if detail else "")
        if response.attempts > 1:
            summary += f", after {response.attempts} attempts"
        if status == 404 and ref is not None:
            raise NotFoundError(
                f"{summary}: repository {ref.name} not found",
                method=method,
                url=url,
                status=status,
                code=code or "NAME_UNKNOWN",
                hint="check the repository name (and its registry host)",
            )
        if status == 403:
            raise AuthenticationError(
                f"{summary}: access denied",
                method=method,
                url=url,
                status=status,
                code=code or "DENIED",
                hint="check that these credentials may pull this repository",
            )
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise RateLimitedError(
                f"{summary}: rate limited by the registry"
                + (f", retry after {retry_after:g} s" if retry_after is not None else ""),
                method=method,
                url=url,
                status=status,
                code=code or "TOOMANYREQUESTS",
                retry_after=retry_after,
                hint="wait, or authenticate to get a higher limit",
            )
        raise RegistryError(
            summary,
            method=method,
            url=url,
            status=status,
            code=code,
            hint="the registry refused the request" if status < 500 else "the registry failed; try again later",
        )


# -- helpers ------------------------------------------------------------------


def _resolved(challenge: Challenge, method: str, url: str) -> Challenge:
    """The Bearer challenge with its realm made absolute (it may be relative to the registry URL)."""
    realm = challenge.params.get("realm")
    if not realm:
        raise ProtocolError(
            "401 with a Bearer challenge that has no realm",
            method=method,
            url=url,
            status=401,
            hint="the registry's auth configuration is incomplete",
        )
    try:
        absolute = urljoin(url, realm)
        urlsplit(absolute).port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ProtocolError(
            f"401 with a Bearer realm that is not a valid URL ({exc})",
            method=method,
            url=url,
            status=401,
            hint="the registry's auth configuration is broken",
        ) from None
    _check_realm_address(absolute, url, method)
    return replace(challenge, params={**challenge.params, "realm": absolute})


def _check_realm_address(realm: str, registry_url: str, method: str) -> None:
    """Refuse a realm on an address a registry has no business steering a client to.

    As go-containerregistry does: a link-local (169.254.0.0/16, fe80::/10, the cloud metadata service) or
    unspecified (0.0.0.0, ::) IP literal always; a loopback or private one unless the registry is on that same
    host (a registry on 127.0.0.1 or 10.0.0.5 with its token service beside it is fine). Checked before any
    request goes to the realm.
    """
    host = urlsplit(realm).hostname or ""
    address = _ip_literal(host)
    if address is None:
        return
    if address.is_link_local or address.is_unspecified:
        why = "a link-local address" if address.is_link_local else "an unspecified address"
    elif address.is_loopback or address.is_private:
        registry_host = urlsplit(registry_url).hostname or ""
        registry_address = _ip_literal(registry_host)
        same = registry_address == address or (
            address.is_loopback
            and (registry_host == "localhost" or (registry_address is not None and registry_address.is_loopback))
        )
        if same:
            return
        why = f"{'a loopback' if address.is_loopback else 'a private'} address, and the registry is not on that host"
    else:
        return
    raise ProtocolError(
        f"401 with a Bearer realm {strip_query(realm)} on {why}; refusing to ask it for a token",
        method=method,
        url=registry_url,
        status=401,
        hint="a registry must not steer credentials to internal addresses; check the registry's auth configuration",
    )


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _check_realm(realm: str, registry_url: str, identity: Identity) -> None:
    """A realm must be https; plain http only for a plain-http registry the user allowed, and then
    credentials go to it only on the registry's own host."""
    parts, registry = urlsplit(realm), urlsplit(registry_url)
    if parts.scheme == "https":
        return
    if parts.scheme != "http" or registry.scheme != "http":
        raise ProtocolError(
            f"token realm {strip_query(realm)} is not https; refusing to ask it for a token",
            hint="the registry's token service must be served over TLS",
        )
    if not identity.anonymous and parts.hostname != registry.hostname:
        raise ProtocolError(
            f"token realm {strip_query(realm)} is plain http on another host than the registry; "
            "refusing to send it credentials",
            hint="serve the token service over TLS, or on the registry's own host",
        )


def _with_auth(headers: dict[str, str] | None, authorization: str | None) -> dict[str, str]:
    merged = dict(headers or {})
    if authorization:
        merged["Authorization"] = authorization
    return merged


def _checked_next(response: Reply, url: str) -> str | None:
    try:
        return next_link(response.headers.get("Link"), url)
    except ProtocolError as exc:
        raise ProtocolError(
            exc.message, method="GET", url=url, hint="refusing to follow it: it would carry the token elsewhere"
        ) from None


def _json_body(response: Reply, method: str, url: str) -> t.Any:
    try:
        return response.json()
    except ValueError:
        raise ProtocolError(
            f"{response.status_code}: expected JSON, got {_excerpt(response.text)!r}",
            method=method,
            url=url,
            status=response.status_code,
            hint="is this URL a container registry (or its token service)?",
        ) from None


def _error_detail(response: Reply) -> tuple[str | None, str | None]:
    """The registry's error code and message from ``{"errors": [...]}``, or an excerpt."""
    if not response.content:
        return None, None
    try:
        body = response.json()
    except ValueError:
        return None, _excerpt(response.text) or None
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            code = first.get("code")
            message = first.get("message")
            return (str(code) if code else None, str(message) if message else None)
        for key in ("details", "message", "error"):
            if isinstance(body.get(key), str):
                return None, _excerpt(body[key])
    return None, None


_TAGS_RE = re.compile(r"<[^>]*>")


def _excerpt(text: str) -> str:
    flat = " ".join(_TAGS_RE.sub(" ", text).split())
    return flat if len(flat) <= _EXCERPT else flat[:_EXCERPT] + "..."


def _lifetime(body: dict[str, t.Any]) -> float:
    """Seconds a token stays usable from now, after ``expires_in`` and ``issued_at``."""
    try:
        expires_in = float(body.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
    except (TypeError, ValueError):
        expires_in = DEFAULT_TOKEN_LIFETIME
    expires_in = max(expires_in, DEFAULT_TOKEN_LIFETIME)
    age = 0.0
    issued_at = body.get("issued_at")
    if isinstance(issued_at, str):
        try:
            issued = datetime.fromisoformat(issued_at.replace("Z", "+00:00"))
            if issued.tzinfo is None:
                issued = issued.replace(tzinfo=timezone.utc)
            age = (datetime.now(timezone.utc) - issued).total_seconds()
        except (ValueError, OverflowError):
            age = 0.0
        # A token server does not hand out a token that is already expired, nor one from the future: such an
        # issued_at (Go's zero time 0001-01-01T00:00:00Z, a skewed clock) counts as "now", as containers/image
        # does. Trusting it would make every request fetch a new token.
        if age < 0 or age >= expires_in:
            age = 0.0
    return max(0.0, expires_in - age - TOKEN_EXPIRY_MARGIN)
