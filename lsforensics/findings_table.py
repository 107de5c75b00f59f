"""One row per finding, across one case or a whole batch, in a schema that never changes shape.

``lsf batch`` writes ``findings.parquet`` and ``findings.csv``; ``lsf findings CASE --csv`` writes the
same columns for one case. The columns (:data:`COLUMNS`) and their types are fixed, whatever the
findings of a batch are, so two batches can be concatenated or compared without reshaping: the
case and the stream it came from (video, platform, room, streamer, captured_at, url), then the
finding's own fields. Lists stay lists (Parquet ``list<string>`` / ``list<double>``; JSON arrays
in CSV, never ``;``-joined strings), and any kind-specific field (a spec mismatch's ``claim``
and ``spec``, a price anomaly's ``price``/``reference``/``ratio`` …) is kept in ``extra``, a JSON
object.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from .case import Case
from .findings import SEVERITY_ORDER, Finding, FindingsDoc, as_number, timecode

TABLE_SCHEMA = "lsf.findings-table/1"
# (name, type): str | int | float | list[str] | list[float] | json
COLUMNS: tuple[tuple[str, str], ...] = (
    ("case", "str"), ("case_dir", "str"), ("video", "str"), ("video_sha256", "str"),
    ("platform", "str"), ("room", "str"), ("streamer", "str"), ("captured_at", "str"), ("url", "str"),
    ("id", "str"), ("n", "int"), ("kind", "str"), ("source", "str"), ("start", "float"), ("end", "float"),
    ("timecode", "str"), ("severity", "str"), ("confidence", "float"), ("brand", "str"), ("term", "str"),
    ("matched", "str"), ("match", "str"), ("rule", "str"), ("quote", "str"), ("explanation", "str"),
    ("evidence", "list[str]"), ("bbox", "list[float]"), ("extra", "json"),
)
COLUMN_NAMES = tuple(n for n, _ in COLUMNS)
CASE_COLUMNS = COLUMN_NAMES[:9]


def filter_findings(doc: FindingsDoc, *, kinds: tuple[str, ...] | list[str] = (),
                    severity: str | None = None) -> list[Finding]:
    """Findings of the given kinds (all when none) and at least ``severity``, in time order."""
    limit = SEVERITY_ORDER[severity] if severity else 9
    return [f for f in doc.in_time_order()
            if (not kinds or f.kind in kinds) and SEVERITY_ORDER.get(f.severity, 9) <= limit]


def _text(x: Any) -> str | None:
    if x is None:
        return None
    return x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)


def row(f: Finding, context: dict[str, Any]) -> dict[str, Any]:
    """One finding as a table row (``context``: the case columns)."""
    out: dict[str, Any] = {n: _text(context.get(n)) for n in CASE_COLUMNS}
    out.update({
        "id": _text(f.id), "n": f.n if isinstance(f.n, int) else None, "kind": _text(f.kind),
        "source": _text(f.source), "start": as_number(f.start), "end": as_number(f.end),
        "timecode": timecode(f.start, empty=""), "severity": _text(f.severity), "confidence": as_number(f.confidence),
        "brand": _text(f.brand), "term": _text(f.term), "matched": _text(f.matched), "match": _text(f.match),
        "rule": _text(f.rule), "quote": _text(f.quote), "explanation": _text(f.explanation),
        "evidence": [str(x) for x in f.evidence or []],
        "bbox": [v for v in (as_number(x) for x in f.bbox or []) if v is not None],
        "extra": json.dumps(f.extra, ensure_ascii=False, sort_keys=True, default=str),
    })
    return out


def case_context(case: Case, video: str | None = None) -> dict[str, Any]:
    """The case columns: id and folder, the source video, the stream facts of case.json."""
    def safe(read: Any) -> dict[str, Any]:
        try:
            got = read()
        except Exception:  # noqa: BLE001 - a damaged case still lists its findings
            return {}
        return got if isinstance(got, dict) else {}

    info = safe(lambda: case.info)
    src = safe(lambda: case.source)
    stream = info.get("stream") if isinstance(info.get("stream"), dict) else {}
    return {"case": info.get("case_id") or case.root.name, "case_dir": str(case.root),
            "video": video or src.get("path"), "video_sha256": src.get("sha256"), **stream}


def case_rows(case: Case, findings: list[Finding] | None = None, video: str | None = None) -> list[dict[str, Any]]:
    if findings is None:
        findings = FindingsDoc.load(case.findings_json, missing_ok=True).in_time_order()
    ctx = case_context(case, video)
    return [row(f, ctx) for f in findings]


def arrow_schema() -> Any:
    import pyarrow as pa

    types = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "list[str]": pa.list_(pa.string()),
             "list[float]": pa.list_(pa.float64()), "json": pa.string()}
    return pa.schema([pa.field(n, types[t]) for n, t in COLUMNS],
                     metadata={"schema": TABLE_SCHEMA, "extra": "JSON object of the finding's other fields"})


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMN_NAMES)
    for r in rows:
        w.writerow(["" if r[n] is None else json.dumps(r[n], ensure_ascii=False) if isinstance(r[n], list)
                    else r[n] for n in COLUMN_NAMES])
    return buf.getvalue()


def write_table(rows: list[dict[str, Any]], out_dir: Path) -> list[Path]:
    """``findings.parquet`` and ``findings.csv`` in ``out_dir`` (atomic), the same rows in both."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .case import atomic_output, atomic_write_text

    table = pa.Table.from_pylist(rows, schema=arrow_schema())
    with atomic_output(out_dir / "findings.parquet") as tmp:
        pq.write_table(table, tmp)
    atomic_write_text(out_dir / "findings.csv", to_csv(rows))
    return [out_dir / "findings.parquet", out_dir / "findings.csv"]
