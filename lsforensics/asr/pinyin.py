"""Pinyin closeness for term recovery.

Uses the shared ``lsforensics.text.pinyin`` (text engineer) when present so the detector and the
ASR agree on what "phonetically close" means; otherwise a local pypinyin implementation with the
same contract: toneless syllables per character, fuzzy initials (zh/z, ch/c, sh/s, n/l, f/h, r/l)
and finals (-n/-ng).
"""

from __future__ import annotations

import functools
import re

try:  # pragma: no cover - depends on which modules exist in the tree
    from ..text.pinyin import syllable_similarity as _shared_similarity
    from ..text.pinyin import to_pinyin as _shared_to_pinyin
except ImportError:  # the text package is optional for the ASR
    _shared_to_pinyin = None
    _shared_similarity = None

_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c",
             "s", "y", "w")
_FUZZY_INITIAL = {"zh": "z", "ch": "c", "sh": "s", "l": "n", "h": "f", "r": "n"}
_DIGITS = {"0": "ling", "1": "yi", "2": "er", "3": "san", "4": "si", "5": "wu", "6": "liu", "7": "qi", "8": "ba",
           "9": "jiu"}


@functools.cache
def _pinyin_char(ch: str) -> str:
    from pypinyin import Style, lazy_pinyin

    if ch in _DIGITS:
        return _DIGITS[ch]
    out = lazy_pinyin(ch, style=Style.NORMAL, errors=lambda x: [x.lower()])
    return out[0] if out else ch.lower()


def to_pinyin(text: str) -> list[str]:
    """Toneless syllables, one per character (Latin letters/digits of e.g. "18K" one each)."""
    chars = [ch for ch in text if not ch.isspace() and not _is_punct(ch)]
    if _shared_to_pinyin is not None:
        # The shared function reads CJK runs in context (polyphones) and gives None for Latin
        # letters; a letter then stands for itself ("H家" -> ["h", "jia"]).
        syl = list(_shared_to_pinyin("".join(chars)))
        if len(syl) == len(chars):
            return [s or c.lower() for s, c in zip(syl, chars, strict=True)]
    return [_pinyin_char(ch) for ch in chars]


def _is_punct(ch: str) -> bool:
    return bool(re.match(r"[\W_]", ch)) and not ch.isalnum()


def _split(s: str) -> tuple[str, str]:
    for ini in _INITIALS:
        if s.startswith(ini) and len(s) > len(ini):
            return ini, s[len(ini):]
    return "", s


def _norm(s: str) -> tuple[str, str]:
    ini, fin = _split(s)
    ini = _FUZZY_INITIAL.get(ini, ini)
    if fin.endswith("ng"):
        fin = fin[:-1]
    return ini, fin


def _syllable_score(a: str, b: str) -> float:
    if a == b:
        return 1.0
    ia, fa = _norm(a)
    ib, fb = _norm(b)
    if (ia, fa) == (ib, fb):
        return 0.9
    if fa == fb or (ia == ib and (fa in fb or fb in fa)):
        return 0.5
    return 0.0


def syllable_similarity(a: list[str], b: list[str]) -> float:
    """Mean per-position score for equal lengths; 0 for lengths that differ by more than one."""
    if _shared_similarity is not None:
        return float(_shared_similarity(a, b))
    if not a or not b:
        return 0.0
    if len(a) != len(b):
        # A dropped/inserted syllable: best alignment of the shorter inside the longer, penalised.
        short, long_ = (a, b) if len(a) < len(b) else (b, a)
        if len(long_) - len(short) > 1:
            return 0.0
        best = max(syllable_similarity(short, long_[:i] + long_[i + 1:]) for i in range(len(long_)))
        return best * len(short) / len(long_)
    return sum(_syllable_score(x, y) for x, y in zip(a, b, strict=True)) / len(a)


def fuzzy_equal(a: list[str], b: list[str], min_syllable: float = 0.85) -> bool:
    """Same number of syllables and each one equal once tones and the fuzzy pairs are ignored.

    Stricter than a high mean similarity: "的福利" scores 0.75 against "蒂芙尼" on the mean, but
    its first syllable differs, so it is not the same sound.
    """
    return len(a) == len(b) > 0 and all(syllable_similarity([x], [y]) >= min_syllable for x, y in zip(a, b, strict=True))
