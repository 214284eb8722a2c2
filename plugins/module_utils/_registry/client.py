# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""The registry API: tag lists (every page) and manifest digests. Authentication is ``auth.py``'s job, turning
replies into errors ``replies.py``'s, reading manifests and image configs ``manifests.py``'s."""

from __future__ import annotations

import contextlib
import hashlib
import threading
import typing as t

from .auth import Authenticator
from .credentials import CredentialStore
from .errors import ProtocolError
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
from .options import ClientOptions
from .replies import failure, json_body
from .transport import MAX_MANIFEST_BODY, MAX_PAGE_BODY, Reply, RetryPolicy, Transport

if t.TYPE_CHECKING:
    import requests

    from .platforms import Platform
    from .reference import ImageReference
    from .tokens import TokenCache

MAX_PAGES = 100_000
MAX_TAGS = 1_000_000


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
        store = CredentialStore(
            explicit=options.credentials,
            explicit_registry=options.credentials_registry,
            auth_file=options.auth_file,
            environ=options.environ,
        )
        self.auth = Authenticator(self.transport, store, cache)
        # Registry -> {"limit", "remaining", "window"}, from the last manifest reply that carried them.
        self.rate_limits: dict[str, dict[str, int | None]] = {}
        # Registries (API hosts) that answered the referrers API with 404: it is not asked again this run.
        self._no_referrers: set[str] = set()
        self._has_referrers: set[str] = set()
        self._referrers_learned: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def expect(self, refs: t.Iterable[ImageReference]) -> None:
        """The images this run will ask about: one token request can then cover all of them."""
        self.auth.expect(refs)

    def list_tags(self, ref: ImageReference) -> list[str]:
        """Every tag of the repository, following ``Link: rel="next"`` to the end."""
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
        url = f"{self._base(ref)}/v2/{ref.repository}/manifests/{reference}"
        headers = {"Accept": ", ".join(MANIFEST_MEDIA_TYPES)}
        if not read_platforms:
            response = self._manifest_reply("HEAD", url, ref, headers)
            if response is None:
                return None
            digest = response.headers.get("Docker-Content-Digest")
            if digest:
                return Manifest(digest)
        # Some registries leave the digest off HEAD; the digest is then the hash of the manifest bytes as served.
        response = self._manifest_reply("GET", url, ref, headers)
        if response is None:
            return None
        served = response.headers.get("Docker-Content-Digest")
        found = Manifest(served or "sha256:" + hashlib.sha256(response.content).hexdigest())
        if read_platforms:
            found.offered = self._platforms(ref, json_body(response, "GET", url))
        return found

    def document(self, ref: ImageReference, reference: str) -> Document | None:
        """GET the manifest ``reference`` names: its digest, media type and body; None if it does not exist.

        A GET of a manifest counts against Docker Hub's pull limit: only for what a HEAD cannot tell.
        """
        url = f"{self._base(ref)}/v2/{ref.repository}/manifests/{reference}"
        response = self._manifest_reply("GET", url, ref, {"Accept": ", ".join(MANIFEST_MEDIA_TYPES)})
        if response is None:
            return None
        body = json_body(response, "GET", url)
        if not isinstance(body, dict):
            raise ProtocolError(f"manifest is of type {type(body).__name__}, expected an object", method="GET", url=url)
        served = response.headers.get("Docker-Content-Digest")
        digest = served or "sha256:" + hashlib.sha256(response.content).hexdigest()
        media_type = body.get("mediaType") or response.headers.get("Content-Type") or ""
        return Document(digest=digest, media_type=str(media_type).split(";")[0].strip(), body=body)

    def blob(self, ref: ImageReference, digest: str, *, limit: int = MAX_MANIFEST_BODY) -> bytes:
        """The blob ``digest`` names, checked against its digest: a registry cannot hand over other bytes."""
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
        response = self.auth.send(method, url, ref, headers=headers, limit=MAX_MANIFEST_BODY)
        self._note_rate_limit(ref, response)
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

    def _note_rate_limit(self, ref: ImageReference, response: Reply) -> None:
        """``RateLimit-Limit: 100;w=21600`` and ``RateLimit-Remaining: 76;w=21600`` (Docker Hub), when sent."""
        limit = _rate(response.headers.get("RateLimit-Limit"))
        remaining = _rate(response.headers.get("RateLimit-Remaining"))
        if limit is None and remaining is None:
            return
        window = (remaining[1] if remaining else None) or (limit[1] if limit else None)
        with self._lock:
            self.rate_limits[ref.registry] = {
                "limit": limit[0] if limit else None,
                "remaining": remaining[0] if remaining else None,
                "window": window,
            }

    def _get(self, url: str, ref: ImageReference, *, limit: int) -> Reply:
        response = self.auth.send("GET", url, ref, limit=limit)
        if response.status_code != 200:
            raise failure(response, ref, "GET", url)
        return response

    def _base(self, ref: ImageReference) -> str:
        plain = ref.api_host in self.options.http_registries or ref.registry in self.options.http_registries
        return f"{'http' if plain else 'https'}://{ref.api_host}"


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
