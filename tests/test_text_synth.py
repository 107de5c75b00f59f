"""Issue 4 acceptance on the synthetic stream: real extract -> real transcription -> detect.

Every code-word and slang term planted in the shared TTS lines must be found with a time inside
the sentence that said it. Whisper base (unbiased) mishears many of them (小香 -> 小箱, 驴牌 ->
旅排, 高仿 -> 高方); they come back by sound, by the corroborated re-decoding, or not at all.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest

from lsforensics.asr.stage import TranscribeStage
from lsforensics.case import Case
from lsforensics.detect.stage import DetectStage
from lsforensics.pipeline import key_terms
from lsforensics.stage import run_stage
from lsforensics.vision.ocr import OcrStage

# (line number in lines.txt, rule) for each planted term; a rule listed twice needs two findings.
PLANTED = [
    (2, "brands/chanel.codewords"), (2, "slang/original_version"),
    (3, "brands/louis_vuitton.codewords"), (3, "brands/louis_vuitton.codewords"),  # 驴牌, 老花
    (3, "slang/one_to_one"), (3, "slang/matches_original"),
    (6, "brands/hermes.codewords"),  # H家
    (7, "slang/pure_original"), (7, "slang/indistinguishable"),
    (14, "slang/original_order"), (14, "slang/counter_quality"), (14, "slang/you_know"),
    (15, "brands/dior.codewords"), (15, "brands/louis_vuitton.codewords"), (15, "slang/high_imitation"),
]
# Whisper base drops the Latin letter of "H家" (it writes 这款家的皮带): nothing left to match.
KNOWN_ASR_LOSSES = {(6, "brands/hermes.codewords")}
# Whisper word timestamps of a sentence's first word often start in the silence before it.
TIME_TOLERANCE = 0.75


@pytest.fixture(scope="module")
def detected(extracted_case, synth_stream, tmp_path_factory):
    root = tmp_path_factory.mktemp("textsynth") / "case"
    shutil.copytree(extracted_case.root, root)
    case = Case(root)
    run_stage(case, TranscribeStage(terms=key_terms()[0]))
    run_stage(case, OcrStage())  # real PP-OCR on the sampled frames (about 45 s here)
    run_stage(case, DetectStage())
    return case, json.loads(case.findings_json.read_text(encoding="utf-8")), synth_stream


@pytest.mark.slow
def test_planted_terms_found_inside_their_sentence(detected) -> None:
    case, doc, stream = detected
    lines = stream.lines
    speech = [f for f in doc["findings"] if f["source"] == "speech"]
    found_total, missed, worst = 0, [], 0.0
    for n in sorted({n for n, _ in PLANTED}):
        line = lines[n - 1]
        want = Counter(r for m, r in PLANTED if m == n)
        lo, hi = line["start"] - TIME_TOLERANCE, line["end"] + TIME_TOLERANCE
        inside = [f for f in speech if f["start"] is not None and lo <= f["start"] and f["end"] <= hi]
        got = Counter(f["rule"] for f in inside)
        for rule, k in want.items():
            hit = min(k, got[rule])
            found_total += hit
            if hit < k:
                missed.append((n, rule))
        for f in inside:
            worst = max(worst, line["start"] - f["start"], f["end"] - line["end"])
    recall = found_total / len(PLANTED)
    print(f"planted={len(PLANTED)} found_in_sentence={found_total} recall={recall:.3f} missed={missed} "
          f"worst_time_overhang={worst:.2f}s")
    for f in speech:
        print(f"  {f['start']:7.2f}-{f['end']:7.2f} {f['kind']:<17} {f['term']:<8} heard={f['matched']:<8} "
              f"{f['match']:<8} {f['confidence']}")
    assert set(missed) <= KNOWN_ASR_LOSSES, missed
    assert recall >= (len(PLANTED) - len(KNOWN_ASR_LOSSES)) / len(PLANTED)


# Captions of the synthetic scenes (tests/synth.py SCENES) that carry a term, and the rule expected.
SCREEN_PLANTED = [(2, "slang/one_to_one"), (2, "slang/original_version_word"), (7, "slang/pure_original"),
                  (8, "adlaw/art9_3.history"), (9, "health/art17.diseases"), (14, "slang/original_order"),
                  (15, "brands/louis_vuitton.codewords")]


@pytest.mark.slow
def test_screen_terms_found_inside_their_scene(detected) -> None:
    _, doc, stream = detected
    screen = [f for f in doc["findings"] if f["source"] == "screen"]
    missed = []
    for n, rule in SCREEN_PLANTED:
        sc = stream.scenes[n - 1]
        ok = [f for f in screen if f["rule"] == rule and sc["start"] - 0.05 <= f["start"] <= f["end"] <= sc["end"] + 0.05]
        if not ok:
            missed.append((n, rule))
        for f in ok:
            assert f["bbox"] and f["evidence"] and f["evidence"][0].startswith("media/frames/")
    print(f"screen: planted={len(SCREEN_PLANTED)} missed={missed}")
    for f in screen:
        print(f"  {f['start']:7.2f}-{f['end']:7.2f} {f['kind']:<17} {f['term']:<8} quote={f['quote']}")
    assert missed == []
    # Clean captions (七天无理由退货, 库存最后50件 …) give nothing.
    clean_scenes = [stream.scenes[n - 1] for n in (1, 4, 11, 12, 13, 16)]
    assert not [f for f in screen if f["kind"] in ("brand_codeword", "counterfeit_slang", "absolute_claim")
                and any(sc["start"] <= f["start"] < sc["end"] for sc in clean_scenes)]


@pytest.mark.slow
def test_no_code_word_in_the_clean_lines(detected) -> None:
    """Lines 1, 4, 5, 11-13 and 16 plant nothing; line 16 says 百搭 about a shirt."""
    _, doc, stream = detected
    clean = [stream.lines[n - 1] for n in (1, 4, 5, 11, 12, 13, 16)]
    bad = [f for f in doc["findings"] if f["source"] == "speech" and f["kind"] in ("brand_codeword", "counterfeit_slang")
           and any(ln["start"] - 0.3 <= f["start"] <= ln["end"] for ln in clean)]
    assert bad == []


@pytest.mark.slow
def test_speech_findings_carry_evidence_and_explanations(detected) -> None:
    case, doc, _ = detected
    text_kinds = ("brand_codeword", "brand_mention", "counterfeit_slang", "absolute_claim", "health_claim")
    speech = [f for f in doc["findings"] if f["source"] == "speech" and f["kind"] in text_kinds]
    assert speech
    for f in speech:
        assert f["quote"] and f["matched"] and f["explanation"] and f["law"]
        assert 0 < f["confidence"] <= 1 and f["match"] in ("exact", "pinyin", "fuzzy", "redecode")
        for e in f["evidence"]:
            assert (case.root / e).is_file()
    assert doc["rules_sha256"] and doc["source_sha256"] == case.source["sha256"]
    # Rerunning detect with nothing changed is a no-op.
    assert run_stage(case, DetectStage()).skipped
