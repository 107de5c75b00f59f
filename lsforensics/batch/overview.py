"""``index.html``: one self-contained page over a batch, linking every case's own report.

One row per case: its report (a relative link, so the batch folder can be moved or copied whole),
the video, the stream facts of its manifest row, the severity counts, the brands implied and the
strongest finding. The table sorts by clicking a column (severity, findings, brand, platform,
captured time, status), or on load with ``index.html#sort=severity`` / ``#sort=brand``.

Nothing is loaded from anywhere (no CDN; a Content-Security-Policy allows only the page's own
script, by its hash). Every piece of case text (names, quotes, streamer names, URLs, errors) is
untrusted and is escaped by Jinja2's autoescape; the script reads only ``data-*`` attributes and
never builds markup. The template and script ship as package data (``batch/templates/``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from .. import __version__
from ..case import atomic_write_text
from ..case_options import STREAM_FIELDS
from ..findings import timecode
from .summary import case_findings

RANK = {"high": 3, "medium": 2, "low": 1}


def _template(name: str) -> str:
    return (resources.files("lsforensics.batch") / "templates" / name).read_text(encoding="utf-8")


def _case_view(row: dict[str, Any], out: Path) -> dict[str, Any]:
    doc = json.loads(row["row"]) if row.get("row") else {}
    stream = {k: (doc.get("stream") or {}).get(k, "") for k in STREAM_FIELDS}
    case_dir = Path(row["case_dir"]) if row.get("case_dir") else None
    doc = case_findings(case_dir) if case_dir and row["status"] in ("done", "duplicate") else None
    findings = doc.findings if doc is not None else []
    sev = Counter(f.severity for f in findings)
    top = doc.strongest(1)[0] if findings else None
    report = None
    if case_dir is not None and (case_dir / "report" / "report.html").is_file():
        try:
            report = (case_dir / "report" / "report.html").relative_to(out).as_posix()
        except ValueError:
            report = (case_dir / "report" / "report.html").as_uri()
    brands = doc.brands() if doc is not None else []
    top_sev = top.severity if top else ""
    return {
        "name": case_dir.name if case_dir else Path(row.get("video") or row["path"]).name,
        "video": Path(row.get("video") or row["path"]).name, "report": report, "status": row["status"],
        "error": row.get("error") or "", "findings": len(findings),
        "high": sev.get("high", 0), "medium": sev.get("medium", 0), "low": sev.get("low", 0),
        "top_severity": top_sev,
        "severity_rank": RANK.get(top_sev, 0) * 10**9 + min(sev.get("high", 0), 999) * 10**6
        + min(sev.get("medium", 0), 999) * 10**3 + min(sev.get("low", 0), 999),
        "brands": brands, "brand_key": (brands[0].lower() if brands else "\uffff"),
        "platform_key": " ".join(stream[k] for k in ("platform", "room", "streamer")).strip() or "\uffff",
        **stream,
        "strongest": None if top is None else {
            "kind": top.kind, "severity": top.severity, "timecode": timecode(top.start),
            "what": " ".join(str(x) for x in (top.brand, top.term) if x), "quote": str(top.quote or "")[:200]},
    }


def render_overview(rows: list[dict[str, Any]], out: Path, title: str | None = None) -> str:
    import jinja2

    script = _template("overview.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    cases = [_case_view(r, out) for r in rows]
    counts = Counter(c["status"] for c in cases)
    return env.from_string(_template("overview.html")).render(
        title=title or out.name, cases=cases, script=script, script_hash=f"sha256-{digest}",
        counts=", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no videos",
        total_findings=sum(c["findings"] for c in cases if c["status"] == "done"),
        made=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"), version=__version__)


def write_overview(rows: list[dict[str, Any]], out: Path) -> str:
    """Write ``OUT/index.html``; return its path."""
    path = out / "index.html"
    atomic_write_text(path, render_overview(rows, out))
    return str(path)
