"""The text lexicon: rule files (brands, slang, adlaw, health) -> one list of match entries.

Rules are data (``rules/*.yaml``); this module validates their shape with file:line errors
(registered with ``rules.register_validator``) and flattens them into ``Entry`` objects the
matcher indexes. ``key_terms`` gives the ASR stage the words worth biasing the decoder towards.

Beyond plain terms a rule can say (docs/rules.md):
- a phrase with a bounded gap: ``没有…副作用`` (``…`` = up to ``max_gap`` characters of the same
  clause), and ``patterns`` (label -> regex over the normalised text with numerals as digits,
  ``月瘦N斤: '月瘦[0-9]+'``);
- where it does not count: ``exceptions`` (innocent phrases), ``exception_patterns`` (regexes,
  e.g. 第一 as an ordinal), ``boundary: word`` (never when it cuts an everyday word: 果家 in
  如果家里), ``unless_category`` (not when the product in play is of that category: 医用级 said of
  a registered medical device), ``near`` (fires only when one of these words is close);
- ``evasions: false`` to switch the evasion-aware matching off for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..rules import LocatedDict, LocatedList, RuleError, RuleSet, register_validator
from .evasion import Variants
from .normalize import is_cjk, norm_key

SEVERITIES = ("high", "medium", "low")
SOURCES = ("speech", "screen", "chat", "frame", "page")
TEXT_KINDS = ("brands", "slang", "adlaw", "health")
_DEFAULT_FINDING = {"slang": "counterfeit_slang", "adlaw": "absolute_claim", "health": "health_claim"}
GAP = "…"  # in a term: the parts may be separated by up to max_gap characters of the same clause
DEFAULT_MAX_GAP = 4
BOUNDARIES = ("word", "none")
# ``context: counterfeit``: only counterfeit slang or a brand code-word nearby gives context.
CONTEXTS = {"any": (), "counterfeit": ("counterfeit_slang", "brand_codeword")}


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
    exception_patterns: tuple[re.Pattern[str], ...] = ()  # regexes: a match inside one is dropped
    parts: tuple[str, ...] = ()  # a gapped phrase: normalised parts in order (key is parts joined by GAP)
    max_gap: int = DEFAULT_MAX_GAP
    pattern: re.Pattern[str] | None = None  # a ``patterns`` entry: the regex (term is its label)
    boundary: bool = False  # an exact match must not cut an everyday word (jieba)
    near: tuple[str, ...] = ()  # fires only when one of these (normalised) words is within the window
    unless_category: tuple[str, ...] = ()  # not a finding when the product in play is of these categories
    # Only these kinds of strong matches give it context (no product word, no price): the brand
    # itself or slang for a generic style name (云朵包), slang or a code-word for a guarantee.
    context_kinds: tuple[str, ...] = ()
    negated_by: tuple[str, ...] = ()  # not a claim after one of these words in the same clause (不能治疗)
    evasions: bool = True  # also matched through evasions (fillers, stutters, variant spellings)

    @property
    def plain(self) -> bool:
        """A contiguous term (not a gapped phrase or a pattern): indexed by the automata."""
        return not self.parts and self.pattern is None

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
    # Categories of the product in play (medical_device, drug …) -> normalised words, for unless_category.
    claim_categories: dict[str, list[str]] = field(default_factory=dict)
    category_window: int = 200
    variants: Variants = field(default_factory=Variants)  # the evasion tables (rules/variants.yaml)


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
        if not t.strip() or not norm_key(t) or any(not norm_key(p) for p in split_gaps(t)):
            raise RuleError(v if isinstance(v, LocatedList) else item, f"rule {item.get('id')!r}: bad term {t!r} in '{key}'")
    return [str(t) for t in v]


def split_gaps(term: str) -> list[str]:
    """The parts of a gapped phrase ("没有…副作用" -> ["没有", "副作用"]); one part for a plain term."""
    return term.replace("...", GAP).split(GAP)


def _need_regexes(item: LocatedDict, key: str, values: Any) -> None:
    for p in values:
        try:
            re.compile(str(p))
        except re.error as exc:
            raise RuleError(item, f"rule {item.get('id')!r}: bad regex {p!r} in '{key}': {exc}", key=key) from None


def _check_extras(item: LocatedDict, known_categories: set[str]) -> None:
    """The optional matching fields of docs/rules.md (gaps, patterns, context, exceptions)."""
    rid = item.get("id")
    if "max_gap" in item and (not isinstance(item["max_gap"], int) or isinstance(item["max_gap"], bool)
                              or not 1 <= item["max_gap"] <= 20):
        raise RuleError(item, f"rule {rid!r}: 'max_gap' must be a whole number of characters, 1 to 20", key="max_gap")
    pats = item.get("patterns")
    if pats is not None:
        if not isinstance(pats, dict) or not pats or not all(isinstance(k, str) and isinstance(v, str) for k, v in pats.items()):
            raise RuleError(item, f"rule {rid!r}: 'patterns' must map a label to a regex (both text)", key="patterns")
        _need_regexes(item, "patterns", pats.values())
    exc = item.get("exception_patterns")
    if exc is not None:
        if not isinstance(exc, list) or not all(isinstance(x, str) for x in exc):
            raise RuleError(item, f"rule {rid!r}: 'exception_patterns' must be a list of regexes", key="exception_patterns")
        _need_regexes(item, "exception_patterns", exc)
    _need_terms(item, "near", required=False)
    _need_terms(item, "negated_by", required=False)
    if "context" in item and item["context"] not in CONTEXTS:
        raise RuleError(item, f"rule {rid!r}: 'context' must be one of {', '.join(CONTEXTS)}", key="context")
    if "boundary" in item and item["boundary"] not in BOUNDARIES:
        raise RuleError(item, f"rule {rid!r}: 'boundary' must be one of {', '.join(BOUNDARIES)}", key="boundary")
    if "evasions" in item and not isinstance(item["evasions"], bool):
        raise RuleError(item, f"rule {rid!r}: 'evasions' must be true or false", key="evasions")
    cats = item.get("unless_category")
    if cats is not None:
        if not isinstance(cats, list) or not all(isinstance(c, str) for c in cats):
            raise RuleError(item, f"rule {rid!r}: 'unless_category' must be a list of category names", key="unless_category")
        for c in cats:
            if c not in known_categories:
                raise RuleError(item, f"rule {rid!r}: unknown category {c!r} in 'unless_category' "
                                f"(known: {', '.join(sorted(known_categories))})", key="unless_category")


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


def _all_categories(rs: RuleSet) -> set[str]:
    return {str(c) for kind in TEXT_KINDS for c in (rs.settings(kind).get("categories") or {})}


@register_validator
def validate_text_rules(rs: RuleSet) -> None:
    """Check the fields of brands/slang/adlaw/health rules; RuleError names file:line."""
    for f in rs.files:
        if f.kind not in TEXT_KINDS:
            continue
        cats = f.data.get("categories")
        if cats is not None and (not isinstance(cats, dict) or not all(isinstance(v, list) for v in cats.values())):
            raise RuleError(f.data, "'categories' must map a category to a list of product words", key="categories")
        if "boundary" in f.data and f.data["boundary"] not in BOUNDARIES:
            raise RuleError(f.data, f"'boundary' must be one of {', '.join(BOUNDARIES)}", key="boundary")
        if f.kind == "brands":
            pats = f.data.get("price_patterns") or []
            for p in pats:
                try:
                    re.compile(str(p))
                except re.error as exc:
                    raise RuleError(pats, f"bad price pattern {p!r}: {exc}") from None
        known = _all_categories(rs)
        for item in f.data.get("rules") or []:
            _check_common(item)
            _check_extras(item, known)
            if f.kind == "brands":
                _need_str(item, "brand")
                _need_terms(item, "names", required=True)
                _need_terms(item, "codewords", required=False)
                _need_terms(item, "ambiguous", required=False)
                _need_terms(item, "generic", required=False)
                _need_terms(item, "exceptions", required=False)
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
                _need_terms(item, "terms", required=not item.get("patterns"))
                _need_terms(item, "exceptions", required=False)
    _validate_variants(rs)
    # Category names used by brands must exist (after merging all brand files).
    known = set((rs.settings("brands").get("categories") or {}).keys())
    for item in rs.items("brands"):
        for c in item.get("categories") or []:
            if known and c not in known:
                raise RuleError(item, f"rule {item.get('id')!r}: unknown category {c!r} (known: {', '.join(sorted(known))})",
                                key="categories")


def _validate_variants(rs: RuleSet) -> None:
    """``kind: variants``: fillers (text), chars (one character -> one character), stutter (bool)."""
    for f in rs.files:
        if f.kind != "variants":
            continue
        d = f.data
        fillers = d.get("fillers")
        if fillers is not None and (not isinstance(fillers, list) or not all(isinstance(x, str) and norm_key(x) for x in fillers)):
            raise RuleError(d, "'fillers' must be a list of characters or words", key="fillers")
        chars = d.get("chars")
        if chars is not None:
            if not isinstance(chars, dict):
                raise RuleError(d, "'chars' must map a variant character to its canonical character", key="chars")
            for k, v in chars.items():
                if not (isinstance(k, str) and isinstance(v, str) and len(norm_key(k)) == 1 and len(norm_key(v)) == 1):
                    raise RuleError(chars, f"'chars': {k!r}: {v!r} must map one character to one character", key=k)
        if "stutter" in d and not isinstance(d["stutter"], bool):
            raise RuleError(d, "'stutter' must be true or false", key="stutter")


def _variants(rs: RuleSet) -> Variants:
    v = rs.settings("variants")
    return Variants(fillers=tuple(norm_key(str(x)) for x in v.get("fillers") or []),
                    chars={norm_key(str(k)): norm_key(str(c)) for k, c in (v.get("chars") or {}).items()},
                    stutter=bool(v.get("stutter", True)))


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


def _matching(item: dict[str, Any], kind_settings: dict[str, Any]) -> dict[str, Any]:
    """The Entry fields a rule's optional matching keys give (shared by every term of the rule)."""
    boundary = item.get("boundary", kind_settings.get("boundary", "none")) == "word"
    return dict(
        exceptions=tuple(norm_key(str(e)) for e in item.get("exceptions") or []),
        exception_patterns=tuple(re.compile(str(p)) for p in item.get("exception_patterns") or []),
        max_gap=int(item.get("max_gap", DEFAULT_MAX_GAP)), boundary=boundary,
        near=tuple(norm_key(str(w)) for w in item.get("near") or []),
        unless_category=tuple(str(c) for c in item.get("unless_category") or []),
        negated_by=tuple(norm_key(str(w)) for w in item.get("negated_by") or []),
        context_kinds=CONTEXTS[str(item.get("context", "any"))],
        evasions=bool(item.get("evasions", True)))


