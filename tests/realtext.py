"""The real livestream text of ``../shared/realdata/livestream_text/`` as the text detectors see it.

Shared by tests/test_text_realdata.py and benchmarks/detect.py. The lines are read from the
shared folder at test time and never copied into the repository (they carry no licence).

A *unit* is what the corpus was split by: one live-room video chunk (``asr0019``), one
customer-service dialogue (``ecd:test:431``), one seller article (``msnews:…``); a morph-set
sentence (``amr:…``) stands alone. Negatives and positives of a unit are put back in order
and scanned as one stream, the way ``lsf scan`` reads a transcript export; ``each_line`` scans
every line alone, the way the issue's "before" figures were measured.
"""

from __future__ import annotations

import csv
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from lsforensics.findings import Finding
from lsforensics.scan import ScanLine, scan_lines
from lsforensics.text.match import Matcher

DATA = Path(__file__).resolve().parent / "data" / "text"


def realtext_dir() -> Path:
    from conftest import REALDATA  # noqa: PLC0415 - the tests' one pointer at ../shared/realdata

    return REALDATA / "livestream_text"


@dataclass
class Row:
    id: str
    corpus: str
    source: str
    text: str
    positive: bool
    kinds: tuple[str, ...] = ()  # expected "kind" or "kind:Brand" (positives)
    certainty: str = ""  # sure | uncertain (positives)
    allowed: frozenset[str] = frozenset()  # right findings on a negative line
    reviewed: str = ""


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def load_rows(folder: Path | None = None) -> list[Row]:
    folder = folder or realtext_dir()
    rows = []
    for r in _read(folder / "negatives.tsv"):
        rows.append(Row(r["id"], r["corpus"], r["source"], r["text"], False, reviewed=r["reviewed"],
                        allowed=frozenset(a.strip() for a in r["allowed"].split(",") if a.strip())))
    for r in _read(folder / "positives.tsv"):
        rows.append(Row(r["id"], r["corpus"], r["source"], r["text"], True,
                        kinds=tuple(k.strip() for k in r["kinds"].split(",") if k.strip()), certainty=r["certainty"]))
    return rows


def unit_of(rid: str) -> str:
    if rid.startswith("asr"):
        return rid.split(".")[0]
    if rid.startswith("amr:"):
        return rid
    return rid.rsplit(":", 1)[0]


def _order(rid: str) -> tuple[int, str]:
    tail = rid.rsplit(".", 1)[-1] if rid.startswith("asr") else rid.rsplit(":", 1)[-1]
    return (int(tail), rid) if tail.isdigit() else (0, rid)


def half_of(rid: str) -> str:
    """A fixed split by unit, for checking that the rules generalise: "a" (designed on) or "b"."""
    return "a" if zlib.crc32(unit_of(rid).encode()) % 2 == 0 else "b"


@dataclass
class Relabel:
    """A label this project's reader disagrees with, with the reason (tests/data/text/realdata_labels.tsv)."""

    id: str
    verdict: str  # signal (a right finding on a line labelled negative) | uncertain | not_signal
    kinds: tuple[str, ...]
    reason: str


def load_relabels() -> dict[str, Relabel]:
    out = {}
    for raw in (DATA / "realdata_labels.tsv").read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        rid, verdict, kinds, reason = raw.split("\t")[:4]
        out[rid] = Relabel(rid, verdict, tuple(k for k in kinds.split(",") if k), reason)
    return out


def scan_rows(rows: list[Row], matcher: Matcher, *, each_line: bool = False) -> dict[str, list[Finding]]:
    """Findings per row id: every unit's lines in order as one scan input (one stream per unit)."""
    by_unit: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_unit[unit_of(r.id)].append(r)
    lines: list[ScanLine] = []
    ids: list[str] = []
    for unit in sorted(by_unit):
        for r in sorted(by_unit[unit], key=lambda r: _order(r.id)):
            lines.append(ScanLine(len(lines) + 1, r.text, r.source, stream=unit))
            ids.append(r.id)
    out: dict[str, list[Finding]] = {rid: [] for rid in ids}
    for f in scan_lines(lines, matcher, each_line=each_line):
        out[ids[f.extra["line"] - 1]].append(f)
    return out


