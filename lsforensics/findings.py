"""Finding: the unit of evidence every detector emits, and ``FindingsDoc``, the one reader of
``findings.json`` (SPEC.md).

Finding ids are derived from what the finding *is* (kind, rule, source, start time to the
millisecond, the matched text), not from its position in the list, so rerunning ``lsf detect``
on the same inputs gives every finding the same id and a reviewer's decision about ``F3c09a1d2e4``
still names the same finding after other findings appear or disappear. ``n`` is a short display
number (1, 2, … in time order) that may change between runs; nothing refers to a finding by it.

Every consumer (report, batch summary, network, review, CLI) reads findings through
:class:`FindingsDoc` rather than re-parsing dicts, and every timecode comes from :func:`timecode`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

FINDINGS_SCHEMA = "lsf.findings/1"
MAX_FINDINGS_BYTES = 256 * 1024 * 1024  # a findings.json larger than this is refused, not parsed
MAX_FINDINGS = 200_000

Kind = str  # brand_codeword, brand_mention, counterfeit_slang, absolute_claim, health_claim, viewer_doubt,
#             masked_logo, logo_match, spec_mismatch, price_anomaly, brand_conflict (extendable; docs/spec.md)
Source = Literal["speech", "screen", "screen_chat", "frame", "chat", "page"]
Severity = Literal["high", "medium", "low"]
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
SEVERITIES = ("high", "medium", "low")
ID_HEX = 10  # 40 bits per id; a collision inside one case is resolved deterministically (see assign_ids)


def timecode(t: Any, *, empty: str = "—") -> str:
    """``HH:MM:SS.mmm`` from seconds on the video's own clock (SPEC: seconds from the video start).

    The one timecode of the project: report, batch summary, CLI, review page, subtitles and
    exhibits all print times with it. Not a number (None, NaN, a string) gives ``empty``.
    """
    if not isinstance(t, int | float) or isinstance(t, bool) or not math.isfinite(t):
        return empty
    ms = int(round(float(t) * 1000))
    sign = "-" if ms < 0 else ""
    h, rem = divmod(abs(ms), 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{sign}{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def as_number(x: Any) -> float | None:
    """A finite number from untrusted JSON, else None (bools are not numbers)."""
    ok = isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
    return float(x) if ok else None


@dataclass
class Finding:
    kind: Kind
    source: Source
    start: float | None
    end: float | None
    rule: str
    severity: Severity
    confidence: float
    match: str = "exact"  # exact, pinyin, fuzzy, redecode, visual, rule
    term: str | None = None  # canonical lexicon entry
    matched: str | None = None  # text as found
    brand: str | None = None
    quote: str | None = None
    evidence: list[str] = field(default_factory=list)
    bbox: list[float] | None = None
    explanation: str | None = None
    id: str | None = None  # stable, from identity(): F + 10 hex
    n: int | None = None  # display number in time order (1, 2, …); may change between runs
    extra: dict[str, Any] = field(default_factory=dict)  # kind-specific: claim/spec, price/reference/ratio

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        extra = d.pop("extra")
        d["confidence"] = round(float(self.confidence), 4)
        out = {"id": d.pop("id"), "n": d.pop("n"), **d}
        out.update(extra)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        base = {k: v for k, v in d.items() if k in known}
        extra = {k: v for k, v in d.items() if k not in known}
        return cls(**base, extra=extra)

    # -- identity -------------------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        """What the finding is: the fields its id is derived from."""
        return {"kind": self.kind, "rule": self.rule, "source": self.source, "start_ms": _ms(self.start),
                "matched": self.matched if self.matched is not None else self.term}

    def digest(self) -> str:
        """sha256 of the finding as written (display number left out): what a reviewer saw."""
        return finding_digest(self.to_dict())

    @property
    def timecode(self) -> str:
        return timecode(self.start)

    @property
    def label(self) -> str:
        """``#7 F3c09a1d2e4``: the display number for people, the id for records."""
        return f"#{self.n} {self.id}" if self.n is not None else str(self.id)


