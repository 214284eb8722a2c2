# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""Pull-through mirrors: which hosts answer for a registry, in order, and what a run learns of each.

A mirror is another registry that serves the same repositories (Distribution in proxy mode, Harbor's proxy cache,
a cloud mirror): an image ``ref`` is asked there as ``ImageReference(<mirror host>, <prefix/>ref.repository, ...)``,
through the same machinery as any registry (its own challenge, token cache, credentials from the files, TLS, plain
HTTP when listed in http_registries). The option names mirrors per registry, any registry, not only Docker Hub as
the docker daemon's ``registry-mirrors`` does.

What a run learns: a mirror that cannot answer (no connection, TLS, 5xx or 429 after the retries) is left for the
rest of the run, so a dead mirror costs one failed attempt per run, not one per image. Until a mirror has answered
once, requests to it go one at a time: the first finds out for all.
"""

from __future__ import annotations

import contextlib
import threading
import typing as t
from dataclasses import dataclass, replace

from .errors import ConfigurationError, InvalidReferenceError, RegistryConnectionError, RegistryError, TLSError
from .reference import DOCKER_HUB, DOCKER_HUB_ALIASES, ImageReference, valid_host

_EXAMPLE = "such as {'docker.io': ['mirror.example.com:5000']}"


@dataclass(frozen=True)
class Mirror:
    """A mirror host, and the path under which it serves the registry (a Harbor proxy cache project)."""

    host: str
    prefix: str = ""

    def __str__(self) -> str:
        return f"{self.host}/{self.prefix}" if self.prefix else self.host

    def reference(self, ref: ImageReference) -> ImageReference:
        """``ref`` as the mirror serves it."""
        repository = f"{self.prefix}/{ref.repository}" if self.prefix else ref.repository
        return replace(ref, registry=self.host, repository=repository)


def parse_mirrors(value: t.Any) -> dict[str, tuple[Mirror, ...]]:
    """The ``mirrors`` option: registry (normalized as in image references) -> its mirrors, in order."""
    if value is None:
        return {}
    if not isinstance(value, t.Mapping):
        raise ConfigurationError(
            f"mirrors must be a dictionary of registry to a list of mirror hosts, got {type(value).__name__}",
            hint=f"write it {_EXAMPLE}",
        )
    parsed: dict[str, tuple[Mirror, ...]] = {}
    for key, listed in value.items():
        registry = _registry(key)
        if registry in parsed:
            raise ConfigurationError(
                f"mirrors names registry {registry} twice (as {key!r} and another alias)",
                hint="list its mirrors under one key",
            )
        entries = [listed] if isinstance(listed, str) else listed
        if not isinstance(entries, (list, tuple)):
            raise ConfigurationError(
                f"mirrors of {registry} must be a list of mirror hosts, got {type(listed).__name__}",
                hint=f"write them {_EXAMPLE}",
            )
        parsed[registry] = tuple(dict.fromkeys(_mirror(registry, entry) for entry in entries))
    return parsed


def _registry(key: t.Any) -> str:
    text = key.strip().lower().rstrip("/") if isinstance(key, str) else ""
    if not valid_host(text):
        raise ConfigurationError(
            f"mirrors has the key {str(key)[:100]!r}, which is not a registry host",
            hint="name registries as in image references: docker.io, ghcr.io, registry.example.com:5000",
        )
    return DOCKER_HUB if text in DOCKER_HUB_ALIASES else text


def _mirror(registry: str, entry: t.Any) -> Mirror:
    text = entry.strip().rstrip("/") if isinstance(entry, str) else ""
    where = f"mirrors: {str(entry)[:100]!r}, a mirror of {registry},"
    if "://" in text:
        raise ConfigurationError(
            f"{where} has a URL scheme",
            hint="write host[:port][/path]; list a plain-HTTP mirror's host in http_registries too",
        )
    host, _sep, prefix = text.partition("/")
    host = host.lower()
    if not valid_host(host):
        raise ConfigurationError(f"{where} is not host[:port][/path]", hint="write it like mirror.example.com:5000")
    if prefix:
        try:
            # The path is where the mirror serves the registry's repositories: it must be a repository path too.
            ImageReference.parse(f"localhost/{prefix}")
        except InvalidReferenceError:
            raise ConfigurationError(
                f"{where} has the path {prefix!r}, which is not a repository path",
                hint="a path is lowercase components separated by /, such as dockerhub-proxy",
            ) from None
    mirror = Mirror(DOCKER_HUB if host in DOCKER_HUB_ALIASES else host, prefix)
    if mirror == Mirror(registry):
        raise ConfigurationError(f"{where} is the registry itself", hint="list other hosts as its mirrors")
    return mirror


def unavailable(error: RegistryError) -> bool:
    """An error that says the host cannot answer now (rather than what it holds): no connection, TLS, 5xx, 429."""
    status = error.status or 0
    return isinstance(error, (RegistryConnectionError, TLSError)) or status == 429 or status >= 500


class Hosts:
    """Which hosts answer for each registry, and what this run learned of the mirrors. Thread safe."""

    def __init__(self, mirrors: t.Mapping[str, tuple[Mirror, ...]]) -> None:
        self.mirrors = mirrors
        self.mirror_hosts = frozenset(mirror.host for listed in mirrors.values() for mirror in listed)
        # Mirror host -> the first error it gave this run, for a warning.
        self.failures: dict[str, RegistryError] = {}
        self._out: set[str] = set()
        self._answered: set[str] = set()
        self._gates: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def of(self, registry: str) -> tuple[Mirror, ...]:
        """The mirrors of ``registry`` still in the run, in order."""
        with self._lock:
            return tuple(mirror for mirror in self.mirrors.get(registry, ()) if mirror.host not in self._out)

    def is_out(self, host: str) -> bool:
        with self._lock:
            return host in self._out

    def leave(self, host: str) -> None:
        """``host`` is not asked again this run."""
        with self._lock:
            self._out.add(host)

    def failed(self, mirror: Mirror, error: RegistryError) -> None:
        with self._lock:
            self.failures.setdefault(str(mirror), error)

    def first_contact(self, host: str, *, alone: bool) -> t.ContextManager[t.Any]:
        """With ``alone``, and until ``host`` has answered once: one request at a time to it."""
        with self._lock:
            if not alone or host in self._answered:
                return contextlib.nullcontext()
            return self._gates.setdefault(host, threading.Lock())

    def answered(self, host: str) -> None:
        with self._lock:
            self._answered.add(host)
