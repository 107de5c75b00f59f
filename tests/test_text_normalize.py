"""Normalisation, numerals and pinyin similarity (issue 4: matching robust to ASR and dodges)."""

from __future__ import annotations

import pytest

from lsforensics.text.normalize import cn_numeral_value, normalize, numeric
from lsforensics.text.pinyin import fold, syllable_similarity, to_pinyin


@pytest.mark.parametrize(("raw", "norm"), [
    ("這款「小 香」的包包", "这款「小香」的包包"),  # t2s + a space between CJK removed
    ("高.仿", "高仿"), ("驴 牌", "驴牌"), ("原*版", "原版"), ("复 - 刻", "复刻"), ("高\u200b仿", "高仿"),
    ("ＬＶ包", "lv包"), ("Mirror  Quality", "mirror quality"), ("鋁牌", "铝牌"), ("專櫃品質", "专柜品质"),
])
def test_normalize(raw: str, norm: str) -> None:
    assert normalize(raw).text == norm


def test_sentence_punctuation_is_kept_as_a_boundary() -> None:
    # A comma between two words must not be removed, or terms would match across sentences.
    assert normalize("原，版").text == "原,版"


def test_offsets_map_back_to_the_original() -> None:
    raw = "今天 這款高.仿ＬＶ 包"
    nt = normalize(raw)
    i = nt.text.index("高仿")
    assert nt.original_text(i, i + 2) == "高.仿"
    j = nt.text.index("lv")
    assert nt.original_text(j, j + 2) == "ＬＶ"


@pytest.mark.parametrize(("run", "value"), [
    ("三百九", 390), ("两万五", 25000), ("十八", 18), ("一百零五", 105), ("二十万", 200000),
    ("一亿两千万", 120_000_000), ("一", 1), ("一九九八", 1998), ("十", 10), ("万", None), ("两千", 2000),
])
def test_chinese_numerals(run: str, value: int | None) -> None:
    assert cn_numeral_value(run) == value


def test_numeric_layer_keeps_offsets() -> None:
    nt = numeric(normalize("专柜价两万多，今天只要三百九 一比一"))
    assert "20000多" in nt.text and "390" in nt.text and "1比1" in nt.text
    i = nt.text.index("390")
    assert nt.original_text(i, i + 3) == "三百九"


def test_pinyin_per_character_and_digits() -> None:
    assert to_pinyin("小箱") == ["xiao", "xiang"]
    assert to_pinyin("1比1") == ["yi", "bi", "yi"]
    assert to_pinyin("LV包")[:2] == [None, None]
    assert len(to_pinyin("银行行走")) == 4


def test_fuzzy_folding() -> None:
    assert fold("zhang") == fold("zan") == "zan"
    assert fold("niu") == fold("liu")
    assert fold("fu") == fold("hu")
    assert fold("shi") == fold("si")
    assert fold("ying") == "yin" and fold("long") == "long"


def test_syllable_similarity_orders_errors() -> None:
    same = syllable_similarity(to_pinyin("一筆衣服刻"), to_pinyin("一比一复刻"))  # ASR homophones
    fuzzy = syllable_similarity(to_pinyin("牢历思"), to_pinyin("劳力士"))  # sh/s fold
    garbled = syllable_similarity(to_pinyin("和原版萤幕一样"), to_pinyin("和原版一模一样"))
    unrelated = syllable_similarity(to_pinyin("今天天气"), to_pinyin("一比一复刻"))
    print(f"similarity same={same:.2f} fuzzy={fuzzy:.2f} garbled={garbled:.2f} unrelated={unrelated:.2f}")
    assert same == 1.0
    assert 0.9 <= fuzzy < 1.0
    assert 0.6 < garbled < 1.0
    assert unrelated < 0.3
    assert syllable_similarity(to_pinyin("小香"), to_pinyin("小香包")) < 1.0  # unequal lengths align
