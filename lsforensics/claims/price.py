"""Prices: Chinese spoken amounts and the price model (``rules/prices.yaml``).

``parse_amount`` reads what streamers say and write: 三万多 (>= 30000, "多" = somewhat more),
八百八 (880: a trailing digit takes the next lower unit), 两万五, 一千零八, 九块九 (9.9), 1.2万,
3w, ¥1,299, 399元. ``find_prices`` finds amounts in a text and classifies them by the words
around them as a *reference* price (专柜价, 原价, 官网价 …) or an *offer* (只要, 今天, 到手 …);
a bare number with neither a marker nor a currency word is not a price (五十件, 七天, 一号链接).
The marker words are data in ``rules/prices.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..rules import LocatedDict, RuleError, RuleSet, register_validator
from ..text.normalize import NumeralError, cn_int
from .ontology import normalize

_DIG = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNIT = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}  # the amount regex's characters; the reading is text.normalize.cn_int
_CN_CHARS = "".join(_DIG) + "".join(_UNIT) + "".join(_BIG)

# One amount: Arabic (with , and decimals, optional 万/千/w/k) or a run of Chinese numerals,
# optionally "多"/"来"/"几" (approximate), optionally 块/元 + a trailing digit (九块九).
_AMOUNT = re.compile(
    r"(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\s*(?:万|千|百|w|W|k|K)?|[" + _CN_CHARS + r"]+)"
    r"(?P<more>多|来|几)?"
    r"(?P<cur>块钱|块|元|米|rmb|RMB)?"
    r"(?P<jiao>[" + "".join(_DIG) + r"0-9](?:毛|角)?)?"
)


class AmountError(ValueError):
    pass


@dataclass(frozen=True)
class Amount:
    value: float  # the stated amount (the lower bound for "三万多")
    upper: float  # upper bound: value for an exact amount, value + one unit for "多"
    approx: bool

    @property
    def text_value(self) -> str:
        v = int(self.value) if self.value == int(self.value) else self.value
        return f"{v}+" if self.approx else f"{v}"


def _cn_int(s: str) -> tuple[int, int]:
    """Chinese numeral string -> (value, magnitude of its last unit): ``text.normalize.cn_int``."""
    try:
        return cn_int(s)
    except NumeralError as exc:
        raise AmountError(str(exc)) from None


def parse_amount(text: str) -> Amount:
    """Read one amount ('三万多', '八百八', '1.2万', '¥1,299', '九块九'); AmountError if it is none."""
    t = normalize(text).strip().lstrip("¥￥$").strip()
    m = _AMOUNT.fullmatch(t)
    if not m:
        raise AmountError(f"not an amount: {text!r}")
    return _amount_from_match(m)


def _amount_from_match(m: re.Match[str]) -> Amount:
    num = m.group("num").replace(",", "").replace(" ", "")
    if num[0].isdigit():
        mult = 1
        if num[-1] in "万wW":
            mult, num = 10_000, num[:-1]
        elif num[-1] in "千kK":
            mult, num = 1000, num[:-1]
        elif num[-1] == "百":
            mult, num = 100, num[:-1]
        value = float(num) * mult
        unit = mult if mult > 1 else (10 ** max(0, len(num.split(".")[0]) - 1))
    else:
        iv, unit = _cn_int(num)
        value = float(iv)
    if m.group("jiao"):  # 九块九 = 9.9, 九块九毛 = 9.9
        if not m.group("cur") or m.group("cur") not in ("块", "块钱", "元"):
            raise AmountError("trailing digit without 块")
        j = m.group("jiao")[0]
        value += (_DIG[j] if j in _DIG else int(j)) / 10
    approx = bool(m.group("more"))
    upper = value + (unit if approx else 0)
    return Amount(value, upper, approx)


@dataclass
class PriceMention:
    amount: Amount
    role: str  # "reference" | "offer" | "price" (a currency word but no marker)
    start: int  # char offsets in the normalised text
    end: int
    text: str  # the amount as written
    marker: str | None


@dataclass
class PriceRules:
    reference_markers: list[str]
    offer_markers: list[str]
    currency_words: list[str]
    currency_signs: list[str]
    not_price_after: list[str]
    categories: dict[str, list[str]]
    tiers: dict[str, dict[str, Any]]
    default_tier: str
    spoken_reference: dict[str, Any]
    pair_window_s: float
    fx_to_cny: dict[str, float]
    product_switch_words: list[str] = field(default_factory=list)
    brands: dict[str, dict[str, Any]] = field(default_factory=dict)  # canonical key -> {brand, tier, retail, rule}

    @classmethod
    def from_rules(cls, rules: RuleSet) -> PriceRules:
        s = rules.settings("prices")
        pr = cls(
            reference_markers=sorted((normalize(w) for w in s.get("reference_markers") or []), key=len, reverse=True),
            offer_markers=sorted((normalize(w) for w in s.get("offer_markers") or []), key=len, reverse=True),
            currency_words=[normalize(w) for w in s.get("currency_words") or []],
            currency_signs=[normalize(w) for w in s.get("currency_signs") or []],
            not_price_after=[normalize(w) for w in s.get("not_price_after") or []],
            categories={k: [normalize(w) for w in v] for k, v in (s.get("categories") or {}).items()},
            tiers={k: dict(v) for k, v in (s.get("tiers") or {}).items()},
            default_tier=str(s.get("default_tier") or "luxury"),
            spoken_reference=dict(s.get("spoken_reference") or {"min_ratio": 0.3, "high_below": 0.1}),
            pair_window_s=float(s.get("pair_window_s") or 25),
            fx_to_cny={str(k).upper(): float(v) for k, v in (s.get("fx_to_cny") or {"CNY": 1.0}).items()},
            product_switch_words=[normalize(w) for w in s.get("product_switch_words") or []],
        )
        for item in rules.items("prices"):
            entry = {"brand": item.get("brand") or item["id"], "tier": item.get("tier") or pr.default_tier,
                     "retail": _retail(item.get("retail")), "rule": f"prices/{item['id']}"}
            for name in [entry["brand"], *(item.get("aliases") or [])]:
                pr.brands[brand_key(str(name))] = entry
        # Retail ranges kept with the brands (kind: brands, owned by the text detectors) win:
        # one place to maintain a brand. Tier falls back to ours or the default.
        for item in rules.items("brands"):
            retail = _retail(item.get("retail") or item.get("retail_cny"))
            names = [item.get("name"), item.get("brand"), item["id"], *(item.get("names") or [])]
            names = [str(n) for n in names if isinstance(n, str)]
            ours = next((pr.brands[brand_key(n)] for n in names if brand_key(n) in pr.brands), None)
            if not retail and not item.get("tier"):
                continue
            entry = {"brand": (ours or {}).get("brand") or names[0],
                     "tier": item.get("tier") or (ours or {}).get("tier") or pr.default_tier,
                     # theirs per category, ours for categories (and `any`) they do not price
                     "retail": {**((ours or {}).get("retail") or {}), **retail},
                     "rule": f"brands/{item['id']}.retail" if retail else (ours or {}).get("rule", f"brands/{item['id']}")}
            for n in names:
                pr.brands[brand_key(n)] = entry
        return pr

    def brand(self, name: str | None) -> dict[str, Any] | None:
        return self.brands.get(brand_key(name)) if name else None

    def category_of(self, text: str) -> str | None:
        """The product category named in ``text``: the longest category word found."""
        t = normalize(text).lower()
        best: tuple[int, str] | None = None
        for cat, words in self.categories.items():
            for w in words:
                if w.lower() in t and (best is None or len(w) > best[0]):
                    best = (len(w), cat)
        return best[1] if best else None

    def tier(self, name: str) -> dict[str, Any]:
        return self.tiers.get(name) or self.tiers.get(self.default_tier) or {"min_ratio": 0.5, "high_below": 0.2}


def _retail(raw: Any) -> dict[str, tuple[float, float]]:
    """``{cat: [min, max]}`` or ``{cat: {min, max}}`` or ``[{category, min, max}]`` -> dict."""
    out: dict[str, tuple[float, float]] = {}
    if isinstance(raw, dict):
        for cat, v in raw.items():
            if isinstance(v, list | tuple) and len(v) == 2:
                out[str(cat)] = (float(v[0]), float(v[1]))
            elif isinstance(v, dict) and "min" in v:
                out[str(cat)] = (float(v["min"]), float(v.get("max", v["min"])))
    elif isinstance(raw, list):
        for v in raw:
            if isinstance(v, dict) and "min" in v:
                out[str(v.get("category", "any"))] = (float(v["min"]), float(v.get("max", v["min"])))
    return out


def brand_key(name: str | None) -> str:
    import unicodedata  # noqa: PLC0415

    s = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode() or str(name or "")
    s = re.sub(r"[\s\-_.'’]+", "", s.lower())
    return s or str(name or "").lower()


def retail_reference(pr: PriceRules, brand: str, category: str | None) -> tuple[tuple[float, float], str, str] | None:
    """(range, category used, rule) for a brand; the category's range, else ``any``, else the lowest."""
    b = pr.brand(brand)
    if not b or not b["retail"]:
        return None
    retail = b["retail"]
    if category and category in retail:
        return retail[category], category, b["rule"]
    if "any" in retail:
        return retail["any"], "any", b["rule"]
    low = min(retail.values(), key=lambda r: r[0])
    return low, "any", b["rule"]


