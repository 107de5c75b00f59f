"""Exhibit clips: for each finding, the original video around it (``exhibits/``).

**Stream-copied, not re-encoded.** Each clip holds the source's own video and audio packets,
byte for byte, from the last keyframe at or before ``start - pad`` to ``end + pad``. Why:

* it is the original evidence, not a derivative: an opposing expert can check that every packet
  of the clip is identical to the packet at the same place in the source
  (``ffmpeg -i CLIP -map 0 -c copy -f framemd5 -`` against the same range of the source; the
  hash column matches, see ``verify_command``); a re-encode with a burned-in time code changes
  every pixel and invites the question what else the encoder changed;
* it costs a demux and a mux, not a decode and an encode: 50 clips of a 1-hour 720p stream take
  seconds (``benchmarks/exhibits.py``), where re-encoding 50 × 10 s of 720p on two cores takes
  minutes;
* the time code is still there, without touching the pixels: ``exhibits/exhibits.json`` records
  where each clip starts on the source's clock (``clip_start``), the review page shows the
  original time under the playing clip, and ``report/findings.srt``/``.vtt`` carry the findings
  as a subtitle track over the original video.

The price of copying is that a clip starts on a keyframe, so it may begin up to one keyframe
interval (typically 2 s for a live recording) before ``start - pad``; ``clip_start`` says exactly
where. Identical windows (several findings at one moment) share one clip.
"""

from __future__ import annotations

import bisect
import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..case import Case, atomic_folder, atomic_write_json
from ..errors import InputError
from ..evidence.hashing import sha256_file
from ..findings import FindingsDoc, timecode
from ..progress import Progress
from ..stage import DIGESTS, Stage, env_threads

EXHIBITS_SCHEMA = "lsf.exhibits/1"
PAD = 5.0
METHOD = "stream-copy"
_MP4_VIDEO = {"h264", "hevc", "mpeg4", "av1"}
_MP4_AUDIO = {"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"}
_WEBM_VIDEO = {"vp8", "vp9", "av1"}
_WEBM_AUDIO = {"vorbis", "opus"}


def exhibits_dir(case: Case) -> Path:
    return case.root / "exhibits"


def exhibits_index(case: Case) -> Path:
    return exhibits_dir(case) / "exhibits.json"


@dataclass
class Clip:
    file: str  # case-relative
    window: tuple[float, float]  # what was asked for: start - pad .. end + pad (clamped)
    clip_start: float  # where the clip's first packet sits on the source's clock (a keyframe)
    clip_end: float  # what was cut up to (the window's end)
    duration: float | None
    first_video_pts: float  # clip-clock time of the first video frame (audio may start earlier)
    sha256: str
    size: int
    findings: list[str]

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["window"] = list(self.window)
        d["timecode"] = timecode(self.clip_start)
        return d


def _container(probe: dict[str, Any]) -> str:
    streams = probe.get("streams") or []
    v = next((s.get("codec") for s in streams if s.get("index") == probe.get("video_stream")), None)
    a = next((s.get("codec") for s in streams if s.get("index") == probe.get("audio_stream")), None)
    if v is None:
        return {"aac": ".m4a", "mp3": ".mp3"}.get(str(a), ".mka")
    if v in _MP4_VIDEO and (a is None or a in _MP4_AUDIO):
        return ".mp4"
    if v in _WEBM_VIDEO and (a is None or a in _WEBM_AUDIO):
        return ".webm"
    return ".mkv"


def _offset(probe: dict[str, Any]) -> float:
    """Seconds from the file's start to the video start (the case's clock, SPEC)."""
    streams = probe.get("streams") or []
    vs = next((s for s in streams if s.get("index") == probe.get("video_stream")), None)
    container = (probe.get("container") or {}).get("start_time") or 0.0
    return float(((vs or {}).get("start_time") or container) - container)


def _windows(doc: FindingsDoc, duration: float, pad: float) -> dict[tuple[float, float], list[str]]:
    out: dict[tuple[float, float], list[str]] = {}
    for f in doc.in_time_order():
        if f.start is None:
            continue
        a = max(0.0, f.start - pad)
        b = min(duration, (f.end if f.end is not None else f.start) + pad) if duration else (f.end or f.start) + pad
        if b <= a:
            b = a + min(pad, 1.0)
        out.setdefault((round(a, 3), round(b, 3)), []).append(str(f.id))
    return out


