"""``lsf detect``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..case_run import SealOptions, Step, run_on_case
from ..errors import VerificationError
from ..findings import FindingsDoc
from .common import argv as cli_argv
from .common import common_options, emit, opts, progress, require_case, rules_plan, seal_options, stage_lines


def _human(r: dict[str, Any]) -> str:
    lines = stage_lines(r) + [f"note: {n}" for n in r.get("notes") or []]
    res = r["result"]
    lines.append(f"findings: {res.get('findings', 0)} -> {r['case']}/findings.json")
    for kind, n in (res.get("by_kind") or {}).items():
        lines.append(f"  {kind:<18} {n}")
    if r.get("resealed"):
        lines.append("resealed: manifest.json lists the new files (lsf verify CASE)")
    return "\n".join(lines)


@click.command()
@click.option("-C", "--case", "case_dir", type=click.Path(path_type=Path), required=True, help="Case folder.")
@click.option("--rules", "rules_dirs", multiple=True, type=click.Path(path_type=Path),
              help="Extra rules folder (repeatable): replaces the case's archived rules by the shipped rules plus "
                   "these folders (their rules add to or replace the shipped ones by id). Without it the case's "
                   "own archived rules are used.")
@click.option("--chat", "chat_files", multiple=True, type=click.Path(path_type=Path),
              help="Live-chat log (repeatable): Bilibili danmaku XML, YouTube live-chat JSON, JSONL or CSV "
                   "of {t, user, text}. Copied into the case.")
@click.option("--fail-on", type=click.Choice(["high", "medium", "low"]),
              help="Exit 1 when a finding of this severity or higher exists.")
@click.option("--force", is_flag=True, help="Redo detection even if findings.json is up to date.")
@seal_options
@common_options
def detect(case_dir: Path, rules_dirs: tuple[Path, ...], chat_files: tuple[Path, ...], fail_on: str | None,
           force: bool, sign_key: Path | None) -> None:
    """Find brand code-words, counterfeit slang, illegal ad claims and more -> findings.json.

    Reads the transcript, on-screen text and chat of the case (whatever exists) and runs every
    detector (text, visual, claims) with the rules archived in the case (CASE/rules/). A rerun
    without options is a no-op; --rules is an explicit change, recorded in custody, and a sealed
    case is resealed.

    \b
    Example:
      lsf detect -C cases/0612
      lsf detect -C cases/0612 --chat danmaku.xml --rules my_rules/ --fail-on high --json
    """
    from ..chat import ChatStage
    from ..detect.stage import DetectStage

    case = require_case(case_dir)
    plan = rules_plan(case, force=force)  # loads and validates the rules first: bad rules exit 2
    steps = ([Step(ChatStage(list(chat_files)))] if chat_files else []) + [Step(DetectStage(rules=plan.rules))]
    with progress() as prog:
        run = run_on_case(case, steps, rules=plan, seal=SealOptions(sign_key), force=force,
                          argv=cli_argv(), operator=opts().get("operator"), progress=prog)
    emit({"result": run.stages[-1].result, "notes": run.notes, "resealed": run.report}, _human, case=case,
         stages=run.stages)
    if fail_on:
        hit = FindingsDoc.load(case.findings_json).at_or_above(fail_on)
        if hit:
            raise VerificationError(f"{len(hit)} finding(s) of severity {fail_on} or higher (--fail-on {fail_on})")
