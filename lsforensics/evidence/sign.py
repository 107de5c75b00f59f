"""Ed25519 keys and the detached signature ``manifest.sig`` over the bytes of ``manifest.json``.

The signature is the raw 64-byte Ed25519 signature (no wrapper), so a third party can check it
with plain OpenSSL 3:

    openssl pkeyutl -verify -pubin -inkey signer.pub -rawin -in manifest.json -sigfile manifest.sig

A key is named by its fingerprint: the sha256 of the public key's DER SubjectPublicKeyInfo, i.e.
``openssl pkey -pubin -in signer.pub -outform DER | sha256sum``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import InputError

PASSPHRASE_ENV = "LSF_KEY_PASSPHRASE"


@dataclass(frozen=True)
class KeyPair:
    private_path: Path
    public_path: Path
    fingerprint: str


def fingerprint(public_key: Ed25519PublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL: never overwrite a key; the mode is set at creation so the secret is never readable.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, mode)  # a umask cannot widen it, but can narrow it; make it exact


def generate_keypair(private_path: Path, public_path: Path | None = None, *,
                     passphrase: bytes | None = None) -> KeyPair:
    """Write a new Ed25519 private key (PKCS#8 PEM, mode 0600) and its public key (PEM, 0644)."""
    private_path = Path(private_path)
    public_path = Path(public_path) if public_path else private_path.with_suffix(".pub")
    for p in (private_path, public_path):
        if p.exists():
            raise InputError(f"{p} already exists; refusing to overwrite a key")
        if not p.parent.is_dir():
            raise InputError(f"folder {p.parent} does not exist")
    key = Ed25519PrivateKey.generate()
    enc = (serialization.BestAvailableEncryption(passphrase) if passphrase
           else serialization.NoEncryption())
    _write_new(private_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc),
               0o600)
    _write_new(public_path, public_pem(key.public_key()), 0o644)
    return KeyPair(private_path, public_path, fingerprint(key.public_key()))


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"signing key {path}: cannot read ({exc.strerror})") from None
    passphrase = os.environ.get(PASSPHRASE_ENV)
    try:
        key = serialization.load_pem_private_key(data, password=passphrase.encode() if passphrase else None)
    except TypeError:
        raise InputError(f"signing key {path} is encrypted: set {PASSPHRASE_ENV}") from None
    except ValueError:
        raise InputError(f"signing key {path} is not a PEM private key (or the passphrase is wrong)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"signing key {path} is not an Ed25519 key (make one with `lsf keygen`)")
    return key


def load_public_key_bytes(data: bytes, name: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise InputError(f"public key {name} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"public key {name} is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"public key {path}: cannot read ({exc.strerror})") from None
    return load_public_key_bytes(data, str(path))


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    return key.sign(data)


def check_signature(public_key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
