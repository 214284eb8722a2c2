"""Signatures, attestations, labels and build dates, written the way the tools write them.

Everything here follows the formats' own specifications, not the collection's code:

- cosign (``specs/SIGNATURE_SPEC.md``, ``pkg/oci/static``, ``pkg/oci/empty``): tag ``sha256-<hex>.sig`` holding an
  OCI image manifest whose layers are simple-signing payloads (``application/vnd.dev.cosign.simplesigning.v1+json``)
  with the base64 signature in the layer annotation ``dev.cosignproject.cosign/signature``; the config blob is
  go-containerregistry's empty image after ``mutate.Append`` (zero ``created``, one history entry and one diff_id per
  layer). ``cosign verify --key`` loads keys with SHA-256: ECDSA-P256 (ASN.1 DER), RSA PKCS#1 v1.5 and pure Ed25519
  (``sign --tlog-upload=false``; with the transparency log cosign 2.3+ signs Ed25519ph, which the kit does not seed).
- cosign attestations (``specs/ATTESTATION_SPEC.md``): tag ``sha256-<hex>.att``, layers
  ``application/vnd.dsse.envelope.v1+json`` annotated ``predicateType``, each a DSSE envelope (signed over PAE) of an
  in-toto statement; ``cosign attach sbom`` (``specs/SBOM_SPEC.md``): tag ``sha256-<hex>.sbom``, layer
  ``text/spdx+json``.
- cosign's OCI 1.1 mode (``WriteSignaturesExperimentalOCI``): the same signature manifest with ``artifactType`` and
  config media type ``application/vnd.dev.cosign.artifact.sig.v1+json`` and a ``subject``: found by referrers only.
- BuildKit (``docs/attestations/attestation-storage.md``): in an image index, one manifest per platform image with
  platform ``unknown/unknown`` and annotations ``vnd.docker.reference.type: attestation-manifest`` and
  ``vnd.docker.reference.digest``; layers ``application/vnd.in-toto+json`` annotated ``in-toto.io/predicate-type``;
  the current form is an OCI artifact (``artifactType``, empty config, ``subject``), the legacy one
  (``oci-artifact=false``) has an image config instead.
- OCI distribution-spec 1.1: ``GET /v2/<name>/referrers/<digest>`` (Distribution 2.8 and 3.1 answer 404; the fault
  server's ``ReferrersRegistry`` in ``referrers.py`` answers it) and its fallback, tag ``sha256-<hex>`` holding an
  image index of the referring manifests, each descriptor with ``artifactType`` and the manifest's annotations.

Distribution 2.8.2 stores ``subject`` and ``artifactType`` verbatim (it does not read them, sends no ``OCI-Subject``
and answers 404 to the referrers API); it refuses only an index whose children are not pushed yet, so children go
first. ``seed_supply_chain`` returns what ``kit["supply_chain"]`` holds (see ``tests/kit/__init__.py``).
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import json
import os
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from .seed import OCI_CONFIG, OCI_INDEX, OCI_LAYER, OCI_MANIFEST, Pusher, _layer

# The namespace the token server lets anyone pull (servers.py), so that tests need no credentials for it.
NAMESPACE = "signed"
SIGNATURES_REPO = f"{NAMESPACE}/app"
ATTESTATIONS_REPO = f"{NAMESPACE}/attested"
DATED_REPO = f"{NAMESPACE}/dated"

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
COSIGN_SIGNATURE_TYPE = "cosign container image signature"
COSIGN_SIG_ARTIFACT = "application/vnd.dev.cosign.artifact.sig.v1+json"
DSSE = "application/vnd.dsse.envelope.v1+json"
IN_TOTO = "application/vnd.in-toto+json"
SPDX_JSON = "application/spdx+json"
COSIGN_SPDX_JSON = "text/spdx+json"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
BUILDKIT_ATTESTATION = "application/vnd.docker.attestation.manifest.v1+json"

SPDX = "https://spdx.dev/Document"
CYCLONEDX = "https://cyclonedx.org/bom"
SLSA_02 = "https://slsa.dev/provenance/v0.2"
SLSA_1 = "https://slsa.dev/provenance/v1"
VULN = "https://cosign.sigstore.dev/attestation/vuln/v1"
STATEMENT_01 = "https://in-toto.io/Statement/v0.1"
STATEMENT_1 = "https://in-toto.io/Statement/v1"

REVISION = "8f2c6f1d3b7a9e0c4d5b6a7f8e9d0c1b2a3f4e5d"
OTHER_REVISION = "0000000000000000000000000000000000000bad"
SOURCE = "https://github.com/tagscope/registry"
EPOCH = "1970-01-01T00:00:00Z"
YEAR_ONE = "0001-01-01T00:00:00Z"

Json = dict[str, t.Any]
PrivateKey = t.Union[ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey]


def compact_json(document: t.Any) -> bytes:
    """Compact JSON, as Go's encoding/json writes it (cosign, BuildKit)."""
    return json.dumps(document, separators=(",", ":")).encode()


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def digest_tag(digest: str, suffix: str = "") -> str:
    """``sha256:<hex>`` -> ``sha256-<hex><suffix>``: cosign's ``.sig``/``.att``/``.sbom`` tags and the referrers tag."""
    return digest.replace(":", "-", 1) + suffix


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- keys ----------------------------------------------------------------------------------------------------------


