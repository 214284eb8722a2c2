# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""Choosing tags: regular expressions, version constraints, order, limit, latest."""

from __future__ import annotations

import difflib
import re
import typing as t
from dataclasses import dataclass

from .errors import ConfigurationError
from .table import OPTION, default
from .versions import Constraint, Version, sort_key

SORTS: tuple[str, ...] = OPTION["sort"].choices or ()
# cosign's tags beside an image: its signature, attestations and SBOM, or the OCI referrers tag schema.
DIGEST_TAG = re.compile(r"sha256-[0-9a-f]{64}(?:\.(?:sig|att|sbom))?")


@dataclass(frozen=True)
class Selection:
    """How tags are filtered and ordered. The defaults keep every tag, in version order."""

    include: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()
    constraint: Constraint | None = None
    prereleases: bool = default("prereleases")
    sort: str = default("sort")
    reverse: bool = default("reverse")
    limit: int | None = None
    # Keep tags that name a digest (cosign's sha256-<hex>.sig and friends).
    digest_tags: bool = default("digest_tags")

    @classmethod
    def build(
        cls,
        *,
        include: str | t.Sequence[str] | None = None,
        exclude: str | t.Sequence[str] | None = None,
        constraint: str | None = None,
        prereleases: bool | None = None,
        sort: str | None = None,
        reverse: bool | None = None,
        limit: int | None = None,
        digest_tags: bool | None = None,
    ) -> Selection:
        """Check the selection options; None means "not set" (the default applies)."""
        sort = default("sort") if sort is None else sort
        if sort not in SORTS:
            raise ConfigurationError(f"sort must be one of {', '.join(SORTS)}, got {sort!r}")
        if limit is not None and limit < 1:
            raise ConfigurationError(f"limit must be 1 or more, got {limit}", hint="leave it unset for every tag")
        return cls(
            include=_compile("include", include),
            exclude=_compile("exclude", exclude),
            constraint=Constraint.parse(constraint) if constraint else None,
            prereleases=default("prereleases") if prereleases is None else bool(prereleases),
            sort=sort,
            reverse=default("reverse") if reverse is None else bool(reverse),
            limit=limit,
            digest_tags=default("digest_tags") if digest_tags is None else bool(digest_tags),
        )

    def filter(self, tags: t.Iterable[str]) -> list[str]:
        """Tags that pass include, exclude and the constraint, in the order given."""
        kept = []
        for tag in self.visible(tags):
            if self.include and not any(pattern.fullmatch(tag) for pattern in self.include):
                continue
            if any(pattern.fullmatch(tag) for pattern in self.exclude):
                continue
            if self.constraint is not None:
                version = Version.parse(tag)
                if version is None or not self._eligible(version) or not self.constraint.allows(version):
                    continue
            kept.append(tag)
        return kept

    def visible(self, tags: t.Iterable[str]) -> list[str]:
        """The tags a user means by "the tags": without those that name a digest, unless ``digest_tags``."""
        return [tag for tag in tags if self.digest_tags or not DIGEST_TAG.fullmatch(tag)]

    def order(self, tags: list[str]) -> list[str]:
        """Sort, then cut to ``limit``."""
        if self.sort == "lexical":
            ordered = sorted(tags, reverse=self.reverse)
        elif self.sort == "version":
            versions = sorted(
                (v for v in map(Version.parse, tags) if v is not None), key=sort_key, reverse=self.reverse
            )
            others = sorted(tag for tag in tags if Version.parse(tag) is None)
            ordered = [v.text for v in versions] + others
        else:
            ordered = list(reversed(tags)) if self.reverse else list(tags)
        return ordered[: self.limit] if self.limit else ordered

    def latest(self, tags: t.Iterable[str], *, variant: str | None = None) -> str | None:
        """The highest version among ``tags`` (prereleases only if allowed), within one variant.

        The variant is ``variant`` when given (that of the tag a reference names); otherwise the plain one
        (``3.19``) when any tag has it, or the only variant left (``include: ['.*-alpine']``). Tags of several
        variants and no plain one have no latest: versions of different variants do not compare.
        """
        versions = [v for v in map(Version.parse, tags) if v is not None and self._eligible(v)]
        variants = {v.variant for v in versions}
        if variant is None:
            variant = "" if "" in variants else (variants.pop() if len(variants) == 1 else None)
        candidates = [v for v in versions if v.variant == variant]
        return max(candidates, key=sort_key).text if candidates else None

    def _eligible(self, version: Version) -> bool:
        admits = self.prereleases or (self.constraint is not None and self.constraint.names_prerelease)
        return admits or not version.is_prerelease


def nearest(wanted: str, tags: t.Sequence[str], *, count: int = 2) -> list[str]:
    """Existing tags closest to a missing one: the versions just below and above it,
    or, for a tag that is not a version, the most similar names."""
    target = Version.parse(wanted)
    if target is None:
        return difflib.get_close_matches(wanted, list(tags), n=count, cutoff=0.5)
    versions = sorted(
        (
            v
            for v in map(Version.parse, tags)
            if v is not None and v.variant == target.variant and (target.is_prerelease or not v.is_prerelease)
        ),
        key=sort_key,
    )
    below = [v.text for v in versions if v.key < target.key][-1:]
    above = [v.text for v in versions if v.key > target.key][:1]
    return below + above


def _compile(option: str, patterns: str | t.Sequence[str] | None) -> tuple[re.Pattern[str], ...]:
    # A single string is one pattern: splitting it at commas would break V(v?[0-9]{1,2}\..*).
    if isinstance(patterns, str):
        patterns = [patterns]
    if patterns is not None and not isinstance(patterns, (list, tuple)):
        raise ConfigurationError(
            f"{option} must be a list of regular expressions (or one as a string), got {_kind(patterns)}"
        )
    compiled = []
    for pattern in patterns or ():
        if not isinstance(pattern, str):
            raise ConfigurationError(
                f"{option} pattern {pattern!r} is {_kind(pattern)}, not a string", hint="quote the pattern in YAML"
            )
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise ConfigurationError(
                f"{option} pattern {pattern!r} is not a valid regular expression: {exc}",
                hint="patterns use Python's re syntax and must match the whole tag",
            ) from None
    return tuple(compiled)


def _kind(value: object) -> str:
    """What a YAML value is, in YAML's words (a subclass Ansible wraps it in is no news to the user)."""
    for kind, name in ((bool, "a boolean"), ((int, float), "a number"), (dict, "a mapping"), (list, "a list")):
        if isinstance(value, kind):
            return name
    return f"a {type(value).__name__}"
