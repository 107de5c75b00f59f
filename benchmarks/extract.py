"""Benchmark `lsf extract` on the 1-hour 720p stream: wall seconds, real-time factor, stage split.

Usage: ``python benchmarks/extract.py [--video PATH] [--duration 3600] [--full]``
(without --video the long benchmark stream is generated first, see make_long_video.py).
Target (issue 2): audio + frames for 1 h of 720p H.264 in <= 60 s wall on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from lsforensics.extract import FrameParams, extract  # noqa: E402
from lsforensics.stage import DIGESTS  # noqa: E402


def _t(s: str) -> float:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def run(video: Path, mode: str) -> dict:
    DIGESTS._cache.clear()  # noqa: SLF001 - measure hashing too
    root = Path(tempfile.mkdtemp(prefix="lsf-bench-")) / "case"
    t0 = time.time()
    res = extract(video, root, frames=FrameParams(mode=mode))
    wall = time.time() - t0
    entries = [json.loads(x) for x in (root / "custody.jsonl").read_text().splitlines()]
    times = [t0] + [_t(e["time"]) for e in entries]
    split = {e["action"]: round(b - a, 2) for e, a, b in zip(entries, times, times[1:], strict=False)}
    duration = res.stages[0].result["duration"]
    frames = res.stages[2].result
    shutil.rmtree(root.parent)
    return {"mode": frames.get("mode"), "wall_s": round(wall, 2), "rtf": round(wall / duration, 5),
            "duration_s": duration, "split_s": split, "frames": frames.get("frames"),
            "candidates": frames.get("candidates")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", type=Path)
    ap.add_argument("--duration", type=float, default=3600)
    ap.add_argument("--full", action="store_true", help="also measure the exact full-decode mode")
    args = ap.parse_args()
    if args.video is None:
        from make_long_video import make

        args.video = make(args.duration, HERE / ".cache")
    size = args.video.stat().st_size
    print(f"video: {args.video} ({size / 1e9:.2f} GB), cores: {os.cpu_count()}")
    for mode in ["auto"] + (["full"] if args.full else []):
        r = run(args.video, mode)
        print(f"mode={r['mode']}: {r['wall_s']} s wall for {r['duration_s']:.0f} s of video "
              f"(real-time factor {r['rtf']}, {r['duration_s'] / r['wall_s']:.0f}x faster than real time); "
              f"stages {r['split_s']}; {r['frames']} frames kept of {r['candidates']} decoded")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS of ffmpeg children: {peak:.0f} MB")


if __name__ == "__main__":
    main()
