"""The voices of a case: speaker embeddings of the main speaking voice(s) (``voice.json``).

Model: Resemblyzer's GE2E speaker encoder (a 3-layer LSTM over 40-band mel spectrograms, trained
for speaker verification; Apache-2.0). Its weights ship inside the ``resemblyzer`` wheel
(``resemblyzer/pretrained.pt``, 17 MB) and are checked against a pinned sha256 before every use,
so ``voice.json`` names exactly the weights that produced it. Nothing is downloaded.

Method, in the order it runs:

1. Speech regions: the audio is made louder to -30 dBFS when quieter, then WebRTC VAD
   (aggressiveness 3) runs over 30 ms frames of ``media/audio.wav``, smoothed and dilated the way Resemblyzer's own preprocessing does it; regions under 1 s are
   dropped. At most ``MAX_SPEECH_S`` seconds are used, spread evenly over the stream (pieces of
   up to 30 s, every k-th one), so an hour costs the same as ten minutes and every part of the
   stream is heard.
2. Windows: each piece is loudness-normalised and cut into 1.6 s windows (1.3 per second), each
   embedded by the encoder (256 values, unit length).
3. Speakers: each window is averaged with its neighbours (about 3 s of speech), then the windows
   are clustered (average linkage on cosine distance, cut at ``CLUSTER_DISTANCE``). A cluster that
   holds at least ``MIN_SPEAKER_SHARE`` of the windows is a main voice (host, assistant); its
   embedding is the normalised mean of its windows, and its time ranges are listed.

Two voices are "the same" when the cosine similarity of their embeddings reaches
``VOICE_THRESHOLD``; the threshold and how it was chosen are in docs/links.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..case import Case, atomic_write_json
from ..errors import InputError
from ..progress import Progress
from ..stage import Stage

os.environ.setdefault("HF_HUB_OFFLINE", "1")

VOICE_SCHEMA = "lsf.voice/1"
PACKAGE = "resemblyzer"
PACKAGE_VERSION = "0.1.4"
WEIGHTS_FILE = "pretrained.pt"
WEIGHTS_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
MODEL_NAME = f"Resemblyzer GE2E speaker encoder ({PACKAGE} {PACKAGE_VERSION}, {WEIGHTS_FILE})"
INSTALL = f"pip install --no-deps {PACKAGE}=={PACKAGE_VERSION} (plus librosa and webrtcvad-wheels)"

SR = 16000
VAD_FRAME_MS = 30
VAD_MODE = 3
VAD_SMOOTH = 8  # frames in the moving average (Resemblyzer's vad_moving_average_width)
VAD_DILATE = 6  # frames of silence kept inside speech (Resemblyzer's vad_max_silence_length)
MIN_REGION_S = 1.0
PIECE_S = 30.0
MAX_SPEECH_S = 600.0
WINDOW_RATE = 1.3  # windows per second of speech (Resemblyzer's default)
CLUSTER_DISTANCE = 0.30  # average-linkage cosine distance at which two groups of windows are two voices
SMOOTH_WINDOWS = 3
BATCH = 32  # windows per forward pass (one fixed shape)
MIN_SPEAKER_SHARE = 0.08
MIN_SPEAKER_S = 4.0  # and at least this much speech
MIN_SPEAKER_WINDOWS = 3
VOICE_THRESHOLD = 0.69  # cosine similarity meaning "same voice": EER threshold of the Mandarin set (tests/test_links_voice.py)


@dataclass
class Speaker:
    id: str
    seconds: float  # speech assigned to this voice (windows x hop, after the budget)
    windows: int
    segments: list[list[float]]  # [[start, end], ...] where this voice was heard
    embedding: list[float]
    cohesion: float  # mean cosine of its windows to its embedding (how tight the voice is)

    def vector(self) -> np.ndarray:
        return np.asarray(self.embedding, dtype=np.float32)


@dataclass
class VoiceDoc:
    speakers: list[Speaker] = field(default_factory=list)
    model: dict[str, Any] = field(default_factory=dict)
    segments_used: list[list[float]] = field(default_factory=list)
    speech_seconds: float = 0.0
    note: str | None = None

    @classmethod
    def from_json(cls, doc: Any, where: str) -> VoiceDoc:
        if not isinstance(doc, dict) or doc.get("schema") != VOICE_SCHEMA or not isinstance(doc.get("speakers"), list):
            raise InputError(f"{where}: not an lsf voice file (schema {VOICE_SCHEMA})")
        speakers = []
        for s in doc["speakers"]:
            emb = s.get("embedding") if isinstance(s, dict) else None
            if not isinstance(emb, list) or len(emb) != 256:
                raise InputError(f"{where}: speaker without a 256-value embedding")
            speakers.append(Speaker(str(s.get("id")), float(s.get("seconds") or 0), int(s.get("windows") or 0),
                                    list(s.get("segments") or []), [float(x) for x in emb],
                                    float(s.get("cohesion") or 0)))
        return cls(speakers, dict(doc.get("model") or {}), list(doc.get("segments_used") or []),
                   float(doc.get("speech_seconds") or 0), doc.get("note"))


# -- the model --------------------------------------------------------------------------------

_VERIFIED: dict[tuple[str, int, int], str] = {}


def weights_path() -> Path:
    """The shipped encoder weights, checked against the pinned sha256 (once per file state)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"the voice encoder is not installed: {INSTALL}")
    path = Path(next(iter(spec.submodule_search_locations))) / WEIGHTS_FILE
    if not path.is_file():
        raise InputError(f"voice encoder weights missing ({path}); reinstall: {INSTALL}")
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _VERIFIED:
        h = hashlib.sha256(path.read_bytes()).hexdigest()
        if h != WEIGHTS_SHA256:
            raise InputError(f"voice encoder weights {path} differ from the pinned sha256 "
                             f"({h[:12]}… instead of {WEIGHTS_SHA256[:12]}…); reinstall: {INSTALL}")
        _VERIFIED[key] = h
    return path


