"""``lsf verify``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import VerificationError
from ..evidence.verify import verify_case
from .common import common_options, emit, opts


def _human(r: dict[str, Any]) -> str:
    lines = [f"case: {r['case']}"]
    for p in r["passed"]:
        lines.append(f"  ok      {p}")
    for p in r["problems"]:
        lines.append(f"  FAILED  {p['text']}")
    for n in r["notes"]:
        lines.append(f"  note    {n}")
    if r.get("seals"):
        lines.append("seals (oldest first; the last is manifest.json itself):")
        for s in r["seals"]:
            state = "ok" if not s["problems"] else f"{s['problems']} problem(s)"
            lines.append(f"  seal {s['seal']}  {s['created']}  {s['folder']}/manifest.json sha256 "
                         f"{s['manifest_sha256'][:16]}…  {s['file_count']} files"
                         + (f"  signer {s['signer'][:16]}…" if s.get("signer") else "  unsigned") + f"  {state}")
        lines.append("  current  manifest.json")
    lines.append("equivalent checks without lsf:")
    lines += [f"  {c}" for c in r["commands"]]
    lines.append("result: " + ("INTACT" if r["ok"] else f"VERIFICATION FAILED ({len(r['problems'])} problems)"))
    return "\n".join(lines)


@click.command()
@click.argument("case_dir", metavar="CASE", type=click.Path(path_type=Path))
@click.option("--pubkey", type=click.Path(path_type=Path), help="Trusted Ed25519 public key of the signer (PEM).")
@click.option("--source", type=click.Path(path_type=Path), help="The original video: its sha256 must match source.json.")
@click.option("--tsa-ca", type=click.Path(path_type=Path), help="Trusted PEM root certificate of the TSA.")
@common_options
def verify(case_dir: Path, pubkey: Path | None, source: Path | None, tsa_ca: Path | None) -> None:
    """Check a sealed case: files, custody chain, signature, timestamp; exit 0 intact, 1 not.

    Reports each changed, missing or added file, a broken custody chain, a bad signature, a
    timestamp that does not cover manifest.json and, with --source, a source video whose hash
    differs. Earlier seals kept under seals/N/ (a case sealed again after review) are checked
    too, and it says what changed between each seal and the next. Paths outside the case are
    rejected, never followed. Nothing is written.

    \b
    Example:
      lsf verify cases/0612 --pubkey lab.pub --source "直播 0612.mp4"
      lsf verify cases/0612 --tsa-ca tsa-root.pem --json
    """
    result = verify_case(case_dir, pubkey=pubkey, source=source, tsa_ca=tsa_ca)
    doc = result.to_json()
    if not opts().get("as_json"):
        # The full account goes to stdout even on failure: it is the point of the command.
        click.echo(_human(doc))
    else:
        emit(doc, _human)
    if not result.ok:
        raise VerificationError("; ".join(str(p) for p in result.problems[:5])
                                + (f" (+{len(result.problems) - 5} more)" if len(result.problems) > 5 else ""))
