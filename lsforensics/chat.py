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
import math
import xml.sax.handler
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import loaders
from .case import Case, atomic_write_bytes, atomic_write_json, safe_file_name
from .errors import InputError
from .progress import Progress
from .stage import Stage

FORMATS = ("bilibili_xml", "youtube_json", "jsonl", "csv")
MAX_CHAT_BYTES = 256 * 1024 * 1024  # hours of danmaku are tens of MB


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
def _time(value: Any, path: Path, line: int, what: str = "time") -> float:
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{path}:{line}: bad {what} {value!r} (seconds expected)") from None
    if not math.isfinite(t) or t < 0:
        raise InputError(f"{path}:{line}: bad {what} {value!r} (seconds >= 0 expected)")
    return t


class _DanmakuHandler(xml.sax.handler.ContentHandler):
    """``<d p="…">text</d>`` elements in document order, each with the line it starts on."""

    def __init__(self, path: Path):
        super().__init__()
        self.path, self.out = path, []
        self.in_d, self.buf, self.attrs, self.line = False, [], {}, 0
        self.guard: Any = None  # set by loaders.parse_xml

    def startElement(self, name: str, attrs: Any) -> None:  # noqa: N802 - SAX API
        if name == "d":
            self.in_d, self.buf, self.attrs, self.line = True, [], dict(attrs), self.guard.line() or 0

    def endElement(self, name: str) -> None:  # noqa: N802
        if name != "d" or not self.in_d:
            return
        self.in_d = False
        p = self.attrs.get("p")
        if p is None:
            raise InputError(f"{self.path}:{self.line}: <d> without the p= attribute (time,mode,…)")
        fields = p.split(",")
        t = _time(fields[0], self.path, self.line)
        user = self.attrs.get("user") or (fields[6] if len(fields) > 6 else "")
        self.out.append(ChatMessage(t, user, "".join(self.buf), "bilibili_xml"))

    def characters(self, content: str) -> None:
        if self.in_d:
            self.buf.append(content)


def read_bilibili_xml(path: Path, text: str) -> list[ChatMessage]:
    """``<d p="time,mode,size,color,timestamp,pool,user-hash,id,...">text</d>`` (video and live recorders).

    Parsed with defusedxml (no entity declarations, no external references) and a depth limit."""
    handler = _DanmakuHandler(path)
    loaders.parse_xml(text.encode("utf-8"), str(path), handler)
    return handler.out


def _obj(x: Any) -> dict[str, Any]:
    """A JSON object, or an empty one for anything else (hostile files put lists where objects go)."""
    return x if isinstance(x, dict) else {}


def _list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else []


def _runs_text(message: dict[str, Any]) -> str:
    parts = []
    for run in map(_obj, _list(message.get("runs"))):
        if "text" in run:
            parts.append(str(run["text"]))
        elif "emoji" in run:
            emoji = _obj(run["emoji"])
            sc = _list(emoji.get("shortcuts")) or [emoji.get("emojiId", "")]
            parts.append(str(sc[0]))
    return "".join(parts) or str(message.get("simpleText", ""))


def _yt_actions(action: Any, offset: Any, path: Path, line: int) -> list[ChatMessage]:
    out = []
    action = _obj(action)
    replay = _obj(action.get("replayChatItemAction", action))
    offset = replay.get("videoOffsetTimeMsec", offset)
    for inner in map(_obj, _list(replay.get("actions"))):
        item = _obj(_obj(inner.get("addChatItemAction")).get("item"))
        for key in ("liveChatTextMessageRenderer", "liveChatPaidMessageRenderer"):
            r = _obj(item.get(key))
            if not r:
                continue
            if offset is None:
                raise InputError(f"{path}:{line}: chat action without videoOffsetTimeMsec")
            t = _time(offset, path, line, "videoOffsetTimeMsec") / 1000.0
            user = str(_obj(r.get("authorName")).get("simpleText", ""))
            out.append(ChatMessage(t, user, _runs_text(_obj(r.get("message"))), "youtube_json"))
    return out


def read_youtube_json(path: Path, text: str) -> list[ChatMessage]:
    """A ``get_live_chat_replay`` response, or yt-dlp's ``live_chat.json`` (one action per line)."""
    stripped = text.lstrip()
    try:
        doc = loaders.load_json(text, str(path))
    except loaders.LoadError:
        if not stripped.startswith("{") or "\n" not in stripped:
            raise
        doc = None
    out: list[ChatMessage] = []
    if isinstance(doc, dict):
        cont = _obj(_obj(doc.get("continuationContents")).get("liveChatContinuation"))
        actions = cont.get("actions")
        if actions is None and "replayChatItemAction" in doc:
            actions = [doc]
        if actions is None:
            raise InputError(f"{path}:1: not a YouTube live-chat replay (no continuationContents.liveChatContinuation.actions)")
        for a in _list(actions):
            out += _yt_actions(a, _obj(a).get("videoOffsetTimeMsec"), path, 1)
        return out
    for n, obj in loaders.load_json_lines(text, str(path)):  # yt-dlp: JSON Lines
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
    for n, obj in loaders.load_json_lines(text, str(path)):
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
    text = loaders.decode_utf8(loaders.read_bytes(p, max_bytes=MAX_CHAT_BYTES, what="chat file"), str(p))
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
            # A plain name inside the case whatever the original was called (".chat.xml", a newline,
            # GBK bytes): a copy must never look like a temp file or be unsealable.
            name = safe_file_name(f.name)
            dest = folder / name
            if dest.exists() and dest.read_bytes() != data:
                # Same name, other content (two streams' "chat.xml"): keep both, never overwrite evidence.
                stem, dot, suffix = name.rpartition(".") if "." in name else (name, "", "")
                dest = folder / f"{stem}-{hashlib.sha256(data).hexdigest()[:8]}{dot}{suffix}"
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
