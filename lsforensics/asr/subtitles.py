"""SRT and WebVTT renderings of a transcript (the record only; candidates are not subtitles)."""

from __future__ import annotations

from .types import Transcript


def _ts(t: float, sep: str) -> str:
    ms = int(round(max(0.0, t) * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(tr: Transcript) -> str:
    blocks = []
    for n, s in enumerate(tr.segments, 1):
        blocks.append(f"{n}\n{_ts(s.start, ',')} --> {_ts(s.end, ',')}\n{s.text.strip()}\n")
    return "\n".join(blocks)


def to_vtt(tr: Transcript) -> str:
    out = ["WEBVTT", ""]
    for s in tr.segments:
        out += [f"{_ts(s.start, '.')} --> {_ts(s.end, '.')}", s.text.strip().replace("-->", "->"), ""]
    return "\n".join(out)
