"""``lsf keygen``."""

from __future__ import annotations

from pathlib import Path

import click

from ..evidence.sign import generate_keypair
from .common import common_options, emit


@click.command()
@click.option("-o", "--out", "prefix", type=click.Path(path_type=Path), default=Path("lsf-signing"),
              show_default=True, help="Writes PREFIX.key (private, mode 0600) and PREFIX.pub.")
@click.option("--passphrase", is_flag=True,
              help="Encrypt the private key with a passphrase (asked twice; give it later in LSF_KEY_PASSPHRASE).")
@common_options
def keygen(prefix: Path, passphrase: bool) -> None:
    """Make an Ed25519 key pair for signing case manifests (`lsf report --sign-key`).

    Keep the .key file secret; give the .pub file (or its fingerprint) to whoever verifies.

    \b
    Example:
      lsf keygen -o ~/keys/lab
      lsf report -C cases/0612 --sign-key ~/keys/lab.key
      lsf verify cases/0612 --pubkey ~/keys/lab.pub
    """
    secret = click.prompt("passphrase", hide_input=True, confirmation_prompt=True, err=True).encode() if passphrase else None
    kp = generate_keypair(Path(f"{prefix}.key"), Path(f"{prefix}.pub"), passphrase=secret)
    emit({"private_key": str(kp.private_path), "public_key": str(kp.public_path), "fingerprint": kp.fingerprint},
         lambda r: f"private key: {r['private_key']} (mode 0600, keep it secret)\npublic key:  {r['public_key']}\n"
                   f"fingerprint: {r['fingerprint']}  (sha256 of the DER public key)")
