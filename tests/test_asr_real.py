"""Real-model accuracy and fabrication tests on real recordings and the shared TTS set.

No fakes: the shipped Whisper base (faster-whisper, int8), real audio from ../shared/realdata and
../shared/fixtures/tts_zh. Bounds are the values measured on this machine plus headroom; the
measured numbers are printed (run with -s).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from lsforensics.asr.audio import load_audio
from lsforensics.asr.chinese import to_simplified
from lsforensics.asr.pinyin import to_pinyin
from lsforensics.asr.transcribe import TranscribeOptions, Transcriber

TTS = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "tts_zh"

# Reference transcripts from MANIFEST.tsv. zh_funasr_asr_example's reference is the well-known
# asr_example_zh text; the manifest marks it unverified, the audio matches it word for word here.
ZH_CLIPS = {
    "zh_aishell1_BAC009S0764W0121.wav": "甚至出现交易几乎停滞的情况",
    "zh_aishell1_BAC009S0724W0121.wav": "广州市房地产中介协会分析",
    "zh_funasr_sample.wav": "我想问我在滨海新区有房",
    "zh_funasr_asr_example.wav": "欢迎大家来体验达摩院推出的语音识别模型",
    "zh_meeting_sales_TEST_MEETING_T0000000001_S00000.wav":
        "好首先说一下刚才这个经理说完的这个销售问题咱再说一下咱们的商场问题首先咱们商场上半年业这个先各部门儿汇报一下就是业绩",
    "zh_net_TEST_NET_Y0000000000_-KTKHdZ2fb8_S00000.wav": "我有的时候说不清楚你们知道吗",
}
EN_CLIPS = {
    "en_whisper_jfk.flac": "and so my fellow americans ask not what your country can do for you "
                           "ask what you can do for your country",
    "en_librispeech_1995-1837-0001.wav": "it was the first great sorrow of his life it was not so much the loss "
                                         "of the cotton itself but the fantasy the hopes the dreams built around it",
}
NO_SPEECH = ["video_countdown_silent_audio_in1.mp4", "video_bw_film_chaplin.mp4", "video_webm_big_buck_bunny_0_30.webm"]

# The key terms planted in each TTS line (test data, from lines.txt). The term list given to the
# recogniser is these plus the shipped lexicon's key terms when the text lexicon can build them.
PLANTED = {
    "zh_02.flac": ["小香", "原版"], "zh_03.flac": ["驴牌", "一比一", "复刻", "对版"], "zh_04.flac": ["天丝"],
    "zh_05.flac": ["羊绒"], "zh_06.flac": ["H家", "专柜"], "zh_07.flac": ["莆田纯原", "正品"],
    "zh_08.flac": ["最好", "第一"], "zh_09.flac": ["治疗"], "zh_10.flac": ["十八K金", "意大利"],
    "zh_14.flac": ["原单", "尾货", "专柜"], "zh_15.flac": ["迪家", "高仿", "最好"], "zh_16.flac": ["百搭"],
}


def key_terms() -> list[str]:
    terms = {t for ts in PLANTED.values() for t in ts}
    try:
        from lsforensics.rules import load_rules
        from lsforensics.text.lexicon import key_terms as lexicon_terms

        terms |= set(lexicon_terms(load_rules()))
    except Exception as exc:  # the text lexicon is another engineer's module; report, do not fail
        print(f"[asr] lexicon key terms unavailable ({type(exc).__name__}); using the planted terms only")
    return sorted(terms)


def said(term: str, reference: str) -> bool:
    """The term was said: verbatim, or the same toneless syllables (懂得都懂 for 懂的都懂)."""
    if norm(term) in norm(reference):
        return True
    t, r = to_pinyin(norm(term)), to_pinyin(norm(reference))
    return any(r[i:i + len(t)] == t for i in range(len(r) - len(t) + 1))


def norm(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", to_simplified(text).lower())


def edit_distance(a: list[str], b: list[str]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return prev[-1]


@pytest.fixture(scope="module")
def terms() -> list[str]:
    return key_terms()


def term_context():  # noqa: ANN201 - text.match.TermContext
    """The lexicon's context test for recovered short terms, as ``lsf analyze`` hands it to asr."""
    from lsforensics.pipeline import term_context as ctx
    from lsforensics.rules import load_rules

    return ctx(load_rules())


@pytest.fixture(scope="module")
def zh(terms) -> Transcriber:
    return Transcriber(None, TranscribeOptions(language="zh"), terms, term_context())


