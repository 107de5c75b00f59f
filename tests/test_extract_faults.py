"""Issue 12, items 4, 7 and 8: the source and the disk under attack or failing during extraction.

* item 4: the source replaced between hashing and decoding is refused (exit 2), and a custody log
  whose extract stages read another file than source.json certifies fails verify (exit 1);
* item 7: a disk that fills up while ffmpeg writes the audio (a real, small tmpfs): ffmpeg exits 0
  after "No space left on device", the stage still fails with one line, nothing finished-looking is
  left, and the rerun after space is freed succeeds;
* item 8: a recording cut short with its index kept, and one whose header claims ten hours: the
  duration comes from the packets, source.json says the file is partial, and the report has a
  limitation line.

Media are generated with ffmpeg (lavfi test patterns, a few seconds, tiny).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import uuid
from pathlib import Path

import pytest
from conftest import run_lsf
from test_evidence_helpers import FindingsFixtureStage, build_case, realistic_findings

from lsforensics.case import Case
from lsforensics.custody import CustodyLog
from lsforensics.errors import InputError
from lsforensics.evidence.seal import seal_case
from lsforensics.extract import extract
from lsforensics.progress import NullProgress
from lsforensics.report import make_report
from lsforensics.stage import run_stage


def _clip(path: Path, seconds: float = 10.0, *, faststart: bool = True, tone: int = 440) -> Path:
    args = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size=160x120:rate=25:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate=16000:duration={seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac", "-shortest"]
    if faststart:
        args += ["-movflags", "+faststart"]
    subprocess.run([*args, str(path)], check=True, timeout=120)
    return path


def _one_line(proc, prefix: str = "lsf: error: ") -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(prefix), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


# -- item 4 -----------------------------------------------------------------------------------
class SwapWhenAudioStarts(NullProgress):
    """A progress sink that, when the audio stage starts, replaces the source at its path with
    another recording (what an attacker with write access to the evidence share would do)."""

    def __init__(self, video: Path, other: Path):
        self.video, self.other, self.swapped = video, other, False

    def task(self, description: str, total: float | None = None):
        if description == "audio" and not self.swapped:
            os.replace(self.other, self.video)
            self.swapped = True
        return super().task(description, total)


@pytest.mark.slow
def test_source_swapped_between_hashing_and_decoding_is_refused(tmp_path):
    video = _clip(tmp_path / "stream.mp4", 4.0)
    other = _clip(tmp_path / "other.mp4", 4.0, tone=880)
    case = tmp_path / "case"
    prog = SwapWhenAudioStarts(video, other)
    with pytest.raises(InputError) as exc:
        extract(video, case, progress=prog)
    assert prog.swapped
    msg = str(exc.value)
    print(msg)
    assert exc.value.exit_code == 2
    assert msg.startswith(f"{video}: not the file this case certifies (sha256 ")
    assert "it was replaced or changed after it was hashed" in msg
    # nothing was decoded from the other file: no audio, no custody entry for it
    assert not (case / "media" / "audio.wav").exists()
    assert [e["action"] for e in CustodyLog(case / "custody.jsonl").entries()] == ["extract.source"]


@pytest.mark.slow
def test_custody_reading_another_source_fails_verify(tmp_path, test_cache, realdata):
    case = build_case(tmp_path / "case", test_cache, realdata)
    log = CustodyLog(case.custody)
    entry = next(e for e in log.entries() if e["action"] == "extract.audio")
    # An extract run recorded (with an intact chain) as reading a file with another hash.
    log.append("extract.audio", inputs=[{"path": entry["inputs"][0]["path"], "sha256": "ab" * 32}],
               outputs=entry["outputs"], params=entry["params"])
    seal_case(case)
    proc = run_lsf("verify", case.root)
    assert proc.returncode == 1, proc.stdout
    n = len(log.entries()) - 1
    want = (f"binding: custody.jsonl line {n}: extract.audio read the source {entry['inputs'][0]['path']} "
            f"with sha256 {'ab' * 32}, but source.json certifies {case.source['sha256']}")
    assert want in proc.stdout
    assert want in _one_line(proc)


# -- item 7 -----------------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path):
    """A real 300 KB filesystem (tmpfs), enough for the case files but not for the audio."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", f"lsf-test-{uuid.uuid4().hex[:8]}", str(mnt)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root with mount rights): {out.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.mark.slow
def test_disk_full_during_audio_fails_cleanly_and_resumes(small_disk, realdata, tmp_path):
    video = realdata / "video_outdoor_plane_failing_audio.mp4"  # 11 s: 360 KB of 16 kHz audio
    case = small_disk / "case"
    proc = run_lsf("extract", video, "-C", case)
    line = _one_line(proc)
    print(line)
    assert proc.returncode == 2
    assert line.startswith("lsf: error: ffmpeg could not write its output while extracting audio: ")
    assert "No space left on device" in line and "rerun the same command" in line
    # nothing finished-looking: no audio.wav, no temp file, no custody entry for the audio
    assert not (case / "media" / "audio.wav").exists()
    assert not [p for p in case.rglob("*") if ".tmp-" in p.name]
    assert [e["action"] for e in CustodyLog(case / "custody.jsonl").entries()] == ["extract.source"]
    # space freed: the same command finishes, the audio is whole
    subprocess.run(["mount", "-o", "remount,size=16m", str(small_disk)], check=True)
    proc = run_lsf("extract", video, "-C", case, "--json")
    assert proc.returncode == 0, proc.stderr
    stages = {s["name"]: s for s in json.loads(proc.stdout)["stages"]}
    assert stages["extract.source"]["skipped"] and not stages["extract.audio"]["skipped"]
    assert stages["extract.audio"]["result"]["complete"] is True
    wav = (case / "media" / "audio.wav").read_bytes()
    assert struct.unpack("<I", wav[4:8])[0] == len(wav) - 8
    print(f"audio after the rerun: {len(wav):,} bytes, {stages['extract.audio']['result']['audio']['duration']} s")
    assert abs(stages["extract.audio"]["result"]["audio"]["duration"] - 11.23) < 0.1


# -- item 8 -----------------------------------------------------------------------------------
def _report_limitations(case_root: Path) -> list[str]:
    case = Case(case_root)
    run_stage(case, FindingsFixtureStage(realistic_findings(case)[:2]))
    make_report(case.root, formats="json")
    rep = json.loads((case.root / "report" / "report.json").read_text(encoding="utf-8"))
    return [en for _zh, en in rep["limitations"]]


@pytest.mark.slow
def test_truncated_recording_is_reported_partial(tmp_path):
    full = _clip(tmp_path / "full.mp4", 10.0)
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.6)])  # moov (at the front) kept, 40 % of the data gone
    proc = run_lsf("extract", cut, "-C", tmp_path / "case")
    print(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    assert ("warning: the container says 10.000 s but its streams end at" in proc.stdout
            and "the file is incomplete (cut short) or its header is wrong" in proc.stdout)
    src = json.loads((tmp_path / "case" / "source.json").read_text())
    comp = src["completeness"]
    print(comp)
    assert comp["partial"] is True and comp["container_duration"] == 10.0
    assert 4.0 < comp["content_duration"] < 7.5 and src["probe"]["duration"] == comp["content_duration"]
    assert any("partial file" in e for e in comp["demux_errors"])
    lims = _report_limitations(tmp_path / "case")
    assert any(x.startswith("The source file is incomplete or its header is wrong: the container claims 10.0 s, "
                            "but its audio and video data end at ") for x in lims), lims
    assert any(x.startswith("Reading the source found damaged or missing data: ") for x in lims)
    # the complete file has none of it
    proc = run_lsf("extract", full, "-C", tmp_path / "fullcase", "--json")
    comp = json.loads((tmp_path / "fullcase" / "source.json").read_text())["completeness"]
    assert comp["partial"] is False and comp["notes"] == [] and "warning:" not in proc.stdout


@pytest.mark.slow
def test_huge_duration_header_is_not_believed(tmp_path):
    clip = _clip(tmp_path / "clip.mp4", 6.0)
    data = bytearray(clip.read_bytes())
    i = data.find(b"mvhd")
    assert data[i + 4] == 0  # version 0: 32-bit timescale and duration
    timescale = struct.unpack(">I", data[i + 16:i + 20])[0]
    data[i + 20:i + 24] = struct.pack(">I", timescale * 36000)  # "ten hours"
    forged = tmp_path / "forged.mp4"
    forged.write_bytes(bytes(data))
    proc = run_lsf("extract", forged, "-C", tmp_path / "case")
    assert proc.returncode == 0, proc.stderr
    assert "warning: the container says 36000.000 s but its streams end at 6.0" in proc.stdout
    src = json.loads((tmp_path / "case" / "source.json").read_text())
    print(src["completeness"])
    assert src["probe"]["container"]["duration"] == 36000.0
    assert abs(src["probe"]["duration"] - 6.0) < 0.1
    lims = _report_limitations(tmp_path / "case")
    assert any("the container claims 36000.0 s, but its audio and video data end at 6.0 s" in x for x in lims), lims
    shutil.rmtree(tmp_path / "case")
