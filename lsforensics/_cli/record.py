"""``lsf record``."""

from __future__ import annotations

import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from ..capture.clock import parse_duration
from ..capture.recorder import RecordOptions
from ..capture.recorder import record as run_record
from .common import common_options, emit, opts, progress


def _human(r: dict[str, Any]) -> str:
    s = r["summary"]
    lines = [f"case: {r['case']} (session {r['session']})",
             f"source: {s['url']}" + (f" -> {s['stream_url']}" if s.get("stream_url") != s.get("url") else "")
             + f" [{s['kind']}]",
             f"recorded: {s['start']} .. {s['end']} (UTC), {s['segments']} segments, "
             f"{s['media_duration']:.1f} s of media; ended: {r['reason']}"]
    for g in s["gaps"]:
        miss = f", {g['media_missing_s']} s of media missing" if g.get("media_missing_s") is not None else ""
        lines.append(f"  gap ({g['cause']}): {g['wall_s']} s without data{miss}, before segment {g['before_segment']}")
    for d in s["damaged_segments"]:
        lines.append(f"  damaged input in segment {d['index']}: {d['warnings'][0]}")
    if s["partial_segments"]:
        lines.append(f"  unfinished segments kept aside: {', '.join(s['partial_segments'])}")
    if s["chat_messages"]:
        lines.append(f"chat: {s['chat_messages']} messages chained")
    st = s["stamps"]
    if st["tsa"]:
        lines.append(f"timestamps: {st['stamped']} stamped, {st['pending']} pending ({st['tsa']})"
                     + ("; finish with `lsf stamp CASE --tsa URL`" if st["pending"] else ""))
    c = s["clock"]
    lines.append("clock: " + (f"max |offset| to {c['server']} {c['max_abs_offset']:.3f} s" if c["max_abs_offset"] is not None
                              else f"no NTP answer ({'; '.join(c['errors']) or 'not checked'})"))
    if s.get("recording"):
        lines.append(f"recording: {Path(r['case']) / s['recording']['path']} (sha256 {s['recording']['sha256'][:16]}…)")
    for n in r["notes"]:
        lines.append(f"note: {n}")
    lines.append(f"verify: lsf verify {r['case']}")
    lines.append(f"analyze: {r.get('analyze_command') or 'lsf analyze ' + shlex.quote(str(r['case']))}")
    return "\n".join(lines)


@click.command()
@click.argument("url")
@click.option("-C", "--case", "case_dir", type=click.Path(path_type=Path), required=True,
              help="Case folder (new, or a recorded case to continue).")
@click.option("--duration", metavar="D", help="Media to record in the whole case: seconds or 90s, 20m, 1h30m "
              "[default: until Ctrl-C or the stream ends].")
@click.option("--segment-time", type=float, default=10.0, show_default=True, help="Seconds per closed segment.")
@click.option("--chat", "chats", multiple=True, metavar="SOURCE",
              help="Live chat to record beside the video: file:PATH (a JSONL file being written), "
                   "http(s)://… (JSON lines), ws(s)://… (websocket); repeatable.")
@click.option("--tsa", metavar="URL", help="RFC 3161 TSA: timestamp the chain head every --stamp-every and at the end.")
@click.option("--tsa-ca", type=click.Path(path_type=Path), help="PEM root certificate the TSA must chain to.")
@click.option("--stamp-every", default="10m", show_default=True, metavar="D", help="Time between timestamps.")
@click.option("--sign-key", type=click.Path(path_type=Path), help="Ed25519 private key: sign the end of the chain "
              "and the case manifest.")
@click.option("--ntp", default="pool.ntp.org", show_default=True, metavar="SERVER",
              help="NTP server for the host clock's offset ('none' to skip).")
@click.option("--resolver", type=click.Choice(["auto", "streamlink", "yt-dlp", "none"]), default="auto",
              show_default=True, help="How a page URL becomes a stream URL (needs the record extra).")
@click.option("--stall-timeout", default="30s", show_default=True, metavar="D", help="No new media this long: reconnect.")
@click.option("--give-up", default="5m", show_default=True, metavar="D", help="No media at all this long: stop.")
@click.option("--analyze", "then_analyze", is_flag=True, help="Run `lsf analyze` on the case when the recording ends.")
@common_options
def record(url: str, case_dir: Path, duration: str | None, segment_time: float, chats: tuple[str, ...],
           tsa: str | None, tsa_ca: Path | None, stamp_every: str, sign_key: Path | None, ntp: str, resolver: str,
           stall_timeout: str, give_up: str, then_analyze: bool) -> None:
    """Record a live stream (HLS, HTTP-FLV, DASH, RTMP, or a page URL) as evidence from its first byte.

    ffmpeg copies the stream without re-encoding into closed segments; each is hashed as it
    closes and chained in CASE/capture.jsonl with its receive time (UTC) and media times, the
    host clock's NTP offset, every gap, reconnect and damaged input, and the chat. The chain
    head is timestamped every --stamp-every; the end is signed. Ctrl-C ends the recording
    cleanly; after a crash or kill, rerun the same command to continue the same case. At the
    end: capture/recording.ts for analysis, and the case is sealed (manifest).

    \b
    Example:
      lsf record https://live.example/room/12.m3u8 -C cases/room12 --duration 2h --tsa http://tsa.example/tsr
      lsf record rtmp://127.0.0.1/live/x -C cases/x --chat ws://127.0.0.1:9000/chat --sign-key lab.key
      lsf record https://live.example/room/12.m3u8 -C cases/room12 --analyze
    """
    ropts = RecordOptions(
        duration=parse_duration(duration), segment_time=segment_time, chats=list(chats), tsa=tsa, tsa_ca=tsa_ca,
        stamp_every=parse_duration(stamp_every, "--stamp-every") or 600.0, sign_key=sign_key,
        ntp=None if ntp.lower() == "none" else ntp, resolver=resolver,
        stall_timeout=parse_duration(stall_timeout, "--stall-timeout") or 30.0,
        give_up=parse_duration(give_up, "--give-up") or 300.0)
    stop = threading.Event()

    def _stop(signum: int, frame: Any) -> None:  # noqa: ARG001 - signal API
        stop.set()

    old = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    argv = ["lsf", *sys.argv[1:]]
    try:
        with progress() as prog:
            result = run_record(url, case_dir, ropts, operator=opts().get("operator"), progress=prog, argv=argv,
                                stop=stop)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    out = result.to_json()
    # The case is sealed (and signed with --sign-key): analyze adds to it, so it reseals with the same key.
    nxt = ["lsf", "analyze", str(result.case)]
    if sign_key:
        nxt += ["--sign-key", str(sign_key)]
    if tsa:
        nxt += ["--tsa", tsa, *(["--tsa-ca", str(tsa_ca)] if tsa_ca else [])]
    out["analyze_command"] = shlex.join(nxt)
    if then_analyze:
        from ..pipeline import AnalyzeOptions
        from ..pipeline import analyze as run_analyze

        with progress() as prog:
            out["analyze"] = run_analyze(result.case, None, AnalyzeOptions(sign_key=sign_key, tsa=tsa, tsa_ca=tsa_ca),
                                         operator=opts().get("operator"), progress=prog, argv=argv).to_json()
    emit(out, _human)