def sign(key: PrivateKey, data: bytes) -> bytes:
    """What ``cosign sign --key`` puts in the annotation (before base64) for each key type cosign verifies."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return key.sign(data)


def public_pem(key: PrivateKey) -> str:
    """PKIX ``-----BEGIN PUBLIC KEY-----``, as ``cosign generate-key-pair`` writes cosign.pub."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


class Keys:
    """The kit's signing keys: ``kit`` and ``other`` (ECDSA P-256, like cosign generate-key-pair), RSA-2048, Ed25519."""

    def __init__(self) -> None:
        self.kit = ec_key()
        self.other = ec_key()
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ed25519 = ed25519.Ed25519PrivateKey.generate()

    def write(self, directory: Path) -> dict[str, str]:
        """Public keys as PEM files; the kit key's private half only here (0600), for tests that must refuse it."""
        directory.mkdir(parents=True, exist_ok=True)
        files = {
            "public_key": ("cosign.pub", public_pem(self.kit)),
            "other_public_key": ("other.pub", public_pem(self.other)),
            "rsa_public_key": ("rsa.pub", public_pem(self.rsa)),
            "ed25519_public_key": ("ed25519.pub", public_pem(self.ed25519)),
        }
        paths = {}
        for key, (file_name, text) in files.items():
            (directory / file_name).write_text(text)
            paths[key] = str(directory / file_name)
        # cosign encrypts its private key with scrypt and NaCl secretbox, which cryptography lacks: the kit writes the
        # key unencrypted (PKCS#8), still a private key that signed_by must refuse.
        private = directory / "cosign.key"
        fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(
                self.kit.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )
        paths["private_key"] = str(private)
        return paths


# -- one repository, in memory -------------------------------------------------------------------------------------