def model_info() -> dict[str, Any]:
    return {"name": MODEL_NAME, "weights_sha256": WEIGHTS_SHA256, "weights_file": WEIGHTS_FILE,
            "embedding_size": 256, "window_s": 1.6, "window_rate": WINDOW_RATE}


_ENCODER: Any = None


def encoder() -> Any:
    """The encoder, loaded once per process from the verified weights (CPU)."""
    global _ENCODER
    path = weights_path()
    if _ENCODER is None:
        with contextlib.redirect_stdout(None):
            from resemblyzer import VoiceEncoder

            _ENCODER = VoiceEncoder("cpu", verbose=False, weights_fpath=path)
        _ENCODER.eval()
    return _ENCODER


def check_available() -> None:
    """Fail before a case is touched when the model or its libraries are missing."""
    weights_path()
    for mod in ("torch", "librosa", "webrtcvad"):
        if importlib.util.find_spec(mod) is None:
            raise InputError(f"voice comparison needs the Python package {mod!r}: {INSTALL}")


# -- speech regions ---------------------------------------------------------------------------


def speech_regions(pcm16: np.ndarray) -> list[tuple[float, float]]:
    """Voiced stretches (seconds) by WebRTC VAD, smoothed like Resemblyzer's preprocessing."""
    import webrtcvad
    from scipy.ndimage import binary_dilation

    n = SR * VAD_FRAME_MS // 1000
    frames = len(pcm16) // n
    if frames == 0:
        return []
    vad = webrtcvad.Vad(VAD_MODE)
    raw = pcm16[: frames * n].astype("<i2").tobytes()
    flags = np.array([vad.is_speech(raw[i * 2 * n:(i + 1) * 2 * n], SR) for i in range(frames)], dtype=np.float64)
    smooth = np.convolve(flags, np.ones(VAD_SMOOTH) / VAD_SMOOTH, mode="same") >= 0.5
    mask = binary_dilation(smooth, np.ones(VAD_DILATE + 1)) if smooth.any() else smooth
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    step = VAD_FRAME_MS / 1000
    return [(round(s * step, 3), round(e * step, 3)) for s, e in zip(starts, ends, strict=True)
            if (e - s) * step >= MIN_REGION_S]


