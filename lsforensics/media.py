"""Media access through ffmpeg (via ffmpeg-python): probe, keyframe scan, audio, frames.

The source is only ever an ffmpeg *input*; nothing here opens it for writing.

Frame sampling has two paths:

* ``keyframes`` (fast): decode only keyframes (``-skip_frame nokey``). Live-stream encoders (OBS,
  platform recorders) put a keyframe every 1–2 s and x264 adds one at each scene cut, so for a
  2 s sampling interval the keyframes *are* the samples, and an hour of 720p decodes in seconds
  instead of decoding 108,000 frames. Scene changes are scored between consecutive keyframes.
* ``full`` (exact): decode every frame and let ffmpeg's ``select`` pick scene changes
  (``scene`` score) plus one frame every interval. Used when keyframes are too sparse for the
  interval (long GOPs, screen recordings) or when asked for.

``auto`` picks ``keyframes`` when no gap between keyframes exceeds 1.5 intervals.
"""

from __future__ import annotations

import re
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg

from .errors import InputError, StageError


def _last_error_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown ffmpeg error"


def _ratio(text: str | None) -> float | None:
    if not text or text in ("0/0", "N/A"):
        return None
    try:
        val = float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        return None
    return val or None


def _float(x: Any) -> float | None:
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def _rotation(stream: dict[str, Any]) -> int:
    for sd in stream.get("side_data_list") or []:
        if "rotation" in sd:
            return int(round(float(sd["rotation"]))) % 360
    rot = (stream.get("tags") or {}).get("rotate")
    return int(rot) % 360 if rot and str(rot).lstrip("-").isdigit() else 0


def probe(path: Path) -> dict[str, Any]:
    """ffprobe the file; raise InputError with ffprobe's own last line when it is not media."""
    try:
        data = ffmpeg.probe(str(path))
    except ffmpeg.Error as exc:
        msg = _last_error_line(exc.stderr.decode("utf-8", "replace") if exc.stderr else "")
        msg = msg.replace(f"{path}: ", "")  # ffprobe repeats the path; say it once
        raise InputError(f"{path}: not a readable media file ({msg})") from None
    except FileNotFoundError:
        raise StageError("ffprobe not found: install ffmpeg (the README's set-up does)") from None
    fmt = data.get("format", {})
    streams = []
    for s in data.get("streams", []):
        disp = s.get("disposition") or {}
        streams.append(
            {
                "index": s.get("index"),
                "type": s.get("codec_type"),
                "codec": s.get("codec_name"),
                "codec_long": s.get("codec_long_name"),
                "profile": s.get("profile"),
                "width": s.get("width"),
                "height": s.get("height"),
                "pix_fmt": s.get("pix_fmt"),
                "r_frame_rate": s.get("r_frame_rate"),
                "avg_frame_rate": s.get("avg_frame_rate"),
                "time_base": s.get("time_base"),
                "start_time": _float(s.get("start_time")),
                "duration": _float(s.get("duration")),
                "nb_frames": int(s["nb_frames"]) if str(s.get("nb_frames", "")).isdigit() else None,
                "sample_rate": int(s["sample_rate"]) if s.get("sample_rate") else None,
                "channels": s.get("channels"),
                "channel_layout": s.get("channel_layout"),
                "bit_rate": int(s["bit_rate"]) if str(s.get("bit_rate", "")).isdigit() else None,
                "language": (s.get("tags") or {}).get("language"),
                "default": bool(disp.get("default")),
                "attached_pic": bool(disp.get("attached_pic")),
                "rotation": _rotation(s) if s.get("codec_type") == "video" else None,
            }
        )
    videos = [s for s in streams if s["type"] == "video" and not s["attached_pic"]]
    audios = [s for s in streams if s["type"] == "audio"]
    if not videos and not audios:
        raise InputError(f"{path}: no video or audio stream")
    video = next((s for s in videos if s["default"]), videos[0] if videos else None)
    audio = next((s for s in audios if s["default"]), audios[0] if audios else None)
    fmt_name = fmt.get("format_name") or ""
    # A JPEG/PNG probes as a one-frame "video" stream; a recorded stream is never a still image.
    still = bool(video) and (fmt_name == "image2" or fmt_name.endswith("_pipe") or fmt_name in ("gif", "webp"))
    if still:
        raise InputError(f"{path}: is a still image ({fmt_name}), not a video")
    duration = _float(fmt.get("duration")) or (video or audio or {}).get("duration")
    if not duration or duration <= 0:
        raise InputError(f"{path}: media has no duration (empty or truncated file)")
    return {
        "container": {
            "format_name": fmt.get("format_name"),
            "format_long_name": fmt.get("format_long_name"),
            "duration": duration,
            "start_time": _float(fmt.get("start_time")),
            "bit_rate": int(fmt["bit_rate"]) if str(fmt.get("bit_rate", "")).isdigit() else None,
            "tags": fmt.get("tags") or {},
        },
        "streams": streams,
        "video_stream": video["index"] if video else None,
        "audio_stream": audio["index"] if audio else None,
        "audio_stream_choice": (
            None if not audio else
            ("default disposition" if audio["default"] else "first audio stream")
            + (f" of {len(audios)}" if len(audios) > 1 else "")
        ),
        "duration": duration,
        "rotation": video["rotation"] if video else None,
    }