class Store:
    """One repository's blobs, manifests and tags, built in memory: pushed to the kit's registry (``push``) or served
    by the fault server (``referrers.ReferrersRegistry``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.blobs: dict[str, bytes] = {}
        # In the order they were made: children before the indexes that list them, which Distribution requires.
        self.manifests: dict[str, tuple[bytes, str]] = {}
        self.tags: dict[str, str] = {}
        # subject digest -> descriptors of the manifests that refer to it (what the referrers API lists).
        self.referrers: dict[str, list[Json]] = {}

    def blob(self, data: bytes, media_type: str, annotations: dict[str, str] | None = None) -> Json:
        digest = digest_of(data)
        self.blobs[digest] = data
        descriptor: Json = {"mediaType": media_type, "size": len(data), "digest": digest}
        if annotations:
            descriptor["annotations"] = dict(sorted(annotations.items()))
        return descriptor

    def manifest(self, document: Json, *, tag: str | None = None, referrer: bool = False) -> Json:
        """Store a manifest or index; ``referrer`` lists it under its ``subject`` (a registry with the referrers API
        does that for every manifest with a subject; the kit chooses, as BuildKit's do not go in fallback tags)."""
        body = compact_json(document)
        digest = digest_of(body)
        self.manifests[digest] = (body, document["mediaType"])
        if tag:
            self.tags[tag] = digest
        descriptor: Json = {"mediaType": document["mediaType"], "size": len(body), "digest": digest}
        if referrer:
            listed = dict(descriptor)
            if document.get("annotations"):
                listed["annotations"] = document["annotations"]
            # The spec: artifactType, else the config's media type (for an image manifest).
            artifact_type = document.get("artifactType") or document.get("config", {}).get("mediaType")
            if artifact_type:
                listed["artifactType"] = artifact_type
            self.referrers.setdefault(document["subject"]["digest"], []).append(listed)
        return descriptor

    def tag(self, tag: str, digest: str) -> None:
        self.tags[tag] = digest

    def fallback_tags(self) -> None:
        """The referrers tag schema: ``sha256-<hex>`` -> an index of what refers to that digest."""
        for subject, listed in self.referrers.items():
            self.manifest({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": listed}, tag=digest_tag(subject))

    def referrers_index(self, subject: str, artifact_type: str | None = None) -> Json:
        listed = self.referrers.get(subject, [])
        if artifact_type is not None:
            listed = [d for d in listed if d.get("artifactType") == artifact_type]
        return {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": listed}

    def body(self, reference: str) -> tuple[bytes, str] | None:
        """A manifest by tag or digest."""
        return self.manifests.get(self.tags.get(reference, reference))

    # -- images ---------------------------------------------------------------------------------------------------

    def image(
        self,
        *,
        version: str,
        tag: str | None = None,
        created: str | None,
        labels: dict[str, str] | None = None,
        architecture: str = "amd64",
        variant: str = "",
    ) -> Json:
        """A one-layer linux image whose config carries ``created`` (left out when None), ``labels`` and
        ``version`` as org.opencontainers.image.version: a distinct version gives a distinct image."""
        layer = _layer()
        own = {**(labels or {}), "org.opencontainers.image.version": version}
        config: Json = {
            "architecture": architecture,
            "config": {"Labels": dict(sorted(own.items()))},
            **({"created": created} if created is not None else {}),
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [digest_of(gzip.decompress(layer))]},
            **({"variant": variant} if variant else {}),
        }
        document = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": self.blob(compact_json(config), OCI_CONFIG),
            "layers": [self.blob(layer, OCI_LAYER)],
        }
        return self.manifest(document, tag=tag)

    def platforms(
        self,
        *,
        label: str,
        created: str | None,
        labels: dict[str, str] | None = None,
        arm64_labels: dict[str, str] | None = None,
    ) -> list[Json]:
        """linux/amd64 and linux/arm64/v8 images, as index entries (descriptor with platform); ``arm64_labels``, when
        given, replace ``labels`` for arm64."""
        entries = []
        for architecture, variant in (("amd64", ""), ("arm64", "v8")):
            chosen = arm64_labels if architecture == "arm64" and arm64_labels is not None else labels
            descriptor = self.image(
                version=f"{label}-{architecture}",
                created=created,
                labels=chosen,
                architecture=architecture,
                variant=variant,
            )
            platform = {"architecture": architecture, "os": "linux", **({"variant": variant} if variant else {})}
            entries.append({**descriptor, "platform": platform})
        return entries

    def index(self, entries: list[Json], *, tag: str, annotations: dict[str, str] | None = None) -> Json:
        document: Json = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        if annotations:
            document["annotations"] = dict(sorted(annotations.items()))
        return self.manifest(document, tag=tag)


def _labels(revision: str = REVISION) -> dict[str, str]:
    return {"org.opencontainers.image.revision": revision, "org.opencontainers.image.source": SOURCE}


def _platform_digests(entries: list[Json]) -> dict[str, str]:
    return {
        "/".join(filter(None, (e["platform"]["os"], e["platform"]["architecture"], e["platform"].get("variant")))): e[
            "digest"
        ]
        for e in entries
    }


# -- cosign --------------------------------------------------------------------------------------------------------


def simple_signing(reference: str, digest: str, optional: Json | None = None) -> bytes:
    """The payload cosign signs (sigstore's payload.Cosign): docker-reference is the repository, without tag."""
    return compact_json(
        {
            "critical": {
                "identity": {"docker-reference": reference},
                "image": {"docker-manifest-digest": digest},
                "type": COSIGN_SIGNATURE_TYPE,
            },
            "optional": optional,
        }
    )


def cosign_config(layers: list[Json]) -> bytes:
    """go-containerregistry's empty image after mutate.Append: Go's zero time, one history entry per layer, and the
    layers' digests as diff_ids (cosign's layers are stored uncompressed)."""
    zero = YEAR_ONE
    return compact_json(
        {
            "architecture": "",
            "created": zero,
            "history": [{"created": zero} for _layer in layers],
            "os": "",
            "rootfs": {"type": "layers", "diff_ids": [layer["digest"] for layer in layers]},
            "config": {},
        }
    )


def signature_layer(store: Store, payload: bytes, signature: bytes | str) -> Json:
    encoded = signature if isinstance(signature, str) else base64.b64encode(signature).decode()
    return store.blob(payload, SIMPLE_SIGNING, {SIGNATURE_ANNOTATION: encoded})


def cosign_manifest(
    store: Store,
    layers: list[Json],
    *,
    tag: str | None = None,
    subject: Json | None = None,
    artifact_type: str | None = None,
    annotations: dict[str, str] | None = None,
) -> Json:
    """cosign's signature/attestation/SBOM image: OCI manifest, config from ``cosign_config``."""
    config_type = artifact_type or OCI_CONFIG
    document: Json = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": store.blob(cosign_config(layers), config_type),
        "layers": layers,
    }
    if annotations:
        document["annotations"] = dict(sorted(annotations.items()))
    if subject is not None:
        document["subject"] = {k: subject[k] for k in ("mediaType", "size", "digest")}
        document["artifactType"] = config_type
    return store.manifest(document, tag=tag, referrer=subject is not None)


def statement(
    subject_name: str, digest: str, predicate_type: str, *, version: str = STATEMENT_01, predicate: Json | None = None
) -> bytes:
    """An in-toto statement about ``digest``."""
    return compact_json(
        {
            "_type": version,
            "predicateType": predicate_type,
            "subject": [{"name": subject_name, "digest": {"sha256": digest.split(":", 1)[1]}}],
            "predicate": predicate if predicate is not None else PREDICATES[predicate_type],
        }
    )


def dsse(key: PrivateKey, payload: bytes, payload_type: str = IN_TOTO) -> bytes:
    """A DSSE envelope, signed over the pre-authentication encoding (PAE) as the DSSE spec says."""
    return compact_json(
        {
            "payloadType": payload_type,
            "payload": base64.b64encode(payload).decode(),
            "signatures": [{"keyid": "", "sig": base64.b64encode(sign(key, pae(payload_type, payload))).decode()}],
        }
    )


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what the envelope's signature covers."""
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload), payload)


