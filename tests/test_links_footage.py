"""Re-used footage: a 60-s excerpt of a stream, re-encoded smaller at another bitrate with a new
overlay, is found in it with the right time range; unrelated streams are not linked."""

from __future__ import annotations

import json

import pytest
from links_streams import excerpt

from lsforensics.case import Case
from lsforensics.extract import extract
from lsforensics.links.footage import Footage, FootageStage, match_footage
from lsforensics.stage import run_stage

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cases(synth_stream, realdata, test_cache, tmp_path_factory):
    root = tmp_path_factory.mktemp("footage")
    videos = {
        "original": synth_stream.video,
        # 00:15–01:15 of the original at 640x360 and 400 kb/s (the original: 960x540, CRF 23) with a banner
        "excerpt": excerpt(synth_stream.video, test_cache / "links" / "excerpt_15_60.mp4", 15.0, 60.0),
        "bunny": realdata / "video_webm_big_buck_bunny_0_30.webm",
        "plane": realdata / "video_outdoor_plane_failing_audio.mp4",
    }
    out = {}
    for name, video in videos.items():
        extract(video, root / name)
        run_stage(Case(root / name), FootageStage())
        out[name] = root / name
    return out


def test_excerpt_is_found_with_its_time_range(cases):
    ranges = match_footage(Footage.load(cases["original"]), Footage.load(cases["excerpt"]))
    print("\n" + "\n".join(json.dumps(r.to_json()) for r in ranges))
    by = {r.medium: r for r in ranges}
    assert set(by) == {"audio", "video"}
    a = by["audio"]
    assert abs(a.a_start - 15.0) <= 1.0 and abs(a.a_end - 75.0) <= 1.5, a
    assert abs(a.b_start - 0.0) <= 1.0 and abs(a.b_end - 60.0) <= 1.5, a
    assert a.score >= a.threshold + 0.3
    v = by["video"]
    # the kept frames are seconds apart: the video range lies within the true one, give or take a frame
    assert 13.0 <= v.a_start <= 20.0 and 65.0 <= v.a_end <= 76.0, v
    assert abs((v.b_start - v.a_start) - (-15.0)) <= 1.0, v
    assert v.score > v.threshold


def test_unrelated_streams_are_not_linked(cases):
    names = list(cases)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if {a, b} == {"original", "excerpt"}:
                continue
            ranges = match_footage(Footage.load(cases[a]), Footage.load(cases[b]))
            assert ranges == [], (a, b, [r.to_json() for r in ranges])


def test_compare_cli_reports_the_range(cases, lsf):
    proc = lsf("compare", cases["original"], cases["excerpt"], "--no-write", "--json", check=True)
    link = json.loads(proc.stdout)["link"]
    assert "footage" in link["kinds"]
    assert any("00:00:15" in why for why in link["reasons"]), link["reasons"]
    print("\n".join(link["reasons"]))
    bad = lsf("compare", cases["original"], cases["original"] / "media")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
