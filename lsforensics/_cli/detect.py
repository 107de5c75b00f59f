"""``lsf detect``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..case import Case
from ..chat import ChatStage
from ..detect.stage import DetectStage
from ..errors import InputError, VerificationError
from ..findings import FindingsDoc
from ..stage import run_stage
from .common import common_options, emit, opts, progress


def _human(r: dict[str, Any]) -> str:
    lines = []
    for s in r["stages"]:
        state = "up to date" if s["skipped"] else "done"
        lines.append(f"{s['stage']}: {state}")
    res = r["result"]
    lines.append(f"findings: {res.get('findings', 0)} -> {r['case']}/findings.json")
    for kind, n in (res.get("by_kind") or {}).items():
        lines.append(f"  {kind:<18} {n}")
    return "\n".join(lines)


@click.command()
@click.option("-C", "--case", "case_dir", type=click.Path(path_type=Path), required=True, help="Case folder.")
@click.option("--rules", "rules_dirs", multiple=True, type=click.Path(path_type=Path),
              help="Extra rules folder (repeatable); its rules add to or replace the shipped ones by id.")
@click.option("--chat", "chat_files", multiple=True, type=click.Path(path_type=Path),
              help="Live-chat log (repeatable): Bilibili danmaku XML, YouTube live-chat JSON, JSONL or CSV "
                   "of {t, user, text}. Copied into the case.")
@click.option("--fail-on", type=click.Choice(["high", "medium", "low"]),
              help="Exit 1 when a finding of this severity or higher exists.")
@click.option("--force", is_flag=True, help="Redo detection even if findings.json is up to date.")
@common_options
def detect(case_dir: Path, rules_dirs: tuple[Path, ...], chat_files: tuple[Path, ...], fail_on: str | None,
           force: bool) -> None:
    """Find brand code-words, counterfeit slang, illegal ad claims and more -> findings.json.

    Reads the transcript, on-screen text and chat of the case (whatever exists) and runs every
    detector (text, visual, claims) with the shipped rules plus any --rules folders.

    \b
    Example:
      lsf detect -C cases/0612
      lsf detect -C cases/0612 --chat danmaku.xml --rules my_rules/ --fail-on high --json
    """
    case = Case(case_dir)
    if not case.exists():
        raise InputError(f"{case_dir} is not a case folder (no case.json): run `lsf extract VIDEO -C {case_dir}` first")
    stage = DetectStage(list(rules_dirs))  # loads and validates the rules first: bad rules exit 2
    chat = ChatStage(list(chat_files)) if chat_files else None
    argv = ["lsf", *sys.argv[1:]]
    stages = []
    with progress() as prog:
        if chat is not None:
            stages.append(run_stage(case, chat, progress=prog, argv=argv, force=force, operator=opts().get("operator")))
        stages.append(run_stage(case, stage, progress=prog, argv=argv, force=force, operator=opts().get("operator")))
    res = stages[-1]
    result = {"case": str(case.root), "stages": [{"stage": s.name, "skipped": s.skipped, "result": s.result}
                                                 for s in stages], "result": res.result}
    emit(result, _human)
    if fail_on:
        hit = FindingsDoc.load(case.findings_json).at_or_above(fail_on)
        if hit:
            raise VerificationError(f"{len(hit)} finding(s) of severity {fail_on} or higher (--fail-on {fail_on})")
