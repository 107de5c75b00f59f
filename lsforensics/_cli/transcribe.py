"""``lsf transcribe``."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from ..asr.backends import BACKENDS, DEFAULT_BACKEND
from ..asr.stage import TranscribeStage
from ..asr.transcribe import TranscribeOptions
from ..case import Case
from ..errors import InputError
from ..stage import run_stage
from .common import common_options, emit, opts, progress


def _human(r: dict[str, Any]) -> str:
    res = r.get("result") or {}
    state = "up to date" if r["skipped"] else "done"
    lines = [f"transcribe: {state} -> {r['case']}/transcript.json",
             f"  language {res.get('language')}, {res.get('segments')} segments, "
             f"{res.get('speech')} s speech of {res.get('duration')} s, "
             f"{res.get('accepted')} of {res.get('candidates')} term candidates corroborated"]
    lines += [f"  note: {n}" for n in res.get("notes") or []]
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
              help="Extra rules folder(s) for the key-term list used by term recovery.")
@click.option("--force", is_flag=True, help="Redo even if transcript.json is up to date.")
@common_options
def transcribe(case_dir: Path, model: Path | None, language: str, backend: str, beam_size: int,
               chunk_seconds: float, workers: int, no_recover: bool, rules_dirs: tuple[Path, ...],
               force: bool) -> None:
    """Transcribe the case's audio (media/audio.wav) offline into transcript.json, .srt and .vtt.

    The transcript is an unbiased decode in Simplified Chinese with the raw model text kept.
    Key terms heard only by a biased re-decoding are listed as candidates and accepted only when
    the unbiased audio evidence agrees. An interrupted run resumes at the last finished chunk.

    \b
    Example:
      lsf transcribe -C cases/0612
      lsf transcribe -C cases/0612 --language auto --backend transformers --json
    """
    case = Case(case_dir)
    if not case.exists():
        raise InputError(f"{case_dir} is not a case folder (no case.json): run `lsf extract VIDEO -C {case_dir}` first")
    options = replace(TranscribeOptions(), language=language, backend=backend, beam_size=beam_size,
                      recover=not no_recover, chunk_s=chunk_seconds,
                      workers=workers)
    if chunk_seconds < 30:
        raise InputError("--chunk-seconds must be at least 30")
    from ..pipeline import key_terms

    terms, note = key_terms(tuple(map(str, rules_dirs)))
    stage = TranscribeStage(model, options, terms=terms, terms_note=note)
    with progress() as prog:
        res = run_stage(case, stage, progress=prog, argv=["lsf", *sys.argv[1:]], force=force,
                        operator=opts().get("operator"))
    emit({"case": str(case.root), "stage": res.name, "skipped": res.skipped, "result": res.result,
          "outputs": res.outputs}, _human)
