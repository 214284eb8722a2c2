# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""The registry API: tag lists (every page) and manifest digests. Authentication is ``auth.py``'s job, turning
replies into errors ``replies.py``'s, reading manifests and image configs ``manifests.py``'s, which mirrors answer
for a registry ``mirrors.py``'s.

Every read goes to the registry's mirrors in order, then to the registry itself (``_across``). A mirror's 404 is
not trusted (a cache may not hold what the registry has), nor a tag's digest that differs from a pinned
``name:tag@digest`` (a stale cache): the registry decides. Every request passes ``_send``, which keeps a
registry's pull budget (``min_remaining``).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
import time
import typing as t
from dataclasses import dataclass

from .auth import Authenticator
from .credentials import CredentialStore
from .errors import (
    BudgetError,
    ConfigurationError,
    NotFoundError,
    ProtocolError,
    RegistryConnectionError,
    RegistryError,
    shortened,
)
from .headers import next_link
from .manifests import (
    MANIFEST_MEDIA_TYPES,
    OCI_INDEX,
    Document,
    Manifest,
    config_digest,
    from_config,
    from_index,
)
from .mirrors import Hosts, unavailable
from .options import ClientOptions
from .replies import failure, json_body
from .transport import MAX_MANIFEST_BODY, MAX_PAGE_BODY, RETRY_STATUSES, Reply, RetryPolicy, Transport

if t.TYPE_CHECKING:
    import requests

    from .platforms import Platform
    from .reference import ImageReference
    from .tokens import TokenCache

MAX_PAGES = 100_000
MAX_TAGS = 1_000_000
# How long a budget found below min_remaining holds requests back when the registry does not say when its window
# resets: a client that lives on (the event source's) then spends one request to learn whether it recovered.
BUDGET_MEMORY = 60.0

_T = t.TypeVar("_T")


@dataclass
class Check:
    """A manifest check: what was found (None: missing), who answered, and whether a mirror was found stale."""

    manifest: Manifest | None
    # The host that answered: the registry (as in image references) or a mirror (as in the mirrors option).
    served_by: str
    # A mirror named another digest for the tag than the registry does.
    stale_mirror: bool = False


