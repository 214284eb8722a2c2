# This module is private to the tagscope.registry collection. Do not use it
# from other collections: its API may change without notice.
"""cosign key-based signatures, verified in Python: the public keys a user trusts, the simple-signing payload, and
what a signature says about an image.

A cosign signature (key-based, the layout cosign 1.x to 3.x writes with ``--key``) is a layer of an OCI manifest
stored under the tag ``sha256-<hex>.sig`` (or found through the referrers API): the layer is the payload
``{"critical": {"identity": {...}, "image": {"docker-manifest-digest": "sha256:..."}, "type": "cosign container
image signature"}, "optional": ...}`` and its annotation ``dev.cosignproject.cosign/signature`` holds the base64
signature over the payload's bytes: ECDSA (DER, the hash of its curve), RSA (PKCS#1 v1.5, SHA-256) or Ed25519.
A signature counts only when it verifies with a trusted key AND its payload names the image's own digest;
otherwise it is a replayed signature, lifted from another image.

Keyless signatures (Fulcio certificates, Rekor) are out of scope: a certificate given as a key is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import typing as t
from dataclasses import dataclass

from .errors import ConfigurationError

try:
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
except ImportError:  # pragma: no cover - depends on where the module runs
    HAS_CRYPTOGRAPHY = False
else:
    HAS_CRYPTOGRAPHY = True

SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
# What cosign's OCI 1.1 mode sets as the artifact type of a signature manifest found through referrers.
COSIGN_SIGNATURE_ARTIFACT = "application/vnd.dev.cosign.artifact.sig.v1+json"
PAYLOAD_TYPE = "cosign container image signature"

NO_SIGNATURE = "no signature found"
NOT_OUR_KEYS = "signed, but not by any of the given keys (or the payload was changed after signing)"


@dataclass(frozen=True)
class TrustedKey:
    """A public key the user trusts, and how to name it in results: its file, or its fingerprint."""

    name: str
    key: t.Any


@dataclass(frozen=True)
class Signature:
    """One signature found for an image, as results show it."""

    verified: bool
    key: str | None
    where: str
    reason: str

    def as_dict(self) -> dict[str, t.Any]:
        return {"verified": self.verified, "key": self.key, "where": self.where, "reason": self.reason}


def private_keys(entries: t.Any) -> list[str]:
    """The entries of ``signed_by`` that are private keys pasted as text: secrets to mask wherever parameters are
    shown (they are refused, but the task's invocation would echo them)."""
    if not isinstance(entries, list):
        entries = [entries]
    return [entry for entry in entries if isinstance(entry, str) and "PRIVATE KEY" in entry]


def load_keys(entries: t.Sequence[t.Any]) -> list[TrustedKey]:
    """The keys of ``signed_by``: each PEM text, or the path of a PEM file. Refuses private keys and certificates
    with a message that never shows the key."""
    if not HAS_CRYPTOGRAPHY:
        raise ConfigurationError(
            "signed_by needs the Python package cryptography where the task runs, and it is not installed",
            hint="install cryptography there (pip install cryptography), or run the task on the controller "
            "(delegate_to: localhost), which has it with ansible-core",
        )
    keys: list[TrustedKey] = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, str) or not entry.strip():
            raise ConfigurationError(
                f"signed_by entry {number} is not a PEM public key or the path of one",
                hint="give the cosign.pub that cosign generate-key-pair wrote, or its text",
            )
        text, name = _pem_of(entry, number)
        keys.append(TrustedKey(name=name or _fingerprint_name(text, number), key=_public_key(text, name, number)))
    return keys


def _pem_of(entry: str, number: int) -> tuple[str, str | None]:
    """(PEM text, the file it came from or None)."""
    if "-----BEGIN" in entry:
        return entry.strip(), None
    path = entry.strip()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(), path
    except OSError as exc:
        raise ConfigurationError(
            f"signed_by entry {number}: cannot read {path!r}: {exc.strerror or exc}",
            hint="give the path of a PEM public key readable where the task runs, or the PEM text itself",
        ) from None
    except UnicodeDecodeError:
        raise ConfigurationError(
            f"signed_by entry {number}: {path!r} is not a PEM text file", hint="give the PEM public key (cosign.pub)"
        ) from None