def budget(regions: list[tuple[float, float]], max_s: float = MAX_SPEECH_S) -> list[tuple[float, float]]:
    """Pieces of at most ``PIECE_S`` seconds, every k-th one, so at most ``max_s`` seconds in all."""
    pieces: list[tuple[float, float]] = []
    for s, e in regions:
        t = s
        while e - t >= MIN_REGION_S:
            pieces.append((t, min(e, t + PIECE_S)))
            t += PIECE_S
    total = sum(e - s for s, e in pieces)
    if total <= max_s:
        return pieces
    k = int(np.ceil(total / max_s))
    return pieces[::k]


# -- embedding and clustering -----------------------------------------------------------------


def _normalize_volume(wav: np.ndarray, target_dbfs: float = -30.0) -> np.ndarray:
    rms = float(np.sqrt(np.mean((wav * 32767) ** 2))) if len(wav) else 0.0
    if rms <= 0:
        return wav
    change = target_dbfs - 20 * np.log10(rms / 32767)
    return wav * (10 ** (change / 20)) if change > 0 else wav  # louder only, as Resemblyzer does


def embed_windows(wav: np.ndarray, pieces: list[tuple[float, float]]) -> tuple[np.ndarray, list[tuple[int, float, float]]]:
    """Window embeddings (n, 256) and, per window, (piece index, start s, end s).

    The windows of all pieces go through the network in batches of one fixed size: the LSTM's
    CPU kernels are prepared per input shape, and a new shape per piece cost ~1 s each time.
    """
    import torch
    from resemblyzer.audio import wav_to_mel_spectrogram

    enc = encoder()
    mels: list[np.ndarray] = []
    where: list[tuple[int, float, float]] = []
    for pi, (s, e) in enumerate(pieces):
        chunk = _normalize_volume(wav[int(s * SR):int(e * SR)].astype(np.float32))
        if len(chunk) < int(MIN_REGION_S * SR):
            continue
        wav_slices, mel_slices = enc.compute_partial_slices(len(chunk), WINDOW_RATE, 0.75)
        if wav_slices[-1].stop >= len(chunk):
            chunk = np.pad(chunk, (0, wav_slices[-1].stop - len(chunk)))
        mel = wav_to_mel_spectrogram(chunk)
        for ws, ms in zip(wav_slices, mel_slices, strict=True):
            mels.append(mel[ms])
            where.append((pi, round(s + ws.start / SR, 2), round(min(e, s + ws.stop / SR), 2)))
    if not mels:
        return np.zeros((0, 256), np.float32), []
    batch = np.stack(mels).astype(np.float32)
    n = len(batch)
    pad = (-n) % BATCH
    if pad:
        batch = np.concatenate([batch, np.zeros((pad, *batch.shape[1:]), np.float32)])
    out = []
    with torch.inference_mode():
        for i in range(0, len(batch), BATCH):
            out.append(enc(torch.from_numpy(batch[i:i + BATCH])).numpy())
    return np.concatenate(out)[:n], where


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(n, 1e-9)


def _smoothed(embs: np.ndarray, where: list[tuple[int, float, float]]) -> np.ndarray:
    out = embs.copy()
    half = SMOOTH_WINDOWS // 2
    for i in range(len(embs)):
        nb = [j for j in range(i - half, i + half + 1) if 0 <= j < len(embs) and where[j][0] == where[i][0]]
        out[i] = embs[nb].mean(axis=0)
    return _unit(out)


