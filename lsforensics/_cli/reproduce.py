"""``lsf reproduce``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import VerificationError
from ..reproduce import reproduce as run_reproduce
from .common import common_options, emit, progress


def human(r: dict[str, Any]) -> str:
    f = r["findings"]
    lines = [f"case: {r['case']}", f"rules: {r['rules_sha256']} (archived in the case)",
             f"findings: {f['case']} in the case, {f['reproduced']} reproduced"]
    same_inputs = sum(1 for i in r["inputs"] if i["same"])
    if r["inputs"]:
        lines.append(f"inputs: {same_inputs} of {len(r['inputs'])} are the bytes the case's detect run read")
    for label, key in (("not reproduced (in the case only)", "removed"), ("new (not in the case)", "added")):
        for x in r[key]:
            lines.append(f"  {label}: {x['id'] or ''} {x['kind']} {x['rule']} at {x['start']} {x['matched'] or ''}")
    for c in r["changed"]:
        lines.append(f"  changed: {c['id']} {c['kind']}: " + ", ".join(f"{k} {v[0]!r} -> {v[1]!r}"
                                                                     for k, v in list(c["fields"].items())[:4]))
    lines += [f"note: {n}" for n in r["notes"]]
    lines.append("REPRODUCED: the same findings from the case's own inputs and rules" if r["identical"] else
                 "DIFFERENT: the findings above are not what the case's inputs and rules give (exit 1)")
    if r.get("work"):
        lines.append(f"reproduced case kept in {r['work']}")
    return "\n".join(lines)


@click.command()
@click.argument("case_dir", metavar="CASE", type=click.Path(path_type=Path))
@click.option("--work", type=click.Path(path_type=Path),
              help="Keep the reproduced case in this (new or empty) folder [default: a temporary folder, removed].")
@common_options
def reproduce(case_dir: Path, work: Path | None) -> None:
    """Rerun detection from the inputs and rules archived in CASE; exit 1 if the findings differ.

    Copies the case's transcript, OCR, frames, chat, pages and archived rules (CASE/rules/) into
    a scratch folder, checks they are the bytes its detect run read (custody), runs the detect
    stage there with the archived rules and compares every finding and evidence crop. The case
    itself is never written, so a sealed copy received from the other side can be checked as is.

    \b
    Example:
      lsf reproduce cases/0612
      lsf reproduce /media/usb/0612 --work /tmp/0612-rerun --json
    """
    with progress() as prog:
        res = run_reproduce(case_dir, work=work, progress=prog)
    emit(res.to_json(), human, stages=[res.stage] if res.stage else [], always=True)
    if not res.identical:
        raise VerificationError(f"the findings reproduced from the case's inputs differ: {len(res.removed)} not "
                                f"reproduced, {len(res.added)} new, {len(res.changed)} changed")
