"""summary.csv / summary.parquet: one row per video, built from each case's own files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from ..case import atomic_output
from ..findings import SEVERITY_ORDER

SEVERITIES = ("high", "medium", "low")


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def strength(f: dict[str, Any]) -> tuple:
    return (SEVERITY_ORDER.get(f.get("severity"), 9), -(f.get("confidence") or 0.0), f.get("start") or 0.0)


def timecode(t: float | None) -> str:
    if t is None:
        return ""
    t = float(t)
    return f"{int(t // 3600):02d}:{int(t % 3600 // 60):02d}:{t % 60:06.3f}"


def case_findings(case_dir: Path) -> list[dict[str, Any]]:
    doc = _load(case_dir / "findings.json") or {}
    return list(doc.get("findings") or [])


def implied_brands(findings: list[dict[str, Any]]) -> list[str]:
    return sorted({f["brand"] for f in findings if f.get("brand")})


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
    findings = case_findings(Path(row["case_dir"])) if row.get("case_dir") and row["status"] == "done" else []
    out["findings"] = len(findings)
    sev = Counter(f.get("severity") for f in findings)
    for s in SEVERITIES:
        out[f"severity_{s}"] = sev.get(s, 0)
    for kind, n in sorted(Counter(f.get("kind") for f in findings).items()):
        out[f"kind_{kind}"] = n
    out["brands"] = ";".join(implied_brands(findings))
    if findings:
        top = min(findings, key=strength)
        what = " ".join(str(x) for x in (top.get("kind"), top.get("brand") or "", top.get("term") or "") if x)
        out["strongest"] = f"{what} @ {timecode(top.get('start'))}".strip()
        out["strongest_quote"] = top.get("quote") or ""
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
