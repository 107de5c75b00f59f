"""The visual detectors inside the `detect` stage on the synthetic livestream (lead's tests/synth.py)."""

from __future__ import annotations

import json
import time

import pytest
from conftest import copy_case

from lsforensics.case import Case
from lsforensics.detect.stage import DetectStage
from lsforensics.detect.visual import LogoMatchDetector, MaskedLogoDetector
from lsforensics.stage import run_stage
from lsforensics.vision.testframes import iou

MASKED = {"tape", "sticker", "blur", "mosaic"}


@pytest.mark.slow
def test_masked_logo_findings_on_the_synthetic_stream(extracted_case: Case, synth_stream, tmp_path) -> None:
    case = Case(copy_case(extracted_case.root, tmp_path / "case"))
    t0 = time.perf_counter()
    res = run_stage(case, DetectStage(detectors=[MaskedLogoDetector, LogoMatchDetector]))
    frames = json.loads(case.frames_json.read_text())
    print(f"\nvisual detect: {time.perf_counter() - t0:.1f} s for {len(frames)} frames: {res.result}")
    doc = json.loads(case.findings_json.read_text(encoding="utf-8"))
    found = [f for f in doc["findings"] if f["kind"] == "masked_logo"]
    for f in found:
        print(f"  {f['id']} {f['start']}-{f['end']} {f['term']} {f['bbox']} conf {f['confidence']} {f['evidence']}")
    hit_scenes, false = 0, []
    masked_scenes = [s for s in synth_stream.scenes if s["logo_state"] in MASKED]
    for f in found:
        sc = next(s for s in synth_stream.scenes if s["start"] - 0.01 <= f["start"] < s["end"])
        if sc["logo_state"] not in MASKED:
            false.append(f)
            continue
        # the product drifts dx_per_s pixels a second from its position at scene start
        x, y, w, h = sc["logo_box"]
        truth = [x + sc["dx_per_s"] * (f["start"] - sc["start"]), y, w, h]
        assert iou(f["bbox"], truth) >= 0.5, (f, truth)
        assert f["evidence"][1].startswith("evidence/crops/") and (case.root / f["evidence"][1]).is_file()
    for sc in masked_scenes:
        hit_scenes += any(sc["start"] - 0.01 <= f["start"] < sc["end"] for f in found)
    print(f"masked scenes found: {hit_scenes}/{len(masked_scenes)}; findings outside masked scenes: {len(false)}")
    assert hit_scenes == len(masked_scenes)
    assert not false
    # every cover in the stream is on the product: none may be called a possible screen overlay
    assert not any("screen overlay" in f["explanation"] for f in found)
    # one finding per scene: sampled frames of a scene are tracked into one finding
    assert len(found) <= len(masked_scenes) + 2
    assert run_stage(case, DetectStage(detectors=[MaskedLogoDetector, LogoMatchDetector])).skipped
