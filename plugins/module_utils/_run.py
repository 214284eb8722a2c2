# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""The module's work, from checked parameters to its result, for the module and for the action plugin that runs
it in the controller (when the task runs there) alike."""

from __future__ import annotations

import typing as t

from ansible_collections.tagscope.registry.plugins.module_utils._argspec import client_options, query_options
from ansible_collections.tagscope.registry.plugins.module_utils._registry.auth import TokenCache
from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import RegistryError
from ansible_collections.tagscope.registry.plugins.module_utils._registry.query import (
    ImageResult,
    MissingTagsError,
    query_images,
)

if t.TYPE_CHECKING:
    import requests


def image_tags(
    params: t.Mapping[str, t.Any],
    *,
    environ: t.Mapping[str, str] | None = None,
    cache: TokenCache | None = None,
    session: requests.Session | None = None,
) -> dict[str, t.Any]:
    """The result of the image_tags module for ``params``; ``failed`` is set when it failed."""
    rate_limits: dict[str, dict[str, int | None]] = {}
    try:
        query = query_options(params, list_tags=params["list_tags"])
        results = query_images(
            params["images"],
            client_options(params, environ),
            query,
            cache=cache,
            session=session,
            rate_limits=rate_limits,
        )
    except MissingTagsError as exc:
        return {
            "failed": True,
            "msg": str(exc),
            "images": [result.as_dict() for result in exc.results],
            "missing": [result.reference for result in exc.missing],
            # Applied only if the task overrides the failure (failed_when), as the tag_gate role does.
            "ansible_facts": {"image_tags": _facts(exc.results)},
            **_rate_limits(rate_limits, params.get("rate_limit_warning")),
        }
    except RegistryError as exc:
        return {"failed": True, "msg": str(exc), **exc.context()}
    return {
        "changed": False,
        "images": [result.as_dict() for result in results],
        "ansible_facts": {"image_tags": _facts(results)},
        **_rate_limits(rate_limits, params.get("rate_limit_warning")),
    }


def _rate_limits(limits: dict[str, dict[str, int | None]], threshold: int | None) -> dict[str, t.Any]:
    """``rate_limits`` for the result, and one warning per registry running low."""
    found: dict[str, t.Any] = {"rate_limits": limits}
    low = [
        f"{registry}: {limit['remaining']} of {limit['limit'] or '?'} pulls left"
        + (f" in its {limit['window']} s window" if limit["window"] else "")
        for registry, limit in sorted(limits.items())
        if threshold and limit["remaining"] is not None and limit["remaining"] < threshold
    ]
    if low:
        found["warnings"] = [f"registry rate limit running low: {entry}" for entry in low]
    return found


def _facts(results: list[ImageResult]) -> dict[str, list[str]]:
    return {result.ref.name: result.tags for result in results if result.tags is not None}