def cluster_speakers(embs: np.ndarray, where: list[tuple[int, float, float]]) -> list[Speaker]:
    if len(embs) == 0:
        return []
    if len(embs) == 1:
        labels = np.zeros(1, dtype=int)
    else:
        from scipy.cluster.hierarchy import fcluster, linkage

        z = linkage(_smoothed(embs, where).astype(np.float64), method="average", metric="cosine")
        labels = fcluster(z, t=CLUSTER_DISTANCE, criterion="distance")
    hop = 1.0 / WINDOW_RATE
    groups = sorted((np.nonzero(labels == lab)[0] for lab in np.unique(labels)), key=len, reverse=True)
    # The largest group is always a voice (a short clip has few windows); others need a share
    # of the speech and some seconds of it, so a cough or a jingle makes no "assistant".
    need = max(MIN_SPEAKER_WINDOWS, int(np.ceil(MIN_SPEAKER_SHARE * len(embs))), int(MIN_SPEAKER_S * WINDOW_RATE))
    speakers: list[Speaker] = []
    for idx in groups:
        if speakers and len(idx) < need:
            continue
        vec = _unit(embs[idx].mean(axis=0))
        cohesion = float((embs[idx] @ vec).mean())
        segs: list[list[float]] = []
        for i in sorted(idx):
            _, s, e = where[i]
            if segs and s <= segs[-1][1] + 0.05:
                segs[-1][1] = max(segs[-1][1], e)
            else:
                segs.append([s, e])
        speakers.append(Speaker(f"S{len(speakers) + 1}", round(len(idx) * hop, 1), int(len(idx)), segs,
                                [round(float(v), 6) for v in vec], round(cohesion, 4)))
    return speakers


def analyse_voice(wav: np.ndarray, max_speech_s: float = MAX_SPEECH_S) -> VoiceDoc:
    """Everything ``voice.json`` holds, from 16 kHz mono float samples."""
    # Louder first, as Resemblyzer's preprocessing does: the VAD misses quiet speech otherwise
    # (the real meeting recording peaks at -23 dBFS and the VAD heard 9 % of it).
    wav = _normalize_volume(wav.astype(np.float32))
    pcm = np.clip(np.round(wav * 32767), -32768, 32767).astype(np.int16)
    regions = speech_regions(pcm)
    pieces = budget(regions, max_speech_s)
    doc = VoiceDoc(model=model_info(), segments_used=[[s, e] for s, e in pieces],
                   speech_seconds=round(sum(e - s for s, e in regions), 2))
    if not pieces:
        doc.note = "no speech long enough for a voice embedding (WebRTC VAD found no region of 1 s or more)"
        return doc
    embs, where = embed_windows(wav, pieces)
    doc.speakers = cluster_speakers(embs, where)
    if sum(e - s for s, e in pieces) < doc.speech_seconds - 1:
        doc.note = (f"{round(sum(e - s for s, e in pieces), 1)} s of the {doc.speech_seconds} s of speech were "
                    "used, spread evenly over the stream")
    return doc


def voice_json(doc: VoiceDoc, source_sha256: str | None) -> dict[str, Any]:
    return {
        "schema": VOICE_SCHEMA, "source_sha256": source_sha256, "model": doc.model,
        "method": {"vad": f"WebRTC VAD mode {VAD_MODE}, {VAD_FRAME_MS} ms frames", "min_region_s": MIN_REGION_S,
                   "max_speech_s": MAX_SPEECH_S, "cluster": f"average linkage, cosine distance {CLUSTER_DISTANCE}",
                   "min_speaker_share": MIN_SPEAKER_SHARE, "same_voice_threshold": VOICE_THRESHOLD},
        "speech_seconds": doc.speech_seconds, "segments_used": doc.segments_used, "note": doc.note,
        "speakers": [{"id": s.id, "seconds": s.seconds, "windows": s.windows, "cohesion": s.cohesion,
                      "segments": s.segments, "embedding": s.embedding} for s in doc.speakers],
    }


