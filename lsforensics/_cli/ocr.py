"""``lsf ocr``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..case import Case
from ..errors import InputError
from ..stage import run_stage
from ..vision.ocr import OcrParams, OcrStage
from .common import common_options, emit, opts, progress


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
@click.option("--force", is_flag=True, help="Redo OCR even if ocr.json is up to date.")
@common_options
def ocr(case_dir: Path, det_side: int, min_score: float, force: bool) -> None:
    """Read on-screen text (captions, price stickers) of the sampled frames into ocr.json.

    Frames whose picture did not change since the last read frame reuse its text (marked
    with reused_from).

    \b
    Example:
      lsf ocr -C cases/0612
      lsf ocr -C cases/0612 --json
    """
    case = Case(case_dir)
    if not case.exists():
        raise InputError(f"{case_dir} is not a case folder: run `lsf extract VIDEO -C {case_dir}` first")
    if det_side < 160 or not 0 <= min_score <= 1:
        raise InputError("--det-side must be >= 160 and --min-score within 0..1")
    stage = OcrStage(OcrParams(det_side=det_side, text_score=min_score))
    with progress() as prog:
        res = run_stage(case, stage, progress=prog, argv=["lsf", *sys.argv[1:]], force=force,
                        operator=opts().get("operator"))
    emit({"case": str(case.root), "stage": res.name, "skipped": res.skipped, "result": res.result}, _human)
