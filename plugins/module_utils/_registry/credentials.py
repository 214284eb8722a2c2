# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""Where credentials for a registry come from, the way docker, podman and skopeo find them.

Precedence, for each image:
1. ``token`` (an explicit, pre-obtained bearer token), then ``username``/``password`` (options or environment);
   explicit credentials belong to one registry: ``auth_registry``, or the one registry all images are on
   (``query_images`` refuses a task with images on several registries and no ``auth_registry``). Images on other
   registries take their own credentials from the files below, or go anonymous;
2. the file named by ``auth_file`` alone, if set; otherwise the first of these that has an entry for the
   image's registry: ``$REGISTRY_AUTH_FILE``, ``$DOCKER_AUTH_CONFIG`` (a whole config.json in the variable),
   ``$DOCKER_CONFIG/config.json`` (or ``~/.docker/config.json``), ``$XDG_RUNTIME_DIR/containers/auth.json``
   (or ``/run/containers/$UID/auth.json`` when XDG_RUNTIME_DIR is unset), ``$XDG_CONFIG_HOME/containers/auth.json``
   (or ``~/.config/containers/auth.json``).
   Within a file: ``credHelpers`` for the registry, then ``credsStore``, then ``auths`` (most specific key first);
3. anonymous access.
Credentials found in a file belong to one registry and are only ever sent for its images.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigurationError, CredentialHelperError
from .reference import DOCKER_HUB, DOCKER_HUB_ALIASES, ImageReference
from .table import OPTION

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
# Keys the secret fingerprints in token cache keys; random per process, so they cannot be checked elsewhere.
_PROCESS_KEY = os.urandom(32)
HELPER_TIMEOUT = 30.0
# What docker's helpers print (on stdout, exit 1) when they hold nothing for a server.
_HELPER_NOT_FOUND = "credentials not found in native keychain"


