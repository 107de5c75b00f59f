"""``lsf extract``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..extract import FrameParams
from ..extract import extract as run_extract
from .common import ambient_values, common_options, emit, given_names, opts, progress, seal_options
from .common import argv as cli_argv


def _human(r: dict[str, Any]) -> str:
    lines = [f"case: {r['case']}", f"source sha256: {r['source_sha256']}"]
    for s in r["stages"]:
        state = "up to date" if s["skipped"] else "done"
        info = {k: v for k, v in (s["result"] or {}).items() if k in ("duration", "frames", "mode", "audio", "note")}
        lines.append(f"  {s['name']:<16} {state:<10} {info if info else ''}".rstrip())
        lines += [f"  warning: {n}" for n in (s["result"] or {}).get("notes") or []]
    return "\n".join(lines)


@click.command()
@click.argument("video", type=click.Path(path_type=Path, readable=False))
@click.option("-C", "--case", "case_dir", type=click.Path(path_type=Path),
              help="Case folder [default: ./cases/<video stem>-<first 8 hex of sha256>/].")
@click.option("--interval", type=float, default=2.0, show_default=True, help="Seconds between sampled frames.")
@click.option("--scene-threshold", type=float, default=0.1, show_default=True,
              help="Scene-change score (0-1) that adds a frame between interval samples.")
@click.option("--mode", type=click.Choice(["auto", "keyframes", "full"]), default="auto", show_default=True,
              help="Frame decoding: keyframes only (fast), every frame (exact), or auto by GOP length.")
@click.option("--dedup", "dedup_distance", type=int, default=4, show_default=True,
              help="Drop an interval frame within this perceptual-hash distance of the last kept one.")
@click.option("--max-hold", type=float, default=10.0, show_default=True,
              help="Keep a frame at least this often (seconds) even when the picture does not change.")
@click.option("--force", is_flag=True, help="Redo every stage even if its outputs are up to date; accept options "
              "that differ from the ones the case records.")
@seal_options
@common_options
def extract(video: Path, case_dir: Path | None, interval: float, scene_threshold: float, mode: str,
            dedup_distance: int, max_hold: float, force: bool, sign_key: Path | None) -> None:
    """Create or refresh a case: hash and probe VIDEO, extract audio and frames.

    The video is opened read-only and never copied or modified. Rerunning with the same video
    and options does nothing; an interrupted run resumes where it stopped.

    \b
    Example:
      lsf extract "recordings/直播 0612.mp4" -C cases/0612
      lsf extract stream.mp4 --interval 5 --json
    """
    params = FrameParams(interval=interval, scene_threshold=scene_threshold, mode=mode,
                         dedup_distance=dedup_distance, max_hold=max_hold)
    from ..case_options import GROUPS
    from ..case_run import SealOptions

    with progress() as prog:
        result = run_extract(video, case_dir, frames=params, operator=opts().get("operator"),
                             progress=prog, argv=cli_argv(), force=force,
                             given=given_names() & set(GROUPS["extract"]), ambient=ambient_values(),
                             seal=SealOptions(sign_key))
    emit(result.to_json(), _human, stages=result.stages)
