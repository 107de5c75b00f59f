"""Pinyin closeness for term recovery: the shared ``lsforensics.text.pinyin`` (one copy).

``to_pinyin`` here is what the recogniser's words sound like: one syllable per spoken character,
a Latin letter standing for itself ("H家" -> ["h", "jia"]).
"""

from __future__ import annotations

from ..text.pinyin import fuzzy_equal, syllable_similarity
from ..text.pinyin import spoken_syllables as to_pinyin

__all__ = ["fuzzy_equal", "syllable_similarity", "to_pinyin"]