class RegistryClient:
    """Talks to any number of registries during one run, from any number of threads."""

    def __init__(self, session: requests.Session, options: ClientOptions, cache: TokenCache | None = None) -> None:
        self.options = options
        self.transport = Transport(
            session,
            verify=options.verify(),
            timeout=options.timeout,
            policy=RetryPolicy(retries=options.retries, max_wait=options.retry_max_wait),
        )
        self.hosts = Hosts(options.mirrors)
        self.store = CredentialStore(
            explicit=options.credentials,
            explicit_registry=options.credentials_registry,
            auth_file=options.auth_file,
            environ=options.environ,
            mirror_hosts=self.hosts.mirror_hosts,
        )
        self.auth = Authenticator(self.transport, self.store, cache)
        # Registry -> {"limit", "remaining", "window"}, from the last manifest reply that carried them.
        self.rate_limits: dict[str, dict[str, int | None]] = {}
        # Registry -> when (time.monotonic()) its rate limits were noted, and when its window resets, when it said
        # (RateLimit-Reset).
        self._noted: dict[str, float] = {}
        self._resets: dict[str, float] = {}
        # Registries (API hosts) that answered the referrers API with 404: it is not asked again this run.
        self._no_referrers: set[str] = set()
        self._has_referrers: set[str] = set()
        self._referrers_learned: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def expect(self, refs: t.Iterable[ImageReference]) -> None:
        """The images this run will ask about: one token request can then cover all of them (on each mirror too).

        Explicit credentials given for the one registry of the run are that registry's from here on: a mirror
        asked in its place never receives them.
        """
        refs = list(refs)
        self.store.pin({ref.registry for ref in refs})
        mirrored = [mirror.reference(ref) for ref in refs for mirror in self.hosts.mirrors.get(ref.registry, ())]
        self.auth.expect([*refs, *mirrored])

    def list_tags(self, ref: ImageReference) -> list[str]:
        """Every tag of the repository, following ``Link: rel="next"`` to the end."""
        return self.listing(ref)[0]

    def listing(self, ref: ImageReference) -> tuple[list[str], str]:
        """Every tag of the repository, and who listed them (the registry, or one of its mirrors)."""
        return self._across(ref, self._tags_at)

    def check(
        self, ref: ImageReference, reference: str, *, read_platforms: bool = False, expected: str | None = None
    ) -> Check:
        """The manifest ``reference`` names (see ``manifest``), and who answered.

        With ``expected`` (the digest a ``name:tag@digest`` reference names), a mirror that names another digest
        for the tag is not believed: the registry is asked, and its answer stands, unless it cannot be reached.
        """
        found, served_by = self._across(ref, lambda at: self._manifest_at(at, reference, read_platforms))
        if served_by == ref.registry or expected is None or found is None or _same(found.digest, expected):
            return Check(found, served_by)
        try:
            confirmed = self._manifest_at(ref, reference, read_platforms)
        except RegistryError as exc:
            if not unavailable(exc):  # a budget stop among them
                raise
            return Check(found, served_by)  # only the mirror could tell
        stale = confirmed is None or not _same(confirmed.digest, found.digest)
        return Check(confirmed, ref.registry, stale_mirror=stale)

    def _tags_at(self, ref: ImageReference) -> list[str]:
        url = f"{self._base(ref)}/v2/{ref.repository}/tags/list"
        if self.options.page_size:
            url += f"?n={self.options.page_size}"
        tags: list[str] = []
        seen: set[str] = set()
        visited: set[str] = set()
        while url:
            if url in visited:
                raise ProtocolError(
                    "registry sent a next-page Link that repeats an earlier page",
                    method="GET",
                    url=url,
                    hint="this is a registry bug; report it to the registry's operator",
                )
            if len(visited) >= MAX_PAGES:
                raise ProtocolError(
                    f"more than {MAX_PAGES:,} pages of tags; refusing to read on",
                    method="GET",
                    url=url,
                    hint="set page_size higher, or report the repository to its operator",
                )
            visited.add(url)
            response = self._get(url, ref, limit=MAX_PAGE_BODY)
            body = json_body(response, "GET", url)
            if not isinstance(body, dict):
                raise ProtocolError(
                    f"tag list is of type {type(body).__name__}, expected an object with 'tags'", method="GET", url=url
                )
            page = body.get("tags")
            if page is not None and not isinstance(page, list):
                raise ProtocolError(
                    f"tag list has 'tags' of type {type(page).__name__}, expected a list", method="GET", url=url
                )
            # Nexus has answered null tags, and pages may overlap: keep the rest.
            for tag in page or []:
                if isinstance(tag, str) and tag not in seen:
                    seen.add(tag)
                    tags.append(tag)
            if len(tags) > MAX_TAGS:
                raise ProtocolError(
                    f"more than {MAX_TAGS:,} tags; refusing to read on",
                    method="GET",
                    url=url,
                    hint="select tags on the registry side, or report the repository to its operator",
                )
            url = _checked_next(response, url)
        return tags

    def manifest(self, ref: ImageReference, reference: str, *, read_platforms: bool = False) -> Manifest | None:
        """The manifest ``reference`` names (a tag or digest): its digest, and with ``read_platforms`` the platforms
        it offers; None if it does not exist.

        Existence alone is one HEAD (Docker Hub counts a GET of a manifest against the pull limit, not a HEAD).
        Platforms need the manifest itself (a GET), and for a single image its config blob (one more GET).
        """
        return self.check(ref, reference, read_platforms=read_platforms).manifest

    def _manifest_at(self, ref: ImageReference, reference: str, read_platforms: bool) -> Manifest | None:
        url = f"{self._base(ref)}/v2/{ref.repository}/manifests/{reference}"
        headers = {"Accept": ", ".join(MANIFEST_MEDIA_TYPES)}
        if not read_platforms:
            response = self._manifest_reply("HEAD", url, ref, headers)
            if response is None:
                return None
            digest = _served_digest(response, "HEAD", url)
            if digest:
                return Manifest(digest)
        # Some registries leave the digest off HEAD; the digest is then the hash of the manifest bytes as served.
        response = self._manifest_reply("GET", url, ref, headers)
        if response is None:
            return None
        served = _served_digest(response, "GET", url)
        found = Manifest(served or "sha256:" + hashlib.sha256(response.content).hexdigest())
        if read_platforms:
            found.offered = self._platforms(ref, json_body(response, "GET", url))
        return found

    def document(self, ref: ImageReference, reference: str) -> Document | None:
        """GET the manifest ``reference`` names: its digest, media type and body; None if it does not exist.

        A GET of a manifest counts against Docker Hub's pull limit: only for what a HEAD cannot tell.
        """
        return self._across(ref, lambda at: self._document_at(at, reference))[0]

    def _document_at(self, ref: ImageReference, reference: str) -> Document | None:
        url = f"{self._base(ref)}/v2/{ref.repository}/manifests/{reference}"
        response = self._manifest_reply("GET", url, ref, {"Accept": ", ".join(MANIFEST_MEDIA_TYPES)})
        if response is None:
            return None
        body = json_body(response, "GET", url)
        if not isinstance(body, dict):
            raise ProtocolError(f"manifest is of type {type(body).__name__}, expected an object", method="GET", url=url)
        served = _served_digest(response, "GET", url)
        digest = served or "sha256:" + hashlib.sha256(response.content).hexdigest()
        media_type = body.get("mediaType") or response.headers.get("Content-Type") or ""
        return Document(digest=digest, media_type=str(media_type).partition(";")[0].strip(), body=body)

    def blob(self, ref: ImageReference, digest: str, *, limit: int = MAX_MANIFEST_BODY) -> bytes:
        """The blob ``digest`` names, checked against its digest: a registry cannot hand over other bytes."""
        return self._across(ref, lambda at: self._blob_at(at, digest, limit))[0]

    def _blob_at(self, ref: ImageReference, digest: str, limit: int) -> bytes:
        url = f"{self._base(ref)}/v2/{ref.repository}/blobs/{digest}"
        content = self._get(url, ref, limit=limit).content
        if digest.startswith("sha256:") and hashlib.sha256(content).hexdigest() != digest[7:].lower():
            raise ProtocolError(
                f"blob does not match its digest {digest}",
                method="GET",
                url=url,
                hint="the registry (or something between) altered it; report it to the registry's operator",
            )
        return content

    def referrers(self, ref: ImageReference, digest: str) -> list[dict[str, t.Any]] | None:
        """The manifests whose ``subject`` is ``digest`` (OCI distribution-spec 1.1 referrers API); None when the
        registry has no such API (it answers 404, learned once per registry for the run)."""
        return self._across(ref, lambda at: self._referrers_at(at, digest))[0]

    def _referrers_at(self, ref: ImageReference, digest: str) -> list[dict[str, t.Any]] | None:
        url = f"{self._base(ref)}/v2/{ref.repository}/referrers/{digest}"
        with self._lock:
            learning = self._referrers_learned.setdefault(ref.api_host, threading.Lock())
        # Until a registry is known to have the API, the first image to ask learns it and the others wait.
        with learning if ref.api_host not in self._has_referrers else contextlib.nullcontext():
            if ref.api_host in self._no_referrers:
                return None
            response = self._manifest_reply("GET", url, ref, {"Accept": OCI_INDEX})
            if response is None:
                self._no_referrers.add(ref.api_host)
                return None
            self._has_referrers.add(ref.api_host)
        body = json_body(response, "GET", url)
        listed = body.get("manifests") if isinstance(body, dict) else None
        if not isinstance(listed, list):
            raise ProtocolError("referrers reply is not an image index with 'manifests'", method="GET", url=url)
        return [entry for entry in listed if isinstance(entry, dict)]

    def _manifest_reply(self, method: str, url: str, ref: ImageReference, headers: dict[str, str]) -> Reply | None:
        """The manifest reply; None for a 404 (the tag or digest does not exist), an error for anything else."""
        # A HEAD reads no body whatever the cap.
        response = self._send(method, url, ref, headers=headers, limit=MAX_MANIFEST_BODY)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise failure(response, None, method, url)  # not a 404: no "repository not found"
        return response

    def _platforms(self, ref: ImageReference, body: t.Any) -> list[Platform]:
        listed = from_index(body)
        if listed is not None:
            return listed
        digest = config_digest(body)
        if digest is None:
            return []
        url = f"{self._base(ref)}/v2/{ref.repository}/blobs/{digest}"
        config = from_config(json_body(self._get(url, ref, limit=MAX_MANIFEST_BODY), "GET", url))
        return [config] if config else []

    def _across(self, ref: ImageReference, ask: t.Callable[[ImageReference], _T]) -> tuple[_T, str]:
        """``ask`` each mirror of the image's registry in order, then the registry: the first answer that is not a
        miss, and who gave it (``Check.served_by``).

        A mirror's miss (None, a repository not found) is not trusted: a cache may lack what the registry has. A
        mirror that fails is passed over (``_send`` leaves it out for the run when it cannot answer at all); a
        mistake in the options is not, it would fail the same everywhere.
        """
        for mirror in self.hosts.of(ref.registry):
            try:
                found = ask(mirror.reference(ref))
            except NotFoundError:
                continue
            except ConfigurationError:
                raise
            except RegistryError as exc:
                self.hosts.failed(mirror, exc)
                continue
            if found is not None:
                return found, str(mirror)
        return ask(ref), ref.registry

    def _send(
        self, method: str, url: str, ref: ImageReference, *, headers: dict[str, str] | None = None, limit: int
    ) -> Reply:
        """One request to a registry or a mirror: the registry's budget kept, the first contact with a mirror (or,
        with min_remaining, with a registry) made alone, and the rate limits the reply states noted."""
        host = ref.registry
        mirror = host in self.hosts.mirror_hosts
        budgeted = self.options.min_remaining is not None and not mirror
        with self.hosts.first_contact(host, alone=mirror or budgeted):
            if mirror and self.hosts.is_out(host):
                # It failed for another image while this one waited to ask it.
                raise RegistryConnectionError("the mirror failed earlier in this run", method=method, url=url)
            if budgeted:
                self._keep_budget(ref)
            try:
                response = self.auth.send(method, url, ref, headers=headers, limit=limit)
            except RegistryError as exc:
                if mirror and unavailable(exc):
                    self.hosts.leave(host)
                raise
            self.hosts.answered(host)
            self._note_rate_limit(ref, response)
            if mirror and response.status_code in RETRY_STATUSES:
                self.hosts.leave(host)  # still failing after the retries
        if budgeted:
            self._keep_budget(ref)
        return response

    def _keep_budget(self, ref: ImageReference) -> None:
        """Stop the run once the registry said fewer pulls than ``min_remaining`` remain."""
        with self._lock:
            noted = self.rate_limits.get(ref.registry) or {}
            resets = self._resets.get(ref.registry)
            until = resets if resets is not None else self._noted.get(ref.registry, 0.0) + BUDGET_MEMORY
        remaining, threshold = noted.get("remaining"), t.cast(int, self.options.min_remaining)
        if remaining is None or remaining >= threshold or time.monotonic() >= until:
            return
        of = f" of {noted['limit']}" if noted.get("limit") is not None else ""
        window = f" in its {noted['window']} s window" if noted.get("window") else ""
        reset = None if resets is None else max(0.0, round(resets - time.monotonic()))
        raise BudgetError(
            f"{ref.registry} says {remaining}{of} pulls remain{window}, fewer than min_remaining ({threshold}); "
            "stopped before sending it more requests"
            + (f"; the window resets in {reset:g} s" if reset is not None else ""),
            retry_after=reset,
            code="BUDGET",
            hint="wait for the window to reset, pull through a mirror (mirrors), log in for a higher limit, "
            "or lower min_remaining",
        )

    def _note_rate_limit(self, ref: ImageReference, response: Reply) -> None:
        """``RateLimit-Limit: 100;w=21600`` and ``RateLimit-Remaining: 76;w=21600`` (Docker Hub), when sent, and
        ``RateLimit-Reset`` (seconds until the window resets, as the IETF draft has it)."""
        limit = _rate(response.headers.get("RateLimit-Limit"))
        remaining = _rate(response.headers.get("RateLimit-Remaining"))
        if limit is None and remaining is None:
            return
        window = (remaining[1] if remaining else None) or (limit[1] if limit else None)
        reset = _rate(response.headers.get("RateLimit-Reset"))
        with self._lock:
            self.rate_limits[ref.registry] = {
                "limit": limit[0] if limit else None,
                "remaining": remaining[0] if remaining else None,
                "window": window,
            }
            self._noted[ref.registry] = time.monotonic()
            if reset is not None:
                self._resets[ref.registry] = time.monotonic() + max(0, reset[0])
            else:
                self._resets.pop(ref.registry, None)

    def _get(self, url: str, ref: ImageReference, *, limit: int) -> Reply:
        response = self._send("GET", url, ref, limit=limit)
        if response.status_code != 200:
            raise failure(response, ref, "GET", url)
        return response

    def _base(self, ref: ImageReference) -> str:
        plain = ref.api_host in self.options.http_registries or ref.registry in self.options.http_registries
        return f"{'http' if plain else 'https'}://{ref.api_host}"


