"""A review session: decisions appended to ``review.jsonl``, the session recorded in custody.

Every way of reviewing (the browser page, ``--set``, ``--import``) goes through
:class:`ReviewSession`: it checks each decision against ``findings.json``, appends it to the
chained ``review.jsonl`` at once (a crash loses nothing decided), and on close appends one
``review`` custody entry naming the findings it reviewed (by hash) and the review log it
extended. A session that never closed (killed browser session) is recorded in custody by the
next one, so the custody log always accounts for every decision line.
"""

from __future__ import annotations

import csv
import io
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from ..case import Case, utc_now
from ..custody import CustodyLog
from ..errors import InputError
from ..evidence.hashing import sha256_file
from ..findings import FindingsDoc, timecode
from ..report.tracks import csv_cell
from .decisions import (
    DECISIONS,
    ReviewLog,
    ReviewState,
    check_decision,
    new_session,
    review_path,
    review_state,
)

MAX_IMPORT_BYTES = 16 * 1024 * 1024
MAX_IMPORT_ROWS = 200_000
# status/reviewer/time/last_note: the review so far; decision/note: left empty to be filled in and
# imported back (so re-importing an unedited export records nothing).
EXPORT_COLUMNS = ("id", "n", "timecode", "kind", "severity", "source", "rule", "term", "matched", "quote", "status",
                  "last_decision", "reviewer", "time", "last_note", "decision", "note")


def _rec(case: Case, path: Path) -> list[dict[str, Any]]:
    return [{"path": case.rel(path), "sha256": sha256_file(path)}] if path.is_file() else []


class ReviewSession:
    def __init__(self, case: Case, doc: FindingsDoc, *, reviewer: str, via: str, argv: list[str] | None = None):
        self.case, self.doc, self.reviewer, self.via, self.argv = case, doc, reviewer, via, argv
        self.session = new_session()
        self.started = utc_now()
        self.counts: Counter[str] = Counter()
        self.closed = False
        self._lock = threading.Lock()
        self._log = ReviewLog(review_path(case))
        self._digests = doc.digests
        self._inputs = _rec(case, case.findings_json)

    def decide(self, finding: str, decision: str, note: str = "", *, reviewer: str | None = None) -> dict[str, Any]:
        fid = str(finding or "").strip()
        if fid not in self._digests:
            raise InputError(f"finding {finding!r} is not in findings.json")
        d, n = check_decision(decision, note)
        with self._lock:
            if self.closed:
                raise InputError("the review session is closed")
            entry = self._log.record(reviewer=reviewer or self.reviewer, session=self.session, via=self.via,
                                     finding=fid, finding_sha256=self._digests[fid], decision=d, note=n)
            self.counts[d] += 1
        return entry

    def state(self) -> ReviewState:
        return review_state(self.case, self.doc)

    def close(self) -> dict[str, Any] | None:
        """Append the session's custody entry (nothing when no decision was made)."""
        with self._lock:
            if self.closed:
                return None
            self.closed = True
            if not self.counts:
                return None
            return _custody(self.case, self.session, self.reviewer, self.via, self.started, dict(self.counts),
                            self._inputs, self.argv)


def _custody(case: Case, session: str, reviewer: str, via: str, started: str, counts: dict[str, int],
             inputs: list[dict[str, Any]], argv: list[str] | None, note: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"session": session, "started": started, "ended": utc_now(),
                              "decisions": sum(counts.values()), "by_decision": counts}
    if note:
        result["note"] = note
    exhibits = case.root / "exhibits" / "exhibits.json"
    return CustodyLog(case.custody).append(
        "review", inputs=inputs + _rec(case, exhibits), outputs=_rec(case, review_path(case)),
        params={"session": session, "reviewer": reviewer, "via": via}, argv=argv, operator=reviewer, result=result)


def record_unclosed_sessions(case: Case, argv: list[str] | None = None) -> list[str]:
    """Custody entries for sessions whose decisions are in review.jsonl but that never closed."""
    log = ReviewLog(review_path(case))
    if not log.path.is_file():
        return []
    closed = {str((e.get("params") or {}).get("session")) for e in CustodyLog(case.custody).entries()
              if isinstance(e, dict) and e.get("action") == "review"}
    pending: dict[str, dict[str, Any]] = {}
    for e in log.entries():
        s = str(e.get("session") or "")
        if s and s not in closed:
            p = pending.setdefault(s, {"reviewer": str(e.get("reviewer") or ""), "via": str(e.get("via") or ""),
                                       "started": str(e.get("time") or ""), "counts": Counter()})
            p["counts"][str(e.get("decision"))] += 1
    for s, p in pending.items():
        _custody(case, s, p["reviewer"], p["via"], p["started"], dict(p["counts"]), _rec(case, case.findings_json),
                 argv, note="session ended without closing (a killed process); recorded by the next review")
    return list(pending)


