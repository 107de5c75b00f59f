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

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}
_NUMERAL_RUN = re.compile(f"[{''.join(_CN_DIGITS)}{''.join(_CN_UNITS)}]+")


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
    out_c: list[str] = []
    out_i: list[int] = []
    n = len(chars)
    i = 0
    while i < n:
        ch = chars[i]
        if ch in _DODGE:
            j = i
            while j < n and chars[j] in _DODGE:
                j += 1
            if out_c and is_cjk(out_c[-1]) and j < n and is_cjk(chars[j]) and j - i <= _MAX_DODGE_RUN:
                i = j
                continue
            # Keep one plain space for word boundaries between latin words ("mirror quality").
            if any(c.isspace() for c in chars[i:j]) and all(c.isspace() for c in chars[i:j]):
                out_c.append(" ")
                out_i.append(index[i])
            else:
                out_c.extend(chars[i:j])
                out_i.extend(index[i:j])
            i = j
            continue
        out_c.append(ch)
        out_i.append(index[i])
        i += 1
    return out_c, out_i


@functools.lru_cache(maxsize=65536)
def _nfkc_lower(ch: str) -> str:
    return "" if ch in _ZERO_WIDTH else unicodedata.normalize("NFKC", ch).lower()


def normalize(text: str) -> NormText:
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        for c in _nfkc_lower(ch):
            chars.append(c)
            index.append(i)
    chars, index = _t2s_mapped(chars, index)
    chars, index = _drop_dodges(chars, index)
    return NormText("".join(chars), index, text)


def cn_numeral_value(run: str) -> int | None:
    """Value of a Chinese numeral run, or None when it holds no digit ("万能" stays text).

    Digit-only runs read digit by digit (一九九八 -> 1998); colloquial trailing digits take the
    next lower unit (三百九 -> 390, 两万五 -> 25000), as sellers say prices.
    """
    if not any(c in _CN_DIGITS for c in run) and run != "十" and not run.startswith("十"):
        return None
    if all(c in _CN_DIGITS for c in run):
        return int("".join(str(_CN_DIGITS[c]) for c in run))
    total = 0  # completed groups of 万/亿
    section = 0
    digit: int | None = None
    last_unit = 0
    zero = False  # 一百零五 = 105: after 零 a trailing digit is a plain unit digit
    for c in run:
        if c in _CN_DIGITS:
            digit = _CN_DIGITS[c]
            zero = zero or digit == 0
            continue
        unit = _CN_UNITS[c]
        if unit >= 10_000:
            section = (section + (digit or 0)) * unit
            total += section
            section = 0
        else:
            section += (digit if digit is not None else 1) * unit
        digit = None
        zero = False
        last_unit = unit
    if digit is not None and zero:
        return total + section + digit
    if digit is not None:
        # 三百九 = 390: a bare trailing digit after a unit counts in the next lower unit.
        section += digit * (last_unit // 10 if last_unit >= 100 and last_unit < 10_000 else 1)
        if last_unit >= 10_000:
            section = digit * (last_unit // 10)
    return total + section


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
