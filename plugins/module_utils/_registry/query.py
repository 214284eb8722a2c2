# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""What the module and the lookup both ask: tags, existence and digests of images."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from .client import ClientOptions, RegistryClient, make_session
from .errors import RegistryError
from .reference import ImageReference


@dataclass
class ImageResult:
    reference: str
    ref: ImageReference
    tags: list[str]
    exists: bool | None = None
    digest: str | None = None

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
        }
        return result


def parse_references(texts: t.Iterable[t.Any]) -> list[ImageReference]:
    """Parse every reference before any request is sent, so a typo costs nothing."""
    return [ImageReference.parse(text) for text in texts]


def query_images(texts: t.Sequence[str], options: ClientOptions, *, manifests: bool = True) -> list[ImageResult]:
    """Tags of every image, plus (with ``manifests``) existence and digest for
    tagged or digest references.

    One session (keep-alive) and one token cache serve all images; a
    repository named several times (with different tags) is listed once.
    """
    refs = parse_references(texts)
    session = make_session()
    try:
        client = RegistryClient(session, options)
        listed: dict[str, list[str]] = {}
        results: list[ImageResult] = []
        for text, ref in zip(texts, refs):
            try:
                if ref.name not in listed:
                    listed[ref.name] = client.list_tags(ref)
                result = ImageResult(reference=str(text).strip(), ref=ref, tags=listed[ref.name])
                wanted = ref.digest or ref.tag
                if wanted and manifests:
                    result.digest = client.manifest_digest(ref, wanted)
                    result.exists = result.digest is not None
                results.append(result)
            except RegistryError as exc:
                raise exc.about(str(ref)) from None
        return results
    finally:
        session.close()
