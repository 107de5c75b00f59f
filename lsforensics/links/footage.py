"""Re-used footage: an audio fingerprint (Chromaprint) and a video signature (MPEG-7) per case.

Both are computed by ffmpeg and stored exactly as ffmpeg writes them, so a third party with the
same ffmpeg can recompute the bytes:

* ``fingerprints/audio.chromaprint``: ffmpeg's ``chromaprint`` muxer, ``-fp_format raw``, over
  ``media/audio.wav`` (a case file, so the fingerprint is reproducible from the case alone): one
  little-endian 32-bit word per 1365/11025 s (~0.124 s) of sound.
* ``fingerprints/video.signature``: ffmpeg's ``signature`` filter (the MPEG-7 video signature,
  ISO/IEC 15938-3), binary export, over the case's sampled frames (``media/frames.json``: the
  keyframes / scene changes / interval frames that extract kept), on a fixed 320x192 grid (the
  signature averages 32x32 blocks, so size and bitrate do not matter): 380 ternary elements per
  frame, five "words" and a confidence. Frame i of the signature is entry i of frames.json.
  Working from the kept frames rather than decoding the source again costs seconds instead of
  minutes per hour of 720p (a full decode for the signature measured 236 CPU-s per hour, keyframes
  only 21; the kept frames are already decoded), and makes the signature reproducible from the
  case alone. The price: frames are seconds apart and not at the same instants in two encodings,
  so frames are paired with the nearest frame at the candidate offset (within
  ``VIDEO_PAIR_TOLERANCE_S``), which suits the mostly slow pictures of a live room.

Two streams share footage when, at one time offset, a long stretch of one sequence agrees with
the other. Candidate offsets come from a hash join (equal Chromaprint words; equal bands of eight
MPEG-7 frame-signature elements), so no all-pairs comparison is needed; each candidate is then checked position by
position (bit error rate of the aligned fingerprints; mean L1 distance of the aligned frame
signatures) and the stretches where the smoothed agreement stays over the threshold for at
least ``MIN_RUN_S`` seconds are the matching time ranges. The same matcher run on one case against itself, at offsets of at
least ``REPEAT_MIN_OFFSET_S``, lists where a stream repeats itself (``footage.json`` ``repeats``):
a recorded "live" played in a loop.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import media
from ..case import Case, atomic_write_bytes, atomic_write_json
from ..errors import InputError, StageError
from ..loaders import load_json_file
from ..progress import Progress
from ..stage import Stage

FOOTAGE_SCHEMA = "lsf.footage/1"
AUDIO_FP = "fingerprints/audio.chromaprint"
VIDEO_SIG = "fingerprints/video.signature"
FOOTAGE_JSON = "footage.json"

CHROMAPRINT_ALGORITHM = 1  # ffmpeg's default (Chromaprint TEST2)
CHROMA_STEP_S = 1365 / 11025  # one fingerprint word per 1365 samples at 11025 Hz
CHROMA_SPAN_WORDS = 22  # a word sums up ~2.7 s of sound (classifier context + chroma smoothing)
SIG_SIZE = (320, 192)
SIG_ELEMENTS = 380
RANDOM_L1 = 8 / 9  # mean |a-b| per element of two independent uniform ternary values

MIN_RUN_S = 10.0  # a shared stretch shorter than this is not reported
REPEAT_MIN_OFFSET_S = 30.0  # a stream repeating itself this much later is a loop, not a held picture
AUDIO_MAX_BER = 0.30  # smoothed bit error rate of aligned words; unrelated audio sits near 0.5
VIDEO_MAX_L1 = 0.45  # mean L1 per element of paired frames; unrelated frames ~0.89
VIDEO_PAIR_TOLERANCE_S = 1.5  # a frame's partner in the other case is at most this far from t + offset
VIDEO_OFFSET_BIN_S = 1.0
VIDEO_MIN_VOTES = 12
VIDEO_MIN_FRAMES = 5  # paired frames in a shared stretch
VIDEO_SPECIFICITY_SHIFT_S = 4.0
VIDEO_SPECIFICITY = 0.6  # distance at the offset / distance 4 s beside it; a still set scores ~1
VIDEO_MIN_CONFIDENCE = 2  # MPEG-7 frame confidence; flat (black, one-colour) frames match anything
VIDEO_BANDS, VIDEO_BAND_WIDTH = 24, 8  # lookup keys per frame (see band_keys)
MAX_BUCKET = 24  # a key seen more often than this in one stream (silence, a still) votes for nothing;
# a stream looping one recording up to this many times still finds its repeats
MAX_FILE_BYTES = 512 << 20  # a signature or fingerprint larger than this is no case file of ours


@dataclass
class SharedRange:
    """One stretch of footage present in both streams."""

    medium: str  # audio | video
    a_start: float
    a_end: float
    b_start: float
    b_end: float
    score: float  # 1 = identical, 0 = as alike as unrelated material
    threshold: float
    method: str

    @property
    def seconds(self) -> float:
        return round(self.a_end - self.a_start, 2)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "seconds": self.seconds, "offset_s": round(self.b_start - self.a_start, 2)}


# -- reading what ffmpeg wrote ---------------------------------------------------------------


def _bounded_read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise InputError(f"{path}: {size} bytes is larger than any fingerprint this tool writes")
    return path.read_bytes()


def read_chromaprint(path: Path) -> np.ndarray:
    data = _bounded_read(path)
    if len(data) % 4:
        raise InputError(f"{path}: not a raw Chromaprint fingerprint (length {len(data)} is not a multiple of 4)")
    return np.frombuffer(data, dtype="<u4").copy()


@dataclass
class VideoSignature:
    t: np.ndarray  # (n,) seconds from the video start
    confidence: np.ndarray  # (n,) uint8
    words: np.ndarray  # (n, 5) uint8, each a 5-element ternary number
    fine: np.ndarray  # (n, 380) uint8 in {0, 1, 2}
    width: int
    height: int


_TRITS = np.array([[(v // 3 ** (4 - k)) % 3 for k in range(5)] for v in range(256)], dtype=np.uint8)
_HEADER_BITS = 32 + 1 + 32 + 16 + 16 + 32 + 32 + 16 + 1 + 32 + 32 + 32
_SEGMENT_BITS = 32 + 32 + 1 + 32 + 32 + 5 * 243
_FRAME_BITS = 1 + 32 + 8 + 40 + 8 * (SIG_ELEMENTS // 5)


def _uint(bits: np.ndarray) -> np.ndarray:
    """Big-endian bit fields (last axis) to unsigned integers."""
    weights = (1 << np.arange(bits.shape[-1] - 1, -1, -1, dtype=np.uint64)).astype(np.uint64)
    return (bits.astype(np.uint64) * weights).sum(axis=-1)


def read_signature(path: Path) -> VideoSignature:
    """Parse ffmpeg's binary MPEG-7 export (the layout of its ``binary_export``)."""
    data = _bounded_read(path)
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))
    if len(bits) < _HEADER_BITS:
        raise InputError(f"{path}: too short for an MPEG-7 video signature")
    pos = 32 + 1 + 32
    width = int(_uint(bits[pos:pos + 16])) + 1
    height = int(_uint(bits[pos + 16:pos + 32])) + 1
    pos += 32 + 32
    n = int(_uint(bits[pos:pos + 32]))
    unit = int(_uint(bits[pos + 32:pos + 48]))
    pos += 48 + 1 + 64
    segments = int(_uint(bits[pos:pos + 32]))
    start = _HEADER_BITS + segments * _SEGMENT_BITS + 1
    if unit <= 0 or start + n * _FRAME_BITS > len(bits) or len(bits) - (start + n * _FRAME_BITS) >= 8:
        raise InputError(f"{path}: not an MPEG-7 video signature as ffmpeg writes it "
                         f"({n} frames, {segments} segments, {len(data)} bytes)")
    frames = bits[start:start + n * _FRAME_BITS].reshape(n, _FRAME_BITS)
    pts = _uint(frames[:, 1:33])
    conf = _uint(frames[:, 33:41]).astype(np.uint8)
    words = _uint(frames[:, 41:81].reshape(n, 5, 8)).astype(np.uint8)
    packed = _uint(frames[:, 81:].reshape(n, SIG_ELEMENTS // 5, 8)).astype(np.uint8)
    fine = _TRITS[packed].reshape(n, SIG_ELEMENTS)
    return VideoSignature(pts.astype(np.float64) / unit, conf, words, fine, width, height)


# -- computing them (the stage) --------------------------------------------------------------


def _ffmpeg(args: list[str], what: str) -> None:
    proc = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", *args], capture_output=True)
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"ffmpeg failed while {what}: {lines[-1] if lines else 'no message'}")


def fingerprint_audio(wav: Path) -> bytes:
    with tempfile.TemporaryDirectory(prefix="lsf-fp-") as tmp:
        out = Path(tmp) / "audio.fp"  # a plain path: the muxer gets no filter-graph escaping issues
        _ffmpeg(["-i", str(wav), "-map", "0:a:0", "-f", "chromaprint", "-fp_format", "raw",
                 "-algorithm", str(CHROMAPRINT_ALGORITHM), str(out)], "fingerprinting the audio")
        return out.read_bytes()


def _concat_list(case: Case, frames: list[dict[str, Any]]) -> str:
    """An ffconcat script that shows each kept frame until the next one (so pts = frames.json t)."""
    lines = ["ffconcat version 1.0"]
    for i, f in enumerate(frames):
        path = str(case.root / f["file"]).replace("'", "'\\''")
        nxt = frames[i + 1]["t"] if i + 1 < len(frames) else f["t"] + 1.0
        lines += [f"file '{path}'", f"duration {max(0.001, float(nxt) - float(f['t'])):.3f}"]
    return "\n".join(lines) + "\n"


def signature_frames(case: Case, frames: list[dict[str, Any]]) -> bytes:
    """ffmpeg's MPEG-7 signature of the case's kept frames, in frames.json order."""
    with tempfile.TemporaryDirectory(prefix="lsf-sig-") as tmp:
        listing, out = Path(tmp) / "frames.ffconcat", Path(tmp) / "video.sig"
        listing.write_text(_concat_list(case, frames), encoding="utf-8")
        graph = (f"scale={SIG_SIZE[0]}:{SIG_SIZE[1]}:flags=area,format=gray,"
                 f"signature=format=binary:filename={out}")
        _ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-vf", graph, "-fps_mode", "passthrough",
                 "-f", "null", "-"], "computing the video signature")
        return out.read_bytes()


