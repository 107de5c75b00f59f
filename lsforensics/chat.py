"""Live-chat logs: readers for Bilibili danmaku XML, YouTube live-chat replay JSON and a plain
``{t, user, text}`` JSONL/CSV, plus the ``chat`` stage that copies them into the case.

Sellers delete streams and pages; viewers' messages ("是正品吗", "假的吧") are evidence too. The
stage copies each chat file into ``CASE/chat/`` (so the custody log and manifest hash it) and
writes ``chat.json``: ``[{t, user, text, source_format, file}]`` sorted by time. A malformed file
is refused with ``file:line: problem`` before anything is copied.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import xml.parsers.expat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .case import Case, atomic_write_bytes, atomic_write_json
from .errors import InputError
from .progress import Progress
from .stage import Stage

FORMATS = ("bilibili_xml", "youtube_json", "jsonl", "csv")


@dataclass
class ChatMessage:
    t: float  # seconds from the video start
    user: str
    text: str
    source_format: str
    file: str = ""  # the case-relative copy it was read from

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------ readers
def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: not UTF-8 text") from None


def _time(value: Any, path: Path, line: int, what: str = "time") -> float:
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{path}:{line}: bad {what} {value!r} (seconds expected)") from None
    if not math.isfinite(t) or t < 0:
        raise InputError(f"{path}:{line}: bad {what} {value!r} (seconds >= 0 expected)")
    return t


def read_bilibili_xml(path: Path, text: str) -> list[ChatMessage]:
    """``<d p="time,mode,size,color,timestamp,pool,user-hash,id,...">text</d>`` (video and live recorders)."""
    parser = xml.parsers.expat.ParserCreate("utf-8")
    out: list[ChatMessage] = []
    state: dict[str, Any] = {"in_d": False, "buf": [], "attrs": {}, "line": 0}

    def no_entities(*_args: Any) -> None:  # no DTD entity tricks in evidence files
        raise InputError(f"{path}:{parser.CurrentLineNumber}: XML entity declarations are not allowed")

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "d":
            state.update(in_d=True, buf=[], attrs=attrs, line=parser.CurrentLineNumber)

    def end(name: str) -> None:
        if name != "d" or not state["in_d"]:
            return
        state["in_d"] = False
        line = state["line"]
        p = state["attrs"].get("p")
        if p is None:
            raise InputError(f"{path}:{line}: <d> without the p= attribute (time,mode,…)")
        fields = p.split(",")
        t = _time(fields[0], path, line)
        user = state["attrs"].get("user") or (fields[6] if len(fields) > 6 else "")
        out.append(ChatMessage(t, user, "".join(state["buf"]), "bilibili_xml"))

    def chars(data: str) -> None:
        if state["in_d"]:
            state["buf"].append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.EntityDeclHandler = no_entities
    try:
        parser.Parse(text.encode("utf-8"), True)
    except xml.parsers.expat.ExpatError as exc:
        raise InputError(f"{path}:{exc.lineno}: invalid XML: {xml.parsers.expat.ErrorString(exc.code)}") from None
    return out


def _runs_text(message: dict[str, Any]) -> str:
    parts = []
    for run in message.get("runs") or []:
        if "text" in run:
            parts.append(str(run["text"]))
        elif "emoji" in run:
            sc = (run["emoji"].get("shortcuts") or [run["emoji"].get("emojiId", "")])
            parts.append(str(sc[0]) if sc else "")
    return "".join(parts) or str(message.get("simpleText", ""))


def _yt_actions(action: dict[str, Any], offset: Any, path: Path, line: int) -> list[ChatMessage]:
    out = []
    replay = action.get("replayChatItemAction", action)
    offset = replay.get("videoOffsetTimeMsec", offset)
    for inner in replay.get("actions") or []:
        item = (inner.get("addChatItemAction") or {}).get("item") or {}
        for key in ("liveChatTextMessageRenderer", "liveChatPaidMessageRenderer"):
            r = item.get(key)
            if not r:
                continue
            if offset is None:
                raise InputError(f"{path}:{line}: chat action without videoOffsetTimeMsec")
            t = _time(offset, path, line, "videoOffsetTimeMsec") / 1000.0
            user = str((r.get("authorName") or {}).get("simpleText", ""))
            out.append(ChatMessage(t, user, _runs_text(r.get("message") or {}), "youtube_json"))
    return out


def read_youtube_json(path: Path, text: str) -> list[ChatMessage]:
    """A ``get_live_chat_replay`` response, or yt-dlp's ``live_chat.json`` (one action per line)."""
    stripped = text.lstrip()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if not stripped.startswith("{") or "\n" not in stripped:
            raise InputError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
        doc = None
    out: list[ChatMessage] = []
    if isinstance(doc, dict):
        cont = (doc.get("continuationContents") or {}).get("liveChatContinuation")
        actions = (cont or {}).get("actions")
        if actions is None and "replayChatItemAction" in doc:
            actions = [doc]
        if actions is None:
            raise InputError(f"{path}:1: not a YouTube live-chat replay (no continuationContents.liveChatContinuation.actions)")
        for a in actions:
            out += _yt_actions(a, a.get("videoOffsetTimeMsec") if isinstance(a, dict) else None, path, 1)
        return out
    for n, raw in enumerate(text.splitlines(), 1):  # yt-dlp: JSON Lines
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{n}: invalid JSON: {exc.msg}") from None
        if not isinstance(obj, dict) or "replayChatItemAction" not in obj:
            raise InputError(f"{path}:{n}: not a YouTube replayChatItemAction line")
        out += _yt_actions(obj, obj.get("videoOffsetTimeMsec"), path, n)
    return out