def _matches(f: Finding, want: str) -> bool:
    kind, _, brand = want.partition(":")
    return f.kind == kind and (not brand or f.brand == brand)


@dataclass
class Measure:
    """False findings on negative lines and recall on sure positives, per corpus and per kind."""

    neg_lines: Counter = field(default_factory=Counter)  # corpus -> lines
    false: Counter = field(default_factory=Counter)  # corpus -> false findings
    false_kind: Counter = field(default_factory=Counter)
    pos: Counter = field(default_factory=Counter)  # kind / @corpus -> expected
    hit: Counter = field(default_factory=Counter)
    false_rows: list[tuple[Row, Finding]] = field(default_factory=list)
    missed: list[tuple[Row, str]] = field(default_factory=list)
    relabelled: list[tuple[Row, Finding, Relabel]] = field(default_factory=list)

    @property
    def per_1000(self) -> float:
        return 1000 * sum(self.false.values()) / max(1, sum(self.neg_lines.values()))

    def corpus_per_1000(self, corpus: str) -> float:
        return 1000 * self.false[corpus] / max(1, self.neg_lines[corpus])

    @property
    def recall(self) -> float:
        kinds = [k for k in self.pos if not k.startswith("@")]
        return sum(self.hit[k] for k in kinds) / max(1, sum(self.pos[k] for k in kinds))

    def report(self, title: str) -> str:
        out = [f"{title}: false findings {sum(self.false.values())} in {sum(self.neg_lines.values())} negative "
               f"lines = {self.per_1000:.2f}/1000; recall on sure positives "
               f"{sum(self.hit[k] for k in self.pos if not k.startswith('@'))}/"
               f"{sum(self.pos[k] for k in self.pos if not k.startswith('@'))} = {self.recall:.3f}"]
        for c in sorted(self.neg_lines):
            out.append(f"    {c:15s} negatives {self.neg_lines[c]:6d}  false {self.false[c]:3d} = "
                       f"{self.corpus_per_1000(c):6.2f}/1000   recall {self.hit['@' + c]}/{self.pos['@' + c]}")
        for k in sorted({*self.false_kind, *(k for k in self.pos if not k.startswith('@'))}):
            out.append(f"    kind {k:18s} false {self.false_kind[k]:3d} = "
                       f"{1000 * self.false_kind[k] / max(1, sum(self.neg_lines.values())):5.2f}/1000   "
                       f"recall {self.hit[k]}/{self.pos[k]}" + (f" = {self.hit[k] / self.pos[k]:.2f}" if self.pos[k] else ""))
        return "\n".join(out)


def measure(rows: list[Row], found: dict[str, list[Finding]], relabels: dict[str, Relabel] | None = None) -> Measure:
    """Score findings against the labels; a relabelled line (our reading, with a reason) is
    scored by our verdict instead: ``signal`` and ``uncertain`` lines count as neither."""
    relabels = relabels or {}
    m = Measure()
    for r in rows:
        fs = found.get(r.id, [])
        if not r.positive:
            m.neg_lines[r.corpus] += 1
            for f in fs:
                if any(_matches(f, a) for a in r.allowed):
                    continue
                rl = relabels.get(r.id)
                if rl is not None and rl.verdict in ("signal", "uncertain"):
                    m.relabelled.append((r, f, rl))
                    continue
                m.false[r.corpus] += 1
                m.false_kind[f.kind] += 1
                m.false_rows.append((r, f))
        elif r.certainty == "sure":
            for want in r.kinds:
                kind = want.partition(":")[0]
                ok = any(_matches(f, want) for f in fs)
                for key in (kind, "@" + r.corpus):
                    m.pos[key] += 1
                    m.hit[key] += ok
                if not ok:
                    m.missed.append((r, want))
    return m
