"""The claims detector (order 90): spec mismatches against the product page(s) and the price model.

Reads ``transcript.json`` (segments and accepted re-decoding candidates), ``ocr.json`` and
``pages.json`` (written by the ``claims.pages`` stage). Which brand the stream implies comes
from earlier findings (``brand_codeword``, ``brand_mention``, ``logo_match``) in ``prior``.

A page describes one product while a stream sells many: the stream is cut into product
episodes (``claims.episodes``: the product card's link badge, spoken link numbers, scene cuts)
and a claim is compared with a page only when it was made in that page's episode (same link
number) or, without link numbers, when the claim's clause or its episode names the page's
product. A claim nobody can place is compared only when the case has a single page.

Terms heard only by the biased re-decoding are never claims: a spec mismatch must rest on the
record. Viewers' comments scrolling in the platform's UI are not the seller's claims either.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from ..case import Case, atomic_write_bytes
from ..detect.base import Detector, register
from ..findings import Finding
from ..progress import Progress
from ..rules import RuleSet
from ..text.normalize import is_cjk
from .diff import MISMATCH, UNCERTAIN, Verdict, compare
from .episodes import Episode, episode_at, episodes_document, page_link, segment
from .extract import (
    Claim,
    TextUnit,
    claims_in,
    ocr_units,
    page_specs,
    prices_in,
    transcript_units,
)
from .ontology import Ontology, normalize, ontology
from .pages import Page
from .price import PriceRules, brand_key, judge, retail_reference

BRAND_KINDS = ("brand_codeword", "brand_mention", "logo_match")
ATTRIBUTE = {"fibre": "material", "leather": "material", "metal": "precious_metal", "origin": "origin"}
PRODUCT_CONTEXT_S = 30.0  # a product word said this long before a claim still names its product
BRAND_CONTEXT_S = 30.0  # a brand implied this close to a price (same product) is the brand of that price


def pages_json(case: Case) -> Path:
    return case.root / "pages.json"


def load_pages(case: Case) -> list[Page]:
    p = pages_json(case)
    if not p.exists():
        return []
    doc = json.loads(p.read_text(encoding="utf-8"))
    return [Page.from_dict(d) for d in doc.get("pages") or []]


def _product_words(text: str, pr: PriceRules) -> set[str]:
    t = normalize(text).lower()
    words = {w.lower() for ws in pr.categories.values() for w in ws if len(w) >= 2 and w.lower() in t}
    # keep the most specific: 托特包 rather than 包
    return {w for w in words if not any(w != o and w in o for o in words)}


def _units(case: Case) -> list[TextUnit]:
    units: list[TextUnit] = []
    if case.transcript_json.exists():
        doc = case.read_json(case.transcript_json)
        units += transcript_units(doc)  # the record only: re-decoded terms never feed claims
    if case.ocr_json.exists():
        rows = case.read_json(case.ocr_json)
        rows = rows if isinstance(rows, list) else rows.get("lines") or rows.get("items") or []
        from ..vision.layout import case_layout  # noqa: PLC0415

        layout = case_layout(case)
        units += ocr_units([r for r in rows if not (isinstance(r, dict) and layout.in_comments(r.get("box") or []))])
    units.sort(key=lambda u: (u.start if u.start is not None else 1e18))
    return units


def _scene_times(case: Case) -> list[float]:
    if not case.frames_json.exists():
        return []
    try:
        frames = case.read_json(case.frames_json)
        return [float(f["t"]) for f in frames if isinstance(f, dict) and f.get("reason") == "scene" and f.get("t")]
    except (TypeError, ValueError, KeyError):
        return []


_CLAUSE = re.compile(r"[^，。！？；,.!?;\n]+")


class _Context:
    """Which product a piece of text is about, clause by clause.

    A clause naming a product word (包包, 皮带, 项链 …) is about it. A clause without one keeps
    the product of the clause before it (within PRODUCT_CONTEXT_S), unless it opens with a
    product switch ("这款", "这个" …: a new product the ASR may have garbled), which makes
    the product unknown. An on-screen caption without a product word takes the product of the
    speech around it (captions appear with the scene, slightly before the line)."""

    def __init__(self, units: list[TextUnit], pr: PriceRules):
        self.units = units
        self.switch = [w for w in pr.product_switch_words]
        # per clause: (unit index, char start, char end, t0, t1, words)
        self.clauses: list[tuple[int, int, int, float | None, float | None, set[str]]] = []
        self.by_unit: list[list[int]] = [[] for _ in units]
        last: tuple[float, set[str]] | None = None
        for i, u in enumerate(units):
            norm = normalize(u.text)
            spans = [(m.start(), m.end()) for m in _CLAUSE.finditer(norm)] or [(0, len(norm))]
            if u.source != "speech":
                spans = [(0, len(norm))]  # a caption is one piece
            for cs, ce in spans:
                t0, t1 = u.times(cs, ce)
                w = _product_words(norm[cs:ce], pr)
                if u.source == "speech":
                    opens = norm[cs:ce].lstrip().startswith(tuple(self.switch))
                    if not w and not opens and last and t0 is not None and t0 - last[0] <= PRODUCT_CONTEXT_S:
                        w = last[1]
                    if w and t0 is not None:
                        last = (t0, w)
                    elif opens:
                        last = None
                self.by_unit[i].append(len(self.clauses))
                self.clauses.append((i, cs, ce, t0, t1, w))
        for k, (i, cs, ce, t0, t1, w) in enumerate(self.clauses):
            if units[i].source != "speech" and not w and t0 is not None:
                near = [(self._gap(t0, c), j) for j, c in enumerate(self.clauses)
                        if units[c[0]].source == "speech" and c[5] and c[3] is not None and self._gap(t0, c) <= 5.0]
                if near:
                    self.clauses[k] = (i, cs, ce, t0, t1, self.clauses[min(near)[1]][5])

    @staticmethod
    def _gap(t: float, c: tuple) -> float:
        t0, t1 = c[3], c[4] if c[4] is not None else c[3]
        return 0.0 if t0 <= t <= t1 else min(abs(t - t0), abs(t - t1))

    def at(self, unit_index: int, pos: int) -> set[str]:
        """Product words of the clause of unit ``unit_index`` holding character ``pos``."""
        for k in self.by_unit[unit_index]:
            _i, cs, ce, *_rest, w = self.clauses[k]
            if cs <= pos < max(ce, cs + 1):
                return w
        return self.clauses[self.by_unit[unit_index][-1]][5] if self.by_unit[unit_index] else set()

    def words_at(self, source: str, t: float | None) -> set[str]:
        """Product words of the clause of ``source`` being said/shown at time ``t``."""
        if t is None:
            return set()
        best: tuple[float, int] | None = None
        for k, c in enumerate(self.clauses):
            if self.units[c[0]].source == source and c[3] is not None:
                g = self._gap(t, c)
                if g <= 0.5 and (best is None or g < best[0]):
                    best = (g, k)
        return self.clauses[best[1]][5] if best else set()


# What the seller says, shows or holds up implies a brand; a viewer's chat message does not
# ("H家的皮带还有吗" is a question, not the stream's claim).
SELLER_SOURCES = {"speech", "screen", "frame", "page"}


def _implied_brands(prior: list[Finding]) -> list[Finding]:
    # A term heard only by the biased re-decoding is a lead for a person, never an input here.
    return [f for f in prior if f.kind in BRAND_KINDS and f.brand and f.source in SELLER_SOURCES
            and f.match != "redecode"]


@register
class ClaimsDetector(Detector):
    name = "claims.specs"
    order = 90

    def inputs(self, case: Case) -> list[Path]:
        return [case.transcript_json, case.ocr_json, pages_json(case), case.frames_json]

    def params(self) -> dict[str, Any]:
        return {"claims_version": 3}

    def detect(self, case: Case, rules: RuleSet, prior: list[Finding], progress: Progress) -> list[Finding]:
        onto = ontology(rules)
        pr = PriceRules.from_rules(rules)
        units = _units(case)
        pages = load_pages(case)
        ctx = _Context(units, pr)
        words_of = {i: _product_words(u.text, pr) for i, u in enumerate(units)}
        eps = segment(units, _scene_times(case), words_of)
        _write_episodes(case, eps, pages)
        out: list[Finding] = []
        claims: list[tuple[Claim, set[str]]] = []
        for i, u in enumerate(units):
            claims += [(c, ctx.at(i, c.pos)) for c in claims_in(u, onto)]
        for page in pages:
            out += spec_findings(claims, page, onto, pr, n_pages=len(pages), episodes=eps)
            out += brand_findings(_brands_for_page(prior, page, units, ctx, pr, eps), page, onto, pr)
        out += price_findings(units, ctx, prior, pages, pr, eps)
        progress.log(f"claims: {len(claims)} claims, {len(pages)} page(s), {len(eps)} product episode(s), "
                     f"{len(out)} findings")
        return out


def _write_episodes(case: Case, eps: list[Episode], pages: list[Page]) -> None:
    """The product episodes this detector used, as evidence (``evidence/episodes.json``), so a reader
    sees which product was on sale when and why a claim met a page (a finding's ``about``)."""
    if not units_exist(case):
        return
    doc = episodes_document(eps, [(p.file or p.source, page_link(p.title or "")) for p in pages])
    atomic_write_bytes(case.root / "evidence" / "episodes.json",
                       json.dumps(doc, ensure_ascii=False, indent=1).encode())


def units_exist(case: Case) -> bool:
    return case.transcript_json.is_file() or case.ocr_json.is_file()


# ----------------------------------------------------------------------------- spec mismatch
def _page_words(page: Page, pr: PriceRules) -> set[str]:
    return _product_words(" ".join([page.title or "", *(str(v) for k, v in page.attributes.items()
                                                        if "类" in k or "品名" in k or "名称" in k)]), pr)


def about_page(t: float | None, words: set[str], page: Page, page_words: set[str], episodes: list[Episode] | None,
               n_pages: int) -> str | None:
    """Why text said/shown at ``t`` (its clause naming ``words``) is about ``page``'s product, or
    None when it is not (or nobody can tell and the case has several pages)."""
    if words and page_words and not _same_product(words, page_words):
        return None  # the clause names another product
    ep = episode_at(episodes or [], t)
    link = page_link(page.title or "")
    if ep is not None and ep.link is not None and link is not None:
        return f"said while link {link} was on sale ({ep.how})" if ep.link == link else None
    if words and page_words:
        return "the sentence names the page's product"
    if ep is not None and ep.words and page_words:
        # The episode names the page's product only when most of its product words are that
        # product: an episode that talks of shorts, a belt and shoes alike (one link number said
        # once, no card, no scene cut) cannot tell which of them a clause without a noun is about.
        mine = sum(n for w, n in ep.words.items() if _same_product({w}, page_words))
        return "the product episode names the page's product" if 2 * mine > sum(ep.words.values()) else None
    return "the only product page of the case" if n_pages == 1 else None


def spec_findings(claims: list[tuple[Claim, set[str]]], page: Page, onto: Ontology, pr: PriceRules,
                  n_pages: int = 1, episodes: list[Episode] | None = None) -> list[Finding]:
    specs = page_specs(page, onto)
    page_words = _page_words(page, pr)
    groups: dict[tuple, list[tuple[Claim, Verdict]]] = {}
    words_of = {id(c): w for c, w in claims}
    why_of: dict[int, str] = {}
    for claim, words in claims:
        why = about_page(claim.start, words, page, page_words, episodes, n_pages)
        if why is None:
            continue  # the claim is about another product of the stream
        why_of[id(claim)] = why
        v = compare(claim, specs.get(claim.category, []), onto)
        if v.verdict not in (MISMATCH, UNCERTAIN):
            continue
        key = (claim.category, claim.material, claim.pct, claim.exact, claim.source, v.verdict, v.spec.key if v.spec else None)
        groups.setdefault(key, []).append((claim, v))
    out = []
    for items in groups.values():
        items.sort(key=lambda cv: (cv[0].start if cv[0].start is not None else 1e18))
        claim, v = items[0]
        f = _spec_finding(claim, v, page, items)
        why = why_of[id(claim)]
        f.explanation = (f.explanation or "") + f" Compared with this page because {why}."
        f.extra["about"] = why
        if not words_of[id(claim)] and why == "the only product page of the case":
            f.confidence = round(f.confidence * 0.9, 4)
            f.extra["product_known"] = False
        out.append(f)
    return out


def _same_product(a: set[str], b: set[str]) -> bool:
    """Product words that can name the same product: one holds the other (包 and 托特包), after a
    colloquial generic form is reduced to its head (包包 and 鞋子 say no more than 包 and 鞋, so a
    host's 包包 is the page's 托特包). Two specific words (老花包, 托特包) do not agree."""
    a, b = {_head(x) for x in a}, {_head(y) for y in b}
    return any(x in y or y in x for x in a for y in b)


def _head(word: str) -> str:
    """包包 -> 包, 鞋子 -> 鞋: a reduplicated or 子-suffixed one-character product word."""
    if len(word) == 2 and (word[0] == word[1] or word[1] == "子") and is_cjk(word[0]):
        return word[0]
    return word


def _spec_finding(claim: Claim, v: Verdict, page: Page, items: list[tuple[Claim, Verdict]]) -> Finding:
    certain = v.verdict == MISMATCH
    conf = 0.9 if v.severity == "high" else 0.8
    if claim.source == "speech":
        conf -= 0.05  # the words came through ASR
    if claim.match == "redecode":
        conf = min(conf, 0.7)
    if claim.match == "pinyin":
        conf = min(conf, 0.65)  # the transcript has other characters with the same sound
    if not certain:
        conf = 0.35
    spec = v.spec
    page_ref = page.file or page.source
    f = Finding(
        kind="spec_mismatch", source=claim.source, start=claim.start, end=claim.end,
        rule=onto_rule(claim), severity=v.severity if certain else "low", confidence=conf, match=claim.match,
        term=claim.name, matched=claim.heard or claim.value, quote=claim.quote, evidence=list(claim.evidence), bbox=claim.bbox,
        explanation=("Claim contradicts the product page: " if certain else "Possible contradiction (ambiguous wording): ")
        + v.reason + (f" (transcribed as '{claim.heard}', same pinyin)" if claim.heard else "") + f" [{page_ref}]",
    )
    f.extra = {
        "claim": {"attribute": ATTRIBUTE.get(claim.category, claim.category), "value": claim.value, "quote": claim.quote,
                  "start": claim.start, "standard_name": claim.name, "pct": claim.pct},
        "spec": {"attribute": spec.key if spec else None, "value": spec.value if spec else None, "page": page_ref,
                 "locator": spec.locator if spec else None},
        "certain": certain,
        "occurrences": [{"source": c.source, "start": c.start} for c, _ in items],
    }
    return f


def onto_rule(claim: Claim) -> str:
    return f"materials/{claim.material}"


# ----------------------------------------------------------------------------- brand
def _brands_for_page(prior: list[Finding], page: Page, units: list[TextUnit], ctx: _Context,
                     pr: PriceRules, episodes: list[Episode] | None = None) -> list[Finding]:
    """Brand findings made while this page's product was being sold: a Chanel code-word said over
    a bag does not make a page for shorts a Chanel page. A page-source finding (its own images)
    is about the page."""
    page_words = _page_words(page, pr)
    keep = []
    for f in prior:
        if f.source == "page":
            keep.append(f)
            continue
        if about_page(f.start, ctx.words_at(f.source, f.start), page, page_words, episodes, 1) is not None:
            keep.append(f)
    return keep


def _brand_names(name: str, pr: PriceRules, rules_names: dict[str, set[str]]) -> set[str]:
    keys = {brand_key(name)}
    b = pr.brand(name)
    if b:
        keys |= {k for k, e in pr.brands.items() if e is b or e.get("brand") == b.get("brand")}
    keys |= rules_names.get(brand_key(name), set())
    return {k for k in keys if k}


def brand_findings(prior: list[Finding], page: Page, onto: Ontology, pr: PriceRules) -> list[Finding]:
    implied = _implied_brands(prior)
    if not implied or not page.brand:
        return []
    page_brand = normalize(page.brand).strip()
    pk = brand_key(page_brand)
    no_brand = {brand_key(w) for w in onto.words("no_brand_values")}
    out = []
    by_brand: dict[str, list[Finding]] = {}
    for f in implied:
        by_brand.setdefault(f.brand or "", []).append(f)
    for brand, fs in by_brand.items():
        # A conflict with the page rests on the brand being plainly implied: its name or code-word
        # heard/shown verbatim, or its logo matched. Sound-alikes alone (成家 for 城家) are leads.
        if not any(f.match in ("exact", "visual") for f in fs):
            continue
        names = _brand_names(brand, pr, {})
        says_none = pk in no_brand or any(pk.startswith(n) for n in no_brand if len(n) >= 2)
        if not says_none and any(n in pk for n in names if len(n) >= 2):
            continue
        first = min(fs, key=lambda f: f.start if f.start is not None else 1e18)
        why = "the page says it has no brand" if says_none else f"the page names another brand ({page.brand})"
        counts = Counter(f.kind for f in fs)
        page_ref = page.file or page.source
        f = Finding(
            kind="brand_conflict", source=first.source, start=first.start, end=first.end,
            rule="claims/brand", severity="high", confidence=round(min(0.95, max(f.confidence for f in fs)), 4),
            match="rule", term=brand, matched=first.matched or first.term, brand=brand, quote=first.quote,
            evidence=list(first.evidence), bbox=first.bbox,
            explanation=f"While this page's product was on sale the stream implies {brand} "
                        f"({', '.join(f'{k} x{n}' for k, n in counts.items())}; first at "
                        f"{'' if first.start is None else f'{first.start:.1f} s'}: '{first.matched or first.term}'), "
                        f"but {why}. One finding per brand and page. [{page_ref}]",
        )
        f.extra = {
            "claim": {"attribute": "brand", "value": brand, "quote": first.quote, "start": first.start,
                      "implied_by": [fi.kind for fi in fs][:20]},
            "spec": {"attribute": "brand", "value": page.brand, "page": page_ref,
                     "locator": page.locators.get("品牌") or page.locators.get("brand") or "brand"},
            "certain": True,
            "occurrences": [{"kind": fi.kind, "source": fi.source, "start": fi.start, "matched": fi.matched}
                            for fi in sorted(fs, key=lambda x: x.start if x.start is not None else 1e18)][:50],
        }
        out.append(f)
    return out


# ----------------------------------------------------------------------------- prices
def _brand_near(t: float | None, words: set[str], implied: list[Finding], ctx: _Context,
                episodes: list[Episode] | None = None) -> str | None:
    """The brand implied closest in time (within BRAND_CONTEXT_S) about the same product (or where
    either side names no product) and, where the product card's link numbers tell the products
    apart, while the same link was on sale; with no time, the brand when the stream implies only
    one. A card's price shown just before the host moves on to a branded bag is not a bag's price."""
    if not implied:
        return None
    if t is None:
        brands = {f.brand for f in implied}
        return next(iter(brands)) if len(brands) == 1 else None
    here = episode_at(episodes or [], t)
    near = []
    for f in implied:
        if f.start is None or abs(f.start - t) > BRAND_CONTEXT_S:
            continue
        there = episode_at(episodes or [], f.start)
        if here is not None and there is not None and None not in (here.link, there.link) and here.link != there.link:
            continue  # implied while another link was on sale
        fw = ctx.words_at(f.source, f.start)
        if words and fw and not _same_product(words, fw):
            continue
        near.append((abs(f.start - t), f.brand))
    return min(near)[1] if near else None


def price_findings(units: list[TextUnit], ctx: _Context, prior: list[Finding], pages: list[Page], pr: PriceRules,
                   episodes: list[Episode] | None = None) -> list[Finding]:
    implied = _implied_brands(prior)
    mentions = []  # (unit, words, PriceMention, t0, t1)
    for i, u in enumerate(units):
        for p, t0, t1 in prices_in(u, pr):
            mentions.append((u, ctx.at(i, p.start), p, t0, t1))
    out: list[Finding] = []
    paired_offers: set[int] = set()
    seen_pairs: set[tuple] = set()
    # 1. spoken/shown "专柜价 X ... 只要 Y"
    for u, _words, ref, r0, r1 in mentions:
        if ref.role != "reference":
            continue
        best = None
        for j, (u2, _w2, off, o0, _o1) in enumerate(mentions):
            if off.role == "reference" or u2.source != u.source or j in paired_offers:
                continue
            if r0 is not None and o0 is not None and abs(o0 - r0) <= pr.pair_window_s:
                d = (o0 - r0) if o0 >= r0 else (r0 - o0) + pr.pair_window_s  # prefer an offer after the reference
                if best is None or d < best[0]:
                    best = (d, j)
        if best is None:
            continue
        j = best[1]
        paired_offers.add(j)
        u2, _w2, off, o0, o1 = mentions[j]
        if (u.source, ref.amount.value, off.amount.value) in seen_pairs:
            continue  # the same sticker on many frames: one finding
        seen_pairs.add((u.source, ref.amount.value, off.amount.value))
        ratio = off.amount.value / ref.amount.value
        brand = _brand_near(r0, ctx.words_at(u.source, r0), implied, ctx, episodes)
        tier_name, thresholds = _thresholds(brand, pr, spoken=True)
        sev = judge(ratio, thresholds)
        if sev is None:
            continue
        start, end = min(x for x in (r0, o0) if x is not None), max(x for x in (r1, o1) if x is not None)
        quote = u.text.strip() if u is u2 else f"{u.text.strip()} … {u2.text.strip()}"
        f = Finding(kind="price_anomaly", source=u.source, start=start, end=end, rule="prices/spoken_reference",
                    severity=sev, confidence=0.85 if u.source == "speech" else 0.9, match="rule",
                    term="专柜价/只要", matched=f"{ref.marker}{ref.text} / {off.marker or ''}{off.text}", brand=brand,
                    quote=quote, evidence=sorted(set(u.evidence + u2.evidence)), bbox=u.bbox,
                    explanation=f"Claimed reference price {ref.amount.text_value} vs offered {off.amount.text_value}: "
                                f"{ratio:.1%} of the stated retail price"
                                + (f"; {brand} ({tier_name}) {pr.tier(tier_name).get('note', '')}" if brand else
                                   "; an invented reference price is itself a pricing violation"))
        f.extra = {"price": off.amount.value, "reference": ref.amount.value, "ratio": round(ratio, 4), "currency": "CNY",
                   "reference_kind": "spoken", "reference_upper": ref.amount.upper, "tier": tier_name}
        out.append(f)
    # 2. offered prices against the implied brand's retail range
    if implied:
        seen: set[tuple] = set()
        for u, words, p, t0, t1 in mentions:
            if p.role == "reference":
                continue
            brand = _brand_near(t0, words, implied, ctx, episodes)
            cat = pr.category_of(" ".join(words)) if words else pr.category_of(u.text)
            f = _retail_finding(p.amount.value, "CNY", brand, cat, pr, source=u.source, start=t0, end=t1,
                                quote=u.text.strip(), matched=p.text, evidence=u.evidence, bbox=u.bbox)
            if f is not None:
                key = (u.source, p.amount.value, brand)
                if key in seen:
                    continue
                seen.add(key)
                out.append(f)
        for page in pages:
            if page.price is None:
                continue
            brand = _page_brand(page, units, ctx, implied, pr, episodes, len(pages))
            cat = pr.category_of(" ".join([page.title or "", *page.attributes.values()]))
            f = _retail_finding(page.price, (page.currency or "CNY").upper(), brand, cat, pr, source="page", start=None,
                                end=None, quote=page.title or "", matched=f"{page.price:g} {page.currency or ''}".strip(),
                                evidence=[page.file] if page.file else [], bbox=None)
            if f is not None:
                f.extra["page"] = page.file or page.source
                out.append(f)
    return out


def _page_brand(page: Page, units: list[TextUnit], ctx: _Context, implied: list[Finding], pr: PriceRules,
                episodes: list[Episode] | None = None, n_pages: int = 1) -> str | None:
    """The brand implied while the page's product was on sale (its episodes, or its product named);
    with a single page and one brand in the whole stream, that brand. A brand implied while
    another product was on sale gives no brand to this page."""
    page_words = _page_words(page, pr)
    near = Counter(f.brand for f in implied
                   if about_page(f.start, ctx.words_at(f.source, f.start), page, page_words, episodes, n_pages))
    if near:
        return near.most_common(1)[0][0]
    brands = {f.brand for f in implied}
    return next(iter(brands)) if len(brands) == 1 and n_pages == 1 else None


def _thresholds(brand: str | None, pr: PriceRules, *, spoken: bool) -> tuple[str, dict[str, Any]]:
    b = pr.brand(brand) if brand else None
    if b:
        return b["tier"], pr.tier(b["tier"])
    return ("spoken_reference", pr.spoken_reference) if spoken else (pr.default_tier, pr.tier(pr.default_tier))


def _retail_finding(price: float, currency: str, brand: str | None, cat: str | None, pr: PriceRules, *, source: str,
                    start: float | None, end: float | None, quote: str, matched: str, evidence: list[str],
                    bbox: Any) -> Finding | None:
    if not brand:
        return None
    ref = retail_reference(pr, brand, cat)
    fx = pr.fx_to_cny.get(currency.upper())
    if ref is None or fx is None:
        return None
    (lo, hi), used_cat, rule = ref
    ratio = price * fx / lo
    tier_name, thresholds = _thresholds(brand, pr, spoken=False)
    sev = judge(ratio, thresholds)
    if sev is None:
        return None
    f = Finding(kind="price_anomaly", source=source, start=start, end=end, rule=rule, severity=sev,
                confidence=0.8 if source == "speech" else 0.85, match="rule", term=f"{brand} {used_cat}",
                matched=matched, brand=brand, quote=quote, evidence=list(evidence), bbox=bbox,
                explanation=f"Price {price:g} {currency} is {ratio:.1%} of the lowest {brand} retail price for "
                            f"'{used_cat}' ({lo:g}-{hi:g} CNY); {brand} tier '{tier_name}': "
                            f"{pr.tier(tier_name).get('note', '')}")
    f.extra = {"price": price, "reference": lo, "ratio": round(ratio, 4), "currency": currency,
               "reference_kind": "retail", "reference_range": [lo, hi], "category": used_cat, "tier": tier_name}
    return f
