# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""The options the module and the lookup share, written once.

The doc fragment ``tagscope.registry.connection`` documents them; a unit test
checks that it and ``common_argument_spec()`` agree.
"""

from __future__ import annotations

import typing as t

from ansible.module_utils.basic import env_fallback

from ansible_collections.tagscope.registry.plugins.module_utils._registry.client import (
    ClientOptions,
    Credentials,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import ConfigurationError

ENV_USERNAME = "TAGSCOPE_REGISTRY_USERNAME"
ENV_PASSWORD = "TAGSCOPE_REGISTRY_PASSWORD"
ENV_CA_PATH = "TAGSCOPE_REGISTRY_CA_PATH"
ENV_VALIDATE_CERTS = "TAGSCOPE_REGISTRY_VALIDATE_CERTS"
ENV_TIMEOUT = "TAGSCOPE_REGISTRY_TIMEOUT"


def common_argument_spec() -> dict[str, dict[str, t.Any]]:
    """Options shared by the module and the lookup (the lookup takes images as terms)."""
    return {
        "username": {"type": "str", "fallback": (env_fallback, [ENV_USERNAME])},
        "password": {"type": "str", "no_log": True, "fallback": (env_fallback, [ENV_PASSWORD])},
        "validate_certs": {"type": "bool", "default": True, "fallback": (env_fallback, [ENV_VALIDATE_CERTS])},
        "ca_path": {"type": "path", "fallback": (env_fallback, [ENV_CA_PATH])},
        "timeout": {"type": "float", "default": 30.0, "fallback": (env_fallback, [ENV_TIMEOUT])},
        "page_size": {"type": "int"},
    }


def module_argument_spec() -> dict[str, dict[str, t.Any]]:
    spec = {"images": {"type": "list", "elements": "str", "required": True, "aliases": ["image"]}}
    spec.update(common_argument_spec())
    return spec


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
    return ClientOptions(
        credentials=Credentials(username, password) if username and password else None,
        validate_certs=bool(params.get("validate_certs", True)),
        ca_path=params.get("ca_path") or None,
        timeout=float(timeout if timeout is not None else 30.0),
        page_size=page_size,
    )
