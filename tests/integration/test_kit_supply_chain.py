"""The kit's supply-chain seed data is what it claims to be.

Checked with code of its own (requests and cryptography, reading the registry as any client would), not with the
collection's and not with the kit's builders: this proves the kit, so that the collection's tests can trust it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import stat
import typing as t
from pathlib import Path

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from tests.kit.faults import FaultServer
from tests.kit.referrers import ReferrersRegistry
from tests.kit.supply_chain import seed_signed_fleet

ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE = "dev.cosignproject.cosign/signature"
KEY_FILES = {
    "kit": "public_key",
    "other": "other_public_key",
    "rsa": "rsa_public_key",
    "ed25519": "ed25519_public_key",
}
# Which keys give a signature that verifies and names the image's own digest: the kit's promise, written out here.
EXPECTED_SIGNERS = {
    "signed": {"kit"},
    "other_key": {"other"},
    "two_keys": {"kit", "other"},
    "replayed": set(),
    "tampered": set(),
    "two_signatures": {"kit"},
    "malformed": set(),
    "unsigned": set(),
    "rsa": {"rsa"},
    "ed25519": {"ed25519"},
    "index_signed": {"kit"},
    "fallback_signed": {"kit"},
}


class Registry:
    """An anonymous reader of one repository of the kit's token registry."""

    def __init__(self, kit: dict[str, t.Any], repository: str) -> None:
        self.repository = repository
        self.base = f"https://{kit['token_registry']}/v2/{repository}"
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = kit["ca"]
        answer = self.session.get(
            kit["realm"], params={"service": kit["service"], "scope": f"repository:{repository}:pull"}, timeout=30
        )
        answer.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {answer.json()['token']}"

    def manifest(self, reference: str) -> tuple[dict[str, t.Any], str] | None:
        """The manifest and the digest of its bytes, or None for a 404."""
        answer = self.session.get(f"{self.base}/manifests/{reference}", headers={"Accept": ACCEPT}, timeout=30)
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        digest = "sha256:" + hashlib.sha256(answer.content).hexdigest()
        assert answer.headers["Docker-Content-Digest"] == digest
        document = json.loads(answer.content)
        assert answer.headers["Content-Type"] == document["mediaType"]
        return document, digest

    def blob(self, digest: str) -> bytes:
        answer = self.session.get(f"{self.base}/blobs/{digest}", timeout=30)
        answer.raise_for_status()
        assert "sha256:" + hashlib.sha256(answer.content).hexdigest() == digest
        return answer.content

    def tags(self) -> list[str]:
        answer = self.session.get(f"{self.base}/tags/list", timeout=30)
        answer.raise_for_status()
        return answer.json()["tags"]


def _repository(kit: dict[str, t.Any], key: str) -> str:
    """``signed/app`` from ``127.0.0.1:port/signed/app:tag``."""
    return kit["supply_chain"]["images"][key].split("/", 1)[1].rsplit(":", 1)[0]


def _tag(kit: dict[str, t.Any], key: str) -> str:
    return kit["supply_chain"]["images"][key].rsplit(":", 1)[1]


def _verifies(public_key: t.Any, payload: bytes, encoded: str) -> bool:
    """cosign verify --key: ECDSA/SHA-256 (DER), RSA PKCS#1 v1.5/SHA-256, pure Ed25519."""
    try:
        signature = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        return False
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
        else:
            public_key.verify(signature, payload)
    except InvalidSignature:
        return False
    return True


@pytest.fixture(scope="module")
def keys(kit: dict[str, t.Any]) -> dict[str, t.Any]:
    return {name: load_pem_public_key(Path(kit["supply_chain"][f]).read_bytes()) for name, f in KEY_FILES.items()}


