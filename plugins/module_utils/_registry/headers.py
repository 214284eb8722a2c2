# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""Parsers for the two headers the token flow depends on.

``WWW-Authenticate`` follows RFC 7235: several challenges may share one header
(or arrive as several header lines, which HTTP clients join with ``,``),
parameter values may be quoted strings holding commas and backslash escapes,
and scheme and parameter names are case-insensitive. ``Link`` follows RFC 8288.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from .errors import ProtocolError, shortened

# What a message shows of a malformed header: where it goes wrong is usually in its first characters.
_SHOWN = 100

_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TOKEN68_CHARS = frozenset("-._~+/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True)
class Challenge:
    """One authentication challenge; ``scheme`` is lowercase, as are param names."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_space(self) -> None:
        while self.peek() in (" ", "\t"):
            self.pos += 1

    def skip_space_and_commas(self) -> None:
        while self.peek() in (" ", "\t", ","):
            self.pos += 1

    def token(self) -> str:
        start = self.pos
        while self.peek() and self.peek() in _TOKEN_CHARS:
            self.pos += 1
        return self.text[start : self.pos]

    def token68(self) -> str:
        start = self.pos
        while self.peek() and self.peek() in _TOKEN68_CHARS:
            self.pos += 1
        if self.pos > start:
            while self.peek() == "=":
                self.pos += 1
        return self.text[start : self.pos]

    def bare_value(self) -> str:
        """An unquoted parameter value, read leniently up to a comma or space: docker's and regclient's parsers
        take ``realm=/`` or ``realm=https://auth.example.com/token`` unquoted, though RFC 7235 wants a token."""
        start = self.pos
        while self.peek() and self.peek() not in (",", " ", "\t", '"'):
            self.pos += 1
        return self.text[start : self.pos]

    def quoted(self) -> str:
        # Caller has seen the opening quote.
        self.pos += 1
        out: list[str] = []
        while True:
            ch = self.peek()
            if not ch:
                raise ProtocolError(f"unterminated quoted string in header {_quoted(self.text)}")
            self.pos += 1
            if ch == "\\":
                escaped = self.peek()
                if escaped:
                    out.append(escaped)
                    self.pos += 1
            elif ch == '"':
                return "".join(out)
            else:
                out.append(ch)


def parse_www_authenticate(value: str | None) -> list[Challenge]:
    """Return every challenge in a ``WWW-Authenticate`` value, in order.

    Raises ProtocolError for text that is not a challenge list at all.
    """
    if not value:
        return []
    scanner = _Scanner(value)
    challenges: list[Challenge] = []
    scanner.skip_space_and_commas()
    while not scanner.at_end():
        scheme = scanner.token()
        if not scheme:
            raise ProtocolError(
                f"malformed WWW-Authenticate header {_quoted(value)}: expected an auth scheme at offset {scanner.pos}"
            )
        params: dict[str, str] = {}
        scanner.skip_space()
        mark = scanner.pos
        candidate = scanner.token68()
        scanner.skip_space()
        # A token68 challenge (Negotiate, NTLM) has no parameters; no registry flow reads its token.
        if not (candidate and (scanner.at_end() or scanner.peek() == ",")):
            scanner.pos = mark
            params = _params(scanner, value)
        challenges.append(Challenge(scheme=scheme.lower(), params=params))
        scanner.skip_space_and_commas()
    return challenges


def _params(scanner: _Scanner, value: str) -> dict[str, str]:
    """A challenge's parameters, until a token that is not followed by "=", which starts the next challenge."""
    params: dict[str, str] = {}
    while not scanner.at_end():
        scanner.skip_space_and_commas()
        mark = scanner.pos
        name = scanner.token()
        if not name:
            if scanner.at_end():
                break
            raise ProtocolError(
                f"malformed WWW-Authenticate header {_quoted(value)}: unexpected {scanner.peek()!r} "
                f"at offset {scanner.pos}"
            )
        scanner.skip_space()
        if scanner.peek() != "=":
            scanner.pos = mark
            break
        scanner.pos += 1
        scanner.skip_space()
        params[name.lower()] = scanner.quoted() if scanner.peek() == '"' else scanner.bare_value()
        scanner.skip_space()
    return params


def next_link(value: str | None, request_url: str) -> str | None:
    """The absolute URL of the ``rel="next"`` link in a ``Link`` value, if any.

    Relative links resolve against ``request_url`` and are otherwise kept
    verbatim (registries put opaque cursors in them). A link to another origin
    is refused: following it would send the registry's token elsewhere.
    """
    if not value:
        return None
    for target, params in _links(value):
        rels = params.get("rel", "").lower().split()
        if "next" not in rels:
            continue
        try:
            absolute = urljoin(request_url, target)
            foreign = _origin(absolute) != _origin(request_url)
        except ValueError as exc:  # a bad port or IPv6 literal
            raise ProtocolError(f"registry sent a next-page Link that is not a valid URL ({exc})") from None
        if foreign:
            raise ProtocolError(f"registry sent a next-page Link to another origin, {_origin_text(absolute)}")
        return absolute
    return None


def _links(value: str) -> list[tuple[str, dict[str, str]]]:
    scanner = _Scanner(value)
    links: list[tuple[str, dict[str, str]]] = []
    while True:
        scanner.skip_space_and_commas()
        if scanner.at_end():
            return links
        if scanner.peek() != "<":
            raise ProtocolError(f"malformed Link header {_quoted(value)}: expected '<' at offset {scanner.pos}")
        end = value.find(">", scanner.pos)
        if end < 0:
            raise ProtocolError(f"malformed Link header {_quoted(value)}: unterminated '<'")
        target = value[scanner.pos + 1 : end].strip()
        scanner.pos = end + 1
        params: dict[str, str] = {}
        while True:
            scanner.skip_space()
            if scanner.peek() != ";":
                break
            scanner.pos += 1
            scanner.skip_space()
            name = scanner.token().lower()
            scanner.skip_space()
            if scanner.peek() == "=":
                scanner.pos += 1
                scanner.skip_space()
                params[name] = scanner.quoted() if scanner.peek() == '"' else scanner.token()
            elif name:
                params[name] = ""
        links.append((target, params))
        scanner.skip_space()
        if not scanner.at_end() and scanner.peek() != ",":
            raise ProtocolError(
                f"malformed Link header {_quoted(value)}: unexpected {scanner.peek()!r} at offset {scanner.pos}"
            )


def _origin_text(url: str) -> str:
    scheme, host, port = _origin(url)
    return shortened(f"{scheme}://{host}:{port}")  # the host is the registry's to choose, at any length


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return (parts.scheme.lower(), (parts.hostname or "").lower(), port)


def _quoted(value: str) -> str:
    """A header as messages show it: quoted, and cut when long (a hostile registry sends tens of kilobytes)."""
    return repr(value) if len(value) <= _SHOWN else f"{value[:_SHOWN]!r}..."
