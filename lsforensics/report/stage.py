"""The report stage (custody action ``report``) and ``make_report``: report, then seal.

``make_report`` runs, under the case lock: the report stage (writes ``report/`` and appends its
custody entry), then :func:`~lsforensics.evidence.seal.seal_case` (appends the ``seal`` entry,
writes the manifest over everything including the custody log, signs, timestamps). Rerunning
with the same findings and options is a no-op.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..case import Case, atomic_folder, atomic_write_bytes, dumps_json, json_text_bytes
from ..case_options import Settled
from ..errors import InputError
from ..evidence import sign as sg
from ..evidence.seal import SealResult, seal_case
from ..evidence.seals import keep_report
from ..evidence.timestamp import load_pem_certificates
from ..progress import NullProgress, Progress
from ..review.decisions import parse_only, review_path
from ..review.exhibits import exhibits_index
from ..stage import Stage, StageResult, is_current, run_stage
from . import tracks
from .matter import matter_path, read_matter_file

TRACKS = ("findings.csv", "findings.srt", "findings.vtt")

FORMATS = ("html", "pdf", "json")


def parse_formats(text: str | list[str] | tuple[str, ...]) -> list[str]:
    items = text.split(",") if isinstance(text, str) else list(text)
    out = []
    for raw in items:
        f = raw.strip().lower()
        if not f:
            continue
        if f not in FORMATS:
            raise InputError(f"--format {f!r}: choose from {', '.join(FORMATS)}")
        if f not in out:
            out.append(f)
    if not out:
        raise InputError("--format: give at least one of html, pdf, json")
    return out


class ReportStage(Stage):
    name = "report"
    version = 2  # 2: review status per finding, findings.csv/.srt/.vtt

    def __init__(self, formats: list[str], *, signer: str | None = None, tsa: str | None = None,
                 argv: list[str] | None = None, only: set[str] | None = None):
        self.formats = parse_formats(formats)
        self.signer, self.tsa, self.argv, self.only = signer, tsa, argv, only

    def params(self) -> dict[str, Any]:
        p: dict[str, Any] = {"formats": sorted(self.formats), "signer": self.signer, "tsa": self.tsa}
        if self.only:
            p["only"] = sorted(self.only)
        return p

    def inputs(self, case: Case) -> list[Path]:
        # Only files that exist: a missing optional input (no OCR, no transcript) is not an error.
        optional = [case.case_json, case.source_json, case.transcript_json, case.ocr_json, case.frames_json,
                    case.root / "chat.json", case.root / "pages.json", case.root / "capture.jsonl",
                    review_path(case), exhibits_index(case), matter_path(case),
                    case.root / "voice.json", case.root / "links.json",
                    case.root / "rules" / "rules.json"]  # the archived rules the report names (rules_view)
        return [case.findings_json] + [p for p in optional if p.is_file()]

    def outputs(self, case: Case) -> list[Path]:
        return [case.report_dir / f"report.{f}" for f in FORMATS if f in self.formats] + [
            case.report_dir / name for name in TRACKS]

    def run(self, case: Case, progress: Progress) -> dict[str, Any]:
        from .data import build_report_data

        task = progress.task("report", total=len(self.formats) + 1)
        data = build_report_data(case, argv=self.argv, signer=self.signer, tsa=self.tsa, only=self.only)
        task.update(advance=1)
        root = str(case.root)
        with atomic_folder(case.report_dir) as staging:
            for fmt in self.formats:
                if fmt == "html":
                    from .html import render_html

                    (staging / "report.html").write_text(render_html(data, root), encoding="utf-8")
                elif fmt == "pdf":
                    from .pdf import render_pdf

                    (staging / "report.pdf").write_bytes(render_pdf(data, root))
                elif fmt == "json":
                    doc = {k: v for k, v in data.items() if k != "findings_by_id"}
                    (staging / "report.json").write_bytes(json_text_bytes(dumps_json(doc)))
                task.update(advance=1)
            views = [f for g in data["groups"] for f in g["findings"]]
            views.sort(key=lambda v: (v["start"] is None, v["start"] or 0.0, v["n"] or 0))
            (staging / "findings.csv").write_text(tracks.findings_csv(views), encoding="utf-8")
            (staging / "findings.srt").write_text(tracks.findings_srt(views), encoding="utf-8")
            (staging / "findings.vtt").write_text(tracks.findings_vtt(views), encoding="utf-8")
        task.close()
        rv = data["review"]
        return {"findings": data["summary"]["total"], "by_severity": data["summary"]["by_severity"],
                "formats": self.formats, "all_findings": data["summary"]["all_findings"],
                "reviewed": rv["reviewed"], "by_status": rv["by_status"], "only": rv["only"]}


def _read(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot read ({exc.strerror})") from None


def check_report_options(formats: str | list[str], sign_key: Path | None, tsa: str | None,
                         tsa_ca: Path | None) -> tuple[list[str], str | None]:
    """``(formats, signer fingerprint)``; every report and seal option is checked here, so ``lsf
    analyze`` can refuse a bad one before hours of work rather than after, and a wrong key path
    never leaves a half-sealed case."""
    fmts = parse_formats(formats)
    signer = sg.fingerprint(sg.load_private_key(sign_key).public_key()) if sign_key else None
    if tsa is not None and not tsa.startswith(("http://", "https://")):
        raise InputError(f"--tsa {tsa!r}: expected an http:// or https:// URL")
    if tsa_ca is not None:
        load_pem_certificates(_read(tsa_ca, "--tsa-ca"), str(tsa_ca))
    return fmts, signer


@dataclass
class ReportResult:
    case: Path
    stage: StageResult
    seal: SealResult

    def to_json(self) -> dict[str, Any]:
        return {
            "case": str(self.case),
            "report": {"skipped": self.stage.skipped, "outputs": self.stage.outputs, "result": self.stage.result},
            "seal": self.seal.to_json(),
        }


def make_report(
    case_dir: str | os.PathLike[str],
    *,
    formats: str | list[str] = "html,pdf,json",
    sign_key: Path | None = None,
    tsa: str | None = None,
    tsa_ca: Path | None = None,
    argv: list[str] | None = None,
    operator: str | None = None,
    progress: Progress | None = None,
    force: bool = False,
    options: Settled | None = None,
    only: str | None = None,
    matter: Path | None = None,
) -> ReportResult:
    """The report stage, then the seal. ``options``: the settled ``report`` options (formats, tsa),
    recorded in case.json when the report is going to be made.

    A signed case is never resealed unsigned by a rerun: without ``sign_key`` the report is made
    as the signer's (same params), so an unchanged case stays a no-op, and a case that would have
    to be resealed is refused before anything is written."""
    from ..case_run import SealOptions, Step, check_signed_reseal, record_options, seal_signer

    progress = progress or NullProgress()
    case = Case(case_dir)
    if not case.exists():
        raise InputError(f"{case.root} is not an lsf case (no case.json): run `lsf extract VIDEO -C {case_dir}` first")
    fmts, signer = check_report_options(formats, sign_key, tsa, tsa_ca)
    statuses = parse_only(only)
    matter_bytes = read_matter_file(Path(matter)) if matter is not None else None
    with case.locked():
        case.require(case.findings_json, "detect -C CASE")
        kept = seal_signer(case) if sign_key is None else None
        stage = ReportStage(fmts, signer=signer or kept or None, tsa=tsa, argv=argv, only=statuses)
        new_matter = matter_bytes is not None and (not matter_path(case).is_file()
                                                   or matter_path(case).read_bytes() != matter_bytes)
        if kept:
            from ..evidence import manifest as mf

            if new_matter or not mf.manifest_is_current(case):
                raise InputError(f"case {case.root} is signed (key {kept[:16]}…) and this run changes it: give the "
                                 "signing key to reseal it (--sign-key KEY)")
            check_signed_reseal(case, [stage], SealOptions(), force=force)
        if new_matter:
            atomic_write_bytes(matter_path(case), matter_bytes)
        record_options(case, Step(stage, options), force=force, argv=argv, operator=operator)
        if force or not is_current(case, stage):
            keep_report(case)  # a sealed report about to be replaced is kept with its seal (seals/N/report/)
        sres = run_stage(case, stage, progress=progress, argv=argv, force=force, operator=operator)
        seal = seal_case(case, sign_key=sign_key, tsa=tsa, tsa_ca=tsa_ca, argv=argv, operator=operator,
                         force=force or not sres.skipped)
    return ReportResult(case.root, sres, seal)
