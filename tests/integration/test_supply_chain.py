"""Gate on the right image: signatures, attestations, labels and age, against the kit's real registry (seeded from
the formats' own specifications by tests/kit/supply_chain.py) and, for the referrers API Distribution lacks, the
scripted registry of tests/kit/referrers.py. Through the module's main(), the lookup and the role on a fleet."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader

from tests.kit.referrers import ReferrersRegistry

from .conftest import run_main
from .test_fleet import deploy
from .test_gating import log_size, registry_requests

NOT_OUR_KEYS = "signed, but not by any of the given keys (or the payload was changed after signing)"


@pytest.fixture(scope="module")
def chain(kit: dict[str, t.Any]) -> dict[str, t.Any]:
    return t.cast("dict[str, t.Any]", kit["supply_chain"])


def image(chain: dict[str, t.Any], case: str) -> str:
    return t.cast(str, chain["images"][case])


def name_and_tag(reference: str) -> tuple[str, str]:
    name, _colon, tag = reference.rpartition(":")
    return name, tag


def gate(capsys: pytest.CaptureFixture[str], kit: dict[str, t.Any], cases: list[str], **options: t.Any) -> t.Any:
    chain = kit["supply_chain"]
    return run_main(capsys, {"images": [image(chain, c) for c in cases], "ca_path": kit["ca"], **options})


# Signatures.


@pytest.mark.parametrize(
    ("case", "key"),
    [
        ("signed", "public_key"),
        ("two_signatures", "public_key"),
        ("two_keys", "public_key"),
        ("index_signed", "public_key"),
        ("rsa", "rsa_public_key"),
        ("ed25519", "ed25519_public_key"),
    ],
)
def test_a_signature_by_a_trusted_key_passes(
    kit: dict[str, t.Any], chain: dict[str, t.Any], capsys: pytest.CaptureFixture[str], case: str, key: str
) -> None:
    result = gate(capsys, kit, [case], signed_by=[chain[key]], fail_on_missing=True)
    assert not result.get("failed"), result.get("msg")
    (found,) = result["images"]
    assert found["problems"] == []
    verified = [signature for signature in found["signatures"] if signature["verified"]]
    assert [signature["key"] for signature in verified] == [chain[key]]
    assert verified[0]["where"] == f"tag {chain['digests'][case].replace(':', '-')}.sig"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("other_key", NOT_OUR_KEYS),
        ("tampered", NOT_OUR_KEYS),
        ("malformed", "the signature does not verify: it is not base64"),
        ("unsigned", "no signature found"),
    ],
)
def test_each_failing_signature_says_why(
    kit: dict[str, t.Any], chain: dict[str, t.Any], capsys: pytest.CaptureFixture[str], case: str, reason: str
) -> None:
    result = gate(capsys, kit, [case], signed_by=[chain["public_key"]], fail_on_missing=True)
    name, tag = name_and_tag(image(chain, case))
    assert result["failed"] is True
    assert result["msg"] == f"{tag} in {name}: {reason}"
    assert result["missing"] == [image(chain, case)]
    (found,) = result["images"]
    # The tag exists, but this is not the image to deploy: no pinned reference for it.
    assert (found["exists"], found["problems"], found["pinned"]) == (True, [reason], None)
    assert not any(signature["verified"] for signature in found["signatures"])


def test_a_replayed_signature_is_refused_naming_the_digest_it_names(
    kit: dict[str, t.Any], chain: dict[str, t.Any], capsys: pytest.CaptureFixture[str]
) -> None:
    result = gate(capsys, kit, ["replayed"], signed_by=[chain["public_key"]], fail_on_missing=True)
    name, tag = name_and_tag(image(chain, "replayed"))
    reason = f"the signature names another digest, {chain['replayed_names']} (a replayed signature)"
    assert result["msg"] == f"{tag} in {name}: {reason}"
    (signature,) = result["images"][0]["signatures"]
    # The key did sign it: the signature is genuine, for another image.
    assert (signature["verified"], signature["key"]) == (False, chain["public_key"])


def test_every_failing_image_is_listed_together(
    kit: dict[str, t.Any], chain: dict[str, t.Any], capsys: pytest.CaptureFixture[str]
) -> None:
    result = gate(
        capsys, kit, ["signed", "unsigned", "other_key"], signed_by=[chain["public_key"]], fail_on_missing=True
    )
    unsigned, other = name_and_tag(image(chain, "unsigned")), name_and_tag(image(chain, "other_key"))
    assert result["msg"] == (
        f"2 required images fail the gate: {unsigned[1]} in {unsigned[0]}: no signature found; "
        f"{other[1]} in {other[0]}: {NOT_OUR_KEYS}"
    )
    assert result["missing"] == [image(chain, "unsigned"), image(chain, "other_key")]


def test_without_fail_on_missing_the_verdict_is_reported(
    kit: dict[str, t.Any], chain: dict[str, t.Any], capsys: pytest.CaptureFixture[str]
) -> None:
    result = gate(capsys, kit, ["signed", "unsigned"], signed_by=[chain["public_key_pem"]])
    assert not result.get("failed")
    signed, unsigned = result["images"]
    assert signed["problems"] == [] and unsigned["problems"] == ["no signature found"]
    # Given as text, the key is named by its fingerprint.
    assert signed["signatures"][0]["key"].startswith("key 1 (SHA256:")


def test_a_signature_found_only_in_the_referrers_tag_schema(
    kit: dict[str, t.Any], chain: dict[str, t.Any], capsys: pytest.CaptureFixture[str]
) -> None:
    result = gate(capsys, kit, ["fallback_signed"], signed_by=[chain["public_key"]], fail_on_missing=True)
    assert not result.get("failed"), result.get("msg")
    (signature,) = [s for s in result["images"][0]["signatures"] if s["verified"]]
    digest_tag = chain["digests"]["fallback_signed"].replace(":", "-")
    assert signature["where"] == f"tag {digest_tag} (referrers tag schema)"


def test_a_private_key_is_refused_without_showing_it(
    kit: dict[str, t.Any], chain: dict[str, t.Any], capsys: pytest.CaptureFixture[str]
) -> None:
    private = Path(chain["private_key"]).read_text()
    for given in (chain["private_key"], private):
        result = gate(capsys, kit, ["signed"], signed_by=[given])
        assert result["failed"] is True
        assert "is a private key; signed_by takes public keys only" in result["msg"]
        body = "".join(line for line in private.splitlines() if not line.startswith("-----"))
        assert body[:40] not in json.dumps(result)


def test_signature_cost(kit: dict[str, t.Any], chain: dict[str, t.Any], capsys: pytest.CaptureFixture[str]) -> None:
    """A signed image costs the signature manifest and its payload beyond the existence check; a registry without
    the referrers API is asked for it once per run, not once per image."""
    since = log_size(kit)
    result = gate(capsys, kit, ["signed"], signed_by=[chain["public_key"]], list_tags=False)
    assert result["images"][0]["problems"] == []
    gets = [line for line in registry_requests(kit, since) if line.startswith("GET ")]
    digest_tag = chain["digests"]["signed"].replace(":", "-")
    # Beyond the HEAD of the tag: the signature manifest and its one payload; no referrers probe once verified.
    assert [line.rsplit("/", 1)[0] for line in gets] == ["GET /v2/signed/app/manifests", "GET /v2/signed/app/blobs"]
    assert gets[0] == f"GET /v2/signed/app/manifests/{digest_tag}.sig"
    since = log_size(kit)
    gate(capsys, kit, ["unsigned", "other_key", "tampered"], signed_by=[chain["public_key"]], list_tags=False)
    probes = [line for line in registry_requests(kit, since) if "/referrers/" in line]
    assert len(probes) == 1, probes


# Attestations.


@pytest.mark.parametrize(
    "case", ["buildkit", "buildkit_legacy", "cosign_att", "cosign_sbom", "referrers_tag", "no_attestations"]
)
def test_attestations_are_found_where_they_live(
    kit: dict[str, t.Any], chain: dict[str, t.Any], capsys: pytest.CaptureFixture[str], case: str
) -> None:
    result = gate(capsys, kit, [case], inspect=True)
    found = result["images"][0]["attestations"]
    assert sorted({attestation["type"] for attestation in found}) == chain["attestations"][case]
    required = gate(capsys, kit, [case], require_attestations=["sbom", "provenance"], fail_on_missing=True)
    missing = [kind for kind in ("sbom", "provenance") if kind not in chain["attestations"][case]]
    if missing:
        name, tag = name_and_tag(image(chain, case))
        assert required["msg"] == f"{tag} in {name}: no {' and no '.join(missing)} attestation found"
    else:
        assert not required.get("failed"), required.get("msg")


# Labels, revision, source, created and platform digests.


def test_inspect_reads_what_an_index_says_about_itself(
    kit: dict[str, t.Any], chain: dict[str, t.Any], capsys: pytest.CaptureFixture[str]
) -> None:
    found = gate(capsys, kit, ["labelled_index"], inspect=True)["images"][0]
    expected = {
        platform.replace("/v8", ""): digest for platform, digest in chain["platform_digests"]["labelled_index"].items()
    }
    assert found["platform_digests"] == expected
    assert found["digest"] not in expected.values()
    assert (found["revision"], found["source"]) == (chain["revision"], chain["source"])
    assert found["created"] == dict.fromkeys(expected, chain["created"]["labelled_index"])
    assert found["labels"]["linux/amd64"]["org.opencontainers.image.revision"] == chain["revision"]
    assert found["labels"]["index"]["org.opencontainers.image.revision"] == chain["revision"]


def test_require_labels_names_the_platform_label_expected_and_actual(
    kit: dict[str, t.Any], chain: dict[str, t.Any], capsys: pytest.CaptureFixture[str]
) -> None:
    wanted = {"org.opencontainers.image.revision": chain["revision"]}
    passed = gate(capsys, kit, ["labelled_index"], require_labels=wanted, fail_on_missing=True)
    assert not passed.get("failed"), passed.get("msg")
    failed = gate(capsys, kit, ["mixed_index"], require_labels=wanted, fail_on_missing=True)
    name, tag = name_and_tag(image(chain, "mixed_index"))
    assert failed["msg"] == (
        f"{tag} in {name}: label org.opencontainers.image.revision (linux/arm64) should be {chain['revision']!r}; "
        f"it is {chain['other_revision']!r}"
    )
    # Only the platforms asked for are in scope.
    amd64 = gate(capsys, kit, ["mixed_index"], require_labels=wanted, platforms=["linux/amd64"], fail_on_missing=True)
    assert not amd64.get("failed"), amd64.get("msg")


class Age(t.NamedTuple):
    case: str
    options: dict[str, t.Any]
    reason: str | None  # None: it passes


AGES = [
    Age("fresh", {"min_age": "1h"}, "less than min_age (60 min) ago"),
    Age("fresh", {"max_age": "1d"}, None),
    Age("old", {"max_age": "90d"}, "more than max_age (90 d) ago"),
    Age("old", {"min_age": "7d"}, None),
    Age("epoch", {"min_age": "7d"}, "its created date is unknown (1970-01-01T00:00:00Z), so its age cannot be checked"),
    Age(
        "year_one",
        {"max_age": "2w"},
        "its created date is unknown (0001-01-01T00:00:00Z), so its age cannot be checked",
    ),
    Age("no_created", {"min_age": 60}, "its created date is unknown (not set), so its age cannot be checked"),
]


@pytest.mark.parametrize("age", AGES, ids=[f"{a.case}-{next(iter(a.options))}" for a in AGES])
def test_age_bounds(
    kit: dict[str, t.Any], chain: dict[str, t.Any], capsys: pytest.CaptureFixture[str], age: Age
) -> None:
    result = gate(capsys, kit, [age.case], fail_on_missing=True, **age.options)
    if age.reason is None:
        assert not result.get("failed"), result.get("msg")
        return
    name, tag = name_and_tag(image(chain, age.case))
    assert result["msg"].startswith(f"{tag} in {name}: "), result["msg"]
    assert result["msg"].endswith(age.reason), result["msg"]


# Digest tags stay out of the way.


def test_digest_tags_are_left_out_unless_asked(
    kit: dict[str, t.Any], chain: dict[str, t.Any], capsys: pytest.CaptureFixture[str]
) -> None:
    repository = chain["repositories"]["signatures"]
    default = run_main(capsys, {"images": [repository], "ca_path": kit["ca"]})["images"][0]["tags"]
    kept = run_main(capsys, {"images": [repository], "ca_path": kit["ca"], "digest_tags": True})["images"][0]["tags"]
    digest_tags = [tag for tag in kept if tag.startswith("sha256-")]
    assert any(tag.endswith(".sig") for tag in digest_tags)
    assert not [tag for tag in default if tag.startswith("sha256-")]
    assert sorted(default + digest_tags) == sorted(kept)


# The referrers API, which Distribution lacks: the scripted registry.


def test_signatures_and_attestations_through_the_referrers_api(
    faults: t.Any, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = ReferrersRegistry()
    faults.handler = registry
    base = {"ca_path": faults.ca, "list_tags": False, "signed_by": [registry.public_key_pem]}
    result = run_main(
        capsys,
        {**base, "images": [f"{faults.host}/org/app:signed", f"{faults.host}/org/app:other-key"], "inspect": True},
    )
    signed, other = result["images"]
    assert [s["where"] for s in signed["signatures"] if s["verified"]] == ["referrers API"]
    assert sorted(a["type"] for a in signed["attestations"]) == ["provenance", "sbom"]
    assert {a["where"] for a in signed["attestations"]} == {"referrers API"}
    assert other["problems"] == [NOT_OUR_KEYS]


# The other faces.


def test_the_lookup_fails_on_an_unsigned_image(kit: dict[str, t.Any], chain: dict[str, t.Any]) -> None:
    lookup = lookup_loader.get("tagscope.registry.image_tags")
    options = {"ca_path": kit["ca"], "signed_by": [chain["public_key"]], "fail_on_missing": True}
    assert name_and_tag(image(chain, "signed"))[1] in lookup.run([image(chain, "signed")], variables={}, **options)
    with pytest.raises(AnsibleLookupError) as caught:
        lookup.run([image(chain, "unsigned")], variables={}, **options)
    name, tag = name_and_tag(image(chain, "unsigned"))
    assert str(caught.value) == f"{tag} in {name}: no signature found"


def test_the_role_stops_every_host_listing_every_rejected_image(
    kit: dict[str, t.Any], chain: dict[str, t.Any], tmp_path: Path
) -> None:
    run = deploy(
        kit,
        tmp_path,
        images=[image(chain, "signed"), image(chain, "unsigned"), image(chain, "buildkit")],
        hosts=3,
        role_vars={"tag_gate_signed_by": [chain["public_key"]], "tag_gate_require_attestations": ["sbom"]},
    )
    assert run.rc != 0
    assert run.deployed == {}
    output = " ".join(run.output.split())
    expected = (
        f"tag_gate: 3 required tags are missing or rejected: {image(chain, 'signed')}: no sbom attestation found; "
        f"{image(chain, 'unsigned')}: no signature found, no sbom attestation found; "
        f"{image(chain, 'buildkit')}: no signature found"
    )
    assert output.count(f'FAILED! => {{"changed": false, "msg": "{expected}"}}') == 3, output
