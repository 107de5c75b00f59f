"""``lsf analyze``: every stage in the fixed order of the evidence flow, on one case.

extract -> transcribe -> ocr -> chat -> pages -> detect -> voice -> footage -> products -> report
(+ seal). Each step is an idempotent stage, so an analyze killed at any point resumes from the
first unfinished stage and a finished case reruns as a no-op. Stages are built before anything
runs, so a bad option fails before a case is touched. One case lock is held from before the case
is created until it is sealed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .case import Case
from .errors import InputError
from .extract import FrameParams, extract_locked, prepare_extract
from .findings import SEVERITY_ORDER, FindingsDoc
from .progress import NullProgress, Progress
from .stage import Stage, StageResult, env_threads, run_stage, run_stages_side_by_side

SIDE_BY_SIDE = ("transcribe", "ocr")


@dataclass
class AnalyzeOptions:
    pages: list[Path] = field(default_factory=list)
    chats: list[Path] = field(default_factory=list)
    rules_dirs: list[Path] = field(default_factory=list)
    model: Path | None = None
    language: str = "zh"
    backend: str | None = None
    frames: FrameParams = field(default_factory=FrameParams)
    sign_key: Path | None = None
    tsa: str | None = None
    tsa_ca: Path | None = None
    formats: str = "html,pdf,json"
    threads: int = 0
    fail_on: str | None = None  # high | medium | low
    side_by_side: bool = True  # transcribe and ocr at the same time (benchmarks/analyze.py measures both ways)


@dataclass
class AnalyzeResult:
    case: Path
    stages: list[StageResult]
    summary: dict[str, Any]
    report: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {"case": str(self.case),
                "stages": [{"stage": s.name, "skipped": s.skipped, "reason": s.reason} for s in self.stages],
                "summary": self.summary, "report": self.report}


def _threads(opts: AnalyzeOptions) -> int:
    return opts.threads or env_threads()


def _side_by_side(opts: AnalyzeOptions) -> bool:
    """Transcription and OCR at once only when this analyze may use two cores or more (a batch
    job given one core gains nothing from time-slicing two stages on it)."""
    return opts.side_by_side and (_threads(opts) or os.cpu_count() or 1) >= 2


def key_terms(rules_dirs: tuple[str, ...] | list = ()) -> tuple[list[str], str | None]:
    """Key terms of the rules (via the text lexicon) for transcription's term recovery, and a note
    when none could be had. The caller hands them to ``asr``: asr/ does not import the rules."""
    from .rules import load_rules

    rules = load_rules(tuple(map(str, rules_dirs)))  # a bad rules folder is the user's error: exit 2
    try:
        from .text.lexicon import key_terms as lexicon_terms
    except ImportError:
        return [], "term recovery off: the text lexicon module is not installed"
    try:
        return list(lexicon_terms(rules)), None
    except InputError:
        raise
    except Exception as exc:  # a lexicon bug must not stop the record from being made
        return [], f"term recovery off: key terms unavailable ({type(exc).__name__}: {exc})"


def build_stages(opts: AnalyzeOptions) -> list[Stage]:
    """The analysis stages after extract, in order; constructing them validates the options."""
    from .asr.stage import TranscribeStage
    from .asr.transcribe import TranscribeOptions

    topts = TranscribeOptions(language=opts.language, threads=_threads(opts))
    if opts.backend:
        topts = replace(topts, backend=opts.backend)
    terms, note = key_terms(opts.rules_dirs)
    stages: list[Stage] = [TranscribeStage(opts.model, topts, terms=terms, terms_note=note)]
    from .vision.ocr import OcrParams, OcrStage

    # Side by side with transcription (whose decoders take the cores), OCR takes one thread.
    stages.append(OcrStage(OcrParams(threads=1 if _side_by_side(opts) else _threads(opts))))
    if opts.chats:
        from .chat import ChatStage

        stages.append(ChatStage(opts.chats))
    if opts.pages:
        from .claims.stage import PagesStage

        stages.append(PagesStage(opts.pages))
    from .detect.stage import DetectStage

    stages.append(DetectStage(opts.rules_dirs))
    from .links import per_case_stages

    stages += per_case_stages()  # voice, footage, products: what `lsf compare` reads
    return stages


def summarize(case: Case, top: int = 5) -> dict[str, Any]:
    return FindingsDoc.load(case.findings_json, missing_ok=True).summary(top)


def fail_on_hit(summary: dict[str, Any], level: str | None) -> bool:
    if not level:
        return False
    if level not in SEVERITY_ORDER:
        raise InputError(f"--fail-on {level}: choose high, medium or low")
    return any(n and SEVERITY_ORDER[s] <= SEVERITY_ORDER[level] for s, n in summary["by_severity"].items())


def analyze(
    video: str | os.PathLike[str],
    case_dir: str | os.PathLike[str] | None = None,
    opts: AnalyzeOptions | None = None,
    *,
    operator: str | None = None,
    progress: Progress | None = None,
    argv: list[str] | None = None,
) -> AnalyzeResult:
    opts = opts or AnalyzeOptions()
    progress = progress or NullProgress()
    # A recorded case (lsf record) is analysed from its remux, with the chat it recorded.
    from .capture.analysis import recorded_input

    video, case_dir, opts = recorded_input(video, case_dir, opts)
    # Every option is checked before the case is touched (and before minutes of hashing).
    if opts.fail_on and opts.fail_on not in SEVERITY_ORDER:
        raise InputError(f"--fail-on {opts.fail_on}: choose high, medium or low")
    for p in [*opts.pages, *opts.chats]:
        if not Path(p).is_file():
            raise InputError(f"{p}: no such file")
    from .report.stage import check_report_options, make_report

    check_report_options(opts.formats, opts.sign_key, opts.tsa, opts.tsa_ca)
    opts.frames.validate()
    stages = build_stages(opts)  # validates model, rules, pages, chats before the case is touched
    prep = prepare_extract(video, case_dir, opts.frames, progress)
    case = Case(prep.root)
    # One lock from before the case exists until it is sealed: no other lsf process can start a
    # stage, reseal or create the case in between (the stages inside take the same lock again).
    with case.locked():
        ex = extract_locked(case, prep, frames=opts.frames, operator=operator, progress=progress, argv=argv)
        results = list(ex.stages)
        # Transcription and OCR read different inputs (audio, frames): they run side by side.
        together = [s for s in stages if s.name in SIDE_BY_SIDE]
        if len(together) > 1 and _side_by_side(opts):
            progress.log("stages " + " + ".join(s.name for s in together))
            results += run_stages_side_by_side(case, together, progress=progress, argv=argv, operator=operator)
            stages = [s for s in stages if s not in together]
        for stage in stages:
            progress.log(f"stage {stage.name}")
            results.append(run_stage(case, stage, progress=progress, argv=argv, operator=operator))
        rep = make_report(case.root, formats=opts.formats, sign_key=opts.sign_key, tsa=opts.tsa,
                          tsa_ca=opts.tsa_ca, argv=argv, operator=operator, progress=progress)
    return AnalyzeResult(case.root, results, summarize(case), rep.to_json())