@dataclass(frozen=True)
class Identity:
    """Who the client is to one registry. Secrets never show in repr or messages."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    identity_token: str | None = field(default=None, repr=False)
    bearer_token: str | None = field(default=None, repr=False)
    source: str = ""

    @property
    def anonymous(self) -> bool:
        return not (self.password or self.identity_token or self.bearer_token)

    @property
    def cache_key(self) -> str:
        """Tells tokens of different identities apart without holding a secret: the user name and a keyed hash
        of the secret, so that a wrong password never reuses a token a right one obtained."""
        if self.anonymous:
            return ""
        secret = self.bearer_token or self.identity_token or self.password or ""
        fingerprint = hmac.new(_PROCESS_KEY, secret.encode(), hashlib.sha256).hexdigest()[:16]
        return f"{self.username or ''}#{fingerprint}"

    def basic_header(self) -> str | None:
        if not (self.username and self.password):
            return None
        return basic_header(self.username, self.password)

    def describe(self) -> str:
        """``user 'alice'`` plus where it came from, for messages."""
        if self.bearer_token:
            who = "the given token"
        elif self.identity_token:
            who = "an identity token" + (f" of user {self.username!r}" if self.username else "")
        elif self.username:
            who = f"user {self.username!r}"
        else:
            return "anonymous access"
        return f"{who} (from {self.source})" if self.source and self.source != "options" else who


ANONYMOUS = Identity()


def basic_header(username: str, password: str) -> str:
    # requests' own Basic auth encodes latin-1; registries expect UTF-8.
    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


class CredentialStore:
    """Finds the identity for each registry once, and remembers it for the run."""

    # Where podman keeps root's auth.json when XDG_RUNTIME_DIR is unset; a class attribute so tests can move it.
    run_root = Path("/run/containers")

    def __init__(
        self,
        *,
        explicit: Identity | None = None,
        explicit_registry: str | None = None,
        auth_file: str | None = None,
        environ: t.Mapping[str, str] | None = None,
        mirror_hosts: t.Collection[str] = (),
    ) -> None:
        self.explicit = explicit if explicit is not None and not explicit.anonymous else None
        # None: the explicit credentials are for the one registry of the run (checked by query_images), and
        # never for a mirror, which is another registry.
        self.explicit_registry = explicit_registry
        self.mirror_hosts = frozenset(mirror_hosts)
        self.auth_file = auth_file
        self.environ = os.environ if environ is None else environ
        self._found: dict[tuple[str, str], Identity] = {}

    def identity_for(self, ref: ImageReference) -> Identity:
        if self.explicit is not None and (
            self.explicit_registry == ref.registry
            or (self.explicit_registry is None and ref.registry not in self.mirror_hosts)
        ):
            return self.explicit
        key = (ref.registry, ref.repository)
        if key not in self._found:
            self._found[key] = self._search(ref)
        return self._found[key]

    def pin(self, registries: t.Collection[str]) -> None:
        """Explicit credentials for "the one registry of the run" belong to that registry from now on, before any
        request: a mirror asked in its place is another registry, and must not receive them."""
        if self.explicit is not None and self.explicit_registry is None and len(set(registries)) == 1:
            self.explicit_registry = next(iter(registries))

    def sources(self) -> list[tuple[str, Path | None]]:
        """Where credentials are looked for, in order: (name, file), the file None for DOCKER_AUTH_CONFIG."""
        if self.auth_file:
            path = Path(self.auth_file).expanduser()
            if not path.is_file():
                raise ConfigurationError(
                    f"auth_file {self.auth_file!r} does not exist",
                    hint="point auth_file at a docker config.json or a podman auth.json",
                )
            return [(str(path), path)]
        env = self.environ
        home = Path(env.get("HOME") or Path.home())
        found: list[tuple[str, Path | None]] = []
        if env.get("REGISTRY_AUTH_FILE"):
            found.append((env["REGISTRY_AUTH_FILE"], Path(env["REGISTRY_AUTH_FILE"])))
        # The docker CLI reads a whole config.json from DOCKER_AUTH_CONFIG before its config file.
        if env.get("DOCKER_AUTH_CONFIG"):
            found.append(("DOCKER_AUTH_CONFIG", None))
        docker = (
            Path(env["DOCKER_CONFIG"]) / "config.json" if env.get("DOCKER_CONFIG") else home / ".docker" / "config.json"
        )
        found.append((str(docker), docker))
        # podman: $XDG_RUNTIME_DIR/containers/auth.json, or /run/containers/$UID/auth.json where it is unset
        # (root after `sudo podman login`; no containers/ below the UID there, as containers/image's
        # getPathToAuthWithOS has it), then $XDG_CONFIG_HOME/containers/auth.json (default ~/.config).
        runtime = (
            Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"
            if env.get("XDG_RUNTIME_DIR")
            else self.run_root / str(os.getuid()) / "auth.json"
        )
        config_home = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
        for path in (runtime, config_home / "containers" / "auth.json"):
            found.append((str(path), path))
        return found

    def _search(self, ref: ImageReference) -> Identity:
        for name, path in self.sources():
            config = _read(path) if path is not None else _parse(self.environ["DOCKER_AUTH_CONFIG"], name)
            if config is None:
                continue
            identity = _from_config(config, name, ref, self.environ)
            if identity is not None:
                return identity
        return ANONYMOUS


def _read(path: Path) -> dict[str, t.Any] | None:
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise ConfigurationError(f"cannot read credentials file {path}: {exc.strerror}") from None
    try:
        # UTF-8 whatever the host's locale, as docker and podman write it.
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"credentials file {path} is not UTF-8 (byte {exc.start})",
            hint="save it as UTF-8, or point auth_file at another file",
        ) from None
    return _parse(text, f"credentials file {path}")


def _parse(text: str, what: str) -> dict[str, t.Any] | None:
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:
        # The message of a JSON error quotes no content, only the position.
        raise ConfigurationError(
            f"{what} is not valid JSON ({exc.msg} at line {exc.lineno})",
            hint="fix it, or point auth_file at another file",
        ) from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{what} does not hold a JSON object")
    return data


def _normalize_key(key: str) -> tuple[str, str]:
    """``https://index.docker.io/v1/`` -> (docker.io, ""); ``reg.example.com/team`` -> (reg.example.com, team)."""
    text = key.strip()
    for scheme in ("https://", "http://"):
        if text.lower().startswith(scheme):
            text = text[len(scheme) :]
    host, _sep, path = text.partition("/")
    path = path.strip("/")
    if path in ("v1", "v2") or path.startswith(("v1/", "v2/")):
        path = ""
    host = host.lower()
    if host in DOCKER_HUB_ALIASES:
        host = DOCKER_HUB
    return host, path


def _best_key(keys: t.Iterable[str], ref: ImageReference) -> str | None:
    """The most specific key that covers the image: longest matching namespace first, and among keys for the
    same namespace the one that names the registry exactly (``docker.io``) before an alias of it
    (``index.docker.io``, ``https://index.docker.io/v1/``), whatever their order in the file (containers/image
    looks for exact keys before normalized ones); among keys that rank the same, the first in the file."""
    best: str | None = None
    best_rank = (-1, False)
    for key in keys:
        host, path = _normalize_key(key)
        if host != ref.registry:
            continue
        if path and ref.repository != path and not ref.repository.startswith(path + "/"):
            continue
        rank = (len(path), key.strip().rstrip("/") == (f"{ref.registry}/{path}" if path else ref.registry))
        if rank > best_rank:
            best, best_rank = key, rank
    return best


def _from_config(
    config: dict[str, t.Any], path: str, ref: ImageReference, environ: t.Mapping[str, str]
) -> Identity | None:
    helpers = config.get("credHelpers")
    if isinstance(helpers, dict):
        key = _best_key(helpers, ref)
        if key is not None and isinstance(helpers[key], str) and helpers[key]:
            found = _run_helper(helpers[key], key, path, environ)
            if found is not None:
                return found
    auths = config.get("auths")
    key = _best_key(auths, ref) if isinstance(auths, dict) else None
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        server = key or (DOCKER_HUB_KEY if ref.registry == DOCKER_HUB else ref.registry)
        found = _run_helper(store, server, path, environ)
        if found is not None:
            return found
    if key is None:
        return None
    entry = auths[key]  # type: ignore[index]
    if not isinstance(entry, dict):
        return None
    return _from_entry(entry, f"{path} (auths key {key!r})")