def _name(a: float, b: float, ext: str) -> str:
    return f"clips/{int(round(a * 1000)):09d}-{int(round(b * 1000)):09d}{ext}"


def _probe_clip(path: Path) -> tuple[float | None, float]:
    proc = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type,start_time",
                           "-of", "json", str(path)], capture_output=True, text=True, timeout=60)
    try:
        info = json.loads(proc.stdout or "{}")
    except json.JSONDecodeError:
        info = {}
    dur = (info.get("format") or {}).get("duration")
    vstart = next((s.get("start_time") for s in info.get("streams") or [] if s.get("codec_type") == "video"), None)
    return (float(dur) if dur not in (None, "N/A") else None), float(vstart) if vstart not in (None, "N/A") else 0.0


def cut_clip(source: Path, out: Path, *, at: float, duration: float, ext: str) -> None:
    """Stream-copy ``duration`` seconds from the keyframe at ``at`` (file clock) into ``out``."""
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
           "-ss", f"{at:.6f}", "-i", str(source), "-t", f"{duration:.6f}",
           "-map", "0:v:0?", "-map", "0:a:0?", "-c", "copy", "-avoid_negative_ts", "make_zero",
           "-map_metadata", "-1", "-map_chapters", "-1"]
    if ext in (".mp4", ".m4a"):
        cmd += ["-movflags", "+faststart"]
    cmd += ["-f", {".mp4": "mp4", ".m4a": "ipod", ".mp3": "mp3", ".webm": "webm"}.get(ext, "matroska"), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        err = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise InputError(f"ffmpeg could not copy the clip at {timecode(at)} from {source}: {err}")


def verify_command(source: str, clip: Clip, offset: float = 0.0) -> str:
    """Shell lines a third party runs to see that the clip's packets are the source's packets."""
    at = clip.clip_start + offset
    md5 = "-c copy -f framemd5 - | grep -v '^#' | cut -d, -f6"
    return (f"for s in v a; do diff -q <(ffmpeg -v error -i exhibits/{clip.file} -map 0:$s? {md5}) "
            f"<(ffmpeg -v error -ss {at + 0.0005:.6f} -i '{source}' -t {clip.clip_end - clip.clip_start:.6f} "
            f"-map 0:$s:0? -avoid_negative_ts make_zero {md5}) && echo \"stream $s: same packets\"; done")


def packet_md5s(path: Path, stream: str, *, at: float | None = None, duration: float | None = None) -> list[str]:
    """MD5 of every packet of one stream (``v`` or ``a``) as stored, without decoding."""
    cmd = ["ffmpeg", "-nostdin", "-v", "error"]
    if at is not None:
        cmd += ["-ss", f"{at:.6f}"]
    cmd += ["-i", str(path)]
    if duration is not None:
        cmd += ["-t", f"{duration:.6f}"]
    cmd += ["-map", f"0:{stream}:0?", "-c", "copy", "-avoid_negative_ts", "make_zero", "-f", "framemd5", "-"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise InputError(f"ffmpeg could not read the packets of {path}: {proc.stderr.strip()[-200:]}")
    # stream, dts, pts, duration, size, md5[, side data]: the packet hash is the sixth column
    return [ln.split(",")[5].strip() for ln in proc.stdout.splitlines() if ln and not ln.startswith("#")]


def clip_matches_source(source: Path, clip_path: Path, clip_start: float, offset: float = 0.0) -> dict[str, bool]:
    """Per stream: are the clip's packets, in order, a run of the source's packets from clip_start?

    ``offset``: the video's start on the file's clock (``exhibits.json`` ``source.offset_s``).
    """
    out = {}
    for s in ("v", "a"):
        mine = packet_md5s(clip_path, s)
        if not mine:
            continue
        theirs = packet_md5s(source, s, at=clip_start + offset + 0.0005)
        out[s] = theirs[:len(mine)] == mine
    return out


class ExhibitsStage(Stage):
    """Cut one stream-copied clip per finding window into ``exhibits/`` (custody action ``exhibits``)."""

    name = "exhibits"
    version = 1

    def __init__(self, source: Path, *, pad: float = PAD):
        self.source = Path(source).absolute()
        self.pad = float(pad)

    def params(self) -> dict[str, Any]:
        return {"pad_s": self.pad, "method": METHOD}

    def inputs(self, case: Case) -> list[Path]:
        return [case.findings_json, case.source_json, self.source]

    def outputs(self, case: Case) -> list[Path]:
        return [exhibits_dir(case)]

    def run(self, case: Case, progress: Progress) -> dict[str, Any]:
        src = case.source
        digest = DIGESTS.full(self.source)
        if digest.sha256 != src.get("sha256"):
            raise InputError(f"{self.source} is not this case's source video (sha256 {digest.sha256[:16]}…, "
                             f"source.json says {str(src.get('sha256'))[:16]}…)")
        probe = src.get("probe") or {}
        duration = float(probe.get("duration") or 0.0)
        keyframes = sorted(float(k) for k in ((src.get("packets") or {}).get("keyframes") or []))
        offset = _offset(probe)
        ext = _container(probe)
        doc = FindingsDoc.load(case.findings_json)
        windows = _windows(doc, duration, self.pad)
        old = _previous(case)
        task = progress.task("exhibits", total=len(windows))
        with atomic_folder(exhibits_dir(case)) as staging:
            (staging / "clips").mkdir()

            def one(item: tuple[tuple[float, float], list[str]]) -> Clip:
                (a, b), ids = item
                i = bisect.bisect_right(keyframes, a + 1e-6) - 1
                k = keyframes[i] if i >= 0 else 0.0
                rel = _name(a, b, ext)
                out = staging / rel
                prev = old.get(rel)
                if prev and prev.get("clip_start") == k and _reuse(case, rel, prev, out):
                    dur, vstart = prev.get("duration"), float(prev.get("first_video_pts") or 0.0)
                else:
                    # -ss a hair past the keyframe: ffmpeg seeks to the keyframe at or before it.
                    cut_clip(self.source, out, at=k + offset + 0.0005, duration=b - k, ext=ext)
                    dur, vstart = _probe_clip(out)
                task.update(advance=1)
                return Clip(rel, (a, b), k, b, dur, vstart, sha256_file(out), out.stat().st_size, ids)

            # Two ffmpeg processes at a time: each mostly waits on reading the source.
            workers = env_threads() or min(2, os.cpu_count() or 1)
            with ThreadPoolExecutor(max_workers=max(1, min(workers, 2))) as pool:
                clips = list(pool.map(one, windows.items()))
            index = {
                "schema": EXHIBITS_SCHEMA,
                "method": METHOD,
                "why": "stream copy keeps the source's packets byte for byte (checkable with framemd5); "
                       "a clip starts at the keyframe at or before start - pad",
                "pad_s": self.pad,
                "source": {"name": src.get("name"), "sha256": src.get("sha256"), "offset_s": offset},
                "clips": [c.to_json() for c in clips],
                "findings": {fid: c.file for c in clips for fid in c.findings},
                "verify": {c.file: verify_command(str(src.get("name") or "SOURCE"), c, offset) for c in clips},
            }
            atomic_write_json(staging / "exhibits.json", index)
        task.close()
        return {"clips": len(clips), "findings_with_clip": sum(len(c.findings) for c in clips),
                "bytes": sum(c.size for c in clips), "method": METHOD}


def _previous(case: Case) -> dict[str, dict[str, Any]]:
    """Clips of the last run by file name, to reuse those whose window and bytes are unchanged."""
    try:
        doc = json.loads(exhibits_index(case).read_text(encoding="utf-8"))
        return {c["file"]: c for c in doc.get("clips") or [] if isinstance(c, dict) and isinstance(c.get("file"), str)}
    except (OSError, ValueError, AttributeError):
        return {}


def _reuse(case: Case, rel: str, prev: dict[str, Any], out: Path) -> bool:
    old = exhibits_dir(case) / rel
    if not old.is_file() or old.is_symlink() or sha256_file(old) != prev.get("sha256"):
        return False
    try:
        os.link(old, out)
    except OSError:
        shutil.copy2(old, out)
    return True


def load_exhibits(case: Case) -> dict[str, Any] | None:
    """``exhibits/exhibits.json`` or None; never raises for a damaged file (verify reports that)."""
    path = exhibits_index(case)
    if not path.is_file() or path.stat().st_size > 64 * 1024 * 1024:
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("clips"), list) else None
