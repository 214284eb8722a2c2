# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""The one path from every face to the core: the module, the action plugin's controller path and the lookup all
call ``run()`` with their raw parameters, which builds the one options object (``RunOptions``) and queries."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import RegistryError
from ansible_collections.tagscope.registry.plugins.module_utils._registry.options import RunOptions
from ansible_collections.tagscope.registry.plugins.module_utils._registry.query import (
    ImageResult,
    MissingTagsError,
    query_images,
)
from ansible_collections.tagscope.registry.plugins.module_utils._registry.tokens import TokenCache

if t.TYPE_CHECKING:
    import requests


@dataclass
class Outcome:
    """What a run found, what to warn about, and the error that ended it (None when it succeeded)."""

    results: list[ImageResult] = field(default_factory=list)
    rate_limits: dict[str, dict[str, int | None]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: RegistryError | None = None

    def module_result(self) -> dict[str, t.Any]:
        """The image_tags module's result; ``failed`` is set when it failed."""
        if self.error is not None and not isinstance(self.error, MissingTagsError):
            failed = {"failed": True, "msg": str(self.error), **self.error.context()}
            return {**failed, "warnings": self.warnings} if self.warnings else failed
        result: dict[str, t.Any] = {
            "images": [image.as_dict() for image in self.results],
            # On a failure, applied only if the task overrides it (failed_when), as the tag_gate role does.
            "ansible_facts": {"image_tags": _facts(self.results)},
            "rate_limits": self.rate_limits,
        }
        if self.warnings:
            result["warnings"] = self.warnings
        if isinstance(self.error, MissingTagsError):
            return {
                "failed": True,
                "msg": str(self.error),
                "missing": [image.reference for image in self.error.missing],
                **result,
            }
        return {"changed": False, **result}


def run(
    images: t.Sequence[t.Any],
    params: t.Mapping[str, t.Any],
    *,
    environ: t.Mapping[str, str] | None = None,
    list_tags: bool = True,
    manifests: bool = True,
    cache: TokenCache | None = None,
    session: requests.Session | None = None,
) -> Outcome:
    """Query ``images`` with the options in ``params`` (by the table's names; unset ones take their defaults)."""
    outcome = Outcome()
    try:
        options = RunOptions.from_params(params, environ=environ, list_tags=list_tags, manifests=manifests)
        outcome.results = query_images(
            images,
            options.client,
            options.query,
            cache=cache,
            session=session,
            rate_limits=outcome.rate_limits,
            warnings=outcome.warnings,
        )
    except MissingTagsError as exc:
        outcome.results, outcome.error = exc.results, exc
    except RegistryError as exc:
        outcome.error = exc
        return outcome
    outcome.warnings += low_rate_limits(outcome.rate_limits, options.rate_limit_warning)
    return outcome


def image_tags(
    params: t.Mapping[str, t.Any],
    *,
    environ: t.Mapping[str, str] | None = None,
    cache: TokenCache | None = None,
    session: requests.Session | None = None,
) -> dict[str, t.Any]:
    """The result of the image_tags module for its validated ``params``."""
    outcome = run(
        params["images"], params, environ=environ, list_tags=params["list_tags"], cache=cache, session=session
    )
    return outcome.module_result()


def low_rate_limits(limits: dict[str, dict[str, int | None]], threshold: int) -> list[str]:
    """One warning per registry that says fewer than ``threshold`` pulls remain (0 never warns)."""
    return [
        f"registry rate limit running low: {registry}: {limit['remaining']} of {limit['limit'] or '?'} pulls left"
        + (f" in its {limit['window']} s window" if limit["window"] else "")
        for registry, limit in sorted(limits.items())
        if threshold and limit["remaining"] is not None and limit["remaining"] < threshold
    ]


def _facts(results: list[ImageResult]) -> dict[str, list[str]]:
    return {result.ref.name: result.tags for result in results if result.tags is not None}
