# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""Platforms (``os/architecture[/variant]``) as docker and containerd match them; ``manifests.py`` reads the ones
a manifest offers.

Normalization follows containerd's ``platforms.Normalize``: ``aarch64`` is ``arm64``, ``x86_64`` is ``amd64``;
``arm64`` without a variant is ``arm64/v8`` and ``arm`` without one is ``arm/v7``, so ``linux/arm64/v8`` and
``linux/arm64`` are the same platform; ``amd64`` variants (``v2``, ``v3``) are ignored when matching.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ConfigurationError

_ARCH_ALIASES = {
    "x86_64": "amd64",
    "x86-64": "amd64",
    "aarch64": "arm64",
    "armhf": "arm",
    "armel": "arm",
    "i386": "386",
}
_DEFAULT_VARIANT = {"arm64": "v8", "arm": "v7"}
_PART = re.compile(r"[a-z0-9_.-]+")


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    @classmethod
    def parse(cls, text: str) -> Platform:
        """``linux/arm64/v8`` -> Platform; refuses anything else with a message naming the option."""
        parts = str(text).strip().lower().split("/")
        if not 2 <= len(parts) <= 3 or not all(_PART.fullmatch(part) for part in parts):
            raise ConfigurationError(
                f"platform {text!r} is not os/architecture[/variant]",
                hint="write platforms like linux/amd64, linux/arm64 or linux/arm/v7",
            )
        return cls.of(parts[0], parts[1], parts[2] if len(parts) == 3 else "")

    @classmethod
    def of(cls, os: str, architecture: str, variant: str) -> Platform:
        architecture = _ARCH_ALIASES.get(architecture.lower(), architecture.lower())
        variant = variant.lower()
        if architecture == "amd64":
            variant = ""  # microarchitecture levels do not tell platforms apart for docker pull
        if architecture in _DEFAULT_VARIANT and not variant:
            variant = _DEFAULT_VARIANT[architecture]
        return cls(os.lower(), architecture, variant)

    def __str__(self) -> str:
        shown = "" if _DEFAULT_VARIANT.get(self.architecture) == self.variant else self.variant
        return "/".join(part for part in (self.os, self.architecture, shown) if part)