def find_prices(text: str, pr: PriceRules) -> list[PriceMention]:
    """Price mentions in ``text`` (normalised inside), classified by their markers."""
    t = normalize(text)
    out: list[PriceMention] = []
    for m in _AMOUNT.finditer(t):
        s, e = m.span()
        raw = m.group(0)
        if not raw or raw in ("十", "千", "百", "万") or m.group("num") in _UNIT or m.group("num") in _BIG:
            continue
        after = t[e:e + 4]
        before = t[max(0, s - 10):s]
        if not m.group("cur") and any(after.startswith(w) for w in pr.not_price_after):
            continue
        if s > 0 and (t[s - 1].isascii() and t[s - 1].isalpha() and t[s - 1] not in "wWkK"):
            continue  # part of a code such as S925 / Au750
        if re.match(r"\s*[%‰]", after):
            continue
        try:
            amt = _amount_from_match(m)
        except AmountError:
            continue
        if amt.value <= 0:
            continue
        sign = any(before.rstrip().endswith(c) for c in pr.currency_signs)
        cur = bool(m.group("cur")) or sign
        marker, role = _marker(before, pr)
        if role is None and not cur:
            continue
        if not cur and len(m.group("num").strip()) < 2:
            continue  # a lone digit after a marker ("只要一…") is rarely a price: too risky
        if role is None:
            role = "price"
        out.append(PriceMention(amt, role, s, e, raw, marker))
    return out


