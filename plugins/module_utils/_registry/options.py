# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""What a run is configured with, checked once.

Every option and its default is declared once, in ``table.py``; ``RunOptions.from_params`` turns the raw
parameters of any face (module, lookup, event source) into the one options object of a run, and the ``build``
methods refuse what cannot work with a message naming the option.
"""

from __future__ import annotations

import os
import typing as t
from dataclasses import dataclass, field

from .credentials import Identity, explicit_identity, registry_key
from .errors import ConfigurationError
from .mirrors import Mirror, parse_mirrors
from .platforms import Platform
from .policy import Policy
from .select import Selection
from .table import CLIENT, POLICY, QUERY, SELECTION, default, names

MAX_CONCURRENCY = 64
MAX_PAGE_SIZE = 10_000


@dataclass(frozen=True)
class ClientOptions:
    """How to reach registries and who to be to them."""

    # Explicit credentials (options or environment), for the images on one registry: credentials_registry
    # (normalized), or the only registry of the run when it is None.
    credentials: Identity | None = None
    credentials_registry: str | None = None
    # A docker config.json or podman auth.json to read instead of the usual places.
    auth_file: str | None = None
    # Where HOME, DOCKER_CONFIG, REGISTRY_AUTH_FILE, ... are read (None: the process environment).
    environ: t.Mapping[str, str] | None = None
    validate_certs: bool = default("validate_certs")
    ca_path: str | None = None
    timeout: float = default("timeout")
    page_size: int | None = None
    retries: int = default("retries")
    retry_max_wait: float = default("retry_max_wait")
    # Registries (host[:port]) spoken to over plain HTTP, like docker's insecure-registries.
    http_registries: frozenset[str] = frozenset()
    concurrency: int = default("concurrency")
    # Registry -> the pull-through mirrors asked before it, in order.
    mirrors: t.Mapping[str, tuple[Mirror, ...]] = field(default_factory=dict)
    # Stop a run once a registry says fewer pulls than this remain (None: never).
    min_remaining: int | None = None

    @classmethod
    def build(
        cls,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        auth_registry: str | None = None,
        auth_file: str | None = None,
        validate_certs: bool | None = None,
        ca_path: str | None = None,
        timeout: float | None = None,
        page_size: int | None = None,
        retries: int | None = None,
        retry_max_wait: float | None = None,
        http_registries: t.Iterable[str] | None = None,
        concurrency: int | None = None,
        mirrors: t.Mapping[str, t.Any] | None = None,
        min_remaining: int | None = None,
        environ: t.Mapping[str, str] | None = None,
    ) -> ClientOptions:
        """Check the options a user gave; None means "not set" (the default applies)."""
        explicit = explicit_identity(username=username, password=password, token=token)
        _at_least("timeout", timeout, 0, strict=True)
        _at_least("retries", retries, 0)
        _at_least("retry_max_wait", retry_max_wait, 0)
        _at_least("min_remaining", min_remaining, 0, hint="leave it unset to spend a registry's budget to the end")
        if page_size is not None and not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ConfigurationError(
                f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}",
                hint="leave it unset to let the registry choose its page size",
            )
        if concurrency is not None and not 1 <= concurrency <= MAX_CONCURRENCY:
            raise ConfigurationError(
                f"concurrency must be between 1 and {MAX_CONCURRENCY}, got {concurrency}",
                hint="1 asks one image after the other",
            )
        return cls(
            credentials=explicit,
            credentials_registry=registry_key(auth_registry) if auth_registry else None,
            auth_file=auth_file or None,
            environ=environ,
            validate_certs=default("validate_certs") if validate_certs is None else bool(validate_certs),
            ca_path=ca_path or None,
            timeout=float(_given("timeout", timeout)),
            page_size=page_size,
            retries=_given("retries", retries),
            retry_max_wait=float(_given("retry_max_wait", retry_max_wait)),
            http_registries=frozenset(host.strip().lower() for host in http_registries or ()),
            concurrency=_given("concurrency", concurrency),
            mirrors=parse_mirrors(mirrors),
            min_remaining=min_remaining,
        )

    @property
    def mirror_hosts(self) -> dict[str, list[str]]:
        """Registry -> the hosts of its mirrors (an auth_registry may name one)."""
        return {registry: [mirror.host for mirror in listed] for registry, listed in self.mirrors.items()}

    def verify(self) -> bool | str:
        if self.ca_path:
            if not os.path.exists(self.ca_path):
                raise ConfigurationError(
                    f"ca_path {self.ca_path!r} does not exist",
                    hint="point ca_path at a PEM file (or a c_rehash'd directory) with the registry's CA",
                )
            return self.ca_path
        return self.validate_certs


@dataclass(frozen=True)
class QueryOptions:
    """What to ask of each image."""

    selection: Selection = field(default_factory=Selection)
    # List the tags; off, a tagged reference costs one HEAD request.
    list_tags: bool = True
    # Check the tag or digest a reference names.
    manifests: bool = True
    fail_on_missing: bool = default("fail_on_missing")
    # Poll for missing tags this long (seconds); a tag still missing then fails.
    wait_timeout: float = default("wait_timeout")
    wait_interval: float = default("wait_interval")
    # Platforms every checked reference must offer (its manifest is then fetched with GET).
    required_platforms: tuple[Platform, ...] = ()
    # A name:tag@digest whose tag now names another digest counts as there (reported as moved).
    allow_moved: bool = default("allow_moved")
    # What to read of each image that exists, and what it must say to pass.
    policy: Policy = field(default_factory=Policy)

    @classmethod
    def build(
        cls,
        *,
        selection: Selection | None = None,
        list_tags: bool = True,
        manifests: bool = True,
        fail_on_missing: bool | None = None,
        wait_timeout: float | None = None,
        wait_interval: float | None = None,
        platforms: t.Iterable[str] | None = None,
        allow_moved: bool | None = None,
        policy: Policy | None = None,
    ) -> QueryOptions:
        _at_least("wait_timeout", wait_timeout, 0, hint="0 checks once, without waiting")
        _at_least("wait_interval", wait_interval, 0, strict=True)
        return cls(
            selection=selection or Selection(),
            list_tags=list_tags,
            manifests=manifests,
            fail_on_missing=bool(_given("fail_on_missing", fail_on_missing)),
            wait_timeout=float(_given("wait_timeout", wait_timeout)),
            wait_interval=float(_given("wait_interval", wait_interval)),
            required_platforms=tuple(dict.fromkeys(Platform.parse(text) for text in platforms or ())),
            allow_moved=bool(_given("allow_moved", allow_moved)),
            policy=policy or Policy(),
        )


@dataclass(frozen=True)
class RunOptions:
    """Everything one run is configured with: the one options object every face builds the same way."""

    client: ClientOptions = field(default_factory=ClientOptions)
    query: QueryOptions = field(default_factory=QueryOptions)
    # Warn when a registry says fewer pulls than this remain in its window; 0 never warns.
    rate_limit_warning: int = default("rate_limit_warning")

    @classmethod
    def from_params(
        cls,
        params: t.Mapping[str, t.Any],
        *,
        environ: t.Mapping[str, str] | None = None,
        list_tags: bool = True,
        manifests: bool = True,
    ) -> RunOptions:
        """The options of the table, read from ``params`` by name (a missing or None value takes the default)."""

        def picked(goes_to: str) -> dict[str, t.Any]:
            return {name: params.get(name) for name in names(goes_to=goes_to)}

        return cls(
            client=ClientOptions.build(**picked(CLIENT), environ=environ),
            query=QueryOptions.build(
                selection=Selection.build(**picked(SELECTION)),
                list_tags=list_tags,
                manifests=manifests,
                policy=Policy.build(**picked(POLICY)),
                **picked(QUERY),
            ),
            rate_limit_warning=int(_given("rate_limit_warning", params.get("rate_limit_warning"))),
        )


def _given(name: str, value: t.Any) -> t.Any:
    """``value``, or the table's default for option ``name`` when it is not set."""
    return default(name) if value is None else value


def _at_least(name: str, value: float | None, low: float, *, strict: bool = False, hint: str | None = None) -> None:
    if value is None:
        return
    if value < low or (strict and value == low):
        bound = f"more than {low:g}" if strict else f"{low:g} or more"
        raise ConfigurationError(f"{name} must be {bound}, got {value:g}", hint=hint)
