"""Visual stage timings: seconds per frame for OCR and for masking, and the 1-hour projection.

    .venv/bin/python benchmarks/visual.py [--frames 20]
    .venv/bin/python benchmarks/visual.py --long [--duration 3600]   # the real stages on the 1-h stream

Frames are generated 960x540 livestream frames (lsforensics.vision.testframes), the size
`lsf extract` keeps. The projection is for a 1-hour stream sampled every 2 s (1800 frames) in the
worst case where every frame changes (no OCR reuse); the OCR stage reuses text of unchanged
frames, so static stretches cost nothing. Timings depend on load: other processes sharing the
two cores inflate them, so the load average is printed with the numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from lsforensics.vision.imageio import from_array
from lsforensics.vision.masking import find_masked_regions
from lsforensics.vision.ocr import OcrEngine, OcrParams
from lsforensics.vision.testframes import MASKED_STATES, NEGATIVE_STATES, make_frame


def bench_long(duration: float, with_refs: bool = False) -> None:
    """`lsf extract` then the whole visual stage (ocr, then detect: masking, text, tracks) on the
    long benchmark stream (motion, cuts, changing captions), as `lsf analyze` runs them."""
    import shutil
    import sys
    import tempfile
    from pathlib import Path

    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    from make_long_video import make

    from lsforensics.case import Case
    from lsforensics.detect.stage import DetectStage
    from lsforensics.extract import extract
    from lsforensics.stage import run_stage
    from lsforensics.vision.ocr import OcrStage

    video = make(duration, here / ".cache")
    work = Path(tempfile.mkdtemp(prefix="lsf-bench-visual-"))
    extract(video, work / "case")
    case = Case(work / "case")
    frames = len(case.read_json(case.frames_json))
    t0 = time.perf_counter()
    ocr = run_stage(case, OcrStage()).result
    t1 = time.perf_counter()
    rules: list[Path] = []
    if with_refs:  # a brand-protection firm's folder: one logo and one product photo (tests/synth.py)
        sys.path.insert(0, str(here.parent / "tests"))
        from synth import make_brand_rules

        rules = [make_brand_rules(work / "brand-rules")]
    run_stage(case, DetectStage(rules))
    t2 = time.perf_counter()
    total = t2 - t0
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {video.name}: {frames} frames kept")
    print(f"ocr    : {t1 - t0:7.1f} s  ({ocr['ocred']} frames read, {ocr['reused']} unchanged and reused, "
          f"{ocr['line_crops_reused']} line crops reused)")
    refs = "2 reference images (SIFT/RANSAC on every frame)" if with_refs else "no reference images"
    print(f"detect : {t2 - t1:7.1f} s  (masking + tracking on every frame, text rules, {refs})")
    print(f"visual stage for {duration / 60:.0f} min of stream: {total / 60:.1f} min "
          f"({'within' if total <= 600 * duration / 3600 else 'OVER'} the 10 min per hour budget)")
    shutil.rmtree(work)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--det-side", type=int, default=OcrParams.det_side)
    ap.add_argument("--long", action="store_true", help="run the real ocr and detect stages on the long stream")
    ap.add_argument("--duration", type=float, default=3600, help="--long: stream length in seconds")
    ap.add_argument("--refs", action="store_true", help="--long: with a brand's reference logo and product photo")
    a = ap.parse_args()
    if a.long:
        bench_long(a.duration, a.refs)
        return
    states = MASKED_STATES + NEGATIVE_STATES
    frames = [make_frame(states[i % len(states)], 500 + i).bgr for i in range(a.frames)]
    # Line reuse off: generated frames are all different, and this measures the full cost.
    engine = OcrEngine(OcrParams(det_side=a.det_side, reuse_lines=False))
    engine.read(from_array(frames[0]))  # build the ONNX sessions outside the timing
    ocr_t, mask_t = [], []
    ocr_cpu = mask_cpu = 0.0
    for f in frames:
        t0, c0 = time.perf_counter(), time.process_time()
        engine.read(from_array(f))
        ocr_t.append(time.perf_counter() - t0)
        ocr_cpu += time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        find_masked_regions(f)
        mask_t.append(time.perf_counter() - t0)
        mask_cpu += time.process_time() - c0
    ocr_s, mask_s = statistics.median(ocr_t), statistics.median(mask_t)
    n = 3600 // 2
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"detector side {a.det_side}")
    print(f"OCR     : {ocr_s:.3f} s/frame (median of {len(frames)}; mean {statistics.mean(ocr_t):.3f})")
    print(f"masking : {mask_s:.3f} s/frame (median; mean {statistics.mean(mask_t):.3f})")
    # CPU seconds do not grow when other processes share the cores; on an otherwise idle
    # 2-core machine OCR (onnxruntime, 2 threads) runs in about CPU/2 wall seconds, masking
    # (mostly one thread) in about its CPU time.
    oc, mc = ocr_cpu / len(frames), mask_cpu / len(frames)
    print(f"CPU s/frame: OCR {oc:.3f}, masking {mc:.3f}; idle 2-core estimate {oc / 2 + mc:.3f} s/frame "
          f"-> 1 h stream {n * (oc / 2 + mc) / 60:.1f} min")
    total = n * (ocr_s + mask_s)
    print(f"1 h stream, 1 frame / 2 s = {n} frames, every frame changed: {total / 60:.1f} min "
          f"({'within' if total <= 600 else 'OVER'} the 10 min budget)")
    for reuse in (0.25, 0.5):
        t = n * ((1 - reuse) * ocr_s + mask_s)
        print(f"  with {reuse:.0%} of frames unchanged (OCR reused): {t / 60:.1f} min")


if __name__ == "__main__":
    main()
