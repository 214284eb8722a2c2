# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""What the module and the lookup both ask: tags, existence and digests of images."""

from __future__ import annotations

import threading
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .client import RegistryClient
from .credentials import check_explicit_scope
from .errors import BudgetError, MultipleFailuresError, NotFoundError, RegistryError
from .inspection import Wanted, inspect
from .options import ClientOptions, QueryOptions
from .platforms import Platform
from .policy import Policy
from .reference import ImageReference
from .select import Selection, nearest
from .transport import make_session
from .versions import Version

if t.TYPE_CHECKING:
    import requests

    from .tokens import TokenCache


@dataclass
class ImageResult:
    reference: str
    ref: ImageReference
    tags: list[str] | None = None
    latest: str | None = None
    exists: bool | None = None
    digest: str | None = None
    nearest: list[str] | None = None
    # With required platforms: those the manifest offers (the result's ``platforms``), and the required ones it lacks.
    platforms: list[str] | None = None
    missing_platforms: list[str] | None = None
    # For a reference that names both a tag and a digest (name:tag@digest): whether the tag now names another
    # digest (``digest`` is then the tag's, ``expected_digest`` the one written), and whether the written digest
    # is still in the repository.
    moved: bool | None = None
    digest_exists: bool | None = None
    # What the image says about itself (inspect and the policy options), and why it fails the policy.
    inspection: dict[str, t.Any] | None = None
    problems: list[str] | None = None
    # Who answered the manifest check (or the tag list, without one): the registry or one of its mirrors; and,
    # for an image on a registry with mirrors, whether a mirror named another digest than the registry.
    served_by: str | None = None
    stale_mirror: bool | None = None

    @property
    def wanted(self) -> str | None:
        """What is looked up: the tag when there is one (its digest is then compared), else the digest."""
        return self.ref.tag or self.ref.digest

    @property
    def expected_digest(self) -> str | None:
        """The digest a ``name:tag@digest`` reference expects its tag to name."""
        return self.ref.digest if self.ref.tag else None

    @property
    def pinned(self) -> str | None:
        """``registry/repository:tag@sha256:...``: what docker, podman and Kubernetes pull, exactly this image.

        Only ever a tag with the digest that tag names now: a moved tag is pinned only when moves are allowed.
        """
        if not (self.exists and self.digest) or self.problems:
            return None
        return f"{self.ref.name}{':' + self.ref.tag if self.ref.tag else ''}@{self.digest}"

    @property
    def missing(self) -> bool:
        return self.exists is False or bool(self.missing_platforms) or bool(self.problems)

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
            "pinned": self.pinned,
            "platforms": self.platforms,
            "moved": self.moved,
            "expected_digest": self.expected_digest,
            "served_by": self.served_by,
        }
        if self.stale_mirror is not None:
            result["stale_mirror"] = self.stale_mirror
        if self.digest_exists is not None:
            result["digest_exists"] = self.digest_exists
        if self.inspection is not None:
            result.update(self.inspection)
        if self.problems is not None:
            result["problems"] = self.problems
        if self.missing_platforms is not None:
            result["missing_platforms"] = self.missing_platforms
        if self.nearest is not None:
            result["nearest"] = self.nearest
        return result

    def missing_head(self) -> str:
        """``1.4.2 not found in ghcr.io/org/app``, or why an image that is there does not count."""
        if self.moved:
            return (
                f"{self.wanted} in {self.ref.name} moved: it now names {self.digest}, "
                f"the reference expects {self.expected_digest}"
            )
        if self.missing_platforms:
            return f"{self.wanted} in {self.ref.name} lacks {', '.join(self.missing_platforms)}"
        if self.problems and self.exists:
            return f"{self.wanted} in {self.ref.name}: {', '.join(self.problems)}"
        return f"{self.wanted} not found in {self.ref.name}"

    def missing_detail(self) -> str:
        if self.moved or (self.problems and self.exists and not self.missing_platforms):
            return ""
        if self.missing_platforms:  # only ever set for an image that exists
            return f"it has {', '.join(self.platforms or []) or 'no platform'}"
        if self.digest_exists is not None:
            pinned = (
                f"its digest {self.expected_digest} is {'still' if self.digest_exists else 'not'} in the repository"
            )
            return pinned + (f"; nearest: {', '.join(self.nearest)}" if self.nearest else "")
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
        heads = [m.missing_head() for m in missing]
        details = [m.missing_detail() for m in missing]
        if len(missing) == 1:
            message = heads[0] + (f"; {details[0]}" if details[0] else "")
        else:
            found = any(m.exists or m.moved for m in missing)
            what = "required images are missing" if found else "tags not found"
            if any(m.problems for m in missing):
                what = "required images fail the gate"
            message = f"{len(missing)} {what}: " + "; ".join(
                head + (f" ({detail})" if detail else "") for head, detail in zip(heads, details)
            )
        if waited:
            message += f" (after waiting {waited:g} s)"
        super().__init__(message)


