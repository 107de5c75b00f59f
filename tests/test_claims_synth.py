"""Claims on the synthetic livestream (tests/synth.py) with product pages written for it.

Planted in the stream (16 TTS lines, tests/synth.py SCENES):
  zh_04 "这个短裤是天丝面料"                   vs the shorts page "面料成分: 棉100%"       (material)
  zh_06 "H家的皮带…头层牛皮，专柜价格两万多，今天只要三百九" vs the belt page "材质: PU"  (leather, price)
  zh_10 "这款项链是十八K金的，意大利进口"        vs the necklace page "S925银镀金", "产地: 深圳" (metal, origin)
The transcript here is the ground truth of the synthetic audio (the text and times of each line)
and the OCR is the ground truth of the captions: the component under test is the claims
comparison, not ASR/OCR (their own tests measure those). The brand findings come from the real
text detector run in the same detect stage.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from lsforensics.case import Case, atomic_write_json
from lsforensics.claims.stage import run_pages
from lsforensics.detect.stage import DetectStage, load_detectors
from lsforensics.stage import run_stage

DATA = Path(__file__).resolve().parent / "data" / "claims"
PAGES = [DATA / "taobao_shorts.html", DATA / "douyin_belt.html", DATA / "jd_necklace.html"]
TOL = 0.5  # seconds: a finding must fall inside its line's speech (linear timing within a line)


def _case_with_truth(extracted_case: Case, synth_stream, dest: Path) -> Case:
    root = dest / "case"
    shutil.copytree(extracted_case.root, root)
    case = Case(root)
    segs = [{"start": ln["start"], "end": ln["end"], "text": ln["text"], "words": []} for ln in synth_stream.lines]
    atomic_write_json(case.transcript_json, {"schema": "lsf.transcript/1", "language": "zh", "backend": "ground-truth",
                                             "segments": segs})
    ocr = [{"frame": f"media/frames/{int(sc['start'] * 1000) + 500:09d}.jpg", "t": round(sc["start"] + 0.5, 3),
            "text": sc["caption"], "box": [0, 470, 960, 70], "score": 0.99} for sc in synth_stream.scenes]
    atomic_write_json(case.ocr_json, ocr)
    return case


def _line(synth_stream, file: str) -> dict:
    return next(ln for ln in synth_stream.lines if ln["file"] == file)


def _inside(f: dict, line: dict) -> bool:
    return line["start"] - TOL <= f["start"] <= line["end"] + TOL and f["end"] <= line["end"] + TOL


@pytest.mark.slow
def test_planted_contradictions_found_with_times(extracted_case, synth_stream, tmp_path):
    case = _case_with_truth(extracted_case, synth_stream, tmp_path)
    t0 = time.perf_counter()
    run_pages(case, PAGES)
    detectors = [d for d in load_detectors() if d.name.startswith(("text.", "claims."))]
    run_stage(case, DetectStage(detectors=detectors))
    elapsed = time.perf_counter() - t0
    findings = case.read_json(case.findings_json)["findings"]
    mine = [f for f in findings if f["kind"] in ("spec_mismatch", "price_anomaly")]
    for f in mine:
        print(f"{f['kind']:14} {f['source']:6} {f['start']!s:>8} {f['severity']:6} {f['confidence']:.2f} "
              f"{f.get('matched')} | {f['explanation'][:110]}")
    print(f"pages + detect: {elapsed:.2f}s, {len(mine)} claims findings of {len(findings)}")

    speech = [f for f in mine if f["source"] == "speech"]
    l04, l06, l10 = (_line(synth_stream, n) for n in ("zh_04.flac", "zh_06.flac", "zh_10.flac"))

    def one(pred, line, what):
        hits = [f for f in speech if pred(f) and _inside(f, line)]
        assert hits, f"{what} not found inside {line['start']}-{line['end']}s"
        return hits[0]

    fib = one(lambda f: f["kind"] == "spec_mismatch" and f["claim"]["value"] == "天丝", l04, "天丝 vs 棉100%")
    assert fib["spec"]["value"] == "棉100%" and fib["spec"]["page"].endswith("taobao_shorts.html")
    assert fib["severity"] == "high" and fib["certain"] is True
    lea = one(lambda f: f["kind"] == "spec_mismatch" and f["claim"]["value"] == "头层牛皮", l06, "头层牛皮 vs PU")
    assert lea["spec"]["value"] == "PU"
    met = one(lambda f: f["kind"] == "spec_mismatch" and f["claim"]["attribute"] == "precious_metal", l10, "18K vs 镀金")
    assert "镀金" in met["spec"]["value"]
    ori = one(lambda f: f["kind"] == "spec_mismatch" and f["claim"]["attribute"] == "origin", l10, "意大利 vs 深圳")
    assert ori["claim"]["value"] == "意大利" and "深圳" in ori["spec"]["value"]
    # the origin words come after the metal words in the line
    assert ori["start"] > met["start"]
    spoken = one(lambda f: f["kind"] == "price_anomaly" and f.get("reference_kind") == "spoken", l06, "两万多/三百九")
    assert spoken["price"] == 390 and spoken["reference"] == 20000 and spoken["ratio"] == pytest.approx(0.0195)
    assert spoken["severity"] == "high"
    # nothing else: every spec mismatch is one of the planted ones, on the right page
    expected = {("material", "01-taobao_shorts.html"), ("material", "02-douyin_belt.html"),
                ("precious_metal", "03-jd_necklace.html"), ("origin", "03-jd_necklace.html")}
    got = {(f["claim"]["attribute"], Path(f["spec"]["page"]).name) for f in mine if f["kind"] == "spec_mismatch"}
    assert got == expected
    # the H家 belt against the unbranded belt page: one brand_conflict (issue 14), not a spec mismatch
    conflicts = [(f["brand"], Path(f["spec"]["page"]).name) for f in findings if f["kind"] == "brand_conflict"]
    assert conflicts == [("Hermès", "02-douyin_belt.html")]
    assert {f["brand"] for f in mine if f["kind"] == "price_anomaly"} == {"Chanel", "Hermès"}
    # the material claims about other products (羊绒大衣, 纯棉衬衫) are not compared with these pages
    assert not [f for f in mine if f["kind"] == "spec_mismatch" and f["claim"]["value"] in ("纯羊绒", "纯棉")]
    # the same contradictions are on screen (captions), with their frames as evidence
    screen = [f for f in mine if f["source"] == "screen"]
    assert any(f["kind"] == "spec_mismatch" and f["claim"]["value"] == "天丝" and f["evidence"] for f in screen)
    assert any(f["kind"] == "spec_mismatch" and f["claim"]["attribute"] == "origin" for f in screen)
    # every consistent claim stays quiet: no finding on the shirt line (zh_16) or the welcome line
    l16 = _line(synth_stream, "zh_16.flac")
    assert not [f for f in speech if _inside(f, l16)]


@pytest.mark.slow
def test_claims_on_real_asr_transcript(extracted_case, synth_stream, tmp_path, lsf):
    """The same stream through the real `lsf transcribe` (Whisper base) and `lsf claims`.

    Whisper base mishears 天丝 as 天撕 and 意大利 as 一大力 (KNOWN.md): the claims extractor
    matches material and country terms by identical pinyin on speech, at lower confidence.
    Not asserted, because ASR loses it: 十八K金 is transcribed 十八斤等 (no metal claim left)."""
    root = tmp_path / "case"
    shutil.copytree(extracted_case.root, root)
    t0 = time.perf_counter()
    lsf("transcribe", "-C", root, "-q", check=True)
    t1 = time.perf_counter()
    args = [a for p in PAGES for a in ("--page", p)]
    proc = lsf("claims", "-C", root, *args, "--json", check=True)
    t2 = time.perf_counter()
    print(f"transcribe {t1 - t0:.1f}s, claims {t2 - t1:.1f}s")
    import json

    result = json.loads(proc.stdout)
    assert len(result["pages"]) == 3 and result["spec_mismatch"] >= 2  # 天丝 and 头层牛皮 (意大利: see below)
    findings = Case(root).read_json(Case(root).findings_json)["findings"]
    mine = [f for f in findings if f["kind"] in ("spec_mismatch", "price_anomaly")]
    for f in mine:
        print(f"{f['kind']:14} {f['source']:6} {f['start']!s:>8} {f['match']:7} {f['confidence']:.2f} {f.get('matched')} "
              f"| {f['explanation'][:100]}")
    l04, l06, l10 = (_line(synth_stream, n) for n in ("zh_04.flac", "zh_06.flac", "zh_10.flac"))
    fib = [f for f in mine if f["kind"] == "spec_mismatch" and f["claim"]["value"] == "天丝" and _inside(f, l04)]
    assert fib and fib[0]["match"] in ("exact", "pinyin") and fib[0]["spec"]["value"] == "棉100%"
    assert any(f["kind"] == "spec_mismatch" and f["claim"]["value"] == "头层牛皮" and _inside(f, l06) for f in mine)
    spoken = [f for f in mine if f["kind"] == "price_anomaly" and f.get("reference_kind") == "spoken"]
    assert spoken and _inside(spoken[0], l06) and spoken[0]["ratio"] == pytest.approx(0.0195)
    # 意大利进口 is said of the necklace, but Whisper base writes 项链 as 像恋 and the stream names
    # shorts, a belt, shoes and a serum too: with three pages nobody can tell which page the claim
    # is about, so it is compared with none (before the product episodes it was compared with the
    # belt's and the shorts' pages: two false findings). With the noun heard it is compared with
    # the necklace page only (tests/test_claims_episodes.py).
    ori = [f for f in mine if f["kind"] == "spec_mismatch" and f["claim"]["attribute"] == "origin"]
    assert all(f["spec"]["page"].endswith("jd_necklace.html") and _inside(f, l10) for f in ori), ori
    # no price made of a lone numeral, no finding outside the planted lines
    planted = (l04, l06, l10)
    assert all(any(_inside(f, ln) for ln in planted) for f in mine if f["source"] == "speech"), "unexpected finding"
