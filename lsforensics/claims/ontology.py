"""The material ontology (``rules/materials.yaml``): terms -> materials, and how two relate.

The ontology is data; this module only indexes it. ``Ontology.find`` scans a text for
material mentions (longest term first, structured patterns such as 18K / Au750 / S925 before
plain terms, exclusions such as 牛皮纸), and ``Ontology.relation`` says whether a page value
agrees with, contradicts, or cannot be compared with a claimed one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..rules import LocatedDict, RuleError, RuleSet, register_validator
from ..text.normalize import cn_small_int  # one Chinese-text core: the detectors' numerals
from ..text.normalize import plain as normalize  # and normalisation

CATEGORIES = ("fibre", "leather", "metal", "origin")


class Relation(StrEnum):
    SAME = "consistent"  # the page value is the claimed item or a narrower one
    BROADER = "page_broader"  # the page is less specific than the claim: cannot contradict it
    AMBIGUOUS = "ambiguous"  # a word with several meanings, one of which fits: not certain
    CONFLICT = "mismatch"


@dataclass(frozen=True)
class Material:
    id: str
    category: str
    name: str
    terms: tuple[str, ...] = ()
    is_a: tuple[str, ...] = ()
    may_be: tuple[str, ...] = ()
    ambiguous: bool = False
    exclude: tuple[str, ...] = ()
    metal: str | None = None
    fineness: int | None = None
    plated: bool = False
    country: str | None = None
    claimable: bool = True  # False: only a page states it (纸, 合金, 镀金); never a claim to check
    rule: str = ""  # "materials/<id>" for findings


@dataclass(frozen=True)
class Mention:
    """One material found in a text: character span in the (normalised) text."""

    material: Material
    start: int
    end: int
    text: str
    fineness: int | None = None  # from a pattern (18K -> 750) or the item
    match: str = "exact"  # exact | pinyin (an ASR homophone: 天撕 for 天丝)
    term: str | None = None  # the lexicon term a pinyin match stands for


@dataclass
class Ontology:
    materials: dict[str, Material]
    settings: dict[str, Any]
    _terms: list[tuple[str, Material]] = field(default_factory=list)
    _patterns: list[tuple[re.Pattern[str], Material, dict[int, int]]] = field(default_factory=list)
    _pinyin_index: dict[str, list[tuple[tuple[str, ...], str, Material]]] | None = None
    _tk: Any = None  # jieba tokenizer knowing the terms (word boundaries for sound matches)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_rules(cls, rules: RuleSet) -> Ontology:
        mats: dict[str, Material] = {}
        pats: list[tuple[re.Pattern[str], Material, dict[int, int]]] = []
        for item in rules.items("materials"):
            m = Material(
                id=item["id"], category=item["category"], name=str(item.get("name") or item["id"]),
                terms=tuple(normalize(str(t)) for t in item.get("terms") or ()),
                is_a=tuple(item.get("is_a") or ()), may_be=tuple(item.get("may_be") or ()),
                ambiguous=bool(item.get("ambiguous", False)),
                exclude=tuple(normalize(str(t)) for t in item.get("exclude") or ()),
                metal=item.get("metal"), fineness=item.get("fineness"), plated=bool(item.get("plated", False)),
                country=item.get("country"), claimable=bool(item.get("claimable", True)),
                rule=f"materials/{item['id']}",
            )
            mats[m.id] = m
            karats = {int(k): int(v) for k, v in (item.get("karat_fineness") or {}).items()}
            for p in item.get("patterns") or ():
                pats.append((re.compile(p), m, karats))
        onto = cls(mats, rules.settings("materials"))
        # Longest terms first so 头层牛皮 wins over 牛皮 and 天丝莫代尔 over 天丝.
        onto._terms = sorted(((t, m) for m in mats.values() for t in m.terms if t), key=lambda x: -len(x[0]))
        onto._patterns = pats
        return onto

    def setting(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)

    def words(self, key: str) -> list[str]:
        return [normalize(str(w)) for w in self.settings.get(key) or []]

    # -- scanning -----------------------------------------------------------------------
    def find(self, text: str, categories: tuple[str, ...] = CATEGORIES, *, pinyin: bool = False) -> list[Mention]:
        """Material mentions in ``text`` (already ``normalize``d), left to right, non-overlapping.

        ``pinyin``: also match terms of two or more Chinese characters by identical toneless
        pinyin (for ASR text: 天撕 -> 天丝, 一大力 -> 意大利). Identical syllables only, no fuzzy
        initials: the fuzzy folding the brand matcher uses would turn 面料 into 棉 claims."""
        taken = [False] * len(text)
        found: list[Mention] = []
        low = text.lower()
        # Structured patterns first ("18K白金" is gold 750, not the ambiguous 白金), leftmost and
        # then longest across all patterns, so "镀18K金" (plated) wins over the "18K金" inside it.
        hits: list[tuple[int, int, Material, int | None]] = []
        for rx, m, karats in self._patterns:
            if m.category not in categories:
                continue
            for mo in rx.finditer(text):
                s, e = mo.span()
                if e <= s:
                    continue
                fineness = m.fineness
                gd = mo.groupdict()
                if gd.get("karat"):
                    k = cn_small_int(gd["karat"])
                    if k is None or k not in karats:
                        continue  # "3K" is not a gold standard; leave it
                    fineness = karats[k]
                elif gd.get("fineness"):
                    fineness = int(gd["fineness"])
                hits.append((s, e, m, fineness))
        for s, e, m, fineness in sorted(hits, key=lambda h: (h[0], h[0] - h[1])):
            if any(taken[s:e]):
                continue
            for i in range(s, e):
                taken[i] = True
            found.append(Mention(m, s, e, text[s:e], fineness))
        for term, m in self._terms:
            if m.category not in categories:
                continue
            tl = term.lower()
            ascii_term = tl.isascii()
            pos = low.find(tl)
            while pos >= 0:
                end = pos + len(tl)
                ok = not any(taken[pos:end])
                if ok and ascii_term:  # Latin terms only on word boundaries ("PU" not in "PUMA")
                    before = low[pos - 1] if pos else " "
                    after = low[end] if end < len(low) else " "
                    ok = not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum())
                if ok and m.exclude and _excluded(low, pos, end, m.exclude):
                    ok = False
                if ok:
                    for i in range(pos, end):
                        taken[i] = True
                    found.append(Mention(m, pos, end, text[pos:end], m.fineness))
                pos = low.find(tl, pos + 1)
        if pinyin:
            found += self._pinyin_pass(text, low, taken, categories)
        found.sort(key=lambda x: x.start)
        # "S925" + "银" side by side is one mention.
        merged: list[Mention] = []
        for m in found:
            prev = merged[-1] if merged else None
            if prev and prev.material.id == m.material.id and prev.end == m.start:
                merged[-1] = Mention(prev.material, prev.start, m.end, text[prev.start:m.end], prev.fineness or m.fineness)
            else:
                merged.append(m)
        return merged

    def _pinyin_pass(self, text: str, low: str, taken: list[bool], categories: tuple[str, ...]) -> list[Mention]:
        try:
            from ..text.match import Words, tokenizer  # noqa: PLC0415 - the shared Chinese-text core
            from ..text.pinyin import to_pinyin  # noqa: PLC0415 - the shared pinyin helper
        except ImportError:  # pragma: no cover - the text package ships with lsforensics
            return []
        if self._pinyin_index is None:
            skip = set(self.words("pinyin_skip_terms"))
            index: dict[str, list[tuple[tuple[str, ...], str, Material]]] = {}
            for term, m in self._terms:
                if len(term) < 2 or term in skip or not all("\u4e00" <= c <= "\u9fff" for c in term):
                    continue
                if m.country and m.country == self.setting("domestic_country"):
                    continue  # place names share sounds with everyday words (石狮 ~ 视十)
                syl = to_pinyin(term)
                if all(syl):
                    index.setdefault(syl[0], []).append((tuple(syl), term, m))
            self._pinyin_index = index
        syl = to_pinyin(text)
        out: list[Mention] = []
        words: Words | None = None
        i = 0
        while i < len(text):
            best = None
            for tsyl, term, m in self._pinyin_index.get(syl[i] or "", ()):
                n = len(tsyl)
                if (m.category in categories and tuple(syl[i:i + n]) == tsyl and not any(taken[i:i + n])
                        and (best is None or n > len(best[0]))
                        and not (m.exclude and _excluded(low, i, i + n, m.exclude))):
                    if words is None:
                        if self._tk is None:
                            self._tk = tokenizer(sorted({t for t, _m in self._terms}))
                        words = Words(text, self._tk)
                    if not words.aligned(i, i + n):
                        continue  # the sound spans parts of two words: 蜘蛛|马 is not 苎麻
                    best = (tsyl, term, m)
            if best is None:
                i += 1
                continue
            n = len(best[0])
            for k in range(i, i + n):
                taken[k] = True
            out.append(Mention(best[2], i, i + n, text[i:i + n], best[2].fineness, "pinyin", best[1]))
            i += n
        return out

    # -- relations ----------------------------------------------------------------------
    def ancestors(self, mid: str) -> set[str]:
        seen: set[str] = set()
        stack = [mid]
        while stack:
            cur = stack.pop()
            if cur in seen or cur not in self.materials:
                continue
            seen.add(cur)
            stack.extend(self.materials[cur].is_a)
        return seen

    def meanings(self, mid: str) -> set[str]:
        """What an item may stand for: itself, or its ``may_be`` set for a vague word."""
        m = self.materials[mid]
        return set(m.may_be) if m.may_be else {mid}

    def relation(self, claim: str, page: str) -> Relation:
        """How the page's item relates to the claimed item (same category)."""
        cm, pm = self.materials[claim], self.materials[page]
        c_opts, p_opts = self.meanings(claim), self.meanings(page)
        best = Relation.CONFLICT
        for c in c_opts:
            for p in p_opts:
                if c in self.ancestors(p):
                    r = Relation.SAME
                elif p in self.ancestors(c):
                    r = Relation.BROADER
                else:
                    continue
                if (len(p_opts) > 1 or len(c_opts) > 1) and r is Relation.SAME:
                    # A vague word on one side: it fits, but only one of its readings does.
                    r = Relation.AMBIGUOUS if (cm.ambiguous or pm.ambiguous or len(p_opts) > 1) else Relation.SAME
                best = min(best, r, key=_RANK.__getitem__)
        return best


