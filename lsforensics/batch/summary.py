"""summary.csv / summary.parquet: one row per video, built from each case's own files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from ..case import atomic_output
from ..errors import InputError
from ..findings import SEVERITIES, FindingsDoc, timecode


def case_findings(case_dir: Path) -> FindingsDoc:
    """The case's findings; a missing or unreadable findings.json counts as none (the row says why)."""
    try:
        return FindingsDoc.load(case_dir / "findings.json", missing_ok=True)
    except InputError:
        return FindingsDoc([])


def manifest_columns(row: dict[str, Any]) -> dict[str, Any]:
    """The manifest row a case came from (lsf batch MANIFEST): its line, files and stream facts."""
    from ..case_options import STREAM_FIELDS

    doc = json.loads(row["row"]) if row.get("row") else {}
    stream = doc.get("stream") or {}
    return {"manifest_line": doc.get("line"), **{k: stream.get(k, "") for k in STREAM_FIELDS},
            "pages": json.dumps([Path(p).name for p in doc.get("pages") or []], ensure_ascii=False),
            "chats": json.dumps([Path(c).name for c in doc.get("chats") or []], ensure_ascii=False)}


def summary_row(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "path": row.get("video") or row["path"], "sha256": row.get("sha256"), "status": row["status"],
        "case": row.get("case_dir"), "duplicate_of": row.get("duplicate_of"),
        "duration_s": row.get("duration"), "wall_s": row.get("wall_s"), "error": row.get("error"),
    }
    out.update(manifest_columns(row))
    doc = case_findings(Path(row["case_dir"])) if row.get("case_dir") and row["status"] == "done" else FindingsDoc([])
    out["findings"] = len(doc)
    sev = Counter(f.severity for f in doc)
    for s in SEVERITIES:
        out[f"severity_{s}"] = sev.get(s, 0)
    for kind, n in sorted(Counter(f.kind for f in doc).items()):
        out[f"kind_{kind}"] = n
    out["brands"] = ";".join(doc.brands())
    if len(doc):
        top = doc.strongest(1)[0]
        what = " ".join(x for x in (top.kind, top.brand or "", top.term or "") if x)
        out["strongest"] = f"{what} @ {timecode(top.start, empty='')}".strip()
        out["strongest_quote"] = top.quote or ""
    else:
        out["strongest"] = out["strongest_quote"] = ""
    return out


def write_summary(rows: list[dict[str, Any]], out_dir: Path, clusters: dict[str, str] | None = None) -> pd.DataFrame:
    records = [summary_row(r) for r in rows]
    for r in records:
        r["cluster"] = (clusters or {}).get(r["path"], "")
    df = pd.DataFrame.from_records(records)
    kind_cols = sorted(c for c in df.columns if c.startswith("kind_"))
    for c in kind_cols:
        df[c] = df[c].fillna(0).astype(int)
    base = [c for c in df.columns if not c.startswith("kind_")]
    df = df[base + kind_cols]
    with atomic_output(out_dir / "summary.csv") as tmp:
        df.to_csv(tmp, index=False)
    with atomic_output(out_dir / "summary.parquet") as tmp:
        df.to_parquet(tmp, index=False)
    return df
