"""Benchmark `lsf analyze` end to end, and `lsf batch` throughput with 1 vs 2 workers.

Usage:
  python benchmarks/analyze.py [--duration 3600]          # analyze the long 720p stream
  python benchmarks/analyze.py --realistic [--minutes 10] [--seed 1] [--landscape]
                                                          # a realistic phone stream (tests/realistic.py)
  python benchmarks/analyze.py --batch [--clips 4 --clip-seconds 120]
Prints wall time, real-time factor, wall and CPU seconds per video minute, the load average, the
peak memory of lsf and its workers, and the per-stage split (wall from the case's custody log, CPU
from a psutil sampler over the process tree; `--keep DIR` keeps the case, whose transcribe entry
splits the decoders' CPU by phase). Target (issue 19): 1 h of video in <= 8 min wall on this
2-core machine, i.e. <= 16 CPU-s per video minute at best, and <= 2 GB peak memory. On a shared
machine the wall figure is inflated by other work; the CPU seconds much less.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
LSF = Path(sys.executable).with_name("lsf")


def _t(s: str) -> float:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


class TreeSampler:
    """Samples the CPU seconds and RSS of a process and all its descendants every ``period`` s.

    psutil reads /proc: a decoder worker's CPU is counted while it runs (a worker that exits
    between two samples loses at most one period). Gives the CPU spent in any time span (per
    stage, from the custody log's times), split into the main process and its children, and the
    peak of the tree's summed RSS.
    """

    def __init__(self, pid: int, period: float = 0.25):
        import psutil

        self.root = psutil.Process(pid)
        self.period = period
        self.samples: list[tuple[float, float, float]] = []  # (time, main CPU s, children CPU s)
        self.peak_rss = 0  # bytes, summed over the tree
        self.peak_rss_one = 0  # bytes, the largest single process
        self.loads: list[float] = []
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> TreeSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psutil

        n = 0
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                break
            rss = 0
            for pr in procs:
                try:
                    ct = pr.cpu_times()
                    self._last[pr.pid] = ct.user + ct.system
                    r = pr.memory_info().rss
                except psutil.Error:
                    continue
                rss += r
                self.peak_rss_one = max(self.peak_rss_one, r)
            self.peak_rss = max(self.peak_rss, rss)
            main = self._last.get(self.root.pid, 0.0)
            self.samples.append((time.time(), main, sum(self._last.values()) - main))
            if n % 20 == 0:
                self.loads.append(os.getloadavg()[0])
            n += 1
            self._stop.wait(self.period)

    def cpu_at(self, t: float) -> tuple[float, float]:
        """(main, children) CPU seconds used up to time ``t`` (the last sample before it)."""
        best = (0.0, 0.0)
        for ts, main, kids in self.samples:
            if ts > t:
                break
            best = (main, kids)
        return best


def stage_split(case: Path, t0: float, sampler: TreeSampler | None = None) -> list[tuple[str, float, str]]:
    """(name, wall seconds, CPU note) per span between consecutive custody entries. Transcription
    and OCR run side by side, so their two entries are merged into one span; each one's own running
    time and CPU seconds (from its custody result) are listed under it."""
    entries = [json.loads(x) for x in (case / "custody.jsonl").read_text().splitlines()]
    times = [t0] + [_t(e["time"]) for e in entries]
    rows: list[tuple[str, float, str]] = []
    own: list[tuple[str, float, str]] = []
    merged: tuple[float, float] | None = None

    def cpu(a: float, b: float) -> str:
        if sampler is None:
            return ""
        (m0, k0), (m1, k1) = sampler.cpu_at(a), sampler.cpu_at(b)
        return f"{m1 - m0 + k1 - k0:8.1f} CPU-s (main {m1 - m0:.1f}, workers {k1 - k0:.1f})"

    for e, a, b in zip(entries, times, times[1:], strict=False):
        res = e.get("result") or {}
        if e["action"] in SIDE:
            merged = (min(merged[0], a), max(merged[1], b)) if merged else (a, b)
            wall = res.get("elapsed_s") if e["action"] == "transcribe" else res.get("seconds")
            c = res.get("cpu_s")
            own.append((f"  {e['action']} alone", wall or 0.0, f"{c:8.1f} CPU-s (own)" if c is not None else ""))
            continue
        if merged and own:
            rows.append(("transcribe || ocr", merged[1] - merged[0], cpu(*merged)))
            rows += own
            own = []
        rows.append((e["action"], b - a, cpu(a, b)))
    if own:
        rows.append(("transcribe || ocr", merged[1] - merged[0], cpu(*merged)))  # type: ignore[index]
        rows += own
    return rows


SIDE = ("transcribe", "ocr")


def _wait_with_usage(proc: subprocess.Popen, timeout: float | None) -> tuple[int, resource.struct_rusage]:
    """Wait for ``proc`` and return (exit code, its resource usage): CPU and maximum RSS of lsf and
    of the worker processes it waited for, and of nothing else this process ran before (a stream
    generated here first would otherwise count in RUSAGE_CHILDREN's maximum RSS)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage
        if deadline is not None and time.monotonic() > deadline:
            proc.kill()
            _pid, _status, usage = os.wait4(proc.pid, 0)
            proc.returncode = -9
            return -9, usage
        time.sleep(0.2)


def bench_analyze(video: Path, duration: float, extra: list[str], keep: Path | None = None,
                  timeout: float | None = None) -> None:
    work = Path(tempfile.mkdtemp(prefix="lsf-bench-analyze-"))
    case = keep or work / "case"
    load0 = os.getloadavg()
    t0 = time.time()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([str(LSF), "analyze", str(video), "-C", str(case), "--json", "-q", *extra],
                                stdout=out, stderr=err, text=True)
        sampler = TreeSampler(proc.pid).start()
        rc, usage = _wait_with_usage(proc, timeout)
        sampler.stop()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    wall = time.time() - t0
    cpu = usage.ru_utime + usage.ru_stime
    load1 = os.getloadavg()
    if rc not in (0, 1):
        print(stderr[-2000:])
        raise SystemExit(f"lsf analyze exited {rc} after {wall:.0f} s")
    summary = json.loads(stdout)["summary"]
    rows = stage_split(case, t0, sampler)
    rest = wall - sum(w for k, w, _ in rows if not k.startswith(" "))
    minutes = duration / 60
    loads = sampler.loads or [load1[0]]
    print(f"analyze {video.name}: {wall:.0f} s wall for {duration:.0f} s of video "
          f"(real-time factor {wall / duration:.3f}); {summary['findings']} findings")
    print(f"  per video minute: {wall / minutes:.1f} s wall, {cpu / minutes:.1f} CPU-s "
          f"(1 h of video: {wall / minutes:.1f} min wall; target <= 8)")
    print(f"  {os.cpu_count()} cores; CPU-s / (wall * cores) = {cpu / (wall * (os.cpu_count() or 1)):.2f}; "
          f"1 h at {cpu / minutes:.1f} CPU-s/min on 2 idle cores needs >= {cpu / minutes / 2:.1f} min")
    print(f"  load average: {load0[0]:.1f} before, {sum(loads) / len(loads):.1f} mean during "
          f"(max {max(loads):.1f}), {load1[0]:.1f} after")
    print(f"  peak memory: {sampler.peak_rss / 2**20:.0f} MiB summed over lsf and its workers "
          f"(sampled every {sampler.period:g} s; largest single process {max(sampler.peak_rss_one, usage.ru_maxrss * 1024) / 2**20:.0f} MiB, "
          "the kernel's maximum over lsf and the workers it waited for); target <= 2048")
    for k, v, c in [*rows, ("report+seal (rest)", rest, "")]:
        print(f"  {k:<22} {v:>8.1f} s {c}")
    links = sum(w for k, w, _ in rows if k in LINK_STAGES)
    lcpu = link_cpu(case)
    print(f"  link stages ({' + '.join(LINK_STAGES)}): {links:.1f} s wall = {100 * links / wall:.1f} % of analyze"
          + (f"; their own CPU: {lcpu}" if lcpu else ""))
    if keep is None:
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
    ap.add_argument("--keep", type=Path, help="write the case here and keep it (default: a temp folder, removed)")
    ap.add_argument("--timeout", type=float, help="kill lsf analyze after this many seconds")
    args, extra = ap.parse_known_args()
    if args.realistic:
        sys.path.insert(0, str(HERE.parent / "tests"))
        from realistic import StreamSpec, build_stream

        st = build_stream(HERE / ".cache" / "realistic", StreamSpec(args.seed, args.minutes, not args.landscape))
        pages = [a for p in st.pages for a in ("--page", str(p))]
        refs = ["--rules", str(st.references)] if st.references.is_dir() else []
        bench_analyze(st.video, st.duration, [*pages, *refs, "--chat", str(st.chat), "--format", "html,json", *extra],
                      args.keep, args.timeout)
        return
    from make_long_video import make

    video = args.video or make(args.duration, HERE / ".cache")
    if args.batch:
        bench_batch(video, args.clips, args.clip_seconds)
    else:
        bench_analyze(video, args.duration, extra, args.keep, args.timeout)


if __name__ == "__main__":
    main()
