"""Issue 14 acceptance on the realistic generator (tests/realistic.py): portrait phone streams with
the platform's UI, camera motion, real photos, covers and their look-alikes, ordinary talk over
music.

Three 10-minute streams (seeds 1-3, 30 min in all) are built and analysed once and cached under
``.test-cache/realistic/`` (media, cases); the detect stage is rerun on every run so the figures
are those of the code under test. Visual recall is measured on frames rendered directly (no
encode, no analyze). Figures are printed; run with ``-s`` to see them.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import realistic as R  # noqa: E402
from conftest import run_lsf  # noqa: E402
from realistic_eval import Score, score  # noqa: E402

from lsforensics.case import Case
from lsforensics.detect.stage import DetectStage
from lsforensics.pipeline import AnalyzeOptions, analyze
from lsforensics.stage import run_stage
from lsforensics.vision.imageio import from_array
from lsforensics.vision.layout import find_layout
from lsforensics.vision.masking import box_iou, find_masked_regions
from lsforensics.vision.references import find_mark_covers, load_reference_dir, match_references

SEEDS = (1, 2, 3)
MINUTES = 10.0
# Whichever stream test runs first builds and analyses the three streams in its setup (about 25 min
# on 2 idle cores, over 30 under load): more than the suite's per-test limit of 1800 s.
STREAMS_TIMEOUT_S = 4800


@pytest.fixture(scope="module")
def streams(test_cache: Path) -> list[R.RealisticStream]:
    return [R.build_stream(test_cache / "realistic", R.StreamSpec(seed, MINUTES)) for seed in SEEDS]


@pytest.fixture(scope="module")
def analysed(streams, test_cache: Path) -> list[tuple[R.RealisticStream, Case]]:
    out = []
    for st in streams:
        root = test_cache / "realistic" / "cases" / st.folder.name
        rules = [st.references] if st.references.is_dir() else []
        opts = AnalyzeOptions(pages=st.pages, chats=[st.chat], rules_dirs=rules, formats="json")
        analyze(st.video, root, opts)  # idempotent: a cached case reruns nothing
        case = Case(root)
        run_stage(case, DetectStage(rules), force=True)  # the detectors under test, not a cached run's
        out.append((st, case))
    return out


def _score_all(analysed) -> Score:
    total: Score | None = None
    for st, case in analysed:
        s = score(st.truth, case.read_json(case.findings_json)["findings"])
        print(f"\nseed {st.truth['spec']['seed']}:\n{s.table()}")
        total = s if total is None else total.merge(s)
    assert total is not None
    return total


@pytest.mark.slow
@pytest.mark.timeout(STREAMS_TIMEOUT_S)
def test_false_findings_per_hour_and_claims_on_the_right_product(analysed) -> None:
    """Measured 2026-12-02 on seeds 1-3 (30 min): 12 false findings/h before the fixes of branch
    iss14b (the 宝家 banner twin and its price, a card price given a brand of the next link, a 苎麻
    sound match across 蜘蛛|马, the O of OAT-LY! called a sticker twice), 0 after."""
    total = _score_all(analysed)
    print(f"\nALL SEEDS:\n{total.table()}")
    print("false findings:\n  " + "\n  ".join(total.false_items[:80]))
    assert total.hours * 60 >= 30
    # no masked-logo finding in an episode without a cover
    assert not [x for x in total.false_items if x.startswith("masked_logo") and "no cover" in x]
    # spec mismatches: only against the product being talked about, the planted ones found. The
    # streams plant few (2 on seeds 1-3); recall over >= 5 planted is
    # test_spec_mismatches_only_against_the_product_talked_about.
    assert total.cross_product == 0
    found, planted = total.recall["spec_mismatch"]
    assert planted
    assert total.total_false_per_hour() <= 6.0, total.per_hour()
    if found / planted < 0.9:
        # Which claims the record hears depends on the CPU's int8 code path (transcript
        # model.cpu_numerics): 2/2 on Intel hosts (stop 22's CI; 2026-12-04 on GENERATOR_VERSION 2),
        # 1/2 on AVX2-only AMD hosts, where 纯棉 is heard 纯练 (seed 1, shirt). (A 1/2 on an Intel
        # host, stop 25, was a stream built on a different espeak clip: docs/benchmarks.md.) The
        # same open item of issue 14 as test_spec_mismatches_only_against_the_product_talked_about.
        pytest.xfail(f"issue 14 not met on this host ({_cpu_model()}): spec-mismatch recall on the streams "
                     f"{found}/{planted}, target 0.9; false findings and cross-product comparisons pass")


@pytest.mark.slow
@pytest.mark.timeout(STREAMS_TIMEOUT_S)
def test_redecoding_invents_no_term_on_ordinary_speech(analysed) -> None:
    """Accepted re-decoded terms on the streams: each must lie in a natural line that says it.
    (The real Mandarin clips: tests/test_asr_real.py::test_mandarin_cer_and_no_fabrication_on_real_speech.)
    Was 1 invented on seeds 1-3 (小香 for 这个小乡只是正经, seed 2); 0 since a short recovered term needs
    the lexicon's context (branch asr, 2026-12-02, measured on the same sound with
    benchmarks/asr_stream.py --seed 1/2/3 --minutes 10)."""
    invented, accepted, refused = [], 0, 0
    for st, case in analysed:
        doc = case.read_json(case.transcript_json)
        for c in doc.get("candidates") or []:
            if not c.get("accepted"):
                refused += 1
                continue
            accepted += 1
            lines = [ln for ln in st.truth["lines"] if ln["start"] - 1 <= c["start"] <= ln["end"] + 1]
            if not any(c["term"] in ln["text"] for ln in lines):
                invented.append((st.truth["spec"]["seed"], c["term"], c["unbiased"], c.get("acoustic_llr"),
                                 [ln["text"][:20] for ln in lines]))
    print(f"\nre-decoding: {accepted} accepted, {refused} refused, invented: {invented}")
    assert not invented


@pytest.mark.slow
@pytest.mark.timeout(STREAMS_TIMEOUT_S)
def test_one_process_gives_the_transcript_of_two_workers_on_a_realistic_stream(analysed, tmp_path) -> None:
    """Seed 2 has a chunk that needs temperature fallback after another did: before the decoder's
    sampler was made fresh per decode (transcribe stage v5), one process and two worker processes
    wrote different transcripts of it (one 120-s chunk: 8 vs 31 segments). Measured 2026-12-04:
    the same bytes on all three seeds."""
    st, case = analysed[1]
    one = tmp_path / "case"
    shutil.copytree(case.root, one)
    t0 = time.monotonic()
    run_lsf("transcribe", "-C", one, "--workers", "1", "--force", "-q", check=True)
    print(f"\nseed {st.truth['spec']['seed']}: --workers 1 re-transcription {time.monotonic() - t0:.0f} s wall")
    assert (one / "transcript.json").read_bytes() == case.root.joinpath("transcript.json").read_bytes()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown"


def _last_result(case: Case, action: str) -> dict:
    entries = [json.loads(x) for x in case.custody.read_text(encoding="utf-8").splitlines() if x.strip()]
    return next((e.get("result") or {} for e in reversed(entries) if e["action"] == action), {})


@pytest.mark.slow
@pytest.mark.timeout(STREAMS_TIMEOUT_S)
def test_speed_transcription_and_ocr_cpu_per_minute(analysed) -> None:
    """Issue 19 on the analysed streams (no extra decoding: the stages' own CPU from custody).
    Measured 2026-12-02 on seeds 1-3: transcription 6.1 / 6.6 / 11.0 CPU-s per audio minute, with
    OCR 10.1 / 10.6 / 14.6 CPU-s per video minute (was over: 20.3 and 33.1 on seed 4 before the
    record's refusals skipped the biased decode and OCR tracked its lines across frames)."""
    print(f"\nhost CPU: {_cpu_model()} (int8 decoding cost differs by CPU: see docs/benchmarks.md)")
    over = []
    for st, case in analysed:
        tr, ocr = _last_result(case, "transcribe"), _last_result(case, "ocr")
        if tr.get("cpu_s") is None or ocr.get("cpu_s") is None:
            pytest.skip("cached case analysed before the stages recorded their CPU: delete .test-cache/realistic/cases")
        minutes = tr["duration"] / 60
        t_min, both = tr["cpu_s"] / minutes, (tr["cpu_s"] + ocr["cpu_s"]) / minutes
        phases = {k: round(v / minutes, 1) for k, v in tr["cpu"].items() if k.endswith("_cpu_s")}
        recovery = sum(v for k, v in tr["cpu"].items() if k.endswith("_cpu_s") and k != "record_cpu_s")
        share = recovery / max(tr["cpu"].get("record_cpu_s", 0.0), 1e-9)
        print(f"\nseed {st.truth['spec']['seed']}: transcription {t_min:.1f} CPU-s per audio minute {phases}; "
              f"term recovery {100 * share:.1f} % of the record decode; "
              f"OCR {ocr['cpu_s'] / ocr['ocred']:.2f} CPU-s per read frame; both {both:.1f} CPU-s per video minute")
        # What the code decides, on any host: recovery re-decodes only short windows (issue 19 caps
        # its share). The decision is the audio it re-decodes; its CPU share also depends on the
        # host (each window costs a full 30-s encoder pass, whatever the record costs: seed 2's
        # 3 windows, 22 s of its 600, were 23 % of a cheap record on an AVX-512 EPYC, 2026-12-04).
        redecoded = sum(v for k, v in tr["cpu"].items() if k.endswith("_audio_s"))
        print(f"  re-decoded {redecoded:.1f} s of {tr['duration']:.0f} s of audio "
              f"({100 * redecoded / tr['duration']:.1f} %)")
        assert redecoded <= 0.1 * tr["duration"], redecoded
        if not (t_min <= 12.0 and both <= 16.0 and share <= 0.2):
            over.append(f"seed {st.truth['spec']['seed']}: {t_min:.1f} and {both:.1f} (recovery {100 * share:.0f} %)")
    if over:
        # The absolute targets of issue 19 held on the host of stop 22's CI and not on AVX2-only AMD
        # hosts, where the same int8 decode costs 2-3x the CPU (docs/benchmarks.md).
        pytest.xfail(f"issue 19 not met on this host ({_cpu_model()}): transcription and transcription+OCR "
                     f"CPU-s per minute, recovery's share of the record {'; '.join(over)}, targets 12, 16, 20 %")


@pytest.mark.slow
@pytest.mark.timeout(STREAMS_TIMEOUT_S)
def test_layout_finds_the_ui_and_comments_become_screen_chat(analysed) -> None:
    st, case = analysed[0]
    lay = json.loads((case.root / "evidence" / "layout.json").read_text(encoding="utf-8"))
    truth = st.truth["layout"]
    print("\nlayout:", lay, "\ntruth:", truth)
    assert lay["comment_region"] and box_iou(lay["comment_region"], truth["comments"]) >= 0.4
    for name in ("capsule", "counters", "card", "input_bar"):
        assert any(box_iou(b, truth[name]) >= 0.3 or _inside(truth[name], b) for b in lay["ui_boxes"]), name
    findings = case.read_json(case.findings_json)["findings"]
    viewers = [f for f in findings if f["source"] == "screen_chat"]
    comments = {c["text"] for c in st.truth["comments"]}
    seller_from_comments = [f for f in findings if f["source"] == "screen" and any(
        (f.get("quote") or "") and c in (f.get("quote") or "") for c in comments)]
    print("screen_chat:", [(f["kind"], f["quote"]) for f in viewers][:10])
    assert viewers and not seller_from_comments


def _inside(a: list[float], b: list[float]) -> bool:
    return a[0] >= b[0] - 4 and a[1] >= b[1] - 4 and a[0] + a[2] <= b[0] + b[2] + 4 and a[1] + a[3] <= b[1] + b[3] + 4


# ----------------------------------------------------------------------------- sampled frames
PRODUCTS = ("bag", "belt", "shoes", "serum", "sweater", "photo:arla", "photo:oatly", "photo:alpro")
SPEC = R.StreamSpec(seed=7, minutes=1)


def _jpeg(img: np.ndarray) -> np.ndarray:
    return cv2.imdecode(cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])[1], 1)