# Small, plausible predicates: the kit proves where attestations are and what they say they are, not their content.
PREDICATES: dict[str, Json] = {
    SPDX: {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "tagscope-kit",
        "documentNamespace": "https://tagscope.invalid/spdx/kit",
        "creationInfo": {"created": "2026-01-01T00:00:00Z", "creators": ["Tool: tagscope-kit"]},
        "packages": [],
    },
    CYCLONEDX: {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": []},
    SLSA_02: {
        "builder": {"id": "https://tagscope.invalid/kit-builder"},
        "buildType": "https://mobyproject.org/buildkit@v1",
        "invocation": {"configSource": {"uri": SOURCE, "digest": {"sha1": REVISION}}},
        "materials": [],
    },
    SLSA_1: {
        "buildDefinition": {"buildType": "https://tagscope.invalid/kit-build", "externalParameters": {}},
        "runDetails": {"builder": {"id": "https://tagscope.invalid/kit-builder"}},
    },
    VULN: {"scanner": {"uri": "pkg:github/tagscope/kit-scanner", "version": "1.0"}, "metadata": {}},
}


# -- the three repositories ----------------------------------------------------------------------------------------


class Seeded:
    """What tests learn about the seeded images, filled while building."""

    def __init__(self, registry: str) -> None:
        self.registry = registry
        self.images: dict[str, str] = {}
        self.digests: dict[str, str] = {}
        self.platform_digests: dict[str, dict[str, str]] = {}
        self.created: dict[str, str | None] = {}
        self.attestations: dict[str, list[str]] = {}
        self.verifies_with: dict[str, list[str]] = {}

    def add(self, key: str, store: Store, tag: str, descriptor: Json, created: str | None) -> None:
        # Two cases sharing one image would share their signatures and attestations: each claim would be void.
        if descriptor["digest"] in self.digests.values():
            raise RuntimeError(f"kit: {key} is the same image as another case")
        self.images[key] = f"{self.registry}/{store.name}:{tag}"
        self.digests[key] = descriptor["digest"]
        self.created[key] = created


def build_signatures(store: Store, keys: Keys, seeded: Seeded, created: str) -> None:
    """``signed/app``: one image per way a signature can be good or bad."""
    reference = f"{seeded.registry}/{store.name}"

    def image(key: str, tag: str) -> Json:
        descriptor = store.image(version=tag, tag=tag, created=created, labels=_labels())
        seeded.add(key, store, tag, descriptor, created)
        return descriptor

    def signed(descriptor: Json, *signers: PrivateKey) -> list[Json]:
        payload = simple_signing(reference, descriptor["digest"])
        return [signature_layer(store, payload, sign(signer, payload)) for signer in signers]

    def sig_tag(descriptor: Json) -> str:
        return digest_tag(descriptor["digest"], ".sig")

    good = image("signed", "signed")
    good_signature = cosign_manifest(store, signed(good, keys.kit), tag=sig_tag(good))
    seeded.verifies_with["signed"] = ["kit"]

    other = image("other_key", "other-key")
    cosign_manifest(store, signed(other, keys.other), tag=sig_tag(other))
    seeded.verifies_with["other_key"] = ["other"]

    both = image("two_keys", "two-keys")
    # `cosign sign` twice, other key first: a verifier must look past the first layer.
    cosign_manifest(store, signed(both, keys.other, keys.kit), tag=sig_tag(both))
    seeded.verifies_with["two_keys"] = ["kit", "other"]

    # An attacker copies signed's .sig manifest to this image's .sig tag: a valid kit-key signature naming signed.
    replayed = image("replayed", "replayed")
    store.tag(sig_tag(replayed), good_signature["digest"])
    seeded.verifies_with["replayed"] = []

    tampered = image("tampered", "tampered")
    original = simple_signing(reference, tampered["digest"])
    # Changed after signing, still naming this image: only the signature check can tell.
    changed = simple_signing(reference, tampered["digest"], {"tampered": "after signing"})
    cosign_manifest(store, [signature_layer(store, changed, sign(keys.kit, original))], tag=sig_tag(tampered))
    seeded.verifies_with["tampered"] = []

    mixed = image("two_signatures", "two-signatures")
    payload = simple_signing(reference, mixed["digest"])
    # The bad one first: a kit-key signature over other bytes, stored with this image's payload.
    bad = signature_layer(store, payload, sign(keys.kit, payload + b" "))
    cosign_manifest(store, [bad, *signed(mixed, keys.kit)], tag=sig_tag(mixed))
    seeded.verifies_with["two_signatures"] = ["kit"]

    malformed = image("malformed", "malformed")
    payload = simple_signing(reference, malformed["digest"])
    cosign_manifest(store, [signature_layer(store, payload, "not base64!")], tag=sig_tag(malformed))
    seeded.verifies_with["malformed"] = []

    image("unsigned", "unsigned")
    seeded.verifies_with["unsigned"] = []

    for key, signer in (("rsa", keys.rsa), ("ed25519", keys.ed25519)):
        descriptor = image(key, key)
        cosign_manifest(store, signed(descriptor, signer), tag=sig_tag(descriptor))
        seeded.verifies_with[key] = [key]

    # cosign signs an index by its own digest (the platform images stay unsigned unless --recursive).
    entries = store.platforms(label="index", created=created, labels=_labels())
    index = store.index(entries, tag="index")
    seeded.add("index_signed", store, "index", index, created)
    seeded.platform_digests["index_signed"] = _platform_digests(entries)
    cosign_manifest(store, signed(index, keys.kit), tag=sig_tag(index))
    seeded.verifies_with["index_signed"] = ["kit"]

    # cosign's OCI 1.1 mode: no .sig tag, the signature manifest refers to the image (found in the referrers tag).
    referred = image("fallback_signed", "fallback-signed")
    cosign_manifest(store, signed(referred, keys.kit), subject=referred, artifact_type=COSIGN_SIG_ARTIFACT)
    seeded.verifies_with["fallback_signed"] = ["kit"]
    store.fallback_tags()


def in_toto_layer(store: Store, statement_body: bytes, predicate_type: str) -> Json:
    return store.blob(statement_body, IN_TOTO, {"in-toto.io/predicate-type": predicate_type})


def _buildkit(store: Store, seeded: Seeded, *, key: str, tag: str, created: str, artifact: bool) -> None:
    """An index of linux/amd64 and linux/arm64 with an SBOM and a provenance attestation per platform image."""
    entries = store.platforms(label=tag, created=created, labels=_labels())
    attestation_entries = []
    for entry in entries:
        subject_name = (
            f"pkg:docker/{seeded.registry}/{store.name}@{tag}?platform=linux%2F{entry['platform']['architecture']}"
        )
        layers = [
            in_toto_layer(store, statement(subject_name, entry["digest"], SPDX), SPDX),
            in_toto_layer(store, statement(subject_name, entry["digest"], SLSA_02), SLSA_02),
        ]
        document: Json = {"schemaVersion": 2, "mediaType": OCI_MANIFEST}
        if artifact:
            document["artifactType"] = BUILDKIT_ATTESTATION
            document["config"] = {**store.blob(b"{}", OCI_EMPTY), "data": base64.b64encode(b"{}").decode()}
        else:
            diff_ids = [layer["digest"] for layer in layers]
            config = {
                "architecture": "unknown",
                "os": "unknown",
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": diff_ids},
            }
            document["config"] = store.blob(compact_json(config), OCI_CONFIG)
        document["layers"] = layers
        if artifact:
            document["subject"] = {k: entry[k] for k in ("mediaType", "size", "digest")}
        descriptor = store.manifest(document)
        attestation_entries.append(
            {
                **descriptor,
                "annotations": {
                    "vnd.docker.reference.digest": entry["digest"],
                    "vnd.docker.reference.type": "attestation-manifest",
                },
                "platform": {"architecture": "unknown", "os": "unknown"},
            }
        )
    annotations = {
        "org.opencontainers.image.created": created,
        "org.opencontainers.image.revision": REVISION,
        "org.opencontainers.image.source": SOURCE,
    }
    # BuildKit lists attestation manifests after all the runnable ones.
    index = store.index([*entries, *attestation_entries], tag=tag, annotations=annotations)
    seeded.add(key, store, tag, index, created)
    seeded.platform_digests[key] = _platform_digests(entries)
    seeded.attestations[key] = ["provenance", "sbom"]


def build_attestations(store: Store, keys: Keys, seeded: Seeded, created: str) -> None:
    """``signed/attested``: attestations in each of the places they live, and an image with none."""
    _buildkit(store, seeded, key="buildkit", tag="buildkit", created=created, artifact=True)
    _buildkit(store, seeded, key="buildkit_legacy", tag="buildkit-legacy", created=created, artifact=False)

    def image(key: str, tag: str) -> Json:
        descriptor = store.image(version=tag, tag=tag, created=created, labels=_labels())
        seeded.add(key, store, tag, descriptor, created)
        return descriptor

    subject_name = f"{seeded.registry}/{store.name}"
    attested = image("cosign_att", "cosign-att")
    layers = []
    # cosign attest --type cyclonedx / slsaprovenance1 / vuln: one DSSE layer each, annotated with its predicate type
    # (and cosign's empty signature annotation: the signature is inside the envelope).
    for predicate_type in (CYCLONEDX, SLSA_1, VULN):
        envelope = dsse(keys.kit, statement(subject_name, attested["digest"], predicate_type))
        layers.append(store.blob(envelope, DSSE, {"predicateType": predicate_type, SIGNATURE_ANNOTATION: ""}))
    cosign_manifest(store, layers, tag=digest_tag(attested["digest"], ".att"))
    seeded.attestations["cosign_att"] = ["other", "provenance", "sbom"]

    with_sbom = image("cosign_sbom", "cosign-sbom")
    sbom = compact_json({**PREDICATES[SPDX], "name": f"{subject_name}@{with_sbom['digest']}"})
    cosign_manifest(store, [store.blob(sbom, COSIGN_SPDX_JSON)], tag=digest_tag(with_sbom["digest"], ".sbom"))
    seeded.attestations["cosign_sbom"] = ["sbom"]

    # The referrers tag schema, as ORAS or cosign push artifacts to a registry without the referrers API.
    referred = image("referrers_tag", "referrers")
    subject = {k: referred[k] for k in ("mediaType", "size", "digest")}
    empty = {**store.blob(b"{}", OCI_EMPTY), "data": base64.b64encode(b"{}").decode()}
    sbom_document = compact_json({**PREDICATES[SPDX], "name": f"{subject_name}@{referred['digest']}"})
    provenance = statement(subject_name, referred["digest"], SLSA_02, version=STATEMENT_1)
    for artifact_type, layer, extra in (
        (SPDX_JSON, store.blob(sbom_document, SPDX_JSON), {}),
        (IN_TOTO, in_toto_layer(store, provenance, SLSA_02), {"in-toto.io/predicate-type": SLSA_02}),
    ):
        document: Json = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": empty,
            "layers": [layer],
            "subject": subject,
            "annotations": {"org.opencontainers.image.created": created, **extra},
        }
        store.manifest(document, referrer=True)
    store.fallback_tags()
    seeded.attestations["referrers_tag"] = ["provenance", "sbom"]

    image("no_attestations", "none")
    seeded.attestations["no_attestations"] = []


