"""``lsf verify``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import Unanchored, VerificationError
from ..evidence.verify import verify_case
from .common import common_options, emit, progress


def _human(r: dict[str, Any]) -> str:
    lines = [f"case: {r['case']}"]
    for p in r["passed"]:
        lines.append(f"  ok      {p}")
    for p in r["problems"]:
        lines.append(f"  FAILED  {p['text']}")
    for n in r["notes"]:
        lines.append(f"  note    {n}")
    lines.append("trust anchors:")
    if not r["anchors"]:
        lines.append("  none: the case is neither signed nor timestamped, so nothing but its own content vouches "
                     "for it; anyone able to write the folder could have rewritten it consistently")
    for a in r["anchors"]:
        lines.append(f"  {'anchored  ' if a['anchored'] else 'UNANCHORED'} {a['part']}: {a['statement']}")
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
    lines.append("result: " + RESULT_LINE[r["status"]].format(n=len(r["problems"])))
    return "\n".join(lines)


RESULT_LINE = {
    "intact": "INTACT (exit 0): nothing changed, and every signature and timestamp was checked against a key "
              "or TSA root you supplied",
    "unanchored": "INTACT BUT UNANCHORED (exit 4): nothing changed as far as the case itself can tell, but it is "
                  "not anchored to a key or TSA root you supplied (see trust anchors)",
    "failed": "VERIFICATION FAILED ({n} problems) (exit 1)",
}


@click.command()
@click.argument("case_dir", metavar="CASE", type=click.Path(path_type=Path))
@click.option("--pubkey", type=click.Path(path_type=Path), help="Trusted Ed25519 public key of the signer (PEM).")
@click.option("--source", type=click.Path(path_type=Path), help="The original video: its sha256 must match source.json.")
@click.option("--tsa-ca", type=click.Path(path_type=Path), help="Trusted PEM root certificate of the TSA.")
@click.option("--reproduce", "and_reproduce", is_flag=True,
              help="Also rerun detection from the case's archived inputs and rules (as `lsf reproduce`); "
                   "different findings fail verification.")
@common_options
def verify(case_dir: Path, pubkey: Path | None, source: Path | None, tsa_ca: Path | None,
           and_reproduce: bool) -> None:
    """Check a sealed case: files, custody chain, signature, timestamp; exit 0 intact, 1 not.

    Reports each changed, missing or added file or folder, a broken custody chain, a source that
    differs from source.json, a bad or removed signature, a timestamp that does not cover
    manifest.json or was removed and, with --source, a source video whose hash differs. Earlier
    seals kept under seals/N/ (a case sealed again after review) are checked too, and it says
    what changed between each seal and the next. Paths outside the case are rejected, never
    followed. Nothing is written.

    Exit 0 only when the case is intact AND every signature and timestamp in it was checked
    against a key (--pubkey) or TSA root (--tsa-ca) you supplied; exit 4 when nothing is wrong
    but the case is not anchored that way (unsigned, checked only against keys stored in the
    case, or timestamp pending); exit 1 when verification failed.

    \b
    Example:
      lsf verify cases/0612 --pubkey lab.pub --tsa-ca tsa-root.pem --source "直播 0612.mp4"
      lsf verify cases/0612 --json
    """
    result = verify_case(case_dir, pubkey=pubkey, source=source, tsa_ca=tsa_ca)
    doc, stages = result.to_json(), []
    if and_reproduce:
        from ..reproduce import reproduce

        with progress() as prog:
            rep = reproduce(case_dir, progress=prog)
        doc["reproduce"] = rep.to_json()
        stages = [rep.stage] if rep.stage else []
        if rep.identical:
            result.passed.append(f"reproduced: detection rerun from the case's archived inputs and rules gives the "
                                 f"same {rep.findings_after} findings")
        else:
            result.fail("reproduce", "findings.json", f"detection rerun from the case's archived inputs and rules "
                        f"differs: {len(rep.removed)} not reproduced, {len(rep.added)} new, {len(rep.changed)} changed")
        doc.update({k: v for k, v in result.to_json().items() if k != "reproduce"})
    # The full account goes to stdout even on failure (and with -q): it is the point of the command.
    emit(doc, _human, stages=stages, always=True)
    if not result.ok:
        raise VerificationError("; ".join(str(p) for p in result.problems[:5])
                                + (f" (+{len(result.problems) - 5} more)" if len(result.problems) > 5 else ""))
    if result.status == "unanchored":
        gaps = [a.gap for a in result.anchors if a.gap] or ["the case is neither signed nor timestamped"]
        raise Unanchored(f"intact as far as the case can tell, but {'; '.join(gaps)} "
                         "(pass --pubkey and --tsa-ca with the signer's key and the TSA's root obtained separately)")
