"""``lsf transcribe``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..asr.backends import BACKENDS, DEFAULT_BACKEND
from ..case_run import SealOptions, Step, run_on_case
from .common import argv as cli_argv
from .common import common_options, emit, opts, progress, require_case, rules_plan, seal_options, settle


def _human(r: dict[str, Any]) -> str:
    res = r.get("result") or {}
    state = "up to date" if r["skipped"] else "done"
    lines = [f"transcribe: {state} -> {r['case']}/transcript.json",
             f"  language {res.get('language')}, {res.get('segments')} segments, "
             f"{res.get('speech')} s speech of {res.get('duration')} s, "
             f"{res.get('accepted')} of {res.get('candidates')} term candidates corroborated"]
    lines += [f"  note: {n}" for n in [*(res.get("notes") or []), *(r.get("notes") or [])]]
    return "\n".join(lines)


@click.command()
@click.option("-C", "--case", "case_dir", type=click.Path(path_type=Path), required=True, help="Case folder.")
@click.option("--model", "model", type=click.Path(path_type=Path),
              help="Own model: CTranslate2 folder, openai-whisper .pt, or Hugging Face Whisper folder "
                   "[default: the shipped Whisper base].")
@click.option("--language", type=click.Choice(["zh", "en", "auto"]), default="zh", show_default=True,
              help="Spoken language; auto detects and falls back to zh outside zh/en (and says so).")
@click.option("--backend", type=click.Choice(sorted(BACKENDS)), default=DEFAULT_BACKEND, show_default=True,
              help="Inference engine; all run the same weights.")
@click.option("--beam-size", type=int, default=5, show_default=True, help="Beam width of the unbiased decode.")
@click.option("--chunk-seconds", type=float, default=120.0, show_default=True,
              help="Audio per resumable chunk (each finished chunk is checkpointed in the case).")
@click.option("--workers", type=click.IntRange(0, 64), default=0, show_default=True,
              help="Processes decoding chunks at once (0: two on a machine with two or more cores; "
                   "1: one process using every core). The transcript is the same either way.")
@click.option("--no-recover", is_flag=True, help="Skip corroborated term recovery (biased re-decoding).")
@click.option("--rules", "rules_dirs", multiple=True, type=click.Path(path_type=Path),
              help="Extra rules folder(s) for the key-term list used by term recovery: replaces the case's "
                   "archived rules (without it, the archived rules are used).")
@click.option("--force", is_flag=True, help="Redo even if transcript.json is up to date; accept options that "
              "differ from the ones the case records.")
@seal_options
@common_options
def transcribe(case_dir: Path, model: Path | None, language: str, backend: str, beam_size: int,
               chunk_seconds: float, workers: int, no_recover: bool, rules_dirs: tuple[Path, ...],
               force: bool, sign_key: Path | None) -> None:
    """Transcribe the case's audio (media/audio.wav) offline into transcript.json, .srt and .vtt.

    The transcript is an unbiased decode in Simplified Chinese with the raw model text kept.
    Key terms heard only by a biased re-decoding are listed as candidates and accepted only when
    the unbiased audio evidence agrees. An interrupted run resumes at the last finished chunk.

    \b
    Example:
      lsf transcribe -C cases/0612
      lsf transcribe -C cases/0612 --language auto --backend transformers --json
    """
    from ..pipeline import transcribe_stage

    case = require_case(case_dir)
    settled = settle(case, "transcribe", force=force)  # the case's options unless typed here
    plan = rules_plan(case, force=force)
    stage = transcribe_stage(settled.values, plan.rules, workers=workers)
    with progress() as prog:
        run = run_on_case(case, [Step(stage, settled)], rules=plan, seal=SealOptions(sign_key), force=force,
                          argv=cli_argv(), operator=opts().get("operator"), progress=prog)
    res = run.stages[-1]
    emit({"skipped": res.skipped, "result": res.result, "notes": run.notes, "resealed": run.report}, _human,
         case=case, stages=run.stages)