def _frames(case: Case) -> list[dict[str, Any]]:
    if not case.frames_json.exists():
        return []
    frames = case.read_json(case.frames_json)
    if not isinstance(frames, list):
        raise InputError(f"{case.rel(case.frames_json)} is not a list of frames")
    return [f for f in frames if isinstance(f, dict) and isinstance(f.get("file"), str)
            and isinstance(f.get("t"), int | float) and (case.root / f["file"]).is_file()]


class FootageStage(Stage):
    """``footage``: the audio fingerprint and video signature of the case (``footage.json``)."""

    name = "footage"
    version = 1

    def params(self) -> dict[str, Any]:
        return {"chromaprint_algorithm": CHROMAPRINT_ALGORITHM, "signature_size": list(SIG_SIZE),
                "signature_input": "media/frames.json"}

    def inputs(self, case: Case) -> list[Path]:
        return [p for p in (case.source_json, case.audio, case.frames_json, case.frames_dir) if p.exists()]

    def outputs(self, case: Case) -> list[Path]:
        return [case.root / AUDIO_FP, case.root / VIDEO_SIG, case.root / FOOTAGE_JSON]

    def run(self, case: Case, progress: Progress) -> dict[str, Any]:
        if shutil.which("ffmpeg") is None:
            raise StageError("ffmpeg not found: install ffmpeg (the README's set-up does)")
        doc: dict[str, Any] = {"schema": FOOTAGE_SCHEMA, "source_sha256": case.source.get("sha256"),
                               "ffmpeg": media.ffmpeg_version(), "audio": None, "video": None}
        task = progress.task("footage", total=2)
        fp_path, sig_path = case.root / AUDIO_FP, case.root / VIDEO_SIG
        if case.audio.exists():
            raw = fingerprint_audio(case.audio)
            atomic_write_bytes(fp_path, raw)
            doc["audio"] = {"file": AUDIO_FP, "input": case.rel(case.audio), "method": "chromaprint",
                            "algorithm": CHROMAPRINT_ALGORITHM, "format": "raw little-endian uint32",
                            "step_s": CHROMA_STEP_S, "words": len(raw) // 4}
        else:
            fp_path.unlink(missing_ok=True)
        task.update(advance=1)
        frames = _frames(case)
        if frames:
            atomic_write_bytes(sig_path, signature_frames(case, frames))
            sig = read_signature(sig_path)
            if len(sig.confidence) != len(frames):
                raise StageError(f"video signature has {len(sig.confidence)} frames for {len(frames)} kept frames")
            doc["video"] = {"file": VIDEO_SIG, "input": case.rel(case.frames_json),
                            "method": "MPEG-7 video signature (ffmpeg signature filter)", "size": list(SIG_SIZE),
                            "frames": len(frames), "t": [round(float(f["t"]), 3) for f in frames],
                            "low_confidence_frames": int((sig.confidence < VIDEO_MIN_CONFIDENCE).sum())}
        else:
            sig_path.unlink(missing_ok=True)
        task.update(advance=1)
        task.close()
        fp = Footage.from_files(fp_path, sig_path, (doc["video"] or {}).get("t"))
        doc["repeats"] = [r.to_json() for r in repeats(fp)]
        atomic_write_json(case.root / FOOTAGE_JSON, doc)
        return {"audio_words": (doc["audio"] or {}).get("words"), "video_frames": (doc["video"] or {}).get("frames"),
                "repeats": len(doc["repeats"])}


# -- matching ---------------------------------------------------------------------------------


@dataclass
class Footage:
    """What matching needs of one case (loaded once, reused for every pair of a batch)."""

    audio: np.ndarray | None
    video: VideoSignature | None

    @classmethod
    def from_files(cls, fp: Path, sig: Path, t: Any) -> Footage:
        video = read_signature(sig) if sig.is_file() else None
        if video is not None and isinstance(t, list) and len(t) == len(video.t):
            video.t = np.asarray(t, dtype=np.float64)  # the kept frames' own times (frames.json)
        return cls(read_chromaprint(fp) if fp.is_file() else None, video)

    @classmethod
    def load(cls, case_root: Path) -> Footage:
        try:
            t = load_json_file(case_root / FOOTAGE_JSON)["video"]["t"]
        except (InputError, KeyError, TypeError):
            t = None
        return cls.from_files(case_root / AUDIO_FP, case_root / VIDEO_SIG, t)


def _positions(keys: np.ndarray, valid: np.ndarray | None = None) -> dict[int, list[int]]:
    """Key -> positions; ``keys`` is (n,) or (n, m) for m keys per position."""
    if keys.size == 0:  # a clip too short for one fingerprint word or frame
        return {}
    keys = keys.reshape(len(keys), -1)
    where: dict[int, list[int]] = defaultdict(list)
    for i, row in enumerate(keys.tolist()):
        if valid is None or valid[i]:
            for k in row:
                where[k].append(i)
    return {k: v for k, v in where.items() if len(v) <= MAX_BUCKET}


def offset_votes(ka: np.ndarray, kb: np.ndarray, va: np.ndarray | None = None,
                 vb: np.ndarray | None = None) -> Counter[int]:
    """Votes for ``offset = index in b - index in a`` from keys equal in both sequences."""
    pa, pb = _positions(ka, va), _positions(kb, vb)
    votes: Counter[int] = Counter()
    for k, ia in pa.items():
        ib = pb.get(k)
        if ib:
            for j in ib:
                for i in ia:
                    votes[j - i] += 1
    return votes


def _peaks(votes: Counter[int], min_votes: int, top: int = 6) -> list[int]:
    """The strongest offsets, each with its ±2 neighbourhood suppressed."""
    out: list[int] = []
    for off, n in votes.most_common():
        if n < min_votes or len(out) >= top:
            break
        if all(abs(off - o) > 2 for o in out):
            out.append(off)
    return out


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    if len(x) < width:
        return np.full_like(x, x.mean() if len(x) else 0.0)
    k = np.ones(width) / width
    return np.convolve(x, k, mode="same")


def _runs(good: np.ndarray, min_len: int) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], good.astype(np.int8), [0]]))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    return [(int(s), int(e)) for s, e in zip(starts, ends, strict=True) if e - s >= min_len]


