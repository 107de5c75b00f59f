"""Golden-file test: the detect stage's findings on the synthetic stream's ground truth.

The transcript and on-screen text are the stream's ground truth (not ASR/OCR, whose own tests
measure them), so the findings are a deterministic function of the rules and the matchers. Any
change in what is found shows up as a diff against ``tests/golden/synth_truth_findings.json``.
After an intended change, regenerate with ``LSF_UPDATE_GOLDEN=1 pytest tests/test_golden.py``
and review the diff like code.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from lsforensics.case import Case, atomic_write_json
from lsforensics.claims.stage import run_pages
from lsforensics.detect.stage import DetectStage, load_detectors
from lsforensics.stage import run_stage

GOLDEN = Path(__file__).resolve().parent / "golden" / "synth_truth_findings.json"
PAGES = Path(__file__).resolve().parent / "data" / "claims"
FIELDS = ("kind", "source", "term", "brand", "severity", "match", "rule")


def _project(f: dict) -> dict:
    out = {k: f.get(k) for k in FIELDS}
    out["start"] = None if f.get("start") is None else round(f["start"], 1)
    return out


@pytest.mark.slow
def test_findings_match_golden(extracted_case, synth_stream, tmp_path: Path) -> None:
    root = tmp_path / "case"
    shutil.copytree(extracted_case.root, root)
    case = Case(root)
    segs = [{"start": ln["start"], "end": ln["end"], "text": ln["text"], "words": []} for ln in synth_stream.lines]
    atomic_write_json(case.transcript_json, {"schema": "lsf.transcript/1", "language": "zh",
                                             "backend": "ground-truth", "segments": segs})
    frames = case.read_json(case.frames_json)

    def frame_in(sc: dict) -> dict:
        inside = [f for f in frames if sc["start"] <= f["t"] < sc["end"]]
        return inside[0] if inside else min(frames, key=lambda f: abs(f["t"] - sc["start"]))

    ocr = [{"frame": frame_in(sc)["file"], "t": frame_in(sc)["t"], "text": sc["caption"], "box": sc["caption_box"],
            "score": 1.0} for sc in synth_stream.scenes]
    atomic_write_json(case.ocr_json, ocr)
    run_pages(case, [PAGES / "taobao_shorts.html", PAGES / "douyin_belt.html", PAGES / "jd_necklace.html"])
    detectors = [d for d in load_detectors() if d.name.startswith(("text.", "claims."))]
    run_stage(case, DetectStage(detectors=detectors))
    got = sorted((_project(f) for f in case.read_json(case.findings_json)["findings"]),
                 key=lambda d: (d["start"] if d["start"] is not None else 1e9, d["kind"], d["term"] or ""))
    if os.environ.get("LSF_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert got == want, "findings differ from tests/golden/synth_truth_findings.json (see module docstring)"
