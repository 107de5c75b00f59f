"""One ffmpeg process copying the stream into closed MPEG-TS segments, watched from Python.

ffmpeg does the protocol work (HLS, HTTP-FLV, DASH, RTMP) and writes segments with the segment
muxer (``-c copy``, no re-encode, ``-copyts`` so segment times are the source's own clock). Two
threads read what it says: ``-progress`` on stdout (the output clock, once a second: the
heartbeat stall detection uses) and the verbose log on stderr (when each segment starts and
closes, which source segments it opened, every warning about damaged input). A CSV segment list
names each segment once ffmpeg has closed it; only closed segments are ever chained.

ffmpeg runs in its own process group and is killed by the kernel if the recorder dies
(``PR_SET_PDEATHSIG``), so a ``kill -9`` of ``lsf record`` leaves no ffmpeg writing on.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from ..childproc import die_with_parent
from .sources import StreamSource

_START = re.compile(r"segment:'(?P<file>[^']+)' starts with packet stream:\d+ pts:-?\d+ pts_time:(?P<t>-?[\d.]+)")
_ENDED = re.compile(r"segment:'(?P<file>[^']+)' count:\d+ ended")
_OPEN_SRC = re.compile(r"\[(?:hls|dash)[^\]]*\] \[\w+\] Opening '(?P<url>[^']+)' for reading")
_SKIP = re.compile(r"skipping (?P<n>\d+) segments ahead, expired from playlists")
_LEVEL = re.compile(r"\[(?P<level>warning|error|fatal|panic)\] ")
LOG_MAX = 32 * 1024 * 1024  # bytes of ffmpeg log kept per attempt
# Input damage worth chaining against the segment being written (demuxer/parser words for it).
DAMAGE = ("corrupt", "PES packet size mismatch", "Continuity check failed", "changing packet size",
          "Invalid data found", "invalid dts", "non monotonically increasing dts", "Failed to open segment",
          "error while decoding", "Packet mismatch", "missing picture", "truncat")




@dataclass
class LogNote:
    wall: float
    level: str
    message: str
    segment: str | None  # output segment being written when ffmpeg said it
    source: str | None  # last source segment ffmpeg opened (HLS/DASH)


@dataclass
class SegmentTimes:
    started_pts: float | None = None
    started_wall: float | None = None
    ended_wall: float | None = None
    sources: list[str] = field(default_factory=list)


class FfmpegRun:
    def __init__(self, source: StreamSource, segments_dir: Path, list_csv: Path, log_path: Path, *,
                 start_number: int, segment_time: float, rw_timeout: float):
        self.source = source
        self.list_csv = list_csv
        self.log_path = log_path
        self.segments_dir = segments_dir
        self.start_number = start_number
        self.out_time = 0.0
        self.first_data_wall: float | None = None
        self.last_data_wall: float | None = None
        self.started_wall = time.time()
        self.times: dict[str, SegmentTimes] = {}
        self.notes: deque[LogNote] = deque(maxlen=10000)  # bounded: a flood of warnings cannot eat memory
        self.skipped_segments = 0
        self.last_error: str | None = None
        self._current: str | None = None
        self._source: str | None = None
        self._pending_sources: list[str] = []
        self._lock = threading.Lock()
        cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "+level+verbose"]
        if source.headers:
            cmd += ["-headers", "".join(f"{k}: {v}\r\n" for k, v in source.headers.items())]
        if source.kind in ("hls", "flv", "dash", "ts", "rtmp"):
            cmd += ["-rw_timeout", str(int(rw_timeout * 1_000_000))]
        cmd += ["-copyts", "-i", source.stream_url, "-sn", "-dn", "-c", "copy"]
        cmd += ["-f", "segment", "-segment_time", f"{segment_time:g}", "-segment_format", "mpegts",
                "-segment_list", str(list_csv), "-segment_list_type", "csv",
                "-segment_start_number", str(start_number), "-reset_timestamps", "0",
                "-progress", "pipe:1", "-stats_period", "1", str(segments_dir / "%06d.ts")]
        self.cmd = cmd
        self._log = open(log_path, "ab", buffering=0)  # noqa: SIM115 - closed in wait()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True, preexec_fn=die_with_parent)
        self._threads = [threading.Thread(target=self._read_progress, daemon=True),
                         threading.Thread(target=self._read_log, daemon=True)]
        for t in self._threads:
            t.start()

    # -- readers (threads) ----------------------------------------------------------------
    def _read_progress(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").strip()
            if line.startswith("out_time_us="):
                try:
                    t = int(line.split("=", 1)[1]) / 1e6
                except ValueError:
                    continue
                now = time.time()
                with self._lock:
                    if t > self.out_time + 1e-3:
                        self.out_time = t
                        self.last_data_wall = now
                        if self.first_data_wall is None:
                            self.first_data_wall = now

    def _read_log(self) -> None:
        assert self.proc.stderr is not None
        written = 0
        for raw in self.proc.stderr:
            # Bounded: ffmpeg's DASH demuxer can log thousands of 404s a second at a live edge.
            if written < LOG_MAX:
                self._log.write(raw)
                written += len(raw)
                if written >= LOG_MAX:
                    self._log.write(f"[lsf] log truncated at {LOG_MAX} bytes; parsing goes on\n".encode())
            line = raw.decode("utf-8", "replace").rstrip()
            now = time.time()
            with self._lock:
                self._parse(line, now)

    def _parse(self, line: str, now: float) -> None:
        m = _START.search(line)
        if m:
            name = Path(m.group("file")).name
            st = self.times.setdefault(name, SegmentTimes())
            st.started_pts, st.started_wall = float(m.group("t")), now
            st.sources = self._pending_sources + ([self._source] if self._source and not self._pending_sources else [])
            self._pending_sources = []
            self._current = name
            if self.first_data_wall is None:
                self.first_data_wall = now
            return
        m = _ENDED.search(line)
        if m:
            self.times.setdefault(Path(m.group("file")).name, SegmentTimes()).ended_wall = now
            return
        m = _OPEN_SRC.search(line)
        if m:
            self._source = m.group("url")
            if self._current is not None and self._current in self.times:
                self.times[self._current].sources.append(self._source)
            else:
                self._pending_sources.append(self._source)
            return
        lv = _LEVEL.search(line)
        if lv:
            msg = line[lv.end():].strip()
            m = _SKIP.search(line)
            if m:
                self.skipped_segments += int(m.group("n"))
            self.last_error = msg if lv.group("level") != "warning" else self.last_error
            if lv.group("level") != "warning" or any(w.lower() in msg.lower() for w in DAMAGE) or m:
                self.notes.append(LogNote(now, lv.group("level"), msg[:300], self._current, self._source))
            if lv.group("level") == "warning" and "Failed to reload playlist" in msg:
                self.last_error = msg

    # -- control --------------------------------------------------------------------------
    def snapshot(self) -> tuple[float, float | None, float | None]:
        with self._lock:
            return self.out_time, self.first_data_wall, self.last_data_wall

    def take_notes(self) -> list[LogNote]:
        with self._lock:
            out = list(self.notes)
            self.notes.clear()
            return out

    def segment_times(self, name: str) -> SegmentTimes:
        with self._lock:
            return self.times.get(name, SegmentTimes())

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, grace: float = 8.0) -> None:
        """SIGINT first (ffmpeg closes the open segment and lists it), SIGKILL if it hangs."""
        if self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGINT)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)

    def wait(self) -> int:
        rc = self.proc.wait()
        for t in self._threads:
            t.join(5)
        self._log.close()
        return rc


def closed_segments(list_csv: Path) -> list[tuple[str, float, float]]:
    """``(file name, start, end)`` of every segment ffmpeg has closed, in order."""
    if not list_csv.exists():
        return []
    out = []
    for line in list_csv.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.rsplit(",", 2)
        if len(parts) != 3:
            continue
        try:
            out.append((Path(parts[0]).name, float(parts[1]), float(parts[2])))
        except ValueError:
            continue
    return out
