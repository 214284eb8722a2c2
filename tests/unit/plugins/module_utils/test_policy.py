"""The supply-chain policy: keys users give, signature checks, durations, build dates, labels and attestations.

Table-driven and without the kit, so that mutation testing exercises every branch; the kit's seeded images are in
tests/integration/test_supply_chain.py."""

from __future__ import annotations

import base64
import datetime as dt
import json
import typing as t
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.tagscope.registry.plugins.module_utils._registry.errors import ConfigurationError
from ansible_collections.tagscope.registry.plugins.module_utils._registry.inspection import Inspection
from ansible_collections.tagscope.registry.plugins.module_utils._registry.manifests import ImageConfig
from ansible_collections.tagscope.registry.plugins.module_utils._registry.policy import Policy, duration
from ansible_collections.tagscope.registry.plugins.module_utils._registry.signatures import (
    NO_SIGNATURE,
    NOT_OUR_KEYS,
    Signature,
    check,
    load_keys,
    private_keys,
    verdict,
)
from tests.unit.ids import case_id

DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32
NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.timezone.utc)


def pem(public: t.Any) -> str:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def payload(digest: str = DIGEST) -> bytes:
    body = {
        "critical": {
            "identity": {"docker-reference": "registry.example/app"},
            "image": {"docker-manifest-digest": digest},
            "type": "cosign container image signature",
        },
        "optional": None,
    }
    return json.dumps(body).encode()


EC = ec.generate_private_key(ec.SECP256R1())
EC384 = ec.generate_private_key(ec.SECP384R1())
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ED = ed25519.Ed25519PrivateKey.generate()
STRANGER = ec.generate_private_key(ec.SECP256R1())


def signed(key: t.Any, data: bytes) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        chosen = hashes.SHA384() if key.curve.key_size == 384 else hashes.SHA256()
        raw = key.sign(data, ec.ECDSA(chosen))
    elif isinstance(key, rsa.RSAPrivateKey):
        raw = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        raw = key.sign(data)
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize("key", [EC, EC384, RSA, ED], ids=["ecdsa-p256", "ecdsa-p384", "rsa", "ed25519"])
def test_each_key_type_cosign_signs_with_verifies(key: t.Any) -> None:
    keys = load_keys([pem(key.public_key())])
    found = check(payload(), signed(key, payload()), keys, DIGEST, "tag x.sig")
    assert found == Signature(True, keys[0].name, "tag x.sig", "verified")


class Verdict(t.NamedTuple):
    name: str
    data: bytes
    signature: str | None
    reason: str


CHECKS = [
    Verdict("another key", payload(), signed(STRANGER, payload()), NOT_OUR_KEYS),
    Verdict("payload changed after signing", payload(OTHER), signed(EC, payload()), NOT_OUR_KEYS),
    Verdict(
        "replayed",
        payload(OTHER),
        signed(EC, payload(OTHER)),
        f"the signature names another digest, {OTHER} (a replayed signature)",
    ),
    Verdict("not base64", payload(), "not base64!", "the signature does not verify: it is not base64"),
    Verdict(
        "no annotation", payload(), None, "the signature layer has no dev.cosignproject.cosign/signature annotation"
    ),
    Verdict(
        "not a cosign payload",
        b'{"x": 1}',
        signed(EC, b'{"x": 1}'),
        "the signature does not verify: its payload is not a cosign payload",
    ),
    Verdict(
        "payload not JSON",
        b"\xff",
        signed(EC, b"\xff"),
        "the signature does not verify: its payload is not a cosign payload",
    ),
    # Found by fuzzing (tests/fuzz): json.loads raised RecursionError, a traceback.
    Verdict(
        "payload nested too deeply",
        b"[" * 100_000 + b"]" * 100_000,
        signed(EC, b"[" * 100_000 + b"]" * 100_000),
        "the signature does not verify: its payload is not a cosign payload",
    ),
]


@pytest.mark.parametrize("case", CHECKS, ids=[case_id(c.name) for c in CHECKS])
def test_each_bad_signature_says_why(case: Verdict) -> None:
    keys = load_keys([pem(EC.public_key())])
    found = check(case.data, case.signature, keys, DIGEST, "tag x.sig")
    assert (found.verified, found.reason) == (False, case.reason)


def test_a_digest_in_capitals_is_the_same_digest() -> None:
    keys = load_keys([pem(EC.public_key())])
    upper = "sha256:" + "AB" * 32
    assert check(payload(upper), signed(EC, payload(upper)), keys, DIGEST, "w").verified is True


