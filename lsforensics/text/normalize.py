"""Text normalisation for matching, with a map back to the original characters.

Sellers and ASR both disguise terms: full-width letters, Traditional characters (Whisper base
often writes 鋁牌 for 驴牌), separators inserted to dodge platform filters ("高.仿", "驴 牌"),
and numbers written either way ("一比一" / "1比1"). Patterns and text go through the same
function, so a term matches whatever spelling either side used. Every normalised character
remembers the index of the original character it came from, so a finding can quote the text
exactly as it was said or shown (evidence must not be paraphrased).

Two layers:
- ``normalize`` -> NFKC, lower case, OpenCC t2s, dodge separators removed (``NormText``).
- ``numeric`` -> the same with Chinese numerals turned into digits ("三百九" -> "390"), used for
  a second exact pass and by price parsing.

This module is the project's one Chinese-text core for the other packages too: ``to_simplified``
(OpenCC t2s for the ASR output), ``plain`` (NFKC + t2s keeping offsets, for claims and pages) and
``cn_int`` / ``cn_numeral_value`` / ``cn_small_int`` (Chinese numerals for prices, percentages,
karats and the numeric layer). Pinyin closeness lives beside it in ``text/pinyin.py``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

# Separators a seller puts between the characters of a banned word. Sentence punctuation
# (，。！？；：) is not among them: it marks a real boundary and keeps terms from matching across it.
_DODGE = set(" \t\r\n\u3000.·•・*-_/\\|~`'\"^+=#@&、…")
_ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}
_MAX_DODGE_RUN = 3
_DODGE_RUN = re.compile("[" + re.escape("".join(sorted(_DODGE))) + "]+")
_ZERO_WIDTH_RE = re.compile("[" + "".join(sorted(_ZERO_WIDTH)) + "]")

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}
# The numeric layer turns only these into digits; prices also read 幺 (1, said for clarity) and 俩 (2).
_NUMERAL_RUN = re.compile(f"[{''.join(_CN_DIGITS)}{''.join(_CN_UNITS)}]+")
_SPOKEN_DIGITS = {**_CN_DIGITS, "幺": 1, "俩": 2}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_MARKS = str.maketrans({"®": None, "™": None, "©": None, "\u200b": None, "\ufeff": None})


def is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2FA1F or 0xF900 <= o <= 0xFAFF


@dataclass
class NormText:
    """Normalised text plus, per character, the index of its source character in ``original``."""

    text: str
    index: list[int]
    original: str

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) covering normalised [start, end)."""
        if end <= start:
            o = self.index[start] if start < len(self.index) else len(self.original)
            return o, o
        return self.index[start], self.index[end - 1] + 1

    def original_text(self, start: int, end: int) -> str:
        s, e = self.span(start, end)
        return self.original[s:e]


@functools.lru_cache(maxsize=1)
def _t2s():  # noqa: ANN202 - opencc has no type hints
    import opencc

    return opencc.OpenCC("t2s")


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


def to_simplified(text: str) -> str:
    """Traditional -> Simplified (OpenCC t2s with its phrase tables); other characters unchanged.

    Whisper base often writes Traditional characters for Mandarin; t2s alone halved the CER on
    AISHELL (KNOWN.md). Only Han characters change.
    """
    if not text or not has_han(text):
        return text
    return _t2s().convert(text)


def plain(text: str) -> str:
    """NFKC (full-width -> ASCII, ％ -> %), ®/™/zero-width marks dropped, Traditional -> Simplified
    where that keeps the length (so character offsets stay valid for quoting and timing).

    The light normalisation of claims and pages: no lower-casing, no separator removal.
    """
    out = unicodedata.normalize("NFKC", text).translate(_MARKS)
    simp = to_simplified(out)
    return simp if len(simp) == len(out) else out


def _t2s_mapped(chars: list[str], index: list[int]) -> tuple[list[str], list[int]]:
    converted = _t2s().convert("".join(chars))
    if len(converted) == len(chars):
        return list(converted), index
    # A phrase conversion changed the length (rare): convert character by character so the map holds.
    conv = _t2s().convert
    out_c: list[str] = []
    out_i: list[int] = []
    for ch, i in zip(chars, index, strict=True):
        for c in conv(ch):
            out_c.append(c)
            out_i.append(i)
    return out_c, out_i


def _drop_dodges(chars: list[str], index: list[int]) -> tuple[list[str], list[int]]:
    """Remove short separator runs that sit between two CJK characters ("高.仿" -> "高仿")."""
    text = "".join(chars)
    out_c: list[str] = []
    out_i: list[int] = []
    pos = 0
    for m in _DODGE_RUN.finditer(text):
        i, j = m.span()
        out_c.extend(chars[pos:i])
        out_i.extend(index[pos:i])
        pos = j
        if i > 0 and is_cjk(text[i - 1]) and j < len(text) and is_cjk(text[j]) and j - i <= _MAX_DODGE_RUN:
            continue
        if text[i:j].isspace():
            # Keep one plain space for word boundaries between latin words ("mirror quality").
            out_c.append(" ")
            out_i.append(index[i])
        else:
            out_c.extend(chars[i:j])
            out_i.extend(index[i:j])
    out_c.extend(chars[pos:])
    out_i.extend(index[pos:])
    return out_c, out_i


