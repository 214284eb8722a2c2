# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""Tokens: how long one lives (``expires_in``, ``issued_at``) and where they are kept between requests and runs."""

from __future__ import annotations

import re
import threading
import time
import typing as t
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

if t.TYPE_CHECKING:
    from .headers import Challenge

DEFAULT_TOKEN_LIFETIME = 60
# Refresh a little before the registry would refuse the token.
TOKEN_EXPIRY_MARGIN = 5.0


@dataclass
class Token:
    value: str = field(repr=False)
    expires_at: float

    @property
    def fresh(self) -> bool:
        return self.expires_at > time.monotonic()


class TokenCache:
    """Challenges and tokens; shareable by the runs of one process (the lookup's calls). Never tags."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.challenges: dict[str, Challenge] = {}
        self.tokens: dict[tuple[str, str, str, str], Token] = {}
        # Scopes a token server would not put in a shared token: they get one of their own.
        self.alone: set[tuple[str, str, str, str]] = set()


# Challenges and tokens for every run of this process (the lookup's calls, a loop's items); never tags. Keys hold
# a keyed hash of the secret, never the secret.
SHARED_TOKENS = TokenCache()


# RFC 3339 as token servers write it: Go's nanoseconds (Docker Hub), a lowercase z, or no zone at all (UTC).
_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d)(?:\.(\d+))?([zZ]|[+-]\d\d:?\d\d)?")


def lifetime(body: dict[str, t.Any], now: datetime | None = None) -> float:
    """Seconds a token stays usable from ``now``, after ``expires_in`` and ``issued_at``."""
    try:
        expires_in = float(body.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer of hundreds of digits
        expires_in = DEFAULT_TOKEN_LIFETIME
    # Written so that NaN (JSON as Python reads it) is the default too: max() would keep it.
    expires_in = expires_in if expires_in >= DEFAULT_TOKEN_LIFETIME else DEFAULT_TOKEN_LIFETIME
    age = 0.0
    issued = issued_time(body.get("issued_at"))
    if issued is not None:
        age = ((now or datetime.now(timezone.utc)) - issued).total_seconds()
        # A token server does not hand out a token that is already expired, nor one from the future: such an
        # issued_at (Go's zero time 0001-01-01T00:00:00Z, a skewed clock) counts as "now", as containers/image
        # does. Trusting it would make every request fetch a new token.
        if age < 0 or age >= expires_in:
            age = 0.0
    return max(0.0, expires_in - age - TOKEN_EXPIRY_MARGIN)


def issued_time(value: t.Any) -> datetime | None:
    """``issued_at`` as an aware datetime, the same on every Python from 3.7; None when it is not RFC 3339."""
    match = _RFC3339.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    seconds, fraction, zone = match.groups()
    try:
        issued = datetime.strptime(f"{seconds[:10]} {seconds[11:]}", "%Y-%m-%d %H:%M:%S").replace(
            microsecond=int((fraction or "0")[:6].ljust(6, "0"))
        )
    except ValueError:
        return None
    offset = timedelta(0)
    if zone and zone not in ("z", "Z"):
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if zone[0] == "-":
            offset = -offset
    if abs(offset) >= timedelta(days=1):
        return None  # +99:00 is no zone; timezone() refuses it
    return issued.replace(tzinfo=timezone(offset))