def _from_entry(entry: dict[str, t.Any], source: str) -> Identity | None:
    username = entry.get("username") if isinstance(entry.get("username"), str) else None
    password = entry.get("password") if isinstance(entry.get("password"), str) else None
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise ConfigurationError(
                f"credentials in {source}: 'auth' is not base64 of user:password",
                hint="log in again with docker login or podman login",
            ) from None
        if ":" not in decoded:
            raise ConfigurationError(
                f"credentials in {source}: 'auth' does not hold user:password",
                hint="log in again with docker login or podman login",
            )
        username, password = decoded.split(":", 1)
    token = entry.get("identitytoken")
    if isinstance(token, str) and token:
        return Identity(username=username or None, identity_token=token, source=source)
    if username and password:
        return Identity(username=username, password=password, source=source)
    return None


def _run_helper(name: str, server: str, path: str, environ: t.Mapping[str, str]) -> Identity | None:
    """``docker-credential-<name> get`` with the server on stdin; None when it holds nothing for it."""
    program = f"docker-credential-{name}"
    executable = shutil.which(program, path=environ.get("PATH"))
    where = f"credential helper {program} (named in {path})"
    if executable is None:
        raise CredentialHelperError(f"{where} is not on PATH", hint=f"install {program}, or remove it from {path}")
    try:
        # A fixed argv and no shell; the server name goes on stdin.
        done = subprocess.run(
            [executable, "get"],
            input=server.encode("utf-8"),
            capture_output=True,
            timeout=HELPER_TIMEOUT,
            check=False,
            env=dict(environ),
        )
    except subprocess.TimeoutExpired:
        raise CredentialHelperError(f"{where} did not answer within {HELPER_TIMEOUT:g} s") from None
    except OSError as exc:
        raise CredentialHelperError(f"{where} could not be run: {exc.strerror}") from None
    if done.returncode != 0:
        if _HELPER_NOT_FOUND in (done.stdout + done.stderr).decode("utf-8", "replace").lower():
            return None
        # Its output is not shown: a helper may print secrets.
        raise CredentialHelperError(
            f"{where} failed for {server} with exit code {done.returncode}",
            hint=f"run '{program} get' by hand to see why",
        )
    try:
        answer = json.loads(done.stdout)
        username, secret = answer["Username"], answer["Secret"]
        if not isinstance(username, str) or not isinstance(secret, str):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise CredentialHelperError(
            f"{where} did not print JSON with Username and Secret for {server}",
            hint=f"run '{program} get' by hand to see what it prints",
        ) from None
    source = f"{program} via {path}"
    if username == "<token>":
        return Identity(identity_token=secret, source=source)
    return Identity(username=username, password=secret, source=source) if secret else None


def explicit_identity(*, username: str | None, password: str | None, token: str | None) -> Identity | None:
    """The credentials the options give: a token wins over username and password, which go together."""
    if bool(username) != bool(password):
        missing = "password" if username else "username"
        raise ConfigurationError(
            f"username and password go together, but {missing} is not set",
            hint=f"set {missing} (or {OPTION[missing].env_name}), or neither for anonymous access",
        )
    if token:
        return Identity(bearer_token=token, source="options")
    if username:
        return Identity(username=username, password=password, source="options")
    return None


def check_explicit_scope(
    refs: t.Sequence[ImageReference],
    explicit: Identity | None,
    explicit_registry: str | None,
    *,
    mirror_hosts: t.Mapping[str, t.Collection[str]] | None = None,
) -> None:
    """Explicit credentials belong to one registry: refuse, before any request, a run that leaves it unclear.

    ``mirror_hosts``: registry -> the hosts of its mirrors; auth_registry may name one of the images' mirrors.
    """
    if explicit is None or explicit.anonymous:
        return
    registries = sorted({ref.registry for ref in refs})
    kind = "token" if explicit.bearer_token else "username and password"
    if explicit_registry is None:
        if len(registries) > 1:
            raise ConfigurationError(
                f"{kind} given for images on {len(registries)} registries ({', '.join(registries)}); "
                "explicit credentials are only ever sent to one registry",
                hint="set auth_registry to the registry they belong to; images on the others use the docker or "
                "podman credential files, or anonymous access",
            )
        return
    mirrors = {host for registry in registries for host in (mirror_hosts or {}).get(registry, ())}
    if explicit_registry not in registries and explicit_registry not in mirrors:
        raise ConfigurationError(
            f"auth_registry {explicit_registry} is not the registry of any image "
            f"({', '.join(registries)})"
            + (" nor one of their mirrors" if mirrors else "")
            + f", so the {kind} would go unused",
            hint="set auth_registry to the registry of the images the credentials are for",
        )


def registry_key(text: str) -> str:
    """The registry an ``auth_registry`` value names, normalized as image references are (``docker.io`` ...)."""
    host, path = _normalize_key(text)
    if not host or path:
        raise ConfigurationError(
            f"auth_registry {text!r} is not a registry host",
            hint="name the host (and port) the credentials are for, such as ghcr.io or registry.example.com:5000",
        )
    return host