@pytest.fixture(scope="module")
def ui_mask(tmp_path_factory) -> np.ndarray:
    """The UI mask found by vision.layout over 75 frames of a 5-product stream."""
    eps = [R.Episode(i, i * 30.0, i * 30.0 + 30, p, "x", i + 1, c, None, "标题", 99) for i, (p, c) in enumerate(
        [("bag", "visible"), ("photo:arla", "visible"), ("serum", "plain"), ("photo:oatly", "tape"), ("belt", "plain")])]
    r = R.Renderer(SPEC, eps, 150.0)
    d = tmp_path_factory.mktemp("layout")
    frames = []
    for k in range(75):
        p = d / f"{k:04d}.jpg"
        cv2.imwrite(str(p), _jpeg(r.frame(k * 2.0)[0]))
        frames.append((k * 2.0, p))
    lay = find_layout(frames, SPEC.size)
    print("\n" + lay.describe())
    return lay.ui_mask(*SPEC.size)


@pytest.fixture(scope="module")
def photo_refs(realdata: Path) -> list:
    """The investigator's reference photos of the two real products that have one (Arla, Oatly)."""
    refs = []
    for name in ("arla", "oatly"):
        p = R.PHOTOS[name]
        refs += load_reference_dir(p["brand"], _one(realdata / p["reference"]))[0]
    return refs


