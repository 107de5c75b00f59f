"""``lsf stamp``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..case import Case
from ..errors import InputError
from ..evidence.seal import stamp_case
from .common import common_options, emit


@click.command()
@click.argument("case_dir", metavar="CASE", type=click.Path(path_type=Path))
@click.option("--tsa", metavar="URL", required=True, help="RFC 3161 timestamp authority URL.")
@click.option("--tsa-ca", type=click.Path(path_type=Path), help="PEM root certificate the TSA must chain to.")
@click.option("--force", is_flag=True, help="Ask again even if the case already holds a valid manifest.tsr.")
@common_options
def stamp(case_dir: Path, tsa: str, tsa_ca: Path | None, force: bool) -> None:
    """Get an RFC 3161 timestamp over a sealed case's manifest.json (finishes an offline --tsa).

    Sends manifest.tsq (or a new query) and stores the full response as manifest.tsr with the
    TSA's certificates in manifest.tsa.pem, after checking its imprint and nonce. The TSA time
    attests when manifest.json existed, not when the stream was recorded.

    \b
    Example:
      lsf stamp cases/0612 --tsa http://tsa.example/tsr --tsa-ca tsa-root.pem
    """
    if not Case(case_dir).exists():
        raise InputError(f"{case_dir} is not an lsf case (no case.json)")
    # A recorded case first: its queued chain-head stamps (lsforensics/capture/stamps.py).
    capture = finish_capture_stamps(Case(case_dir), tsa, tsa_ca)
    if capture is not None and not (Case(case_dir).root / "manifest.json").is_file():
        emit({"capture": capture}, lambda r: "\n".join(r["capture"]["messages"]) or "no capture timestamp was pending")
        if capture["pending"]:
            raise InputError(f"{len(capture['pending'])} capture timestamp(s) still pending: TSA {tsa} unreachable")
        return
    out = stamp_case(Case(case_dir), tsa, tsa_ca=tsa_ca, force=force)
    doc = out.to_json() | ({"capture": capture} if capture is not None else {})
    emit(doc, lambda r: "\n".join((r.get("capture") or {}).get("messages", []) + [f"timestamp {r['status']}: {r['message']}"])
         + ("" if r["status"] == "pending" else
            "\nnote: the TSA time attests when manifest.json existed, not when the stream was recorded"))
    if out.status == "pending":
        raise InputError(out.message)


def finish_capture_stamps(case: Case, tsa: str, tsa_ca: Path | None) -> dict[str, Any] | None:
    from ..capture.layout import CaptureLayout, is_capture_case
    from ..capture.stamps import finish_pending

    if not is_capture_case(case.root):
        return None
    with case.locked():
        return finish_pending(CaptureLayout(case), tsa, tsa_ca)
