# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""Watching tags: what changed in a repository since the last look (the Event-Driven Ansible source's core).

One ``Watcher`` lives as long as the source, and so does its client: one session (open connections), one token
cache and the transport's memory of ``Retry-After`` serve every poll. A poll of a repository costs one tag list
(every page) and a ``HEAD`` for each tag that is new since the last poll or that ``images`` names; tags already
seen are not read again, so only a named tag can be seen to move. A poll that fails changes nothing: the next one
compares with the last poll that succeeded, and no change is ever made up from an error.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field, replace

from .client import RegistryClient
from .credentials import check_explicit_scope
from .errors import ConfigurationError, NotFoundError, RateLimitedError, RegistryError
from .query import parse_references

if t.TYPE_CHECKING:
    import requests

    from .options import RunOptions
    from .reference import ImageReference
    from .tokens import TokenCache

NEW_TAG = "new_tag"
MOVED = "moved"
REMOVED = "removed"

# The longest wait between two tries of a failing repository, unless the interval itself is longer (kubelet's
# image pull back-off stops at five minutes too).
MAX_BACKOFF = 300.0


@dataclass(frozen=True)
class Change:
    """One change of one tag: an event."""

    event: str
    image: str
    tag: str
    # new_tag and moved: what the tag names now. removed: what it named when last read (None if never read).
    digest: str | None
    # moved: what the tag named before.
    previous_digest: str | None = None

    @property
    def pinned(self) -> str | None:
        """``image:tag@digest``, only ever for a tag that names that digest now."""
        if self.event == REMOVED or not self.digest:
            return None
        return f"{self.image}:{self.tag}@{self.digest}"

    def as_dict(self) -> dict[str, str | None]:
        return {
            "event": self.event,
            "image": self.image,
            "tag": self.tag,
            "digest": self.digest,
            "previous_digest": self.previous_digest,
            "pinned": self.pinned,
        }


@dataclass
class Repository:
    """A repository ``images`` names, once however many references name it."""

    # Without tag or digest: what its requests are made for.
    ref: ImageReference
    # Tags named in references: read (HEAD) on every poll, so that a move shows.
    named: list[str] = field(default_factory=list)
    # Tag -> the digest a ``name:tag@digest`` reference expects it to name.
    pinned: dict[str, str] = field(default_factory=dict)


class Watcher:
    """Polls the repositories of ``images`` and says what changed since the last poll that succeeded.

    The first poll records what exists and reports nothing (every tag, with ``emit_existing``), except for pinned
    references: ``name:tag@digest`` is what the user last saw, so a tag that names another digest already is
    reported as moved, and one that is gone as removed.
    """

    def __init__(
        self,
        images: t.Sequence[t.Any],
        options: RunOptions,
        *,
        session: requests.Session,
        cache: TokenCache | None = None,
        emit_existing: bool = False,
    ) -> None:
        refs = parse_references(images)
        for text, ref in zip(images, refs):
            if ref.digest and not ref.tag:
                raise ConfigurationError(
                    f"image reference {str(text).strip()!r} names a digest and no tag: nothing about it can change",
                    hint="watch the repository (name), a tag (name:tag), or a tag and the digest it should name "
                    "(name:tag@digest)",
                )
        client = options.client
        check_explicit_scope(refs, client.credentials, client.credentials_registry, mirror_hosts=client.mirror_hosts)
        self.selection = options.query.selection
        self.emit_existing = emit_existing
        self.client = RegistryClient(session, options.client, cache)
        # One token request can then cover every repository on a realm.
        self.client.expect(refs)
        self.repositories: dict[str, Repository] = {}
        for ref in refs:
            repository = self.repositories.setdefault(ref.name, Repository(replace(ref, tag=None, digest=None)))
            if ref.tag and ref.tag not in repository.named:
                repository.named.append(ref.tag)
            if ref.tag and ref.digest:
                repository.pinned.setdefault(ref.tag, ref.digest)
        # Repository -> tag -> digest (None: listed, never read), as of the last poll that succeeded.
        self._known: dict[str, dict[str, str | None]] = {}
        # Repository -> why its last poll found no repository (it does not exist yet, or is not visible).
        self.absent: dict[str, NotFoundError] = {}

    def poll(self, name: str) -> list[Change]:
        """Look at repository ``name`` once; the changes since the last poll that succeeded, in version order.

        Raises RegistryError (naming the image) when the registry cannot answer; nothing is recorded then.
        """
        try:
            return self._poll(self.repositories[name])
        except RegistryError as exc:
            raise exc.about(name) from None

    def _poll(self, repository: Repository) -> list[Change]:
        ref = repository.ref
        known = self._known.get(ref.name)
        try:
            listed: list[str] | None = self.selection.filter(self.client.list_tags(ref))
        except NotFoundError as exc:
            # A repository that does not exist yet has no tags, and its first push is news (``absent`` says why
            # none was found: registries answer the same for one that is not visible to these credentials). One
            # that had tags and is suddenly not found is an error: no reason to report every tag removed.
            if known:
                raise
            self.absent[ref.name] = exc.about(ref.name)
            listed = None
        else:
            self.absent.pop(ref.name, None)
        current = {tag: (known or {}).get(tag) for tag in listed or ()}
        if listed is not None:
            for tag in repository.named:
                found = self.client.manifest(ref, tag)
                if found is None:
                    current.pop(tag, None)
                else:
                    current[tag] = found.digest
        first = known is None
        baseline = dict(repository.pinned) if known is None else known
        report_new = not first or self.emit_existing
        if report_new:
            for tag in [tag for tag in current if tag not in baseline and current[tag] is None]:
                found = self.client.manifest(ref, tag)
                if found is None:
                    del current[tag]  # deleted again since the list was read
                else:
                    current[tag] = found.digest
        changes: list[Change] = []
        for tag in self.selection.order(list(current)):
            now = current[tag]
            before = baseline.get(tag)
            if tag not in baseline:
                if report_new:
                    changes.append(Change(NEW_TAG, ref.name, tag, now))
            elif before and now and before.lower() != now.lower():
                changes.append(Change(MOVED, ref.name, tag, now, previous_digest=before))
            elif first and self.emit_existing:
                # A pinned tag that still names its digest exists, which is what emit_existing reports.
                changes.append(Change(NEW_TAG, ref.name, tag, now))
        gone = [tag for tag in baseline if tag not in current]
        changes += [Change(REMOVED, ref.name, tag, baseline[tag]) for tag in self.selection.order(gone)]
        self._known[ref.name] = current
        return changes


def retry_delay(interval: float, failures: int, error: RegistryError) -> float:
    """Seconds until a repository whose poll failed ``failures`` times in a row is tried again.

    The interval, doubled after each failure up to ``MAX_BACKOFF`` (or the interval when it is longer): a registry
    that is down is not asked in a tight loop whatever the interval. Never sooner than its ``Retry-After``.
    """
    wait = min(interval * 2 ** min(failures - 1, 32), max(interval, MAX_BACKOFF))
    if isinstance(error, RateLimitedError) and error.retry_after is not None:
        wait = max(wait, error.retry_after)
    return wait