def _on_cover(box: list[float], cover: list[float]) -> bool:
    """A reported mark area is on the cover: IoU >= 0.3, or at least half of it under the cover
    (the mark's area is the printed name, the cover's box a strip of tape reaching beyond it)."""
    ix = max(0.0, min(box[0] + box[2], cover[0] + cover[2]) - max(box[0], cover[0]))
    iy = max(0.0, min(box[1] + box[3], cover[1] + cover[3]) - max(box[1], cover[1]))
    return box_iou(box, cover) >= 0.3 or ix * iy >= 0.5 * box[2] * box[3]


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="issue 14 not met yet (2026-12-02, branch mask2): drawn products 40/45 = 0.89 "
                   "(was 27/45; generic detector: tape 7/10, sticker 8/10, blur 10/10, mosaic 10/10, finger 5/5), "
                   "met; real photos 18/27 = 0.67, unchanged (Arla 9/9, Oatly 8/9 with the reference mark check; "
                   "Alpro, which has no reference, 1/9 by the generic detector), 5/27 by the generic detector "
                   "alone; target 0.85 on both; see docs/visual.md")
def test_masked_logo_recall_on_drawn_products_and_real_photos(ui_mask, photo_refs) -> None:
    """Recall at one frame each: the generic detector (find_masked_regions) and, on products with
    a reference photo, the reference mark check (find_mark_covers) that the detect stage also runs."""
    hits: dict[str, list[bool]] = {}
    generic: dict[str, list[bool]] = {}
    by_product: dict[str, list[bool]] = {}
    false: list[str] = []
    for cover in R.COVERS + R.LOOKALIKES:
        for prod in PRODUCTS:
            photo = prod.startswith("photo:")
            if (prod == "photo:alpro" and cover in R.LOOKALIKES) or (photo and cover in ("label_beige", "price_sticker")):
                continue
            ep = R.Episode(0, 0.0, 20.0, prod, "x", 3, cover, None, "标题", 99)
            img, tr = R.Renderer(SPEC, [ep], 20.0).frame(5.0)
            frame = _jpeg(img)
            regions = find_masked_regions(frame, ui_mask=ui_mask)
            marks = find_mark_covers(from_array(frame), photo_refs, ui_mask)
            if tr["cover_box"] is None:
                false += [f"{cover}/{prod}: {r.kind}" for r in regions]
                false += [f"{cover}/{prod}: reference mark '{m.mark}' of {m.brand}" for m in marks]
                continue
            key = f"{R.COVER_FAMILY[cover]}/{'photo' if photo else 'drawn'}"
            g = any(box_iou(r.box, tr["cover_box"]) >= 0.3 for r in regions)
            generic.setdefault(key, []).append(g)
            hits.setdefault(key, []).append(g or any(_on_cover(m.box, tr["cover_box"]) for m in marks))
            by_product.setdefault(prod, []).append(hits[key][-1])
            false += [f"{cover}/{prod}: {r.kind} beside the cover" for r in regions
                      if box_iou(r.box, tr["cover_box"]) < 0.05]
            false += [f"{cover}/{prod}: reference mark '{m.mark}' beside the cover" for m in marks
                      if box_iou(m.box, tr["cover_box"]) < 0.05]
    table = {k: f"{sum(v)}/{len(v)}" for k, v in sorted(hits.items())}
    gtable = {k: f"{sum(v)}/{len(v)}" for k, v in sorted(generic.items())}
    drawn = [x for k, v in hits.items() if k.endswith("drawn") for x in v]
    photo = [x for k, v in hits.items() if k.endswith("photo") for x in v]
    print(f"\nmasked-logo recall by cover: {table}\n generic detector alone: {gtable}"
          f"\n by product: { {k: f'{sum(v)}/{len(v)}' for k, v in by_product.items()} }"
          f"\n drawn {sum(drawn)}/{len(drawn)}, photos {sum(photo)}/{len(photo)}"
          f"\n false regions: {len(false)} {false}")
    assert not [x for x in false if "beside" not in x], "a cover found where there is none"
    assert sum(drawn) / len(drawn) >= 0.85 and sum(photo) / len(photo) >= 0.85


