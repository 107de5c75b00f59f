"""``record``: a live stream into a case, every closed segment hashed and chained as it arrives.

One recorder session holds the case lock. It starts ffmpeg (ffmpeg_run.py), and four times a
second chains what happened since: each newly closed segment (sha256, size, PTS range, when it
arrived), damaged input ffmpeg warned about, chat messages, timestamps of the chain head. When
ffmpeg exits or stalls it reconnects with backoff and chains the gap: wall time without data and,
when the source clock continues, the media that is missing. A rerun after a crash or kill starts
a new session in the same chain: segments ffmpeg had closed are chained late (said so), an
unfinished one is kept under ``capture/partial/``, and the time lost is chained as a gap.
At the end: the remux, the chat file for analysis, an ``end`` line, a last timestamp, the
Ed25519 signature over the end line, the custody entry and the case seal.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
import time
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..case import Case, atomic_write_bytes, default_operator
from ..custody import CustodyLog
from ..errors import InputError
from ..evidence import sign as sg
from ..evidence.hashing import digest_file, sha256_bytes
from ..media import ffmpeg_version
from ..progress import NullProgress, Progress
from . import remux as rm
from . import stamps as st
from .chain import CaptureChain
from .chat import ChatMessage, ChatSource, iso, open_source
from .clock import DEFAULT_NTP, check_clock
from .ffmpeg_run import FfmpegRun, closed_segments
from .layout import CaptureLayout
from .sources import StreamSource, resolve
from .timeline import read_timeline, summarize

TICK = 0.25
MIN_JUMP = 1.0  # a PTS step over this many seconds between segments is a gap


@dataclass
class RecordOptions:
    duration: float | None = None  # media seconds in the whole case; None: until stopped or the stream ends
    segment_time: float = 10.0
    chats: list[str] = field(default_factory=list)
    tsa: str | None = None
    tsa_ca: Path | None = None
    stamp_every: float = 600.0  # seconds of recording between timestamps of the chain head
    sign_key: Path | None = None
    ntp: str | None = DEFAULT_NTP
    resolver: str = "auto"
    stall_timeout: float = 30.0  # no new media for this long: reconnect
    give_up: float = 300.0  # no media at all for this long: end the recording
    rw_timeout: float = 10.0
    backoff_max: float = 8.0
    seal: bool = True

    def validate(self) -> None:
        if not 2 <= self.segment_time <= 600:
            raise InputError(f"--segment-time must be between 2 and 600 s (got {self.segment_time})")
        if not 10 <= self.stamp_every <= 86400:
            raise InputError(f"--stamp-every must be between 10 s and 24 h (got {self.stamp_every})")
        for name in ("stall_timeout", "give_up", "rw_timeout", "backoff_max"):
            if getattr(self, name) <= 0:
                raise InputError(f"--{name.replace('_', '-')} must be more than 0")
        if self.tsa is not None and not self.tsa.startswith(("http://", "https://")):
            raise InputError(f"--tsa {self.tsa!r}: expected an http:// or https:// URL")


@dataclass
class RecordResult:
    case: Path
    session: int
    reason: str
    summary: dict[str, Any]
    seal: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"case": str(self.case)}


class _Recorder:
    def __init__(self, case: Case, source: StreamSource, opts: RecordOptions, chats: list[ChatSource],
                 progress: Progress, operator: str | None, argv: list[str] | None, stop: threading.Event):
        self.case, self.source, self.opts, self.chats = case, source, opts, chats
        self.layout = CaptureLayout(case)
        self.progress, self.operator, self.argv, self.stop = progress, operator, argv, stop
        self.chat_q: queue.Queue[tuple[str, ChatMessage]] = queue.Queue(maxsize=100_000)
        self.pool = ThreadPoolExecutor(max_workers=1)  # the TSA and NTP round trips, off the recording loop
        self.stamp_future: Future[tuple[dict[str, Any] | None, dict[str, Any], str | None]] | None = None
        self.notes: list[str] = []
        self.chat_dropped = 0

    # -- setup ------------------------------------------------------------------------------
    def _prepare(self) -> None:
        L = self.layout
        for d in (L.segments, L.sessions, L.stamps):
            d.mkdir(parents=True, exist_ok=True)
        self.chain = CaptureChain(L.chain)
        tl = read_timeline(self.chain.entries())
        self.session = tl.sessions + 1
        self.session_dir = L.sessions / f"{self.session:04d}"
        self.session_dir.mkdir(parents=True, exist_ok=True)
        self.media_total = tl.media_duration
        self.next_index = max((s.index for s in tl.segments), default=0) + 1
        last = tl.segments[-1] if tl.segments else None
        self.last_pts_end: float | None = float(last.entry.get("pts_end")) if last and last.entry.get("pts_end") is not None else None
        self.last_received: float | None = last.received if last else None
        self.segment_count = len(tl.segments)
        self.last_index: int | None = last.index if last else None  # the last chained (whole) segment
        self.killed_before = tl.sessions > 0 and not tl.ended
        # A previous session that ended normally or died: the time until now is a gap.
        self.outage_since: float | None = self.last_received
        self.outage_cause = "recorder stopped and restarted" if tl.sessions else None
        self.leftovers = self._leftovers()
        for c in self.chats:
            c.resume_from(tl.chat)

    def _leftovers(self) -> list[tuple[str, Path, tuple[float, float] | None]]:
        """Segment files a killed session left unchained: closed by ffmpeg (listed) or unfinished."""
        L = self.layout
        listed: dict[str, tuple[float, float]] = {}
        for csv in sorted(L.sessions.glob("*/attempt-*.csv")):
            for name, a, b in closed_segments(csv):
                listed[name] = (a, b)
        out = []
        for p in sorted(L.segments.glob("*.ts")):
            try:
                idx = int(p.stem)
            except ValueError:
                continue
            if idx >= self.next_index:
                out.append(("late" if p.name in listed else "partial", p, listed.get(p.name)))
        return out

    def _chain_leftovers(self) -> None:
        for what, p, times in self.leftovers:
            d = digest_file(p)
            if what == "late":
                a, b = times or (None, None)
                self.chain.append("segment", {
                    "index": int(p.stem), "file": self.layout.rel(p), "sha256": d.sha256, "size": d.size,
                    "pts_start": a, "pts_end": b, "duration": round((b or 0) - (a or 0), 6) if a is not None else 0.0,
                    "received_start": None, "received": None, "session": self.session - 1, "late": True,
                    "note": "closed by ffmpeg before the recorder was killed; hashed when the next session started"})
                self.segment_count += 1
                self.media_total += max((b or 0) - (a or 0), 0)
                if b is not None:
                    self.last_pts_end = b
                self.last_index, self.next_index = int(p.stem), int(p.stem) + 1
            else:
                self.layout.partial.mkdir(parents=True, exist_ok=True)
                dest = self.layout.partial / p.name
                os.replace(p, dest)
                self.chain.append("partial", {
                    "index": int(p.stem), "file": self.layout.rel(dest), "sha256": d.sha256, "size": d.size,
                    "session": self.session - 1,
                    "note": "unfinished when the recorder was killed: kept as it was, not part of recording.ts"})
                self.next_index = max(self.next_index, int(p.stem) + 1)

    # -- chain writers ------------------------------------------------------------------
    def _start_entry(self) -> None:
        o = self.opts
        self.chain.append("start", {
            "session": self.session, "url": self.source.url, "source": self.source.to_json(),
            "operator": self.operator or default_operator(), "tool_version": __version__, "ffmpeg": ffmpeg_version(),
            "options": {"duration": o.duration, "segment_time": o.segment_time, "stamp_every": o.stamp_every if o.tsa else None,
                        "tsa": o.tsa, "chat": [c.spec for c in self.chats], "stall_timeout": o.stall_timeout,
                        "give_up": o.give_up},
            "clock": check_clock(o.ntp).to_json(),
            "resumed": self.session > 1, "previous_session_ended": (not self.killed_before) if self.session > 1 else None,
        })

    def _gap(self, cause: str, since: float, until: float, missing: float | None, before: int, note: str | None = None) -> None:
        self.chain.append("gap", {
            "cause": cause, "from": iso(since), "to": iso(until), "wall_s": round(until - since, 3),
            "media_missing_s": None if missing is None else round(missing, 3),
            "after_segment": self.last_index, "before_segment": before, "session": self.session,
            **({"note": note} if note else {})})

    def _segment(self, run: FfmpegRun, attempt: int, name: str, a: float, b: float,
                 held: list[Any]) -> None:
        path = self.layout.segments / name
        times = run.segment_times(name)
        pts_start = times.started_pts if times.started_pts is not None else a
        received = times.ended_wall or time.time()
        received_start = self._window_start or run.first_data_wall or run.started_wall
        idx = int(Path(name).stem)
        if self.outage_since is not None:
            first = run.first_data_wall or received_start
            missing = pts_start - self.last_pts_end if self.last_pts_end is not None else None
            if missing is not None and not (-600 < missing < (first - self.outage_since) + 120):
                missing = None  # a new source clock (RTMP restarts at 0): media loss unknown, wall time stands
            self._gap(self.outage_cause or "reconnect", self.outage_since, first, missing, idx)
            self.outage_since = None
        elif self.last_pts_end is not None:
            jump = pts_start - self.last_pts_end
            if jump > MIN_JUMP:
                self._gap("pts_jump", received_start, received_start, jump, idx,
                          "the source's timestamps skip: media is missing inside the stream")
        if self.last_pts_end is not None and pts_start < self.last_pts_end - 0.5:
            self.chain.append("overlap", {"before_segment": idx, "media_repeated_s": round(self.last_pts_end - pts_start, 3),
                                          "note": "after reconnecting the source sent media already recorded"})
        d = digest_file(path)
        warnings = [f"{n.level}: {n.message}" + (f" (source {n.source})" if n.source else "")
                    for n in held if n.segment == name][:50]
        self.chain.append("segment", {
            "index": idx, "file": self.layout.rel(path), "sha256": d.sha256, "size": d.size,
            "pts_start": round(pts_start, 6), "pts_end": round(b, 6), "duration": round(b - pts_start, 6),
            "received_start": iso(received_start), "received": iso(received), "session": self.session,
            "attempt": attempt, "source_segments": times.sources[-20:], **({"warnings": warnings} if warnings else {})},
            time=iso(received))
        self._window_start = received
        self.last_pts_end, self.last_received, self.last_index = b, received, idx
        self.media_total += max(b - pts_start, 0)
        self.segment_count += 1
        self.next_index = idx + 1

    def _drain_chat(self) -> None:
        items = []
        while len(items) < 5000:
            try:
                spec, m = self.chat_q.get_nowait()
            except queue.Empty:
                break
            items.append(("chat", m.to_fields(spec), iso(m.received)))
        self.chain.append_many(items)

    # -- timestamps ---------------------------------------------------------------------
    def _stamp_job(self, attempt: st.StampAttempt) -> tuple[dict[str, Any] | None, dict[str, Any], str | None]:
        clock = check_clock(self.opts.ntp).to_json()
        try:
            return st.send(self.layout, attempt, self.opts.tsa or "", self.roots), clock, None
        except InputError as exc:
            return None, clock, str(exc)

    def _stamp_now(self, wait: bool = False) -> None:
        if self.opts.tsa is None or self.stamp_future is not None or self.chain.last_line is None:
            return
        attempt = st.prepare(self.layout, self.chain.seq, self.chain.last_line)
        self.stamp_future = self.pool.submit(self._stamp_job, attempt)
        self.stamp_seq = attempt.seq
        self.last_stamp = time.time()
        if wait:
            self.stamp_future.result(timeout=60)
            self._stamp_collect()

    def _stamp_collect(self) -> None:
        f = self.stamp_future
        if f is None or not f.done():
            return
        self.stamp_future = None
        fields, clock, error = f.result()
        items: list[tuple[str, dict[str, Any], str | None]] = [("clock", clock, None)]
        if fields is not None:
            items.insert(0, ("stamp", fields, None))
            if fields["status"] == "pending":
                self.notes.append(f"timestamp of chain line {fields['of_seq']} pending: {fields['error']}")
        else:
            items.insert(0, ("stamp", {"of_seq": self.stamp_seq, "status": "refused", "tsa": self.opts.tsa,
                                       "error": error}, None))
            self.notes.append(f"timestamp of chain line {self.stamp_seq} refused: {error}")
        self.chain.append_many(items)

    # -- the loop -----------------------------------------------------------------------
    def _tick(self, run: FfmpegRun | None, attempt: int, state: dict[str, Any]) -> None:
        if run is not None:
            held = state.setdefault("held", [])
            held += run.take_notes()
            closed = closed_segments(state["csv"])
            for name, a, b in closed[state["done"]:]:
                if (self.layout.segments / name).is_file():
                    self._segment(run, attempt, name, a, b, held)
                    held[:] = [n for n in held if n.segment != name and n.segment is not None]
            state["done"] = len(closed)
        self._drain_chat()
        self._stamp_collect()
        if self.opts.tsa and time.time() - self.last_stamp >= self.opts.stamp_every:
            self._stamp_now()
        self.task.update(self.media_total)

    def _remaining(self) -> float | None:
        return None if self.opts.duration is None else self.opts.duration - self.media_total

    def _stream_ended(self) -> bool:
        """An HLS playlist that now says #EXT-X-ENDLIST: the broadcast is over, do not replay it."""
        if self.source.kind != "hls":
            return False
        try:
            req = urllib.request.Request(self.source.stream_url, headers=self.source.headers)
            with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 - http(s) checked by classify
                return b"#EXT-X-ENDLIST" in resp.read(1 << 20)
        except Exception:  # noqa: BLE001 - unreachable: not known to have ended
            return False

    def _sleep(self, seconds: float, state: dict[str, Any], attempt: int) -> None:
        end = time.time() + seconds
        while time.time() < end and not self.stop.is_set():
            self._tick(None, attempt, state)
            self.stop.wait(TICK)

    def record(self) -> str:
        o = self.opts
        self.roots, _ = st.load_roots(self.layout, o.tsa_ca)
        if o.tsa_ca is not None:
            atomic_write_bytes(self.layout.stamps / st.TSA_CA, Path(o.tsa_ca).read_bytes())
        self._start_entry()
        self._chain_leftovers()
        self.last_stamp = time.time()
        self._stamp_now()  # the start line: the recording's beginning is attested too
        chat_stop = threading.Event()
        chat_threads = [threading.Thread(target=c.run, args=(lambda m, s=c.spec: self._put_chat(s, m), chat_stop),
                                         daemon=True) for c in self.chats]
        for t in chat_threads:
            t.start()
        self.task = self.progress.task("recording", total=o.duration)
        attempt, backoff = 0, 1.0
        no_data_since = time.time()
        reason = "stopped"
        self._window_start: float | None = None
        try:
            while True:
                rem = self._remaining()
                if rem is not None and rem <= 0.05:
                    reason = "duration reached"
                    break
                if self.stop.is_set():
                    reason = "stopped by the operator"
                    break
                attempt += 1
                state: dict[str, Any] = {"csv": self.session_dir / f"attempt-{attempt:03d}.csv", "done": 0}
                run = FfmpegRun(self.source, self.layout.segments, state["csv"],
                                self.session_dir / f"attempt-{attempt:03d}.ffmpeg.log", start_number=self.next_index,
                                segment_time=o.segment_time, rw_timeout=o.rw_timeout)
                self._window_start = None
                stalled = False
                media_before = self.media_total
                while run.running():
                    self._tick(run, attempt, state)
                    out_time, first, last = run.snapshot()
                    if time.time() - (last or run.started_wall) > o.stall_timeout and not stalled:
                        stalled = True
                        run.stop()
                    # ffmpeg's -t counts from the source's clock under -copyts, so the recorder
                    # stops it itself (SIGINT: the open segment is closed and listed).
                    if self.stop.is_set() or (o.duration is not None and media_before + out_time >= o.duration):
                        run.stop()
                    time.sleep(TICK)
                rc = run.wait()
                self._tick(run, attempt, state)
                self._after_attempt(run, state)
                _, first, last = run.snapshot()
                self.chain.append("disconnect", {
                    "session": self.session, "attempt": attempt, "returncode": rc,
                    "why": "stalled" if stalled else ("stopped" if self.stop.is_set() else "ffmpeg ended"),
                    "had_data": first is not None, "last_data": iso(last) if last else None,
                    "skipped_source_segments": run.skipped_segments, "last_error": run.last_error,
                    "log": self.layout.rel(run.log_path),
                    "notes": [f"{n.level}: {n.message}" for n in state.get("held", [])][:20]})
                if first is not None:
                    self.outage_since, self.outage_cause = (last or first), ("stall" if stalled else "reconnect")
                    backoff, no_data_since = 1.0, (last or first)
                if self.stop.is_set():
                    reason = "stopped by the operator"
                    break
                rem = self._remaining()
                if rem is not None and rem <= 0.05:
                    reason = "duration reached"
                    break
                if self._stream_ended():
                    reason = "the stream ended (#EXT-X-ENDLIST)"
                    break
                if time.time() - no_data_since > o.give_up:
                    reason = f"no media for {o.give_up:g} s: gave up"
                    break
                self.progress.log(f"reconnecting in {backoff:g} s (attempt {attempt + 1})")
                self._sleep(backoff, state, attempt)
                backoff = min(backoff * 2, o.backoff_max)
        finally:
            chat_stop.set()
            for t in chat_threads:
                t.join(3)
            self._drain_chat()
            self.task.close()
        return reason

    def _put_chat(self, spec: str, m: ChatMessage) -> None:
        try:
            self.chat_q.put_nowait((spec, m))
        except queue.Full:  # the loop is stuck for minutes: drop (counted in the end line) rather than grow
            self.chat_dropped += 1

    def _after_attempt(self, run: FfmpegRun, state: dict[str, Any]) -> None:
        """A segment ffmpeg opened but never closed (killed hard): keep it aside, chained."""
        closed = {n for n, _, _ in closed_segments(state["csv"])}
        for p in sorted(self.layout.segments.glob("*.ts")):
            try:
                idx = int(p.stem)
            except ValueError:
                continue
            if idx >= self.next_index and p.name not in closed:
                d = digest_file(p)
                self.layout.partial.mkdir(parents=True, exist_ok=True)
                dest = self.layout.partial / p.name
                os.replace(p, dest)
                self.chain.append("partial", {"index": idx, "file": self.layout.rel(dest), "sha256": d.sha256,
                                              "size": d.size, "session": self.session,
                                              "note": "ffmpeg was stopped before it closed this segment"})
                self.next_index = idx + 1

    # -- the end ------------------------------------------------------------------------
    def finish(self, reason: str) -> dict[str, Any]:
        if self.stamp_future is not None:
            try:
                self.stamp_future.result(timeout=60)
            except Exception:  # noqa: BLE001 - collected below as whatever it was
                pass
            self._stamp_collect()
        tl = read_timeline(self.chain.entries())
        recording = rm.remux(self.layout, tl.segments)
        chat = rm.write_chat(self.layout, tl)
        self.chain.append("end", {
            "session": self.session, "reason": reason, "segments": len(tl.segments),
            "media_duration": tl.media_duration, "gaps": len(tl.gaps), "recording": recording, "chat": chat,
            "chat_sources": [c.describe() for c in self.chats], "chat_dropped": self.chat_dropped,
            "clock": check_clock(self.opts.ntp).to_json()})
        end_seq, end_line = self.chain.seq, self.chain.last_line or b""
        self._stamp_now(wait=True)
        sig = None
        if self.opts.sign_key is not None:
            key = sg.load_private_key(self.opts.sign_key)
            atomic_write_bytes(self.layout.signature, sg.sign(key, end_line))
            atomic_write_bytes(self.layout.public_key, sg.public_pem(key.public_key()))
            sig = {"of_seq": end_seq, "fingerprint": sg.fingerprint(key.public_key()),
                   "line_sha256": sha256_bytes(end_line)}
            # The signature names its line in the chain, after the fact (the line cannot hold its own signature).
            self.chain.append("signature", {"of_seq": end_seq, "fingerprint": sig["fingerprint"],
                                            "file": self.layout.rel(self.layout.signature)})
        self.pool.shutdown(wait=True)
        return {"recording": recording, "chat": chat, "signature": sig, "end_seq": end_seq}


