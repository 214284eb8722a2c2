# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""The options the module and the lookup share, written once.

The doc fragment ``tagscope.registry.connection`` documents them; a unit test
checks that it and ``common_argument_spec()`` agree.
"""

from __future__ import annotations

import typing as t

from ansible.module_utils.basic import env_fallback

from ansible_collections.tagscope.registry.plugins.module_utils._registry.options import (
    DEFAULT_CONCURRENCY,
    DEFAULT_RATE_LIMIT_WARNING,
    DEFAULT_RETRIES,
    DEFAULT_RETRY_MAX_WAIT,
    DEFAULT_TIMEOUT,
    DEFAULT_WAIT_INTERVAL,
    ClientOptions,
    QueryOptions,
)
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
        "auth_file": {"type": "path", "no_log": False, "aliases": ["authfile"]},
        "validate_certs": {
            "type": "bool",
            "default": True,
            "fallback": (env_fallback, [ENV_VALIDATE_CERTS]),
            "aliases": ["tls_verify"],
        },
        "ca_path": {"type": "path", "fallback": (env_fallback, [ENV_CA_PATH]), "aliases": ["ca_cert"]},
        "timeout": {"type": "float", "default": DEFAULT_TIMEOUT, "fallback": (env_fallback, [ENV_TIMEOUT])},
        "page_size": {"type": "int"},
        "retries": {"type": "int", "default": DEFAULT_RETRIES},
        "retry_max_wait": {"type": "float", "default": DEFAULT_RETRY_MAX_WAIT},
        "concurrency": {"type": "int", "default": DEFAULT_CONCURRENCY},
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
        "wait_interval": {"type": "float", "default": DEFAULT_WAIT_INTERVAL},
        "platforms": {"type": "list", "elements": "str"},
        "allow_moved": {"type": "bool", "default": False},
        "rate_limit_warning": {"type": "int", "default": DEFAULT_RATE_LIMIT_WARNING},
    }


def module_argument_spec() -> dict[str, dict[str, t.Any]]:
    spec = {
        "images": {"type": "list", "elements": "str", "required": True, "aliases": ["image", "name"]},
        "list_tags": {"type": "bool", "default": True},
        # Read by the action plugin, which merges the fact; the module itself only reports.
        "merge_facts": {"type": "bool", "default": True},
    }
    spec.update(common_argument_spec())
    spec.update(selection_argument_spec())
    return spec


def query_options(params: t.Mapping[str, t.Any], *, list_tags: bool = True, manifests: bool = True) -> QueryOptions:
    """Check the selection options and turn them into the core's QueryOptions."""
    selection = Selection.build(
        include=params.get("include"),
        exclude=params.get("exclude"),
        constraint=params.get("constraint"),
        prereleases=bool(params.get("prereleases")),
        sort=params.get("sort") or "version",
        reverse=bool(params.get("reverse")),
        limit=params.get("limit"),
    )
    return QueryOptions.build(
        selection=selection,
        list_tags=list_tags,
        manifests=manifests,
        fail_on_missing=bool(params.get("fail_on_missing")),
        wait_timeout=params.get("wait_timeout"),
        wait_interval=params.get("wait_interval"),
        platforms=params.get("platforms"),
        allow_moved=bool(params.get("allow_moved")),
    )


def client_options(params: t.Mapping[str, t.Any], environ: t.Mapping[str, str] | None = None) -> ClientOptions:
    """Check the shared options and turn them into the core's ClientOptions."""
    return ClientOptions.build(
        **{name: params.get(name) for name in CLIENT_OPTION_NAMES},
        environ=environ,
        env_names=(ENV_USERNAME, ENV_PASSWORD),
    )


# The options ClientOptions.build takes, by the names the argument spec gives them.
CLIENT_OPTION_NAMES = (
    "username",
    "password",
    "token",
    "auth_registry",
    "auth_file",
    "validate_certs",
    "ca_path",
    "timeout",
    "page_size",
    "retries",
    "retry_max_wait",
    "http_registries",
    "concurrency",
)
