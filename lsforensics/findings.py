"""Finding: the unit of evidence every detector emits (SPEC.md ``findings.json``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FINDINGS_SCHEMA = "lsf.findings/1"

Kind = str  # brand_codeword, brand_mention, counterfeit_slang, absolute_claim, health_claim,
#             masked_logo, logo_match, spec_mismatch, price_anomaly, (extendable)
Source = Literal["speech", "screen", "screen_chat", "frame", "chat", "page"]
Severity = Literal["high", "medium", "low"]
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


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
    id: str | None = None  # assigned when findings are written: F0001 ...
    extra: dict[str, Any] = field(default_factory=dict)  # kind-specific: claim/spec, price/reference/ratio

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        extra = d.pop("extra")
        d["confidence"] = round(float(self.confidence), 4)
        out = {"id": d.pop("id"), **d}
        out.update(extra)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        base = {k: v for k, v in d.items() if k in known}
        extra = {k: v for k, v in d.items() if k not in known}
        return cls(**base, extra=extra)


def sort_key(f: Finding) -> tuple:
    return (f.start if f.start is not None else float("inf"), SEVERITY_ORDER.get(f.severity, 9), f.kind)


def findings_document(findings: list[Finding], *, source_sha256: str, rules_sha256: str) -> dict[str, Any]:
    """Order findings by time then severity and number them F0001…; the document of SPEC.md."""
    ordered = sorted(findings, key=sort_key)
    for n, f in enumerate(ordered, 1):
        f.id = f"F{n:04d}"
    return {
        "schema": FINDINGS_SCHEMA,
        "source_sha256": source_sha256,
        "rules_sha256": rules_sha256,
        "findings": [f.to_dict() for f in ordered],
    }
