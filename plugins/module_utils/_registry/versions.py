# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""Version-like tags: parsing, ordering and constraints, the way Docker users read tags.

A version tag is an optional ``v``, one or more dot-separated numbers (loose: ``3``, ``2.1``, ``1.10.0``,
``1.2.3.4``), then optionally:

- a prerelease glued to the numbers, as Python and Renovate write them (``3.7.0b1``, ``2.0rc1``);
- a suffix after ``-``, which is either
  - a **prerelease** when it starts with a prerelease word (``alpha``, ``beta``, ``rc``, ``pre``, ``preview``,
    ``dev``, ``snapshot``, ``canary``, ``nightly``, ``next``, ``a``, ``b``, ``c``, ``m``, ``ea``, ``cr``, any case,
    digits allowed after it: ``rc.1``, ``rc1``, ``beta.2``, ``M3``) or is all numbers (``1.0.0-0.3.7``, SemVer); a
    variant may follow the prerelease (``1.0.0-rc.1-alpine``);
  - a **variant** otherwise (``-alpine``, ``-slim``, ``-bookworm``, ``-r1``, ``-jdk17-alpine``): ``3.19-alpine``
    is the stable 3.19 release of the ``alpine`` variant, as in Renovate's docker versioning;
- build metadata after ``_`` (tags cannot hold ``+``, which is also accepted): ``1.10.0_build.7``.

Precedence (what constraints compare) follows SemVer 2.0 on the numbers and the prerelease: numbers compare
numerically with missing parts as zero (``1.4`` equals ``1.4.0``), a prerelease ranks below its release. Variants
and build metadata do not change precedence, so ``>=3.19`` admits ``3.19-alpine`` and ``==1.10.0`` admits
``1.10.0_build.7``. The sort order adds, after precedence, the variant (none first), then the build (a build ranks
after the plain release and builds compare by their numbers: ``_build.7`` before ``_build.10``), then the text.
Any other tag (``latest``, ``sha-1a2b3c4``, ``nightly-20261128``) is not a version.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field

from .errors import ConfigurationError

_VERSION = re.compile(
    r"(?P<v>[vV])?(?P<release>[0-9]+(?:\.[0-9]+)*)"
    r"(?P<glued>[A-Za-z]+[0-9]*(?:\.[0-9]+)*)?"
    r"(?:-(?P<suffix>[0-9A-Za-z][0-9A-Za-z-]*(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:[+_](?P<build>[0-9A-Za-z._-]+))?"
)
_PRERELEASE_WORDS = "alpha|beta|rc|pre|preview|dev|snapshot|canary|nightly|next|a|b|c|m|ea|cr"
# A prerelease suffix, and the variant that may follow it.
_PRERELEASE_SUFFIX = re.compile(
    # An identifier after a dot may start with hyphens (SemVer allows them: ``beta.-2``); a hyphen after one
    # starts the variant (``rc.1-alpine``).
    rf"(?P<pre>(?:{_PRERELEASE_WORDS})(?:[0-9]+)?(?:\.-*[0-9A-Za-z]+)*|[0-9]+(?:\.[0-9]+)*)(?:-(?P<variant>.+))?",
    re.IGNORECASE,
)
_IDENTIFIER_PARTS = re.compile(r"[0-9]+|[^0-9]+")


@dataclass(frozen=True)
class Version:
    text: str
    release: tuple[int, ...]
    prerelease: tuple[str, ...] = ()
    variant: str = ""
    build: str = ""
    # Precedence: numbers and prerelease, what constraints compare.
    key: tuple[t.Any, ...] = field(compare=False, repr=False, default=())

    @classmethod
    def parse(cls, text: str) -> Version | None:
        match = _VERSION.fullmatch(text)
        if not match:
            return None
        release = tuple(int(part) for part in match.group("release").split("."))
        prerelease: list[str] = []
        if match.group("glued"):
            prerelease.extend(_identifiers(match.group("glued")))
        variant = ""
        suffix = match.group("suffix")
        if suffix:
            found = _PRERELEASE_SUFFIX.fullmatch(suffix)
            if found:
                prerelease.extend(_identifiers(found.group("pre"), whole_hyphenated=True))
                variant = (found.group("variant") or "").lower()
            else:
                variant = suffix.lower()
        pre = tuple(prerelease)
        return cls(text, release, pre, variant, match.group("build") or "", _key(release, pre))

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)


def _identifiers(text: str, *, whole_hyphenated: bool = False) -> list[str]:
    """``rc.1``, ``rc1`` and ``RC1`` alike: dot-separated, then split where letters meet digits, lowercase.

    With ``whole_hyphenated`` (a prerelease), an identifier holding a hyphen stays whole: SemVer compares it as
    text, so ``-10`` ranks below ``-9``; split, it would compare by its number.
    """
    return [
        part.lower()
        for chunk in text.split(".")
        if chunk
        for part in ([chunk] if whole_hyphenated and "-" in chunk else _IDENTIFIER_PARTS.findall(chunk))
    ]


def _ranked(identifiers: t.Iterable[str]) -> tuple[tuple[int, int, str], ...]:
    # SemVer: numeric identifiers compare as numbers and rank below alphanumeric ones.
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in identifiers)


def _key(release: tuple[int, ...], prerelease: tuple[str, ...]) -> tuple[t.Any, ...]:
    # Trailing zeros do not count: 1.2 == 1.2.0.
    trimmed = list(release)
    while len(trimmed) > 1 and trimmed[-1] == 0:
        trimmed.pop()
    if not prerelease:
        # A release ranks above every prerelease of the same numbers.
        return (tuple(trimmed), 1, ())
    return (tuple(trimmed), 0, _ranked(prerelease))


def sort_key(version: Version) -> tuple[t.Any, ...]:
    """Precedence, then the variant (none first), then the build (after the plain release), then the text."""
    return (version.key, version.variant, _ranked(_identifiers(version.build)), version.text)


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
        variants = sorted({version.variant for _op, version in clauses if version.variant})
        if len(variants) > 1:
            raise ConfigurationError(
                f"version constraint {text!r} names several variants ({', '.join(variants)})",
                hint="a constraint holds within one variant; write it as >=3.19-alpine,<4-alpine",
            )
        return cls(tuple(clauses))

    def allows(self, version: Version) -> bool:
        if self.variant is not None and version.variant != self.variant:
            return False
        return all(_allows(op, bound, version) for op, bound in self.clauses)

    @property
    def names_prerelease(self) -> bool:
        """A constraint that names a prerelease admits prereleases (PEP 440; Masterminds' semver)."""
        return any(bound.is_prerelease for _op, bound in self.clauses)

    @property
    def variant(self) -> str | None:
        """The variant a clause names (``>=3.19-alpine``): the constraint then holds within it only."""
        named = {bound.variant for _op, bound in self.clauses if bound.variant}
        return named.pop() if len(named) == 1 else None


def _allows(op: str, bound: Version, version: Version) -> bool:
    # As in PEP 440: "<2" means before 2's prereleases too, so that ">=1,<2"
    # never picks 2.0.0-rc.1; "<2.0.0-rc.2" does allow 2.0.0-rc.1.
    if op == "<" and version.is_prerelease and not bound.is_prerelease and version.key[0] == bound.key[0]:
        return False
    return _OPERATORS[op](version.key, bound.key)
