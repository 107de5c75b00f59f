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

import json
import os
import re
import struct
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg

from .childproc import die_with_parent
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


class PinnedSource:
    """The source video opened once, read-only, for one stage.

    Every reader (hashing, ffprobe, ffmpeg) reads this very file through ``/dev/fd/N`` (:attr:`name`,
    inherited by the ffmpeg child through :attr:`fds`): replacing or renaming the path meanwhile
    changes nothing that is read, and a change in place (size, mtime or ctime moves; ctime cannot
    be set back) is caught by :meth:`check_unchanged` after each read. So what ``source.json``
    certifies is what was decoded.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.fd = os.open(self.path, os.O_RDONLY)
        except OSError as exc:
            raise InputError(f"{self.path}: cannot open ({exc.strerror})") from None
        self.identity = self._identity()

    def _identity(self) -> tuple[int, ...]:
        st = os.fstat(self.fd)
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    @property
    def name(self) -> str:
        return f"/dev/fd/{self.fd}" if os.path.isdir("/dev/fd") else str(self.path)

    @property
    def fds(self) -> tuple[int, ...]:
        return (self.fd,)

    def check_unchanged(self, while_: str) -> None:
        if self._identity() != self.identity:
            raise InputError(f"{self.path}: the file changed while {while_} (its size or modification time "
                             "moved); the source must not change during extraction")

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> PinnedSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ffprobe_json(name: str, pass_fds: tuple[int, ...]) -> dict[str, Any]:
    cmd = ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", name]
    try:
        proc = subprocess.run(cmd, capture_output=True, pass_fds=pass_fds, check=False)
    except FileNotFoundError:
        raise StageError("ffprobe not found: install ffmpeg (the README's set-up does)") from None
    if proc.returncode != 0:
        raise ffmpeg.Error("ffprobe", proc.stdout, proc.stderr)
    return json.loads(proc.stdout.decode("utf-8", "replace"))


def probe(path: Path | str, *, display: Path | str | None = None, pass_fds: tuple[int, ...] = ()) -> dict[str, Any]:
    """ffprobe the file; raise InputError with ffprobe's own last line when it is not media.

    ``path`` may be a pinned ``/dev/fd/N`` (with ``pass_fds``); messages name ``display``."""
    shown = display or path
    try:
        data = _ffprobe_json(str(path), pass_fds)
    except ffmpeg.Error as exc:
        msg = _last_error_line(exc.stderr.decode("utf-8", "replace") if exc.stderr else "")
        msg = msg.replace(f"{path}: ", "")  # ffprobe repeats the path; say it once
        raise InputError(f"{shown}: not a readable media file ({msg})") from None
    path = shown
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
    """Demux-only scan of the packets: keyframe times and frame-interval statistics of the video
    stream, and where each stream's packets end (on the case clock: seconds from the video start)."""

    count: int
    keyframes: list[float]
    vfr: bool
    min_interval: float | None
    median_interval: float | None
    max_interval: float | None
    stream_ends: dict[int, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # what the demuxer complained about (partial file …)

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
            "stream_ends": {str(k): v for k, v in sorted(self.stream_ends.items())},
            "errors": self.errors,
        }