def _marker(before: str, pr: PriceRules) -> tuple[str | None, str | None]:
    """The nearest price marker ending within a few characters before the amount."""
    best: tuple[int, str, str] | None = None
    for role, words in (("reference", pr.reference_markers), ("offer", pr.offer_markers)):
        for w in words:
            i = before.rfind(w)
            if i < 0:
                continue
            gap = before[i + len(w):]
            # Allow "专柜价格是两万多", "只要¥390", "价格：399" but not other words between
            # ("福利价和原版一模一样" is not a price of 一).
            if len(gap) <= 3 and re.fullmatch(r"[\s:：是的就也都才只要仅为¥￥$]*", gap):
                dist = len(before) - (i + len(w))
                if best is None or dist < best[0] or (dist == best[0] and len(w) > len(best[1])):
                    best = (dist, w, role)
    return (best[1], best[2]) if best else (None, None)


def judge(ratio: float, thresholds: dict[str, Any]) -> str | None:
    """Severity for a price ratio, or None when it is not anomalous."""
    if ratio >= float(thresholds.get("min_ratio", 0.5)):
        return None
    return "high" if ratio < float(thresholds.get("high_below", 0.2)) else "medium"


@register_validator
def _validate(rules: RuleSet) -> None:
    s = rules.settings("prices")
    if not s and not rules.items("prices"):
        return
    tiers = s.get("tiers") or {}
    for name, t in tiers.items():
        if not isinstance(t, dict) or not isinstance(t.get("min_ratio"), int | float):
            raise RuleError(tiers, f"price tier {name!r} needs a numeric min_ratio", key=name)
    for item in rules.items("prices"):
        if not isinstance(item, LocatedDict):
            continue
        if item.get("tier") and tiers and item["tier"] not in tiers:
            raise RuleError(item, f"price rule {item['id']!r}: unknown tier {item['tier']!r}", key="tier")
        retail = item.get("retail")
        if retail is not None:
            parsed = _retail(retail)
            if not parsed:
                raise RuleError(item, f"price rule {item['id']!r}: retail must map category -> [min, max]", key="retail")
            for cat, (lo, hi) in parsed.items():
                if lo <= 0 or hi < lo:
                    raise RuleError(item, f"price rule {item['id']!r}: retail {cat} needs 0 < min <= max", key="retail")
