"""Transcript dataclasses, serialised to SPEC.md ``transcript.json`` (schema ``lsf.transcript/1``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

TRANSCRIPT_SCHEMA = "lsf.transcript/1"


@dataclass
class Word:
    start: float
    end: float
    word: str
    p: float | None  # None where a backend gives no word probability (transformers)

    def to_dict(self) -> dict[str, Any]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "word": self.word,
                "p": None if self.p is None else round(self.p, 4)}


@dataclass
class Segment:
    start: float
    end: float
    text: str  # simplified Chinese (OpenCC t2s) for zh; as decoded otherwise
    words: list[Word] = field(default_factory=list)
    raw_text: str = ""  # exactly what the model wrote, kept for the record
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"start": round(self.start, 3), "end": round(self.end, 3), "text": self.text,
                             "raw_text": self.raw_text, "words": [w.to_dict() for w in self.words]}
        for k in ("avg_logprob", "no_speech_prob", "compression_ratio"):
            v = getattr(self, k)
            if v is not None:
                d[k] = round(float(v), 4)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Segment:
        return cls(d["start"], d["end"], d["text"], [Word(**w) for w in d.get("words", [])], d.get("raw_text", ""),
                   d.get("avg_logprob"), d.get("no_speech_prob"), d.get("compression_ratio"))


@dataclass
class Candidate:
    """A lexicon term proposed by the biased re-decoding pass; ``accepted`` only when corroborated."""

    term: str
    start: float
    end: float
    heard: str  # the biased pass's text around the term
    unbiased: str  # the unbiased record's text at the same time
    similarity: float  # pinyin similarity of ``unbiased`` to ``term``
    accepted: bool
    method: str
    reason: str = ""
    # Acoustic corroboration: log-likelihood per character of the record's text with the term put
    # in, minus that of the record as decoded, both scored by the unbiased model over the same
    # window (None: not scored). Only the biased pass hearing the term *and* this score clearing
    # the threshold make an accepted candidate.
    acoustic_llr: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["start"], d["end"], d["similarity"] = round(self.start, 3), round(self.end, 3), round(self.similarity, 4)
        if self.acoustic_llr is None:
            d.pop("acoustic_llr")
        else:
            d["acoustic_llr"] = round(self.acoustic_llr, 3)
        return d


@dataclass
class Transcript:
    language: str
    backend: str
    model: dict[str, Any]
    segments: list[Segment] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)  # segments removed as hallucination, kept visible
    notes: list[str] = field(default_factory=list)
    duration: float = 0.0
    speech_duration: float | None = None
    language_probability: float | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments) if self.language == "zh" else " ".join(
            s.text.strip() for s in self.segments)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": TRANSCRIPT_SCHEMA,
            "language": self.language,
            "language_probability": None if self.language_probability is None else round(self.language_probability, 4),
            "backend": self.backend,
            "model": self.model,
            "duration": round(self.duration, 3),
            "speech_duration": None if self.speech_duration is None else round(self.speech_duration, 3),
            "params": self.params,
            "notes": self.notes,
            "segments": [s.to_dict() for s in self.segments],
            "candidates": [c.to_dict() for c in self.candidates],
            "dropped": self.dropped,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Transcript:
        return cls(d["language"], d["backend"], d["model"], [Segment.from_dict(s) for s in d.get("segments", [])],
                   [Candidate(**c) for c in d.get("candidates", [])], d.get("dropped", []), d.get("notes", []),
                   d.get("duration", 0.0), d.get("speech_duration"), d.get("language_probability"), d.get("params", {}))
