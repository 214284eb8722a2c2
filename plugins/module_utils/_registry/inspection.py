# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""What an image says about itself, read from its registry: when it was built, its labels, the digest of each
platform image, its attestations (SBOM, provenance) and its cosign signatures.

Attestations live in four places, and all four are read: BuildKit attestation manifests inside an index, cosign's
``sha256-<hex>.att`` and ``.sbom`` tags, the OCI 1.1 referrers API, and its tag-schema fallback (the tag
``sha256-<hex>`` holding an index of artifact manifests). Signatures: cosign's ``sha256-<hex>.sig`` tag, then the
referrers (or their fallback) when the tag holds none that verifies.

Nothing is read that was not asked for: ``Wanted`` says what. A tag list already fetched saves the requests for
cosign tags that do not exist.
"""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass, field

from .manifests import (
    ImageConfig,
    annotations,
    attestation_kind,
    config_digest,
    image_config,
    index_entries,
    layers,
)
from .platforms import Platform
from .signatures import (
    COSIGN_SIGNATURE_ARTIFACT,
    SIGNATURE_ANNOTATION,
    SIMPLE_SIGNING,
    Signature,
    TrustedKey,
    check,
)

if t.TYPE_CHECKING:
    from .manifests import Document
    from .reference import ImageReference

    # typing.Protocol is Python 3.8: only for type checkers, the module runs on 3.7 too.
    class Registry(t.Protocol):
        """What inspecting needs of a registry client (``client.RegistryClient`` is one)."""

        def document(self, ref: ImageReference, reference: str) -> Document | None: ...

        def blob(self, ref: ImageReference, digest: str, *, limit: int = ...) -> bytes: ...

        def referrers(self, ref: ImageReference, digest: str) -> list[dict[str, t.Any]] | None: ...


# A cosign payload is a few hundred bytes; a larger one is not read.
MAX_PAYLOAD = 256 * 1024
OCI_PREFIX = "org.opencontainers.image."
REVISION = "org.opencontainers.image.revision"
SOURCE = "org.opencontainers.image.source"
PREDICATE_ANNOTATIONS = ("in-toto.io/predicate-type", "predicateType", "dev.sigstore.cosign/predicateType")


@dataclass(frozen=True)
class Wanted:
    """What to read of an image."""

    metadata: bool = False  # created, labels, platform digests
    attestations: bool = False
    keys: tuple[TrustedKey, ...] = ()  # signatures, verified with these
    # The platforms whose images are read for an index (empty: all).
    platforms: tuple[Platform, ...] = ()

    @property
    def anything(self) -> bool:
        return self.metadata or self.attestations or bool(self.keys)


@dataclass
class Inspection:
    """What was read. For an index, ``configs`` is keyed by platform; for a single image by ``""``."""

    is_index: bool = False
    configs: dict[str, ImageConfig] = field(default_factory=dict)
    index_annotations: dict[str, str] = field(default_factory=dict)
    platform_digests: dict[str, str] | None = None
    attestations: list[dict[str, t.Any]] | None = None
    signatures: list[Signature] | None = None

    def as_dict(self, wanted: Wanted) -> dict[str, t.Any]:
        found: dict[str, t.Any] = {}
        if wanted.metadata:
            found.update(
                created=self.created,
                labels=self.labels,
                revision=self._oci("revision"),
                source=self._oci("source"),
                platform_digests=self.platform_digests,
            )
        if wanted.attestations:
            found["attestations"] = self.attestations or []
        if wanted.keys:
            found["signatures"] = [signature.as_dict() for signature in self.signatures or []]
        return found

    @property
    def created(self) -> str | dict[str, str | None] | None:
        if not self.is_index:
            return self.configs[""].created if "" in self.configs else None
        return {platform: config.created for platform, config in self.configs.items()}

    @property
    def labels(self) -> dict[str, t.Any]:
        if not self.is_index:
            return dict(self.configs[""].labels) if "" in self.configs else {}
        labels: dict[str, t.Any] = {platform: dict(config.labels) for platform, config in self.configs.items()}
        own = {key: value for key, value in self.index_annotations.items() if key.startswith(OCI_PREFIX)}
        if own:
            labels["index"] = own
        return labels

    def _oci(self, name: str) -> str | None:
        """``org.opencontainers.image.<name>``: the index's own annotation, else the label every image agrees on."""
        key = OCI_PREFIX + name
        if key in self.index_annotations:
            return self.index_annotations[key]
        values = {config.labels.get(key) for config in self.configs.values()}
        return values.pop() if len(values) == 1 else None