@pytest.mark.slow
def test_logo_match_on_real_photos_with_iconic_references(realdata: Path) -> None:
    refs = []
    for name in ("arla", "oatly"):
        p = R.PHOTOS[name]
        refs += load_reference_dir(p["brand"], _one(realdata / p["reference"]))[0]
    seen, total = 0, 0
    for name in ("arla", "oatly", "alpro"):
        for cover in ("visible", "tape", "blur_strong"):
            if name == "alpro" and cover == "visible":
                continue
            ep = R.Episode(0, 0.0, 30.0, f"photo:{name}", "x", 1, cover, None, "标题", 99)
            r = R.Renderer(SPEC, [ep], 30.0)
            for t in (2.0, 9.0, 17.0, 25.0):
                ms = match_references(from_array(_jpeg(r.frame(t)[0])), refs)
                brands = {m.brand for m in ms}
                if name == "alpro":
                    assert not brands, f"alpro has no reference but matched {brands}"
                    continue
                total += 1
                seen += R.PHOTOS[name]["brand"] in brands
                assert brands <= {R.PHOTOS[name]["brand"]}, brands
    print(f"\nlogo_match on real photos: {seen}/{total} frames")
    assert seen / total >= 0.9


def _one(path: Path) -> Path:
    """A folder holding only ``path`` (the reference loader reads folders)."""
    import tempfile

    d = Path(tempfile.mkdtemp()) / "ref"
    d.mkdir()
    (d / path.name).write_bytes(path.read_bytes())
    return d


