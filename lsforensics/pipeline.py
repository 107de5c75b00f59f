"""``lsf analyze``: every stage in the fixed order of the evidence flow, on one case.

extract -> transcribe -> ocr -> chat -> pages -> detect -> voice -> footage -> products -> report
(+ seal). Each step is an idempotent stage, so an analyze killed at any point resumes from the
first unfinished stage and a finished case reruns as a no-op. Stages are built before anything
runs, so a bad option fails before a case is touched. One case lock is held from before the case
is created until it is sealed.

A case remembers how it was made: the rules are archived in it (``rules`` stage, before
transcription, whose term list comes from them) and the options of each stage family are
recorded in case.json, so an analyze rerun without options redoes nothing, and one with other
options or rules is an explicit, recorded change (:mod:`lsforensics.case_options`,
:mod:`lsforensics.case_rules`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import case_options
from .case import Case
from .case_rules import plan_rules, requested_rules
from .errors import InputError
from .extract import FrameParams, extract_locked, prepare_extract
from .findings import SEVERITY_ORDER, FindingsDoc
from .progress import NullProgress, Progress
from .rules import RuleSet
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
    stream: dict[str, str] = field(default_factory=dict)  # platform, room, streamer, captured_at, url -> case.json
    ambient_rules: list[Path] = field(default_factory=list)  # LSF_RULES / lsf.toml: for a case without archived rules
    force: bool = False  # accept options that differ from the ones the case records (and reseal)
    # Which options the caller set (the CLI: typed on the command line). None: every option that
    # differs from its default counts as set. Options not set fall back to the case's record.
    given: frozenset[str] | None = None
    ambient: dict[str, tuple[Any, str]] = field(default_factory=dict)  # from LSF_* or lsf.toml: (value, where)

    def values(self) -> dict[str, Any]:
        """Every recorded option by its CLI parameter name (those analyze has no flag for: defaults)."""
        return {**case_options.defaults(), **case_options.frame_values(self.frames), "model": self.model,
                "language": self.language, "backend": self.backend or case_options.defaults()["backend"],
                "formats": self.formats, "tsa": self.tsa, **{k: self.stream.get(k) for k in case_options.STREAM_FIELDS}}

    def settle(self, case: Case | None, group: str) -> case_options.Settled:
        return case_options.settle_values(case, group, self.values(), case_options.defaults(), given=self.given,
                                          ambient=self.ambient, force=self.force)


@dataclass
class AnalyzeResult:
    case: Path
    stages: list[StageResult]
    summary: dict[str, Any]
    report: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {"case": str(self.case),
                "stages": [{"name": s.name, "skipped": s.skipped, "reason": s.reason, "outputs": s.outputs,
                            "result": s.result} for s in self.stages],
                "summary": self.summary, "report": self.report}


def _threads(opts: AnalyzeOptions) -> int:
    return opts.threads or env_threads()


def _side_by_side(opts: AnalyzeOptions) -> bool:
    """Transcription and OCR at once only when this analyze may use two cores or more (a batch
    job given one core gains nothing from time-slicing two stages on it)."""
    return opts.side_by_side and (_threads(opts) or os.cpu_count() or 1) >= 2


def key_terms(rules: RuleSet | tuple[str, ...] | list = ()) -> tuple[list[str], str | None]:
    """Key terms of the rules (via the text lexicon) for transcription's term recovery, and a note
    when none could be had. The caller hands them to ``asr``: asr/ does not import the rules."""
    if not isinstance(rules, RuleSet):
        rules = requested_rules(tuple(map(str, rules)))  # a bad rules folder is the user's error: exit 2
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


def frame_params(values: dict[str, Any]) -> FrameParams:
    case_options.check_values("extract", values)
    return replace(FrameParams(), **values)


def transcribe_stage(values: dict[str, Any], rules: RuleSet, threads: int = 0, workers: int = 0) -> Stage:
    """The transcribe stage from settled options (``case_options`` group ``transcribe``)."""
    from .asr.stage import TranscribeStage
    from .asr.transcribe import TranscribeOptions

    topts = TranscribeOptions(language=values["language"], beam_size=int(values["beam_size"]),
                              chunk_s=float(values["chunk_seconds"]), recover=not values["no_recover"],
                              threads=threads, workers=workers)
    if values.get("backend"):
        topts = replace(topts, backend=values["backend"])
    case_options.check_values("transcribe", values)
    terms, note = key_terms(rules)
    return TranscribeStage(values.get("model"), topts, terms=terms, terms_note=note, context=term_context(rules))


def term_context(rules: RuleSet):  # noqa: ANN201 - text.match.TermContext, or None without the text core
    """The lexicon's context test for terms recovered by the biased pass (asr asks it, never reads rules)."""
    try:
        from .text.match import TermContext
    except ImportError:
        return None
    return TermContext(rules)