def inspect(
    client: Registry,
    ref: ImageReference,
    digest: str,
    wanted: Wanted,
    *,
    tags: t.Collection[str] | None = None,
) -> Inspection:
    """Read what ``wanted`` asks of the image ``digest`` in ``ref``'s repository; ``tags`` is its tag list when
    already fetched (cosign tags missing from it are not asked for)."""
    reader = _Reader(client, ref, digest, wanted, tags)
    return reader.read()


class _Reader:
    def __init__(
        self,
        client: Registry,
        ref: ImageReference,
        digest: str,
        wanted: Wanted,
        tags: t.Collection[str] | None,
    ) -> None:
        self.client = client
        self.ref = ref
        self.digest = digest
        self.wanted = wanted
        self.tags = set(tags) if tags is not None else None
        self.found = Inspection()
        self.tag_prefix = digest.replace(":", "-")
        self._referrers: list[dict[str, t.Any]] | None = None
        self._referrers_read = False
        self._where = "referrers API"

    def read(self) -> Inspection:
        if self.wanted.metadata or self.wanted.attestations:
            self._image()
        if self.wanted.attestations:
            self._cosign_attestations()
            self._referring_attestations()
        if self.wanted.keys:
            self._signatures()
        return self.found

    # The image itself: its configs, platform digests, BuildKit attestations.
    def _image(self) -> None:
        document = self.client.document(self.ref, self.digest)
        if document is None:
            return
        entries = index_entries(document.body)
        if entries is None:
            if self.wanted.metadata:
                self.found.configs[""] = self._config(document.body)
            return
        self.found.is_index = True
        self.found.index_annotations = annotations(document.body)
        self.found.platform_digests = {str(e.platform): e.digest for e in entries if e.platform is not None}
        if self.wanted.metadata:
            for entry in entries:
                if entry.platform is None or (self.wanted.platforms and entry.platform not in self.wanted.platforms):
                    continue
                platform_image = self.client.document(self.ref, entry.digest)
                if platform_image is not None:
                    self.found.configs[str(entry.platform)] = self._config(platform_image.body)
        if self.wanted.attestations:
            for entry in entries:
                if entry.attests is not None:
                    self._attestation_manifest(entry.digest, where="index (BuildKit attestation manifest)")

    def _config(self, body: dict[str, t.Any]) -> ImageConfig:
        digest = config_digest(body)
        if digest is None:
            return ImageConfig(None, {})
        return image_config(_json(self.client.blob(self.ref, digest)))

    def _attestation_manifest(self, digest: str, *, where: str) -> None:
        document = self.client.document(self.ref, digest)
        if document is None:
            return
        for layer in layers(document.body):
            predicate = _predicate(layer)
            self._attest(attestation_kind(predicate), str(layer.get("mediaType") or ""), predicate, where)

    def _attest(self, kind: str, media_type: str, predicate: str | None, where: str) -> None:
        if self.found.attestations is None:
            self.found.attestations = []
        entry = {"type": kind, "media_type": media_type, "predicate_type": predicate, "where": where}
        if entry not in self.found.attestations:
            self.found.attestations.append(entry)

    # cosign's tags beside the image.
    def _tag_document(self, suffix: str) -> dict[str, t.Any] | None:
        tag = self.tag_prefix + suffix
        if self.tags is not None and tag not in self.tags:
            return None
        document = self.client.document(self.ref, tag)
        return document.body if document is not None else None

    def _cosign_attestations(self) -> None:
        if self.found.attestations is None:
            self.found.attestations = []
        body = self._tag_document(".att")
        for layer in layers(body):
            predicate = _predicate(layer)
            where = f"tag {self.tag_prefix}.att"
            self._attest(attestation_kind(predicate), str(layer.get("mediaType") or ""), predicate, where)
        body = self._tag_document(".sbom")
        for layer in layers(body):
            self._attest("sbom", str(layer.get("mediaType") or ""), None, f"tag {self.tag_prefix}.sbom")

    # The OCI 1.1 referrers, or the tag-schema fallback.
    def _referring(self) -> tuple[list[dict[str, t.Any]], str]:
        if not self._referrers_read:
            self._referrers_read = True
            self._referrers = self.client.referrers(self.ref, self.digest)
            if self._referrers is None:
                body = self._tag_document("")
                listed = body.get("manifests") if isinstance(body, dict) else None
                self._referrers = [entry for entry in listed or [] if isinstance(entry, dict)]
                self._where = f"tag {self.tag_prefix} (referrers tag schema)"
        return self._referrers or [], self._where

    def _referring_attestations(self) -> None:
        referring, where = self._referring()
        for entry in referring:
            artifact = str(entry.get("artifactType") or "")
            if artifact == COSIGN_SIGNATURE_ARTIFACT or "sigstore.bundle" in artifact:
                continue
            predicate = _predicate(entry)
            kind = attestation_kind(predicate, artifact)
            if kind == "other" and predicate is None and "in-toto" in artifact:
                # The descriptor does not say which statement it is: its layers do.
                self._attestation_manifest(str(entry.get("digest")), where=where)
                continue
            self._attest(kind, artifact or str(entry.get("mediaType") or ""), predicate, where)

    # Signatures.
    def _signatures(self) -> None:
        self.found.signatures = []
        body = self._tag_document(".sig")
        self._signature_layers(body, f"tag {self.tag_prefix}.sig")
        if any(signature.verified for signature in self.found.signatures):
            return
        referring, where = self._referring()
        for entry in referring:
            artifact = str(entry.get("artifactType") or "")
            if artifact == COSIGN_SIGNATURE_ARTIFACT:
                document = self.client.document(self.ref, str(entry.get("digest")))
                self._signature_layers(document.body if document else None, where)
            elif "sigstore.bundle" in artifact:
                self.found.signatures.append(
                    Signature(False, None, where, "a sigstore bundle (keyless or cosign 3 format) is not supported")
                )

    def _signature_layers(self, body: dict[str, t.Any] | None, where: str) -> None:
        found = self.found.signatures = self.found.signatures or []
        for layer in layers(body):
            if layer.get("mediaType") != SIMPLE_SIGNING:
                continue
            size = layer.get("size")
            if isinstance(size, int) and size > MAX_PAYLOAD:
                found.append(Signature(False, None, where, "the signature payload is too large"))
                continue
            payload = self.client.blob(self.ref, layer["digest"], limit=MAX_PAYLOAD)
            note = layer.get("annotations") if isinstance(layer.get("annotations"), dict) else {}
            signature = note.get(SIGNATURE_ANNOTATION)
            found.append(
                check(payload, signature if isinstance(signature, str) else None, self.wanted.keys, self.digest, where)
            )


def _predicate(descriptor: dict[str, t.Any]) -> str | None:
    notes = descriptor.get("annotations") if isinstance(descriptor.get("annotations"), dict) else {}
    for key in PREDICATE_ANNOTATIONS:
        if isinstance(notes.get(key), str):
            return t.cast(str, notes[key])
    return None


def _json(content: bytes) -> t.Any:
    try:
        return json.loads(content)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's limit ([[[[...)
        return None
