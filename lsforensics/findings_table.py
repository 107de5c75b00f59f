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
import math
from pathlib import Path
from typing import Any

from .batch.summary import timecode
from .case import Case
from .findings import SEVERITY_ORDER

TABLE_SCHEMA = "lsf.findings-table/1"
# (name, type): str | float | list[str] | list[float] | json
COLUMNS: tuple[tuple[str, str], ...] = (
    ("case", "str"), ("case_dir", "str"), ("video", "str"), ("video_sha256", "str"),
    ("platform", "str"), ("room", "str"), ("streamer", "str"), ("captured_at", "str"), ("url", "str"),
    ("id", "str"), ("kind", "str"), ("source", "str"), ("start", "float"), ("end", "float"),
    ("timecode", "str"), ("severity", "str"), ("confidence", "float"), ("brand", "str"), ("term", "str"),
    ("matched", "str"), ("match", "str"), ("rule", "str"), ("quote", "str"), ("explanation", "str"),
    ("evidence", "list[str]"), ("bbox", "list[float]"), ("extra", "json"),
)
COLUMN_NAMES = tuple(n for n, _ in COLUMNS)
_FINDING_FIELDS = frozenset({"id", "kind", "source", "start", "end", "severity", "confidence", "brand", "term",
                             "matched", "match", "rule", "quote", "explanation", "evidence", "bbox"})


def filter_findings(findings: list[dict[str, Any]], *, kinds: tuple[str, ...] | list[str] = (),
                    severity: str | None = None) -> list[dict[str, Any]]:
    """Findings of the given kinds (all when none) and at least ``severity``; each gets ``timecode``."""
    limit = SEVERITY_ORDER[severity] if severity else 9
    out = []
    for f in findings:
        if kinds and f.get("kind") not in kinds:
            continue
        if SEVERITY_ORDER.get(f.get("severity"), 9) > limit:
            continue
        out.append({**f, "timecode": timecode(f.get("start"))})
    return out


def _text(x: Any) -> str | None:
    if x is None:
        return None
    return x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) else None


def row(f: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """One finding as a table row (``context``: the case columns)."""
    ev = f.get("evidence")
    bbox = f.get("bbox")
    extra = {k: v for k, v in f.items() if k not in _FINDING_FIELDS and k != "timecode"}
    out = {n: _text(context.get(n)) for n in COLUMN_NAMES[:9]}
    out.update({
        "id": _text(f.get("id")), "kind": _text(f.get("kind")), "source": _text(f.get("source")),
        "start": _num(f.get("start")), "end": _num(f.get("end")), "timecode": timecode(f.get("start")),
        "severity": _text(f.get("severity")), "confidence": _num(f.get("confidence")),
        "brand": _text(f.get("brand")), "term": _text(f.get("term")), "matched": _text(f.get("matched")),
        "match": _text(f.get("match")), "rule": _text(f.get("rule")), "quote": _text(f.get("quote")),
        "explanation": _text(f.get("explanation")),
        "evidence": [str(x) for x in ev] if isinstance(ev, list) else [],
        "bbox": [v for v in (_num(x) for x in bbox) if v is not None] if isinstance(bbox, list) else [],
        "extra": json.dumps(extra, ensure_ascii=False, sort_keys=True, default=str),
    })
    return out


def case_context(case: Case, video: str | None = None) -> dict[str, Any]:
    """The case columns: id and folder, the source video, the stream facts of case.json."""
    try:
        info = case.info
    except Exception:  # noqa: BLE001 - a damaged case still lists its findings
        info = {}
    try:
        src = case.source
    except Exception:  # noqa: BLE001
        src = {}
    stream = info.get("stream") if isinstance(info.get("stream"), dict) else {}
    return {"case": info.get("case_id") or case.root.name, "case_dir": str(case.root),
            "video": video or src.get("path"), "video_sha256": src.get("sha256"), **stream}


def case_rows(case: Case, findings: list[dict[str, Any]] | None = None, video: str | None = None) -> list[dict[str, Any]]:
    if findings is None:
        doc = case.read_json(case.findings_json) if case.findings_json.is_file() else {}
        findings = list(doc.get("findings") or [])
    ctx = case_context(case, video)
    return [row(f, ctx) for f in findings]


def arrow_schema() -> Any:
    import pyarrow as pa

    types = {"str": pa.string(), "float": pa.float64(), "list[str]": pa.list_(pa.string()),
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
