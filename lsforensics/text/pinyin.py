"""Pinyin closeness, the project's one copy: the text matcher, the claims ontology and the ASR
term recovery all use it, so "sounds the same" means one thing everywhere.

Pinyin utilities for matching ASR homophones (小香 heard as 小箱, 驴牌 as 鋁牌).

Whisper on Mandarin mostly errs by writing another character with the same or a near sound.
Comparing toneless syllables with the usual confusions folded (zh/z, ch/c, sh/s, n/l, f/h,
-n/-ng) recovers most such errors; ``syllable_similarity`` grades them so a finding's confidence
says how close the heard text was.
"""

from __future__ import annotations

import functools
import re

from pypinyin import Style, lazy_pinyin

from .normalize import is_cjk

# How digits are read aloud, so "1比1" and "一比一" share a pinyin.
_DIGIT_READING = {"0": "ling", "1": "yi", "2": "er", "3": "san", "4": "si", "5": "wu", "6": "liu", "7": "qi",
                  "8": "ba", "9": "jiu"}
_INITIAL_FOLD = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("f", "h"))
_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z",
             "c", "s", "y", "w")


def to_pinyin(text: str) -> list[str | None]:
    return list(_to_pinyin(text))


@functools.lru_cache(maxsize=16384)
def _to_pinyin(text: str) -> tuple[str | None, ...]:
    """Toneless syllable per character (``None`` for characters without a reading: latin, punctuation).

    CJK runs are converted as a whole so pypinyin's phrase table picks polyphone readings from
    context (银行 -> hang, 行走 -> xing).
    """
    out: list[str | None] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            syl = lazy_pinyin("".join(run), style=Style.NORMAL, errors="ignore")
            # pypinyin returns one syllable per CJK character; guard against surprises anyway.
            out.extend(syl if len(syl) == len(run) else [_one(c) for c in run])
            run.clear()

    for ch in text:
        if is_cjk(ch):
            run.append(ch)
            continue
        flush()
        out.append(_DIGIT_READING.get(ch))
    flush()
    return tuple(out)


def char_pinyin(text: str) -> list[str | None]:
    """Like ``to_pinyin`` but each character alone (its most common reading), about 50x faster.

    Used to scan long transcripts for sound-alike candidates: ASR writes the most common
    character for a sound, and the lexicon side is read the same way, so both agree.
    """
    return [_one(ch) if is_cjk(ch) else _DIGIT_READING.get(ch) for ch in text]


@functools.lru_cache(maxsize=65536)
def _one(ch: str) -> str | None:
    syl = lazy_pinyin(ch, style=Style.NORMAL, errors="ignore")
    return syl[0] if syl else None


def split_syllable(s: str) -> tuple[str, str]:
    for ini in _INITIALS:
        if s.startswith(ini) and len(s) > len(ini):
            return ini, s[len(ini):]
    return "", s


@functools.lru_cache(maxsize=8192)
def fold(s: str) -> str:
    """The syllable with fuzzy initials/finals folded: shang -> san, niu -> liu, feng -> hen."""
    ini, fin = split_syllable(s)
    for a, b in _INITIAL_FOLD:
        if ini == a:
            ini = b
            break
    if fin.endswith("ng") and fin not in ("ong", "iong"):
        fin = fin[:-1]  # ang/eng/ing -> an/en/in
    return ini + fin


@functools.lru_cache(maxsize=65536)
def _pair(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if fold(a) == fold(b):
        return 0.85
    ia, fa = split_syllable(fold(a))
    ib, fb = split_syllable(fold(b))
    if fa == fb or ia == ib:
        return 0.4  # half a syllable right: evidence, but weak
    return 0.0


def syllable_similarity(a: list[str], b: list[str]) -> float:
    """Similarity in [0, 1] of two syllable sequences: 1.0 identical, 0.85 per fuzzy-equal syllable.

    Unequal lengths are aligned by edit distance (insert/delete cost 1, substitution 1 - pair
    similarity) so "一筆衣服刻" (5) and "一比一复刻" (5) score high, "和原版萤幕一样" vs
    "和原版一模一样" scores lower but not zero.
    """
    if not a or not b:
        return 0.0
    if len(a) == len(b):
        return sum(_pair(x, y) for x, y in zip(a, b, strict=True)) / len(a)
    n, m = len(a), len(b)
    prev = [float(j) for j in range(m + 1)]
    for i in range(1, n + 1):
        cur = [float(i)] + [0.0] * m
        for j in range(1, m + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + 1 - _pair(a[i - 1], b[j - 1]))
        prev = cur
    return max(0.0, 1.0 - prev[m] / max(n, m))


def spoken_syllables(text: str) -> list[str]:
    """One syllable per spoken character, for comparing what was heard: CJK by its reading
    (phrase-aware), digits as read aloud, a Latin letter as itself ("H家" -> ["h", "jia"]);
    spaces and punctuation are not spoken and are left out."""
    chars = [ch for ch in text if not ch.isspace() and not _PUNCT.match(ch)]
    syl = to_pinyin("".join(chars))
    return [s or c.lower() for s, c in zip(syl, chars, strict=True)]


_PUNCT = re.compile(r"[^\w]|_")


def fuzzy_equal(a: list[str], b: list[str], min_syllable: float = 0.85) -> bool:
    """Same number of syllables and each one equal once tones and the fuzzy pairs are ignored.

    Stricter than a high mean similarity: "的福利" scores 0.75 against "蒂芙尼" on the mean, but
    its first syllable differs, so it is not the same sound.
    """
    return len(a) == len(b) > 0 and all(_pair(x, y) >= min_syllable for x, y in zip(a, b, strict=True))
