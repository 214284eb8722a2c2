# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""Image references: ``[host[:port]/]path[:tag][@digest]``.

The grammar follows the distribution project's ``reference`` package, so a
reference that ``docker pull`` accepts parses here, and one it rejects is
rejected with a message that says which part is wrong.
"""

from __future__ import annotations

import ipaddress
import re
import typing as t
from dataclasses import dataclass

from .errors import InvalidReferenceError

DOCKER_HUB = "docker.io"
DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
DOCKER_HUB_API_HOST = "registry-1.docker.io"
_IMAGE_ID = re.compile(r"[a-f0-9]{64}")

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}")
_HOST_LABEL = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
_HOST = re.compile(rf"(?:{_HOST_LABEL}(?:\.{_HOST_LABEL})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{{1,5}})?")
_MAX_NAME = 255


@dataclass(frozen=True)
class ImageReference:
    """A parsed reference. ``registry`` and ``repository`` are normalized."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """The normalized reference without tag or digest, used as a key everywhere."""
        return f"{self.registry}/{self.repository}"

    @property
    def api_host(self) -> str:
        """The host (and port) that answers the registry API."""
        return DOCKER_HUB_API_HOST if self.registry == DOCKER_HUB else self.registry

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    @classmethod
    def parse(cls, text: str) -> ImageReference:
        """Parse and normalize ``text``; raise InvalidReferenceError naming the bad part."""
        original = text
        text = _checked_text(text)
        remainder, at, digest = text.partition("@")
        if at:
            _check_digest(original, digest)
        registry, path = _split_registry(remainder)
        tag = ""
        if path.rfind(":") > path.rfind("/"):
            path, _colon, tag = path.rpartition(":")
            if not _TAG.fullmatch(tag):
                raise InvalidReferenceError(
                    f"image reference {original!r} has an invalid tag {tag!r}",
                    hint="a tag is 1 to 128 of A-Z a-z 0-9 _ . - and does not start with . or -",
                )
        _check_path(original, path)
        if registry is None and _IMAGE_ID.fullmatch(path):
            # As distribution/reference does: 64 hex characters alone are an image ID, not a repository name.
            raise InvalidReferenceError(
                f"image reference {original[:20]!r}... is 64 hex characters, an image ID rather than a name",
                hint="name the repository; for a digest write name@sha256:<digest>",
            )
        if registry is None or registry.lower() in DOCKER_HUB_ALIASES:
            registry = DOCKER_HUB
        if registry == DOCKER_HUB and "/" not in path:
            path = f"library/{path}"
        if len(registry) + 1 + len(path) > _MAX_NAME:
            raise InvalidReferenceError(
                f"image reference {original[:60]!r}... is longer than {_MAX_NAME} characters",
                hint="registries reject repository names over 255 characters",
            )
        return cls(registry=registry, repository=path, tag=tag or None, digest=digest or None)


_FORM = "write it as [host[:port]/]path[:tag][@digest]"


def _checked_text(text: t.Any) -> str:
    """``text`` stripped, refused when it cannot be a reference at all (not a string, empty, spaces, a URL)."""
    if not isinstance(text, str):
        raise InvalidReferenceError(f"image reference must be a string, got {type(text).__name__}", hint=_FORM)
    stripped = text.strip()
    if not stripped:
        raise InvalidReferenceError("image reference is empty", hint=_FORM)
    if any(ch.isspace() for ch in stripped):
        raise InvalidReferenceError(
            f"image reference {text!r} contains whitespace",
            hint="remove the spaces; a reference is [host[:port]/]path[:tag][@digest]",
        )
    if "://" in stripped:
        raise InvalidReferenceError(
            f"image reference {text!r} has a URL scheme",
            hint="drop the scheme: write registry.example.com/app, not https://registry.example.com/app",
        )
    return stripped


def _check_digest(original: str, digest: str) -> None:
    if not _DIGEST.fullmatch(digest):
        raise InvalidReferenceError(
            f"image reference {original!r} has an invalid digest {digest!r}",
            hint="a digest looks like sha256: followed by 64 hex characters",
        )
    algorithm, hexpart = digest.split(":", 1)
    if algorithm == "sha256" and len(hexpart) != 64:
        raise InvalidReferenceError(
            f"image reference {original!r} has a sha256 digest of {len(hexpart)} hex characters",
            hint="a sha256 digest has exactly 64 hex characters",
        )


def _check_path(original: str, path: str) -> None:
    if not path:
        raise InvalidReferenceError(
            f"image reference {original!r} has no repository path",
            hint="name the repository, e.g. registry.example.com/team/app",
        )
    for component in path.split("/"):
        if _COMPONENT.fullmatch(component):
            continue
        if component.lower() != component and _COMPONENT.fullmatch(component.lower()):
            why = f"repository path component {component!r} has uppercase letters"
            hint = "repository paths are lowercase"
        else:
            why = f"repository path component {component!r} is not valid"
            hint = "path components are lowercase letters and digits separated by . _ __ or -"
        raise InvalidReferenceError(f"image reference {original!r}: {why}", hint=hint)


def _split_registry(text: str) -> tuple[str | None, str]:
    """Split off the registry host the way docker does: the first component is a
    host when it has a dot or a port, or is ``localhost``."""
    first, sep, rest = text.partition("/")
    if not sep:
        return None, text
    if "." in first or ":" in first or first == "localhost" or first.startswith("["):
        if not valid_host(first):
            raise InvalidReferenceError(
                f"image reference {text!r} has an invalid registry host {first!r}",
                hint="a registry is a hostname or IP, optionally with :port (1 to 65535)",
            )
        return first.lower(), rest
    if first.lower() != first:
        raise InvalidReferenceError(
            f"image reference {text!r}: repository path component {first!r} has uppercase letters",
            hint="repository paths are lowercase",
        )
    return None, text


def valid_host(text: str) -> bool:
    """Whether ``text`` is a registry host: a hostname or IP (IPv6 in brackets), optionally with :port."""
    port = text.rsplit(":", 1)[1] if ":" in text and not text.endswith("]") else ""
    if not _HOST.fullmatch(text) or (port.isdigit() and not 0 < int(port) < 65536):
        return False
    return not text.startswith("[") or _is_ipv6(text[1 : text.index("]")])


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True
