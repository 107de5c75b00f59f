"""Comparing two cases: the same voice, the same footage, the same product.

:func:`compare` reads only the files the per-case stages wrote (``voice.json``,
``fingerprints/``), so comparing is cheap and any pair of an archive can be compared long after
analysis. :func:`record_links` writes what was found into each case's ``links.json`` through a
stage (custody names the other case's files and their hashes), so each case's report can show
the links with their scores, thresholds, model and segments.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..case import Case, atomic_write_json, utc_now
from ..errors import InputError
from ..loaders import load_json_file
from ..progress import Progress
from ..stage import Stage, StageResult, run_stage
from .footage import AUDIO_FP, FOOTAGE_JSON, VIDEO_SIG, Footage, SharedRange, match_footage
from .products import PRODUCTS_JSON, ProductMatch, ProductView, compare_products, load_products
from .voice import VOICE_THRESHOLD, VoiceDoc, VoiceMatch, compare_voices

LINKS_SCHEMA = "lsf.links/1"
LINKS_JSON = "links.json"
SIGNAL_FILES = ("voice.json", FOOTAGE_JSON, AUDIO_FP, VIDEO_SIG, PRODUCTS_JSON)
KINDS = ("voice", "footage", "product")


@dataclass
class CaseSignals:
    """One case's comparable material, loaded once (a batch compares each case with many)."""

    root: Path
    case_id: str
    source_sha256: str | None
    voice: VoiceDoc | None
    footage: Footage
    products: list[ProductView]
    missing: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, root: str | os.PathLike[str]) -> CaseSignals:
        case = Case(root)
        if not case.exists():
            raise InputError(f"{case.root} is not an lsf case (no case.json)")
        info = case.info
        missing = [n for n in ("voice.json", FOOTAGE_JSON, PRODUCTS_JSON) if not (case.root / n).is_file()]
        voice = None
        if (case.root / "voice.json").is_file():
            voice = VoiceDoc.from_json(case.read_json(case.root / "voice.json"), case.rel(case.root / "voice.json"))
        return cls(case.root, str(info.get("case_id") or case.root.name), info.get("source_sha256"), voice,
                   Footage.load(case.root), load_products(case.root), missing)

    def files(self) -> list[Path]:
        return [self.root / n for n in SIGNAL_FILES if (self.root / n).is_file()]


@dataclass
class CaseLinks:
    a: CaseSignals
    b: CaseSignals
    voice: list[VoiceMatch]
    footage: list[SharedRange]
    products: list[ProductMatch]

    @property
    def same_voices(self) -> list[VoiceMatch]:
        return [m for m in self.voice if m.same]

    @property
    def kinds(self) -> list[str]:
        return [k for k, hit in zip(KINDS, (self.same_voices, self.footage, self.products), strict=True) if hit]

    def reasons(self) -> list[str]:
        """Why the two streams are linked, in words for a reader of the report."""
        out = []
        for m in self.same_voices:
            out.append(f"same voice: speaker {m.a_speaker} ({m.a_seconds:.0f} s of speech) and {m.b_speaker} "
                       f"({m.b_seconds:.0f} s) have cosine similarity {m.score:.3f} (threshold {m.threshold})")
        for r in self.footage:
            out.append(f"same {r.medium}: {_tc(r.a_start)}–{_tc(r.a_end)} of {self.a.case_id} is "
                       f"{_tc(r.b_start)}–{_tc(r.b_end)} of {self.b.case_id} ({r.seconds:.0f} s, score {r.score:.3f}, "
                       f"threshold {r.threshold})")
        for p in self.products:
            out.append(f"same product: {p.a.id} at {_tc(p.a.t)} and {p.b.id} at {_tc(p.b.t)} share {p.inliers} "
                       f"SIFT/RANSAC inliers (threshold {p.threshold})")
        return out

    def to_json(self, side: str = "a") -> dict[str, Any]:
        """As seen from case ``side`` (``a`` or ``b``): keys say "this" and "other" case."""
        if side == "b":
            return self.flipped().to_json("a")
        return {
            "case": self.a.case_id, "other_case": self.b.case_id, "other_case_path": str(self.b.root),
            "other_source_sha256": self.b.source_sha256, "kinds": self.kinds, "reasons": self.reasons(),
            "voice": [_this_other(m.to_json()) for m in self.voice],
            "footage": [_this_other(r.to_json()) for r in self.footage],
            "products": [_this_other(p.to_json()) for p in self.products],
            "model": self.a.voice.model if self.a.voice else None,
            "notes": [f"{c.case_id}: no {n}" for c in (self.a, self.b) for n in c.missing],
        }

    def flipped(self) -> CaseLinks:
        v = [VoiceMatch(m.b_speaker, m.a_speaker, m.score, m.threshold, m.b_segments, m.a_segments, m.b_seconds,
                        m.a_seconds) for m in self.voice]
        f = [SharedRange(r.medium, r.b_start, r.b_end, r.a_start, r.a_end, r.score, r.threshold, r.method)
             for r in self.footage]
        p = [ProductMatch(m.b, m.a, m.inliers, m.inlier_ratio, m.threshold) for m in self.products]
        return CaseLinks(self.b, self.a, v, f, p)


def _this_other(d: dict[str, Any]) -> dict[str, Any]:
    return {("this_" + k[2:] if k.startswith("a_") else "other_" + k[2:] if k.startswith("b_") else k): v
            for k, v in d.items()}


def _tc(t: float | None) -> str:
    if t is None:
        return "—"
    t = float(t)
    return f"{int(t // 3600):02d}:{int(t % 3600 // 60):02d}:{t % 60:04.1f}"


