"""Benchmark `lsf record`: CPU and memory of recording a 720p 2.5 Mb/s live HLS stream.

Usage:
  python benchmarks/record.py                    # 2 minutes (default)
  python benchmarks/record.py --seconds 3600     # the full hour (run it in the background)
The source is encoded once (cached) and served in real time by ffmpeg with stream copy (so the
source costs little) through http.server on 127.0.0.1. Measured: lsf record's own CPU time,
process plus children (its ffmpeg), from getrusage after it exits, over the wall time; and the
resident memory of lsf + ffmpeg sampled every 10 s. Target (issue 17): < 5 % of one core, memory
flat. Also times `lsf verify` on the result.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from live_source import LiveHls, make_source  # noqa: E402

LSF = Path(sys.executable).with_name("lsf")


def _rss(p: psutil.Process) -> tuple[int, int]:
    """(lsf's own RSS, its ffmpeg children's RSS)."""
    try:
        return p.memory_info().rss, sum(c.memory_info().rss for c in p.children(recursive=True))
    except psutil.Error:
        return 0, 0


def _cpu_children() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120.0, help="media seconds to record")
    ap.add_argument("--segment-time", type=float, default=10.0)
    ap.add_argument("--keep", type=Path, help="record into this case folder (kept) instead of a temp folder")
    args = ap.parse_args()
    cache = HERE / ".cache"
    src = make_source(cache / "record-src-1280x720-2500k.ts", seconds=60, size="1280x720", rate=25,
                      bitrate="2500k", gop_s=2.0)
    with tempfile.TemporaryDirectory(prefix="lsf-bench-rec-") as tmp:
        live = LiveHls(Path(tmp), src, hls_time=2, list_size=6).start()
        time.sleep(4)
        case = args.keep or Path(tmp) / "case"
        try:
            before = _cpu_children()  # the encoder is a child too, but still running: not counted here
            t0 = time.time()
            proc = subprocess.Popen([str(LSF), "record", live.url, "-C", str(case), "--duration", str(args.seconds),
                                     "--segment-time", str(args.segment_time), "--ntp", "none", "-q", "--json"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            ps = psutil.Process(proc.pid)
            samples: list[tuple[float, tuple[int, int]]] = []
            while proc.poll() is None:
                time.sleep(10)  # the first sample after startup (imports) is done
                samples.append((time.time() - t0, _rss(ps)))
            out, err = proc.communicate()
            wall = time.time() - t0
            cpu = _cpu_children() - before
        finally:
            live.stop()
        if proc.returncode != 0:
            raise SystemExit(f"lsf record failed: {err.strip()[-500:]}")
        s = json.loads(out)["summary"]
        t1 = time.time()
        before = _cpu_children()
        v = subprocess.run([str(LSF), "verify", str(case), "--json"], capture_output=True, text=True)
        vwall, vcpu = time.time() - t1, _cpu_children() - before
    rss = [a + b for _, (a, b) in samples if a and b]
    own = [a for _, (a, b) in samples if a and b]
    q = max(1, len(rss) // 4)
    first, last = statistics.median(rss[:q]) / 2**20, statistics.median(rss[-q:]) / 2**20
    report = {
        "media_s": s["media_duration"], "segments": s["segments"], "gaps": len(s["gaps"]),
        "wall_s": round(wall, 1), "cpu_s": round(cpu, 2), "cpu_pct_of_one_core": round(100 * cpu / wall, 2),
        "rss_mib_first_quarter": round(first, 1), "rss_mib_last_quarter": round(last, 1),
        "rss_mib_max": round(max(rss) / 2**20, 1), "rss_samples": len(rss),
        "lsf_rss_mib_first_last": [round(own[0] / 2**20, 1), round(own[-1] / 2**20, 1)],
        "ffmpeg_rss_mib_first_last": [round((rss[0] - own[0]) / 2**20, 1), round((rss[-1] - own[-1]) / 2**20, 1)],
        "verify_ok": v.returncode == 0, "verify_wall_s": round(vwall, 1), "verify_cpu_s": round(vcpu, 1),
        "verify_realtime_factor": round(s["media_duration"] / vwall, 1) if vwall else None,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