def _term(t: str) -> dict[str, Any]:
    """key (and parts, for a gapped phrase) of one term as written in a rule."""
    parts = [norm_key(p) for p in split_gaps(t)]
    if len(parts) == 1:
        return {"term": t, "key": parts[0]}
    return {"term": t, "key": GAP.join(parts), "parts": tuple(parts)}


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
                      law=item.get("law"), categories=cats, sources=_sources(item, None),
                      **_matching(item, brand_settings))
        for t in item.get("names") or []:
            k = _term(str(t))
            entries.append(Entry(**k, kind="brand_mention", rule=f"brands/{item['id']}.names",
                                 **{**common, "severity": brand_settings.get("mention_severity", "low"),
                                    "explanation_zh": f"提及品牌{brand}。", "explanation_en": f"Mentions the brand {brand}."},
                                 # A short or Latin name heard wrongly is too often another word.
                                 exact_only=len(k["key"]) < 3 or not any(is_cjk(c) for c in str(t))))
        generic = {"ambiguous": True, "context_kinds": ("brand_mention", "brand_codeword", "counterfeit_slang")}
        for field_name, extra in (("codewords", {}), ("ambiguous", {"ambiguous": True}), ("generic", generic)):
            for t in item.get(field_name) or []:
                entries.append(Entry(**_term(str(t)), kind="brand_codeword", rule=f"brands/{item['id']}.codewords",
                                     **{**common, **extra}))
    for kind in ("slang", "adlaw", "health"):
        settings = rs.settings(kind)
        default_sources = settings.get("sources")
        for item in rs.items(kind):
            zh, en = _exp(item)
            finding = str(item.get("finding") or _DEFAULT_FINDING[kind])
            common = dict(kind=finding, rule=f"{kind}/{item['id']}", severity=item["severity"], explanation_zh=zh,
                          explanation_en=en, law=item.get("law"), exact_only=bool(item.get("exact_only", False)),
                          needs_context=bool(item.get("needs_context", False)),
                          sources=_sources(item, default_sources), **_matching(item, settings))
            for t in item.get("terms") or []:
                entries.append(Entry(**_term(str(t)), **common))
            for label, regex in (item.get("patterns") or {}).items():
                entries.append(Entry(term=str(label), key=norm_key(str(label)), pattern=re.compile(str(regex)), **common))
    cats = {str(c): [norm_key(str(w)) for w in words or []] for c, words in (brand_settings.get("categories") or {}).items()}
    claim_cats: dict[str, list[str]] = {}
    for kind in TEXT_KINDS:
        for c, words in (rs.settings(kind).get("categories") or {}).items():
            claim_cats.setdefault(str(c), []).extend(norm_key(str(w)) for w in words or [])
    pats = [re.compile(str(p)) for p in brand_settings.get("price_patterns") or []]
    return Lexicon(entries=entries, categories=cats, price_patterns=pats,
                   context_window=int(brand_settings.get("context_window", 14)),
                   mention_confidence=float(brand_settings.get("mention_confidence", 0.9)), brands=brands,
                   claim_categories=claim_cats, variants=_variants(rs),
                   category_window=int(rs.settings("health").get("category_window", 200)))


def key_terms(rules: RuleSet) -> list[str]:
    """Brand code-words, Chinese brand names and slang terms: the words worth biasing ASR towards.

    Only CJK spellings (Latin hotwords do not help Mandarin decoding), one spelling per
    normalised form (香奈兒 and 香奈儿 are one term), no ambiguous code-words (biasing towards
    椰子 or 苹果 would make ordinary words look like brands), no slang a rule keeps to exact
    matches (低仿 sounds like 地方) and no chat-only viewer phrases.
    """
    lex = build_lexicon(rules)
    out: list[str] = []
    seen: set[str] = set()
    for e in lex.entries:
        if e.kind not in ("brand_codeword", "brand_mention", "counterfeit_slang") or e.ambiguous or not e.plain:
            continue
        if e.exact_only and e.kind == "counterfeit_slang":
            continue  # slang never matched by sound (低仿 ~ 地方) would turn everyday words into terms
        if (e.sources is not None and "speech" not in e.sources) or not any(is_cjk(c) for c in e.term):
            continue
        if e.key in seen:
            continue
        seen.add(e.key)
        out.append(e.term)  # as written in the rule (双C, H家): the spelling ASR should produce
    return out