def test_generator_is_deterministic_by_seed() -> None:
    eps = R.plan_episodes(R.StreamSpec(seed=5, minutes=4))
    again = R.plan_episodes(R.StreamSpec(seed=5, minutes=4))
    assert [(e.product, e.cover, e.page) for e in eps] == [(e.product, e.cover, e.page) for e in again]
    other = R.plan_episodes(R.StreamSpec(seed=6, minutes=4))
    assert [(e.product, e.cover) for e in eps] != [(e.product, e.cover) for e in other]
    for e in eps:
        e.start, e.end = 40.0 * e.index, 40.0 * (e.index + 1)
    a = R.Renderer(R.StreamSpec(seed=5, minutes=4), eps, 240.0).frame(57.3)[0]
    b = R.Renderer(R.StreamSpec(seed=5, minutes=4), eps, 240.0).frame(57.3)[0]
    assert np.array_equal(a, b)
    land = R.Renderer(R.StreamSpec(seed=5, minutes=4, portrait=False), eps, 240.0).frame(57.3)[0]
    assert a.shape == (1280, 720, 3) and land.shape == (720, 1280, 3)
    assert re.fullmatch(r"[一二三四五六七八九十百零]+", R.cn_number(129))


@pytest.mark.slow
def test_every_cached_espeak_line_is_what_espeak_gives_now(test_cache: Path, tmp_path: Path, monkeypatch) -> None:
    """The streams are cached by their arguments, the espeak-ng lines by theirs: a clip cached by an
    earlier build must be the one a fresh build synthesizes, or two clones build different streams
    from the same seed. (One clip of seed 1 once differed, 2026-12-04: its breath noise, correlation
    0.998 with the fresh one; the stream built on it heard 纯棉 differently.) Replays the sound plan
    of the three streams and the claims sound, then synthesizes every line they used afresh."""
    cache = test_cache / "realistic" / "espeak"
    cache.mkdir(parents=True, exist_ok=True)
    used: dict[str, tuple[str, dict]] = {}
    original = R.espeak_pcm

    def record(text: str, **kw):
        args = {k: kw[k] for k in ("voice", "speed", "pitch")}
        used[R.espeak_key(text, **args)] = (text, args)
        return original(text, **kw)

    monkeypatch.setattr(R, "espeak_pcm", record)
    t0 = time.perf_counter()
    for seed in SEEDS:
        spec = R.StreamSpec(seed, MINUTES)
        R._speech_plan(spec, R.plan_episodes(spec), cache)  # noqa: SLF001 - the generator's own plan
    R.claims_sound(test_cache / "realistic")
    differ = []
    for key, (text, args) in sorted(used.items()):
        fresh = R.espeak_synthesize(text, work=tmp_path, **args)
        if fresh != (cache / f"espeak-{key}.wav").read_bytes():
            differ.append(f"espeak-{key}.wav {text!r} {args}")
    print(f"\n{len(used)} espeak lines checked in {time.perf_counter() - t0:.1f} s; differ: {differ}")
    assert len(used) > 300
    assert not differ, "cached espeak lines differ from a fresh synthesis (delete them and the streams built on them)"