_RANK = {Relation.SAME: 0, Relation.BROADER: 1, Relation.AMBIGUOUS: 2, Relation.CONFLICT: 3}


def _excluded(low: str, pos: int, end: int, exclude: tuple[str, ...]) -> bool:
    """True when the match at [pos, end) lies inside one of the ``exclude`` words."""
    for ex in exclude:
        exl = ex.lower()
        j = low.find(exl, max(0, pos - len(exl) + 1))
        while 0 <= j <= pos:
            if j + len(exl) >= end:
                return True
            j = low.find(exl, j + 1)
    return False


_cache: dict[str, Ontology] = {}


def ontology(rules: RuleSet) -> Ontology:
    """The ontology of a rule set (cached per rules digest)."""
    key = rules.sha256
    if key not in _cache:
        _cache[key] = Ontology.from_rules(rules)
    return _cache[key]


@register_validator
def _validate(rules: RuleSet) -> None:
    items = rules.items("materials")
    ids = {i["id"] for i in items}
    for item in items:
        if not isinstance(item, LocatedDict):
            continue
        cat = item.get("category")
        if cat not in CATEGORIES:
            raise RuleError(item, f"material {item['id']!r}: category must be one of {', '.join(CATEGORIES)}", key="category")
        for key in ("terms", "is_a", "may_be", "exclude", "patterns"):
            val = item.get(key)
            if val is not None and not isinstance(val, list):
                raise RuleError(item, f"material {item['id']!r}: {key!r} must be a list", key=key)
        for key in ("is_a", "may_be"):
            for ref in item.get(key) or []:
                if ref not in ids:
                    raise RuleError(item, f"material {item['id']!r}: {key} names unknown material {ref!r}", key=key)
        for p in item.get("patterns") or []:
            try:
                re.compile(p)
            except re.error as exc:
                raise RuleError(item, f"material {item['id']!r}: bad pattern {p!r}: {exc}", key="patterns") from None
        if not (item.get("terms") or item.get("patterns")) and item.get("country") is None:
            raise RuleError(item, f"material {item['id']!r} has no terms or patterns")
