"""``lsf review CASE`` in the browser: what the page shows, and the session around it.

Everything on the page comes from the case folder: each finding as the report shows it (labels,
timecodes, rule, legal basis), its frame, crop and exhibit clip, and the transcript, chat and
on-screen text around it. The server (``server.py``) only checks requests and routes them here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..case import Case
from ..chat import chat_json
from ..findings import FindingsDoc, as_number, timecode
from ..report import labels as lb
from ..report.data import finding_view, frame_index, is_safe_case_file, read_optional, rule_index
from .decisions import DECISIONS, STATUSES
from .exhibits import exhibits_dir, load_exhibits
from .server import ReviewApp, ReviewServer
from .session import ReviewSession

CONTEXT_S = 12.0  # transcript shown around a finding, each side
CHAT_S = 15.0
MAX_CONTEXT = 60


def _timed(items: Any, key: str = "start") -> list[dict[str, Any]]:
    return [x for x in items if isinstance(x, dict) and as_number(x.get(key)) is not None] if isinstance(items, list) else []


@dataclass
class ReviewPage:
    """The data behind the page, built once per session from the case."""

    case: Case
    doc: FindingsDoc
    session: ReviewSession
    no_clips: str | None = None  # why there are no clips, if there are none
    views: list[dict[str, Any]] = field(default_factory=list)
    _files: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        frames = frame_index(read_optional(self.case, self.case.frames_json))
        index = rule_index(self.case)
        ex = load_exhibits(self.case) or {}
        by_file = {c.get("file"): c for c in ex.get("clips") or [] if isinstance(c, dict)}
        clip_of = ex.get("findings") if isinstance(ex.get("findings"), dict) else {}
        for f in self.doc.in_time_order():
            v = finding_view(f, index, self.case, frames)
            images = [e for e in v["evidence"] if e.lower().endswith((".jpg", ".jpeg", ".png"))
                      and is_safe_case_file(self.case, e)]
            v["crops"] = [e for e in images if e != v["image"]]
            v["clip"] = None
            clip = by_file.get(clip_of.get(v["id"]))
            rel = f"{exhibits_dir(self.case).name}/{clip['file']}" if clip else None
            if clip and isinstance(clip.get("file"), str) and is_safe_case_file(self.case, rel):
                v["clip"] = {"file": rel, "clip_start": as_number(clip.get("clip_start")) or 0.0,
                             "first_video_pts": as_number(clip.get("first_video_pts")) or 0.0,
                             "duration": as_number(clip.get("duration")), "timecode": timecode(clip.get("clip_start")),
                             "sha256": clip.get("sha256")}
                self._files.add(rel)
            self._files.update(x for x in [v["image"], *v["crops"]] if x)
            self.views.append(v)
        tr = read_optional(self.case, self.case.transcript_json)
        self._segments = _timed(tr.get("segments") if isinstance(tr, dict) else None)
        self._chat = _timed(read_optional(self.case, chat_json(self.case)), "t")
        self._ocr = _timed(read_optional(self.case, self.case.ocr_json), "t")
        self._by_id = {v["id"]: v for v in self.views}

    def files(self) -> set[str]:
        return self._files

    def payload(self) -> dict[str, Any]:
        state = self.session.state()
        info = self.case.info
        src = read_optional(self.case, self.case.source_json) or {}
        return {
            "case": {"id": info.get("case_id"), "source": src.get("name"),
                     "duration": as_number((src.get("probe") or {}).get("duration"))},
            "reviewer": self.session.reviewer, "session": self.session.session,
            "findings": self.views,
            "status": {k: s.to_json() for k, s in state.statuses.items()},
            "counts": state.counts(), "reviewed": state.reviewed, "total": len(self.views),
            "decisions": list(DECISIONS), "statuses": list(STATUSES),
            "kinds": {k: list(lb.kind_label(k)) for k in sorted({v["kind"] for v in self.views})},
            "no_clips": self.no_clips,
        }

    def context(self, fid: str) -> dict[str, Any] | None:
        v = self._by_id.get(fid)
        if v is None:
            return None
        if v["start"] is None:
            return {"transcript": [], "chat": [], "screen": []}
        a, b = v["start"], v["end"] if v["end"] is not None else v["start"]
        segs = [{"start": s["start"], "end": as_number(s.get("end")), "timecode": timecode(s["start"]),
                 "text": str(s.get("text") or ""),
                 "hit": s["start"] <= b and (as_number(s.get("end")) or s["start"]) >= a}
                for s in self._segments if s["start"] <= b + CONTEXT_S and (as_number(s.get("end")) or s["start"]) >= a - CONTEXT_S]
        chat = [{"t": m["t"], "timecode": timecode(m["t"]), "user": str(m.get("user") or ""),
                 "text": str(m.get("text") or "")} for m in self._chat if a - CHAT_S <= m["t"] <= b + CHAT_S]
        screen = [{"t": o["t"], "timecode": timecode(o["t"]), "text": str(o.get("text") or "")}
                  for o in self._ocr if a - 3.0 <= o["t"] <= b + 3.0]
        return {"transcript": segs[:MAX_CONTEXT], "chat": chat[:MAX_CONTEXT], "screen": screen[:MAX_CONTEXT]}

    def decide(self, body: dict[str, Any]) -> dict[str, Any]:
        self.session.decide(str(body.get("id") or ""), str(body.get("decision") or ""), body.get("note") or "")
        state = self.session.state()
        fid = str(body.get("id"))
        return {"status": state.statuses[fid].to_json(), "counts": state.counts(), "reviewed": state.reviewed}


def make_server(page: ReviewPage, *, finish: Callable[[], None] = lambda: None, host: str = "127.0.0.1",
                port: int = 0) -> ReviewServer:
    app = ReviewApp(case_root=page.case.root, payload=page.payload, context=page.context, decide=page.decide,
                    files=page.files, finish=finish)
    return ReviewServer(app, host=host, port=port)
