"""Batch manifests: one stream per row, each with its own product page, chat and facts.

``lsf batch MANIFEST.csv`` (or ``.jsonl``): every row names a ``video`` and optionally its
``page`` and ``chat`` files and the facts a court asks about the stream: ``platform``, ``room``,
``streamer``, ``captured_at`` (ISO 8601) and ``url``. Each row becomes its own case: the page and
chat are copied into that case only, the facts go into its case.json (``stream``) and report, and
the batch summary and findings table carry them.

CSV: a header row with these column names (UTF-8, a BOM is fine: Excel writes one). JSONL: one
object per line; ``page`` and ``chat`` may also be lists there. Paths are relative to the
manifest's folder. Everything is checked before any case is touched: an unknown column, a
missing file or a bad time is one line ``MANIFEST:line: problem`` (exit 2).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..case_options import STREAM_FIELDS, check_stream
from ..errors import InputError
from ..loaders import decode_utf8, load_json_lines, read_bytes

COLUMNS = ("video", "page", "chat", *STREAM_FIELDS)
SUFFIXES = (".csv", ".jsonl", ".ndjson")
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_ROWS = 1_000_000


@dataclass
class ManifestRow:
    line: int
    video: Path
    pages: list[Path] = field(default_factory=list)
    chats: list[Path] = field(default_factory=list)
    stream: dict[str, str] = field(default_factory=dict)

    def identity(self) -> str:
        """What makes this row's case differ from another row's for the same video: the pages and
        chats (by content) and the facts. Empty for a row with only a video."""
        if not (self.pages or self.chats or self.stream):
            return ""
        from ..evidence.hashing import sha256_file

        doc = {"pages": [sha256_file(p) for p in self.pages], "chats": [sha256_file(p) for p in self.chats],
               "stream": dict(sorted(self.stream.items()))}
        return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def analyze_args(self) -> list[str]:
        args: list[str] = []
        for p in self.pages:
            args += ["--page", str(p)]
        for c in self.chats:
            args += ["--chat", str(c)]
        for k, v in self.stream.items():
            args += ["--stream", f"{k}={v}"]
        return args

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "video": str(self.video), "pages": [str(p) for p in self.pages],
                "chats": [str(c) for c in self.chats], "stream": self.stream}


def is_manifest(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in SUFFIXES


def _paths(value: Any, base: Path, where: str, column: str, *, many: bool) -> list[Path]:
    if value in (None, ""):
        return []
    items = value if (many and isinstance(value, list)) else [value]
    out = []
    for v in items:
        if not isinstance(v, str) or not v.strip():
            raise InputError(f"{where}: {column} must be a file path")
        p = Path(v.strip()).expanduser()
        p = p if p.is_absolute() else base / p
        if not p.is_file():
            raise InputError(f"{where}: {column} {v.strip()}: no such file")
        out.append(p.absolute())
    return out


def _row(raw: dict[str, Any], line: int, name: str, base: Path, *, jsonl: bool) -> ManifestRow:
    where = f"{name}:{line}"
    unknown = [k for k in raw if k not in COLUMNS]
    if unknown:
        raise InputError(f"{where}: unknown column {unknown[0]!r} (columns: {', '.join(COLUMNS)})")
    videos = _paths(raw.get("video"), base, where, "video", many=False)
    if not videos:
        raise InputError(f"{where}: no video")
    stream: dict[str, str] = {}
    for k in STREAM_FIELDS:
        v = raw.get(k)
        if v in (None, ""):
            continue
        if not isinstance(v, str | int | float) or isinstance(v, bool):
            raise InputError(f"{where}: {k} must be text")
        stream[k] = str(v).strip()
    try:
        check_stream(stream)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
    return ManifestRow(line, videos[0], _paths(raw.get("page"), base, where, "page", many=jsonl),
                       _paths(raw.get("chat"), base, where, "chat", many=jsonl), stream)


def read_manifest(path: Path) -> list[ManifestRow]:
    """Every row, checked (files exist, facts well formed); an empty manifest is an error."""
    name = str(path)
    text = decode_utf8(read_bytes(path, name, max_bytes=MAX_MANIFEST_BYTES, what="batch manifest"), name)
    base = path.parent.absolute()
    rows: list[ManifestRow] = []
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if not reader.fieldnames or "video" not in [f.strip() for f in reader.fieldnames]:
            raise InputError(f"{name}:1: the header row must name a 'video' column (columns: {', '.join(COLUMNS)})")
        for raw in reader:
            if len(rows) >= MAX_ROWS:
                raise InputError(f"{name}: more than {MAX_ROWS:,} rows")
            if None in raw:
                raise InputError(f"{name}:{reader.line_num}: more cells than header columns")
            clean = {k.strip(): (v or "").strip() for k, v in raw.items()}
            if not any(clean.values()):
                continue
            rows.append(_row(clean, reader.line_num, name, base, jsonl=False))
    else:
        for line, obj in load_json_lines(text, name):
            if len(rows) >= MAX_ROWS:
                raise InputError(f"{name}: more than {MAX_ROWS:,} rows")
            if not isinstance(obj, dict):
                raise InputError(f"{name}:{line}: each line must be a JSON object with a 'video'")
            rows.append(_row(obj, line, name, base, jsonl=True))
    if not rows:
        raise InputError(f"{name}: no rows")
    return rows
