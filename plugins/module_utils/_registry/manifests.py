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
