"""``capture/recording.ts``: every chained segment, in chain order, as one file for analysis.

ffmpeg's concat demuxer with stream copy puts the segments back to back (a gap in the stream is
not padded: the report lists it with its position). MPEG-TS in and out means the packets are
the segments' own bytes, so verify can prove the file is their concatenation packet by packet
(:func:`packet_digests`). Also ``capture/chat.jsonl``: the chained chat as ``{t, user, text}``
with ``t`` the recording.ts position being received when the message arrived.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ..case import atomic_output, atomic_write_bytes
from ..errors import StageError
from ..evidence.hashing import digest_file, sha256_bytes
from .layout import CaptureLayout
from .timeline import Segment, Timeline, parse_time


def _concat_list(paths: list[Path], folder: Path) -> Path:
    lst = folder / "segments.txt"
    lst.write_text("ffconcat version 1.0\n" + "".join(f"file '{p.as_posix()}'\n" for p in paths), encoding="utf-8")
    return lst


def remux(layout: CaptureLayout, segments: list[Segment]) -> dict[str, Any] | None:
    if not segments:
        layout.recording.unlink(missing_ok=True)
        return None
    with tempfile.TemporaryDirectory(prefix="lsf-remux-") as tmp, atomic_output(layout.recording) as out:
        lst = _concat_list([layout.root / s.file for s in segments], Path(tmp))
        proc = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "concat", "-safe", "0", "-i", str(lst),
                               "-map", "0", "-c", "copy", "-f", "mpegts", str(out)],
                              capture_output=True, text=True, timeout=3600, check=False)
        if proc.returncode != 0:
            raise StageError(f"remux of {len(segments)} segments failed: {proc.stderr.strip()[-300:]}")
    d = digest_file(layout.recording)
    return {"path": layout.rel(layout.recording), "sha256": d.sha256, "size": d.size, "segments": len(segments),
            "method": "ffmpeg concat demuxer, -c copy, MPEG-TS"}


def packet_digests(inputs: list[Path], *, concat: bool) -> dict[int, list[tuple[int, str]]]:
    """Per stream, the ``(size, md5)`` of every packet in order (ffmpeg framemd5 over stream copy).

    Timestamps are left out: the concat demuxer moves each segment to where the previous one
    ended, so times differ while the packets themselves must not.
    """
    with tempfile.TemporaryDirectory(prefix="lsf-pkt-") as tmp:
        src = ["-f", "concat", "-safe", "0", "-i", str(_concat_list(inputs, Path(tmp)))] if concat else ["-i", str(inputs[0])]
        proc = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", *src, "-map", "0", "-c", "copy",
                               "-f", "framemd5", "-"], capture_output=True, timeout=3600, check=False)
    if proc.returncode != 0:
        raise ValueError(proc.stderr.decode("utf-8", "replace").strip()[-300:] or f"ffmpeg exited {proc.returncode}")
    out: dict[int, list[tuple[int, str]]] = {}
    for line in proc.stdout.decode("ascii", "replace").splitlines():
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) >= 6:
            out.setdefault(int(parts[0]), []).append((int(parts[4]), parts[5]))
    return out


def chat_lines(tl: Timeline) -> list[dict[str, Any]]:
    out = []
    for e in tl.chat:
        wall = parse_time(e.get("received"))
        if wall is None:
            continue
        t, in_gap = tl.media_time(wall)
        row = {"t": t, "user": e.get("user") or "", "text": e.get("text") or "", "received": e.get("received"),
               "sender_t": e.get("t"), "chain_seq": e.get("seq")}
        if in_gap:
            row["in_gap"] = True
        out.append(row)
    out.sort(key=lambda r: (r["t"], r["chain_seq"] or 0))
    return out


def chat_bytes(tl: Timeline) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chat_lines(tl)).encode("utf-8")


def write_chat(layout: CaptureLayout, tl: Timeline) -> dict[str, Any] | None:
    if not tl.chat:
        layout.chat.unlink(missing_ok=True)
        return None
    data = chat_bytes(tl)
    atomic_write_bytes(layout.chat, data)
    return {"path": layout.rel(layout.chat), "sha256": sha256_bytes(data), "messages": len(tl.chat)}
