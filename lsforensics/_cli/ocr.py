"""``lsf ocr``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..case_run import SealOptions, Step, run_on_case
from ..vision.ocr import OcrParams
from .common import argv as cli_argv
from .common import common_options, emit, opts, progress, require_case, seal_options, settle


def _human(r: dict[str, Any]) -> str:
    res = r.get("result") or {}
    state = "up to date" if r["skipped"] else "done"
    lines = [f"ocr: {state}: {res.get('lines', '?')} text lines from {res.get('frames', '?')} frames "
             f"({res.get('ocred', '?')} read, {res.get('reused', '?')} unchanged and reused)"]
    for s in res.get("skipped") or []:
        lines.append(f"  skipped {s['frame']}: {s['reason']}")
    return "\n".join(lines)


@click.command()
@click.option("-C", "--case", "case_dir", type=click.Path(path_type=Path), required=True, help="Case folder.")
@click.option("--det-side", type=int, default=OcrParams.det_side, show_default=True,
              help="Text-detector input long side in pixels (larger reads smaller text, slower).")
@click.option("--min-score", type=float, default=OcrParams.text_score, show_default=True,
              help="Drop recognised lines below this confidence.")
@click.option("--force", is_flag=True, help="Redo OCR even if ocr.json is up to date; accept options that differ "
              "from the ones the case records.")
@seal_options
@common_options
def ocr(case_dir: Path, det_side: int, min_score: float, force: bool, sign_key: Path | None) -> None:
    """Read on-screen text (captions, price stickers) of the sampled frames into ocr.json.

    Frames whose picture did not change since the last read frame reuse its text (marked
    with reused_from).

    \b
    Example:
      lsf ocr -C cases/0612
      lsf ocr -C cases/0612 --json
    """
    from ..pipeline import ocr_stage

    case = require_case(case_dir)
    settled = settle(case, "ocr", force=force)
    stage = ocr_stage(settled.values)
    with progress() as prog:
        run = run_on_case(case, [Step(stage, settled)], seal=SealOptions(sign_key), force=force, argv=cli_argv(),
                          operator=opts().get("operator"), progress=prog)
    res = run.stages[-1]
    emit({"skipped": res.skipped, "result": res.result, "notes": run.notes, "resealed": run.report}, _human,
         case=case, stages=run.stages)