def build_dated(store: Store, seeded: Seeded, now: dt.datetime) -> None:
    """``signed/dated``: build dates (fresh, old, reproducible) and revision/source labels and annotations."""
    dates: dict[str, tuple[str, str | None]] = {
        "fresh": ("fresh", _timestamp(now - dt.timedelta(minutes=1))),
        "old": ("old", _timestamp(now - dt.timedelta(days=400))),
        "epoch": ("epoch", EPOCH),
        "year_one": ("year-one", YEAR_ONE),
        "no_created": ("no-created", None),
    }
    for key, (tag, created) in dates.items():
        descriptor = store.image(version=tag, tag=tag, created=created, labels=_labels())
        seeded.add(key, store, tag, descriptor, created)

    recent = _timestamp(now - dt.timedelta(days=2))
    annotations = {
        "org.opencontainers.image.created": recent,
        "org.opencontainers.image.revision": REVISION,
        "org.opencontainers.image.source": SOURCE,
    }
    cases = (
        # Labels on both platform images and the same revision in the index's annotations.
        ("labelled_index", "index", _labels(), annotations),
        # Only the index's annotations carry revision and source.
        ("annotated_index", "annotated", None, annotations),
    )
    for key, tag, labels, index_annotations in cases:
        entries = store.platforms(label=tag, created=recent, labels=labels)
        descriptor = store.index(entries, tag=tag, annotations=index_annotations)
        seeded.add(key, store, tag, descriptor, recent)
        seeded.platform_digests[key] = _platform_digests(entries)

    # linux/arm64 was built from another commit: a label check over every platform must catch it.
    entries = store.platforms(label="mixed", created=recent, labels=_labels(), arm64_labels=_labels(OTHER_REVISION))
    descriptor = store.index(entries, tag="mixed")
    seeded.add("mixed_index", store, "mixed", descriptor, recent)
    seeded.platform_digests["mixed_index"] = _platform_digests(entries)


