"""A throw-away CA, a server certificate for 127.0.0.1, and the token-signing key."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _builder(subject: str, issuer: str, public_key: rsa.RSAPublicKey) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=7))
    )


def make_pki(directory: Path) -> dict[str, str]:
    """Write ca.crt, server.crt/key (127.0.0.1, localhost) and signing.crt/key."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca_cert = (
        _builder("tagscope test kit CA", "tagscope test kit CA", ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = _key()
    server_cert = (
        _builder("127.0.0.1", "tagscope test kit CA", server_key.public_key())
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    signing_key = _key()
    signing_cert = _builder(
        "tagscope test kit token signer", "tagscope test kit token signer", signing_key.public_key()
    ).sign(signing_key, hashes.SHA256())
    files = {
        "ca": directory / "ca.crt",
        "server_cert": directory / "server.crt",
        "server_key": directory / "server.key",
        "signing_cert": directory / "signing.crt",
        "signing_key": directory / "signing.key",
    }
    files["ca"].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files["server_cert"].write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    files["server_key"].write_bytes(_pem_key(server_key))
    files["signing_cert"].write_bytes(signing_cert.public_bytes(serialization.Encoding.PEM))
    files["signing_key"].write_bytes(_pem_key(signing_key))
    for path in (files["server_key"], files["signing_key"]):
        path.chmod(0o600)
    return {name: str(path) for name, path in files.items()}


def libtrust_key_id(public_key: rsa.RSAPublicKey) -> str:
    """The ``kid`` Distribution's token auth looks keys up by (docker/libtrust)."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode("ascii").rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))