@pytest.mark.slow
def test_two_builds_of_a_stream_are_the_same_bytes(tmp_path: Path) -> None:
    """Two builds of one seed in separate folders (each with its own espeak-ng cache) give the same
    files, byte for byte: the video, the sound, the truth, the chat and the pages. The figures of the
    stream tests are only comparable between clones when it holds. With libx264 on two threads
    (GENERATOR_VERSION 1) this test failed on 1 of 3 runs, and four encodes of the same 80 s of
    rendered frames gave four bitstreams; on one thread all were the same."""
    spec = R.StreamSpec(seed=7, minutes=1.0)
    t0 = time.perf_counter()
    builds = [R.build_stream(tmp_path / name, spec) for name in ("a", "b")]
    took = time.perf_counter() - t0
    digests = [{str(f.relative_to(st.folder)): hashlib.sha256(f.read_bytes()).hexdigest()[:16]
                for f in sorted(st.folder.rglob("*")) if f.is_file()} for st in builds]
    print(f"\ntwo builds of a {spec.minutes * 60:.0f}-s stream in {took:.1f} s: {digests[0]}")
    assert "stream.mp4" in digests[0] and "truth.json" in digests[0]
    assert digests[0] == digests[1]


# ----------------------------------------------------------------------------- claims, real ASR
@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="issue 14 not met yet: 4/6 planted mismatches (target 0.9), 0 across "
                   "products; 羊绒 and 十八K金 are lost to ASR (heard 洋种, 18斤灯). 3/6 on an AMD EPYC "
                   "(AVX2) host 2026-12-02, where the record also heard 天丝 as 天资")
