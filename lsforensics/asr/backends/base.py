"""The backend interface: one model, decode an audio array into segments with word timestamps."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..types import Segment
from ..weights import ModelInfo

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class DecodeOptions:
    """Decoding settings. The record uses the defaults: no hotwords, no prompt (unbiased)."""

    language: str
    beam_size: int = 5
    word_timestamps: bool = True
    vad: bool = True
    hotwords: str | None = None  # biased pass only
    initial_prompt: str | None = None  # biased pass only
    # Whisper's temperature fallback re-decodes a segment that loops or is improbable; sampling
    # is seeded afresh for every decode (see faster.py) so a rerun, or another split of the
    # chunks between processes, gives the same record.
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    condition_on_previous_text: bool = False  # conditioning spreads one hallucination into the next window
    max_new_tokens: int | None = None
    batch_size: int = 0  # >0: batched inference over VAD chunks where the backend supports it

    @property
    def biased(self) -> bool:
        return bool(self.hotwords or self.initial_prompt)


class Backend(ABC):
    name: ClassVar[str]
    formats: ClassVar[tuple[str, ...]]  # model formats it can run (after conversion where needed)

    def __init__(self, model: ModelInfo, threads: int = 0):
        self.model = model
        self.threads = threads

    @abstractmethod
    def detect_language(self, audio: np.ndarray) -> tuple[str, float, dict[str, float]]:
        """(best language, its probability, top probabilities) on the first 30 s of ``audio``."""

    @abstractmethod
    def transcribe(self, audio: np.ndarray, options: DecodeOptions) -> tuple[list[Segment], float]:
        """Segments (times relative to the array start, raw model text in ``text`` and ``raw_text``)
        and the seconds of audio judged to be speech."""

    def score(self, audio: np.ndarray, texts: list[str], language: str) -> list[float] | None:
        """Log-likelihood (sum over tokens, natural log) of each of ``texts`` as the transcript of
        ``audio`` (at most 30 s) under the *unbiased* model: no hotwords, no prompt. None where the
        backend cannot score a given text (then nothing heard only under bias is accepted)."""
        return None

    def describe(self) -> dict[str, object]:
        return {"backend": self.name}
