"""The report's "Capture" section: how the recording was made, in rows a lawyer can read."""

from __future__ import annotations

from typing import Any

from ..case import Case
from .chain import CaptureChain
from .layout import CaptureLayout, is_capture_case
from .timeline import summarize


def _seconds(x: Any) -> str:
    return f"{float(x):.1f} s" if isinstance(x, int | float) else "—"


def capture_view(case: Case) -> dict[str, Any] | None:
    """Rows ``[zh, en, value]`` and the gap list, or None when the case was not recorded by lsf."""
    if not is_capture_case(case.root):
        return None
    try:
        s = summarize(CaptureChain(CaptureLayout(case).chain).entries())
    except Exception:  # noqa: BLE001 - a damaged chain must not stop the report; verify says why
        return {"rows": [["采集链", "Capture chain", "unreadable: run lsf verify"]], "gaps": [], "summary": None}
    c = s["clock"]
    clock = (f"max |offset| {c['max_abs_offset']:.3f} s to {c['server']} ({len(c['offsets'])} checks)"
             if c["max_abs_offset"] is not None else "not known: " + ("; ".join(c["errors"]) or "not checked"))
    st = s["stamps"]
    rows = [
        ["来源地址", "Source URL", s["url"]],
        ["实际流地址", "Stream URL", f"{s['stream_url']} [{s['kind']}]" + (f" via {s['resolver']}" if s["resolver"] else "")],
        ["开始 (UTC)", "Start (UTC)", s["start"]],
        ["结束 (UTC)", "End (UTC)", f"{s['end']}" + ("" if s["ended"] else " (last session did not end normally)")],
        ["分段", "Segments", f"{s['segments']} closed segments, {_seconds(s['media_duration'])} of media, "
                            f"{s['sessions']} session(s); end: {s['end_reason'] or '—'}"],
        ["中断", "Gaps", f"{len(s['gaps'])} ({_seconds(s['gap_seconds'])} without data)"],
        ["受损输入", "Damaged input", ", ".join(f"segment {d['index']}" for d in s["damaged_segments"]) or "none reported by ffmpeg"],
        ["主机时钟", "Host clock vs NTP", clock],
        ["时间戳", "Chain timestamps", f"{st['stamped']} stamped, {st['pending']} pending" + (f" ({st['tsa']})" if st["tsa"] else "")
         if st["tsa"] else "none (recorded without --tsa)"],
        ["弹幕", "Chat", f"{s['chat_messages']} messages chained with their receive time"],
    ]
    if s.get("recording"):
        rows.append(["分析文件", "Analysed file", f"{s['recording']['path']} = the {s['recording']['segments']} segments "
                                               f"concatenated (sha256 {s['recording']['sha256']})"])
    gaps = [{"cause": g["cause"], "from": g["from"], "to": g["to"], "wall": _seconds(g["wall_s"]),
             "missing": _seconds(g["media_missing_s"]), "at": _seconds(g["at"]), "before": g["before_segment"]}
            for g in s["gaps"]]
    return {"rows": [[zh, en, "" if v is None else str(v)] for zh, en, v in rows], "gaps": gaps, "summary": s}