@dataclass
class PacketScan:
    """Demux-only scan of the video packets: keyframe times and frame-interval statistics."""

    count: int
    keyframes: list[float]
    vfr: bool
    min_interval: float | None
    median_interval: float | None
    max_interval: float | None

    def max_keyframe_gap(self, duration: float) -> float:
        if not self.keyframes:
            return duration
        pts = [*self.keyframes, duration]
        return max(b - a for a, b in zip(pts, pts[1:], strict=False))

    def to_json(self) -> dict[str, Any]:
        return {
            "video_packets": self.count,
            "keyframe_count": len(self.keyframes),
            "keyframes": self.keyframes,
            "vfr": self.vfr,
            "frame_interval": {"min": self.min_interval, "median": self.median_interval, "max": self.max_interval},
        }


def scan_packets(path: Path, stream_index: int, start_time: float) -> PacketScan:
    """List video packets without decoding (fast: an hour of video in seconds)."""
    cmd = [
        "ffprobe", "-v", "error", "-select_streams", str(stream_index),
        "-show_entries", "packet=pts_time,flags", "-of", "compact=p=0:nk=0", str(path),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise InputError(f"{path}: cannot read video packets ({_last_error_line(proc.stderr)})")
    pts: list[float] = []
    keys: list[float] = []
    for line in proc.stdout.splitlines():
        fields = dict(kv.split("=", 1) for kv in line.split("|") if "=" in kv)
        t = _float(fields.get("pts_time"))
        if t is None:
            continue
        pts.append(t - start_time)
        if "K" in fields.get("flags", ""):
            keys.append(round(t - start_time, 6))
    pts.sort()
    deltas = sorted(b - a for a, b in zip(pts, pts[1:], strict=False) if b > a)
    med = deltas[len(deltas) // 2] if deltas else None
    # VFR when frame intervals vary by more than 10 % of the median beyond timestamp rounding.
    vfr = bool(deltas) and med is not None and (deltas[-1] - deltas[0]) > max(0.1 * med, 0.002)
    return PacketScan(
        count=len(pts),
        keyframes=sorted(set(keys)),
        vfr=vfr,
        min_interval=deltas[0] if deltas else None,
        median_interval=med,
        max_interval=deltas[-1] if deltas else None,
    )


ProgressCb = Callable[[float], None]


def run_ffmpeg(
    stream: Any, *, progress: ProgressCb | None = None, what: str, keep: re.Pattern[str] | None = None
) -> list[str]:
    """Run an ffmpeg-python graph with ``-progress`` on stdout; return stderr lines.

    stderr is drained on a thread so a chatty ffmpeg can never block on a full pipe. The last
    400 lines are kept for error messages, plus every line matching ``keep`` (showinfo output).
    """
    args = stream.global_args("-nostdin", "-hide_banner", "-nostats", "-progress", "pipe:1").compile()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err_lines: deque[str] = deque(maxlen=400)
    kept: list[str] = []

    def drain() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if keep is not None and keep.search(line):
                kept.append(line)
            else:
                err_lines.append(line)

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.decode("ascii", "replace").strip()
        if progress and line.startswith("out_time_us="):
            val = line.split("=", 1)[1]
            if val.isdigit():
                progress(int(val) / 1e6)
    rc = proc.wait()
    t.join()
    if rc != 0:
        raise InputError(f"ffmpeg failed while {what}: {_last_error_line(chr(10).join(err_lines))}")
    return kept if keep is not None else list(err_lines)


def extract_audio(
    src: Path, out_wav: Path, *, stream_index: int, offset: float, progress: ProgressCb | None = None
) -> list[str]:
    """Decode one audio stream to 16 kHz mono s16le WAV, aligned so t=0 is the video start.

    ``offset`` is audio start minus video start: positive offsets are padded with silence,
    negative ones trimmed, so transcript times and frame times share one clock.
    """
    a = ffmpeg.input(str(src))[str(stream_index)]
    if offset > 0.0005:
        a = a.filter("adelay", delays=f"{int(round(offset * 1000))}", all=1)
    elif offset < -0.0005:
        a = a.filter("atrim", start=-offset).filter("asetpts", "PTS-STARTPTS")
    out = ffmpeg.output(a, str(out_wav), ac=1, ar=16000, acodec="pcm_s16le", f="wav", map_metadata=-1,
                        fflags="+bitexact", flags="+bitexact").overwrite_output()
    return run_ffmpeg(out, progress=progress, what="extracting audio")


_META_FRAME = re.compile(r"^frame:(\d+)\s+pts:(-?\d+)\s+pts_time:(-?[\d.]+)")
_SHOWINFO = re.compile(r"Parsed_showinfo.*\bn:\s*(\d+)\s+pts:\s*(-?\d+)\s+pts_time:\s*(-?[\d.]+)")
_META_SCENE = re.compile(r"^lavfi\.scene_score=([\d.]+)")


@dataclass
class RawFrame:
    path: Path
    pts_time: float
    scene_score: float | None


def parse_metadata_print(text: str) -> list[tuple[float, float | None]]:
    """Parse ffmpeg ``metadata=mode=print`` output into ``[(pts_time, scene_score)]``."""
    out: list[tuple[float, float | None]] = []
    for line in text.splitlines():
        m = _META_FRAME.match(line.strip())
        if m:
            out.append((float(m.group(3)), None))
            continue
        s = _META_SCENE.match(line.strip())
        if s and out:
            out[-1] = (out[-1][0], float(s.group(1)))
    return out


def decode_frames(
    src: Path,
    out_dir: Path,
    *,
    stream_index: int,
    mode: str,
    interval: float,
    scene_threshold: float,
    max_width: int,
    progress: ProgressCb | None = None,
) -> list[RawFrame]:
    """Write candidate frames as JPEG into ``out_dir``; return them with their pts times.

    ``keyframes``: every keyframe. ``full``: ffmpeg selects scene changes plus one frame per
    ``interval`` seconds. Times come from the ``metadata`` filter's print-out, written to a
    file, so each JPEG is paired with the timestamp of the very frame that produced it.
    """
    meta = out_dir / "meta.txt"
    inp_kwargs = {"skip_frame": "nokey"} if mode == "keyframes" else {}
    v = ffmpeg.input(str(src), **inp_kwargs)[str(stream_index)]
    if mode == "full":
        expr = (
            f"isnan(prev_selected_t)+gte(t-prev_selected_t,{interval - 0.001})"
            f"+gt(scene,{scene_threshold})"
        )
        # select attaches lavfi.scene_score to every frame it scores; print the kept ones.
        v = v.filter("select", expr).filter("metadata", mode="print", file=str(meta))
    v = v.filter("showinfo").filter("scale", w=f"min(iw,{max_width})", h="-2")
    out = ffmpeg.output(
        v, str(out_dir / "%07d.jpg"), fps_mode="passthrough", **{"q:v": 2}, f="image2"
    ).overwrite_output()
    info = run_ffmpeg(out, progress=progress, what="decoding frames", keep=_SHOWINFO)
    times = [float(m.group(3)) for m in map(_SHOWINFO.search, info) if m]
    scores: list[float | None] = [None] * len(times)
    if mode == "full" and meta.exists():
        printed = parse_metadata_print(meta.read_text())
        if len(printed) == len(times):
            scores = [sc for _, sc in printed]
        meta.unlink()
    files = sorted(out_dir.glob("*.jpg"))
    if len(files) != len(times):
        raise StageError(f"frame/timestamp mismatch: {len(files)} images, {len(times)} timestamps")
    return [RawFrame(p, t, sc) for p, t, sc in zip(files, times, scores, strict=True)]


def ffmpeg_version() -> str:
    try:
        out = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout
    except FileNotFoundError:
        return "not installed"
    return out.splitlines()[0] if out else "unknown"