def test_spec_mismatches_only_against_the_product_talked_about(test_cache: Path, tmp_path: Path) -> None:
    """Five products, each with a page contradicting the host, in one 4-minute sound track (1.2x host
    over music in a room, a second speaker's ordinary talk): real Whisper, the card's link badge
    as OCR would read it, the claims detector. Every planted mismatch should be found, each only
    against its own product's page (a 天丝 claim must not meet the coat page's 羊毛)."""
    from lsforensics.asr.transcribe import TranscribeOptions, Transcriber
    from lsforensics.case import atomic_write_json
    from lsforensics.claims.stage import run_pages
    from lsforensics.detect.stage import load_detectors
    from lsforensics.pipeline import key_terms

    wav, eps, lines = R.claims_sound(test_cache / "realistic")
    cached = wav.with_name("transcript.json")
    terms = key_terms()[0]
    if not cached.exists():  # the record of this audio is a pure function of it and the model
        tr = Transcriber(None, TranscribeOptions(language="zh"), terms).transcribe_file(wav)
        cached.write_text(json.dumps(tr.to_dict(), ensure_ascii=False), encoding="utf-8")
    case = Case(tmp_path / "case")
    case.create()
    atomic_write_json(case.source_json, {"sha256": "0" * 64, "probe": {}})
    atomic_write_json(case.transcript_json, json.loads(cached.read_text(encoding="utf-8")))
    ocr = []
    for ep in eps:  # the product card's badge, every 2 s while the product is on sale
        t = ep.start + 1.0
        while t < ep.end:
            ocr.append({"frame": f"media/frames/{int(t * 1000):09d}.jpg", "t": round(t, 2), "text": f"{ep.link}号",
                        "box": [470, 750, 40, 20], "score": 0.99})
            t += 2.0
    atomic_write_json(case.ocr_json, ocr)
    pages = []
    for ep in eps:
        p = tmp_path / f"page_link{ep.link:02d}.json"
        p.write_text(json.dumps(ep.page, ensure_ascii=False), encoding="utf-8")
        pages.append(p)
    run_pages(case, pages)
    run_stage(case, DetectStage(detectors=[d for d in load_detectors() if d.name.startswith(("text.", "claims."))]))
    findings = case.read_json(case.findings_json)["findings"]
    truth = {"duration": eps[-1].end, "episodes": [{**e.__dict__} for e in eps], "lines": lines, "samples": []}
    s = score(truth, findings)
    print("\n" + s.table() + "\n  " + "\n  ".join(x for x in s.false_items if x.startswith("spec")))
    for f in findings:
        if f["kind"] == "spec_mismatch":
            print(f"  {f['start']:.1f}s {f['claim']['value']} vs {f['spec']['value']} [{f['spec']['page']}] ({f.get('about')})")
    found, planted = s.recall["spec_mismatch"]
    assert planted >= 5
    assert s.cross_product == 0
    assert found / planted >= 0.9, s.recall["spec_mismatch"]
