"""The text lexicon: rule files (brands, slang, adlaw, health) -> one list of match entries.

Rules are data (``rules/*.yaml``); this module validates their shape with file:line errors
(registered with ``rules.register_validator``) and flattens them into ``Entry`` objects the
matcher indexes. ``key_terms`` gives the ASR stage the words worth biasing the decoder towards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..rules import LocatedDict, LocatedList, RuleError, RuleSet, register_validator
from .normalize import is_cjk, norm_key

SEVERITIES = ("high", "medium", "low")
SOURCES = ("speech", "screen", "chat", "frame", "page")
TEXT_KINDS = ("brands", "slang", "adlaw", "health")
_DEFAULT_FINDING = {"slang": "counterfeit_slang", "adlaw": "absolute_claim", "health": "health_claim"}


@dataclass(frozen=True)
class Entry:
    """One searchable term and what a match of it means."""

    term: str  # the lexicon spelling as written in the rule (canonical)
    key: str  # normalised spelling used for matching
    kind: str  # finding kind: brand_codeword, brand_mention, counterfeit_slang, ...
    rule: str  # "brands/chanel.codewords", "slang/one_to_one"
    severity: str
    explanation_zh: str
    explanation_en: str
    law: str | None = None
    brand: str | None = None
    ambiguous: bool = False  # fires only with context
    categories: tuple[str, ...] = ()  # brand categories whose product words give context
    exact_only: bool = False
    needs_context: bool = False
    sources: frozenset[str] | None = None
    exceptions: tuple[str, ...] = ()  # normalised innocent phrases containing the term

    @property
    def is_cjk(self) -> bool:
        return all(is_cjk(c) or c.isdigit() for c in self.key) and any(is_cjk(c) for c in self.key)

    @property
    def is_latin(self) -> bool:
        return not any(is_cjk(c) for c in self.key)

    @property
    def explanation(self) -> str:
        return f"{self.explanation_zh} / {self.explanation_en}" + (f" [{self.law}]" if self.law else "")


@dataclass
class Lexicon:
    entries: list[Entry]
    categories: dict[str, list[str]]  # category -> normalised product words
    price_patterns: list[re.Pattern[str]]
    context_window: int
    mention_confidence: float
    brands: dict[str, dict[str, Any]] = field(default_factory=dict)  # brand -> {categories, retail_cny}


# ------------------------------------------------------------------------------ validation
def _need_str(item: LocatedDict, key: str) -> str:
    v = item.get(key)
    if not isinstance(v, str) or not v.strip():
        raise RuleError(item, f"rule {item.get('id')!r}: missing or empty '{key}'", key=key if key in item else None)
    return v


def _need_terms(item: LocatedDict, key: str, *, required: bool) -> list[str]:
    v = item.get(key)
    if v is None and not required:
        return []
    if not isinstance(v, list) or (required and not v):
        raise RuleError(item, f"rule {item.get('id')!r}: '{key}' must be a non-empty list of strings",
                        key=key if key in item else None)
    for t in v:
        if not isinstance(t, str):
            # YAML reads 1:1 as the number 61 and 350 as an int: demand quotes instead of guessing.
            raise RuleError(v if isinstance(v, LocatedList) else item,
                            f"rule {item.get('id')!r}: term {t!r} in '{key}' is not text (YAML read it as "
                            f"{type(t).__name__}): put it in quotes")
        if not t.strip() or not norm_key(t):
            raise RuleError(v if isinstance(v, LocatedList) else item, f"rule {item.get('id')!r}: bad term {t!r} in '{key}'")
    return [str(t) for t in v]


def _check_common(item: LocatedDict) -> None:
    sev = item.get("severity")
    if sev not in SEVERITIES:
        raise RuleError(item, f"rule {item.get('id')!r}: 'severity' must be one of high, medium, low (got {sev!r})",
                        key="severity" if "severity" in item else None)
    exp = item.get("explanation")
    if not isinstance(exp, dict) or not all(isinstance(exp.get(k), str) and exp[k].strip() for k in ("zh", "en")):
        raise RuleError(item, f"rule {item.get('id')!r}: 'explanation' needs one line in 'zh' and 'en'",
                        key="explanation" if "explanation" in item else None)
    _need_str(item, "law")
    src = item.get("sources")
    if src is not None and (not isinstance(src, list) or any(s not in SOURCES for s in src)):
        raise RuleError(item, f"rule {item.get('id')!r}: 'sources' must be a list of {', '.join(SOURCES)}", key="sources")
    for flag in ("exact_only", "needs_context"):
        if flag in item and not isinstance(item[flag], bool):
            raise RuleError(item, f"rule {item.get('id')!r}: '{flag}' must be true or false", key=flag)


@register_validator
def validate_text_rules(rs: RuleSet) -> None:
    """Check the fields of brands/slang/adlaw/health rules; RuleError names file:line."""
    for f in rs.files:
        if f.kind not in TEXT_KINDS:
            continue
        if f.kind == "brands":
            cats = f.data.get("categories")
            if cats is not None and not isinstance(cats, dict):
                raise RuleError(f.data, "'categories' must map a category to a list of product words", key="categories")
            pats = f.data.get("price_patterns") or []
            for p in pats:
                try:
                    re.compile(str(p))
                except re.error as exc:
                    raise RuleError(pats, f"bad price pattern {p!r}: {exc}") from None
        for item in f.data.get("rules") or []:
            _check_common(item)
            if f.kind == "brands":
                _need_str(item, "brand")
                _need_terms(item, "names", required=True)
                _need_terms(item, "codewords", required=False)
                _need_terms(item, "ambiguous", required=False)
                cats = item.get("categories")
                if not isinstance(cats, list) or not cats:
                    raise RuleError(item, f"rule {item.get('id')!r}: 'categories' must be a non-empty list",
                                    key="categories" if "categories" in item else None)
                retail = item.get("retail_cny") or {}
                if not isinstance(retail, dict):
                    raise RuleError(item, f"rule {item.get('id')!r}: 'retail_cny' must map category to [low, high]",
                                    key="retail_cny")
                for cat, rng in retail.items():
                    ok = (isinstance(rng, list) and len(rng) == 2 and all(isinstance(x, (int, float)) for x in rng)
                          and 0 < rng[0] <= rng[1])
                    if not ok:
                        raise RuleError(retail, f"rule {item.get('id')!r}: retail_cny.{cat} must be [low, high] CNY, low <= high",
                                        key=cat)
            else:
                _need_terms(item, "terms", required=True)
                _need_terms(item, "exceptions", required=False)
    # Category names used by brands must exist (after merging all brand files).
    known = set((rs.settings("brands").get("categories") or {}).keys())
    for item in rs.items("brands"):
        for c in item.get("categories") or []:
            if known and c not in known:
                raise RuleError(item, f"rule {item.get('id')!r}: unknown category {c!r} (known: {', '.join(sorted(known))})",
                                key="categories")


# ------------------------------------------------------------------------------ building
def _exp(item: dict[str, Any]) -> tuple[str, str]:
    e = item.get("explanation") or {}
    return str(e.get("zh", "")).strip(), str(e.get("en", "")).strip()


def _sources(item: dict[str, Any], default: Any) -> frozenset[str] | None:
    src = item.get("sources", default)
    return frozenset(src) if src else None


_CACHE: dict[str, Lexicon] = {}


def build_lexicon(rs: RuleSet) -> Lexicon:
    """Flatten a rule set into entries; cached by the rule set's sha256 (rules are immutable data)."""
    sha = rs.sha256
    if sha not in _CACHE:
        _CACHE.clear()  # one rule set per process is the norm; do not grow without bound
        _CACHE[sha] = _build(rs)
    return _CACHE[sha]


