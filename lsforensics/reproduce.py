"""``lsf reproduce``: rerun detection from what the case archived, and say what differs.

The other side's expert holds the sealed case and any lsf. Detection is deterministic given its
inputs, and every input is inside the case: the transcript, the on-screen text, the sampled
frames, the chat and product pages as copied in, and the rule set archived in ``CASE/rules/``.
So :func:`reproduce` copies those files into a scratch case (the case itself is never written),
checks that they are the very bytes the case's ``detect`` custody entry says it read, runs the
detect stage on them with the archived rules, and compares the new ``findings.json`` and evidence
crops with the case's own, finding by finding.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .case import Case
from .custody import CustodyLog
from .errors import InputError
from .evidence.hashing import digest_path
from .findings import Finding, FindingsDoc
from .progress import NullProgress, Progress
from .stage import StageResult, run_stage

# Case files detection may read, copied into the scratch case (folders whole).
INPUTS = ("case.json", "source.json", "transcript.json", "ocr.json", "chat.json", "chat", "pages.json", "pages",
          "media/frames.json", "media/frames", "rules")


@dataclass
class ReproduceResult:
    case: str
    work: str | None  # the scratch case, when kept
    stage: StageResult | None
    identical: bool = False
    findings_before: int = 0
    findings_after: int = 0
    added: list[dict[str, Any]] = field(default_factory=list)  # found now, not in the case
    removed: list[dict[str, Any]] = field(default_factory=list)  # in the case, not found now
    changed: list[dict[str, Any]] = field(default_factory=list)  # {id, fields {name: [case, now]}}
    evidence_same: bool = True
    inputs: list[dict[str, Any]] = field(default_factory=list)  # {path, recorded, now, same}
    rules_sha256: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"case": self.case, "work": self.work, "identical": self.identical,
                "findings": {"case": self.findings_before, "reproduced": self.findings_after},
                "added": self.added, "removed": self.removed, "changed": self.changed,
                "evidence_same": self.evidence_same, "inputs": self.inputs, "rules_sha256": self.rules_sha256,
                "notes": self.notes}


def _short(f: Finding) -> dict[str, Any]:
    return {"id": f.id, "n": f.n, "kind": f.kind, "source": f.source, "start": f.start, "brand": f.brand,
            "term": f.term, "matched": f.matched, "rule": f.rule, "severity": f.severity}


def compare_findings(before: FindingsDoc, after: FindingsDoc, res: ReproduceResult) -> None:
    """Finding by finding, by id (an id is what the finding is: kind, rule, source, time, text)."""
    old, new = before.by_id(), after.by_id()
    res.removed = [_short(old[k]) for k in old if k not in new]
    res.added = [_short(new[k]) for k in new if k not in old]
    for k in sorted(old.keys() & new.keys()):
        if before.digests.get(k) == after.digests.get(k):
            continue
        a, b = old[k].to_dict(), new[k].to_dict()
        diff = {name: [a.get(name), b.get(name)] for name in sorted(set(a) | set(b))
                if name != "n" and a.get(name) != b.get(name)}
        res.changed.append({"id": k, "kind": old[k].kind, "fields": diff})


def _copy_inputs(case: Case, dest: Path) -> None:
    dest.mkdir(parents=True)
    for rel in INPUTS:
        src = case.root / rel
        if src.is_symlink():
            raise InputError(f"{case.rel(src)} is a symlink: a case holds plain files only (run lsf verify)")
        if src.is_dir():
            shutil.copytree(src, dest / rel, symlinks=True)
        elif src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _check_inputs(case: Case, work: Case, res: ReproduceResult) -> None:
    """The copied inputs must be what the case's last detect read (custody), else say which differ."""
    last = CustodyLog(case.custody).last("detect") if case.custody.is_file() else None
    if last is None:
        res.notes.append("the case's custody log records no detect run: its inputs could not be checked")
        return
    for rec in last.get("inputs") or []:
        rel = str(rec.get("path") or "")
        if rel.startswith("/"):
            continue  # outside the case (older cases: a rules folder)
        p = work.root / rel.rstrip("/")
        now = digest_path(p) if p.exists() else None
        res.inputs.append({"path": rel, "recorded": rec.get("sha256"), "now": now, "same": now == rec.get("sha256")})
    bad = [i["path"] for i in res.inputs if not i["same"]]
    if bad:
        res.notes.append("inputs differ from the ones the case's detect run read (custody): " + ", ".join(bad))


def reproduce(case_dir: str | Path, *, work: Path | None = None, progress: Progress | None = None) -> ReproduceResult:
    """Rerun the detect stage on a copy of the case's archived inputs; compare with its findings.

    ``work``: a folder to keep the reproduced case in (default: a temporary folder, removed)."""
    from .case_rules import has_archive, load_archived
    from .detect.stage import DetectStage

    progress = progress or NullProgress()
    case = Case(case_dir)
    if not case.exists():
        raise InputError(f"{case_dir} is not an lsf case (no case.json)")
    case.require(case.findings_json, "detect -C CASE")
    if not has_archive(case):
        raise InputError(f"case {case.root} holds no archived rules (CASE/rules/, made by lsf 0.2 and later): its "
                         "findings cannot be reproduced from the case alone")
    if work is not None and work.exists() and any(work.iterdir()):
        raise InputError(f"--work {work}: not empty; give a new folder")
    scratch = Path(tempfile.mkdtemp(prefix="lsf-reproduce-")) if work is None else work
    try:
        work_case = Case(scratch / "case")
        _copy_inputs(case, work_case.root)
        rules = load_archived(work_case)  # checked against rules.json: an edited archive stops here
        res = ReproduceResult(str(case.root), str(work_case.root) if work is not None else None, None,
                              rules_sha256=rules.sha256)
        _check_inputs(case, work_case, res)
        res.stage = run_stage(work_case, DetectStage(rules=rules), progress=progress, argv=["lsf", "reproduce"],
                              force=True)
        before = FindingsDoc.load(case.findings_json)
        after = FindingsDoc.load(work_case.findings_json)
        res.findings_before, res.findings_after = len(before), len(after)
        if before.rules_sha256 != rules.sha256:
            res.notes.append(f"findings.json names rules {str(before.rules_sha256)[:16]}…, the archive holds "
                             f"{rules.sha256[:16]}…")
        compare_findings(before, after, res)
        ev_case, ev_now = case.root / "evidence", work_case.root / "evidence"
        res.evidence_same = (digest_path(ev_case) if ev_case.exists() else None) == (
            digest_path(ev_now) if ev_now.exists() else None)
        if not res.evidence_same:
            res.notes.append("the evidence crops (evidence/) differ from the case's")
        res.identical = (not (res.added or res.removed or res.changed) and res.evidence_same
                         and before.rules_sha256 == after.rules_sha256
                         and all(i["same"] for i in res.inputs))
        return res
    finally:
        if work is None:
            shutil.rmtree(scratch, ignore_errors=True)