def test_the_verdict_prefers_the_most_telling_reason() -> None:
    other = Signature(False, None, "a", NOT_OUR_KEYS)
    replayed = Signature(False, "k", "b", f"the signature names another digest, {OTHER} (a replayed signature)")
    broken = Signature(False, None, "c", "the signature does not verify: it is not base64")
    good = Signature(True, "k", "d", "verified")
    assert verdict([]) == NO_SIGNATURE
    assert verdict([other, broken, replayed]) == replayed.reason
    assert verdict([other, broken]) == broken.reason
    assert verdict([other]) == NOT_OUR_KEYS
    assert verdict([other, good]) is None


def test_keys_are_named_by_file_or_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "cosign.pub"
    path.write_text(pem(EC.public_key()))
    from_file, from_text = load_keys([str(path), pem(EC.public_key())])
    assert from_file.name == str(path)
    der = EC.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    import hashlib  # noqa: PLC0415

    fingerprint = base64.b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")
    assert from_text.name == f"key 2 (SHA256:{fingerprint})"


def certificate() -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "signer")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(EC.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(EC, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def private_pem() -> str:
    return EC.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


REFUSED = [
    ("private key", private_pem(), "signed_by entry 1 is a private key; signed_by takes public keys only"),
    ("certificate", certificate(), "signed_by entry 1 is a certificate; keyless (certificate identity)"),
    ("not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "signed_by entry 1 is not a PEM"),
    ("empty", "  ", "signed_by entry 1 is not a PEM public key or the path of one"),
    ("not text", 42, "signed_by entry 1 is not a PEM public key or the path of one"),
    ("no such file", "/nonexistent/cosign.pub", "signed_by entry 1: cannot read '/nonexistent/cosign.pub'"),
    (
        "dsa",
        pem(dsa.generate_private_key(key_size=2048).public_key()),
        "signed_by entry 1 is a DSAPublicKey, which cosign does not sign with",
    ),
]


@pytest.mark.parametrize(("name", "given", "message"), REFUSED, ids=[case_id(r[0]) for r in REFUSED])
def test_what_is_not_a_public_key_is_refused_without_showing_it(name: str, given: t.Any, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_keys([given])
    assert str(caught.value).startswith(message)
    body = "".join(line for line in str(given).splitlines() if not line.startswith("-----"))
    if len(body) > 50:
        assert body[10:50] not in str(caught.value)


def test_a_private_key_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cosign.key"
    path.write_text(private_pem())
    with pytest.raises(ConfigurationError, match=r"signed_by entry 2 \(.*cosign.key\) is a private key"):
        load_keys([pem(EC.public_key()), str(path)])


def test_private_keys_pasted_as_text_are_secrets_to_mask() -> None:
    secret = private_pem()
    assert private_keys([pem(EC.public_key()), secret, "/etc/cosign.pub"]) == [secret]
    assert private_keys(secret) == [secret]
    assert private_keys(None) == []


@pytest.mark.parametrize(
    ("given", "seconds"),
    [
        ("90m", 5400.0),
        ("12h", 43200.0),
        ("7d", 604800.0),
        ("2w", 1209600.0),
        ("45", 45.0),
        (30, 30.0),
        ("1.5h", 5400.0),
        (" 2 D ", 172800.0),
        (None, None),
        ("", None),
    ],
    ids=case_id,
)
def test_durations(given: t.Any, seconds: float | None) -> None:
    assert duration("min_age", given) == seconds


@pytest.mark.parametrize("given", ["7 days", "-1", -5, "1y", True, "h"], ids=case_id)
def test_bad_durations_name_the_option(given: t.Any) -> None:
    with pytest.raises(ConfigurationError) as caught:
        duration("max_age", given)
    assert str(caught.value) == (
        f"max_age must be a duration such as 90m, 12h, 7d or 2w, or a number of seconds, got {given!r}"
    )


def test_min_age_longer_than_max_age_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"min_age \(2w\) is longer than max_age \(7d\), so no image"):
        Policy.build(min_age="2w", max_age="7d")


def test_other_policy_options_are_checked() -> None:
    with pytest.raises(ConfigurationError, match=r"require_attestations names 'vex'; choose from sbom, provenance"):
        Policy.build(require_attestations=["sbom", "vex"])
    with pytest.raises(ConfigurationError, match="require_labels must be a dictionary"):
        Policy.build(require_labels=["a=b"])  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="the value for 'a' must be a string"):
        Policy.build(require_labels={"a": ["b"]})
    assert Policy.build(require_attestations=["SBOM", "sbom"]).attestations == ("sbom",)
    assert Policy.build(require_labels={"n": 7}).labels == {"n": "7"}


def inspection(created: str | None, labels: dict[str, str] | None = None, platform: str = "") -> Inspection:
    return Inspection(configs={platform: ImageConfig(created, labels or {})})


class AgeCase(t.NamedTuple):
    created: str | None
    policy: dict[str, t.Any]
    problems: list[str]


AGE_CASES = [
    AgeCase(
        "2026-12-03T11:00:00Z",
        {"min_age": "2h"},
        ["created 2026-12-03T11:00:00Z, less than min_age (2 h) ago"],
    ),
    AgeCase("2026-12-03T09:00:00Z", {"min_age": "2h"}, []),
    AgeCase("2026-12-03T09:00:00.123456789Z", {"min_age": "2h"}, []),
    AgeCase(
        "2026-12-03T13:30:00+02:00",
        {"min_age": "2h"},
        ["created 2026-12-03T13:30:00+02:00, less than min_age (2 h) ago"],
    ),
    AgeCase("2025-01-01T00:00:00Z", {"max_age": "30d"}, ["created 2025-01-01T00:00:00Z, more than max_age (30 d) ago"]),
    AgeCase(
        "1970-01-01T00:00:00Z",
        {"max_age": "30d"},
        ["its created date is unknown (1970-01-01T00:00:00Z), so its age cannot be checked"],
    ),
    AgeCase(
        "0001-01-01T00:00:00Z",
        {"min_age": 1},
        ["its created date is unknown (0001-01-01T00:00:00Z), so its age cannot be checked"],
    ),
    AgeCase("yesterday", {"min_age": 1}, ["its created date is unknown (yesterday), so its age cannot be checked"]),
    AgeCase(None, {"min_age": 1}, ["its created date is unknown (not set), so its age cannot be checked"]),
    AgeCase(None, {}, []),
]


@pytest.mark.parametrize("case", AGE_CASES, ids=[case_id(f"{c.created}-{c.policy}") for c in AGE_CASES])
def test_age_problems(case: AgeCase) -> None:
    assert Policy.build(**case.policy).problems(inspection(case.created), NOW) == case.problems


def test_an_index_is_checked_platform_by_platform() -> None:
    found = Inspection(
        is_index=True,
        configs={
            "linux/amd64": ImageConfig("2026-12-03T11:00:00Z", {"rev": "a"}),
            "linux/arm64": ImageConfig("2026-11-01T00:00:00Z", {"rev": "b"}),
        },
    )
    policy = Policy.build(min_age="1d", require_labels={"rev": "a", "team": "x"})
    assert policy.problems(found, NOW) == [
        "label team (linux/amd64) should be 'x'; it is not set",
        "label rev (linux/arm64) should be 'a'; it is 'b'",
        "label team (linux/arm64) should be 'x'; it is not set",
        "created 2026-12-03T11:00:00Z (linux/amd64), less than min_age (24 h) ago",
    ]


def test_attestations_and_signatures_together() -> None:
    keys = load_keys([pem(EC.public_key())])
    found = Inspection(
        attestations=[{"type": "sbom", "media_type": "m", "predicate_type": None, "where": "w"}],
        signatures=[Signature(False, None, "w", NOT_OUR_KEYS)],
    )
    policy = Policy(keys=tuple(keys), attestations=("sbom", "provenance"))
    assert policy.problems(found, NOW) == [NOT_OUR_KEYS, "no provenance attestation found"]
    assert Policy(attestations=("sbom", "provenance")).problems(Inspection(), NOW) == [
        "no sbom and no provenance attestation found"
    ]


def test_labels_of_an_image_whose_config_could_not_be_read() -> None:
    assert Policy.build(require_labels={"a": "b"}).problems(Inspection(), NOW) == [
        "its image config could not be read, so its labels are unknown"
    ]


def test_what_the_policy_asks_to_read() -> None:
    assert not Policy().wanted(()).anything
    assert Policy.build(min_age="1h").wanted(()).metadata
    assert not Policy.build(min_age="1h").wanted(()).attestations
    assert Policy.build(require_attestations=["sbom"]).wanted(()).attestations
    assert Policy(inspect=True).wanted(()).metadata and Policy(inspect=True).wanted(()).attestations
    assert not Policy(inspect=True).gates
    assert Policy.build(max_age=0).gates
