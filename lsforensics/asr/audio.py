"""Audio input: streamed reads of the case's 16 kHz mono WAV, and chunk planning at quiet points.

Long streams are processed in chunks (default 5 min) so memory stays flat for hours of audio and a
killed run resumes at the last finished chunk. A chunk ends at the quietest 100 ms frame in the
last 15 s before its nominal end, so a cut rarely falls inside a word; the plan depends only on the
audio, so a resumed run cuts at exactly the same places.
"""

from __future__ import annotations

import subprocess
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

SR = 16000


@dataclass(frozen=True)
class Chunk:
    index: int
    start: float  # seconds
    end: float


def load_audio(path: str | Path) -> np.ndarray:
    """Whole file as float32 mono 16 kHz (WAV read directly, anything else decoded by ffmpeg)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"audio file {p} does not exist")
    try:
        return read_wav(p)
    except NotPlainWav:
        pass
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(p), "-f", "s16le", "-ac", "1", "-ar", str(SR), "-"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"cannot decode audio {p}: {msg[-1] if msg else 'ffmpeg failed'}")
    return np.frombuffer(proc.stdout, dtype="<i2").astype(np.float32) / 32768.0


class NotPlainWav(Exception):
    """Not a 16 kHz mono s16 WAV: decode it with ffmpeg instead."""


class WavReader:
    """Random access to a 16 kHz mono s16 WAV without loading it whole."""

    def __init__(self, path: Path):
        try:
            self._w = wave.open(str(path), "rb")
        except (wave.Error, EOFError, OSError):
            raise NotPlainWav(str(path)) from None
        if (self._w.getnchannels(), self._w.getsampwidth(), self._w.getframerate()) != (1, 2, SR):
            self._w.close()
            raise NotPlainWav(str(path))
        self.frames = self._w.getnframes()
        self.duration = self.frames / SR

    def read(self, start: float, end: float) -> np.ndarray:
        a = max(0, int(round(start * SR)))
        b = min(self.frames, int(round(end * SR)))
        if b <= a:
            return np.zeros(0, dtype=np.float32)
        self._w.setpos(a)
        raw = self._w.readframes(b - a)
        return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0

    def close(self) -> None:
        self._w.close()

    def __enter__(self) -> WavReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_wav(path: Path) -> np.ndarray:
    with WavReader(path) as r:
        return r.read(0, r.duration)


def plan_chunks(reader: WavReader, chunk_s: float = 120.0, search_s: float = 15.0) -> Iterator[Chunk]:
    pos, i = 0.0, 0
    while pos < reader.duration - 1e-6:
        target = pos + chunk_s
        if target >= reader.duration - search_s / 2:  # the rest fits: do not leave a sliver
            yield Chunk(i, pos, reader.duration)
            return
        win = reader.read(target - search_s, target)
        frame = SR // 10
        n = len(win) // frame
        rms = np.sqrt((win[: n * frame].reshape(n, frame) ** 2).mean(axis=1))
        cut = target - search_s + (int(np.argmin(rms)) + 0.5) * 0.1
        yield Chunk(i, pos, cut)
        pos, i = cut, i + 1