def test_public_keys_are_pkix_pem_of_each_kind_cosign_verifies(kit: dict[str, t.Any], keys: dict[str, t.Any]) -> None:
    chain = kit["supply_chain"]
    for field in KEY_FILES.values():
        text = Path(chain[field]).read_text()
        assert text.startswith("-----BEGIN PUBLIC KEY-----\n")
        assert text.rstrip().endswith("-----END PUBLIC KEY-----")
    assert isinstance(keys["kit"], ec.EllipticCurvePublicKey)
    assert isinstance(keys["kit"].curve, ec.SECP256R1)
    assert isinstance(keys["other"].curve, ec.SECP256R1)
    assert keys["kit"].public_numbers() != keys["other"].public_numbers()
    assert isinstance(keys["rsa"], rsa.RSAPublicKey)
    assert keys["rsa"].key_size == 2048
    assert isinstance(keys["ed25519"], ed25519.Ed25519PublicKey)
    assert Path(chain["public_key"]).read_text() == chain["public_key_pem"]
    # The private half stays in the kit's directory, readable by its owner only, and matches the public key.
    private = Path(chain["private_key"])
    assert private.parent == Path(kit["dir"]) / "supply-chain"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    loaded = load_pem_private_key(private.read_bytes(), password=None)
    assert loaded.public_key().public_numbers() == keys["kit"].public_numbers()  # type: ignore[union-attr]


def _signature_manifest(registry: Registry, digest: str) -> dict[str, t.Any] | None:
    """cosign's .sig tag, else a cosign signature found in the referrers tag schema's index."""
    found = registry.manifest(digest.replace(":", "-") + ".sig")
    if found is not None:
        return found[0]
    listed = registry.manifest(digest.replace(":", "-"))
    if listed is None:
        return None
    for entry in listed[0]["manifests"]:
        if entry.get("artifactType") == "application/vnd.dev.cosign.artifact.sig.v1+json":
            document = registry.manifest(entry["digest"])
            assert document is not None
            assert document[0]["subject"]["digest"] == digest
            return document[0]
    return None


def _signers(registry: Registry, keys: dict[str, t.Any], digest: str) -> tuple[set[str], list[dict[str, t.Any]]]:
    """The keys with a signature that verifies and names ``digest``, and what each layer said."""
    manifest = _signature_manifest(registry, digest)
    if manifest is None:
        return set(), []
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    config = json.loads(registry.blob(manifest["config"]["digest"]))
    # go-containerregistry's empty image after mutate.Append, as cosign pushes it.
    assert config["rootfs"] == {"type": "layers", "diff_ids": [layer["digest"] for layer in manifest["layers"]]}
    assert config["created"] == "0001-01-01T00:00:00Z"
    assert len(config["history"]) == len(manifest["layers"])
    signers: set[str] = set()
    layers = []
    for layer in manifest["layers"]:
        assert layer["mediaType"] == SIMPLE_SIGNING
        payload = registry.blob(layer["digest"])
        claim = json.loads(payload)
        assert claim["critical"]["type"] == "cosign container image signature"
        named = claim["critical"]["image"]["docker-manifest-digest"]
        verified = {name for name, key in keys.items() if _verifies(key, payload, layer["annotations"][SIGNATURE])}
        layers.append({"names": named, "verified": verified, "optional": claim["optional"]})
        if named == digest:
            signers |= verified
    return signers, layers


@pytest.mark.parametrize("image", sorted(EXPECTED_SIGNERS))
def test_signature_cases_verify_as_they_claim(kit: dict[str, t.Any], keys: dict[str, t.Any], image: str) -> None:
    chain = kit["supply_chain"]
    registry = Registry(kit, _repository(kit, image))
    found = registry.manifest(_tag(kit, image))
    assert found is not None
    digest = found[1]
    assert digest == chain["digests"][image]
    signers, layers = _signers(registry, keys, digest)
    assert signers == EXPECTED_SIGNERS[image]
    assert set(chain["verifies_with"][image]) == EXPECTED_SIGNERS[image]
    if image == "replayed":
        # A genuine kit-key signature, for another image.
        (layer,) = layers
        assert layer["verified"] == {"kit"}
        assert layer["names"] == chain["digests"]["signed"] == chain["replayed_names"] != digest
    if image == "tampered":
        (layer,) = layers
        assert (layer["names"], layer["verified"], layer["optional"]) == (digest, set(), {"tampered": "after signing"})
    if image == "two_signatures":
        assert [layer["verified"] for layer in layers] == [set(), {"kit"}]
        assert all(layer["names"] == digest for layer in layers)
    if image == "two_keys":
        assert [layer["verified"] for layer in layers] == [{"other"}, {"kit"}]
    if image == "unsigned":
        assert layers == []
    if image == "index_signed":
        assert found[0]["mediaType"] == "application/vnd.oci.image.index.v1+json"
    if image == "fallback_signed":
        assert registry.manifest(digest.replace(":", "-") + ".sig") is None


