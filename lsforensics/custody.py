"""Hash-chained logs: ``custody.jsonl`` (processing) and, on the same mechanism, ``review.jsonl``.

One JSON object per line; ``prev`` is the sha256 of the previous line's bytes (UTF-8, without its
trailing newline), ``null`` for the first. Lines are only ever appended, each with one
``write`` on an ``O_APPEND`` descriptor followed by fsync, so a killed process cannot leave half
a line. Anyone can re-check the chain with a few lines of any language, or with
``sed -n Np custody.jsonl | tr -d '\\n' | sha256sum``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .case import default_operator, json_text_bytes, utc_now, write_problem
from .errors import InputError
from .evidence.hashing import sha256_bytes
from .loaders import LoadError, clip, load_json

FIELDS = (
    "seq", "time", "operator", "host", "action", "argv", "tool_version",
    "inputs", "outputs", "params", "prev",
)


def line_bytes(entry: dict[str, Any]) -> bytes:
    """The exact bytes of a chain line (compact JSON, UTF-8, no newline)."""
    return json_text_bytes(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))


def parse_line(raw: bytes, name: str = "custody.jsonl") -> dict[str, Any] | None:
    """One log line as an object, or None when it is not one (bad JSON, too deep, not an object)."""
    try:
        entry = load_json(raw.decode("utf-8", "replace"), name)
    except LoadError:
        return None
    return entry if isinstance(entry, dict) else None


_APPEND_LOCK = threading.Lock()


@dataclass
class ChainProblem:
    line: int
    message: str
    file: str = "custody.jsonl"

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.message}"


class HashChainLog:
    """An append-only JSON-lines file whose every line names the sha256 of the line before it.

    ``custody.jsonl`` and ``review.jsonl`` are both this chain; subclasses say which fields a line
    must have (``FIELDS``) and what the file is called in messages (``LABEL``).
    """

    FIELDS: tuple[str, ...] = ("seq", "prev")
    LABEL = "log"

    def __init__(self, path: Path):
        self.path = path

    def raw_lines(self) -> list[bytes]:
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        return lines

    def entries(self) -> list[dict[str, Any]]:
        out = []
        for n, raw in enumerate(self.raw_lines(), 1):
            entry = parse_line(raw, self.path.name)
            if entry is None:
                raise InputError(f"{self.path}: line {n} is not a JSON object ({self.LABEL} damaged)")
            out.append(entry)
        return out

    def last(self, action: str) -> dict[str, Any] | None:
        for entry in reversed(self.entries()):
            if entry.get("action") == action:
                return entry
        return None

    def append_entry(self, fields: dict[str, Any], trailer: dict[str, Any] | None = None) -> dict[str, Any]:
        """Append one line: ``seq`` first, then ``fields``, ``prev``, then ``trailer`` (in order)."""
        with _APPEND_LOCK:  # stages run side by side in threads (analyze): one writer at a time
            lines = self.raw_lines()
            if self.path.exists() and self.path.stat().st_size and not self.path.read_bytes().endswith(b"\n"):
                raise InputError(f"{self.path}: last line is incomplete; refusing to extend a damaged {self.LABEL}")
            entry: dict[str, Any] = {"seq": len(lines) + 1, **fields,
                                     "prev": sha256_bytes(lines[-1]) if lines else None, **(trailer or {})}
            self.write_lines(line_bytes(entry) + b"\n")
            return entry

    def write_lines(self, data: bytes) -> None:
        """Append whole lines with one write on an O_APPEND descriptor, then fsync; on any error the
        file is cut back to where it was (a full disk must not leave half a line that would make the
        log refuse every later append)."""
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise write_problem(self.path, exc) from None
        start = os.fstat(fd).st_size
        try:
            written = os.write(fd, data)
            if written != len(data):  # a full disk can take part of the data
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            os.fsync(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
            raise write_problem(self.path, exc) from None
        finally:
            os.close(fd)

    def verify_chain(self) -> list[ChainProblem]:
        problems: list[ChainProblem] = []
        prev_hash: str | None = None
        name = self.path.name
        data = self.path.read_bytes() if self.path.exists() else b""
        if data and not data.endswith(b"\n"):
            problems.append(ChainProblem(data.count(b"\n") + 1, "incomplete last line", name))
        for n, raw in enumerate(self.raw_lines(), 1):
            entry = parse_line(raw, name)
            if entry is None:
                problems.append(ChainProblem(n, "not a JSON object (damaged or hostile line)", name))
                prev_hash = sha256_bytes(raw)
                continue
            missing = [f for f in self.FIELDS if f not in entry]
            if missing:
                problems.append(ChainProblem(n, f"missing fields {missing}", name))
            if entry.get("seq") != n:
                problems.append(ChainProblem(n, f"seq is {clip(repr(entry.get('seq')), 40)}, expected {n}", name))
            if entry.get("prev") != prev_hash:
                problems.append(ChainProblem(n, "prev does not match the sha256 of the previous line", name))
            prev_hash = sha256_bytes(raw)
        return problems


class CustodyLog(HashChainLog):
    FIELDS = FIELDS
    LABEL = "custody log"

    def append(
        self,
        action: str,
        *,
        inputs: list[dict[str, Any]],
        outputs: list[dict[str, Any]],
        params: dict[str, Any],
        argv: list[str] | None = None,
        operator: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "time": utc_now(),
            "operator": operator or default_operator(),
            "host": socket.gethostname(),
            "action": action,
            "argv": list(sys.argv if argv is None else argv),
            "tool_version": __version__,
            "inputs": inputs,
            "outputs": outputs,
            "params": params,
        }
        # result follows prev on the line, as it always has
        return self.append_entry(entry, {"result": result} if result is not None else None)
