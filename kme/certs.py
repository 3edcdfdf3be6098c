"""Throwaway certificates for the KME API's mutual TLS: one CA, a server certificate per KME and a
client certificate per SAE.

Why generate them here: ETSI GS QKD 014 asks for HTTPS with mutual authentication, and an SAE is
known to its KME by its client certificate (the subject's common name is the SAE ID). A user who
only wants to point an application at a simulation should not need openssl recipes; these
certificates are for a simulation on one machine, valid one year, and say so in their names.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "qkdnet throwaway KME CA"
VALIDITY = dt.timedelta(days=365)


@dataclass(frozen=True)
class CertPair:
    """A certificate and its private key, as PEM files."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class CertificateSet:
    """Where the CA, every KME's server certificate and every SAE's client certificate are."""

    directory: Path
    ca: CertPair
    kmes: dict[str, CertPair]
    saes: dict[str, CertPair]


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "qkdnet simulation (insecure test PKI)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write(directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey):
    cert_path = directory / f"{stem}.crt"
    key_path = directory / f"{stem}.key"
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return CertPair(cert_path, key_path)


def _issue(
    subject: str,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    *,
    server: bool,
    hosts: tuple[str, ...] = (),
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    )
    if server:
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def generate_certificates(
    directory: str | Path,
    kme_ids: list[str],
    sae_ids: list[str],
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
) -> CertificateSet:
    """Write a fresh CA (ca.crt/.key), kme/<id>.crt/.key and sae/<id>.crt/.key into `directory`.

    Server certificates name `hosts` (and the KME ID) as subject alternative names, so a client
    that verifies the server against ca.crt accepts https://127.0.0.1:PORT.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(CA_NAME))
        .issuer_name(_name(CA_NAME))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
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
        .sign(ca_key, hashes.SHA256())
    )
    ca = _write(out, "ca", ca_cert, ca_key)
    kmes = {}
    for kme_id in kme_ids:
        cert, key = _issue(kme_id, ca_cert, ca_key, server=True, hosts=(*hosts, kme_id))
        kmes[kme_id] = _write(out, f"kme/{kme_id}", cert, key)
    saes = {}
    for sae_id in sae_ids:
        cert, key = _issue(sae_id, ca_cert, ca_key, server=False)
        saes[sae_id] = _write(out, f"sae/{sae_id}", cert, key)
    return CertificateSet(out, ca, kmes, saes)


def certificate_set(
    directory: str | Path, kme_ids: list[str], sae_ids: list[str]
) -> CertificateSet:
    """The certificates already in `directory` (generated earlier); error naming a missing file."""
    out = Path(directory)

    def pair(stem: str) -> CertPair:
        cert, key = out / f"{stem}.crt", out / f"{stem}.key"
        for path in (cert, key):
            if not path.is_file():
                raise FileNotFoundError(f"certificate file missing: {path}")
        return CertPair(cert, key)

    return CertificateSet(
        out,
        pair("ca"),
        {k: pair(f"kme/{k}") for k in kme_ids},
        {s: pair(f"sae/{s}") for s in sae_ids},
    )
