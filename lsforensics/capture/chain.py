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

import threading
from pathlib import Path
from typing import Any

from ..case import utc_now
from ..custody import ChainProblem, HashChainLog, line_bytes, parse_line
from ..errors import InputError
from ..evidence.hashing import sha256_bytes

FIELDS = ("seq", "time", "kind", "prev")


class CaptureLog(HashChainLog):
    """``capture.jsonl`` read and checked with the custody log's chain rules (custody.py)."""

    FIELDS = FIELDS
    LABEL = "capture chain"


class CaptureChain(CaptureLog):
    """Appender and reader of ``capture.jsonl`` (one writer: the recorder holding the case lock)."""

    def __init__(self, path: Path):
        super().__init__(path)
        self._lock = threading.Lock()
        lines = self.raw_lines()
        if path.exists() and path.stat().st_size and not path.read_bytes().endswith(b"\n"):
            raise InputError(f"{path}: last line is incomplete; refusing to extend a damaged capture chain")
        self.seq = len(lines)
        self.head: str | None = sha256_bytes(lines[-1]) if lines else None
        self.last_line: bytes | None = lines[-1] if lines else None

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
            self.write_lines(bytes(buf))
            self.seq, self.head, self.last_line = seq, head, last
            return out


def read_lines(path: Path) -> list[bytes]:
    return CaptureLog(path).raw_lines()


def verify_chain(path: Path) -> tuple[list[ChainProblem], list[tuple[int, bytes, dict[str, Any]]]]:
    """Problems of the chain, and its readable lines as ``(line number, bytes, entry)``."""
    log = CaptureLog(path)
    good = [(n, raw, e) for n, raw in enumerate(log.raw_lines(), 1) if (e := parse_line(raw, path.name)) is not None]
    return log.verify_chain(), good
