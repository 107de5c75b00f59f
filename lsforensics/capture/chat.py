"""Live chat during a recording: pluggable sources that hand messages to the capture chain.

A source is named by a URL: ``file:PATH`` (or a plain path) follows a JSONL file another tool
writes, ``http(s)://`` reads a streaming response of JSON lines (server-sent ``data:`` lines
too), ``ws(s)://`` a websocket of JSON messages. Each message is ``{t, user, text}`` (``t`` is
the sender's own time, kept as given; only ``text`` is required). A platform adapter is a class
registered under the entry point group ``lsforensics.chat_sources`` with its URL scheme as name.

The recorder chains every message with the moment it arrived here (``received``, host UTC): that
receive time, not the sender's ``t``, places it against the video.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..errors import InputError

MAX_MESSAGE = 64 * 1024  # bytes; longer messages are counted as rejected, never stored
ENTRY_POINT_GROUP = "lsforensics.chat_sources"


@dataclass
class ChatMessage:
    received: float  # unix time (host clock) when it arrived
    t: Any
    user: str
    text: str
    pos: int | None = None  # file sources: byte offset just after this message's line

    def to_fields(self, source: str) -> dict[str, Any]:
        return {"source": source, "received": iso(self.received), "t": self.t, "user": self.user,
                "text": self.text, **({"pos": self.pos} if self.pos is not None else {})}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_message(raw: str | bytes, received: float) -> ChatMessage | None:
    """One JSON message -> ChatMessage; None for anything that is not ``{text: str, ...}``."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_MESSAGE:
            return None
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    raw = raw.strip()
    if raw.startswith("data:"):  # server-sent events
        raw = raw[5:].strip()
    if not raw or len(raw) > MAX_MESSAGE:
        return None
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError:
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return None
    t = obj.get("t")
    if not (t is None or isinstance(t, int | float | str)) or isinstance(t, bool):
        t = None
    return ChatMessage(received, t, str(obj.get("user") or "")[:256], obj["text"])


class ChatSource(ABC):
    """Reads one chat feed until ``stop`` is set; reconnects by itself; never raises."""

    scheme: str = ""

    def __init__(self, spec: str):
        self.spec = spec
        self.rejected = 0
        self.connects = 0
        self.errors: list[str] = []

    @abstractmethod
    def run(self, emit: Callable[[ChatMessage], None], stop: threading.Event) -> None: ...

    def _line(self, raw: str | bytes, emit: Callable[[ChatMessage], None], pos: int | None = None) -> None:
        if isinstance(raw, bytes | str) and not raw.strip():
            return
        m = parse_message(raw, time.time())
        if m is None:
            self.rejected += 1
        else:
            m.pos = pos
            emit(m)

    def resume_from(self, chained: list[dict[str, Any]]) -> None:
        """A rerun of a killed recording: the source's messages already in the chain (by spec).

        A live feed cannot replay what it sent, so by default there is nothing to skip."""
        return None

    def _error(self, exc: BaseException) -> None:
        if len(self.errors) < 50:
            self.errors.append(f"{time.strftime('%H:%M:%S')} {type(exc).__name__}: {exc}"[:200])

    def describe(self) -> dict[str, Any]:
        return {"source": self.spec, "type": type(self).__name__, "connects": self.connects,
                "rejected": self.rejected, "errors": self.errors[-5:]}


class FileSource(ChatSource):
    """Follow a JSONL file (``tail -f``): lines already in it are read first, then new ones."""

    scheme = "file"

    def __init__(self, spec: str):
        super().__init__(spec)
        self.path = Path(spec[5:] if spec.startswith("file:") else spec)
        self.start = 0
        if not self.path.is_file():
            raise InputError(f"--chat {spec}: no such file")

    def resume_from(self, chained: list[dict[str, Any]]) -> None:
        """Go on after the last line already chained, so a rerun does not chain it twice."""
        done = [e["pos"] for e in chained if e.get("source") == self.spec and isinstance(e.get("pos"), int)]
        self.start = max(done, default=0)

    def run(self, emit: Callable[[ChatMessage], None], stop: threading.Event) -> None:
        self.connects = 1
        pos = self.start
        pending = b""
        while not stop.is_set():
            try:
                with open(self.path, "rb") as fh:
                    fh.seek(pos)
                    chunk = fh.read(4 * MAX_MESSAGE)
            except OSError as exc:
                self._error(exc)
                chunk = b""
            if chunk:
                base = pos - len(pending)
                pos += len(chunk)
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    base += len(line) + 1
                    self._line(line, emit, base)
                if len(pending) > MAX_MESSAGE:
                    self.rejected += 1
                    pending = b""
                continue
            stop.wait(0.2)


class HttpLinesSource(ChatSource):
    """A long-lived HTTP response of JSON lines (or server-sent events); reconnects with backoff."""

    scheme = "http"

    def run(self, emit: Callable[[ChatMessage], None], stop: threading.Event) -> None:
        backoff = 1.0
        while not stop.is_set():
            try:
                req = urllib.request.Request(self.spec, headers={"Accept": "application/x-ndjson, text/event-stream"})
                with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - scheme checked by open_source
                    self.connects += 1
                    backoff = 1.0
                    while not stop.is_set():
                        line = resp.readline(MAX_MESSAGE + 1)
                        if not line:
                            break
                        self._line(line, emit)
            except TimeoutError:
                continue  # a quiet chat: the read timed out, the connection is fine to reopen
            except Exception as exc:  # noqa: BLE001 - network errors: retried
                self._error(exc)
            stop.wait(backoff)
            backoff = min(backoff * 2, 10.0)


class WebSocketSource(ChatSource):
    """A websocket sending one JSON message per frame (needs ``websockets``: the record extra)."""

    scheme = "ws"

    def __init__(self, spec: str):
        super().__init__(spec)
        try:
            import websockets.sync.client  # noqa: F401
        except ImportError:
            raise InputError(f"--chat {spec}: websocket chat needs the websockets package "
                             "(pip install 'lsforensics[record]')") from None

    def run(self, emit: Callable[[ChatMessage], None], stop: threading.Event) -> None:
        from websockets.sync.client import connect

        backoff = 1.0
        while not stop.is_set():
            try:
                with connect(self.spec, open_timeout=10, max_size=MAX_MESSAGE) as ws:
                    self.connects += 1
                    backoff = 1.0
                    while not stop.is_set():
                        try:
                            msg = ws.recv(timeout=0.5)
                        except TimeoutError:
                            continue
                        self._line(msg, emit)
            except Exception as exc:  # noqa: BLE001 - closed, refused, too big: retried
                self._error(exc)
            stop.wait(backoff)
            backoff = min(backoff * 2, 10.0)


BUILTIN: dict[str, type[ChatSource]] = {
    "file": FileSource, "http": HttpLinesSource, "https": HttpLinesSource, "ws": WebSocketSource,
    "wss": WebSocketSource,
}


def open_source(spec: str) -> ChatSource:
    """The chat source for ``spec``; a bad spec is an InputError before anything is recorded."""
    scheme = urlparse(spec).scheme.lower()
    if not scheme or len(scheme) == 1:  # a plain path (or a Windows drive letter)
        return FileSource(spec)
    cls = BUILTIN.get(scheme)
    if cls is None:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name == scheme:
                cls = ep.load()
                break
    if cls is None:
        raise InputError(f"--chat {spec}: unknown chat source {scheme!r} (file:, http(s)://, ws(s)://, "
                         f"or an adapter registered under {ENTRY_POINT_GROUP})")
    return cls(spec)
