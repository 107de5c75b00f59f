"""``lsf scan``: the text detectors on text from elsewhere, one message per line.

A platform's transcript export, a seller's ad, a chat dump or a customer-service log: the same
brand, slang, advertising-law and health rules as ``lsf detect``, without a case. Input is read by
a bounded reader (size, line length, JSON depth) and refused with ``file:line: problem``:

- ``.txt``: one message per line (blank lines skipped);
- ``.tsv`` / ``.csv``: a header row naming ``text`` and optionally ``source`` (speech, screen,
  chat), ``t`` (seconds), ``user``, ``id`` and ``stream``; other columns are ignored;
- ``.jsonl``: one object per line with the same keys.

Consecutive speech or screen lines of one ``stream`` are matched as one running text (joined at
sentence boundaries, as ``lsf detect`` joins transcript segments), so a brand, a product word or
the product in play (a 制氧机 three lines earlier) counts as context across lines; chat messages
are matched one by one, since one viewer's words are no context for another's. ``each_line=True``
matches every line on its own. A large file is matched by a few forked processes (``LSF_THREADS``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing
import os
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .chat import _time as _seconds  # one reader of "seconds from the start" for chat and scan
from .detect.text import _finding, matcher_for
from .errors import InputError
from .findings import Finding
from .rules import RuleSet, load_rules
from .stage import env_threads
from .text.match import Matcher

SOURCES = ("speech", "screen", "chat")
FORMATS = ("txt", "tsv", "csv", "jsonl")
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_LINE_CHARS = 100_000  # one message; a longer "line" is not a message but a whole document
MAX_LINES = 5_000_000
JOIN = "。"  # between lines of one stream: a sentence boundary no term crosses
_CHUNK_CHARS = 4000  # a running text is matched in pieces of about this size (context is local anyway)
PARALLEL_MIN_CHARS = 200_000  # below this a second process costs more than it saves
MAX_WORKERS = 4
_SUFFIX = {".txt": "txt", ".text": "txt", ".tsv": "tsv", ".tab": "tsv", ".csv": "csv", ".jsonl": "jsonl",
           ".ndjson": "jsonl", ".json": "jsonl"}
CSV_COLUMNS = ("line", "id", "source", "t", "user", "kind", "term", "matched", "match", "rule", "brand", "severity",
               "confidence", "evasion", "gap", "law", "quote", "explanation")


@dataclass
class ScanLine:
    """One message of the input."""

    line: int  # 1-based record number in the file (the line for TXT/JSONL, the row for TSV/CSV)
    text: str
    source: str = "speech"
    t: float | None = None
    user: str | None = None
    id: str | None = None
    stream: str | None = None


@dataclass
class ScanResult:
    file: str
    sha256: str
    format: str
    encoding: str
    lines: int
    rules_sha256: str
    findings: list[Finding] = field(default_factory=list)

    def by_kind(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            out[f.kind] = out.get(f.kind, 0) + 1
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def summary(self) -> dict[str, Any]:
        return {"file": self.file, "sha256": self.sha256, "format": self.format, "encoding": self.encoding,
                "lines": self.lines, "rules_sha256": self.rules_sha256, "findings": len(self.findings),
                "by_kind": self.by_kind()}


# ------------------------------------------------------------------------------ reading
def _decode(path: Path, data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM); else GB18030 when the whole file is valid GB18030 (exports from
    Chinese Windows tools), else a one-line error naming the first bad line."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            line = data[: exc.start].count(b"\n") + 1
            raise InputError(f"{path}:{line}: not UTF-8 or GB18030 text") from None


def _source(path: Path, n: int, value: Any, default: str) -> str:
    if value is None or value == "":
        return default
    s = str(value).strip().lower()
    if s not in SOURCES:
        raise InputError(f"{path}:{n}: source {value!r} is not one of {', '.join(SOURCES)}")
    return s


def _time(path: Path, n: int, value: Any) -> float | None:
    return None if value is None or value == "" else _seconds(value, path, n, "t")


def _record(path: Path, n: int, rec: dict[str, Any], default_source: str) -> ScanLine | None:
    text = rec.get("text")
    if text is None:
        raise InputError(f"{path}:{n}: no 'text'")
    if not isinstance(text, str):
        raise InputError(f"{path}:{n}: 'text' must be a string")
    if len(text) > MAX_LINE_CHARS:
        raise InputError(f"{path}:{n}: a message of {len(text)} characters (over {MAX_LINE_CHARS}): "
                         "put one message per line")
    if not text.strip():
        return None
    opt = {k: (None if rec.get(k) in (None, "") else str(rec[k])) for k in ("user", "id", "stream")}
    return ScanLine(n, text, _source(path, n, rec.get("source"), default_source), _time(path, n, rec.get("t")), **opt)


def _check_line(path: Path, n: int, raw: str) -> None:
    if len(raw) > MAX_LINE_CHARS:
        raise InputError(f"{path}:{n}: a line of {len(raw)} characters (over {MAX_LINE_CHARS}): "
                         "put one message per line")
    if n > MAX_LINES:
        raise InputError(f"{path}:{n}: more than {MAX_LINES} lines: split the file")


def _read_txt(path: Path, text: str, source: str) -> list[ScanLine]:
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        _check_line(path, n, raw)
        if raw.strip():
            out.append(ScanLine(n, raw, source))
    return out


def _read_table(path: Path, text: str, source: str, delimiter: str) -> list[ScanLine]:
    csv.field_size_limit(MAX_LINE_CHARS + 16)
    rows = csv.reader(io.StringIO(text), delimiter=delimiter,
                      quoting=csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL)
    try:
        header = [h.strip().lower() for h in next(rows)]
    except StopIteration:
        raise InputError(f"{path}:1: empty file") from None
    except csv.Error as exc:
        raise InputError(f"{path}:1: {exc}") from None
    if "text" not in header:
        raise InputError(f"{path}:1: the header must name a 'text' column (found: {', '.join(header) or 'nothing'}); "
                         "optional: source, t, user, id, stream")
    out = []
    try:
        for row in rows:
            n = rows.line_num
            if n > MAX_LINES:
                raise InputError(f"{path}:{n}: more than {MAX_LINES} lines: split the file")
            if not row or not any(c.strip() for c in row):
                continue
            if len(row) > len(header):
                raise InputError(f"{path}:{n}: {len(row)} fields, the header has {len(header)}")
            rec = dict(zip(header, row, strict=False))
            line = _record(path, n, rec, source)
            if line is not None:
                out.append(line)
    except csv.Error as exc:
        raise InputError(f"{path}:{rows.line_num}: {exc}") from None
    return out


def _read_jsonl(path: Path, text: str, source: str) -> list[ScanLine]:
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        _check_line(path, n, raw)
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{n}: invalid JSON: {exc.msg}") from None
        except RecursionError:
            raise InputError(f"{path}:{n}: JSON nested too deeply") from None
        if not isinstance(obj, dict):
            raise InputError(f"{path}:{n}: expected an object with 'text' (and optional source, t, user, id)")
        line = _record(path, n, obj, source)
        if line is not None:
            out.append(line)
    return out


def read_scan_file(path: str | Path, *, source: str = "speech", fmt: str | None = None) -> tuple[list[ScanLine], str, str]:
    """The messages of ``path`` (format from ``fmt`` or the suffix), its format and encoding."""
    p = Path(path)
    if source not in SOURCES:
        raise InputError(f"source {source!r} is not one of {', '.join(SOURCES)}")
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if not p.exists():
        raise InputError(f"{p} does not exist")
    if not p.is_file():
        raise InputError(f"{p} is not a file")
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(f"{p} is {size / 2**20:.0f} MB; files over {MAX_FILE_BYTES // 2**20} MB are refused: split it")
    fmt = fmt or _SUFFIX.get(p.suffix.lower(), "txt")
    text, encoding = _decode(p, p.read_bytes())
    if "\x00" in text:
        raise InputError(f"{p}:{text[:text.index(chr(0))].count(chr(10)) + 1}: binary data (NUL), not text")
    if fmt == "txt":
        lines = _read_txt(p, text, source)
    elif fmt == "jsonl":
        lines = _read_jsonl(p, text, source)
    else:
        lines = _read_table(p, text, source, "\t" if fmt == "tsv" else ",")
    if not lines:
        raise InputError(f"{p}:1: no text to scan")
    return lines, fmt, encoding


# ------------------------------------------------------------------------------ matching
def _runs(lines: list[ScanLine], each_line: bool) -> Iterable[list[ScanLine]]:
    """Groups matched as one text: consecutive speech/screen lines of one stream, up to ~_CHUNK_CHARS."""
    run: list[ScanLine] = []
    size = 0
    for ln in lines:
        joinable = (not each_line and ln.source != "chat" and run and run[-1].source == ln.source
                    and run[-1].stream == ln.stream and size + len(ln.text) <= _CHUNK_CHARS)
        if run and not joinable:
            yield run
            run, size = [], 0
        run.append(ln)
        size += len(ln.text) + len(JOIN)
    if run:
        yield run


def _scan_runs(runs: list[list[ScanLine]], matcher: Matcher) -> list[Finding]:
    out: list[Finding] = []
    for run in runs:
        starts, pos = [], 0
        for ln in run:
            starts.append(pos)
            pos += len(ln.text) + len(JOIN)
        text = JOIN.join(ln.text for ln in run)
        for m in matcher.find(text, run[0].source):
            k = bisect_right(starts, m.start) - 1
            ln = run[k]
            off = starts[k]
            if m.end > off + len(ln.text):
                continue  # cannot happen (JOIN is a boundary); never quote across two messages
            m.start, m.end = m.start - off, m.end - off
            out.append(_finding(m, ln.source, ln.t, ln.t, ln.text, line=ln.line, id=ln.id, user=ln.user))
    return out


_FORKED: Matcher | None = None  # the parent's matcher, inherited by forked workers (never pickled)


def _scan_group(runs: list[list[ScanLine]]) -> list[Finding]:
    assert _FORKED is not None
    return _scan_runs(runs, _FORKED)


def _workers(requested: int | None, chars: int) -> int:
    if chars < PARALLEL_MIN_CHARS:
        return 1
    n = requested if requested is not None else (env_threads() or os.cpu_count() or 1)
    return max(1, min(n, MAX_WORKERS))


def scan_lines(lines: list[ScanLine], matcher: Matcher, *, each_line: bool = False,
               workers: int | None = None) -> list[Finding]:
    """Findings for ``lines`` (in order), each tied to its line (``extra.line``) and quoting it whole.

    A large input is split at stream boundaries over ``workers`` forked processes (default: the
    cores ``LSF_THREADS`` allows, at most ``MAX_WORKERS``); the result is the same, in the same order.
    """
    global _FORKED
    runs = list(_runs(lines, each_line))
    n = _workers(workers, sum(len(ln.text) for ln in lines))
    if n <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return _scan_runs(runs, matcher)
    matcher.find("预热")  # load jieba's segmenter once, before the workers inherit it
    size = sum(len(ln.text) for run in runs for ln in run) / n
    groups: list[list[list[ScanLine]]] = [[]]
    acc = 0.0
    for run in runs:
        if acc >= size * len(groups) and len(groups) < n:
            groups.append([])
        groups[-1].append(run)
        acc += sum(len(ln.text) for ln in run)
    _FORKED = matcher
    try:
        with multiprocessing.get_context("fork").Pool(len(groups)) as pool:
            parts = pool.map(_scan_group, groups)
    finally:
        _FORKED = None
    return [f for part in parts for f in part]


def scan_file(path: str | Path, rules: RuleSet | None = None, *, source: str = "speech", fmt: str | None = None,
              each_line: bool = False) -> ScanResult:
    """Read ``path`` and run the text detectors on it (``rules``: the shipped set when None)."""
    rules = rules or load_rules()
    lines, fmt, encoding = read_scan_file(path, source=source, fmt=fmt)
    findings = scan_lines(lines, matcher_for(rules), each_line=each_line)
    p = Path(path)
    return ScanResult(str(p), hashlib.sha256(p.read_bytes()).hexdigest(), fmt, encoding, len(lines), rules.sha256,
                      findings)


# ------------------------------------------------------------------------------ writing
def finding_record(f: Finding) -> dict[str, Any]:
    """One output row: where (line, id, source, t, user), what (kind, term, matched, match …), why."""
    x = f.extra
    rec: dict[str, Any] = {"line": x.get("line"), "id": x.get("id"), "source": f.source, "t": f.start,
                           "user": x.get("user"), "kind": f.kind, "term": f.term, "matched": f.matched,
                           "match": f.match, "rule": f.rule, "brand": f.brand, "severity": f.severity,
                           "confidence": f.confidence, "evasion": x.get("evasion"), "gap": x.get("gap"),
                           "law": x.get("law"), "context": x.get("context"), "quote": f.quote,
                           "explanation": f.explanation}
    return {k: v for k, v in rec.items() if v is not None}


def to_jsonl(findings: list[Finding]) -> str:
    return "".join(json.dumps(finding_record(f), ensure_ascii=False) + "\n" for f in findings)


def to_csv(findings: list[Finding]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for f in findings:
        rec = finding_record(f)
        if isinstance(rec.get("evasion"), list):
            rec["evasion"] = "; ".join(rec["evasion"])
        w.writerow(["" if rec.get(c) is None else rec[c] for c in CSV_COLUMNS])
    return buf.getvalue()
