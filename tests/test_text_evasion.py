"""The matcher's mechanisms one by one: evasions (fillers, stutters, look-alike characters, 某 for
a character), gapped phrases and patterns, word boundaries, the product in play, negation,
counterfeit-only context, ordinals, and the sound-alike twins of short code-words.

Sentences here are written for the mechanism (none is taken from the real data); the real data
measures the whole in tests/test_text_realdata.py.
"""

from __future__ import annotations

import pytest

from lsforensics.detect.text import matcher_for
from lsforensics.rules import load_rules
from lsforensics.text.evasion import Variants, undo_evasions
from lsforensics.text.normalize import cn_int, cn_numeral_value, cn_small_int, plain, to_simplified


@pytest.fixture(scope="module")
def matcher():  # noqa: ANN201
    return matcher_for(load_rules())


def _found(matcher, text: str, source: str = "speech") -> list[tuple[str, str, str, str]]:  # noqa: ANN001
    return [(m.entry.kind, m.entry.term, m.matched, m.method) for m in matcher.find(text, source)]


def test_evasion_text_maps_back_and_says_what_it_undid() -> None:
    v = Variants(fillers=("某", "什么"), chars={"蕞": "最"})
    ev = undo_evasions("不一一不赖赖的", v)
    assert ev.text == "不一不赖的"
    assert ev.span(0, 4) == (0, 6)  # the quote keeps the trailing 赖赖
    assert any("repeated character '一'" in n for n in ev.evasions(0, 4))
    ev = undo_evasions("蓝某扣", v)
    assert ev.text == "蓝扣" and ev.inserted_filler(0, 2) and ev.span(0, 2) == (0, 3)
    assert undo_evasions("某些人", v).text == "某些人"  # a filler must sit between two characters
    ev = undo_evasions("蕞好", v)
    assert ev.text == "最好" and "'蕞' written for '最'" in ev.evasions(0, 2)[0]


@pytest.mark.parametrize(("text", "term", "matched"), [
    ("他跟蓝某扣是同一个加工厂出来的", "兰蔻", "蓝某扣"),  # 某 inserted + the sound of the name
    ("喝了不一一不赖赖的", "不依不赖", "不一一不赖赖"),  # stutter + sound
    ("成分温和，没有副母作用", "没有副作用", "没有副母作用"),  # 母 inserted
    ("可以帮你提高免某力", "提高免疫力", "提高免某力"),  # 某 in place of 疫
    ("这是蕞好的精华", "最好", "蕞好"),  # look-alike character
])
def test_evasions_are_found_and_named(matcher, text: str, term: str, matched: str) -> None:  # noqa: ANN001
    ms = [m for m in matcher.find(text, "speech") if m.entry.term == term]
    assert ms, (text, _found(matcher, text))
    m = ms[0]
    assert m.method == "evasion" and m.matched == matched and m.evasions, (text, m)
    assert text[m.start:m.end] == matched


def test_evasion_finding_explains_in_words(matcher) -> None:  # noqa: ANN001
    from lsforensics.detect.text import detect_speech

    tr = {"segments": [{"start": 0.0, "end": 3.0, "text": "成分温和，没有副母作用", "words": []}]}
    f = next(f for f in detect_speech(tr, matcher) if f.term == "没有副作用")
    assert f.match == "evasion" and f.matched == "没有副母作用"
    assert "Evasion: '没有副母作用' is '没有副作用'" in f.explanation and "'母' inserted" in f.explanation
    assert f.extra["evasion"]


def test_gapped_phrases_and_patterns(matcher) -> None:  # noqa: ANN001
    m = next(m for m in matcher.find("纯天然成分，没有任何的副作用") if m.entry.term == "没有…副作用")
    assert m.method == "exact" and m.matched == "没有任何的副作用" and m.gap == "任何的"
    assert not any(m.entry.term == "没有…副作用" for m in matcher.find("没有，副作用"))  # not across a clause
    assert not any(m.entry.term == "没有…副作用" for m in matcher.find("没有告诉你们的那些副作用"))  # gap > 4
    assert ("health_claim", "月瘦N斤", "月瘦8斤", "exact") in _found(matcher, "郑重承诺：月瘦8斤", "screen")
    assert ("health_claim", "不…反弹", "不对反弹", "exact") in _found(matcher, "停用绝不对反弹", "screen")