def _build(rs: RuleSet) -> Lexicon:
    entries: list[Entry] = []
    brand_settings = rs.settings("brands")
    brands: dict[str, dict[str, Any]] = {}
    for item in rs.items("brands"):
        zh, en = _exp(item)
        brand = str(item["brand"])
        cats = tuple(item.get("categories") or ())
        brands[brand] = {"id": item["id"], "categories": list(cats), "retail_cny": dict(item.get("retail_cny") or {})}
        common = dict(brand=brand, severity=item["severity"], explanation_zh=zh, explanation_en=en,
                      law=item.get("law"), categories=cats, sources=_sources(item, None))
        for t in item.get("names") or []:
            entries.append(Entry(term=str(t), key=norm_key(str(t)), kind="brand_mention", rule=f"brands/{item['id']}.names",
                                 **{**common, "severity": brand_settings.get("mention_severity", "low"),
                                    "explanation_zh": f"提及品牌{brand}。", "explanation_en": f"Mentions the brand {brand}."},
                                 # A short or Latin name heard wrongly is too often another word.
                                 exact_only=len(norm_key(str(t))) < 3 or not any(is_cjk(c) for c in str(t))))
        for t in item.get("codewords") or []:
            entries.append(Entry(term=str(t), key=norm_key(str(t)), kind="brand_codeword",
                                 rule=f"brands/{item['id']}.codewords", **common))
        for t in item.get("ambiguous") or []:
            entries.append(Entry(term=str(t), key=norm_key(str(t)), kind="brand_codeword",
                                 rule=f"brands/{item['id']}.codewords", ambiguous=True, **common))
    for kind in ("slang", "adlaw", "health"):
        default_sources = rs.settings(kind).get("sources")
        for item in rs.items(kind):
            zh, en = _exp(item)
            finding = str(item.get("finding") or _DEFAULT_FINDING[kind])
            exc = tuple(norm_key(str(e)) for e in item.get("exceptions") or [])
            for t in item.get("terms") or []:
                entries.append(Entry(
                    term=str(t), key=norm_key(str(t)), kind=finding, rule=f"{kind}/{item['id']}",
                    severity=item["severity"], explanation_zh=zh, explanation_en=en, law=item.get("law"),
                    exact_only=bool(item.get("exact_only", False)), needs_context=bool(item.get("needs_context", False)),
                    sources=_sources(item, default_sources), exceptions=exc))
    cats = {str(c): [norm_key(str(w)) for w in words or []] for c, words in (brand_settings.get("categories") or {}).items()}
    pats = [re.compile(str(p)) for p in brand_settings.get("price_patterns") or []]
    return Lexicon(entries=entries, categories=cats, price_patterns=pats,
                   context_window=int(brand_settings.get("context_window", 14)),
                   mention_confidence=float(brand_settings.get("mention_confidence", 0.9)), brands=brands)


def key_terms(rules: RuleSet) -> list[str]:
    """Brand code-words, Chinese brand names and slang terms: the words worth biasing ASR towards.

    Only CJK spellings (Latin hotwords do not help Mandarin decoding), one spelling per
    normalised form (香奈兒 and 香奈儿 are one term), no ambiguous code-words (biasing towards
    椰子 or 苹果 would make ordinary words look like brands) and no chat-only viewer phrases.
    """
    lex = build_lexicon(rules)
    out: list[str] = []
    seen: set[str] = set()
    for e in lex.entries:
        if e.kind not in ("brand_codeword", "brand_mention", "counterfeit_slang") or e.ambiguous:
            continue
        if (e.sources is not None and "speech" not in e.sources) or not any(is_cjk(c) for c in e.term):
            continue
        if e.key in seen:
            continue
        seen.add(e.key)
        out.append(e.term)  # as written in the rule (双C, H家): the spelling ASR should produce
    return out