def test_distribution_has_no_referrers_api_so_the_fallback_tag_is_the_way(kit: dict[str, t.Any]) -> None:
    registry = Registry(kit, _repository(kit, "fallback_signed"))
    digest = kit["supply_chain"]["digests"]["fallback_signed"]
    answer = registry.session.get(f"{registry.base}/referrers/{digest}", timeout=30)
    assert answer.status_code == 404
    # Digest tags sit among the version tags, as on any registry cosign writes to.
    tags = registry.tags()
    assert digest.replace(":", "-") in tags
    assert kit["supply_chain"]["digests"]["signed"].replace(":", "-") + ".sig" in tags


def _statement(data: bytes) -> dict[str, t.Any]:
    document = json.loads(data)
    assert document["_type"] in ("https://in-toto.io/Statement/v0.1", "https://in-toto.io/Statement/v1")
    return document


@pytest.mark.parametrize("image", ["buildkit", "buildkit_legacy"])
def test_buildkit_index_has_an_attestation_manifest_per_platform(kit: dict[str, t.Any], image: str) -> None:
    chain = kit["supply_chain"]
    registry = Registry(kit, _repository(kit, image))
    found = registry.manifest(_tag(kit, image))
    assert found is not None
    index, digest = found
    assert digest == chain["digests"][image]
    assert index["annotations"]["org.opencontainers.image.revision"] == chain["revision"]
    assert index["annotations"]["org.opencontainers.image.source"] == chain["source"]
    runnable = [m for m in index["manifests"] if m["platform"]["os"] != "unknown"]
    attestations = [m for m in index["manifests"] if m["platform"] == {"architecture": "unknown", "os": "unknown"}]
    # Attestation manifests come after every runnable one.
    assert index["manifests"] == runnable + attestations
    platforms = {
        "/".join([m["platform"]["os"], m["platform"]["architecture"], m["platform"].get("variant", "")]).rstrip("/"): m[
            "digest"
        ]
        for m in runnable
    }
    assert (
        platforms
        == chain["platform_digests"][image]
        == {
            "linux/amd64": platforms["linux/amd64"],
            "linux/arm64/v8": platforms["linux/arm64/v8"],
        }
    )
    assert [a["annotations"]["vnd.docker.reference.type"] for a in attestations] == ["attestation-manifest"] * 2
    assert [a["annotations"]["vnd.docker.reference.digest"] for a in attestations] == [m["digest"] for m in runnable]
    for entry in attestations:
        manifest = registry.manifest(entry["digest"])
        assert manifest is not None
        document = manifest[0]
        target = entry["annotations"]["vnd.docker.reference.digest"]
        if image == "buildkit":
            assert document["artifactType"] == "application/vnd.docker.attestation.manifest.v1+json"
            assert document["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
            assert registry.blob(document["config"]["digest"]) == b"{}"
            assert document["subject"]["digest"] == target
        else:
            assert "artifactType" not in document
            assert "subject" not in document
            assert document["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
        predicate_types = []
        for layer in document["layers"]:
            assert layer["mediaType"] == "application/vnd.in-toto+json"
            statement = _statement(registry.blob(layer["digest"]))
            assert statement["predicateType"] == layer["annotations"]["in-toto.io/predicate-type"]
            assert [s["digest"]["sha256"] for s in statement["subject"]] == [target.split(":", 1)[1]]
            predicate_types.append(statement["predicateType"])
        assert predicate_types == ["https://spdx.dev/Document", "https://slsa.dev/provenance/v0.2"]
    assert chain["attestations"][image] == ["provenance", "sbom"]


def test_cosign_att_holds_signed_dsse_envelopes_of_statements_about_the_image(
    kit: dict[str, t.Any], keys: dict[str, t.Any]
) -> None:
    chain = kit["supply_chain"]
    registry = Registry(kit, _repository(kit, "cosign_att"))
    digest = chain["digests"]["cosign_att"]
    found = registry.manifest(digest.replace(":", "-") + ".att")
    assert found is not None
    predicate_types = []
    for layer in found[0]["layers"]:
        assert layer["mediaType"] == "application/vnd.dsse.envelope.v1+json"
        envelope = json.loads(registry.blob(layer["digest"]))
        assert envelope["payloadType"] == "application/vnd.in-toto+json"
        payload = base64.b64decode(envelope["payload"])
        statement = _statement(payload)
        assert statement["predicateType"] == layer["annotations"]["predicateType"]
        assert statement["subject"][0]["digest"] == {"sha256": digest.split(":", 1)[1]}
        # DSSE signs the pre-authentication encoding, not the payload alone.
        pae = b"DSSEv1 %d %s %d %s" % (
            len(envelope["payloadType"]),
            envelope["payloadType"].encode(),
            len(payload),
            payload,
        )
        (signature,) = envelope["signatures"]
        assert _verifies(keys["kit"], pae, signature["sig"])
        assert not _verifies(keys["kit"], payload, signature["sig"])
        predicate_types.append(statement["predicateType"])
    assert predicate_types == [
        "https://cyclonedx.org/bom",
        "https://slsa.dev/provenance/v1",
        "https://cosign.sigstore.dev/attestation/vuln/v1",
    ]
    assert registry.manifest(digest.replace(":", "-") + ".sbom") is None


def test_cosign_sbom_tag_holds_an_spdx_document(kit: dict[str, t.Any]) -> None:
    registry = Registry(kit, _repository(kit, "cosign_sbom"))
    digest = kit["supply_chain"]["digests"]["cosign_sbom"]
    found = registry.manifest(digest.replace(":", "-") + ".sbom")
    assert found is not None
    (layer,) = found[0]["layers"]
    assert layer["mediaType"] == "text/spdx+json"
    assert json.loads(registry.blob(layer["digest"]))["spdxVersion"] == "SPDX-2.3"
    assert registry.manifest(digest.replace(":", "-") + ".att") is None
    assert kit["supply_chain"]["attestations"]["cosign_sbom"] == ["sbom"]


def test_referrers_tag_lists_artifact_manifests_whose_subject_is_the_image(kit: dict[str, t.Any]) -> None:
    registry = Registry(kit, _repository(kit, "referrers_tag"))
    digest = kit["supply_chain"]["digests"]["referrers_tag"]
    found = registry.manifest(digest.replace(":", "-"))
    assert found is not None
    listed = found[0]
    assert listed["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert [entry["artifactType"] for entry in listed["manifests"]] == [
        "application/spdx+json",
        "application/vnd.in-toto+json",
    ]
    for entry in listed["manifests"]:
        manifest = registry.manifest(entry["digest"])
        assert manifest is not None
        document = manifest[0]
        assert document["subject"]["digest"] == digest
        assert document["artifactType"] == entry["artifactType"]
        # The spec: the descriptor carries the manifest's annotations.
        assert entry["annotations"] == document["annotations"]
    provenance = registry.manifest(listed["manifests"][1]["digest"])
    assert provenance is not None
    assert listed["manifests"][1]["annotations"]["in-toto.io/predicate-type"] == "https://slsa.dev/provenance/v0.2"
    (layer,) = provenance[0]["layers"]
    assert _statement(registry.blob(layer["digest"]))["predicateType"] == "https://slsa.dev/provenance/v0.2"


def test_the_image_without_attestations_has_none_anywhere(kit: dict[str, t.Any]) -> None:
    registry = Registry(kit, _repository(kit, "no_attestations"))
    digest = kit["supply_chain"]["digests"]["no_attestations"]
    for suffix in (".att", ".sbom", ".sig", ""):
        assert registry.manifest(digest.replace(":", "-") + suffix) is None
    assert kit["supply_chain"]["attestations"]["no_attestations"] == []


def _config(registry: Registry, reference: str) -> dict[str, t.Any]:
    found = registry.manifest(reference)
    assert found is not None
    return json.loads(registry.blob(found[0]["config"]["digest"]))


def test_created_dates_are_as_stated(kit: dict[str, t.Any]) -> None:
    chain = kit["supply_chain"]
    registry = Registry(kit, _repository(kit, "fresh"))
    now = dt.datetime.now(dt.timezone.utc)
    created = {
        key: _config(registry, _tag(kit, key)).get("created")
        for key in ("fresh", "old", "epoch", "year_one", "no_created")
    }
    assert created == {key: chain["created"][key] for key in created}
    fresh = dt.datetime.strptime(created["fresh"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    old = dt.datetime.strptime(created["old"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    assert dt.timedelta(0) < now - fresh < dt.timedelta(hours=1)
    assert dt.timedelta(days=399) < now - old < dt.timedelta(days=401)
    assert (created["epoch"], created["year_one"], created["no_created"]) == (
        "1970-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        None,
    )


def test_labels_and_index_annotations_carry_revision_and_source(kit: dict[str, t.Any]) -> None:
    chain = kit["supply_chain"]
    revision, source = chain["revision"], chain["source"]
    registry = Registry(kit, _repository(kit, "labelled_index"))
    labels = _config(registry, _tag(kit, "fresh"))["config"]["Labels"]
    assert (labels["org.opencontainers.image.revision"], labels["org.opencontainers.image.source"]) == (
        revision,
        source,
    )

    def platform_labels(key: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
        found = registry.manifest(_tag(kit, key))
        assert found is not None
        index = found[0]
        seen = {}
        for platform, digest in chain["platform_digests"][key].items():
            assert digest in [m["digest"] for m in index["manifests"]]
            seen[platform] = _config(registry, digest)["config"]["Labels"]
        return index.get("annotations", {}), seen

    annotations, seen = platform_labels("labelled_index")
    assert annotations["org.opencontainers.image.revision"] == revision
    assert {p: labels["org.opencontainers.image.revision"] for p, labels in seen.items()} == {
        "linux/amd64": revision,
        "linux/arm64/v8": revision,
    }
    annotations, seen = platform_labels("annotated_index")
    assert (annotations["org.opencontainers.image.revision"], annotations["org.opencontainers.image.source"]) == (
        revision,
        source,
    )
    assert all("org.opencontainers.image.revision" not in labels for labels in seen.values())
    annotations, seen = platform_labels("mixed_index")
    assert annotations == {}
    assert {p: labels["org.opencontainers.image.revision"] for p, labels in seen.items()} == {
        "linux/amd64": revision,
        "linux/arm64/v8": chain["other_revision"],
    }
    assert chain["other_revision"] != revision


def test_vars_json_carries_the_supply_chain_for_playbooks(kit: dict[str, t.Any]) -> None:
    variables = json.loads((Path(kit["dir"]) / "vars.json").read_text())
    assert variables["kit_supply_chain"] == kit["supply_chain"]


def test_every_case_is_an_image_of_its_own(kit: dict[str, t.Any]) -> None:
    """Two cases sharing a digest would share signatures and attestations, voiding what each claims."""
    digests = kit["supply_chain"]["digests"]
    assert len(set(digests.values())) == len(digests)
    assert set(digests) == set(kit["supply_chain"]["images"]) == set(kit["supply_chain"]["created"])


# -- the fault server's registry with the referrers API ----------------------------------------------------------


def _get(faults: FaultServer, path: str, **params: str) -> requests.Response:
    return requests.get(f"{faults.url}{path}", params=params, headers={"Accept": ACCEPT}, verify=faults.ca, timeout=10)


def test_referrers_api_lists_the_signature_sbom_and_provenance(faults: FaultServer) -> None:
    registry = ReferrersRegistry()
    faults.handler = registry
    key = load_pem_public_key(registry.public_key_pem.encode())
    digest = registry.digests["signed"]
    head = requests.head(
        f"{faults.url}/v2/org/app/manifests/signed", headers={"Accept": ACCEPT}, verify=faults.ca, timeout=10
    )
    assert head.headers["Docker-Content-Digest"] == digest
    answer = _get(faults, f"/v2/org/app/referrers/{digest}")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/vnd.oci.image.index.v1+json"
    listed = answer.json()["manifests"]
    assert [entry["artifactType"] for entry in listed] == [
        "application/vnd.dev.cosign.artifact.sig.v1+json",
        "application/spdx+json",
        "application/vnd.in-toto+json",
    ]
    signature = _get(faults, f"/v2/org/app/manifests/{listed[0]['digest']}").json()
    assert signature["subject"]["digest"] == digest
    (layer,) = signature["layers"]
    payload = _get(faults, f"/v2/org/app/blobs/{layer['digest']}").content
    assert json.loads(payload)["critical"]["image"]["docker-manifest-digest"] == digest
    assert _verifies(key, payload, layer["annotations"][SIGNATURE])
    assert _get(faults, f"/v2/org/app/manifests/{digest.replace(':', '-')}.sig").status_code == 404

    filtered = _get(faults, f"/v2/org/app/referrers/{digest}", artifactType="application/spdx+json")
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    assert [entry["artifactType"] for entry in filtered.json()["manifests"]] == ["application/spdx+json"]
    empty = _get(faults, f"/v2/org/app/referrers/{registry.digests['unsigned']}")
    assert (empty.status_code, empty.json()["manifests"]) == (200, [])
    assert _get(faults, "/v2/org/app/referrers/sha256:nothex").status_code == 400

    other = _get(faults, f"/v2/org/app/referrers/{registry.digests['other-key']}").json()["manifests"]
    (layer,) = _get(faults, f"/v2/org/app/manifests/{other[0]['digest']}").json()["layers"]
    payload = _get(faults, f"/v2/org/app/blobs/{layer['digest']}").content
    assert not _verifies(key, payload, layer["annotations"][SIGNATURE])
    assert _verifies(
        load_pem_public_key(registry.other_public_key_pem.encode()), payload, layer["annotations"][SIGNATURE]
    )

    sig_tag = registry.digests["sig-tag"]
    assert _get(faults, f"/v2/org/app/referrers/{sig_tag}").json()["manifests"] == []
    assert _get(faults, f"/v2/org/app/manifests/{sig_tag.replace(':', '-')}.sig").status_code == 200


def test_without_the_api_the_fault_registry_answers_404_and_serves_the_fallback_tag(faults: FaultServer) -> None:
    registry = ReferrersRegistry(api=False)
    faults.handler = registry
    digest = registry.digests["signed"]
    assert _get(faults, f"/v2/org/app/referrers/{digest}").status_code == 404
    listed = _get(faults, f"/v2/org/app/manifests/{digest.replace(':', '-')}").json()
    assert [entry["artifactType"] for entry in listed["manifests"]] == [
        "application/vnd.dev.cosign.artifact.sig.v1+json",
        "application/spdx+json",
        "application/vnd.in-toto+json",
    ]


def test_the_fault_registry_can_sign_with_the_kit_key(kit: dict[str, t.Any]) -> None:
    private = load_pem_private_key(Path(kit["supply_chain"]["private_key"]).read_bytes(), password=None)
    registry = ReferrersRegistry(private)  # type: ignore[arg-type]
    assert registry.public_key_pem == kit["supply_chain"]["public_key_pem"]


def test_a_signed_fleet_is_seeded_on_demand(kit: dict[str, t.Any], keys: dict[str, t.Any]) -> None:
    """The benchmark's signed images: not at kit start (it must stay fast), but when asked."""
    fleet = seed_signed_fleet(kit, count=2)
    assert list(fleet) == [f"{kit['token_registry']}/signed/r01:1.0", f"{kit['token_registry']}/signed/r02:1.0"]
    for reference, digest in fleet.items():
        registry = Registry(kit, reference.split("/", 1)[1].rsplit(":", 1)[0])
        found = registry.manifest("1.0")
        assert found is not None
        assert found[1] == digest
        assert _signers(registry, keys, digest)[0] == {"kit"}
