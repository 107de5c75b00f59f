"""``lsf findings``: a case's findings in the terminal, as CSV or as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .common import common_options, emit, require_case


def _human(r: dict[str, Any]) -> str:
    from ..report.display import display_text

    lines = [f"{r['shown']} of {r['total']} findings in {r['case']}"]
    for f in r["findings"]:
        what = " ".join(str(x) for x in (f.get("brand"), f.get("term") or f.get("matched")) if x)
        quote = display_text(str(f.get("quote") or "").replace("\n", " "))[:60]
        lines.append(f"  #{f.get('n') or '':<4} {f.get('id') or '':<12} {f['timecode']:>12}  {f.get('severity') or '':<6} "
                     f"{f.get('kind') or '':<18} {f.get('source') or '':<7} {display_text(what)}  {quote}".rstrip())
    return "\n".join(lines)


@click.command()
@click.argument("case_dir", metavar="CASE", type=click.Path(path_type=Path))
@click.option("--kind", "kinds", multiple=True, help="Only findings of this kind (repeatable), e.g. brand_codeword.")
@click.option("--severity", type=click.Choice(["high", "medium", "low"]),
              help="Only findings of this severity or higher.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (one row per finding; lists as JSON arrays).")
@common_options
def findings(case_dir: Path, kinds: tuple[str, ...], severity: str | None, as_csv: bool) -> None:
    """List the findings of CASE in time order, filtered by kind and severity.

    Reads CASE/findings.json; nothing is written. --json prints the findings in the result
    envelope, --csv the same columns as the batch findings table.

    \b
    Example:
      lsf findings cases/0612
      lsf findings cases/0612 --kind brand_codeword --severity medium --csv > codewords.csv
    """
    import sys

    from ..findings import FindingsDoc
    from ..findings_table import case_rows, filter_findings, to_csv

    case = require_case(case_dir)
    doc = FindingsDoc.load(case.findings_json)
    shown = filter_findings(doc, kinds=kinds, severity=severity)
    if as_csv:
        sys.stdout.write(to_csv(case_rows(case, shown)))
        return
    emit({"total": len(doc), "shown": len(shown), "filters": {"kind": list(kinds), "severity": severity},
          "findings": [{**f.to_dict(), "timecode": f.timecode} for f in shown]}, _human, case=case)
