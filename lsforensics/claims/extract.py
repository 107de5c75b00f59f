"""Claims: what the streamer says (transcript) or shows (OCR), and what the page states (specs).

Both sides go through the same ontology scan, so "天丝" said in the stream and "莱赛尔纤维100%"
on the page land on the same material id. A spoken claim keeps its exact quote and the time of
the words that carry it (word timestamps when the transcript has them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .ontology import Mention, Ontology, cn_small_int, normalize
from .pages import Page
from .price import PriceMention, PriceRules, _cn_int, find_prices

_PCT_AFTER = re.compile(r"^\s*[:：]?\s*(?:含量)?\s*(\d{1,3}(?:\.\d+)?)\s*[%％]")
_PCT_BEFORE = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*[%％]\s*(?:的)?\s*$")
_PCT_BEFORE_CN = re.compile(r"百分之([零一二两三四五六七八九十百点]+)\s*(?:的)?\s*$")
_CLAUSE_END = "，。！？；,.!?;\n"


@dataclass
class TextUnit:
    """A piece of text with times: a transcript segment or one OCR line."""

    text: str  # as recorded (quotes come from here)
    start: float | None
    end: float | None
    source: str  # speech | screen
    words: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    bbox: list[float] | None = None
    match: str = "exact"  # exact | redecode

    def times(self, s: int, e: int) -> tuple[float | None, float | None]:
        """Time span of characters [s, e) of ``normalize(text)``: from word timestamps when they
        cover the text, else linear within the unit (TTS/ASR segments are short)."""
        if self.start is None:
            return None, None
        norm = normalize(self.text)
        if self.words:
            spans = _word_spans(norm, self.words)
            hit = [(ws, we, w) for ws, we, w in spans if ws < e and we > s]
            if hit:
                return float(hit[0][2]["start"]), float(hit[-1][2]["end"])
        end = self.end if self.end is not None else self.start
        n = max(1, len(norm))
        return (round(self.start + (end - self.start) * s / n, 3), round(self.start + (end - self.start) * e / n, 3))


def _word_spans(norm: str, words: list[dict[str, Any]]) -> list[tuple[int, int, dict[str, Any]]]:
    out = []
    cur = 0
    for w in words:
        token = normalize(str(w.get("word", ""))).strip()
        if not token or w.get("start") is None:
            continue
        i = norm.find(token, cur)
        if i < 0 or i - cur > 8:  # lost alignment (punctuation or a rewritten word): skip it
            continue
        out.append((i, i + len(token), w))
        cur = i + len(token)
    return out


@dataclass
class Claim:
    """One assertion about the product from the stream."""

    category: str  # fibre | leather | metal | origin
    material: str  # ontology id
    value: str  # as said (the matched words, plus the percentage if any)
    name: str  # standard name of the material
    quote: str
    source: str
    start: float | None
    end: float | None
    pct: float | None = None
    exact: bool = False  # 纯 / 100% / 百分之百
    fineness: int | None = None
    match: str = "exact"
    evidence: list[str] = field(default_factory=list)
    bbox: list[float] | None = None
    heard: str | None = None  # the transcript's words when matched by pinyin (天撕 for 天丝)
    pos: int = 0  # character offset in the unit's normalised text (for the product context)


@dataclass
class Spec:
    """What a page says about one category: its parts (a composition for fibres)."""

    category: str
    parts: list[tuple[str, float | None, int | None, str]]  # (material id, pct, fineness, text)
    key: str
    value: str
    locator: str


def _pct(text: str, m: Mention, onto: Ontology) -> tuple[float | None, bool]:
    """Percentage of a fibre mention and whether it is claimed pure (纯/全/100%)."""
    after = text[m.end:m.end + 12]
    before = text[max(0, m.start - 12):m.start]
    pct: float | None = None
    mo = _PCT_AFTER.match(after)
    if mo:
        pct = float(mo.group(1))
    else:
        mo = _PCT_BEFORE.search(before)
        if mo:
            pct = float(mo.group(1))
        else:
            mo = _PCT_BEFORE_CN.search(before)
            if mo:
                pct = _cn_pct(mo.group(1))
    exact = pct is not None and pct >= 100
    if not exact:
        near = before[-6:]
        for w in onto.words("exact_markers"):
            if near.endswith(w) or near.endswith(w + "的") or m.text.startswith(w):
                exact, pct = True, 100.0
                break
    return pct, exact


def _cn_pct(s: str) -> float | None:
    try:
        if "点" in s:
            a, _, b = s.partition("点")
            return _cn_int(a)[0] + float("0." + "".join(str(cn_small_int(c) or 0) for c in b))
        return float(_cn_int(s)[0])
    except Exception:
        return None


def _negated(text: str, m: Mention, onto: Ontology) -> bool:
    before = text[max(0, m.start - 5):m.start]
    # "不是PU", "不是PU的" and "没有用的是PU"-like fillers between the negation and the material.
    cands = (before, before.rstrip("的是用"))
    return any(b.endswith(w) for b in cands for w in onto.words("negations"))


def _origin_claim(text: str, m: Mention, onto: Ontology, heard: bool = False) -> bool:
    """A country is an origin claim only next to 进口/产/制造…, and not of a part (面料).
    ``heard`` (speech): a marker may also be an ASR homophone of itself (尽口 for 进口)."""
    after = text[m.end:m.end + 8].lower()
    before = text[max(0, m.start - 6):m.start].lower()
    markers = [w.lower() for w in onto.words("origin_markers")]
    hit = None
    for w in markers:
        i = after.find(w)
        if i < 0 and heard and len(w) >= 2:
            i = _pinyin_find(after[:3 + len(w)], w)
        if 0 <= i <= 3 and not re.search(f"[{re.escape(_CLAUSE_END)}]", after[:i]):
            hit = i + len(w)
            break
    if hit is None and not any(before.rstrip().endswith(w) for w in ("产自", "产于", "来自", "made in", "原产于", "原产地", "产地")):
        return False
    tail = after[hit:hit + 5] if hit is not None else after[:5]
    tail = tail.lstrip("的")
    return not any(tail.startswith(n) for n in onto.words("origin_of_part_nouns"))


def _pinyin_find(text: str, word: str) -> int:
    """First offset where ``text`` has ``word``'s toneless syllables (Chinese characters only), or -1."""
    from ..text.pinyin import to_pinyin  # noqa: PLC0415 - the shared pinyin helper

    want = to_pinyin(word)
    if None in want:
        return -1
    have = to_pinyin(text)
    for i in range(len(have) - len(want) + 1):
        if have[i:i + len(want)] == want:
            return i
    return -1


