"""Shared fixtures: real data, the synthetic livestream, an extracted case, CLI runners."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/synth.py importable as `synth`

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

CACHE = Path(os.environ.get("LSF_TEST_CACHE", REPO / ".test-cache"))
REALDATA = REPO.parent / "shared" / "realdata"
LSF = Path(sys.executable).with_name("lsf")

REAL_VIDEOS = [
    "video_zh_en_autocut_test001.mp4",
    "video_phone_room_dog_fire2.mp4",
    "video_outdoor_plane_failing_audio.mp4",
    "video_countdown_silent_audio_in1.mp4",
    "video_bw_film_chaplin.mp4",
    "video_webm_big_buck_bunny_0_30.webm",
]


@pytest.fixture(scope="session")
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.fail(f"real data missing: expected {REALDATA} (the shared/ folder beside the repo)")
    return REALDATA


@pytest.fixture(scope="session")
def test_cache() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    return CACHE


@pytest.fixture(scope="session")
def synth_stream(test_cache: Path):
    from synth import build_livestream

    return build_livestream(test_cache / "synth")


@pytest.fixture(scope="session")
def extracted_case(synth_stream, tmp_path_factory):
    """A case after extract on the synthetic stream (shared, treat as read-only; copy to modify)."""
    from lsforensics.case import Case
    from lsforensics.extract import extract

    root = tmp_path_factory.mktemp("synthcase") / "case"
    extract(synth_stream.video, root)
    return Case(root)


def run_lsf(*args: str | Path, check: bool = False, timeout: float = 900, **kw) -> subprocess.CompletedProcess:
    """Run the installed ``lsf`` console script as a user would (real process, real exit code)."""
    env = {**os.environ, **kw.pop("env", {})}
    proc = subprocess.run([str(LSF), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          env=env, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"lsf {' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr}")
    return proc


@pytest.fixture
def lsf():
    return run_lsf


def copy_case(case_root: Path, dest: Path) -> Path:
    shutil.copytree(case_root, dest, symlinks=True)
    return dest
