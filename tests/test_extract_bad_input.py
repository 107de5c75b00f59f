"""Bad input to `lsf extract`: exit 2, one clear line, no traceback, nothing left behind."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import LSF, run_lsf


def assert_clean_error(proc: subprocess.CompletedProcess, *, expect: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("lsf: error: ")
    assert "Traceback" not in proc.stderr
    assert expect.lower() in lines[0].lower(), lines[0]


def no_case_left(base: Path) -> bool:
    return not (base / "case").exists()


def test_missing_path(tmp_path: Path) -> None:
    proc = run_lsf("extract", tmp_path / "nope.mp4", "-C", tmp_path / "case")
    assert_clean_error(proc, expect="no such file")
    assert no_case_left(tmp_path)


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "dir.mp4").mkdir()
    proc = run_lsf("extract", tmp_path / "dir.mp4", "-C", tmp_path / "case")
    assert_clean_error(proc, expect="is a directory")
    assert no_case_left(tmp_path)


def test_zero_byte(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").write_bytes(b"")
    proc = run_lsf("extract", tmp_path / "empty.mp4", "-C", tmp_path / "case")
    assert_clean_error(proc, expect="empty")
    assert no_case_left(tmp_path)


def test_text_file_named_mp4(tmp_path: Path) -> None:
    f = tmp_path / "notes.mp4"
    f.write_text("这不是视频 this is not a video\n" * 50, encoding="utf-8")
    before = f.read_bytes()
    proc = run_lsf("extract", f, "-C", tmp_path / "case")
    assert_clean_error(proc, expect="not a readable media file")
    assert no_case_left(tmp_path)
    assert f.read_bytes() == before


@pytest.mark.slow
def test_truncated_mp4(synth_stream, tmp_path: Path) -> None:
    data = synth_stream.video.read_bytes()
    f = tmp_path / "truncated.mp4"
    f.write_bytes(data[: len(data) // 2])  # moov atom (at the end) is lost, as in a cut-off download
    proc = run_lsf("extract", f, "-C", tmp_path / "case")
    assert_clean_error(proc, expect="not a readable media file")
    assert no_case_left(tmp_path)
    assert f.read_bytes() == data[: len(data) // 2]


def test_unreadable_file(realdata: Path, tmp_path: Path) -> None:
    f = tmp_path / "locked.mp4"
    shutil.copy(realdata / "video_countdown_silent_audio_in1.mp4", f)
    f.chmod(0)
    cmd = [str(LSF), "extract", str(f), "-C", str(tmp_path / "case")]
    if os.geteuid() == 0:
        # root reads anything; drop the capabilities that bypass file permissions, as for a normal user
        caps = "-dac_override,-dac_read_search"
        cmd = ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert_clean_error(proc, expect="permission denied")
    assert no_case_left(tmp_path)


def test_bad_options(realdata: Path, tmp_path: Path) -> None:
    proc = run_lsf("extract", realdata / "video_countdown_silent_audio_in1.mp4", "-C", tmp_path / "case",
                   "--interval", "0")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--interval" in proc.stderr
    assert no_case_left(tmp_path)


def test_case_of_another_source(realdata: Path, tmp_path: Path) -> None:
    ok = run_lsf("extract", realdata / "video_countdown_silent_audio_in1.mp4", "-C", tmp_path / "case")
    assert ok.returncode == 0, ok.stderr
    proc = run_lsf("extract", realdata / "video_bw_film_chaplin.mp4", "-C", tmp_path / "case")
    assert_clean_error(proc, expect="belongs to another source")


@pytest.mark.slow
def test_path_with_spaces_and_chinese(realdata: Path, tmp_path: Path) -> None:
    folder = tmp_path / "直播 录像 (2026)"
    folder.mkdir()
    f = folder / "小香 包包 直播.mp4"
    shutil.copy(realdata / "video_zh_en_autocut_test001.mp4", f)
    proc = run_lsf("extract", f, "-C", folder / "案件 一", "--json")
    assert proc.returncode == 0, proc.stderr
    assert (folder / "案件 一" / "media" / "audio.wav").stat().st_size > 100_000
    assert list((folder / "案件 一" / "media" / "frames").glob("*.jpg"))


@pytest.mark.slow
def test_video_without_audio(synth_stream, tmp_path: Path) -> None:
    f = tmp_path / "silent video.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(synth_stream.video), "-t", "12", "-an", "-c:v", "copy", str(f)],
                   check=True)
    proc = run_lsf("extract", f, "-C", tmp_path / "case", "--json")
    assert proc.returncode == 0, proc.stderr
    import json

    source = json.loads((tmp_path / "case" / "source.json").read_text())
    assert source["probe"]["audio_stream"] is None
    assert not (tmp_path / "case" / "media" / "audio.wav").exists()
    assert json.loads((tmp_path / "case" / "media" / "frames.json").read_text())
    # a rerun is a no-op, including the stage that had nothing to do
    again = run_lsf("extract", f, "-C", tmp_path / "case", "--json")
    assert all(s["skipped"] for s in json.loads(again.stdout)["stages"])


def test_still_image_is_not_a_video(realdata: Path, tmp_path: Path) -> None:
    f = tmp_path / "product.mp4"
    shutil.copy(realdata / "img_iconic_arla_milk.jpg", f)
    proc = run_lsf("extract", f, "-C", tmp_path / "case")
    assert_clean_error(proc, expect="still image")
    assert no_case_left(tmp_path)