def claims_in(unit: TextUnit, onto: Ontology) -> list[Claim]:
    """Material, leather, metal and origin claims in one transcript segment or OCR line."""
    text = normalize(unit.text)
    out: list[Claim] = []
    # ASR homophones only in speech; OCR and pages are read exactly.
    mentions = onto.find(text, pinyin=unit.source == "speech" and unit.match == "exact")
    origin_spans: list[tuple[int, int]] = []
    for m in mentions:
        mat = m.material
        if mat.category == "origin":
            if not _origin_claim(text, m, onto, heard=unit.source == "speech"):
                continue
            origin_spans.append((m.start, m.end))
        elif _negated(text, m, onto):
            continue
        if not mat.claimable:
            continue  # saying "镀金"/"合金"/"纸" admits what it is: not a claim to check
        pct, exact = _pct(text, m, onto) if mat.category == "fibre" else (None, False)
        t0, t1 = unit.times(m.start, m.end)
        said = m.term if m.match == "pinyin" and m.term else m.text
        value = said if pct is None or said.startswith(("纯", "全")) else (
            "纯" + said if exact and f"{pct:g}%" not in text[m.start - 6:m.end + 6] else f"{said} {pct:g}%")
        out.append(Claim(mat.category, mat.id, value, mat.name, unit.text.strip(), unit.source, t0, t1, pct, exact,
                         m.fineness, "pinyin" if m.match == "pinyin" else unit.match, list(unit.evidence), unit.bbox,
                         heard=m.text if m.match == "pinyin" else None, pos=m.start))
    # "进口" without a country: a claim that the product is imported.
    for w in onto.words("imported_terms"):
        for mo in re.finditer(re.escape(w), text):
            s, e = mo.span()
            if any(a - 6 <= s <= b + 2 for a, b in origin_spans):
                continue  # belongs to "意大利进口"
            tail = text[e:e + 4].lstrip("的")
            if any(tail.startswith(n) for n in onto.words("origin_of_part_nouns")):
                continue
            if "origin.imported" not in onto.materials:
                continue
            t0, t1 = unit.times(s, e)
            out.append(Claim("origin", "origin.imported", w, onto.materials["origin.imported"].name, unit.text.strip(),
                             unit.source, t0, t1, match=unit.match, evidence=list(unit.evidence), bbox=unit.bbox,
                             pos=s))
            origin_spans.append((s, e))
    return out