# -- scripted review -------------------------------------------------------------------------
def parse_set(items: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    """``--set ID=confirmed`` items, checked before anything is written."""
    out = []
    for item in items:
        fid, sep, decision = item.partition("=")
        if not sep or not fid.strip():
            raise InputError(f"--set {item!r}: expected FINDING_ID=DECISION ({'/'.join(DECISIONS)})")
        check_decision(decision, "")
        out.append((fid.strip(), decision.strip().lower()))
    return out


def read_decisions_csv(path: Path) -> list[dict[str, str]]:
    """Rows ``id, decision[, note][, reviewer]`` from a CSV (e.g. an edited ``--export``).

    Rows with an empty decision are skipped, so an export can be filled in and imported back.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"--import {path}: cannot read ({exc.strerror})") from None
    if size > MAX_IMPORT_BYTES:
        raise InputError(f"--import {path}: {size} bytes, more than {MAX_IMPORT_BYTES}")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"--import {path}: not UTF-8 text") from None
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        cols = {c.strip().lower(): c for c in reader.fieldnames or []}
        if "decision" not in cols or not ({"id", "finding"} & set(cols)):
            raise InputError(f"--import {path}: needs an 'id' (or 'finding') and a 'decision' column")
        rows = []
        for n, row in enumerate(reader, 2):
            if n > MAX_IMPORT_ROWS:
                raise InputError(f"--import {path}: more than {MAX_IMPORT_ROWS} rows")
            def get(k: str, row: dict[str, Any] = row) -> str:
                return (row.get(cols[k]) or "").strip() if k in cols else ""

            decision = get("decision")
            if not decision:
                continue
            note = (row.get(cols["note"]) or "") if "note" in cols else ""
            if note[:2] in ("'=", "'+", "'-", "'@"):  # undo export's spreadsheet-formula guard
                note = note[1:]
            try:
                check_decision(decision, note)
            except InputError as exc:
                raise InputError(f"--import {path} line {n}: {exc}") from None
            rows.append({"id": get("id") or get("finding"), "decision": decision.lower(), "note": note,
                         "reviewer": get("reviewer"), "line": str(n)})
    except csv.Error as exc:
        raise InputError(f"--import {path}: not a readable CSV ({exc})") from None
    return rows


def check_rows(doc: FindingsDoc, rows: list[dict[str, str]]) -> None:
    """Every scripted decision names a finding of findings.json (checked before anything is written)."""
    for r in rows:
        if r["id"] not in doc.digests:
            where = f" (line {r['line']})" if r.get("line") else ""
            raise InputError(f"finding {r['id']!r}{where} is not in findings.json")


def apply_scripted(case: Case, doc: FindingsDoc, rows: list[dict[str, str]], *, reviewer: str, via: str,
                   argv: list[str] | None = None) -> dict[str, Any]:
    """Record scripted decisions as one session; every row is checked before the first is written.

    A row that repeats the finding's current decision and note is skipped (re-importing an
    export changes nothing).
    """
    check_rows(doc, rows)
    state = review_state(case, doc)
    session = ReviewSession(case, doc, reviewer=reviewer, via=via, argv=argv)
    skipped = 0
    for r in rows:
        cur = state.statuses[r["id"]]
        if cur.decision and cur.status == r["decision"] and cur.decision.note == r["note"]:
            skipped += 1
            continue
        session.decide(r["id"], r["decision"], r["note"], reviewer=r.get("reviewer") or None)
    entry = session.close()
    return {"session": session.session, "recorded": sum(session.counts.values()), "unchanged": skipped,
            "by_decision": dict(session.counts), "custody_seq": entry["seq"] if entry else None}


def export_rows(doc: FindingsDoc, state: ReviewState) -> list[dict[str, Any]]:
    rows = []
    for f in doc.in_time_order():
        st = state.statuses[str(f.id)]
        d = st.decision
        rows.append({"id": f.id, "n": f.n, "timecode": timecode(f.start, empty=""), "kind": f.kind,
                     "severity": f.severity, "source": f.source, "rule": f.rule, "term": f.term,
                     "matched": f.matched, "quote": f.quote, "status": st.status,
                     "last_decision": d.decision if d else "", "reviewer": d.reviewer if d else "",
                     "time": d.time if d else "", "last_note": d.note if d else "", "decision": "", "note": ""})
    return rows


def export_csv(doc: FindingsDoc, state: ReviewState) -> str:
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=EXPORT_COLUMNS, lineterminator="\r\n")
    w.writeheader()
    for row in export_rows(doc, state):
        w.writerow({k: csv_cell(v) for k, v in row.items()})
    return buf.getvalue()
