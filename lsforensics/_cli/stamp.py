"""``lsf stamp``."""

from __future__ import annotations

import sys
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
@click.option("--sign-key", type=click.Path(path_type=Path),
              help="Recorded case with a signed manifest: reseal with this key after adding capture responses.")
@common_options
def stamp(case_dir: Path, tsa: str, tsa_ca: Path | None, force: bool, sign_key: Path | None) -> None:
    """Get an RFC 3161 timestamp over a sealed case's manifest.json (finishes an offline --tsa).

    Sends manifest.tsq (or a new query) and stores the full response as manifest.tsr with the
    TSA's certificates in manifest.tsa.pem, after checking its imprint and nonce. The TSA time
    attests when manifest.json existed, not when the stream was recorded. For a recorded case
    (lsf record) it first answers the chain-head queries the recorder queued while the TSA was
    unreachable, and reseals the case so its manifest lists them.

    \b
    Example:
      lsf stamp cases/0612 --tsa http://tsa.example/tsr --tsa-ca tsa-root.pem
    """
    if not Case(case_dir).exists():
        raise InputError(f"{case_dir} is not an lsf case (no case.json)")
    # A recorded case first: its queued chain-head stamps (lsforensics/capture/stamps.py).
    capture = finish_capture_stamps(Case(case_dir), tsa, tsa_ca, sign_key)
    if capture is not None and not (Case(case_dir).root / "manifest.json").is_file():
        emit({"capture": capture}, lambda r: "\n".join(r["capture"]["messages"]) or "no capture timestamp was pending",
             case=Case(case_dir))
        if capture["pending"]:
            raise InputError(f"{len(capture['pending'])} capture timestamp(s) still pending: TSA {tsa} unreachable")
        return
    out = stamp_case(Case(case_dir), tsa, tsa_ca=tsa_ca, force=force)
    doc = out.to_json() | ({"capture": capture} if capture is not None else {})
    emit(doc, case=Case(case_dir), human=lambda r: "\n".join((r.get("capture") or {}).get("messages", []) + [f"timestamp {r['status']}: {r['message']}"])
         + ("" if r["status"] == "pending" else
            "\nnote: the TSA time attests when manifest.json existed, not when the stream was recorded"))
    if out.status == "pending":
        raise InputError(out.message)


def finish_capture_stamps(case: Case, tsa: str, tsa_ca: Path | None, sign_key: Path | None) -> dict[str, Any] | None:
    """Answer the recording's queued chain-head stamps; a sealed case is resealed to list them."""
    from ..capture.layout import CaptureLayout, is_capture_case
    from ..capture.stamps import finish_pending
    from ..evidence import manifest as mf
    from ..evidence.seal import seal_case

    if not is_capture_case(case.root):
        return None
    with case.locked():
        out = finish_pending(CaptureLayout(case), tsa, tsa_ca)
        sealed = (case.root / mf.MANIFEST_JSON).is_file()
        if out["stamped"] and sealed:
            if (case.root / mf.MANIFEST_SIG).is_file() and sign_key is None:
                out["messages"].append("the manifest is signed and does not list the new responses: rerun with "
                                       "--sign-key KEY to reseal it (lsf verify reports them as added until then)")
            else:
                seal_case(case, sign_key=sign_key, argv=["lsf", *sys.argv[1:]])
                out["messages"].append("resealed: manifest.json now lists the new responses")
        return out