@pytest.mark.slow
def test_mandarin_cer_and_no_fabrication_on_real_speech(zh, terms, realdata):
    errs = total = 0
    for name, ref in ZH_CLIPS.items():
        t0 = time.monotonic()
        tr = zh.transcribe_array(load_audio(realdata / name))
        hyp = norm(tr.text)
        e = edit_distance(list(norm(ref)), list(hyp))
        errs, total = errs + e, total + len(norm(ref))
        print(f"[asr] {name}: CER {e / len(norm(ref)):.3f} ({time.monotonic() - t0:.1f}s) {hyp}")
        assert e / len(norm(ref)) <= 0.45, name
        assert tr.language == "zh"
        assert all(s.raw_text for s in tr.segments)
        # Fabrication: no key term in the record or among accepted candidates that was not said.
        invented = [t for t in terms if norm(t) in hyp and not said(t, ref)]
        accepted = [c.term for c in tr.candidates if c.accepted and not said(c.term, ref)]
        print(f"[asr]   fabricated terms: record {invented}, accepted candidates {accepted}; "
              f"candidates proposed {len(tr.candidates)}")
        assert invented == [] and accepted == [], name
    cer = errs / total
    print(f"[asr] Mandarin real-clip CER (t2s, punctuation removed): {cer:.3f} over {total} characters")
    assert cer <= 0.30  # measured 0.21 (see docs/asr.md)


@pytest.mark.slow
def test_english_wer(realdata):
    en = Transcriber(None, TranscribeOptions(language="auto"), [])
    for name, ref in EN_CLIPS.items():
        tr = en.transcribe_array(load_audio(realdata / name))
        hyp = re.sub(r"[^a-z' ]+", " ", tr.text.lower()).split()
        wer = edit_distance(ref.split(), hyp) / len(ref.split())
        print(f"[asr] {name}: language {tr.language} (p={tr.language_probability:.2f}) WER {wer:.3f}: {' '.join(hyp)}")
        assert tr.language == "en"
        assert wer <= 0.15, name


@pytest.mark.slow
@pytest.mark.parametrize("name", NO_SPEECH)
def test_no_hallucination_on_silence_and_music(zh, realdata, name):
    tr = zh.transcribe_array(load_audio(realdata / name))
    print(f"[asr] {name}: segments {[s.text for s in tr.segments]}, dropped {tr.dropped}, notes {tr.notes}")
    assert tr.segments == []
    assert [c for c in tr.candidates if c.accepted] == []


@pytest.mark.slow
def test_tts_key_term_recall_with_corroborated_recovery(zh, terms):
    lines = dict(ln.split("\t", 1) for ln in (TTS / "lines.txt").read_text(encoding="utf-8").splitlines() if "\t" in ln)
    planted_n = found_plain = found = 0
    fabricated: list[str] = []
    t0 = time.monotonic()
    for name, ref in lines.items():
        tr = zh.transcribe_array(load_audio(TTS / name))
        text = norm(tr.text)
        accepted = {c.term for c in tr.candidates if c.accepted}
        for t in PLANTED.get(name, []):
            planted_n += 1
            found_plain += t in text
            # a planted term inside a longer accepted term at that place counts (一比一 and 复刻 in 一比一复刻)
            found += t in text or any(t in a for a in accepted)
        fabricated += [f"{name}:{t}" for t in accepted if not said(t, ref)]
        fabricated += [f"{name}:{t}(record)" for t in terms if norm(t) in text and not said(t, ref)]
        refused = sorted({c.term for c in tr.candidates if not c.accepted})
        print(f"[asr] {name}: {text} | accepted {sorted(accepted)} refused {refused}")
    recall_plain, recall = found_plain / planted_n, found / planted_n
    print(f"[asr] TTS key-term recall: unbiased record alone {recall_plain:.3f}, with corroborated recovery "
          f"{recall:.3f} ({found}/{planted_n}); fabrications {fabricated}; {time.monotonic() - t0:.0f}s")
    # Measured 20/24 (record alone 8/24) on the machine of 2026-12-01 and 18/24 (record alone 7/24)
    # on a fresh machine of 2026-12-02 with the same code: the int8 decoder's arithmetic differs
    # with the CPU and the installed ctranslate2/numpy, and beam search amplifies it. The bar is the
    # lowest figure measured, so one more lost term fails; recovery must at least double the record.
    assert recall >= 0.75
    assert recall >= 2 * recall_plain
    assert fabricated == []


@pytest.mark.slow
def test_temperature_fallback_gives_the_same_words_whatever_was_decoded_before(zh, realdata):
    """A chunk whose decode falls back to sampling gives the same record after another such decode.

    CTranslate2's sampling generator lives in the model's worker thread and is seeded once, so
    without a fresh sampler per decode the second decode of the same sound drew other random
    numbers (measured on this window: 2, then 5, then 1 segments, all different). Mandarin decoding
    of English and German speech is a reliable way to make every temperature fail.
    """
    from lsforensics.asr.backends.base import DecodeOptions

    audio = load_audio(realdata / "en_de_multilingual.mp3")[20 * 16000: 26 * 16000]
    runs = []
    for _ in range(2):
        t0 = time.monotonic()
        segs, _speech = zh.backend.transcribe(audio, DecodeOptions(language="zh"))
        runs.append([(s.start, s.end, s.text, [(w.start, w.word) for w in s.words]) for s in segs])
        print(f"[asr] fallback window: sampled {zh.backend._sampled}, {len(segs)} segments "
              f"{[s.text for s in segs]} ({time.monotonic() - t0:.1f}s)")
        assert zh.backend._sampled  # the decode did sample: otherwise this test proves nothing
    assert runs[0] == runs[1]
