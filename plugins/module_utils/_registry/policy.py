# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""Should this image be deployed? The checks beyond "the tag exists": signed by a trusted key, carrying the
attestations required, labelled as required, and old enough but not too old. Each failure is one line that says
what was expected and what was found."""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .errors import ConfigurationError
from .inspection import Inspection, Wanted
from .platforms import Platform
from .signatures import TrustedKey, load_keys, verdict

ATTESTATION_KINDS = ("sbom", "provenance")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Reproducible builds write the Unix epoch (or Go's zero time) as created: that says nothing about the age.
_UNKNOWN_BEFORE = datetime(1970, 1, 2, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Policy:
    inspect: bool = False
    keys: tuple[TrustedKey, ...] = ()
    attestations: tuple[str, ...] = ()
    labels: t.Mapping[str, str] = field(default_factory=dict)
    min_age: float | None = None
    max_age: float | None = None

    @classmethod
    def build(
        cls,
        *,
        inspect: bool | None = None,
        signed_by: t.Sequence[t.Any] | None = None,
        require_attestations: t.Sequence[t.Any] | None = None,
        require_labels: t.Mapping[str, t.Any] | None = None,
        min_age: t.Any = None,
        max_age: t.Any = None,
    ) -> Policy:
        kinds = tuple(dict.fromkeys(str(kind).strip().lower() for kind in require_attestations or ()))
        unknown = [kind for kind in kinds if kind not in ATTESTATION_KINDS]
        if unknown:
            raise ConfigurationError(
                f"require_attestations names {', '.join(map(repr, unknown))}",
                hint=f"choose from {', '.join(ATTESTATION_KINDS)}",
            )
        if require_labels is not None and not isinstance(require_labels, t.Mapping):
            raise ConfigurationError(
                "require_labels must be a dictionary of label to value",
                hint="for example {org.opencontainers.image.revision: '{{ git_sha }}'}",
            )
        labels = {str(key): _label_value(key, value) for key, value in (require_labels or {}).items()}
        low, high = duration("min_age", min_age), duration("max_age", max_age)
        if low is not None and high is not None and low > high:
            raise ConfigurationError(
                f"min_age ({min_age}) is longer than max_age ({max_age}), so no image could pass",
                hint="min_age is the soak time, max_age the oldest image to accept",
            )
        return cls(
            inspect=bool(inspect),
            keys=tuple(load_keys(signed_by)) if signed_by else (),
            attestations=kinds,
            labels=labels,
            min_age=low,
            max_age=high,
        )

    @property
    def gates(self) -> bool:
        """Whether anything beyond existence is required."""
        ages = (self.min_age, self.max_age)
        return bool(self.keys or self.attestations or self.labels) or ages != (None, None)

    def wanted(self, platforms: tuple[Platform, ...]) -> Wanted:
        return Wanted(
            metadata=self.inspect or bool(self.labels) or self.min_age is not None or self.max_age is not None,
            attestations=self.inspect or bool(self.attestations),
            keys=self.keys,
            platforms=platforms,
        )

    def problems(self, found: Inspection, now: datetime | None = None) -> list[str]:
        """Why the image fails the policy; empty when it passes."""
        problems: list[str] = []
        if self.keys and found.signatures is not None:
            reason = verdict(found.signatures)
            if reason:
                problems.append(reason)
        kinds = {attestation["type"] for attestation in found.attestations or []}
        missing = [kind for kind in self.attestations if kind not in kinds]
        if missing:
            problems.append(f"no {' and no '.join(missing)} attestation found")
        problems.extend(self._label_problems(found))
        problems.extend(self._age_problems(found, now or datetime.now(timezone.utc)))
        return problems

    def _label_problems(self, found: Inspection) -> list[str]:
        problems = []
        for platform, config in found.configs.items():
            where = f" ({platform})" if platform else ""
            for label, expected in self.labels.items():
                actual = config.labels.get(label)
                if actual != expected:
                    shown = "it is not set" if actual is None else f"it is {actual!r}"
                    problems.append(f"label {label}{where} should be {expected!r}; {shown}")
        if self.labels and not found.configs:
            problems.append("its image config could not be read, so its labels are unknown")
        return problems

    def _age_problems(self, found: Inspection, now: datetime) -> list[str]:
        if self.min_age is None and self.max_age is None:
            return []
        problems = []
        for platform, config in found.configs.items() or [("", None)]:
            where = f" ({platform})" if platform else ""
            created = _created(config.created if config else None)
            if created is None:
                shown = config.created if config and config.created else "not set"
                problems.append(f"its created date{where} is unknown ({shown}), so its age cannot be checked")
                continue
            age = (now - created).total_seconds()
            stamp = config.created if config else ""
            # The bound, not the age: the same image gives the same message a minute later.
            if self.min_age is not None and age < self.min_age:
                problems.append(f"created {stamp}{where}, less than min_age ({_span(self.min_age)}) ago")
            if self.max_age is not None and age > self.max_age:
                problems.append(f"created {stamp}{where}, more than max_age ({_span(self.max_age)}) ago")
        return problems


def duration(name: str, value: t.Any) -> float | None:
    """``90m``, ``12h``, ``7d``, ``2w`` or a number of seconds, in seconds; None when not set."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        match = None
    elif isinstance(value, (int, float)):
        if value < 0:
            match = None
        else:
            return float(value)
    else:
        match = _DURATION.fullmatch(str(value).strip().lower())
    if match is None:
        raise ConfigurationError(
            f"{name} must be a duration such as 90m, 12h, 7d or 2w, or a number of seconds, got {value!r}",
        )
    return float(match.group(1)) * _UNITS[match.group(2)]


def _label_value(label: t.Any, value: t.Any) -> str:
    if isinstance(value, (dict, list)) or value is None:
        raise ConfigurationError(
            f"require_labels: the value for {label!r} must be a string",
            hint="labels are compared as exact strings",
        )
    return str(value)


def _created(text: str | None) -> datetime | None:
    """An RFC 3339 time (nanoseconds allowed) as an aware datetime; None when unknown."""
    if not text:
        return None
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text.strip())
    if match is None:
        return None
    fraction = (match.group(2) or "0")[:6].ljust(6, "0")
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    try:
        created = datetime.fromisoformat(f"{match.group(1)}.{fraction}{zone}")
    except ValueError:
        return None
    return None if created < _UNKNOWN_BEFORE else created


def _span(seconds: float) -> str:
    """A duration the way people say it: 45 s, 90 min, 36 h, 12 d."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"
