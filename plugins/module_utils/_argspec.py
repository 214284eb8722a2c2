# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""The options the module and the lookup share, written once.

The doc fragment ``tagscope.registry.connection`` documents them; a unit test
checks that it and ``common_argument_spec()`` agree.
"""

from __future__ import annotations

import typing as t

from ansible.module_utils.basic import env_fallback

from ansible_collections.tagscope.registry.plugins.module_utils._registry.client import ClientOptions
from ansible_collections.tagscope.registry.plugins.module_utils._registry.credentials import Identity, registry_key
from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import ConfigurationError
from ansible_collections.tagscope.registry.plugins.module_utils._registry.query import QueryOptions
from ansible_collections.tagscope.registry.plugins.module_utils._registry.select import SORTS, Selection

ENV_USERNAME = "TAGSCOPE_REGISTRY_USERNAME"
ENV_PASSWORD = "TAGSCOPE_REGISTRY_PASSWORD"
ENV_TOKEN = "TAGSCOPE_REGISTRY_TOKEN"
ENV_AUTH_REGISTRY = "TAGSCOPE_REGISTRY_AUTH_REGISTRY"
ENV_CA_PATH = "TAGSCOPE_REGISTRY_CA_PATH"
ENV_VALIDATE_CERTS = "TAGSCOPE_REGISTRY_VALIDATE_CERTS"
ENV_TIMEOUT = "TAGSCOPE_REGISTRY_TIMEOUT"


def common_argument_spec() -> dict[str, dict[str, t.Any]]:
    """Options shared by the module and the lookup (the lookup takes images as terms)."""
    return {
        "username": {"type": "str", "fallback": (env_fallback, [ENV_USERNAME])},
        "password": {"type": "str", "no_log": True, "fallback": (env_fallback, [ENV_PASSWORD])},
        "token": {"type": "str", "no_log": True, "fallback": (env_fallback, [ENV_TOKEN])},
        "auth_registry": {"type": "str", "fallback": (env_fallback, [ENV_AUTH_REGISTRY])},
        "auth_file": {"type": "path", "no_log": False},
        "validate_certs": {"type": "bool", "default": True, "fallback": (env_fallback, [ENV_VALIDATE_CERTS])},
        "ca_path": {"type": "path", "fallback": (env_fallback, [ENV_CA_PATH])},
        "timeout": {"type": "float", "default": 30.0, "fallback": (env_fallback, [ENV_TIMEOUT])},
        "page_size": {"type": "int"},
        "retries": {"type": "int", "default": 4},
        "retry_max_wait": {"type": "float", "default": 60.0},
        "http_registries": {"type": "list", "elements": "str", "default": []},
    }


def selection_argument_spec() -> dict[str, dict[str, t.Any]]:
    """Options that choose and order tags and gate on them (module and lookup)."""
    return {
        # raw: a list, or one pattern as a string (type list would split it at commas).
        "include": {"type": "raw"},
        "exclude": {"type": "raw"},
        "constraint": {"type": "str"},
        "prereleases": {"type": "bool", "default": False},
        "sort": {"type": "str", "default": "version", "choices": list(SORTS)},
        "reverse": {"type": "bool", "default": False},
        "limit": {"type": "int"},
        "fail_on_missing": {"type": "bool", "default": False},
        "wait_timeout": {"type": "float", "default": 0.0},
        "wait_interval": {"type": "float", "default": 10.0},
    }


def module_argument_spec() -> dict[str, dict[str, t.Any]]:
    spec = {
        "images": {"type": "list", "elements": "str", "required": True, "aliases": ["image"]},
        "list_tags": {"type": "bool", "default": True},
    }
    spec.update(common_argument_spec())
    spec.update(selection_argument_spec())
    return spec


def query_options(params: t.Mapping[str, t.Any], *, list_tags: bool = True, manifests: bool = True) -> QueryOptions:
    """Check the selection options and turn them into the core's QueryOptions."""
    wait_timeout = params.get("wait_timeout") or 0.0
    wait_interval = params.get("wait_interval") or 10.0
    if wait_timeout < 0:
        raise ConfigurationError(f"wait_timeout must be 0 (no waiting) or more seconds, got {wait_timeout:g}")
    if wait_interval <= 0:
        raise ConfigurationError(f"wait_interval must be a positive number of seconds, got {wait_interval:g}")
    selection = Selection.build(
        include=params.get("include"),
        exclude=params.get("exclude"),
        constraint=params.get("constraint"),
        prereleases=bool(params.get("prereleases")),
        sort=params.get("sort") or "version",
        reverse=bool(params.get("reverse")),
        limit=params.get("limit"),
    )
    return QueryOptions(
        selection=selection,
        list_tags=list_tags,
        manifests=manifests,
        fail_on_missing=bool(params.get("fail_on_missing")),
        wait_timeout=float(wait_timeout),
        wait_interval=float(wait_interval),
    )


def client_options(params: t.Mapping[str, t.Any]) -> ClientOptions:
    """Check the shared options and turn them into the core's ClientOptions."""
    username, password = params.get("username"), params.get("password")
    if bool(username) != bool(password):
        missing = "password" if username else "username"
        raise ConfigurationError(
            f"username and password go together, but {missing} is not set",
            hint=f"set {missing} (or {ENV_USERNAME if missing == 'username' else ENV_PASSWORD}), "
            "or neither for anonymous access",
        )
    timeout = params.get("timeout")
    if timeout is not None and timeout <= 0:
        raise ConfigurationError(f"timeout must be a positive number of seconds, got {timeout:g}")
    page_size = params.get("page_size")
    if page_size is not None and not 1 <= page_size <= 10000:
        raise ConfigurationError(
            f"page_size must be between 1 and 10000, got {page_size}",
            hint="leave it unset to let the registry choose its page size",
        )
    token = params.get("token")
    if token:
        explicit: Identity | None = Identity(bearer_token=token, source="options")
    elif username and password:
        explicit = Identity(username=username, password=password, source="options")
    else:
        explicit = None
    retries = params.get("retries")
    if retries is not None and retries < 0:
        raise ConfigurationError(f"retries must be 0 or more, got {retries}")
    retry_max_wait = params.get("retry_max_wait")
    if retry_max_wait is not None and retry_max_wait < 0:
        raise ConfigurationError(f"retry_max_wait must be 0 or more seconds, got {retry_max_wait:g}")
    auth_registry = params.get("auth_registry")
    return ClientOptions(
        credentials=explicit,
        credentials_registry=registry_key(auth_registry) if auth_registry else None,
        retries=4 if retries is None else retries,
        retry_max_wait=60.0 if retry_max_wait is None else float(retry_max_wait),
        http_registries=frozenset(host.strip().lower() for host in params.get("http_registries") or ()),
        auth_file=params.get("auth_file") or None,
        validate_certs=bool(params.get("validate_certs", True)),
        ca_path=params.get("ca_path") or None,
        timeout=float(timeout if timeout is not None else 30.0),
        page_size=page_size,
    )