def scan_packets(path: Path | str, stream_index: int | None, start_time: float, *,
                 pass_fds: tuple[int, ...] = (), display: Path | str | None = None) -> PacketScan:
    """List every stream's packets without decoding (fast: an hour of video in seconds).

    Keyframes and intervals are those of ``stream_index`` (the video; None for audio only);
    ``start_time`` is the video's start, the zero of the case clock."""
    cmd = [
        "ffprobe", "-v", "error", "-show_entries", "packet=stream_index,pts_time,duration_time,flags",
        "-of", "compact=p=0:nk=0", str(path),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", pass_fds=pass_fds)
    if proc.returncode != 0:
        raise InputError(f"{display or path}: cannot read packets ({_last_error_line(proc.stderr)})")
    pts: list[float] = []
    keys: list[float] = []
    ends: dict[int, float] = {}
    for line in proc.stdout.splitlines():
        fields = dict(kv.split("=", 1) for kv in line.split("|") if "=" in kv)
        t = _float(fields.get("pts_time"))
        idx = fields.get("stream_index", "")
        if t is None or not idx.isdigit():
            continue
        rel = t - start_time
        end = rel + (_float(fields.get("duration_time")) or 0.0)
        if end > ends.get(int(idx), float("-inf")):
            ends[int(idx)] = round(end, 6)
        if stream_index is None or int(idx) != stream_index:
            continue
        pts.append(rel)
        if "K" in fields.get("flags", ""):
            keys.append(round(rel, 6))
    pts.sort()
    deltas = sorted(b - a for a, b in zip(pts, pts[1:], strict=False) if b > a)
    med = deltas[len(deltas) // 2] if deltas else None
    # VFR when frame intervals vary by more than 10 % of the median beyond timestamp rounding.
    vfr = bool(deltas) and med is not None and (deltas[-1] - deltas[0]) > max(0.1 * med, 0.002)
    errors = [ln.strip().split("] ", 1)[-1] for ln in proc.stderr.splitlines() if ln.strip()]
    return PacketScan(
        count=len(pts),
        keyframes=sorted(set(keys)),
        vfr=vfr,
        min_interval=deltas[0] if deltas else None,
        median_interval=med,
        max_interval=deltas[-1] if deltas else None,
        stream_ends=ends,
        errors=list(dict.fromkeys(errors))[:10],
    )


def settle_duration(probe: dict[str, Any], scan: PacketScan) -> dict[str, Any]:
    """Compare the container's duration with where the streams' packets really end.

    A recording cut short with its index kept (a phone that died, a copy interrupted) keeps the
    full duration in its header; a forged header can claim hours. Either way the packets say how
    much media there is. Returns the ``completeness`` record for source.json; when header and
    packets disagree beyond :data:`DURATION_TOLERANCE`, ``probe["duration"]`` becomes the packets'
    end (the header's value stays in ``probe["container"]["duration"]``).
    """
    header = float(probe["duration"])
    wanted = {i for i in (probe.get("video_stream"), probe.get("audio_stream")) if i is not None}
    ends = {i: e for i, e in scan.stream_ends.items() if i in wanted}
    content = max(ends.values()) if ends else None
    record: dict[str, Any] = {"container_duration": header, "content_duration": content,
                              "stream_ends": {str(k): v for k, v in sorted(ends.items())},
                              "demux_errors": scan.errors, "partial": False, "notes": []}
    if content is None:
        record["notes"].append("no packet could be read: the duration is the container's claim only")
        record["partial"] = True
        return record
    tol = max(DURATION_TOLERANCE[0], DURATION_TOLERANCE[1] * max(header, content))
    if content < header - tol:
        record["partial"] = True
        record["notes"].append(f"the container says {header:.3f} s but its streams end at {content:.3f} s: "
                               "the file is incomplete (cut short) or its header is wrong")
    elif content > header + tol:
        record["notes"].append(f"the streams run to {content:.3f} s, longer than the {header:.3f} s the "
                               "container says")
    if abs(content - header) > tol:
        probe["duration"] = round(content, 6)
    if any("partial file" in e or "Invalid data" in e or "corrupt" in e.lower() for e in scan.errors):
        record["partial"] = True
        record["notes"].append("the demuxer reported damaged or missing data: " + "; ".join(scan.errors[:3]))
    return record


DURATION_TOLERANCE = (1.0, 0.02)  # seconds, fraction: real files agree to a few tens of ms


ProgressCb = Callable[[float], None]


# ffmpeg can exit 0 after failing to write (a full disk while writing a WAV): these lines mean
# the output is incomplete whatever the exit status says.
_WRITE_ERRORS = re.compile(r"No space left on device|Disk quota exceeded|Read-only file system|"
                           r"Error writing trailer|Error closing file|Input/output error|File too large")


def run_ffmpeg(
    stream: Any, *, progress: ProgressCb | None = None, what: str, keep: re.Pattern[str] | None = None,
    pass_fds: tuple[int, ...] = (),
) -> list[str]:
    """Run an ffmpeg-python graph with ``-progress`` on stdout; return stderr lines.

    stderr is drained on a thread so a chatty ffmpeg can never block on a full pipe. The last
    400 lines are kept for error messages, plus every line matching ``keep`` (showinfo output).
    A failed write (disk full, I/O error) is an error even when ffmpeg exits 0.
    """
    args = stream.global_args("-nostdin", "-hide_banner", "-nostats", "-progress", "pipe:1").compile()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=pass_fds,
                            preexec_fn=die_with_parent)  # a killed lsf leaves no ffmpeg writing on
    err_lines: deque[str] = deque(maxlen=400)
    kept: list[str] = []
    write_errors: list[str] = []

    def drain() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if keep is not None and keep.search(line):
                kept.append(line)
            else:
                err_lines.append(line)
                if _WRITE_ERRORS.search(line) and len(write_errors) < 5:
                    write_errors.append(line.strip())

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
    if write_errors:
        raise InputError(f"ffmpeg could not write its output while {what}: {write_errors[0]} "
                         "(nothing was kept; free space or fix the disk and rerun the same command)")
    if rc != 0:
        raise InputError(f"ffmpeg failed while {what}: {_last_error_line(chr(10).join(err_lines))}")
    return kept if keep is not None else list(err_lines)


def extract_audio(
    src: Path | str, out_wav: Path, *, stream_index: int, offset: float, progress: ProgressCb | None = None,
    pass_fds: tuple[int, ...] = (),
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
    return run_ffmpeg(out, progress=progress, what="extracting audio", pass_fds=pass_fds)


def wav_problem(path: Path) -> str | None:
    """Why a WAV that ffmpeg wrote is unfinished, or None. ffmpeg writes the RIFF and data sizes
    last (placeholders until the trailer), so a write that failed part-way leaves them wrong."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return "not a RIFF/WAVE file"
    riff = struct.unpack("<I", head[4:8])[0]
    if riff != size - 8:
        return f"its RIFF header says {riff + 8} bytes but the file has {size}: it was not finished"
    pos = 12
    while pos + 8 <= len(head):
        cid, n = head[pos:pos + 4], struct.unpack("<I", head[pos + 4:pos + 8])[0]
        if cid == b"data":
            return None if pos + 8 + n == size else (
                f"its data chunk says {n} bytes but {size - pos - 8} follow: it was not finished")
        pos += 8 + n + (n & 1)
    return "no data chunk in the first 4 KB"


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
    src: Path | str,
    out_dir: Path,
    *,
    stream_index: int,
    mode: str,
    interval: float,
    scene_threshold: float,
    max_width: int,
    progress: ProgressCb | None = None,
    pass_fds: tuple[int, ...] = (),
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
    info = run_ffmpeg(out, progress=progress, what="decoding frames", keep=_SHOWINFO, pass_fds=pass_fds)
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