def parse_references(texts: t.Iterable[t.Any]) -> list[ImageReference]:
    """Parse every reference before any request is sent, so a typo costs nothing."""
    return [ImageReference.parse(text) for text in texts]


class _Run:
    """One query: a client, the raw tag lists already fetched, and a bound on requests in flight per registry."""

    def __init__(
        self,
        client: RegistryClient,
        concurrency: int,
        required: tuple[Platform, ...] = (),
        *,
        allow_moved: bool = False,
    ) -> None:
        self.client = client
        self.concurrency = concurrency
        # The platforms every checked reference must offer.
        self.required = required
        self.allow_moved = allow_moved
        self.raw_tags: dict[str, list[str]] = {}
        # Repository -> who listed its tags.
        self.listed_by: dict[str, str] = {}
        self._lock = threading.Lock()
        self._listing: dict[str, threading.Lock] = {}
        self._slots: dict[str, threading.BoundedSemaphore] = {}

    def tags_of(self, ref: ImageReference) -> list[str]:
        # A repository named several times is listed once, whichever thread asks first.
        with self._lock:
            lock = self._listing.setdefault(ref.name, threading.Lock())
        with lock:
            if ref.name not in self.raw_tags:
                with self.slot(ref):
                    self.raw_tags[ref.name], self.listed_by[ref.name] = self.client.listing(ref)
            return self.raw_tags[ref.name]

    def check(self, result: ImageResult) -> None:
        expected = result.expected_digest
        with self.slot(result.ref):
            checked = self.client.check(
                result.ref, t.cast(str, result.wanted), read_platforms=bool(self.required), expected=expected
            )
        found = checked.manifest
        result.digest = found.digest if found else None
        result.served_by = checked.served_by
        if self.client.options.mirrors.get(result.ref.registry):
            result.stale_mirror = checked.stale_mirror
        if expected is None:
            result.exists = found is not None
        else:
            # name:tag@digest: the tag must still name the digest. Both halves are checked; a tag that names
            # another image never counts as the one written, unless moves are allowed.
            result.moved = found is not None and found.digest.lower() != expected.lower()
            result.exists = found is not None and (not result.moved or self.allow_moved)
            if found is None or result.moved:
                with self.slot(result.ref):
                    result.digest_exists = self.client.manifest(result.ref, expected) is not None
            else:
                result.digest_exists = True
        if self.required and found is not None:
            offered = found.offered or []
            result.platforms = [str(platform) for platform in offered]
            result.missing_platforms = [str(platform) for platform in self.required if platform not in offered]
        else:
            result.platforms = result.missing_platforms = None

    def each(self, results: list[ImageResult], action: t.Callable[[ImageResult], t.Any]) -> None:
        """``action`` for every result, concurrently; errors name their image, several are reported together."""
        if not results:
            return
        errors: list[RegistryError | None] = [None] * len(results)

        def run(index: int) -> None:
            try:
                _guarded(results[index], action)
            except RegistryError as exc:
                errors[index] = exc

        registries = len({result.ref.api_host for result in results})
        workers = min(len(results), self.concurrency * registries)
        if workers <= 1:
            for index in range(len(results)):
                run(index)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(run, range(len(results))))
        failed = [error for error in errors if error is not None]
        # A registry's budget ran out: one error for the run, however many images were stopped by it.
        failed = [error for error in failed if isinstance(error, BudgetError)][:1] or failed
        if len(failed) == 1:
            raise failed[0]
        if failed:
            raise MultipleFailuresError(failed)

    def slot(self, ref: ImageReference) -> threading.BoundedSemaphore:
        with self._lock:
            return self._slots.setdefault(ref.api_host, threading.BoundedSemaphore(self.concurrency))


