"""What a capture chain says, read back: segments in order, gaps, media offsets, a summary.

One reader for the recorder (resume), verify, the remux, the chat mapping and the report, so
the capture's story is told from the chain alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def parse_time(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass
class Segment:
    index: int
    file: str
    sha256: str
    size: int
    duration: float
    offset: float  # seconds from the start of recording.ts (segments back to back)
    received_start: float | None  # unix
    received: float | None
    entry: dict[str, Any]


@dataclass
class Timeline:
    segments: list[Segment] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    starts: list[dict[str, Any]] = field(default_factory=list)
    ends: list[dict[str, Any]] = field(default_factory=list)
    partials: list[dict[str, Any]] = field(default_factory=list)
    chat: list[dict[str, Any]] = field(default_factory=list)
    stamps: list[dict[str, Any]] = field(default_factory=list)
    clocks: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def media_duration(self) -> float:
        return round(sum(s.duration for s in self.segments), 3)

    @property
    def sessions(self) -> int:
        return max((int(e.get("session") or 0) for e in self.starts), default=0)

    @property
    def ended(self) -> bool:
        """True when the last session wrote its end line (it was not killed)."""
        return bool(self.ends) and int(self.ends[-1].get("session") or 0) == self.sessions

    def media_time(self, wall: float) -> tuple[float, bool]:
        """The recording.ts position being received at host time ``wall``; True when in a gap.

        Linear inside a segment's receive window. Precision is about one segment: a live
        segment arrives whole after it was made.
        """
        seen = False
        for s in self.segments:
            a, b = s.received_start, s.received
            if a is None or b is None:
                continue
            if wall < a:  # before this segment's window: before the first one, or in a gap
                return (round(s.offset, 3), seen)
            if wall <= b:
                frac = (wall - a) / (b - a) if b > a else 1.0
                return (round(s.offset + frac * s.duration, 3), False)
            seen = True
        return (self.media_duration, bool(self.segments))


def read_timeline(entries: list[dict[str, Any]]) -> Timeline:
    tl = Timeline()
    offset = 0.0
    buckets = {"gap": tl.gaps, "start": tl.starts, "end": tl.ends, "partial": tl.partials, "chat": tl.chat,
               "stamp": tl.stamps, "clock": tl.clocks}
    for e in entries:
        kind = e.get("kind")
        if kind == "segment":
            try:
                dur = max(float(e.get("duration") or 0.0), 0.0)
                seg = Segment(int(e["index"]), str(e["file"]), str(e["sha256"]), int(e["size"]), dur, offset,
                              parse_time(e.get("received_start")), parse_time(e.get("received")), e)
            except (KeyError, TypeError, ValueError):
                continue
            tl.segments.append(seg)
            offset += dur
        elif kind in buckets:
            buckets[kind].append(e)
        else:
            tl.events.append(e)
    return tl


def summarize(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The capture in a few facts (report, ``lsf record`` output, ``--json``)."""
    tl = read_timeline(entries)
    first = tl.starts[0] if tl.starts else {}
    last_end = tl.ends[-1] if tl.ends else {}
    end_time = last_end.get("time") or (tl.segments[-1].entry.get("received") if tl.segments else None)
    checks = [*(e.get("clock") or {} for e in (*tl.starts, *tl.ends)), *tl.clocks]
    offsets = [c["offset"] for c in checks if isinstance(c.get("offset"), int | float)]
    clock_errors = [c["error"] for c in checks if c.get("error")]
    damaged = [{"index": s.index, "file": s.file, "warnings": s.entry.get("warnings")}
               for s in tl.segments if s.entry.get("warnings")]
    gaps = []
    by_index = {s.index: s for s in tl.segments}
    for g in tl.gaps:
        before = by_index.get(int(g.get("before_segment") or -1))
        gaps.append({**{k: g.get(k) for k in ("cause", "from", "to", "wall_s", "media_missing_s", "after_segment",
                                              "before_segment", "note")},
                     "at": round(before.offset, 3) if before else None})
    return {
        "url": first.get("url"),
        "stream_url": (first.get("source") or {}).get("stream_url"),
        "kind": (first.get("source") or {}).get("kind"),
        "resolver": (first.get("source") or {}).get("resolver"),
        "start": first.get("time"),
        "end": end_time,
        "sessions": tl.sessions,
        "ended": tl.ended,
        "end_reason": last_end.get("reason"),
        "segments": len(tl.segments),
        "segment_time": (first.get("options") or {}).get("segment_time"),
        "media_duration": tl.media_duration,
        "gaps": gaps,
        "gap_seconds": round(sum(float(g.get("wall_s") or 0) for g in tl.gaps), 3),
        "partial_segments": [p.get("file") for p in tl.partials],
        "damaged_segments": damaged,
        "chat_messages": len(tl.chat),
        "stamps": {"stamped": sum(1 for s in tl.stamps if s.get("status") == "stamped"),
                   "pending": sum(1 for s in tl.stamps if s.get("status") == "pending"),
                   "tsa": next((s.get("tsa") for s in tl.stamps), None)},
        "clock": {"server": (first.get("clock") or {}).get("server"),
                  "offsets": offsets, "max_abs_offset": max((abs(o) for o in offsets), default=None),
                  "errors": sorted(set(clock_errors))[:3]},
        "recording": last_end.get("recording"),
    }