# -- pushing -------------------------------------------------------------------------------------------------------


def push(pusher: Pusher, store: Store, workers: int = 4) -> None:
    """Blobs, then manifests, then the indexes that list them (Distribution wants children first), each under its
    tags (or its digest when untagged); concurrently, as the kit starts in every test session."""
    local = threading.local()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = pusher.session()
        return local.session

    def put(job: tuple[str, str]) -> None:
        digest, reference = job
        body, media_type = store.manifests[digest]
        stored = pusher.manifest(session(), store.name, reference, body, media_type)
        # The kit's claims are about these exact bytes: a registry that rewrote them would void every test.
        if stored != digest:
            raise RuntimeError(f"{store.name}:{reference}: registry stored {stored}, kit made {digest}")

    tags_of: dict[str, list[str]] = {}
    for tag, digest in store.tags.items():
        tags_of.setdefault(digest, []).append(tag)
    jobs = [(digest, reference) for digest in store.manifests for reference in tags_of.get(digest, [digest])]
    # No index here lists another index, so two waves suffice.
    waves = [
        [job for job in jobs if store.manifests[job[0]][1] != OCI_INDEX],
        [job for job in jobs if store.manifests[job[0]][1] == OCI_INDEX],
    ]
    pusher.token(session(), store.name)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda data: pusher.blob(session(), store.name, data), store.blobs.values()))
        for wave in waves:
            list(pool.map(put, wave))


