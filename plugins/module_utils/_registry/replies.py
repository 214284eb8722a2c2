# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""From a registry's (or token service's) reply to an error: what went wrong, in the registry's own words,
and what the user can do. One place, so that every error reads the same."""

from __future__ import annotations

import re
import typing as t

from .credentials import Identity
from .errors import AuthenticationError, NotFoundError, ProtocolError, RateLimitedError, RegistryError
from .headers import parse_www_authenticate
from .transport import Reply, parse_retry_after

if t.TYPE_CHECKING:
    from .reference import ImageReference

_EXCERPT = 200
_TAGS_RE = re.compile(r"<[^>]*>")


def failure(response: Reply, ref: ImageReference | None, method: str, url: str) -> RegistryError:
    """The error for a reply that is not a success (and not a 401, see ``rejected``)."""
    status = response.status_code
    code, detail = error_detail(response)
    summary = f"{status} {code or response.reason or ''}".strip() + (f" ({detail})" if detail else "")
    if response.attempts > 1:
        summary += f", after {response.attempts} attempts"
    where = {"method": method, "url": url, "status": status}
    if status == 404 and ref is not None:
        return NotFoundError(
            f"{summary}: repository {ref.name} not found",
            code=code or "NAME_UNKNOWN",
            hint="check the repository name (and its registry host)",
            **where,
        )
    if status == 403:
        return AuthenticationError(
            f"{summary}: access denied",
            code=code or "DENIED",
            hint="check that these credentials may pull this repository",
            **where,
        )
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return RateLimitedError(
            f"{summary}: rate limited by the registry"
            + (f", retry after {retry_after:g} s" if retry_after is not None else ""),
            code=code or "TOOMANYREQUESTS",
            retry_after=retry_after,
            hint="wait, or authenticate to get a higher limit",
            **where,
        )
    return RegistryError(
        summary,
        code=code,
        hint="the registry refused the request" if status < 500 else "the registry failed; try again later",
        **where,
    )


def insufficient_scope(response: Reply) -> bool:
    """A 401 whose challenge says the token lacks the scope (``error="insufficient_scope"``)."""
    try:
        challenges = parse_www_authenticate(response.headers.get("WWW-Authenticate"))
    except ProtocolError:
        return False
    return any(c.params.get("error") == "insufficient_scope" for c in challenges)


def rejected(response: Reply, method: str, url: str, identity: Identity) -> RegistryError:
    """The error for a 401 that a fresh token or credentials did not cure."""
    code, detail = error_detail(response)
    try:
        challenges = parse_www_authenticate(response.headers.get("WWW-Authenticate"))
    except ProtocolError:
        challenges = []
    insufficient = any(c.params.get("error") == "insufficient_scope" for c in challenges)
    summary = f"401 {code or 'UNAUTHORIZED'}" + (f" ({detail})" if detail else "")
    bearer = bool(challenges) and challenges[0].scheme == "bearer"
    where = {"method": method, "url": url, "status": 401, "code": code or "UNAUTHORIZED"}
    if not identity.bearer_token and (insufficient or (bearer and identity.anonymous)):
        # Docker Hub answers 401 with a fresh token for a repository that does not exist or is private.
        return NotFoundError(
            f"{summary}: repository not found or access denied for {identity.describe()}",
            hint="check the repository name"
            + (", or set username and password" if identity.anonymous else " and that this user may pull it"),
            **where,
        )
    return AuthenticationError(
        f"{summary}: the registry rejected the credentials of {identity.describe()}",
        hint="check the token" if identity.bearer_token else "check username and password",
        **where,
    )


def token_refused(response: Reply, identity: Identity, shown: str) -> RegistryError | None:
    """The error for a token service that refused (400/401/403), or None."""
    if response.status_code not in (400, 401, 403) or (response.status_code == 400 and identity.anonymous):
        return None
    code, detail = error_detail(response)
    where = {"method": response.method, "url": shown, "status": response.status_code, "code": code}
    if not identity.anonymous:
        return AuthenticationError(
            f"{response.status_code} {code or 'UNAUTHORIZED'}: the token server rejected "
            f"the credentials of {identity.describe()}" + (f" ({detail})" if detail else ""),
            hint=f"check the credentials in {identity.source}"
            if identity.source not in ("", "options")
            else "check username and password",
            **where,
        )
    return AuthenticationError(
        f"{response.status_code} {code or 'UNAUTHORIZED'}: the token server refuses anonymous access",
        hint="set username and password for this registry, or log in with docker login or podman login",
        **where,
    )


def json_body(response: Reply, method: str, url: str, *, quote: bool = True) -> t.Any:
    """The JSON body, or an error that quotes its start (unless ``quote`` is off: it may hold a token)."""
    try:
        return response.json()
    except ValueError:
        got = repr(excerpt(response.text)) if quote else "something else (not quoted: it may hold a token)"
        raise ProtocolError(
            f"{response.status_code}: expected JSON, got {got}",
            method=method,
            url=url,
            status=response.status_code,
            hint="is this URL a container registry (or its token service)?",
        ) from None


def error_detail(response: Reply) -> tuple[str | None, str | None]:
    """The registry's error code and message from ``{"errors": [...]}``, or an excerpt."""
    if not response.content:
        return None, None
    try:
        body = response.json()
    except ValueError:
        return None, excerpt(response.text) or None
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            code = first.get("code")
            message = first.get("message")
            return (str(code) if code else None, str(message) if message else None)
        for key in ("details", "message", "error"):
            if isinstance(body.get(key), str):
                return None, excerpt(body[key])
    return None, None


def excerpt(text: str) -> str:
    flat = " ".join(_TAGS_RE.sub(" ", text).split())
    return flat if len(flat) <= _EXCERPT else flat[:_EXCERPT] + "..."
