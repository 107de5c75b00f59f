"""Where a capture lives inside a case folder (one spelling of each path)."""

from __future__ import annotations

from pathlib import Path

from ..case import Case

CHAIN_NAME = "capture.jsonl"


class CaptureLayout:
    """``CASE/capture.jsonl`` (the chain) and ``CASE/capture/`` (segments, stamps, remux, logs)."""

    def __init__(self, case: Case | Path | str):
        self.case = case if isinstance(case, Case) else Case(case)
        self.root = self.case.root

    @property
    def chain(self) -> Path:
        return self.root / CHAIN_NAME

    @property
    def folder(self) -> Path:
        return self.root / "capture"

    @property
    def segments(self) -> Path:
        return self.folder / "segments"

    @property
    def partial(self) -> Path:
        """Segments a killed recorder left unfinished: kept and chained, never remuxed."""
        return self.folder / "partial"

    @property
    def stamps(self) -> Path:
        return self.folder / "stamps"

    @property
    def sessions(self) -> Path:
        return self.folder / "sessions"

    @property
    def recording(self) -> Path:
        """The remuxed concatenation of every segment, in chain order (what analyze reads)."""
        return self.folder / "recording.ts"

    @property
    def chat(self) -> Path:
        """Chat derived from the chain for ``lsf analyze``: ``{t, user, text}`` JSONL, t in media seconds."""
        return self.folder / "chat.jsonl"

    @property
    def summary(self) -> Path:
        return self.folder / "capture.json"

    @property
    def signature(self) -> Path:
        return self.folder / "capture.sig"

    @property
    def public_key(self) -> Path:
        return self.folder / "capture.pub.pem"

    def segment_name(self, index: int) -> str:
        return f"{index:06d}.ts"

    def rel(self, path: Path) -> str:
        return self.case.rel(path)


def is_capture_case(path: Path | str) -> bool:
    p = Path(path)
    return p.is_dir() and (p / CHAIN_NAME).is_file()
