"""Benchmark lsf against the pipeline a user would assemble by hand, on the same realistic cut.

Usage:
  python benchmarks/naive.py [--minutes 5] [--seed 4] [--skip-lsf]

The naive pipeline (issue 19): the `whisper` command's defaults (openai-whisper, beam 5, best of
5, temperature fallback, fp32 on the CPU; the same Whisper base weights lsf ships, converted
losslessly by lsforensics.asr.convert) over the whole sound track; RapidOCR (the same PP-OCR models
and library lsf uses, its default settings) on one full frame per second; a substring search of
every lexicon term in the text. lsf: `lsf analyze VIDEO` with its defaults (no page, chat or
references, as the naive pipeline has none), which also runs the visual, voice and link stages
the naive pipeline lacks.

Both run in this process tree one after the other, on a realistic phone stream of
tests/realistic.py (720x1280, the platform UI with scrolling comments, continuous speech over
music). Prints wall and CPU seconds of each and their ratio; target: lsf >= 15x faster. On a
shared machine read the CPU ratio: both sides are inflated alike in wall time, not in CPU.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
LSF = Path(sys.executable).with_name("lsf")


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


class Span:
    """Wall and CPU seconds (this process and its waited-for children) of a ``with`` block."""

    def __enter__(self) -> Span:
        self.t0, self.c0 = time.monotonic(), _cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.monotonic() - self.t0, _cpu() - self.c0


def openai_checkpoint(cache: Path) -> Path:
    from lsforensics.asr.convert import export_openai
    from lsforensics.asr.weights import shipped_model_dir

    dest = cache / "whisper-base-openai.pt"
    if not dest.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        export_openai(shipped_model_dir(), dest)
    return dest


def naive(video: Path, work: Path, cache: Path) -> dict[str, object]:
    import cv2
    import whisper
    from rapidocr import RapidOCR

    from lsforensics.rules import load_rules
    from lsforensics.text.lexicon import build_lexicon

    out: dict[str, object] = {}
    ckpt = openai_checkpoint(cache)  # conversion is set-up, not counted
    with Span() as s:
        wav = work / "audio.wav"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(video), "-ac", "1", "-ar", "16000", str(wav)],
                       check=True)
        frames = work / "frames"
        frames.mkdir()
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-vf", "fps=1", "-q:v", "2",
                        str(frames / "%05d.jpg")], check=True)
    out["decode"] = s
    with Span() as s:
        model = whisper.load_model(str(ckpt), device="cpu")
        res = model.transcribe(str(wav), language="zh", fp16=False, beam_size=5, best_of=5, verbose=None)
        speech = "".join(seg["text"] for seg in res["segments"])
    out["whisper"] = s
    with Span() as s:
        engine = RapidOCR(params={"Global.log_level": "error"})
        screen = []
        for f in sorted(frames.glob("*.jpg")):
            r = engine(cv2.imread(str(f)))
            screen += list(r.txts or []) if r is not None else []
    out["ocr"] = s
    with Span() as s:
        terms = {e.key for e in build_lexicon(load_rules()).entries}
        text = speech + "\n" + "\n".join(screen)
        hits = sorted(t for t in terms if t and t in text)
    out["keywords"] = s
    out["n_frames"] = len(list(frames.glob("*.jpg")))
    out["hits"] = hits
    return out


def run_lsf(video: Path, work: Path) -> Span:
    with Span() as s:
        proc = subprocess.run([str(LSF), "analyze", str(video), "-C", str(work / "case"), "--json", "-q"],
                              capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"lsf analyze exited {proc.returncode}: {proc.stderr[-1500:]}")
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--skip-lsf", action="store_true", help="time the naive pipeline only")
    args = ap.parse_args()
    if args.minutes <= 0 or args.minutes > 60:
        raise SystemExit("--minutes must be in (0, 60]")
    from realistic import StreamSpec, build_stream

    st = build_stream(HERE / ".cache" / "realistic", StreamSpec(args.seed, args.minutes))
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="lsf-bench-naive-") as tmp:
        work = Path(tmp)
        (work / "naive").mkdir()
        nv = naive(st.video, work / "naive", HERE / ".cache")
        lsf = None if args.skip_lsf else run_lsf(st.video, work)
    load1 = os.getloadavg()[0]
    minutes = st.duration / 60
    parts = [k for k in ("decode", "whisper", "ocr", "keywords")]
    n_wall = sum(nv[k].wall for k in parts)  # type: ignore[attr-defined]
    n_cpu = sum(nv[k].cpu for k in parts)  # type: ignore[attr-defined]
    print(f"realistic stream seed {args.seed}, {st.duration:.0f} s ({st.video.name}); {os.cpu_count()} cores, "
          f"load average {load0:.1f} before, {load1:.1f} after")
    print(f"naive pipeline: {n_wall:.0f} s wall, {n_cpu:.0f} CPU-s ({n_cpu / minutes:.1f} CPU-s per video minute)")
    for k in parts:
        sp = nv[k]
        print(f"  {k:<9} {sp.wall:8.1f} s wall {sp.cpu:8.1f} CPU-s")  # type: ignore[attr-defined]
    print(f"  {nv['n_frames']} frames read by OCR; {len(nv['hits'])} lexicon terms found: "  # type: ignore[arg-type]
          f"{', '.join(nv['hits'][:12])}")  # type: ignore[index]
    if lsf is not None:
        print(f"lsf analyze:    {lsf.wall:.0f} s wall, {lsf.cpu:.0f} CPU-s ({lsf.cpu / minutes:.1f} CPU-s per video minute)")
        print(f"ratio naive / lsf: {n_wall / lsf.wall:.1f}x wall, {n_cpu / lsf.cpu:.1f}x CPU (target >= 15x)")


if __name__ == "__main__":
    main()
