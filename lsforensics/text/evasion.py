"""Undo the disguises hosts and sellers put on a banned word, keeping a map back to the text.

Live-commerce hosts know the platform's filters and say or write a term so that no filter sees
it: a filler inside it (蓝某扣 for 兰蔻, 副母作用 for 副作用, 去什么斑 for 去斑), a stutter or a split
character (不一一不赖赖, 父母母), or a near-form / homophone character (蕞 for 最, 廋 for 瘦). The
``EvasionText`` is the normalised text with those undone (fillers dropped, repeated characters
collapsed, variant characters replaced by the canonical one), each character still pointing at
its position in the normalised text, and each change remembered in words, so a finding can say
exactly which evasion it saw. What counts as a filler or a variant is data (``rules/variants.yaml``).

A change only matters when a term is found *across* it: removing 某 from 某些 finds nothing, and
the matcher keeps only the matches that span a change (the others it has already found plainly).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field


@dataclass(frozen=True, eq=False)
class Variants:
    """The evasion tables of ``rules/variants.yaml``."""

    fillers: tuple[str, ...] = ()  # inserted inside a term: 某, 母, 什么 (normalised)
    chars: dict[str, str] = field(default_factory=dict)  # variant character -> canonical character
    stutter: bool = True  # collapse a repeated character (不一一不赖赖 -> 不一不赖)
    max_filler_run: int = 2  # at most this many fillers in a row count as one insertion


@dataclass
class EvasionText:
    """``text`` with evasions undone; ``index[i]`` is the normalised-text position of ``text[i]``.

    ``removed[i]`` holds what was taken out just before ``text[i]`` (a filler or a repeated
    character) and ``replaced[i]`` the variant character that stood where ``text[i]`` is now.
    """

    text: str
    index: list[int]
    removed: list[str]
    replaced: list[str | None]
    removed_kind: list[str | None]  # "filler" | "stutter" per position (what was removed before it)
    tail: str = ""  # removed after the last character (a trailing stutter)

    @property
    def changed(self) -> bool:
        return any(self.removed) or any(r is not None for r in self.replaced)

    def _trailing_stutter(self, e: int) -> str:
        """The repeats of character e-1 right after it ("赖" of 不赖赖), which belong to a match ending there."""
        if e < len(self.text):
            rm = self.removed[e] if self.removed_kind[e] == "stutter" else ""
        else:
            rm = self.tail
        return rm if rm and set(rm) == {self.text[e - 1]} else ""

    def span(self, s: int, e: int) -> tuple[int, int]:
        """Normalised-text span [start, end) of evasion-text [s, e), a trailing stutter included."""
        return self.index[s], self.index[e - 1] + 1 + len(self._trailing_stutter(e))

    def evasions(self, s: int, e: int) -> list[str]:
        """What was undone inside evasion-text [s, e), in words (zh / en), in order of position."""
        out: list[str] = []
        for i in range(s, e):
            if i > s and self.removed[i]:
                what = self.removed[i]
                if self.removed_kind[i] == "stutter":
                    out.append(f"重复字“{what}”（口吃或拆字） / repeated character '{what}' (stutter or split word)")
                else:
                    out.append(f"插入“{what}” / '{what}' inserted inside the term")
            if self.replaced[i] is not None:
                out.append(f"用“{self.replaced[i]}”代替“{self.text[i]}” / '{self.replaced[i]}' written for "
                           f"'{self.text[i]}' (look-alike or sound-alike character)")
        tail = self._trailing_stutter(e)
        if out and tail:  # a repeated last character alone is no disguise (药效效), only part of the quote
            out.append(f"重复字“{tail}”（口吃或拆字） / repeated character '{tail}' (stutter or split word)")
        return list(dict.fromkeys(out))

    def inserted_filler(self, s: int, e: int) -> bool:
        """True when a filler (not just a stutter) was taken out strictly inside [s, e)."""
        return any(self.removed[i] and self.removed_kind[i] == "filler" for i in range(s + 1, e))


_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"


@functools.lru_cache(maxsize=8)
def _pattern(v: Variants) -> re.Pattern[str]:  # cached by identity: one Variants per lexicon
    """One pass over the text: a filler run between two CJK characters, a variant character, or a
    repeated CJK character (the first of a run is kept)."""
    alts = []
    if v.fillers:
        f = "|".join(re.escape(x) for x in sorted(v.fillers, key=len, reverse=True))
        alts.append(f"(?P<f>(?<=[{_CJK}])(?:{f}){{1,{v.max_filler_run}}}(?=[{_CJK}]))")
    if v.chars:
        alts.append("(?P<v>[" + "".join(re.escape(c) for c in v.chars) + "])")
    if v.stutter:
        alts.append(f"(?P<s>(?P<c>[{_CJK}])(?P=c)+)")
    return re.compile("|".join(alts) or "(?!)")


def undo_evasions(text: str, v: Variants) -> EvasionText:
    """The evasion text of an already normalised ``text`` (see the module docstring)."""
    out: list[str] = []
    index: list[int] = []
    removed: list[str] = []
    kinds: list[str | None] = []
    replaced: list[str | None] = []
    pending, pending_kind = "", None
    pos = 0

    def keep(i: int, ch: str, was: str | None = None) -> None:
        nonlocal pending, pending_kind
        out.append(ch)
        index.append(i)
        removed.append(pending)
        kinds.append(pending_kind if pending else None)
        replaced.append(was)
        pending, pending_kind = "", None

    def keep_run(a: int, b: int) -> None:
        if a >= b:
            return
        keep(a, text[a])  # the first carries what was removed before it
        out.extend(text[a + 1:b])
        index.extend(range(a + 1, b))
        removed.extend([""] * (b - a - 1))
        kinds.extend([None] * (b - a - 1))
        replaced.extend([None] * (b - a - 1))

    for m in _pattern(v).finditer(text):
        a, b = m.span()
        keep_run(pos, a)
        pos = b
        if m.lastgroup == "f":
            pending, pending_kind = pending + m.group(), "filler"
        elif m.lastgroup == "v":
            keep(a, v.chars[m.group()], m.group())
        else:  # a stutter: keep the first, remember the repeats
            keep(a, text[a])
            pending, pending_kind = text[a + 1:b], "stutter"
    keep_run(pos, len(text))
    return EvasionText("".join(out), index, removed, replaced, kinds, pending)