def prices_in(unit: TextUnit, pr: PriceRules) -> list[tuple[PriceMention, float | None, float | None]]:
    out = []
    for p in find_prices(unit.text, pr):
        t0, t1 = unit.times(p.start, p.end)
        out.append((p, t0, t1))
    return out


# ----------------------------------------------------------------------------- case inputs
def transcript_units(doc: dict[str, Any]) -> list[TextUnit]:
    units = []
    for seg in doc.get("segments") or []:
        text = seg.get("text") or ""
        if text.strip():
            units.append(TextUnit(text, _f(seg.get("start")), _f(seg.get("end")), "speech", list(seg.get("words") or [])))
    return units


def ocr_units(rows: list[dict[str, Any]]) -> list[TextUnit]:
    units = []
    for r in rows or []:
        text = r.get("text") or ""
        if text.strip():
            t = _f(r.get("t"))
            units.append(TextUnit(text, t, t, "screen", evidence=[r["frame"]] if r.get("frame") else [],
                                  bbox=r.get("box")))
    return units


def _f(v: Any) -> float | None:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


# ----------------------------------------------------------------------------- page side
def page_specs(page: Page, onto: Ontology) -> dict[str, list[Spec]]:
    """Specs by category from a page's attributes. Secondary parts (里料, 填充物) and marketing
    prose are left out; origin comes only from origin keys (产地), not from descriptions."""
    secondary = [w.lower() for w in onto.words("secondary_keys")]
    prose = [w.lower() for w in onto.words("prose_keys")]
    origin_keys = [w.lower() for w in onto.words("origin_keys")]
    out: dict[str, list[Spec]] = {}
    for key, raw in page.attributes.items():
        k = normalize(key).strip().lower()
        if any(w in k for w in prose) or any(w in k for w in secondary):
            continue
        value = normalize(str(raw))
        # "面料: 棉100% 里料: 涤纶100%" in one value: keep the main part only.
        value = re.split("(?:" + "|".join(map(re.escape, onto.words("secondary_keys"))) + r")\s*[:：]", value)[0] \
            if onto.words("secondary_keys") else value
        is_origin_key = any(w in k for w in origin_keys)
        cats = ("origin",) if is_origin_key else ("fibre", "leather", "metal")
        mentions = [m for m in onto.find(value, cats) if not _negated(value, m, onto)]
        by_cat: dict[str, list[tuple[str, float | None, int | None, str]]] = {}
        for m in mentions:
            pct = _pct(value, m, onto)[0] if m.material.category == "fibre" else None
            by_cat.setdefault(m.material.category, []).append((m.material.id, pct, m.fineness, m.text))
        for cat, parts in by_cat.items():
            out.setdefault(cat, []).append(Spec(cat, parts, key, str(raw), page.locators.get(key, f"attributes.{key}")))
    return out