def check_options(url: str, opts: RecordOptions) -> tuple[StreamSource, list[ChatSource]]:
    """Everything that can fail on bad input, before the case is touched."""
    opts.validate()
    if shutil.which("ffmpeg") is None:
        raise InputError("ffmpeg is not installed (apt-get install ffmpeg)")
    if opts.sign_key is not None:
        sg.load_private_key(opts.sign_key)
    if opts.tsa_ca is not None:
        st.load_roots(CaptureLayout(Path(".")), opts.tsa_ca)
    chats = [open_source(c) for c in opts.chats]
    return resolve(url, opts.resolver), chats


def record(url: str, case_dir: str | os.PathLike[str], opts: RecordOptions | None = None, *,
           operator: str | None = None, progress: Progress | None = None, argv: list[str] | None = None,
           stop: threading.Event | None = None) -> RecordResult:
    """Record ``url`` into ``case_dir`` (new, or a capture case to continue) until done or ``stop``."""
    opts = opts or RecordOptions()
    progress = progress or NullProgress()
    stop = stop or threading.Event()
    source, chats = check_options(url, opts)
    root = Path(case_dir)
    case = Case(root)
    layout = CaptureLayout(case)
    if case.exists():
        if not layout.chain.is_file() and case.source_json.is_file():
            raise InputError(f"case {case.root} holds an analysed video, not a recording; choose another -C folder")
    elif root.exists() and any(root.iterdir()):
        raise InputError(f"{root} exists and is not an lsf case (no case.json); choose another -C folder")
    if layout.chain.is_file():
        done = read_timeline(CaptureChain(layout.chain).entries())
        if done.starts and done.starts[0].get("url") != url:
            raise InputError(f"case {case.root} records {done.starts[0].get('url')}, not {url}; "
                             "choose another -C folder")
        if opts.duration is not None and done.ended and done.media_duration >= opts.duration - 0.05:
            # Rerunning a finished recording is a no-op (SPEC: idempotent), nothing is written.
            return RecordResult(case.root, done.sessions, "already recorded",
                                summarize(CaptureChain(layout.chain).entries()), None,
                                [f"the case already holds {done.media_duration:.1f} s of media (--duration "
                                 f"{opts.duration:g}); give a longer --duration to record more"])
    case.create(operator=operator)
    with case.locked():
        rec = _Recorder(case, source, opts, chats, progress, operator, argv, stop)
        rec._prepare()
        reason = rec.record()
        done = rec.finish(reason)
        entries = rec.chain.entries()
        summary = summarize(entries)
        outputs = [{"path": layout.rel(layout.chain), "sha256": sha256_bytes(layout.chain.read_bytes())}]
        for key in ("recording", "chat"):
            if done.get(key):
                outputs.append({"path": done[key]["path"], "sha256": done[key]["sha256"]})
        CustodyLog(case.custody).append(
            "record", inputs=[], outputs=outputs,
            params={"url": url, "session": rec.session, **{k: v for k, v in asdict(opts).items()
                                                            if k in ("duration", "segment_time", "stamp_every", "tsa")}},
            argv=argv, operator=operator or case.info.get("operator"),
            result={"reason": reason, "segments": summary["segments"], "media_duration": summary["media_duration"],
                    "gaps": len(summary["gaps"]), "chain_lines": rec.chain.seq})
        seal = None
        if opts.seal:
            from ..evidence.seal import seal_case

            seal = seal_case(case, sign_key=opts.sign_key, tsa=opts.tsa, tsa_ca=opts.tsa_ca, argv=argv,
                             operator=operator).to_json()
        return RecordResult(case.root, rec.session, reason, summary, seal, rec.notes)


