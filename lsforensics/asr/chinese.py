"""Simplified-Chinese output: the shared OpenCC conversion of ``lsforensics.text.normalize``.

Whisper base often writes Traditional characters for Mandarin; t2s (character-level with phrase
tables) halves CER on AISHELL by itself (KNOWN.md). Only Han characters change, so word
timestamps keep their alignment one word to one word.
"""

from __future__ import annotations

from ..text.normalize import has_han, to_simplified

__all__ = ["has_han", "to_simplified"]