@pytest.mark.parametrize("text", ["如果家里有旧手机", "结果家人们都说好", "宝宝家人们晚上好，这件外套", "这个复古家具的包",
                                  "年纪家里的包", "咱们澳洲纯原装进口的鞋", "老花眼也看得清，这个包"])
def test_terms_never_cut_an_everyday_word(matcher, text: str) -> None:  # noqa: ANN001
    assert _found(matcher, text) == [], text


def test_viewer_doubt_keeps_its_token_boundary(matcher) -> None:  # noqa: ANN001
    assert _found(matcher, "明天放假的吧", "chat") == []
    assert _found(matcher, "这是假的吧", "chat")[0][0] == "viewer_doubt"
    assert _found(matcher, "买到假货了", "chat")[0][0] == "viewer_doubt"
    assert _found(matcher, "我们不卖假货", "chat") == []


@pytest.mark.parametrize("text", [
    "你们爱吗？这件衣服超好看",  # 爱吗 ~ 爱马 (Hermès): 爱 + the question particle
    "这件衣服挂在钩子上",  # 钩子 (Nike's swoosh) is a hook without the brand or slang
    "还有两三天就放假回老家了，这件外套",  # 老家 ~ 劳家 (Rolex): an everyday word
    "这件衣服成家了也能穿",  # 成家 ~ 橙家 (Hermès)
    "给你们做到一个保驾护航，这块表",  # 保驾 ~ 宝家 (Bvlgari), context only from its own sentence
    "这个骨架很结实",  # 骨架 ~ 古家 (Gucci)
    "喝点八加一，什么包都有",  # 八加 ~ 巴家 (Balenciaga): a numeral
])
def test_sound_twins_of_short_code_words(matcher, text: str) -> None:  # noqa: ANN001
    assert not any(k == "brand_codeword" for k, *_ in _found(matcher, text)), (text, _found(matcher, text))


def test_twins_still_found_with_their_brand_context(matcher) -> None:  # noqa: ANN001
    assert any(t == "钩子" for _, t, _, _ in _found(matcher, "钩子的鞋子一比一复刻"))
    assert ("brand_codeword", "小香", "小箱", "pinyin") in _found(matcher, "这款小箱的包包今天福利价")


def test_product_in_play_and_negation(matcher) -> None:  # noqa: ANN001
    assert _found(matcher, "这台制氧机是医用级的") == []  # a registered medical device may say so
    assert _found(matcher, "前面讲了这台血压计。今天下单送电池。而且是医用级别标准") == []  # the product in play
    assert _found(matcher, "这个硅胶奶嘴是医用级的")[0][1] == "医用级"
    assert _found(matcher, "没有办法让你马上看到立竿见影的效果") == []
    assert _found(matcher, "用了立竿见影")[0][1] == "立竿见影"
    assert _found(matcher, "这个不能治愈任何疾病") == []


def test_guarantees_need_a_counterfeit_hint(matcher) -> None:  # noqa: ANN001
    assert _found(matcher, "官方旗舰店，正品保障，假一罚十") == []
    assert ("absolute_claim", "假一赔十", "假一赔十", "exact") in _found(matcher, "高仿包包，假一赔十")


def test_first_as_ordinal_or_claim(matcher) -> None:  # noqa: ANN001
    for text in ("明天第一班物流就发", "第一节是碳纤维的", "第一，领券再下单", "点开第一个链接"):
        assert _found(matcher, text) == [], text
    assert ("absolute_claim", "销量第一", "销量第一", "exact") in _found(matcher, "常年稳居销量第一的牛肉干")
    assert _found(matcher, "它是第一家研发这个成分的品牌")[0][1] == "第一家"


def test_replica_grades_and_factory_codes(matcher) -> None:  # noqa: ANN001
    found = _found(matcher, "真标公司货，N厂出品的表，可过得物", "screen")
    terms = {t for _, t, _, _ in found}
    assert {"真标", "公司货", "可过得物"} <= terms and any(t.startswith("[字母]厂") for t in terms), found
    assert _found(matcher, "我们是A厂家直销", "screen") == []  # 厂家 is a manufacturer


def test_one_numeral_reader() -> None:
    assert cn_int("八百八") == (880, 10) and cn_int("两万五") == (25000, 1000) and cn_int("一千零八")[0] == 1008
    assert cn_numeral_value("千万") is None and cn_numeral_value("万能") is None and cn_numeral_value("十五") == 15
    assert cn_small_int("十八") == 18 and cn_small_int("18") == 18
    assert to_simplified("鋁牌") == "铝牌" and plain("１００％棉®") == "100%棉"
