"""``capture.jsonl``: the capture's hash chain, in the custody log's line format.

Same rules as ``custody.jsonl`` (custody.py): one compact JSON object per line, ``seq`` from 1,
``prev`` the sha256 of the previous line's bytes without its newline (``null`` first), lines
only appended with one ``write`` on an ``O_APPEND`` descriptor and fsync, so a killed recorder
leaves whole lines only. Anyone can re-check it with ``sha256sum`` (see custody.py).

What differs is the rate: a recording appends a line per segment and per chat message for
hours, so the head (last line's hash and seq) is kept in memory and a batch of lines goes out
in one write, instead of rereading the file for every line as the custody log does.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from ..case import utc_now
from ..custody import ChainProblem
from ..errors import InputError
from ..evidence.hashing import sha256_bytes

FIELDS = ("seq", "time", "kind", "prev")
MAX_LINE = 1 << 20  # a chain line longer than 1 MiB is refused on read (bounded loader)


def line_bytes(entry: dict[str, Any]) -> bytes:
    """The exact bytes of a chain line (custody.jsonl's compact form)."""
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def read_lines(path: Path) -> list[bytes]:
    if not path.exists():
        return []
    lines = path.read_bytes().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


class CaptureChain:
    """Appender and reader of ``capture.jsonl`` (one writer: the recorder holding the case lock)."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        lines = read_lines(path)
        data_end_ok = not path.exists() or path.stat().st_size == 0 or path.read_bytes().endswith(b"\n")
        if not data_end_ok:
            raise InputError(f"{path}: last line is incomplete; refusing to extend a damaged capture chain")
        self.seq = len(lines)
        self.head: str | None = sha256_bytes(lines[-1]) if lines else None
        self.last_line: bytes | None = lines[-1] if lines else None

    def entries(self) -> list[dict[str, Any]]:
        out = []
        for n, raw in enumerate(read_lines(self.path), 1):
            if len(raw) > MAX_LINE:
                raise InputError(f"{self.path}: line {n} is longer than {MAX_LINE} bytes")
            try:
                out.append(json.loads(raw))
            except json.JSONDecodeError:
                raise InputError(f"{self.path}: line {n} is not valid JSON (capture chain damaged)") from None
        return out

    def append(self, kind: str, fields: dict[str, Any], *, time: str | None = None) -> dict[str, Any]:
        return self.append_many([(kind, fields, time)])[-1]

    def append_many(self, items: list[tuple[str, dict[str, Any], str | None]]) -> list[dict[str, Any]]:
        """Append several lines in one write + fsync; returns the entries as written."""
        if not items:
            return []
        with self._lock:
            out: list[dict[str, Any]] = []
            buf = bytearray()
            seq, head, last = self.seq, self.head, self.last_line
            for kind, fields, time in items:
                seq += 1
                entry = {"seq": seq, "time": time or utc_now(), "kind": kind, **fields, "prev": head}
                raw = line_bytes(entry)
                buf += raw + b"\n"
                head, last = sha256_bytes(raw), raw
                out.append(entry)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                written = os.write(fd, bytes(buf))
                if written != len(buf):  # pragma: no cover - regular files write fully
                    raise OSError("short write to capture.jsonl")
                os.fsync(fd)
            finally:
                os.close(fd)
            self.seq, self.head, self.last_line = seq, head, last
            return out


def verify_chain(path: Path) -> tuple[list[ChainProblem], list[tuple[int, bytes, dict[str, Any]]]]:
    """Problems of the chain, and its readable lines as ``(line number, bytes, entry)``."""
    problems: list[ChainProblem] = []
    good: list[tuple[int, bytes, dict[str, Any]]] = []
    data = path.read_bytes() if path.exists() else b""
    if data and not data.endswith(b"\n"):
        problems.append(ChainProblem(data.count(b"\n") + 1, "incomplete last line"))
    prev: str | None = None
    for n, raw in enumerate(read_lines(path), 1):
        entry: Any = None
        if len(raw) <= MAX_LINE:
            try:
                entry = json.loads(raw)
            except json.JSONDecodeError:
                entry = None
        if not isinstance(entry, dict):
            problems.append(ChainProblem(n, "not a JSON object (or longer than 1 MiB)"))
            prev = sha256_bytes(raw)
            continue
        missing = [f for f in FIELDS if f not in entry]
        if missing:
            problems.append(ChainProblem(n, f"missing fields {missing}"))
        if entry.get("seq") != n:
            problems.append(ChainProblem(n, f"seq is {entry.get('seq')!r}, expected {n}"))
        if entry.get("prev") != prev:
            problems.append(ChainProblem(n, "prev does not match the sha256 of the previous line"))
        prev = sha256_bytes(raw)
        good.append((n, raw, entry))
    return problems, good


def problem_text(p: ChainProblem) -> str:
    """``ChainProblem`` names custody.jsonl in its text; this names the capture chain."""
    return f"capture.jsonl line {p.line}: {p.message}"