def _aligned(n_a: int, n_b: int, off: int) -> tuple[int, int]:
    """Index range in a whose partner a+off lies inside b."""
    return max(0, -off), min(n_a, n_b - off)


def _later(votes: Counter[int], unit_s: float, min_offset_s: float | None) -> Counter[int]:
    """Only offsets of at least ``min_offset_s`` (a stream against itself: its repeats)."""
    if min_offset_s is None:
        return votes
    return Counter({k: n for k, n in votes.items() if k * unit_s >= min_offset_s})


def _top(min_offset_s: float | None) -> int:
    """Candidate offsets to check: more for a stream's own repeats (a loop repeats at every
    multiple of its period, and a voice loop inside it adds more)."""
    return 6 if min_offset_s is None else 16


def match_audio(a: np.ndarray, b: np.ndarray, min_offset_s: float | None = None) -> list[SharedRange]:
    step = CHROMA_STEP_S
    min_len = int(MIN_RUN_S / step)
    out: list[SharedRange] = []
    for off in _peaks(_later(offset_votes(a, b), step, min_offset_s), min_votes=max(6, min_len // 10),
                      top=_top(min_offset_s)):
        lo, hi = _aligned(len(a), len(b), off)
        if hi - lo < min_len:
            continue
        ber = np.bitwise_count(a[lo:hi] ^ b[lo + off:hi + off]).astype(np.float64) / 32.0
        good = _smooth(ber, 16) <= AUDIO_MAX_BER
        for s, e in _runs(good, min_len):
            score = 1.0 - 2.0 * float(ber[s:e].mean())
            span = e - 1 + CHROMA_SPAN_WORDS
            out.append(SharedRange("audio", round((lo + s) * step, 2), round((lo + span) * step, 2),
                                   round((lo + s + off) * step, 2), round((lo + span + off) * step, 2),
                                   round(score, 3), round(1.0 - 2.0 * AUDIO_MAX_BER, 3),
                                   f"Chromaprint (algorithm {CHROMAPRINT_ALGORITHM}) bit error rate of aligned "
                                   f"words, smoothed over 2 s, at most {AUDIO_MAX_BER}"))
    return _best_per_stretch(out, min_offset_s is not None)


_BANDS = np.random.default_rng(15938).permutation(SIG_ELEMENTS)[:VIDEO_BANDS * VIDEO_BAND_WIDTH].reshape(
    VIDEO_BANDS, VIDEO_BAND_WIDTH)


def band_keys(fine: np.ndarray) -> np.ndarray:
    """(n, bands) lookup keys: each band is 8 fixed elements of the frame signature as one number.

    The MPEG-7 "words" (5 elements each) change under an overlay or a re-encode too often to join
    on all five at once, and one word alone (243 values) joins everything with everything. Eight
    elements agree by chance with odds (1/3)^8 ~ 1/6561 but survive a re-encode (most elements
    keep their value) often enough that a shared minute of video gives hundreds of votes.
    """
    base = 3 ** np.arange(VIDEO_BAND_WIDTH, dtype=np.int64)
    vals = (fine[:, _BANDS].astype(np.int64) * base).sum(axis=2)
    return vals + np.arange(VIDEO_BANDS, dtype=np.int64) * 3 ** VIDEO_BAND_WIDTH


def _pair(a: VideoSignature, b: VideoSignature, off: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each frame of a: its partner in b (nearest to t + off), whether it is near enough and
    both are informative, and their mean L1 distance per element."""
    want = a.t + off
    j = np.clip(np.searchsorted(b.t, want), 1, max(1, len(b.t) - 1))
    j = np.where(np.abs(b.t[j - 1] - want) <= np.abs(b.t[np.minimum(j, len(b.t) - 1)] - want), j - 1, j)
    j = np.minimum(j, len(b.t) - 1)
    informative = (a.confidence >= VIDEO_MIN_CONFIDENCE) & (b.confidence[j] >= VIDEO_MIN_CONFIDENCE)
    paired = (np.abs(b.t[j] - want) <= VIDEO_PAIR_TOLERANCE_S) & informative
    dist = np.abs(a.fine.astype(np.int16) - b.fine[j].astype(np.int16)).mean(axis=1)
    return j, paired, dist


def _specific(a: VideoSignature, b: VideoSignature, off: float, ii: np.ndarray, base: float) -> float | None:
    """How much better the frames agree at ``off`` than a few seconds beside it (ratio, lower is
    more specific), or None when nothing pairs beside it. A still picture (the same studio set,
    a product held still) agrees at every offset: that is no evidence of re-used footage."""
    beside = []
    for shift in (-VIDEO_SPECIFICITY_SHIFT_S, VIDEO_SPECIFICITY_SHIFT_S):
        _, paired, dist = _pair(a, b, off + shift)
        ok = ii[paired[ii]]
        if len(ok) >= max(2, len(ii) // 3):
            beside.append(float(dist[ok].mean()))
    return base / min(beside) if beside else None


def match_video(a: VideoSignature, b: VideoSignature, min_offset_s: float | None = None) -> list[SharedRange]:
    """Shared stretches of picture, from frames sampled at different instants in the two cases."""
    ka, kb = band_keys(a.fine), band_keys(b.fine)
    va, vb = a.confidence >= VIDEO_MIN_CONFIDENCE, b.confidence >= VIDEO_MIN_CONFIDENCE
    pa, pb = _positions(ka, va), _positions(kb, vb)
    votes: Counter[int] = Counter()
    exact: dict[int, list[float]] = defaultdict(list)
    for k, ia in pa.items():
        for j in pb.get(k, ()):
            for i in ia:
                d = float(b.t[j] - a.t[i])
                votes[round(d / VIDEO_OFFSET_BIN_S)] += 1
                exact[round(d / VIDEO_OFFSET_BIN_S)].append(d)
    out: list[SharedRange] = []
    for peak in _peaks(_later(votes, VIDEO_OFFSET_BIN_S, min_offset_s), min_votes=VIDEO_MIN_VOTES,
                       top=_top(min_offset_s)):
        near = [d for q in (peak - 1, peak, peak + 1) for d in exact.get(q, ())]
        off = float(np.median(near))
        j, paired, dist = _pair(a, b, off)
        good = paired & (dist <= VIDEO_MAX_L1)
        idx = np.nonzero(paired)[0]
        # Runs over the paired frames in time order; one disagreeing frame inside a run is
        # tolerated (a hand in front of the camera, an overlay that appears for a moment).
        g = good[idx]
        g = g | (np.concatenate([[False], g[:-1]]) & np.concatenate([g[1:], [False]]))
        for s, e in _runs(g, VIDEO_MIN_FRAMES):
            ii = idx[s:e]
            t0, t1 = float(a.t[ii[0]]), float(a.t[ii[-1]])
            base = float(dist[ii].mean())
            ratio = _specific(a, b, off, ii, base)
            if t1 - t0 < MIN_RUN_S or ratio is None or ratio > VIDEO_SPECIFICITY:
                continue
            score = 1.0 - base / RANDOM_L1
            out.append(SharedRange("video", round(t0, 2), round(t1, 2), round(float(b.t[j[ii[0]]]), 2),
                                   round(float(b.t[j[ii[-1]]]), 2), round(score, 3),
                                   round(1.0 - VIDEO_MAX_L1 / RANDOM_L1, 3),
                                   f"MPEG-7 frame signatures (ffmpeg signature filter) of the kept frames, each "
                                   f"paired with the other case's frame nearest in time at offset {off:+.1f} s "
                                   f"(within {VIDEO_PAIR_TOLERANCE_S} s); mean L1 distance per element at most "
                                   f"{VIDEO_MAX_L1} ({len(ii)} frames), and at most {VIDEO_SPECIFICITY} of the "
                                   f"distance {VIDEO_SPECIFICITY_SHIFT_S:.0f} s beside that offset "
                                   f"(here {ratio:.2f}: the pictures change, they are not one still set)"))
    return _best_per_stretch(out, min_offset_s is not None)


def _best_per_stretch(ranges: list[SharedRange], shortest_offset: bool = False) -> list[SharedRange]:
    """Neighbouring offsets find the same stretch: keep the best-scoring range of overlapping ones
    (for a stream's own repeats, the longest, then the one at the shortest offset)."""
    kept: list[SharedRange] = []
    order = (lambda r: (-r.seconds, r.b_start - r.a_start)) if shortest_offset else (lambda r: (-r.score, r.a_start))
    for r in sorted(ranges, key=order):
        if all(r.a_end <= k.a_start or r.a_start >= k.a_end for k in kept):
            kept.append(r)
    return sorted(kept, key=lambda r: r.a_start)


def match_footage(a: Footage, b: Footage, min_offset_s: float | None = None) -> list[SharedRange]:
    out: list[SharedRange] = []
    if a.audio is not None and b.audio is not None and len(a.audio) and len(b.audio):
        out += match_audio(a.audio, b.audio, min_offset_s)
    if a.video is not None and b.video is not None and len(a.video.t) and len(b.video.t):
        out += match_video(a.video, b.video, min_offset_s)
    return out


def repeats(fp: Footage) -> list[SharedRange]:
    """Where a stream repeats its own footage ``REPEAT_MIN_OFFSET_S`` or more later (a recorded
    "live" played in a loop): the stream matched against itself at later offsets only."""
    return match_footage(fp, fp, REPEAT_MIN_OFFSET_S)