def _public_key(text: str, name: str | None, number: int) -> t.Any:
    label = f"signed_by entry {number}" + (f" ({name})" if name else "")
    if "PRIVATE KEY" in text:
        raise ConfigurationError(
            f"{label} is a private key; signed_by takes public keys only, and the private key should not be here",
            hint="give cosign.pub, not cosign.key (and keep cosign.key out of playbooks and variables)",
        )
    if "CERTIFICATE" in text:
        raise ConfigurationError(
            f"{label} is a certificate; keyless (certificate identity) verification is not supported",
            hint="give the public key the images were signed with (cosign sign --key)",
        )
    try:
        key = serialization.load_pem_public_key(text.encode())
    except (ValueError, UnsupportedAlgorithm, TypeError):
        raise ConfigurationError(
            f"{label} is not a PEM public key", hint="it starts with -----BEGIN PUBLIC KEY-----, as cosign.pub does"
        ) from None
    if not isinstance(key, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey, ed25519.Ed25519PublicKey)):
        raise ConfigurationError(
            f"{label} is a {type(key).__name__}, which cosign does not sign with",
            hint="cosign keys are ECDSA (P-256, P-384, P-521), RSA or Ed25519",
        )
    return key


def _fingerprint_name(text: str, number: int) -> str:
    """``key 2 (SHA256:ab12...)``: what the key's DER hashes to, as ssh-keygen prints fingerprints."""
    body = "".join(line for line in text.splitlines() if line and not line.startswith("-----"))
    try:
        der = base64.b64decode(body)
    except (binascii.Error, ValueError):
        der = text.encode()
    fingerprint = base64.b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")
    return f"key {number} (SHA256:{fingerprint})"


def verify(payload: bytes, raw: bytes, keys: t.Sequence[TrustedKey]) -> TrustedKey | None:
    """The first key whose signature over ``payload`` ``raw`` is; None when none verifies it."""
    for trusted in keys:
        if _verifies(trusted.key, payload, raw):
            return trusted
    return None


def _verifies(key: t.Any, payload: bytes, raw: bytes) -> bool:
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            # sigstore hashes with the curve's own size: SHA-256 for P-256, SHA-384 for P-384, SHA-512 for P-521.
            digest = {256: hashes.SHA256(), 384: hashes.SHA384(), 521: hashes.SHA512()}.get(key.curve.key_size)
            key.verify(raw, payload, ec.ECDSA(digest or hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(raw, payload, padding.PKCS1v15(), hashes.SHA256())
        else:
            key.verify(raw, payload)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def named_digest(payload: bytes) -> str | None:
    """The image digest a simple-signing payload names; None when it is not such a payload."""
    try:
        body = json.loads(payload)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's limit ([[[[...)
        return None
    critical = body.get("critical") if isinstance(body, dict) else None
    image = critical.get("image") if isinstance(critical, dict) else None
    digest = image.get("docker-manifest-digest") if isinstance(image, dict) else None
    return digest if isinstance(digest, str) else None


def check(payload: bytes, signature: str | None, keys: t.Sequence[TrustedKey], digest: str, where: str) -> Signature:
    """What one signature layer says of the image ``digest``."""
    if not signature:
        return Signature(False, None, where, f"the signature layer has no {SIGNATURE_ANNOTATION} annotation")
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return Signature(False, None, where, "the signature does not verify: it is not base64")
    named = named_digest(payload)
    if named is None:
        return Signature(False, None, where, "the signature does not verify: its payload is not a cosign payload")
    trusted = verify(payload, raw, keys)
    if trusted is None:
        return Signature(False, None, where, NOT_OUR_KEYS)
    if named.lower() != digest.lower():
        return Signature(
            False, trusted.name, where, f"the signature names another digest, {named} (a replayed signature)"
        )
    return Signature(True, trusted.name, where, "verified")


def verdict(signatures: t.Sequence[Signature]) -> str | None:
    """Why an image does not pass ``signed_by`` (None when one signature verifies), the most telling reason first:
    a replayed signature by a trusted key, then one that does not verify, then one by another key."""
    if any(signature.verified for signature in signatures):
        return None
    if not signatures:
        return NO_SIGNATURE
    for prefix in ("the signature names another digest", "the signature does not verify", "signed, but not by"):
        for signature in signatures:
            if signature.reason.startswith(prefix):
                return signature.reason
    return signatures[0].reason