def _ms(t: float | None) -> int | None:
    v = as_number(t)
    return None if v is None else int(round(v * 1000))


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def finding_digest(d: dict[str, Any]) -> str:
    """sha256 of one finding's canonical JSON (sorted keys, no display number ``n``)."""
    return hashlib.sha256(_canonical({k: v for k, v in d.items() if k != "n"})).hexdigest()


def _discriminators(f: Finding) -> dict[str, Any]:
    # Used only when two findings share an identity (e.g. two masked regions in one frame).
    return {"end_ms": _ms(f.end), "term": f.term, "brand": f.brand, "quote": f.quote, "bbox": f.bbox,
            "evidence": f.evidence[:1], "extra": f.extra}


def _hex_id(obj: Any) -> str:
    return "F" + hashlib.sha256(_canonical(obj)).hexdigest()[:ID_HEX]


def sort_key(f: Finding) -> tuple:
    return (f.start if f.start is not None else float("inf"), SEVERITY_ORDER.get(f.severity, 9), f.kind,
            f.rule, f.matched or f.term or "")


def strength(f: Finding) -> tuple:
    """Sort key, strongest first: severity, then confidence, then time, then id."""
    return (SEVERITY_ORDER.get(f.severity, 9), -(as_number(f.confidence) or 0.0),
            f.start if f.start is not None else float("inf"), str(f.id))


def assign_ids(findings: list[Finding]) -> list[Finding]:
    """Order findings by time then severity, give each its stable id and a display number.

    Findings that share an identity get ids from their identity plus discriminating fields;
    true duplicates (every field equal) are told apart by a ``-2``, ``-3`` suffix in list order,
    which is deterministic because detectors are.
    """
    ordered = sorted(findings, key=sort_key)
    groups: dict[str, list[Finding]] = {}
    for f in ordered:
        groups.setdefault(_hex_id(f.identity()), []).append(f)
    seen: Counter[str] = Counter()
    for base, members in groups.items():
        for f in members:
            fid = base if len(members) == 1 else _hex_id({**f.identity(), **_discriminators(f)})
            seen[fid] += 1
            f.id = fid if seen[fid] == 1 else f"{fid}-{seen[fid]}"
    for n, f in enumerate(ordered, 1):
        f.n = n
    return ordered


def findings_document(findings: list[Finding], *, source_sha256: str, rules_sha256: str) -> dict[str, Any]:
    """The ``findings.json`` document of SPEC.md, findings in time order with stable ids."""
    ordered = assign_ids(findings)
    return {
        "schema": FINDINGS_SCHEMA,
        "source_sha256": source_sha256,
        "rules_sha256": rules_sha256,
        "findings": [f.to_dict() for f in ordered],
    }


class FindingsError(ValueError):
    """findings.json cannot be read as findings (the message names the finding and field)."""


def _text_or_none(v: Any) -> str | None:
    if v is None or isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False)


def _coerce(d: dict[str, Any], i: int) -> Finding:
    """A Finding from one untrusted dict: required fields checked, odd values made harmless."""
    for key in ("kind", "rule"):
        if not isinstance(d.get(key), str) or not d.get(key):
            raise FindingsError(f"finding {i + 1}: '{key}' must be a non-empty string")
    fid = d.get("id")
    if fid is not None and not isinstance(fid, str):
        raise FindingsError(f"finding {i + 1}: 'id' must be a string")
    known = {f for f in Finding.__dataclass_fields__ if f != "extra"}
    bbox = d.get("bbox")
    ok_bbox = isinstance(bbox, list) and len(bbox) == 4 and all(as_number(v) is not None for v in bbox)
    n = d.get("n")
    return Finding(
        kind=d["kind"], source=str(d.get("source") or ""), start=as_number(d.get("start")), end=as_number(d.get("end")),
        rule=d["rule"], severity=str(d.get("severity") or ""), confidence=as_number(d.get("confidence")) or 0.0,
        match=str(d.get("match") or ""), term=_text_or_none(d.get("term")), matched=_text_or_none(d.get("matched")),
        brand=_text_or_none(d.get("brand")), quote=_text_or_none(d.get("quote")),
        evidence=[e for e in d.get("evidence") or [] if isinstance(e, str)] if isinstance(d.get("evidence"), list) else [],
        bbox=[float(v) for v in bbox] if ok_bbox else None, explanation=_text_or_none(d.get("explanation")),
        id=fid, n=n if isinstance(n, int) and not isinstance(n, bool) else None,
        extra={k: v for k, v in d.items() if k not in known})


