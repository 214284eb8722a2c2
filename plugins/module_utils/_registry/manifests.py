# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""Manifests and image configs: the media types a registry is asked for, what a manifest reply says (its digest,
the platforms an index lists, the config blob a single image points at) and what an image config says.

Only reading JSON that was already fetched lives here; ``client.py`` asks the registry for it.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from .platforms import Platform

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
# Listing the four types makes registries answer with the digest `docker pull`
# and `crane digest` report; without them they fall back to schema1.
MANIFEST_MEDIA_TYPES = (OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST)

# What a manifest list or index holds besides platforms: BuildKit's attestation manifests.
ATTESTATION = "attestation-manifest"


@dataclass
class Manifest:
    digest: str
    # The platforms it offers, when they were read.
    offered: list[Platform] | None = None


@dataclass(frozen=True)
class Document:
    """A manifest as fetched with GET: its digest, media type and JSON body."""

    digest: str
    media_type: str
    body: dict[str, t.Any]


def from_index(body: t.Any) -> list[Platform] | None:
    """The platforms an image index or manifest list offers, attestations left out; None if it is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("manifests"), list):
        return None
    found: list[Platform] = []
    for entry in body["manifests"]:
        if not isinstance(entry, dict):
            continue
        annotations = entry.get("annotations") if isinstance(entry.get("annotations"), dict) else {}
        platform = entry.get("platform")
        if annotations.get("vnd.docker.reference.type") == ATTESTATION or not isinstance(platform, dict):
            continue
        os, architecture = str(platform.get("os") or ""), str(platform.get("architecture") or "")
        if not os or not architecture or (os, architecture) == ("unknown", "unknown"):
            continue
        each = Platform.of(os, architecture, str(platform.get("variant") or ""))
        if each not in found:
            found.append(each)
    return found


def from_config(body: t.Any) -> Platform | None:
    """The platform an image config names (``os``, ``architecture``, ``variant``)."""
    if not isinstance(body, dict) or not body.get("os") or not body.get("architecture"):
        return None
    return Platform.of(str(body["os"]), str(body["architecture"]), str(body.get("variant") or ""))


def config_digest(body: t.Any) -> str | None:
    """The config blob a single image manifest points at."""
    config = body.get("config") if isinstance(body, dict) else None
    digest = config.get("digest") if isinstance(config, dict) else None
    return digest if isinstance(digest, str) and digest.startswith("sha256:") else None


@dataclass(frozen=True)
class Entry:
    """One manifest an index lists: a platform image, or a BuildKit attestation manifest for one."""

    digest: str
    media_type: str
    platform: Platform | None
    # For an attestation manifest, the digest of the platform image it is about.
    attests: str | None = None


def index_entries(body: t.Any) -> list[Entry] | None:
    """The manifests an image index or manifest list names, in its order; None if it is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("manifests"), list):
        return None
    entries: list[Entry] = []
    for item in body["manifests"]:
        digest = item.get("digest") if isinstance(item, dict) else None
        if not isinstance(digest, str) or not digest.startswith("sha256:"):
            continue
        annotations = _strings(item.get("annotations"))
        platform = item.get("platform") if isinstance(item.get("platform"), dict) else {}
        os, architecture = str(platform.get("os") or ""), str(platform.get("architecture") or "")
        attestation = annotations.get("vnd.docker.reference.type") == ATTESTATION
        real = os and architecture and (os, architecture) != ("unknown", "unknown") and not attestation
        entries.append(
            Entry(
                digest=digest,
                media_type=str(item.get("mediaType") or ""),
                platform=Platform.of(os, architecture, str(platform.get("variant") or "")) if real else None,
                attests=annotations.get("vnd.docker.reference.digest") if attestation else None,
            )
        )
    return entries


def annotations(body: t.Any) -> dict[str, str]:
    """A manifest's or index's own annotations (string values only)."""
    return _strings(body.get("annotations")) if isinstance(body, dict) else {}


def layers(body: t.Any) -> list[dict[str, t.Any]]:
    """A manifest's layers that name a digest."""
    found = body.get("layers") if isinstance(body, dict) else None
    return [
        layer
        for layer in found or []
        if isinstance(layer, dict) and isinstance(layer.get("digest"), str) and layer["digest"].startswith("sha256:")
    ]


@dataclass(frozen=True)
class ImageConfig:
    """What an image config says about the image: when it was built, and its labels."""

    created: str | None
    labels: dict[str, str]


def image_config(body: t.Any) -> ImageConfig:
    if not isinstance(body, dict):
        return ImageConfig(None, {})
    config = body.get("config") if isinstance(body.get("config"), dict) else {}
    created = body.get("created")
    return ImageConfig(created if isinstance(created, str) else None, _strings(config.get("Labels")))


# Predicate and artifact types, by what they are.
SBOM_TYPES = (
    "https://spdx.dev/Document",
    "https://cyclonedx.org/bom",
    "application/spdx+json",
    "text/spdx",
    "application/vnd.cyclonedx",
    "application/vnd.syft+json",
)
PROVENANCE_TYPES = ("https://slsa.dev/provenance/", "https://in-toto.io/attestation/provenance")


def attestation_kind(*types: str | None) -> str:
    """``sbom``, ``provenance`` or ``other`` for a predicate type or artifact type."""
    for text in types:
        if not text:
            continue
        if text.startswith(SBOM_TYPES):
            return "sbom"
        if text.startswith(PROVENANCE_TYPES):
            return "provenance"
    return "other"


def _strings(value: t.Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(key): item for key, item in value.items() if isinstance(item, str)}
