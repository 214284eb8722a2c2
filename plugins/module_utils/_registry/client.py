# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""The registry API: tag lists (every page) and manifest digests. Authentication is ``auth.py``'s job, turning
replies into errors ``replies.py``'s."""

from __future__ import annotations

import hashlib
import typing as t

from .auth import Authenticator, TokenCache
from .credentials import CredentialStore
from .errors import ProtocolError
from .headers import next_link
from .options import ClientOptions
from .replies import failure, json_body
from .transport import MAX_MANIFEST_BODY, MAX_PAGE_BODY, Reply, RetryPolicy, Transport

if t.TYPE_CHECKING:
    import requests

    from .reference import ImageReference

# Listing the four types makes registries answer with the digest `docker pull`
# and `crane digest` report; without them they fall back to schema1.
MANIFEST_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)

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
            if url in visited or len(visited) >= MAX_PAGES:
                raise ProtocolError(
                    "registry sent a next-page Link that repeats an earlier page",
                    method="GET",
                    url=url,
                    hint="this is a registry bug; report it to the registry's operator",
                )
            visited.add(url)
            response = self._get(url, ref, limit=MAX_PAGE_BODY)
            body = json_body(response, "GET", url)
            page = body.get("tags") if isinstance(body, dict) else None
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

    def manifest_digest(self, ref: ImageReference, reference: str) -> str | None:
        """The digest of the manifest ``reference`` (a tag or digest), or None if absent."""
        url = f"{self._base(ref)}/v2/{ref.repository}/manifests/{reference}"
        headers = {"Accept": ", ".join(MANIFEST_MEDIA_TYPES)}
        response = self.auth.send("HEAD", url, ref, headers=headers)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise failure(response, ref, "HEAD", url)
        digest = response.headers.get("Docker-Content-Digest")
        if digest:
            return digest
        # Some registries leave the header off HEAD; the digest is the hash of
        # the manifest bytes exactly as served.
        response = self.auth.send("GET", url, ref, headers=headers, limit=MAX_MANIFEST_BODY)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise failure(response, ref, "GET", url)
        served = response.headers.get("Docker-Content-Digest")
        return served or "sha256:" + hashlib.sha256(response.content).hexdigest()

    def _get(self, url: str, ref: ImageReference, *, limit: int) -> Reply:
        response = self.auth.send("GET", url, ref, limit=limit)
        if response.status_code != 200:
            raise failure(response, ref, "GET", url)
        return response

    def _base(self, ref: ImageReference) -> str:
        plain = ref.api_host in self.options.http_registries or ref.registry in self.options.http_registries
        return f"{'http' if plain else 'https'}://{ref.api_host}"


def _checked_next(response: Reply, url: str) -> str | None:
    try:
        return next_link(response.headers.get("Link"), url)
    except ProtocolError as exc:
        raise ProtocolError(
            exc.message, method="GET", url=url, hint="refusing to follow it: it would carry the token elsewhere"
        ) from None
