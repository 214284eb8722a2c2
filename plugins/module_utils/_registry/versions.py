# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""Version-like tags: parsing, ordering and constraints.

A version tag is an optional ``v``, one or more dot-separated numbers (loose:
``3``, ``2.1``, ``1.10.0``, ``1.2.3.4``), an optional prerelease after ``-``
(``1.2.0-rc.1``) and optional build metadata after ``+`` or ``_`` (tags cannot
hold ``+``, so images use ``_``: ``1.10.0_build.7``). Precedence follows
SemVer 2.0: numbers compare numerically with missing parts as zero, a
prerelease ranks below its release, build metadata is ignored. Any other tag
(``latest``, ``sha-1a2b3c4``, ``nightly-20261128``) is not a version.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field

from .errors import ConfigurationError

_VERSION = re.compile(
    r"(?P<v>[vV])?(?P<release>[0-9]+(?:\.[0-9]+)*)"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:[+_](?P<build>[0-9A-Za-z._-]+))?"
)


@dataclass(frozen=True)
class Version:
    text: str
    release: tuple[int, ...]
    prerelease: tuple[str, ...] = ()
    build: str = ""
    key: tuple[t.Any, ...] = field(compare=False, repr=False, default=())

    @classmethod
    def parse(cls, text: str) -> Version | None:
        match = _VERSION.fullmatch(text)
        if not match:
            return None
        release = tuple(int(part) for part in match.group("release").split("."))
        prerelease = tuple(match.group("pre").split(".")) if match.group("pre") else ()
        return cls(text, release, prerelease, match.group("build") or "", _key(release, prerelease))

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)


def _key(release: tuple[int, ...], prerelease: tuple[str, ...]) -> tuple[t.Any, ...]:
    # Trailing zeros do not count: 1.2 == 1.2.0.
    trimmed = list(release)
    while len(trimmed) > 1 and trimmed[-1] == 0:
        trimmed.pop()
    if not prerelease:
        # A release ranks above every prerelease of the same numbers.
        return (tuple(trimmed), 1, ())
    identifiers = tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in prerelease)
    return (tuple(trimmed), 0, identifiers)


def sort_key(version: Version) -> tuple[t.Any, ...]:
    """Precedence first; equal precedence (1.2 and v1.2.0) falls back to the text, for a stable order."""
    return (version.key, version.text)


_OPERATORS: dict[str, t.Callable[[tuple[t.Any, ...], tuple[t.Any, ...]], bool]] = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
}
_CLAUSE = re.compile(r"\s*(>=|<=|==|!=|>|<|=)?\s*(\S+?)\s*")


@dataclass(frozen=True)
class Constraint:
    """Comma-separated clauses that must all hold: ``>=1.2,<2``, ``!=1.4.0``, ``1.5``.

    ``<V`` excludes the prereleases of ``V`` itself unless ``V`` is a prerelease.
    """

    text: str
    clauses: tuple[tuple[str, Version], ...]

    @classmethod
    def parse(cls, text: str) -> Constraint:
        clauses = []
        for raw in text.split(","):
            match = _CLAUSE.fullmatch(raw)
            version = Version.parse(match.group(2)) if match else None
            if not raw.strip() or not match or version is None:
                raise ConfigurationError(
                    f"version constraint {text!r}: cannot read clause {raw.strip()!r}",
                    hint="write clauses like >=1.2,<2 (operators >= <= > < == !=, versions like 1.2.3)",
                )
            operator = match.group(1) or "=="
            clauses.append(("==" if operator == "=" else operator, version))
        return cls(text, tuple(clauses))

    def allows(self, version: Version) -> bool:
        return all(_allows(op, bound, version) for op, bound in self.clauses)


def _allows(op: str, bound: Version, version: Version) -> bool:
    # As in PEP 440: "<2" means before 2's prereleases too, so that ">=1,<2"
    # never picks 2.0.0-rc.1; "<2.0.0-rc.2" does allow 2.0.0-rc.1.
    if op == "<" and version.is_prerelease and not bound.is_prerelease and version.key[0] == bound.key[0]:
        return False
    return _OPERATORS[op](version.key, bound.key)
