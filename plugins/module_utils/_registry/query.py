# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""What the module and the lookup both ask: tags, existence and digests of images."""

from __future__ import annotations

import time
import typing as t
from dataclasses import dataclass, field

from .client import ClientOptions, RegistryClient
from .errors import ConfigurationError, NotFoundError, RegistryError
from .reference import ImageReference
from .select import Selection, nearest
from .transport import make_session
from .versions import Version


@dataclass(frozen=True)
class QueryOptions:
    selection: Selection = field(default_factory=Selection)
    # List the tags; off, a tagged reference costs one HEAD request.
    list_tags: bool = True
    # Check the tag or digest a reference names.
    manifests: bool = True
    fail_on_missing: bool = False
    # Poll for missing tags this long (seconds); a tag still missing then fails.
    wait_timeout: float = 0.0
    wait_interval: float = 10.0


@dataclass
class ImageResult:
    reference: str
    ref: ImageReference
    tags: list[str] | None = None
    latest: str | None = None
    exists: bool | None = None
    digest: str | None = None
    nearest: list[str] | None = None

    @property
    def wanted(self) -> str | None:
        return self.ref.digest or self.ref.tag

    def as_dict(self) -> dict[str, t.Any]:
        result: dict[str, t.Any] = {
            "reference": self.reference,
            "name": self.ref.name,
            "registry": self.ref.registry,
            "repository": self.ref.repository,
            "tag": self.ref.tag,
            "digest": self.digest,
            "exists": self.exists,
            "tags": self.tags,
            "latest": self.latest,
        }
        if self.nearest is not None:
            result["nearest"] = self.nearest
        return result

    def missing_detail(self) -> str:
        if self.nearest:
            return f"nearest: {', '.join(self.nearest)}"
        if self.nearest is None and not self.ref.digest:
            return "the repository does not exist or is not visible to these credentials"
        return ""


class MissingTagsError(RegistryError):
    """Tags (or digests) that were required, or waited for, and are not there."""

    def __init__(self, results: list[ImageResult], missing: list[ImageResult], waited: float) -> None:
        self.results = results
        self.missing = missing
        heads = [f"{m.wanted} not found in {m.ref.name}" for m in missing]
        details = [m.missing_detail() for m in missing]
        if len(missing) == 1:
            message = heads[0] + (f"; {details[0]}" if details[0] else "")
        else:
            message = f"{len(missing)} tags not found: " + "; ".join(
                head + (f" ({detail})" if detail else "") for head, detail in zip(heads, details)
            )
        if waited:
            message += f" (after waiting {waited:g} s)"
        super().__init__(message)


def parse_references(texts: t.Iterable[t.Any]) -> list[ImageReference]:
    """Parse every reference before any request is sent, so a typo costs nothing."""
    return [ImageReference.parse(text) for text in texts]


def check_credentials_scope(refs: t.Sequence[ImageReference], options: ClientOptions) -> None:
    """Explicit credentials belong to one registry: refuse, before any request, a run that leaves it unclear."""
    if options.credentials is None or options.credentials.anonymous:
        return
    registries = sorted({ref.registry for ref in refs})
    kind = "token" if options.credentials.bearer_token else "username and password"
    if options.credentials_registry is None:
        if len(registries) > 1:
            raise ConfigurationError(
                f"{kind} given for images on {len(registries)} registries ({', '.join(registries)}); "
                "explicit credentials are only ever sent to one registry",
                hint="set auth_registry to the registry they belong to; images on the others use the docker or "
                "podman credential files, or anonymous access",
            )
        return
    if options.credentials_registry not in registries:
        raise ConfigurationError(
            f"auth_registry {options.credentials_registry} is not the registry of any image "
            f"({', '.join(registries)}), so the {kind} would go unused",
            hint="set auth_registry to the registry of the images the credentials are for",
        )


class _Run:
    """One query: a session, a client and the raw tag lists already fetched."""

    def __init__(self, client: RegistryClient) -> None:
        self.client = client
        self.raw_tags: dict[str, list[str]] = {}

    def tags_of(self, ref: ImageReference) -> list[str]:
        if ref.name not in self.raw_tags:
            self.raw_tags[ref.name] = self.client.list_tags(ref)
        return self.raw_tags[ref.name]

    def check(self, result: ImageResult) -> None:
        result.digest = self.client.manifest_digest(result.ref, t.cast(str, result.wanted))
        result.exists = result.digest is not None


def query_images(
    texts: t.Sequence[str],
    options: ClientOptions,
    query: QueryOptions | None = None,
) -> list[ImageResult]:
    """Tags of every image, and existence and digest of the tags or digests they name.

    One session (keep-alive) and one token cache serve all images; a
    repository named several times (with different tags) is listed once.
    """
    query = query or QueryOptions()
    refs = parse_references(texts)
    check_credentials_scope(refs, options)
    results = [ImageResult(reference=str(text).strip(), ref=ref) for text, ref in zip(texts, refs)]
    session = make_session()
    try:
        run = _Run(RegistryClient(session, options))
        # Manifests first: a repository that does not exist yet is worth waiting for.
        checked = [r for r in results if query.manifests and r.wanted]
        for result in checked:
            _guarded(result, run.check)
        waited = _wait(run, [r for r in checked if not r.exists], query)
        missing = [r for r in checked if not r.exists]
        if query.list_tags:
            for result in results:
                try:
                    _guarded(result, lambda r: _describe(run, r, query.selection))
                except NotFoundError:
                    # A missing tag in a repository that is missing too: reported as a missing tag below.
                    if result not in missing:
                        raise
        for result in missing:
            if not result.ref.digest:
                result.nearest = _guarded(result, lambda r: _nearest(run, r))
        if missing and (query.fail_on_missing or query.wait_timeout > 0):
            raise MissingTagsError(results, missing, waited)
        return results
    finally:
        session.close()


def _nearest(run: _Run, result: ImageResult) -> list[str] | None:
    try:
        return nearest(t.cast(str, result.ref.tag), run.tags_of(result.ref))
    except NotFoundError:
        return None  # the repository itself is missing


def _describe(run: _Run, result: ImageResult, selection: Selection) -> None:
    selected = selection.filter(run.tags_of(result.ref))
    result.tags = selection.order(selected)
    # A reference whose tag is a version of a variant (python:3.12-slim) looks for the latest of that variant.
    own = Version.parse(result.ref.tag) if result.ref.tag else None
    result.latest = selection.latest(selected, variant=own.variant if own is not None else None)


def _wait(run: _Run, pending: list[ImageResult], query: QueryOptions) -> float:
    """Poll the missing tags until they all exist or ``wait_timeout`` passes; return seconds waited."""
    if not pending or query.wait_timeout <= 0:
        return 0.0
    started = time.monotonic()
    deadline = started + query.wait_timeout
    while pending:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        time.sleep(min(query.wait_interval, remaining))
        for result in pending:
            _guarded(result, run.check)
        pending = [r for r in pending if not r.exists]
    return round(time.monotonic() - started, 1)


_T = t.TypeVar("_T")


def _guarded(result: ImageResult, action: t.Callable[[ImageResult], _T]) -> _T:
    """Run ``action``; a registry error names the image it concerns."""
    try:
        return action(result)
    except RegistryError as exc:
        raise exc.about(str(result.ref)) from None
