"""Detector registry: every detector (text, visual, claims) plugs into the one ``detect`` stage.

A detector reads case files (transcript, OCR, chat, pages, frames) plus the rule set and returns
findings. The detect stage (``lsforensics.detect.stage``) imports the detector modules, which
register their classes with ``@register``, runs them sorted by ``order`` and writes the single
``findings.json``. Detectors never write ``findings.json`` themselves: one writer gives every
finding its stable id (``findings.assign_ids``) and keeps the custody entry consistent.

``order``: detectors that only read case files use the default 50; detectors that build on other
findings (claims vs page, price model) use 90 and receive the earlier findings as ``prior``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from ..case import Case
from ..findings import Finding
from ..progress import Progress
from ..rules import RuleSet


class Detector(ABC):
    """One family of findings. Subclasses set ``name`` and implement ``detect``."""

    name: ClassVar[str]  # e.g. "text.speech", "visual.masking", "claims.specs"
    order: ClassVar[int] = 50  # run order; claims/price detectors use 90 (they need prior findings)

    def inputs(self, case: Case) -> list[Path]:
        """Case files this detector reads; missing ones are fine (the stage keeps existing ones)."""
        return []

    def params(self) -> dict[str, Any]:
        """Settings that change the output; they go into the detect stage's params (idempotency)."""
        return {}

    @abstractmethod
    def detect(self, case: Case, rules: RuleSet, prior: list[Finding], progress: Progress) -> list[Finding]:
        """Return findings (ids unassigned). ``prior`` = findings of detectors with a lower order."""


DETECTORS: list[type[Detector]] = []


def register(cls: type[Detector]) -> type[Detector]:
    """Class decorator: add a detector to the registry; a re-imported module replaces its entry."""
    DETECTORS[:] = [d for d in DETECTORS if d.name != cls.name]
    DETECTORS.append(cls)
    return cls
