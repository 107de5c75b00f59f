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


def test_a_looped_stream_lists_its_repeats(synth_stream, test_cache, tmp_path):
    """A recorded "live" played twice in a row: footage.json says where it repeats itself."""
    import subprocess

    looped = test_cache / "links" / "looped_twice.mp4"
    if not looped.exists():
        listing = tmp_path / "list.txt"
        listing.write_text(f"file '{synth_stream.video}'\nfile '{synth_stream.video}'\n")
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "concat", "-safe", "0", "-i", str(listing),
                        "-c", "copy", str(looped)], check=True)
    extract(looped, tmp_path / "case")
    run_stage(Case(tmp_path / "case"), FootageStage())
    reps = json.loads((tmp_path / "case" / "footage.json").read_text())["repeats"]
    print("\n" + "\n".join(json.dumps(r) for r in reps))
    d = synth_stream.duration
    audio = [r for r in reps if r["medium"] == "audio"]
    assert audio and all(abs(r["offset_s"] - d) <= 1.0 for r in audio), reps
    assert max(r["seconds"] for r in audio) >= d - 5


def test_an_ordinary_stream_has_no_repeated_sound(cases):
    """No stream here repeats its sound. The synthetic stream's picture does repeat a layout:
    scenes 2-4 and 14-16 show a bag, a bag, a garment at the same places on the same kind of
    set, which the MPEG-7 signature (light and dark at 32x32-block resolution) cannot tell
    from re-used footage; it is reported as a picture-only repeat, and docs/links.md says so."""
    for name, root in cases.items():
        reps = json.loads((root / "footage.json").read_text())["repeats"]
        print(name, [(r["medium"], r["a_start"], r["a_end"], r["offset_s"]) for r in reps])
        assert [r for r in reps if r["medium"] == "audio"] == [], name
        if name != "original":
            assert reps == [], name


def test_compare_writes_links_into_both_cases_and_keeps_their_seals(cases, lsf, tmp_path):
    """--write records links.json in both cases, rewrites their reports and reseals them; a signed
    case is refused (exit 2, nothing written) unless the key is given again."""
    import shutil

    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(cases["original"], a)
    shutil.copytree(cases["excerpt"], b)
    key = tmp_path / "lab"
    lsf("keygen", "-o", key, check=True)
    for c in (a, b):
        lsf("detect", "-C", c, "-q", check=True)
        lsf("report", "-C", c, "--format", "html", "--sign-key", key.with_suffix(".key"), "-q", check=True)
    refused = lsf("compare", a, b)
    assert refused.returncode == 2 and "is signed" in refused.stderr, refused.stderr
    assert not (a / "links.json").exists() and not (b / "links.json").exists()
    lsf("compare", a, b, "--sign-key", key.with_suffix(".key"), "-q", check=True)
    for c, other in ((a, "excerpt"), (b, "original")):  # case ids travel with the copies
        links = json.loads((c / "links.json").read_text())["links"]
        assert [x["other_case"] for x in links] == [other] and "footage" in links[0]["kinds"]
        html = (c / "report" / "report.html").read_text(encoding="utf-8")
        assert 'id="links"' in html and "same audio" in html
        ok = lsf("verify", c, "--pubkey", key.with_suffix(".pub"))
        assert ok.returncode == 0, ok.stdout + ok.stderr
