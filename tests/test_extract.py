"""`lsf extract` on real and synthetic videos: hashes, durations, audio, frame times, idempotency."""

from __future__ import annotations

import hashlib
import json
import subprocess
import wave
from pathlib import Path

import pytest
from conftest import REAL_VIDEOS, run_lsf

from lsforensics.case import Case
from lsforensics.custody import CustodyLog
from lsforensics.errors import InputError
from lsforensics.extract import FrameParams, extract


def sha256sum(path: Path) -> str:
    """The hash as the coreutils tool prints it (an independent implementation)."""
    out = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True).stdout
    return out.split()[0]


def ffprobe_json(path: Path, *args: str) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args, str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as wf:
        assert wf.getframerate() == 16000 and wf.getnchannels() == 1 and wf.getsampwidth() == 2
        return wf.getnframes() / wf.getframerate()


def video_frame_times(path: Path) -> list[float]:
    """Presentation times of every decoded video frame, from ffprobe (not from lsf)."""
    data = ffprobe_json(path, "-select_streams", "v:0", "-show_entries", "frame=pts_time,best_effort_timestamp_time")
    times = []
    for f in data["frames"]:
        t = f.get("pts_time") or f.get("best_effort_timestamp_time")
        if t is not None:
            times.append(float(t))
    return sorted(times)


def check_case_against_source(case: Case, video: Path) -> dict:
    src = case.source
    # hashes agree with the coreutils tools
    assert src["sha256"] == sha256sum(video)
    assert src["sha512"] == hashlib.sha512(video.read_bytes()).hexdigest()
    assert src["size"] == video.stat().st_size
    fmt = ffprobe_json(video, "-show_format", "-show_streams")
    assert abs(src["probe"]["duration"] - float(fmt["format"]["duration"])) < 1e-3
    # audio: 16 kHz mono, as long as the source audio (within 50 ms)
    audio_streams = [s for s in fmt["streams"] if s["codec_type"] == "audio"]
    if audio_streams:
        a = audio_streams[0]
        a_dur = float(a.get("duration") or fmt["format"]["duration"])
        v = next(s for s in fmt["streams"] if s["codec_type"] == "video")
        offset = float(a.get("start_time", 0)) - float(v.get("start_time", 0))
        got = wav_seconds(case.audio)
        print(f"{video.name}: audio {got:.3f}s vs source {a_dur + offset:.3f}s")
        assert abs(got - (a_dur + offset)) <= 0.05
    else:
        assert not case.audio.exists()
    # frames: files exist, hashes match, names carry the time, times match real frames
    frames = json.loads(case.frames_json.read_text())
    assert frames, "no frames extracted"
    real = video_frame_times(video)
    v_start = float(next(s for s in fmt["streams"] if s["codec_type"] == "video").get("start_time", 0))
    fps = eval(next(s for s in fmt["streams"] if s["codec_type"] == "video")["avg_frame_rate"])  # noqa: S307
    one_frame = 1.0 / fps
    listed = set()
    for fr in frames:
        p = case.root / fr["file"]
        assert p.is_file()
        assert sha256sum(p) == fr["sha256"]
        assert int(Path(fr["file"]).stem) == round(fr["t"] * 1000)
        assert fr["reason"] in ("scene", "interval", "keyframe")
        nearest = min(real, key=lambda r: abs((r - v_start) - fr["t"]))
        assert abs((nearest - v_start) - fr["t"]) <= one_frame, (fr, nearest)
        assert 0 <= fr["t"] <= src["probe"]["duration"]
        listed.add(p.name)
    assert listed == {p.name for p in case.frames_dir.iterdir()}, "frames folder holds unlisted files"
    return src