@dataclass
class FindingsDoc:
    """``findings.json`` as typed objects: load it once, then sort, summarise, look up by id."""

    findings: list[Finding]
    source_sha256: str | None = None
    rules_sha256: str | None = None
    schema: str = FINDINGS_SCHEMA
    digests: dict[str, str] = field(default_factory=dict)  # id -> sha256 of the finding as written

    @classmethod
    def from_dict(cls, doc: Any) -> FindingsDoc:
        if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
            raise FindingsError("no 'findings' list")
        raw = doc["findings"]
        if len(raw) > MAX_FINDINGS:
            raise FindingsError(f"{len(raw)} findings, more than the {MAX_FINDINGS} a case may hold")
        findings, digests = [], {}
        for i, d in enumerate(raw):
            if not isinstance(d, dict):
                raise FindingsError(f"finding {i + 1} is not an object")
            f = _coerce(d, i)
            if f.id is None:
                f.id = f"#{i + 1}"  # an old or hand-made file without ids: positional, never stable
            if f.id in digests:
                raise FindingsError(f"finding {i + 1}: id {f.id} is used twice")
            digests[f.id] = finding_digest(d)
            findings.append(f)
        return cls(findings, _text_or_none(doc.get("source_sha256")), _text_or_none(doc.get("rules_sha256")),
                   str(doc.get("schema") or ""), digests)

    @classmethod
    def load(cls, path: str | Path, *, missing_ok: bool = False) -> FindingsDoc:
        """Read and check ``findings.json``; a bad file is an ``InputError`` naming what is wrong."""
        from .errors import InputError

        path = Path(path)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            if missing_ok:
                return cls([])
            raise InputError(f"{path} is missing: run `lsf detect` first") from None
        if size > MAX_FINDINGS_BYTES:
            raise InputError(f"{path}: {size} bytes, more than the {MAX_FINDINGS_BYTES} a findings file may have")
        try:
            doc = json.loads(path.read_bytes())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{path} is not valid JSON ({exc})") from None
        try:
            return cls.from_dict(doc)
        except FindingsError as exc:
            raise InputError(f"{path}: {exc}") from None

    # -- views ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.findings)

    def __iter__(self):  # noqa: ANN204 - Iterator[Finding]
        return iter(self.findings)

    def by_id(self) -> dict[str, Finding]:
        return {str(f.id): f for f in self.findings}

    def in_time_order(self) -> list[Finding]:
        return sorted(self.findings, key=sort_key)

    def strongest(self, top: int | None = None) -> list[Finding]:
        ranked = sorted(self.findings, key=strength)
        return ranked if top is None else ranked[:top]

    def at_or_above(self, severity: str) -> list[Finding]:
        limit = SEVERITY_ORDER[severity]
        return [f for f in self.findings if SEVERITY_ORDER.get(f.severity, 9) <= limit]

    def brands(self) -> list[str]:
        return sorted({f.brand for f in self.findings if f.brand})

    def summary(self, top: int = 5) -> dict[str, Any]:
        """Counts by kind, severity and source, implied brands, and the strongest findings."""
        sev = Counter(f.severity for f in self.findings)
        return {
            "findings": len(self.findings),
            "by_kind": dict(sorted(Counter(f.kind for f in self.findings).items())),
            "by_severity": {s: sev.get(s, 0) for s in SEVERITIES},
            "by_source": dict(Counter(f.source for f in self.findings).most_common()),
            "brands": self.brands(),
            "strongest": [{"id": f.id, "n": f.n, "kind": f.kind, "severity": f.severity,
                           "confidence": f.confidence, "start": f.start, "end": f.end, "source": f.source,
                           "brand": f.brand, "term": f.term, "quote": f.quote, "timecode": timecode(f.start)}
                          for f in self.strongest(top)],
        }
