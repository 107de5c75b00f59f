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

from dataclasses import dataclass, field

from .normalize import is_cjk


@dataclass(frozen=True)
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


def undo_evasions(text: str, v: Variants) -> EvasionText:
    """The evasion text of an already normalised ``text`` (see the module docstring)."""
    out: list[str] = []
    index: list[int] = []
    removed: list[str] = []
    kinds: list[str | None] = []
    replaced: list[str | None] = []
    pending, pending_kind = "", None
    fillers = sorted(v.fillers, key=len, reverse=True)
    first = {f[0] for f in fillers}
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        # A filler between two CJK characters (of the kept text and the text after it).
        if ch in first and out and is_cjk(out[-1]):
            j, run = i, 0
            while j < n and run < v.max_filler_run and text[j] in first:
                f = next((f for f in fillers if text.startswith(f, j)), None)
                if f is None:
                    break
                j += len(f)
                run += 1
            if run and j < n and is_cjk(text[j]):
                pending += text[i:j]
                pending_kind = "filler"
                i = j
                continue
        canon = v.chars.get(ch)
        c = canon or ch
        if v.stutter and out and c == out[-1] and is_cjk(c) and not pending:
            pending += ch
            pending_kind = "stutter"
            i += 1
            continue
        out.append(c)
        index.append(i)
        removed.append(pending)
        kinds.append(pending_kind if pending else None)
        replaced.append(ch if canon else None)
        pending, pending_kind = "", None
        i += 1
    return EvasionText("".join(out), index, removed, replaced, kinds, pending)