def ocr_stage(values: dict[str, Any], threads: int = 0) -> Stage:
    from .vision.ocr import OcrParams, OcrStage

    case_options.check_values("ocr", values)
    return OcrStage(OcrParams(det_side=int(values["det_side"]), text_score=float(values["min_score"]), threads=threads))


def build_stages(opts: AnalyzeOptions, rules: RuleSet | None = None, case: Case | None = None) -> list[Stage]:
    """The analysis stages after extract, in order; constructing them validates the options.

    ``rules``: the rule set of the run (default: the shipped rules and ``opts.rules_dirs``);
    ``case``: an existing case whose recorded options fill in the ones not set."""
    rules = rules if rules is not None else requested_rules(opts.rules_dirs)
    stages: list[Stage] = [transcribe_stage(opts.settle(case, "transcribe").values, rules, _threads(opts))]
    # Side by side with transcription (whose decoders take the cores), OCR takes one thread.
    stages.append(ocr_stage(opts.settle(case, "ocr").values, 1 if _side_by_side(opts) else _threads(opts)))
    if opts.chats:
        from .chat import ChatStage

        stages.append(ChatStage(opts.chats))
    if opts.pages:
        from .claims.stage import PagesStage

        stages.append(PagesStage(opts.pages))
    from .detect.stage import DetectStage

    stages.append(DetectStage(rules=rules))
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
    from .case_run import SealOptions, Step, check_signed_reseal, record_options, run_step, use_rules
    from .report.stage import check_report_options, make_report

    case_options.check_stream(opts.stream)
    check_report_options(opts.formats, opts.sign_key, opts.tsa, opts.tsa_ca)
    opts.frames.validate()
    requested = requested_rules(opts.rules_dirs or opts.ambient_rules)
    stages = build_stages(opts, requested)  # validates model, rules, pages, chats before the case is touched
    prep = prepare_extract(video, case_dir, opts.frames, progress)
    case = Case(prep.root)
    # One lock from before the case exists until it is sealed: no other lsf process can start a
    # stage, reseal or create the case in between (the stages inside take the same lock again).
    with case.locked():
        existing = case if case.exists() else None
        # The case's own rules and options, unless the command line changes them explicitly.
        rules = plan_rules(existing, opts.rules_dirs, ambient_dirs=opts.ambient_rules, force=opts.force,
                           requested=requested)
        settled = {g: opts.settle(existing, g) for g in ("extract", "report", "stream")}
        report_values = settled["report"].values
        if existing is not None:
            stages = build_stages(opts, rules.rules, existing)
            check_signed_reseal(existing, [s for s in (rules.stage,) if s] + stages,
                                SealOptions(opts.sign_key), force=opts.force)
        ex = extract_locked(case, prep, frames=frame_params(settled["extract"].values), operator=operator,
                            progress=progress, argv=argv, options=settled["extract"], stream=settled["stream"])
        results = list(ex.stages)
        if rules.stage is not None:
            results.append(run_stage(case, rules.stage, progress=progress, argv=argv, operator=operator))
        use_rules(stages, rules.settle(case))
        steps = [Step(s, opts.settle(case, s.name) if s.name in ("transcribe", "ocr") else None) for s in stages]
        # Transcription and OCR read different inputs (audio, frames): they run side by side.
        together = [st for st in steps if st.stage.name in SIDE_BY_SIDE]
        if len(together) > 1 and _side_by_side(opts):
            progress.log("stages " + " + ".join(st.stage.name for st in together))
            for st in together:  # recorded first, one at a time: both write case.json
                record_options(case, st, force=opts.force, argv=argv, operator=operator)
            results += run_stages_side_by_side(case, [st.stage for st in together], progress=progress, argv=argv,
                                               operator=operator)
            steps = [st for st in steps if st not in together]
        for st in steps:
            progress.log(f"stage {st.stage.name}")
            results.append(run_step(case, st, force=False, argv=argv, operator=operator, progress=progress))
        rep = make_report(case.root, formats=report_values["formats"], sign_key=opts.sign_key,
                          tsa=report_values["tsa"], tsa_ca=opts.tsa_ca, argv=argv, operator=operator,
                          progress=progress, options=settled["report"])
    return AnalyzeResult(case.root, results, summarize(case), rep.to_json())