def compare_signals(a: CaseSignals, b: CaseSignals, *, voice_threshold: float = VOICE_THRESHOLD) -> CaseLinks:
    voice = compare_voices(a.voice, b.voice, voice_threshold) if a.voice and b.voice else []
    return CaseLinks(a, b, voice, match_footage(a.footage, b.footage), compare_products(a.products, b.products))


def compare(case_a: str | os.PathLike[str], case_b: str | os.PathLike[str]) -> CaseLinks:
    a, b = CaseSignals.load(case_a), CaseSignals.load(case_b)
    if a.root == b.root:
        raise InputError("compare needs two different cases")
    return compare_signals(a, b)


# -- links.json in each case ----------------------------------------------------------------


class LinksStage(Stage):
    """``links``: this case's links to other cases (``links.json``), entries replaced per other case."""

    name = "links"
    version = 1

    def __init__(self, links: list[dict[str, Any]], other_files: list[Path]):
        self.links, self.other_files = links, other_files

    def params(self) -> dict[str, Any]:
        return {"others": sorted(link["other_case_path"] for link in self.links), "voice_threshold": VOICE_THRESHOLD}

    def inputs(self, case: Case) -> list[Path]:
        own = [case.root / n for n in SIGNAL_FILES if (case.root / n).is_file()]
        return own + [p for p in self.other_files if p.is_file()]

    def outputs(self, case: Case) -> list[Path]:
        return [case.root / LINKS_JSON]

    def run(self, case: Case, progress: Progress) -> dict[str, Any]:
        path = case.root / LINKS_JSON
        old = read_links(case)
        replaced = {link["other_case_path"] for link in self.links}
        kept = [x for x in old if isinstance(x, dict) and x.get("other_case_path") not in replaced]
        new = [{**link, "compared": utc_now(), "tool_version": __version__} for link in self.links]
        links = sorted(kept + new, key=lambda x: str(x.get("other_case")))
        atomic_write_json(path, {"schema": LINKS_SCHEMA, "case": case.root.name, "links": links})
        return {"links": len(links), "linked": sum(1 for x in links if x.get("kinds"))}


def record_links(case_root: Path, links: list[CaseLinks], *, argv: list[str] | None = None,
                 operator: str | None = None) -> StageResult:
    """Write ``links`` (each with ``case_root`` as one side) into the case's links.json."""
    entries, files = [], []
    for link in links:
        side = "a" if link.a.root == Path(case_root).absolute() else "b"
        other = link.b if side == "a" else link.a
        entries.append(link.to_json(side))
        files += other.files()
    return run_stage(Case(case_root), LinksStage(entries, files), argv=argv, operator=operator)


def read_links(case: Case) -> list[dict[str, Any]]:
    path = case.root / LINKS_JSON
    if not path.is_file():
        return []
    try:
        doc = load_json_file(path, case.rel(path))
    except InputError:
        return []  # a damaged links.json links nothing (verify reports the damage)
    links = doc.get("links") if isinstance(doc, dict) else None
    return [x for x in links if isinstance(x, dict)] if isinstance(links, list) else []


# -- writing the links into both cases, and their reports --------------------------------------


@dataclass
class Reseal:
    """How to reseal a case whose report is refreshed with its links (as `lsf report` would)."""

    sign_key: Path | None = None
    tsa: str | None = None
    tsa_ca: Path | None = None

    def check(self, case_root: Path) -> None:
        """A signed or timestamped case keeps its seal only if the key / TSA is given again."""
        from ..evidence import manifest as mf

        if (case_root / mf.MANIFEST_SIG).is_file() and self.sign_key is None:
            raise InputError(f"{case_root} is signed: pass --sign-key to re-sign it with its links, "
                             "or --no-write to only compare")
        if (case_root / mf.MANIFEST_TSR).is_file() and self.tsa is None:
            raise InputError(f"{case_root} is timestamped: pass --tsa (and --tsa-ca) to re-stamp it with its links, "
                             "or --no-write to only compare")


def refresh_report(case_root: Path, reseal: Reseal, *, argv: list[str] | None = None,
                   operator: str | None = None) -> dict[str, Any] | None:
    """Rewrite the case's report (same formats as its last one) so it shows the links; reseal."""
    from ..custody import CustodyLog
    from ..report.stage import make_report

    case = Case(case_root)
    last = CustodyLog(case.custody).last("report") if case.custody.is_file() else None
    if last is None or not case.findings_json.is_file():
        return None
    formats = (last.get("params") or {}).get("formats") or "html,pdf,json"
    return make_report(case.root, formats=formats, sign_key=reseal.sign_key, tsa=reseal.tsa, tsa_ca=reseal.tsa_ca,
                       argv=argv, operator=operator).to_json()


def link_cases(links_by_case: dict[Path, list[CaseLinks]], reseal: Reseal | None = None, *,
               argv: list[str] | None = None, operator: str | None = None) -> dict[str, Any]:
    """Record each case's links and refresh its report. Every case is checked before any is written."""
    from ..report.stage import check_report_options

    reseal = reseal or Reseal()
    check_report_options("html", reseal.sign_key, reseal.tsa, reseal.tsa_ca)  # a wrong key fails here
    for root in links_by_case:
        reseal.check(Path(root))
    out: dict[str, Any] = {}
    for root, links in links_by_case.items():
        res = record_links(Path(root), links, argv=argv, operator=operator)
        rep = refresh_report(Path(root), reseal, argv=argv, operator=operator)
        out[str(root)] = {"links": res.result, "report": None if rep is None else rep["report"]["outputs"]}
    return out
