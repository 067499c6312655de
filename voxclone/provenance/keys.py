"""The local key that signs content credentials, made on first use under VOXCLONE_HOME/keys.

C2PA refuses a self-signed end-entity certificate, so a local CA (EC P-256) issues the signing
certificate (digitalSignature, extendedKeyUsage emailProtection); the CA's private key is
thrown away once it has signed. Stored: ``signer.key.pem`` (PKCS#8, mode 0600) and
``chain.pem`` (signer certificate, then the CA's).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from voxclone.config import Settings
from voxclone.errors import ProvenanceError

KEY_FILE = "signer.key.pem"
CHAIN_FILE = "chain.pem"
VALID_DAYS = 3650


@dataclass(frozen=True)
class SigningKey:
    """The PEM of the private key (PKCS#8) and of the certificate chain, and where they live."""

    key_pem: bytes
    chain_pem: bytes
    folder: Path


def keys_dir(settings: Settings | None = None) -> Path:
    """``VOXCLONE_HOME/keys``."""
    return (settings or Settings()).home / "keys"


def load_or_create(settings: Settings | None = None) -> SigningKey:
    """The stored key, or a new one when there is none yet."""
    folder = keys_dir(settings)
    if (folder / KEY_FILE).is_file() and (folder / CHAIN_FILE).is_file():
        try:
            return SigningKey((folder / KEY_FILE).read_bytes(), (folder / CHAIN_FILE).read_bytes(), folder)
        except OSError as exc:
            raise ProvenanceError(f"Cannot read the signing key in {folder} ({exc}). Fix its "
                                  "permissions or make a new one: `voxclone keys --new`.") from exc
    return replace_key(settings)


def replace_key(settings: Settings | None = None) -> SigningKey:
    """Make a new CA + signing key and store them (atomically replacing any old ones)."""
    folder = keys_dir(settings)
    folder.parent.mkdir(parents=True, exist_ok=True)
    key_pem, chain_pem = _make_chain()
    tmp = Path(tempfile.mkdtemp(prefix=".keys-", dir=folder.parent))
    (tmp / KEY_FILE).write_bytes(key_pem)
    os.chmod(tmp / KEY_FILE, 0o600)
    (tmp / CHAIN_FILE).write_bytes(chain_pem)
    old = folder.with_name(".keys-old")
    if folder.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)
    return SigningKey(key_pem, chain_pem, folder)


def _make_chain() -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    until = now + dt.timedelta(days=VALID_DAYS)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    host = os.uname().nodename[:40] or "localhost"
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"voxclone local CA ({host})"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "voxclone")])
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"voxclone signer ({host})"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "voxclone")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(until)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                         critical=True)
          .add_extension(ca_ski, critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(until)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                           critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    pem = serialization.Encoding.PEM
    return key_pem, cert.public_bytes(pem) + ca.public_bytes(pem)


def key_summary(signing: SigningKey) -> dict[str, str]:
    """Where the key lives, and its certificate's subject, fingerprint and validity."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    cert = x509.load_pem_x509_certificates(signing.chain_pem)[0]
    return {"folder": str(signing.folder), "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(),
            "sha256_fingerprint": cert.fingerprint(hashes.SHA256()).hex(),
            "valid_from": cert.not_valid_before_utc.isoformat(),
            "valid_until": cert.not_valid_after_utc.isoformat(), "algorithm": "ES256 (EC P-256)"}


def certificate_fingerprint(signing: SigningKey) -> str:
    """SHA-256 fingerprint (hex) of the signing certificate."""
    return key_summary(signing)["sha256_fingerprint"]
