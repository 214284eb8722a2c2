# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""Addresses a registry has no business steering the client to, by its token realm or by a redirect.

As go-containerregistry does for realms: a link-local (169.254.0.0/16, fe80::/10, the cloud metadata service) or
unspecified (0.0.0.0, ::) IP literal always; a loopback or private one unless the registry is on that same host (a
registry on 127.0.0.1 or 10.0.0.5 with its token service beside it is fine). A redirect is held to the first
rule only (``never_address``).

An IP literal is whatever the system resolver reads as one without asking DNS, and glibc's getaddrinfo reads
IPv4 the way inet_aton does: ``2852039166``, ``0xa9fea9fe``, ``169.254.43518`` and ``0251.0376.0251.0376`` are all
169.254.169.254, ``0`` is 0.0.0.0. A check that knew only the dotted form would let those through.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

# What inet_aton reads: decimal, octal and hexadecimal parts, one to four of them.
_INET_ATON_CHARS = frozenset("0123456789abcdefxABCDEFX.")


def internal_address(url: str, registry_url: str) -> str | None:
    """Why ``url`` is on an address the registry at ``registry_url`` must not send the client to, or None."""
    address = ip_literal(urlsplit(url).hostname or "")
    if address is None:
        return None
    never = _never(address)
    if never or not (address.is_loopback or address.is_private):
        return never
    registry_host = urlsplit(registry_url).hostname or ""
    registry_address = ip_literal(registry_host)
    same = registry_address == address or (
        address.is_loopback
        and (registry_host == "localhost" or (registry_address is not None and registry_address.is_loopback))
    )
    if same:
        return None
    return f"{'a loopback' if address.is_loopback else 'a private'} address, and the registry is not on that host"


def never_address(url: str) -> str | None:
    """Why ``url`` is on an address no registry may send the client to, whatever its own host, or None.

    Redirects are held to this alone: a registry's storage (MinIO, a proxy) often lives on a private address the
    registry's name does not show, and a redirect carries no credentials to another host.
    """
    address = ip_literal(urlsplit(url).hostname or "")
    return None if address is None else _never(address)


def _never(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if address.is_link_local:
        return "a link-local address"
    return "an unspecified address" if address.is_unspecified else None


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``host`` names without DNS (an IPv4-mapped IPv6 address as its IPv4 address), or None."""
    text = host.split("%", 1)[0]
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(text)
    except ValueError:
        if not text or not set(text) <= _INET_ATON_CHARS:
            return None
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