def query_images(
    texts: t.Sequence[str],
    options: ClientOptions,
    query: QueryOptions | None = None,
    *,
    cache: TokenCache | None = None,
    session: requests.Session | None = None,
    rate_limits: dict[str, dict[str, int | None]] | None = None,
    warnings: list[str] | None = None,
) -> list[ImageResult]:
    """Tags of every image, and existence and digest of the tags or digests they name.

    One session (keep-alive) and one token cache serve all images; a repository named several times (with
    different tags) is listed once. Images are asked concurrently, at most ``options.concurrency`` requests in
    flight per registry; the results keep the order of ``texts``. ``cache`` carries challenges and tokens over
    from earlier runs of the same process (the lookup's), ``session`` its open connections; ``rate_limits``
    receives what registries said of their pull limits, ``warnings`` what went wrong with mirrors (once each).
    """
    query = query or QueryOptions()
    refs = parse_references(texts)
    check_explicit_scope(refs, options.credentials, options.credentials_registry, mirror_hosts=options.mirror_hosts)
    results = [ImageResult(reference=str(text).strip(), ref=ref) for text, ref in zip(texts, refs)]
    own = session is None
    session = session or make_session(pool_size=options.concurrency)
    client = None
    try:
        client = RegistryClient(session, options, cache)
        client.expect(refs)
        return _ask(
            _Run(client, options.concurrency, query.required_platforms, allow_moved=query.allow_moved), results, query
        )
    finally:
        # Also when the run failed: a mirror that failed may be why.
        if client is not None and rate_limits is not None:
            rate_limits.update(client.rate_limits)
        if client is not None and warnings is not None:
            warnings.extend(
                f"mirror {mirror} failed, so the next mirror or the registry was asked: {error}"
                for mirror, error in client.hosts.failures.items()
            )
        if own:
            session.close()


def _ask(run: _Run, results: list[ImageResult], query: QueryOptions) -> list[ImageResult]:
    """Check, wait for, list and inspect the images; raise MissingTagsError when one that is required is not there."""
    # Manifests first: a repository that does not exist yet is worth waiting for.
    checked = [r for r in results if query.manifests and r.wanted]
    run.each(checked, run.check)
    # A tag that moved is not coming back by waiting for it.
    waited = _wait(run, [r for r in checked if r.missing and not r.moved], query)
    missing = [r for r in checked if r.missing]
    if query.list_tags:
        run.each(results, lambda r: _describe(run, r, query.selection, missing))
    wanted = query.policy.wanted(query.required_platforms)
    if wanted.anything:
        present = [r for r in checked if r.exists and r.digest]
        run.each(present, lambda r: _inspect(run, r, wanted, query.policy))
        missing = [r for r in checked if r.missing]
    for result in missing:
        if result.ref.tag and not result.exists and not result.moved:
            result.nearest = _guarded(result, lambda r: _nearest(run, r, query.selection))
    if missing and (query.fail_on_missing or query.wait_timeout > 0):
        raise MissingTagsError(results, missing, waited)
    return results


def _nearest(run: _Run, result: ImageResult, selection: Selection) -> list[str] | None:
    try:
        return nearest(t.cast(str, result.ref.tag), selection.visible(run.tags_of(result.ref)))
    except NotFoundError:
        return None  # the repository itself is missing


def _inspect(run: _Run, result: ImageResult, wanted: Wanted, policy: Policy) -> None:
    """Read what the image says about itself, and hold it against the policy."""
    with run.slot(result.ref):
        found = inspect(
            run.client, result.ref, t.cast(str, result.digest), wanted, tags=run.raw_tags.get(result.ref.name)
        )
    result.inspection = found.as_dict(wanted)
    if policy.gates:
        result.problems = policy.problems(found)


def _describe(run: _Run, result: ImageResult, selection: Selection, missing: list[ImageResult]) -> None:
    try:
        raw = run.tags_of(result.ref)
    except NotFoundError:
        # A missing tag in a repository that is missing too: reported as a missing tag.
        if result in missing:
            return
        raise
    if result.served_by is None:
        result.served_by = run.listed_by.get(result.ref.name)
    selected = selection.filter(raw)
    result.tags = selection.order(selected)
    # A reference whose tag is a version of a variant (python:3.12-slim) looks for the latest of that variant.
    own = Version.parse(result.ref.tag) if result.ref.tag else None
    result.latest = selection.latest(selected, variant=own.variant if own is not None else None)


def _wait(run: _Run, pending: list[ImageResult], query: QueryOptions) -> float:
    """Poll the missing tags until they all exist or ``wait_timeout`` passes; return seconds waited (0.0 when
    nothing is missing or there is no wait)."""
    started = time.monotonic()
    deadline = started + query.wait_timeout
    while pending:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        time.sleep(min(query.wait_interval, remaining))
        run.each(pending, run.check)
        pending = [r for r in pending if r.missing]
    return round(time.monotonic() - started, 1)


_T = t.TypeVar("_T")


def _guarded(result: ImageResult, action: t.Callable[[ImageResult], _T]) -> _T:
    """Run ``action``; a registry error names the image it concerns."""
    try:
        return action(result)
    except RegistryError as exc:
        raise exc.about(str(result.ref)) from None
