"""Running stages on an existing case without changing it behind its seal.

Every command that runs stages on a case goes through :func:`run_on_case`: under one case lock it
archives the rules first when the plan says so (:mod:`lsforensics.case_rules`), records each
stage's options in case.json just before the stage runs (:mod:`lsforensics.case_options`), runs the
stages, and, when the case was sealed before and anything ran, makes the report again and reseals
with the case's recorded report options, so ``lsf verify`` passes after an explicit change
instead of failing on a stale manifest.

A signed case is resealed only with a signing key: when something would change and no key was
given, the command refuses before anything runs, so a signature is never dropped by a rerun.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import case_options
from .case import Case
from .case_rules import RulesPlan
from .errors import InputError
from .progress import NullProgress, Progress
from .rules import RuleSet
from .stage import Stage, StageResult, is_current, run_stage


@dataclass
class SealOptions:
    """How to reseal a case that a run changes (the TSA and formats default to the case's own)."""

    sign_key: Path | None = None
    tsa: str | None = None
    tsa_ca: Path | None = None


@dataclass
class Step:
    stage: Stage
    options: case_options.Settled | None = None  # recorded in case.json just before the stage runs


@dataclass
class CaseRun:
    stages: list[StageResult] = field(default_factory=list)
    report: dict[str, Any] | None = None  # the reseal's ReportResult.to_json(), when it happened
    notes: list[str] = field(default_factory=list)


def seal_signer(case: Case) -> str | None:
    """The key fingerprint the case's current seal is signed with ('' when sealed unsigned, None when
    not sealed)."""
    from .evidence import manifest as mf

    if not (case.root / mf.MANIFEST_JSON).is_file():
        return None
    try:
        doc = mf.read_manifest(case.root)[1]
    except (OSError, ValueError, InputError):
        return ""
    sig = (doc.get("seal") or {}).get("signature") if isinstance(doc.get("seal"), dict) else None
    fpr = (sig or {}).get("fingerprint") if isinstance(sig, dict) else None
    return fpr or ((doc.get("signer") or {}).get("fingerprint") if isinstance(doc.get("signer"), dict) else None) or ""


def check_signed_reseal(case: Case, stages: list[Stage], seal: SealOptions, *, force: bool = False) -> None:
    """Refuse, before anything runs, a change to a signed case that could not be re-signed."""
    signer = seal_signer(case)
    if not signer or seal.sign_key is not None:
        return
    if force or any(not is_current(case, s) for s in stages):
        raise InputError(f"case {case.root} is signed (key {signer[:16]}…) and this run changes it: give the "
                         "signing key to reseal it (--sign-key KEY, LSF_SIGN_KEY or sign_key in lsf.toml)")


def use_rules(stages: list[Stage], rules: RuleSet) -> None:
    """Point the stages that read rules at the archived copy (same content, same sha256)."""
    for s in stages:
        if hasattr(s, "use_rules"):
            s.use_rules(rules)  # type: ignore[attr-defined]


def record_options(case: Case, step: Step, *, force: bool = False, argv: list[str] | None = None,
                   operator: str | None = None) -> bool:
    """Record the step's options in case.json when they differ from the record and the stage is going
    to run (so a no-op run never touches a sealed case, and an interrupted one resumes alike)."""
    opts = step.options
    if opts is None or opts.values == case_options.recorded(case, opts.group):
        return False
    if not (force or opts.changed or not is_current(case, step.stage)):
        return False
    return case_options.record(case, opts, argv=argv, operator=operator)


def run_step(case: Case, step: Step, *, force: bool = False, argv: list[str] | None = None,
             operator: str | None = None, progress: Progress | None = None) -> StageResult:
    """One stage, its options recorded first (:func:`record_options`)."""
    with case.locked():
        record_options(case, step, force=force, argv=argv, operator=operator)
        return run_stage(case, step.stage, progress=progress, argv=argv, force=force, operator=operator)


def run_on_case(case: Case, steps: list[Step], *, rules: RulesPlan | None = None, seal: SealOptions | None = None,
                force: bool = False, argv: list[str] | None = None, operator: str | None = None,
                progress: Progress | None = None) -> CaseRun:
    """Run ``steps`` in order on an existing case (rules archived first), then reseal if it was sealed."""
    progress = progress or NullProgress()
    seal = seal or SealOptions()
    out = CaseRun()
    with case.locked():
        was_sealed = seal_signer(case) is not None
        if was_sealed:
            pending: list[Stage] = ([rules.stage] if rules and rules.stage else []) + [s.stage for s in steps]
            check_signed_reseal(case, pending, seal, force=force)
        if rules is not None:
            if rules.stage is not None:
                out.stages.append(run_stage(case, rules.stage, progress=progress, argv=argv, operator=operator))
            use_rules([s.stage for s in steps], rules.settle(case))
            if rules.note:
                out.notes.append(rules.note)
        for step in steps:
            progress.log(f"stage {step.stage.name}")
            out.stages.append(run_step(case, step, force=force, argv=argv, operator=operator, progress=progress))
            if step.options is not None:
                out.notes += step.options.notes
        if was_sealed and any(not r.skipped for r in out.stages):
            out.report = reseal(case, seal, argv=argv, operator=operator, progress=progress).to_json()
    return out


def reseal(case: Case, seal: SealOptions, *, argv: list[str] | None = None, operator: str | None = None,
           progress: Progress | None = None) -> Any:
    """The report again and a new seal, with the case's recorded formats and TSA."""
    from .report.stage import make_report

    rec = case_options.recorded(case, "report")
    return make_report(case.root, formats=rec.get("formats") or "html,pdf,json", sign_key=seal.sign_key,
                       tsa=seal.tsa or rec.get("tsa"), tsa_ca=seal.tsa_ca, argv=argv, operator=operator,
                       progress=progress)
