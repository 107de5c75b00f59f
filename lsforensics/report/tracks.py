"""``report/findings.csv`` and the findings subtitle tracks ``findings.srt`` / ``findings.vtt``.

The subtitle tracks put each finding on screen at its time over the *original* video: copy one
next to the video with the video's name (``stream.srt``) or load it in VLC (Subtitle > Add
Subtitle File). Times are the case's clock, seconds from the video start. Cue text is case text,
so the characters a player would read as markup are neutralised (``<`` ``>`` in SRT, which VLC
renders as tags; ``&`` ``<`` ``>`` escaped in WebVTT, whose cues are markup).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from ..findings import timecode

MIN_CUE_S = 3.0  # a finding shorter than this stays on screen this long, to be readable
CSV_COLUMNS = ("id", "n", "start", "end", "timecode", "kind", "severity", "confidence", "source", "rule", "term",
               "matched", "brand", "quote", "legal_basis", "status", "reviewer", "reviewed", "note", "clip",
               "clip_sha256", "evidence")


def csv_cell(v: Any) -> str:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (case text is untrusted)."""
    s = "" if v is None else str(v)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def findings_csv(views: list[dict[str, Any]]) -> str:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for v in views:
        r = v.get("review") or {}
        clip = v.get("clip") or {}
        w.writerow([csv_cell(x) for x in (
            v["id"], v["n"], v["start"], v["end"], v["timecode"], v["kind"], v["severity"], v["confidence"],
            v["source"], v["rule"], v["term"], v["matched"], v["brand"], v["quote"], v["legal_basis"],
            r.get("status") or "unreviewed", r.get("reviewer"), r.get("time"), r.get("note"), clip.get("file"),
            clip.get("sha256"), ";".join(v["evidence"]))])
    return buf.getvalue()


def _cues(views: list[dict[str, Any]]) -> list[tuple[float, float, str]]:
    out = []
    for v in views:
        if v["start"] is None:
            continue
        a = float(v["start"])
        b = max(float(v["end"] if v["end"] is not None else a), a + MIN_CUE_S)
        status = (v.get("review") or {}).get("status") or "unreviewed"
        what = v["quote"] or v["matched"] or v["term"] or v["explanation"] or ""
        text = f"#{v['n']} {v['kind_label'][0]} / {v['kind_label'][1]} · {v['severity']} · {status}\n{what}"
        out.append((a, b, " ".join(text.split("\n", 1)[0].split()) + "\n" + " ".join(text.split("\n", 1)[1].split())))
    return sorted(out)


def findings_srt(views: list[dict[str, Any]]) -> str:
    lines = []
    for n, (a, b, text) in enumerate(_cues(views), 1):
        text = text.replace("<", "＜").replace(">", "＞").replace("{", "｛")  # VLC reads <i>, {\an8}
        lines.append(f"{n}\n{timecode(a).replace('.', ',')} --> {timecode(b).replace('.', ',')}\n{text}\n")
    return "\n".join(lines)


def findings_vtt(views: list[dict[str, Any]]) -> str:
    out = ["WEBVTT", "", "NOTE lsforensics findings; times are seconds from the start of the original video", ""]
    for a, b, text in _cues(views):
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("-->", "->")
        out += [f"{timecode(a)} --> {timecode(b)}", text, ""]
    return "\n".join(out)