@functools.lru_cache(maxsize=65536)
def _nfkc_lower(ch: str) -> str:
    return "" if ch in _ZERO_WIDTH else unicodedata.normalize("NFKC", ch).lower()


def normalize(text: str) -> NormText:
    low = unicodedata.normalize("NFKC", text).lower()
    if len(low) == len(text) and not _ZERO_WIDTH_RE.search(text) and all(
            _nfkc_lower(a) == b for a, b in zip(text, low, strict=True) if a != b):
        # The common case (Chinese, full-width punctuation, ASCII): one character for one, checked
        # where the two differ, without building the text character by character.
        chars, index = list(low), list(range(len(text)))
    else:
        chars, index = [], []
        for i, ch in enumerate(text):
            for c in _nfkc_lower(ch):
                chars.append(c)
                index.append(i)
    chars, index = _t2s_mapped(chars, index)
    chars, index = _drop_dodges(chars, index)
    return NormText("".join(chars), index, text)


class NumeralError(ValueError):
    """A run of numeral characters that is not one number ("万万", "一二百")."""


def cn_int(s: str) -> tuple[int, int]:
    """Chinese numeral string -> (value, magnitude of its last unit); ``NumeralError`` if it is none.

    Digit-only runs read digit by digit (三九九 = 399, 一九九八 = 1998); a bare trailing digit after
    a unit counts in the next lower unit, as sellers say prices (八百八 = 880, 两万五 = 25000,
    三千五 = 3500); after 零 it is a plain unit digit (一千零八 = 1008). The magnitude tells a
    price reader what "多" adds (三万多: the last unit is 10000).
    """
    if s and all(c in _SPOKEN_DIGITS for c in s):
        return int("".join(str(_SPOKEN_DIGITS[c]) for c in s)), 1
    total = section = 0
    digit: int | None = None
    last_unit = 1
    zero_seen = False
    for c in s:
        if c in _SPOKEN_DIGITS:
            if _SPOKEN_DIGITS[c] == 0:
                zero_seen = True
                continue
            if digit is not None:
                raise NumeralError(f"cannot read {s!r}")
            digit = _SPOKEN_DIGITS[c]
        elif c in _SMALL_UNITS:
            u = _SMALL_UNITS[c]
            section += (digit if digit is not None else 1) * u
            digit, last_unit, zero_seen = None, u, False
        elif c in _BIG_UNITS:
            u = _BIG_UNITS[c]
            if digit is None and section == 0:
                raise NumeralError(f"cannot read {s!r}")  # "万万", "万" alone
            section += digit or 0
            total += (section or 1) * u
            section, digit, last_unit, zero_seen = 0, None, u, False
        else:
            raise NumeralError(f"cannot read {s!r}")
    if digit is not None:
        if last_unit > 1 and not zero_seen:
            section += digit * (last_unit // 10)
            last_unit = last_unit // 10
        else:
            section += digit
            last_unit = 1
    return total + section, last_unit


def cn_numeral_value(run: str) -> int | None:
    """Value of a Chinese numeral run, or None when it is not a number ("万能", "千万别" stay text)."""
    if not any(c in _SPOKEN_DIGITS for c in run) and not run.startswith("十"):
        return None
    try:
        return cn_int(run)[0]
    except NumeralError:
        return None


def cn_small_int(s: str) -> int | None:
    """'18', '十八', '二十二', '九' -> int (karats, small counts); None if it is not a number."""
    if s.isdigit():
        return int(s)
    return cn_numeral_value(s) if s else None


def numeric(nt: NormText) -> NormText:
    """``nt`` with Chinese numerals as digits; the index still points into the original text."""
    out_c: list[str] = []
    out_i: list[int] = []
    pos = 0
    for m in _NUMERAL_RUN.finditer(nt.text):
        # A run that was joined by removing a separator ("三百九 两万") is two numbers.
        cuts = [m.start()] + [k for k in range(m.start() + 1, m.end()) if nt.index[k] - nt.index[k - 1] > 1]
        for a, b in zip(cuts, cuts[1:] + [m.end()], strict=True):
            out_c.extend(nt.text[pos:a])
            out_i.extend(nt.index[pos:a])
            run = nt.text[a:b]
            value = cn_numeral_value(run)
            if value is None:
                out_c.extend(run)
                out_i.extend(nt.index[a:b])
            else:
                digits = str(value)
                # Spread the digits over the run's source characters so spans stay inside it.
                src = nt.index[a:b]
                for k, d in enumerate(digits):
                    out_c.append(d)
                    out_i.append(src[min(k * len(src) // len(digits), len(src) - 1)])
            pos = b
    out_c.extend(nt.text[pos:])
    out_i.extend(nt.index[pos:])
    return NormText("".join(out_c), out_i, nt.original)


def norm_key(term: str) -> str:
    """The normalised spelling of a rule term (lexicon keys, comparisons)."""
    return normalize(term).text.strip()