class VoiceStage(Stage):
    """``voice``: ``voice.json`` from ``media/audio.wav`` (no audio: no file, the stage notes it)."""

    name = "voice"
    version = 1

    def __init__(self) -> None:
        check_available()

    def params(self) -> dict[str, Any]:
        return {"model_sha256": WEIGHTS_SHA256, "vad_mode": VAD_MODE, "max_speech_s": MAX_SPEECH_S,
                "cluster_distance": CLUSTER_DISTANCE, "min_speaker_share": MIN_SPEAKER_SHARE}

    def inputs(self, case: Case) -> list[Path]:
        return [case.source_json, *([case.audio] if case.audio.exists() else [])]

    def outputs(self, case: Case) -> list[Path]:
        return [case.root / "voice.json"]

    def run(self, case: Case, progress: Progress) -> dict[str, Any]:
        out = case.root / "voice.json"
        if not case.audio.exists():
            out.unlink(missing_ok=True)
            return {"speakers": 0, "note": "no audio"}
        import torch

        from ..asr.audio import load_audio

        task = progress.task("voice", total=None)
        # One thread: the network is small and batched; on the 1-hour benchmark stream one thread
        # took 10 CPU-s, two threads on the shared machine 65 CPU-s (OpenMP threads spin-waiting).
        old = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            doc = analyse_voice(load_audio(case.audio))
        finally:
            torch.set_num_threads(old)
        task.close()
        atomic_write_json(out, voice_json(doc, case.source.get("sha256")))
        return {"speakers": len(doc.speakers), "speech_s": float(doc.speech_seconds),
                "used_s": round(float(sum(e - s for s, e in doc.segments_used)), 1)}


# -- comparing two cases ----------------------------------------------------------------------


@dataclass
class VoiceMatch:
    a_speaker: str
    b_speaker: str
    score: float
    threshold: float
    a_segments: list[list[float]]
    b_segments: list[list[float]]
    a_seconds: float
    b_seconds: float

    @property
    def same(self) -> bool:
        return self.score >= self.threshold

    def to_json(self) -> dict[str, Any]:
        return {"a_speaker": self.a_speaker, "b_speaker": self.b_speaker, "score": self.score,
                "threshold": self.threshold, "same_voice": self.same, "a_seconds": self.a_seconds,
                "b_seconds": self.b_seconds, "a_segments": self.a_segments[:20], "b_segments": self.b_segments[:20]}


def compare_voices(a: VoiceDoc, b: VoiceDoc, threshold: float = VOICE_THRESHOLD) -> list[VoiceMatch]:
    """Every pair of main voices, most similar first."""
    out = [VoiceMatch(sa.id, sb.id, round(float(sa.vector() @ sb.vector()), 4), threshold, sa.segments,
                      sb.segments, sa.seconds, sb.seconds) for sa in a.speakers for sb in b.speakers]
    return sorted(out, key=lambda m: -m.score)


def equal_error_rate(same: list[float], diff: list[float]) -> tuple[float, float]:
    """(EER, threshold) of same-speaker and different-speaker scores.

    The threshold is the midpoint between neighbouring scores where the larger of the false
    reject and false accept rates is smallest; where several neighbours tie (the two sets are
    separated by a gap), the middle of that run, so the threshold sits in the middle of the gap.
    """
    if not same or not diff:
        raise ValueError("need same-speaker and different-speaker scores")
    s, d = np.asarray(same, float), np.asarray(diff, float)
    grid = np.unique(np.concatenate([s, d]))
    cands = np.concatenate([[grid[0] - 1e-3], (grid[:-1] + grid[1:]) / 2, [grid[-1] + 1e-3]])
    frr = np.array([(s < t).mean() for t in cands])
    far = np.array([(d >= t).mean() for t in cands])
    worst = np.maximum(frr, far)
    best = np.nonzero(np.isclose(worst, worst.min()))[0]
    lo, hi = cands[best[0]], cands[best[-1]]
    if len(best) > 1 and worst.min() == 0:  # a clean gap: its middle
        lo, hi = d[d < s.min()].max(initial=lo), s.min()
    t = float((lo + hi) / 2)
    return float(((s < t).mean() + (d >= t).mean()) / 2), round(t, 3)
