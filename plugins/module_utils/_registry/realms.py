# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""Where a registry may send a client for a token: the realm of a Bearer challenge made absolute (it may be
relative to the registry URL), on no internal address the registry has no business steering to (``addresses.py``),
and over https, or plain http only for a plain-http registry the user allowed, credentials then only to the
registry's own host."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urljoin, urlsplit

from .addresses import internal_address
from .credentials import Identity
from .errors import ProtocolError
from .headers import Challenge
from .transport import strip_query


def resolved_realm(challenge: Challenge, method: str, url: str) -> Challenge:
    """The Bearer challenge with its realm made absolute (it may be relative to the registry URL) and checked."""
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
    check_realm_address(absolute, url, method)
    return replace(challenge, params={**challenge.params, "realm": absolute})


def check_realm_address(realm: str, registry_url: str, method: str) -> None:
    """Refuse a realm on an address a registry has no business steering a client to (see ``addresses.py``), before
    any request goes to the realm."""
    why = internal_address(realm, registry_url)
    if why is None:
        return
    raise ProtocolError(
        f"401 with a Bearer realm {strip_query(realm)} on {why}; refusing to ask it for a token",
        method=method,
        url=registry_url,
        status=401,
        hint="a registry must not steer credentials to internal addresses; check the registry's auth configuration",
    )


def check_realm_scheme(realm: str, registry_url: str, identity: Identity) -> None:
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
