"""A registry for the fault server that answers the OCI 1.1 referrers API, which Distribution 2.8 and 3.1 do not.

``faults.handler = ReferrersRegistry()`` serves one open repository (``org/app`` unless named) with:

- ``signed``: signed by ``key`` (the kit key, or a fresh ECDSA P-256 key) in cosign's OCI 1.1 form only, a manifest
  whose ``subject`` is the image (no ``.sig`` tag), plus an SPDX SBOM and an in-toto SLSA provenance referring to it;
- ``other-key``: signed the same way by another key;
- ``sig-tag``: signed by ``key`` in the ``.sig`` tag only (the referrers list is empty);
- ``unsigned``: no signature, no referrers (the API answers an empty index, as the spec requires).

``GET /v2/<name>/referrers/<digest>[?artifactType=...]`` answers an image index of the referring manifests (with
``OCI-Filters-Applied: artifactType`` when filtered). With ``api=False`` it answers 404 like Distribution, and the
referrers tag schema's ``sha256-<hex>`` tags are served instead. ``digests`` names each tag's digest,
``public_key_pem`` the key that signed. Every request is in ``faults.requests``, to count them.
"""

from __future__ import annotations

import json
import re

from .faults import Reply, Request, json_reply
from .supply_chain import (
    COSIGN_SIG_ARTIFACT,
    IN_TOTO,
    OCI_EMPTY,
    OCI_MANIFEST,
    SLSA_02,
    SPDX_JSON,
    STATEMENT_1,
    PrivateKey,
    Store,
    compact_json,
    cosign_manifest,
    digest_tag,
    ec_key,
    in_toto_layer,
    public_pem,
    sign,
    signature_layer,
    simple_signing,
    statement,
)

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_PATH = re.compile(r"^/v2/(?P<name>.+)/(?P<kind>manifests|blobs|referrers|tags)/(?P<rest>[^/]+)$")


class ReferrersRegistry:
    """A handler for ``FaultServer``: an open registry with the referrers API (see the module docstring)."""

    def __init__(self, key: PrivateKey | None = None, *, name: str = "org/app", api: bool = True) -> None:
        self.key = key if key is not None else ec_key()
        self.other = ec_key()
        self.api = api
        self.public_key_pem = public_pem(self.key)
        self.other_public_key_pem = public_pem(self.other)
        self.store = Store(name)
        self.digests: dict[str, str] = {}
        self._build()

    def _build(self) -> None:
        store = self.store
        reference = f"registry.invalid/{store.name}"
        images = {}
        for tag in ("signed", "other-key", "sig-tag", "unsigned"):
            images[tag] = store.image(version=tag, tag=tag, created="2026-01-01T00:00:00Z")
            self.digests[tag] = images[tag]["digest"]

        def signature(tag: str, key: PrivateKey) -> list[dict[str, object]]:
            payload = simple_signing(reference, images[tag]["digest"])
            return [signature_layer(store, payload, sign(key, payload))]

        for tag, key in (("signed", self.key), ("other-key", self.other)):
            cosign_manifest(store, signature(tag, key), subject=images[tag], artifact_type=COSIGN_SIG_ARTIFACT)
        cosign_manifest(store, signature("sig-tag", self.key), tag=digest_tag(images["sig-tag"]["digest"], ".sig"))

        subject = {k: images["signed"][k] for k in ("mediaType", "size", "digest")}
        empty = {**store.blob(b"{}", OCI_EMPTY), "data": "e30="}
        sbom = compact_json(
            {"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "referrers", "packages": []}
        )
        provenance = statement(reference, subject["digest"], SLSA_02, version=STATEMENT_1)
        for artifact_type, layer, extra in (
            (SPDX_JSON, store.blob(sbom, SPDX_JSON), {}),
            (IN_TOTO, in_toto_layer(store, provenance, SLSA_02), {"in-toto.io/predicate-type": SLSA_02}),
        ):
            document: dict[str, object] = {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "artifactType": artifact_type,
                "config": empty,
                "layers": [layer],
                "subject": subject,
            }
            if extra:
                document["annotations"] = extra
            store.manifest(document, referrer=True)
        if not self.api:
            store.fallback_tags()

    def __call__(self, request: Request) -> Reply:
        if request.path in ("/v2/", "/v2"):
            return json_reply({})
        match = _PATH.match(request.path)
        if match is None or match["name"] != self.store.name:
            return json_reply({"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known"}]}, 404)
        kind, rest = match["kind"], match["rest"]
        if kind == "tags":
            return json_reply({"name": self.store.name, "tags": sorted(self.store.tags)})
        if kind == "manifests":
            found = self.store.body(rest)
            if found is None:
                return json_reply({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}, 404)
            body, media_type = found
            headers = [("Content-Type", media_type), ("Docker-Content-Digest", self.store.tags.get(rest, rest))]
            return Reply(200, b"" if request.method == "HEAD" else body, headers)
        if kind == "blobs":
            data = self.store.blobs.get(rest)
            if data is None:
                return json_reply({"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown"}]}, 404)
            headers = [("Content-Type", "application/octet-stream"), ("Docker-Content-Digest", rest)]
            return Reply(200, b"" if request.method == "HEAD" else data, headers)
        if not self.api:
            # What Distribution answers: a plain-text 404 from its router, no error body.
            return Reply(404, b"404 page not found\n", [("Content-Type", "text/plain; charset=utf-8")])
        if not _DIGEST.match(rest):
            return json_reply({"errors": [{"code": "DIGEST_INVALID", "message": "invalid digest"}]}, 400)
        wanted = (request.query.get("artifactType") or [None])[0]
        index = self.store.referrers_index(rest, wanted)
        headers = [("Content-Type", "application/vnd.oci.image.index.v1+json")]
        if wanted is not None:
            headers.append(("OCI-Filters-Applied", "artifactType"))
        return Reply(200, json.dumps(index).encode(), headers)
