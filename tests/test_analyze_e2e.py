"""`lsf analyze` end to end on the synthetic stream with product pages, a chat log and a brand's
own rules folder (reference logo + product photo): every kind of finding the inputs contain is
found, with times inside the stream, the report is written and the case verifies."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import LSF
from synth import make_brand_rules

PAGES = Path(__file__).resolve().parent / "data" / "claims"


@pytest.mark.slow
def test_analyze_every_kind(synth_stream, tmp_path: Path) -> None:
    rules = make_brand_rules(tmp_path / "firm-rules")
    chat = tmp_path / "chat.jsonl"
    chat.write_text("\n".join(json.dumps(m, ensure_ascii=False) for m in [
        {"t": 9.5, "user": "买家A", "text": "这是正品吗？"},
        {"t": 21.0, "user": "买家B", "text": "假的吧，这么便宜"},
        {"t": 33.0, "user": "买家C", "text": "主播晚上好"},
    ]) + "\n", encoding="utf-8")
    case = tmp_path / "case"
    cmd = [str(LSF), "analyze", str(synth_stream.video), "-C", str(case), "--rules", str(rules), "--chat", str(chat),
           "--json"]
    for page in ("taobao_shorts.html", "douyin_belt.html", "jd_necklace.html"):
        cmd += ["--page", str(PAGES / page)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=2400)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)["summary"]
    print(json.dumps(summary["by_kind"], ensure_ascii=False))

    doc = json.loads((case / "findings.json").read_text())
    findings = doc["findings"]
    kinds = {f["kind"] for f in findings}
    expected = {"brand_codeword", "counterfeit_slang", "absolute_claim", "health_claim", "masked_logo",
                "logo_match", "spec_mismatch", "price_anomaly", "viewer_doubt"}
    assert expected <= kinds, f"missing kinds: {expected - kinds}"
    assert {"speech", "screen", "frame", "chat"} <= {f["source"] for f in findings}
    # a viewer's chat message is never taken as the seller's claim
    assert not [f for f in findings if f["kind"] in ("spec_mismatch", "price_anomaly") and f["source"] == "chat"]
    for f in findings:
        assert f["start"] is None or 0 <= f["start"] <= synth_stream.duration + 0.5, f
        for ev in f.get("evidence") or []:
            assert (case / ev).is_file(), f"evidence {ev} of {f['id']} missing"
    # masked logos are found in the scenes where they were planted
    masked_scenes = [s for s in synth_stream.scenes if s["logo_state"] in ("tape", "sticker", "blur", "mosaic")]
    hit = sum(any(f["kind"] == "masked_logo" and s["start"] - 0.1 <= f["start"] <= s["end"] for f in findings)
              for s in masked_scenes)
    print(f"masked-logo scenes found {hit}/{len(masked_scenes)}")
    assert hit >= len(masked_scenes) - 1
    # the product pages and chat are archived inside the case (hashed into the evidence)
    assert (case / "pages.json").is_file() and (case / "chat.json").is_file()
    for name in ("report.html", "report.pdf", "report.json"):
        assert (case / "report" / name).stat().st_size > 1000
    html = (case / "report" / "report.html").read_text(encoding="utf-8")
    # one self-contained file: nothing is loaded from anywhere (XML namespace names are not loads)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import""", html)
    verify = subprocess.run([str(LSF), "verify", str(case), "--source", str(synth_stream.video)],
                            capture_output=True, text=True)
    # unsigned case: intact, but anchored to no key (exit 4, docs/verifying-a-report.md)
    assert verify.returncode == 4 and "INTACT BUT UNANCHORED" in verify.stdout, verify.stdout[-1500:]
    sums = subprocess.run(["sha256sum", "-c", "--quiet", "manifest.sha256"], cwd=case, capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout + sums.stderr


@pytest.mark.slow
def test_audio_only_recording(realdata: Path, tmp_path: Path) -> None:
    """A sound-only recording (m4a) goes through every stage: no frames, no OCR, a real transcript."""
    src = tmp_path / "call.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(realdata / "zh_aishell1_BAC009S0724W0121.wav"), "-c:a", "aac",
                    str(src)], check=True)
    case = tmp_path / "case"
    cmd = [str(LSF), "analyze", str(src), "-C", str(case), "--format", "json", "--json"]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stderr
    assert json.loads((case / "ocr.json").read_text()) == []
    assert not (case / "media" / "frames.json").exists()
    text = "".join(s["text"] for s in json.loads((case / "transcript.json").read_text())["segments"])
    assert "广州" in text, text
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert all(s["skipped"] for s in json.loads(again.stdout)["stages"])


@pytest.mark.parametrize("args, says", [
    (["--backend", "nope"], "--backend nope: unknown"),
    (["--language", "fr"], "--language"),
    (["--page", "no-such-page.html"], "no-such-page.html"),
    (["--chat", "no-such-chat.jsonl"], "no-such-chat.jsonl"),
    (["--fail-on", "urgent"], "--fail-on"),
])
def test_bad_option_fails_before_a_case_is_made(realdata: Path, tmp_path: Path, args: list[str], says: str) -> None:
    case = tmp_path / "case"
    proc = subprocess.run([str(LSF), "analyze", str(realdata / "video_countdown_silent_audio_in1.mp4"), "-C",
                           str(case), *args], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert says in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not case.exists(), "a bad option left a case folder behind"


def test_bad_lsf_threads_fails_before_a_case_is_made(realdata: Path, tmp_path: Path) -> None:
    case = tmp_path / "case"
    proc = subprocess.run([str(LSF), "analyze", str(realdata / "video_countdown_silent_audio_in1.mp4"), "-C",
                           str(case)], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={**os.environ, "LSF_THREADS": "two"})
    assert proc.returncode == 2, proc.stderr
    assert "LSF_THREADS" in proc.stderr and "(got 'two')" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not case.exists()