def seed_supply_chain(state: dict[str, t.Any], directory: Path) -> dict[str, t.Any]:
    """Generate the keys, build the three repositories and push them; return ``kit["supply_chain"]``."""
    keys = Keys()
    paths = keys.write(directory)
    now = dt.datetime.now(dt.timezone.utc)
    seeded = Seeded(state["token_registry"])
    recent = _timestamp(now - dt.timedelta(days=2))
    stores = [Store(SIGNATURES_REPO), Store(ATTESTATIONS_REPO), Store(DATED_REPO)]
    build_signatures(stores[0], keys, seeded, recent)
    build_attestations(stores[1], keys, seeded, recent)
    build_dated(stores[2], seeded, now)
    pusher = Pusher(state)
    with ThreadPoolExecutor(max_workers=len(stores)) as pool:
        list(pool.map(lambda store: push(pusher, store), stores))
    return {
        "dir": str(directory),
        **paths,
        "public_key_pem": public_pem(keys.kit),
        "repositories": {
            "signatures": f"{seeded.registry}/{SIGNATURES_REPO}",
            "attestations": f"{seeded.registry}/{ATTESTATIONS_REPO}",
            "dated": f"{seeded.registry}/{DATED_REPO}",
        },
        "images": seeded.images,
        "digests": seeded.digests,
        "platform_digests": seeded.platform_digests,
        "replayed_names": seeded.digests["signed"],
        "verifies_with": seeded.verifies_with,
        "attestations": seeded.attestations,
        "created": seeded.created,
        "revision": REVISION,
        "other_revision": OTHER_REVISION,
        "source": SOURCE,
    }


def seed_signed_fleet(state: dict[str, t.Any], count: int = 20) -> dict[str, str]:
    """On demand, for the benchmark (the kit does not start with them): ``signed/rNN:1.0`` for NN in 01..count, each
    signed by the kit key in its ``.sig`` tag; returns reference -> digest. Needs a seeded kit (its key)."""
    private = Path(state["supply_chain"]["private_key"]).read_bytes()
    key = t.cast(ec.EllipticCurvePrivateKey, serialization.load_pem_private_key(private, password=None))
    registry = state["token_registry"]
    created = _timestamp(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2))
    fleet: dict[str, str] = {}
    stores = []
    for number in range(1, count + 1):
        store = Store(f"{NAMESPACE}/r{number:02d}")
        image = store.image(version=f"r{number:02d}", tag="1.0", created=created, labels=_labels())
        payload = simple_signing(f"{registry}/{store.name}", image["digest"])
        layer = signature_layer(store, payload, sign(key, payload))
        cosign_manifest(store, [layer], tag=digest_tag(image["digest"], ".sig"))
        fleet[f"{registry}/{store.name}:1.0"] = image["digest"]
        stores.append(store)
    pusher = Pusher(state)
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda store: push(pusher, store, workers=1), stores))
    return fleet
