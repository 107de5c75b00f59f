"""Matching against the shipped rules: exact, pinyin, fuzzy, context, exceptions, sources.

The labelled set (tests/data/text/) is the acceptance measure of issue 4: recall on positives
(including ASR-error variants) and false findings per 1,000 clean sentences, with the 1,200
real Bilibili danmaku as extra negatives.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lsforensics.chat import read_chat
from lsforensics.rules import load_rules
from lsforensics.text.lexicon import build_lexicon, key_terms
from lsforensics.text.match import Matcher
from lsforensics.text.pinyin import _to_pinyin

DATA = Path(__file__).resolve().parent / "data" / "text"


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.fixture(scope="module")
def matcher(rules) -> Matcher:
    return Matcher(build_lexicon(rules))


def _found(matcher: Matcher, text: str, source: str = "speech") -> list[tuple[str, str, str, str]]:
    return [(m.entry.kind, m.entry.term, m.matched, m.method) for m in matcher.find(text, source)]


def _positives() -> list[tuple[str, str, str]]:
    rows = []
    for raw in (DATA / "positives.tsv").read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.startswith("#"):
            text, source, rule = raw.split("\t")[:3]
            rows.append((text, source, rule))
    return rows


def _clean() -> list[str]:
    return [s for s in (DATA / "clean.txt").read_text(encoding="utf-8").splitlines() if s.strip() and not s.startswith("#")]


def test_rule_set_size(rules) -> None:
    lex = build_lexicon(rules)
    brands = {e.brand for e in lex.entries if e.brand}
    slang = {e.term for e in lex.entries if e.kind == "counterfeit_slang"}
    english = {t for t in slang if t.isascii()}
    coded = {e.brand for e in lex.entries if e.kind == "brand_codeword"}
    print(f"brands={len(brands)} with code-words={len(coded)} slang_terms={len(slang)} english_slang={len(english)} "
          f"entries={len(lex.entries)}")
    assert len(coded) >= 80  # issue 13: at least 80 brands with code-words
    assert len(slang) >= 80
    assert {"replica", "mirror quality", "aaa", "dupe", "ua", "1:1"} <= {t.lower() for t in slang}
    for e in lex.entries:
        assert e.severity in ("high", "medium", "low") and e.explanation_zh and e.explanation_en and e.law
    assert all(lex.brands[b]["retail_cny"] for b in brands)


def test_labelled_set_recall_and_false_findings(matcher: Matcher, realdata: Path) -> None:
    positives = _positives()
    clean = _clean()
    asr_variants = sum(1 for raw in (DATA / "positives.tsv").read_text(encoding="utf-8").splitlines()
                       if raw.count("\t") >= 3 and "ASR" in raw.split("\t")[3])
    missed = []
    for text, source, rule in positives:
        rules_found = [m.entry.rule for m in matcher.find(text, source)]
        if not any(r == rule or r.startswith(rule + ".") for r in rules_found):
            missed.append((text, rule, rules_found))
    recall = 1 - len(missed) / len(positives)
    false_clean = sum(len(matcher.find(s, "speech")) for s in clean)
    danmaku = read_chat(realdata / "chat_bilibili_danmaku01.xml")
    youtube = read_chat(realdata / "chat_youtube_livechat_replay.json")  # 48 multilingual messages
    false_chat = [(m.text, _found(matcher, m.text, "chat")) for m in danmaku + youtube if matcher.find(m.text, "chat")]
    negatives = len(clean) + len(danmaku) + len(youtube)
    per_1000 = 1000 * (false_clean + sum(len(f) for _, f in false_chat)) / negatives
    print(f"positives={len(positives)} (ASR-error variants {asr_variants}) recall={recall:.3f} missed={missed}")
    print(f"clean={len(clean)} false_findings={false_clean}; danmaku+youtube={len(danmaku) + len(youtube)} "
          f"false_findings={false_chat}")
    print(f"false findings per 1000 negatives = {per_1000:.2f}")
    assert len(positives) >= 150 and len(clean) >= 300 and len(danmaku) == 1200 and asr_variants >= 25
    assert recall >= 0.9
    assert per_1000 <= 3.0
    assert 1000 * false_clean / len(clean) <= 3.0


def test_asr_variants_are_recovered_by_sound(matcher: Matcher) -> None:
    # The homophones Whisper base actually wrote on the shared TTS lines (KNOWN.md).
    cases = {
        "這款小箱的包包今天福利價": ("小香", "小箱"),
        "我们家的鋁牌老花包": ("驴牌", "鋁牌"),
        "我们家都是一筆衣服刻的": ("一比一复刻", "一筆衣服刻"),
        "细节全部兌版，老花包": ("对版", "兌版"),
        "这双鞋子是譜填純緣": ("莆田纯原", "譜填純緣"),
        "專貴品質，放心拍": ("专柜品质", "專貴品質"),
        "迪加的这款老花托特包": ("迪家", "迪加"),
    }
    for text, (term, heard) in cases.items():
        found = _found(matcher, text)
        assert any(t == term and m == heard and how == "pinyin" for _, t, m, how in found), (text, found)
        hit = next(m for m in matcher.find(text) if m.entry.term == term)
        assert 0.5 < hit.confidence < 0.95  # below an exact match


def test_fuzzy_long_phrase(matcher: Matcher) -> None:
    found = _found(matcher, "和原版螢幕一樣")
    assert ("counterfeit_slang", "和原版一模一样", "和原版螢幕一樣", "fuzzy") in found


def test_context_does_not_leak_between_texts(matcher: Matcher) -> None:
    # Regression: a product word of an earlier, longer text once gave context to a later one.
    assert _found(matcher, "老花的托特包今天只要三百九，包包包包包包")
    assert _found(matcher, "aaa", "chat") == []


def test_garbled_four_syllable_phrase_needs_context(matcher: Matcher) -> None:
    assert ("counterfeit_slang", "专柜品质", "珍贵品质", "fuzzy") in _found(matcher, "原单尾货，珍贵品质，懂的都懂")
    assert _found(matcher, "珍贵品质的回忆") == []


def test_ordinary_words_are_not_terms_by_sound(matcher: Matcher) -> None:
    # Each sounds like a term (老花, 对版, 小香, 高仿) and sits next to a product word.
    for text in ("这个包的皮质不会老化", "这个包包对半折也不会有折痕", "小巷里的包包店", "这款包包是高防的材质"):
        assert _found(matcher, text) == [], text
    # With brand or slang evidence nearby the same kind of sound match stands.
    assert ("counterfeit_slang", "对版", "堆版", "pinyin") in _found(matcher, "我们家的老花包，细节全部堆版")


def test_sound_match_respects_word_boundaries(matcher: Matcher) -> None:
    # 小相 in 大小相同 sounds like 小香 but cuts through two words.
    assert _found(matcher, "这两个包包大小相同，价格三百九") == []
    # jieba keeps 代加工 (a rare word) whole; its 加工 crosses the span, so 代加 is no 戴家 (Dyson).
    assert [k for k, *_ in _found(matcher, "我们厂给大牌运动鞋代加工十几年，莆田货", "screen")] \
        == ["counterfeit_slang"]
    # A rare word that holds no frequent word across the span still does not hide a code-word.
    assert ("brand_codeword", "小香", "小箱", "pinyin") in _found(matcher, "小箱的包包是原版的")


def test_a_full_brand_name_is_no_code_word_of_itself(matcher: Matcher) -> None:
    # 江诗 and 百达翡 are code-words, but inside the full name they are the name, said once.
    for text, name in (("这块江诗丹顿的表是原单", "江诗丹顿"), ("百达翡丽手表一比一", "百达翡丽")):
        kinds = [(k, t) for k, t, _, _ in _found(matcher, text)]
        assert ("brand_mention", name) in kinds
        assert not any(k == "brand_codeword" for k, _ in kinds), kinds
    # Said alone, the code-word still counts.
    assert any(k == "brand_codeword" for k, *_ in _found(matcher, "这块江诗的表是原单"))


def test_ambiguous_code_words_need_their_context(matcher: Matcher) -> None:
    assert _found(matcher, "这件衬衫是纯棉的，颜色很百搭") == []  # a shirt is no watch context
    assert _found(matcher, "这个椰子是海南的，椰子水特别清甜，今天九块九") == []  # a price is not enough
    assert any(t == "百搭" for _, t, _, _ in _found(matcher, "百搭这块表的机芯是自动的"))
    assert any(t == "椰子" for _, t, _, _ in _found(matcher, "椰子的鞋底特别软"))
    m = next(m for m in matcher.find("椰子的鞋底特别软") if m.entry.term == "椰子")
    assert m.context == "鞋底" and m.entry.brand == "Yeezy" and m.confidence < 0.95
    # The longer code-word wins over the ambiguous one inside it.
    assert [t for _, t, _, _ in _found(matcher, "这双椰子鞋码偏小")] == ["椰子鞋"]


def test_exceptions_and_sources(matcher: Matcher) -> None:
    assert _found(matcher, "第一次来直播间的宝宝先领券") == []
    assert _found(matcher, "你最好先领券再下单") == []
    assert _found(matcher, "这个产品不能代替药物治疗") == []
    # Viewers are not advertisers: absolutes count in speech and on screen, not in chat.
    assert _found(matcher, "全网最好", "chat") == []
    assert _found(matcher, "全网最好", "screen")
    # Viewer doubts are chat-only.
    assert _found(matcher, "是正品吗", "speech") == []
    assert _found(matcher, "是正品吗", "chat")[0][0] == "viewer_doubt"


def test_latin_terms_need_word_boundaries(matcher: Matcher) -> None:
    assert _found(matcher, "lv6的大佬来了", "chat") == []
    assert _found(matcher, "11:15开播", "screen") == []
    assert ("counterfeit_slang", "1:1", "1:1", "exact") in _found(matcher, "原版1:1¥199", "screen")


def test_offsets_quote_the_original_text(matcher: Matcher) -> None:
    text = "今天這款高.仿的驢 牌包"
    for m in matcher.find(text):
        assert text[m.start:m.end] == m.matched
    assert {m.matched for m in matcher.find(text)} == {"高.仿", "驢 牌"}


def test_key_terms_for_asr(rules) -> None:
    terms = key_terms(rules)
    print(f"key_terms={len(terms)}")
    assert {"小香", "驴牌", "一比一复刻", "莆田纯原", "香奈儿"} <= set(terms)
    assert "椰子" not in terms and "是正品吗" not in terms and "replica" not in terms
    assert len(terms) == len(set(terms))


def test_speed_20000_characters(matcher: Matcher) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from detect import corpus  # the benchmark's text: shuffled labelled sentences

    text = corpus(20000)
    matcher.find("。".join(_clean()[:20]))  # load jieba and pinyin tables
    _to_pinyin.cache_clear()  # no help from having seen these sentences
    c0, t0 = time.process_time(), time.perf_counter()
    found = matcher.find(text, "speech")
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    print(f"20000 chars: cpu {cpu:.3f} s, wall {wall:.3f} s (shared cores), {len(found)} matches")
    assert len(found) > 300
    # CPU time, not wall: the target is the work done; wall time on 2 shared cores is noise.
    assert cpu < 1.0


def test_holdout_set(matcher: Matcher) -> None:
    """Sentences written after tuning and never used to change a rule: the honest estimate."""
    rows = [r.split("\t") for r in (DATA / "holdout.tsv").read_text(encoding="utf-8").splitlines()
            if r.strip() and not r.startswith("#")]
    pos = [r for r in rows if r[2] != "-"]
    neg = [r for r in rows if r[2] == "-"]
    hits = sum(any(m.entry.rule == rule or m.entry.rule.startswith(rule) for m in matcher.find(t, src))
               for t, src, rule in pos)
    false = sum(len(matcher.find(t, src)) for t, src, _ in neg)
    print(f"holdout: recall {hits}/{len(pos)} = {hits / len(pos):.2f}, false findings {false} in {len(neg)} clean")
    assert hits / len(pos) >= 0.8  # measured 0.88 (22/25)
    assert false <= 1  # measured 0
