"""``lsf transcribe`` on real cases: word timing on the synthetic stream, idempotency, kill/resume,
and bad input (no audio stream, silent audio, 0.1 s audio, corrupt/wrong model) -- real processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from conftest import LSF, run_lsf
from synth import write_wav

from lsforensics.asr.transcribe import TranscribeOptions, Transcriber
from lsforensics.case import Case

CHUNK = "30"  # small chunks so the ~85 s stream has three, and a kill can land between them


def _copy(case: Case, dest: Path) -> Path:
    shutil.copytree(case.root, dest)
    return dest


@pytest.fixture(scope="module")
def full_run(extracted_case, tmp_path_factory):
    root = _copy(extracted_case, tmp_path_factory.mktemp("asr") / "case")
    t0 = time.monotonic()
    proc = run_lsf("transcribe", "-C", root, "--chunk-seconds", CHUNK, "--json", check=True)
    wall = time.monotonic() - t0
    return root, json.loads(proc.stdout), wall


@pytest.mark.slow
def test_line_starts_within_half_a_second(full_run, synth_stream):
    root, res, wall = full_run
    tr = json.loads((root / "transcript.json").read_text(encoding="utf-8"))
    words = [w for s in tr["segments"] for w in s["words"]]
    errors = []
    for line in synth_stream.lines:
        # the first recognised word whose middle lies inside this line's speech
        inside = [w for w in words if line["start"] - 0.5 <= (w["start"] + w["end"]) / 2 <= line["end"]]
        assert inside, f"nothing recognised for line {line['file']} at {line['start']}"
        errors.append(abs(inside[0]["start"] - line["start"]))
    r = res["result"]
    print(f"[asr] synthetic stream {tr['duration']:.1f}s: {len(tr['segments'])} segments, {r['chunks']} chunks, "
          f"first-word start error max {max(errors):.3f}s mean {np.mean(errors):.3f}s; "
          f"{r['accepted']}/{r['candidates']} candidates accepted; lsf wall {wall:.1f}s")
    assert max(errors) <= 0.5
    assert tr["schema"] == "lsf.transcript/1" and tr["language"] == "zh"
    assert tr["model"]["weights_sha256"] == "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
    assert (root / "transcript.srt").read_text(encoding="utf-8").startswith("1\n")
    assert (root / "transcript.vtt").read_text(encoding="utf-8").startswith("WEBVTT")
    assert not (root / ".transcribe.checkpoint.jsonl").exists()
    # The record is unbiased: no segment text was changed by the recovery pass.
    assert all(c["method"] and isinstance(c["accepted"], bool) for c in tr["candidates"])


@pytest.mark.slow
def test_rerun_is_a_noop(full_run):
    root, _, _ = full_run
    before = (root / "transcript.json").read_bytes()
    proc = run_lsf("transcribe", "-C", root, "--chunk-seconds", CHUNK, "--json", check=True)
    assert json.loads(proc.stdout)["skipped"] is True
    assert (root / "transcript.json").read_bytes() == before
    entries = [json.loads(x) for x in (root / "custody.jsonl").read_text().splitlines()]
    assert sum(e["action"] == "transcribe" for e in entries) == 1


@pytest.mark.slow
def test_killed_run_resumes_and_matches_the_uninterrupted_record(full_run, extracted_case, tmp_path):
    root = _copy(extracted_case, tmp_path / "case")
    ckpt = root / ".transcribe.checkpoint.jsonl"
    proc = subprocess.Popen([str(LSF), "transcribe", "-C", str(root), "--chunk-seconds", CHUNK, "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if ckpt.exists() and len(ckpt.read_text(encoding="utf-8").splitlines()) >= 2:  # header + chunk 0
            break
        time.sleep(0.2)
    assert proc.poll() is None, "run finished before it could be killed"
    decoders = psutil.Process(proc.pid).children(recursive=True)  # the chunk-decoding workers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    gone, alive = psutil.wait_procs(decoders, timeout=10)
    assert not alive, f"decoder processes outlived the killed lsf: {[p.pid for p in alive]}"
    assert not (root / "transcript.json").exists()  # nothing partial under the final name
    assert ckpt.exists()
    res = json.loads(run_lsf("transcribe", "-C", root, "--chunk-seconds", CHUNK, "--json", check=True).stdout)
    print(f"[asr] resumed: {res['result']['resumed_chunks']} of {res['result']['chunks']} chunks from the checkpoint")
    assert res["result"]["resumed_chunks"] >= 1
    assert not ckpt.exists()
    full = json.loads((full_run[0] / "transcript.json").read_text(encoding="utf-8"))
    resumed = json.loads((root / "transcript.json").read_text(encoding="utf-8"))
    assert resumed["segments"] == full["segments"]
    assert resumed["candidates"] == full["candidates"]


def _video(path: Path, *extra: str) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=2",
                    *extra, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-shortest", str(path)], check=True)
    return path


def test_case_without_audio_stream_gives_empty_transcript(tmp_path):
    video = _video(tmp_path / "noaudio.mp4")
    run_lsf("extract", video, "-C", tmp_path / "c", "-q", check=True)
    assert not (tmp_path / "c" / "media" / "audio.wav").exists()
    res = run_lsf("transcribe", "-C", tmp_path / "c", "--json")
    assert res.returncode == 0, res.stderr
    tr = json.loads((tmp_path / "c" / "transcript.json").read_text(encoding="utf-8"))
    assert tr["segments"] == [] and any("no audio" in n for n in tr["notes"])
    assert json.loads(run_lsf("transcribe", "-C", tmp_path / "c", "--json").stdout)["skipped"] is True


@pytest.mark.slow
def test_silent_audio_track_gives_empty_transcript(tmp_path, realdata):
    run_lsf("extract", realdata / "video_countdown_silent_audio_in1.mp4", "-C", tmp_path / "c", "-q", check=True)
    res = run_lsf("transcribe", "-C", tmp_path / "c", "--json")
    assert res.returncode == 0, res.stderr
    tr = json.loads((tmp_path / "c" / "transcript.json").read_text(encoding="utf-8"))
    assert tr["segments"] == [] and tr["candidates"] == []
    assert "no speech transcribed" in tr["notes"]


def _wav(path: Path, seconds: float) -> Path:
    n = int(16000 * seconds)
    return write_wav(path, (0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / 16000) * 32767).astype("<i2"))


def test_tiny_and_empty_audio_give_empty_transcripts(tmp_path):
    t = Transcriber(None, TranscribeOptions(language="zh"), [])
    for secs in (0.1, 0.0):
        tr = t.transcribe_file(_wav(tmp_path / f"a{secs}.wav", secs))
        assert tr.segments == [] and tr.language == "zh" and "no speech transcribed" in tr.notes


def test_two_worker_processes_settle_the_language_and_this_process_loads_no_model(tmp_path):
    """With chunks decoded by two worker processes the language is settled by a worker, and the
    process that asked holds no model of its own (one Whisper model fewer in memory beside OCR)."""
    rng = np.random.default_rng(0)
    path = write_wav(tmp_path / "noise.wav", rng.normal(0, 300, 16000 * 70).astype(np.int16))
    t = Transcriber(None, TranscribeOptions(language="zh", chunk_s=30.0, workers=2), [])
    tr = t.transcribe_file(path)
    assert tr.params["chunks"] == 3 and t._backend is None  # noqa: SLF001
    assert tr.language == "zh" and t.language_probability is not None
    assert tr.model["backend"] == "faster-whisper" and tr.model["cpu_numerics"]["ctranslate2"]


def test_bad_model_and_bad_case_are_one_line_errors(tmp_path, extracted_case):
    root = tmp_path / "case"
    root.mkdir()
    (root / "case.json").write_text(json.dumps({"schema": "lsf.case/1"}))
    bad = tmp_path / "model"
    bad.mkdir()
    (bad / "model.bin").write_bytes(os.urandom(4096))
    (bad / "config.json").write_text("{}")
    (bad / "vocabulary.txt").write_text("a\n")
    cases = [
        (["transcribe", "-C", tmp_path / "nocase"], "not a case folder"),
        (["transcribe", "-C", root, "--model", tmp_path / "missing"], "no such file or folder"),
        (["transcribe", "-C", _copy(extracted_case, tmp_path / "c2"), "--model", bad], "cannot load CTranslate2 model"),
        (["transcribe", "-C", root], "source.json is missing"),
        (["transcribe", "-C", root, "--chunk-seconds", "5"], "at least 30"),
    ]
    for args, msg in cases:
        r = run_lsf(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert msg in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = run_lsf("transcribe", "-C", root, "--backend", "nope")
    assert r.returncode == 2 and "Traceback" not in r.stderr


@pytest.mark.slow
def test_one_process_and_two_worker_processes_write_the_same_record(full_run, extracted_case, tmp_path):
    """Chunks decoded by two worker processes (the default on two cores) give byte-for-byte the
    transcript of one process decoding them in order."""
    root, res, wall = full_run
    assert res["result"]["chunks"] >= 2
    one = _copy(extracted_case, tmp_path / "case")
    t0 = time.monotonic()
    run_lsf("transcribe", "-C", one, "--chunk-seconds", CHUNK, "--workers", "1", "--json", check=True)
    wall1 = time.monotonic() - t0
    print(f"[asr] {res['result']['chunks']} chunks: default (2 workers) {wall:.1f}s, --workers 1 {wall1:.1f}s")
    assert (one / "transcript.json").read_bytes() == (root / "transcript.json").read_bytes()
