"""Kill -9 `lsf analyze` mid-transcription and mid-report; the rerun completes and verifies."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import LSF

from lsforensics.custody import CustodyLog


def _actions(case: Path) -> list[str]:
    try:
        return [e["action"] for e in CustodyLog(case / "custody.jsonl").entries()]
    except Exception:  # the file may be mid-append while we poll
        return []


def _run_until(cmd: list[str], case: Path, ready, what: str, settle: float) -> None:  # noqa: ANN001
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 900
    while time.time() < deadline and not ready():
        if proc.poll() is not None:
            pytest.fail(f"analyze finished before the kill {what}: {proc.stderr.read()[-500:]}")
        time.sleep(0.05)
    time.sleep(settle)
    assert proc.poll() is None, f"analyze finished before the kill {what}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()


@pytest.mark.slow
def test_kill_in_transcription_and_in_report(synth_stream, tmp_path: Path) -> None:
    video = tmp_path / "stream.mp4"
    shutil.copy(synth_stream.video, video)
    case = tmp_path / "case"
    cmd = [str(LSF), "analyze", str(video), "-C", str(case)]

    # 1) kill while the speech model is decoding (extract done, no transcript yet)
    _run_until(cmd, case, lambda: "extract.frames" in _actions(case), "in transcription", settle=4.0)
    assert "transcribe" not in _actions(case)
    assert not (case / "transcript.json").exists()

    # 2) rerun, kill while the report is being written (detect done, report not)
    _run_until(cmd, case, lambda: "detect" in _actions(case), "in the report", settle=0.3)
    acts = _actions(case)
    assert "transcribe" in acts and not (case / "manifest.json").exists()

    # 3) rerun to the end
    done = subprocess.run(cmd + ["--json"], capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    skipped = {s["name"]: s["skipped"] for s in result["stages"]}
    assert skipped["extract.frames"] and skipped["transcribe"] and skipped["detect"]

    counts = Counter(_actions(case))
    print(dict(counts))
    for action in ("extract.source", "extract.audio", "extract.frames", "transcribe", "detect"):
        assert counts[action] == 1, f"{action} ran {counts[action]} times"
    assert not [p for p in case.rglob("*") if ".tmp-" in p.name or "checkpoint" in p.name]
    ids = [f["id"] for f in json.loads((case / "findings.json").read_text())["findings"]]
    assert len(ids) == len(set(ids)) and ids
    for name in ("report.html", "report.pdf", "report.json"):
        assert (case / "report" / name).stat().st_size > 1000
    verify = subprocess.run([str(LSF), "verify", str(case)], capture_output=True, text=True)
    assert verify.returncode == 4 and "INTACT BUT UNANCHORED" in verify.stdout, verify.stdout[-800:]
    # and a finished case reruns as a no-op
    again = subprocess.run(cmd + ["--json"], capture_output=True, text=True, timeout=600)
    assert all(s["skipped"] for s in json.loads(again.stdout)["stages"])
    assert Counter(_actions(case)) == counts
