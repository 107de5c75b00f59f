"""Review decisions (``review.jsonl``): a person's confirm / reject / unsure on each finding.

The file is hash-chained exactly like ``custody.jsonl`` (the same :class:`HashChainLog`): one JSON
object per line, ``prev`` = sha256 of the previous line's bytes, appended and never rewritten. A
later decision on the same finding supersedes an earlier one; both stay on record. Each line
names the sha256 of the finding *as reviewed*; when ``findings.json`` later says something else
about that id (detect reran with other rules), the decision is shown as ``changed``, never
silently carried over, and ``--only confirmed`` leaves it out until someone reviews it again.
"""

from __future__ import annotations

import socket
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..case import Case, utc_now
from ..custody import HashChainLog
from ..errors import InputError
from ..findings import FindingsDoc

REVIEW_FILE = "review.jsonl"
DECISIONS = ("confirmed", "rejected", "unsure")
STATUSES = (*DECISIONS, "changed", "unreviewed")
MAX_NOTE = 4000
FIELDS = ("seq", "time", "reviewer", "host", "session", "via", "finding", "finding_sha256", "decision", "note",
          "tool_version", "prev")


def review_path(case: Case) -> Path:
    return case.root / REVIEW_FILE


class ReviewLog(HashChainLog):
    FIELDS = FIELDS
    LABEL = "review log"

    def record(self, *, reviewer: str, session: str, via: str, finding: str, finding_sha256: str,
               decision: str, note: str) -> dict[str, Any]:
        return self.append_entry({
            "time": utc_now(), "reviewer": reviewer, "host": socket.gethostname(), "session": session, "via": via,
            "finding": finding, "finding_sha256": finding_sha256, "decision": decision, "note": note,
            "tool_version": __version__})


def new_session() -> str:
    return uuid.uuid4().hex[:12]


def check_decision(decision: Any, note: Any) -> tuple[str, str]:
    """A decision and note from untrusted input (browser, CSV, command line), or InputError."""
    d = str(decision or "").strip().lower()
    if d not in DECISIONS:
        raise InputError(f"decision {decision!r}: choose {', '.join(DECISIONS)}")
    n = "" if note is None else str(note)
    if len(n) > MAX_NOTE:
        raise InputError(f"note of {len(n)} characters: at most {MAX_NOTE}")
    if any(ord(c) < 32 and c not in "\n\t" for c in n):
        raise InputError("note contains control characters")
    return d, n


@dataclass
class Decision:
    seq: int
    time: str
    reviewer: str
    session: str
    via: str
    finding: str
    finding_sha256: str
    decision: str
    note: str

    @classmethod
    def from_entry(cls, e: dict[str, Any]) -> Decision:
        return cls(int(e.get("seq") or 0), str(e.get("time") or ""), str(e.get("reviewer") or ""),
                   str(e.get("session") or ""), str(e.get("via") or ""), str(e.get("finding") or ""),
                   str(e.get("finding_sha256") or ""), str(e.get("decision") or ""), str(e.get("note") or ""))

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class FindingStatus:
    id: str
    status: str  # confirmed | rejected | unsure | changed | unreviewed
    decision: Decision | None = None  # the latest one
    history: list[Decision] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.status == "changed"

    def to_json(self) -> dict[str, Any]:
        d = self.decision
        return {"id": self.id, "status": self.status, "decision": d.decision if d else None,
                "reviewer": d.reviewer if d else None, "time": d.time if d else None, "note": d.note if d else None,
                "session": d.session if d else None, "decisions": len(self.history)}


@dataclass
class ReviewState:
    statuses: dict[str, FindingStatus]
    orphans: list[Decision]  # decisions about ids that findings.json no longer has
    lines: int
    sessions: list[str]

    def counts(self) -> dict[str, int]:
        c = Counter(s.status for s in self.statuses.values())
        return {s: c.get(s, 0) for s in STATUSES}

    @property
    def reviewed(self) -> int:
        return sum(1 for s in self.statuses.values() if s.status in DECISIONS)

    def reviewers(self) -> list[str]:
        return sorted({s.decision.reviewer for s in self.statuses.values() if s.decision})

    def summary(self) -> dict[str, Any]:
        return {"findings": len(self.statuses), "reviewed": self.reviewed, "by_status": self.counts(),
                "reviewers": self.reviewers(), "decisions": self.lines, "sessions": len(self.sessions),
                "orphans": [o.to_json() for o in self.orphans]}


def review_state(case: Case, doc: FindingsDoc) -> ReviewState:
    """Each finding's latest decision, checked against the finding as it is now."""
    log = ReviewLog(review_path(case))
    entries = log.entries()
    by_finding: dict[str, list[Decision]] = {}
    sessions: list[str] = []
    for e in entries:
        if not isinstance(e, dict):
            continue
        d = Decision.from_entry(e)
        by_finding.setdefault(d.finding, []).append(d)
        if d.session and d.session not in sessions:
            sessions.append(d.session)
    statuses: dict[str, FindingStatus] = {}
    for f in doc:
        fid = str(f.id)
        hist = by_finding.get(fid, [])
        if not hist:
            statuses[fid] = FindingStatus(fid, "unreviewed")
            continue
        last = hist[-1]
        same = last.finding_sha256 == doc.digests.get(fid)
        statuses[fid] = FindingStatus(fid, last.decision if same else "changed", last, hist)
    known = set(statuses)
    orphans = [hist[-1] for fid, hist in by_finding.items() if fid not in known]
    return ReviewState(statuses, orphans, len(entries), sessions)


def parse_only(text: str | None) -> set[str] | None:
    """``--only confirmed`` / ``confirmed,unsure``: which statuses a report shows (None: all)."""
    if not text:
        return None
    out = {t.strip().lower() for t in text.split(",") if t.strip()}
    bad = sorted(out - set(STATUSES))
    if bad or not out:
        raise InputError(f"--only {text!r}: choose from {', '.join(STATUSES)} (comma-separated)")
    return out
