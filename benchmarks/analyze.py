"""Benchmark `lsf analyze` end to end, and `lsf batch` throughput with 1 vs 2 workers.

Usage:
  python benchmarks/analyze.py [--duration 3600]          # analyze the long 720p stream
  python benchmarks/analyze.py --realistic [--minutes 10] [--seed 1] [--landscape]
                                                          # a realistic phone stream (tests/realistic.py)
  python benchmarks/analyze.py --batch [--clips 4 --clip-seconds 120]
Prints wall time, real-time factor, wall and CPU seconds per video minute, and the per-stage
split (from the case's custody log). Target (issues 8, 14): 1 h of video in <= 15 min wall on
this 2-core machine, i.e. <= 15 s wall per video minute. On a shared machine the wall figure is
inflated by other work; the CPU seconds are not.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
LSF = Path(sys.executable).with_name("lsf")


def _t(s: str) -> float:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def stage_split(case: Path, t0: float) -> dict[str, float]:
    """Seconds between consecutive custody entries. Transcription and OCR run side by side, so
    their two entries are merged into one span, and each one's own running time (from its
    custody result) is listed under it."""
    entries = [json.loads(x) for x in (case / "custody.jsonl").read_text().splitlines()]
    times = [t0] + [_t(e["time"]) for e in entries]
    split: dict[str, float] = {}
    own: dict[str, float] = {}
    for e, a, b in zip(entries, times, times[1:], strict=False):
        split[e["action"]] = round(b - a, 1)
        res = e.get("result") or {}
        if e["action"] == "transcribe" and res.get("elapsed_s") is not None:
            own["  transcribe alone"] = res["elapsed_s"]
        if e["action"] == "ocr" and res.get("seconds") is not None:
            own["  ocr alone"] = res["seconds"]
    if "ocr" in split and "transcribe" in split:
        both = round(split.pop("ocr") + split.pop("transcribe"), 1)
        rest = {k: v for k, v in split.items() if not k.startswith("extract")}
        split = {k: v for k, v in split.items() if k.startswith("extract")}
        split["transcribe || ocr"] = both
        split.update(own)
        split.update(rest)
    return split


def bench_analyze(video: Path, duration: float, extra: list[str]) -> None:
    work = Path(tempfile.mkdtemp(prefix="lsf-bench-analyze-"))
    case = work / "case"

    t0 = time.time()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([str(LSF), "analyze", str(video), "-C", str(case), "--json", "-q", *extra],
                          capture_output=True, text=True)
    wall = time.time() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    if proc.returncode not in (0, 1):
        print(proc.stderr[-2000:])
        raise SystemExit(proc.returncode)
    summary = json.loads(proc.stdout)["summary"]
    split = stage_split(case, t0)
    split["report+seal (rest)"] = round(wall - sum(v for k, v in split.items() if not k.startswith(" ")), 1)
    minutes = duration / 60
    print(f"analyze {video.name}: {wall:.0f} s wall for {duration:.0f} s of video "
          f"(real-time factor {wall / duration:.3f}); {summary['findings']} findings")
    print(f"  per video minute: {wall / minutes:.1f} s wall, {cpu / minutes:.1f} CPU-s "
          f"(1 h of video: {wall / minutes:.1f} min wall; target <= 15)")
    for k, v in split.items():
        print(f"  {k:<22} {v:>8.1f} s")
    links = sum(split.get(k, 0.0) for k in LINK_STAGES)
    cpu = link_cpu(case)
    print(f"  link stages ({' + '.join(LINK_STAGES)}): {links:.1f} s wall = {100 * links / wall:.1f} % of analyze"
          + (f"; their own CPU: {cpu}" if cpu else ""))
    shutil.rmtree(work)


LINK_STAGES = ("voice", "footage", "products")


def link_cpu(case: Path) -> str:
    """CPU-seconds of the link stages, rerun alone on the finished case (wall figures on a shared
    machine say little; CPU-seconds do not depend on what else runs)."""

    from lsforensics.case import Case
    from lsforensics.links import per_case_stages
    from lsforensics.stage import run_stage

    out = []
    for st in per_case_stages():
        before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        run_stage(Case(case), st, force=True)
        after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before, strict=True))
        out.append(f"{st.name} {cpu:.1f} CPU-s")
    return ", ".join(out)


def bench_batch(source_video: Path, clips: int, seconds: float) -> None:
    work = Path(tempfile.mkdtemp(prefix="lsf-bench-batch-"))
    src = work / "in"
    src.mkdir()
    for i in range(clips):
        subprocess.run(["ffmpeg", "-v", "error", "-ss", str(i * seconds * 1.5), "-i", str(source_video),
                        "-t", str(seconds), "-c", "copy", str(src / f"clip{i}.mp4")], check=True)
    for workers in (1, 2):
        out = work / f"out{workers}"
        t0 = time.time()
        subprocess.run([str(LSF), "batch", str(src), "-o", str(out), "--workers", str(workers), "-q",
                        "--format", "json"], check=True)
        wall = time.time() - t0
        print(f"batch {clips} x {seconds:.0f} s clips, workers={workers}: {wall:.0f} s wall, "
              f"{clips * 3600 / wall:.0f} videos/hour, {clips * seconds / wall:.2f} video-seconds per second")
    shutil.rmtree(work)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=3600)
    ap.add_argument("--video", type=Path)
    ap.add_argument("--batch", action="store_true")
    ap.add_argument("--realistic", action="store_true", help="a realistic phone stream from tests/realistic.py")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--landscape", action="store_true")
    ap.add_argument("--clips", type=int, default=4)
    ap.add_argument("--clip-seconds", type=float, default=120)
    args, extra = ap.parse_known_args()
    if args.realistic:
        sys.path.insert(0, str(HERE.parent / "tests"))
        from realistic import StreamSpec, build_stream

        st = build_stream(HERE / ".cache" / "realistic", StreamSpec(args.seed, args.minutes, not args.landscape))
        pages = [a for p in st.pages for a in ("--page", str(p))]
        refs = ["--rules", str(st.references)] if st.references.is_dir() else []
        bench_analyze(st.video, st.duration, [*pages, *refs, "--chat", str(st.chat), "--format", "html,json", *extra])
        return
    from make_long_video import make

    video = args.video or make(args.duration, HERE / ".cache")
    if args.batch:
        bench_batch(video, args.clips, args.clip_seconds)
    else:
        bench_analyze(video, args.duration, extra)


if __name__ == "__main__":
    main()