def _same(digest: str, other: str) -> bool:
    return digest.lower() == other.lower()


def _rate(value: str | None) -> tuple[int, int | None] | None:
    """``76;w=21600`` -> (76, 21600); ``76`` -> (76, None); anything else -> None."""
    if not value:
        return None
    count, _sep, rest = value.partition(";")
    try:
        number = int(count.strip())
    except ValueError:
        return None
    window = None
    for parameter in rest.split(";"):
        key, _eq, text = parameter.strip().partition("=")
        # isascii(): isdigit() alone also takes "²" (a latin-1 header byte), which int() refuses.
        if key == "w" and text.strip().isascii() and text.strip().isdigit():
            window = int(text.strip())
    return number, window


def _checked_next(response: Reply, url: str) -> str | None:
    try:
        return next_link(response.headers.get("Link"), url)
    except ProtocolError as exc:
        raise ProtocolError(
            exc.message, method="GET", url=url, hint="refusing to follow it: it would carry the token elsewhere"
        ) from None


# The digest grammar of the distribution spec (algorithm:encoded).
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,256}")


def _served_digest(response: Reply, method: str, url: str) -> str | None:
    """``Docker-Content-Digest``, refused when it is no digest: it becomes ``digest`` and ``pinned``, which
    playbooks deploy, so a registry cannot put any text there."""
    value = response.headers.get("Docker-Content-Digest")
    if value and not _DIGEST.fullmatch(value):
        raise ProtocolError(
            f"registry sent a Docker-Content-Digest that is not a digest: {shortened(value, 100)!r}",
            method=method,
            url=url,
            hint="this is a registry bug; report it to the registry's operator",
        )
    return value or None