def _simple(path: Path, n: int, obj: Any) -> ChatMessage:
    if not isinstance(obj, dict):
        raise InputError(f"{path}:{n}: expected an object with t, user, text")
    missing = [k for k in ("t", "text") if k not in obj]
    if missing:
        raise InputError(f"{path}:{n}: missing {', '.join(missing)} (fields: t, user, text)")
    if not isinstance(obj["text"], str):
        raise InputError(f"{path}:{n}: 'text' must be a string")
    return ChatMessage(_time(obj["t"], path, n, "t"), str(obj.get("user") or ""), obj["text"], "")


def read_jsonl(path: Path, text: str) -> list[ChatMessage]:
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{n}: invalid JSON: {exc.msg}") from None
        m = _simple(path, n, obj)
        m.source_format = "jsonl"
        out.append(m)
    return out


def read_csv(path: Path, text: str) -> list[ChatMessage]:
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip() for f in reader.fieldnames or []]
    if "t" not in fields or "text" not in fields:
        raise InputError(f"{path}:1: CSV header must name t, user, text (found: {', '.join(fields) or 'nothing'})")
    reader.fieldnames = fields
    out = []
    for row in reader:
        if None in row:
            raise InputError(f"{path}:{reader.line_num}: more fields than the header")
        m = _simple(path, reader.line_num, row)
        m.source_format = "csv"
        out.append(m)
    return out


def sniff_format(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    head = text.lstrip()[:4096]
    if suffix == ".xml" or head.startswith("<"):
        return "bilibili_xml"
    if suffix == ".csv":
        return "csv"
    if "replayChatItemAction" in head or "liveChatContinuation" in head or "continuationContents" in head:
        return "youtube_json"
    if suffix in (".json", ".jsonl", ".ndjson") or head.startswith("{"):
        return "jsonl"
    raise InputError(f"{path}:1: unknown chat format (expected Bilibili XML, YouTube live-chat JSON, JSONL or CSV)")


_READERS = {"bilibili_xml": read_bilibili_xml, "youtube_json": read_youtube_json, "jsonl": read_jsonl, "csv": read_csv}


def read_chat(path: str | Path, fmt: str | None = None) -> list[ChatMessage]:
    """Read one chat file (format sniffed from name and content); InputError names file and line."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"chat file {p} does not exist")
    text = _decode(p, p.read_bytes())
    if not text.strip():
        raise InputError(f"{p}:1: empty chat file")
    fmt = fmt or sniff_format(p, text)
    if fmt not in _READERS:
        raise InputError(f"unknown chat format {fmt!r} (one of {', '.join(FORMATS)})")
    msgs = _READERS[fmt](p, text)
    if not msgs:
        raise InputError(f"{p}:1: no chat messages found ({fmt})")
    return msgs


# ------------------------------------------------------------------------------ stage
def chat_dir(case: Case) -> Path:
    return case.root / "chat"


def chat_json(case: Case) -> Path:
    return case.root / "chat.json"


class ChatStage(Stage):
    """Copy chat files into ``CASE/chat/`` (kept, never replaced) and write ``chat.json`` from all of them."""

    name = "chat"
    version = 1

    def __init__(self, files: list[str | Path]):
        self.files = [Path(f).absolute() for f in files]
        for f in self.files:
            read_chat(f)  # refuse a malformed file before touching the case

    def params(self) -> dict[str, Any]:
        return {"files": [f.name for f in self.files]}

    def inputs(self, case: Case) -> list[Path]:
        return list(self.files)

    def outputs(self, case: Case) -> list[Path]:
        return [chat_dir(case), chat_json(case)]

    def run(self, case: Case, progress: Progress) -> dict[str, Any]:
        folder = chat_dir(case)
        folder.mkdir(parents=True, exist_ok=True)
        for f in self.files:
            data = f.read_bytes()
            dest = folder / f.name
            if dest.exists() and dest.read_bytes() != data:
                # Same name, other content (two streams' "chat.xml"): keep both, never overwrite evidence.
                dest = folder / f"{f.stem}-{hashlib.sha256(data).hexdigest()[:8]}{f.suffix}"
            if not dest.exists():
                atomic_write_bytes(dest, data)
        messages: list[ChatMessage] = []
        for p in sorted(q for q in folder.iterdir() if q.is_file() and not q.name.startswith(".")):
            for m in read_chat(p):
                m.file = case.rel(p)
                messages.append(m)
        messages.sort(key=lambda m: (m.t, m.file))
        atomic_write_json(chat_json(case), [m.to_dict() for m in messages])
        return {"messages": len(messages), "files": len({m.file for m in messages})}


def load_chat(case: Case) -> list[ChatMessage]:
    path = chat_json(case)
    if not path.exists():
        return []
    return [ChatMessage(**d) for d in case.read_json(path)]
