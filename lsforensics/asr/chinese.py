"""Simplified-Chinese output: Whisper base often writes Traditional characters for Mandarin.

OpenCC ``t2s`` (character-level with phrase tables) halves CER on AISHELL by itself (KNOWN.md).
Only Han characters change, so word timestamps keep their alignment one word to one word.
"""

from __future__ import annotations

import functools
import re

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@functools.cache
def _converter():  # noqa: ANN202 - opencc has no type hints
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    if not text or not _HAN.search(text):
        return text
    return _converter().convert(text)


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))
