"""Kill -9 in the middle of extract, rerun: it completes and every listed frame matches its hash."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import LSF

from lsforensics.custody import CustodyLog
from lsforensics.evidence.hashing import sha256_file


def _frames_in_progress(case: Path) -> bool:
    media = case / "media"
    return media.is_dir() and any(p.name.startswith(".frames.tmp-") for p in media.iterdir())


@pytest.mark.slow
def test_kill_during_frames_then_resume(synth_stream, tmp_path: Path) -> None:
    case = tmp_path / "case"
    cmd = [str(LSF), "extract", str(synth_stream.video), "-C", str(case), "--mode", "full", "--interval", "0.5"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and not _frames_in_progress(case):
        if proc.poll() is not None:
            pytest.fail("extract finished before it could be interrupted")
        time.sleep(0.02)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _frames_in_progress(case), "the kill did not land mid-frames"
    assert not (case / "media" / "frames.json").exists()
    actions = [e["action"] for e in CustodyLog(case / "custody.jsonl").entries()]
    assert "extract.frames" not in actions

    rerun = subprocess.run(cmd + ["--json"], capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    stages = {s["name"]: s for s in json.loads(rerun.stdout)["stages"]}
    assert stages["extract.source"]["skipped"] and stages["extract.audio"]["skipped"]
    assert not stages["extract.frames"]["skipped"]
    frames = json.loads((case / "media" / "frames.json").read_text())
    assert frames
    for fr in frames:
        assert sha256_file(case / fr["file"]) == fr["sha256"]
    leftovers = [p for p in case.rglob("*") if ".tmp-" in p.name]
    assert not leftovers, leftovers
    assert not CustodyLog(case / "custody.jsonl").verify_chain()
    assert [e["action"] for e in CustodyLog(case / "custody.jsonl").entries()].count("extract.frames") == 1