@pytest.mark.slow
@pytest.mark.parametrize("name", REAL_VIDEOS)
def test_extract_real_videos(realdata: Path, tmp_path: Path, name: str) -> None:
    video = realdata / name
    before = (sha256sum(video), video.stat().st_mtime_ns)
    proc = run_lsf("extract", video, "-C", tmp_path / "case", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["source_sha256"] == before[0]
    case = Case(tmp_path / "case")
    src = check_case_against_source(case, video)
    assert (sha256sum(video), video.stat().st_mtime_ns) == before, "source was modified"
    assert not CustodyLog(case.custody).verify_chain()
    if name == "video_phone_room_dog_fire2.mp4":
        assert src["vfr"] is True  # tbr 90000, irregular frame intervals
    if name == "video_countdown_silent_audio_in1.mp4":
        assert case.audio.exists()  # a silent track is still a track


def test_rerun_is_noop_and_custody_chain(realdata: Path, tmp_path: Path) -> None:
    video = realdata / "video_outdoor_plane_failing_audio.mp4"
    first = extract(video, tmp_path / "c")
    assert not any(s.skipped for s in first.stages)
    log = CustodyLog(tmp_path / "c" / "custody.jsonl")
    n = len(log.entries())
    frames_before = (tmp_path / "c" / "media" / "frames.json").read_bytes()
    second = extract(video, tmp_path / "c")
    assert all(s.skipped for s in second.stages)
    assert len(log.entries()) == n
    assert (tmp_path / "c" / "media" / "frames.json").read_bytes() == frames_before
    # a changed parameter is refused unless forced (the case records its options) ...
    with pytest.raises(InputError, match="--force"):
        extract(video, tmp_path / "c", frames=FrameParams(interval=1.0))
    assert len(log.entries()) == n
    # ... and forced, it is a recorded change (custody `options`) and every stage is redone
    third = extract(video, tmp_path / "c", frames=FrameParams(interval=1.0), force=True)
    assert [s.skipped for s in third.stages] == [False, False, False]
    actions = [e["action"] for e in log.entries()[n:]]
    print(f"custody after the forced change: {actions}")
    assert actions == ["extract.source", "extract.audio", "options", "extract.frames"], actions
    assert (tmp_path / "c" / "media" / "frames.json").read_bytes() != frames_before
    # the chain: each prev is the sha256 of the previous line, recomputed here independently
    lines = (tmp_path / "c" / "custody.jsonl").read_bytes().split(b"\n")[:-1]
    assert json.loads(lines[0])["prev"] is None
    for a, b in zip(lines, lines[1:], strict=False):
        assert json.loads(b)["prev"] == hashlib.sha256(a).hexdigest()
    # a changed output file makes the stage run again
    wav = tmp_path / "c" / "media" / "audio.wav"
    wav.write_bytes(wav.read_bytes()[:-100])
    fourth = extract(video, tmp_path / "c", frames=FrameParams(interval=1.0))
    assert [s.skipped for s in fourth.stages] == [True, False, True]


@pytest.mark.slow
def test_synthetic_stream_scenes_and_modes(synth_stream, tmp_path: Path) -> None:
    fast = extract(synth_stream.video, tmp_path / "fast")
    assert fast.stages[2].result["mode"] == "keyframes"  # 2 s GOP like OBS
    exact = extract(synth_stream.video, tmp_path / "exact", frames=FrameParams(mode="full"))
    assert exact.stages[2].result["mode"] == "full"
    for root in (tmp_path / "fast", tmp_path / "exact"):
        case = Case(root)
        check_case_against_source(case, synth_stream.video)
        frames = json.loads(case.frames_json.read_text())
        times = [f["t"] for f in frames]
        # every scene of the stream is represented by at least one frame inside it
        for sc in synth_stream.scenes:
            inside = [t for t in times if sc["start"] <= t < sc["end"]]
            assert inside, f"{root.name}: no frame in scene {sc['start']}–{sc['end']} ({sc['caption']})"
        # no hole in the sampling much longer than the interval
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        print(f"{root.name}: {len(frames)} frames, max gap {max(gaps):.2f}s")
        assert max(gaps) <= FrameParams().max_hold + 2.0 + 0.1
    assert fast.stages[2].result["dropped_near_duplicates"] > 0  # a static product shot is not re-sampled
    # scene cuts are detected as such in exact mode (within one frame of the cut)
    frames = json.loads(Case(tmp_path / "exact").frames_json.read_text())
    scene_times = [f["t"] for f in frames if f["reason"] == "scene"]
    cuts = [sc["start"] for sc in synth_stream.scenes[1:]]
    hit = sum(any(abs(t - c) <= 1 / synth_stream.fps + 1e-3 for t in scene_times) for c in cuts)
    print(f"scene cuts found {hit}/{len(cuts)}")
    assert hit >= len(cuts) - 1


@pytest.mark.slow
def test_several_audio_streams_take_the_default(realdata: Path, tmp_path: Path) -> None:
    """Two audio tracks, the second flagged default: that one is extracted and the choice recorded."""
    src = tmp_path / "two_tracks.mkv"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(realdata / "video_countdown_silent_audio_in1.mp4"),
         "-i", str(realdata / "zh_aishell1_BAC009S0724W0121.wav"),
         "-map", "0:v", "-map", "0:a", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-t", "4",
         "-disposition:a:0", "0", "-disposition:a:1", "default", str(src)],
        check=True,
    )
    extract(src, tmp_path / "c")
    case = Case(tmp_path / "c")
    probe = case.source["probe"]
    audio = [s for s in probe["streams"] if s["type"] == "audio"]
    assert len(audio) == 2
    assert probe["audio_stream"] == audio[1]["index"]
    assert "default" in probe["audio_stream_choice"] and "of 2" in probe["audio_stream_choice"]
    # the extracted audio is the speech track (loud), not the silent one
    import numpy as np

    with wave.open(str(case.audio)) as wf:
        pcm = np.frombuffer(wf.readframes(wf.getnframes()), dtype=np.int16)
    assert np.abs(pcm).max() > 3000


@pytest.mark.slow
def test_benchmark_script_runs(tmp_path: Path) -> None:
    """benchmarks/extract.py prints wall time and real-time factor (on a short generated stream)."""
    repo = Path(__file__).resolve().parents[1]
    sys_exe = Path(__import__("sys").executable)
    gen = subprocess.run([str(sys_exe), str(repo / "benchmarks" / "make_long_video.py"), "--duration", "12",
                          "--out", str(tmp_path)], capture_output=True, text=True, check=True)
    video = Path(gen.stdout.strip().splitlines()[-1])
    info = json.loads(subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_streams", str(video)],
                                     capture_output=True, text=True, check=True).stdout)
    v = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (v["width"], v["height"], v["avg_frame_rate"]) == (1280, 720, "30/1")
    out = subprocess.run([str(sys_exe), str(repo / "benchmarks" / "extract.py"), "--video", str(video)],
                         capture_output=True, text=True, check=True).stdout
    print(out)
    assert "real-time factor" in out and "mode=keyframes" in out
