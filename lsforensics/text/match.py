"""Find lexicon terms in text: exact, by sound (pinyin), and fuzzy for long phrases.

Order of evidence, strongest first:
1. ``exact``: Aho-Corasick over the normalised text (and over its numeral-as-digits form).
2. ``pinyin``: the same automaton idea over folded syllables (zh/z, ch/c, sh/s, n/l, f/h, -n/-ng),
   for ASR homophones (鋁牌 -> 驴牌). Kept only where the heard span lines up with word boundaries
   (a jieba segmentation that knows the lexicon terms), so 大小相同 never yields 小香.
3. ``fuzzy``: phrases of 4+ characters aligned with edit distance over syllables, for ASR
   that garbles a syllable or two (和原版螢幕一樣 -> 和原版一模一样).

A heard span that is itself an everyday word (老化, 小巷: frequent in jieba's dictionary) is never
a term by sound.

Context gate: an ambiguous code-word (椰子, 百搭), a rule marked ``needs_context``, and a sound
match of a short term or of a rarer word fire only when a brand, counterfeit slang, product word
(or, except for brand code-words, a price) is within ``context_window`` characters; brand
code-words need their own brand's product categories, and two-syllable slang heard by sound
(高方 -> 高仿) needs a brand or other slang. Exceptions listed in a rule (第一次 for 第一) veto a
match inside them.
"""

from __future__ import annotations

import bisect
import logging
import re
from dataclasses import dataclass

import ahocorasick
from rapidfuzz import fuzz

from .lexicon import Entry, Lexicon
from .normalize import NormText, is_cjk, normalize, numeric
from .pinyin import char_pinyin, fold, syllable_similarity, to_pinyin

_SENTENCE_END = re.compile(r"[,.!?;:。，！？；：\n]")
_FUZZY_MIN_LEN = 4
# Fuzzy needs more of a short phrase right: 3 of 4 syllables (珍贵品质 -> 专柜品质) but not 2.
_FUZZY_MIN_SIM = {4: 0.8}
_FUZZY_DEFAULT_SIM = 0.75
_CUT_WORD_FREQ = 30  # a segmented word rarer than this may be cut by a term (jieba oddities)
_ORDINARY_WORD_FREQ = 100  # a heard span this frequent in jieba's dictionary is never a term by sound
_COMMON_WORD_FREQ = 50  # a heard span that is a jieba word this frequent is an ordinary word
# Only code-words and slang are worth matching by sound when they are two syllables long.
_SHORT_SOUND_KINDS = ("brand_codeword", "counterfeit_slang")
_METHOD_RANK = {"exact": 0, "fuzzy": 1, "pinyin": 2}


@dataclass
class TextMatch:
    """A lexicon term found in one text; offsets index the original (un-normalised) text."""

    entry: Entry
    start: int
    end: int
    matched: str
    method: str  # exact | pinyin | fuzzy
    confidence: float
    context: str | None = None  # the word that satisfied the context gate, if one was needed
    similarity: float = 1.0


@dataclass
class _Hit:
    entry: Entry
    s: int  # layer-1 normalised offsets
    e: int
    os: int  # original offsets
    oe: int
    method: str
    sim: float
    needs_context: bool


class Words:
    """Word boundaries of a text, segmented lazily one sentence at a time (jieba is the slow part).

    The one test of "does a sound match line up with the words" for every matcher by sound (the
    lexicon's here, the material ontology's in ``claims``)."""

    def __init__(self, text: str, tk) -> None:  # noqa: ANN001 - jieba Tokenizer
        self.text = text
        self.tk = tk
        self.cuts = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
        self.cache: dict[int, list[tuple[int, int, int]]] = {}

    def _chunk(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self.cuts, pos) - 1)

    def _tokens(self, k: int) -> list[tuple[int, int, int]]:
        if k not in self.cache:
            a, b = self.cuts[k], self.cuts[min(k + 1, len(self.cuts) - 1)]
            toks, pos = [], a
            for tok in self.tk.cut(self.text[a:b], HMM=False):
                toks.append((pos, pos + len(tok), int(self.tk.FREQ.get(tok) or 0) if len(tok) > 1 else 0))
                pos += len(tok)
            self.cache[k] = toks
        return self.cache[k]

    def aligned(self, s: int, e: int) -> bool:
        """False when [s, e) cuts through a real word of its sentence (大小|相同 for 小相).

        Only dictionary words of some frequency count: jieba's dictionary also holds oddities
        (全部堆) that would otherwise hide a term (堆版 ~ 对版) next to them.
        """
        k = self._chunk(s)
        if k + 1 < len(self.cuts) and e > self.cuts[k + 1]:
            return False
        for ts, te, freq in self._tokens(k):
            if te <= s or ts >= e:
                continue
            if (ts < s or te > e) and freq >= _CUT_WORD_FREQ:
                return False
        return True


def tokenizer(words: list[str]):  # noqa: ANN202 - jieba has no type hints
    """A jieba tokenizer that keeps each of ``words`` whole (a term is a word: 小香包 is 小香/包)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.initialize()
    for w in words:
        # Lexicon terms are words: 小香包 must split as 小香/包, not 小/香包.
        tk.add_word(w, freq=max(tk.FREQ.get(w) or 0, 3000))
    return tk


class Matcher:
    """Index a lexicon once; ``find`` is then fast (a 20,000-character transcript well under 1 s)."""

    def __init__(self, lex: Lexicon):
        self.lex = lex
        self.window = lex.context_window
        self._exact = ahocorasick.Automaton()
        self._exact_num = ahocorasick.Automaton()
        self._syl_code: dict[str, str] = {}
        self._pinyin = ahocorasick.Automaton()
        self._fuzzy: list[tuple[Entry, list[str], str]] = []
        exact_keys: dict[str, list[Entry]] = {}
        num_keys: dict[str, list[Entry]] = {}
        py_keys: dict[str, list[tuple[Entry, list[str]]]] = {}
        for e in lex.entries:
            exact_keys.setdefault(e.key, []).append(e)
            nk = numeric(normalize(e.key)).text
            if nk != e.key:
                num_keys.setdefault(nk, []).append(e)
            if e.exact_only or not e.is_cjk or len(e.key) < 2:
                continue
            syl = to_pinyin(e.key)
            plain = char_pinyin(e.key)
            if any(s is None for s in syl) or any(s is None for s in plain):
                continue
            # Candidates are found on per-character readings (fast, same on both sides);
            # the similarity is then graded on the phrase-aware readings.
            code = self._encode(plain)  # type: ignore[arg-type]
            py_keys.setdefault(code, []).append((e, syl))  # type: ignore[arg-type]
            if len(e.key) >= _FUZZY_MIN_LEN:
                self._fuzzy.append((e, syl, code))  # type: ignore[arg-type]
        self._exceptions = ahocorasick.Automaton()
        for ex in {x for e in lex.entries for x in e.exceptions}:
            self._exceptions.add_word(ex, ex)
        if len(self._exceptions):
            self._exceptions.make_automaton()
        self._fuzzy_index: dict[str, list[int]] = {}
        for i, (_e, _syl, code) in enumerate(self._fuzzy):
            for c in set(code):
                self._fuzzy_index.setdefault(c, []).append(i)
        for k, v in exact_keys.items():
            self._exact.add_word(k, (k, v))
        for k, v in num_keys.items():
            self._exact_num.add_word(k, (k, v))
        for k, v in py_keys.items():
            self._pinyin.add_word(k, (k, v))
        for a in (self._exact, self._exact_num, self._pinyin):
            if len(a):
                a.make_automaton()
        # Context words: product words per category.
        self._ctx = ahocorasick.Automaton()
        ctx: dict[str, set[str]] = {}
        for cat, words in lex.categories.items():
            for w in words:
                ctx.setdefault(w, set()).add(cat)
        for w, cats in ctx.items():
            self._ctx.add_word(w, (w, frozenset(cats)))
        if len(self._ctx):
            self._ctx.make_automaton()
        self._tk = tokenizer(sorted({e.key for e in lex.entries if e.is_cjk} | set(ctx)))

    # -- helpers ----------------------------------------------------------------------------
    def _encode(self, syllables: list[str]) -> str:
        out = []
        for s in syllables:
            f = fold(s)
            if f not in self._syl_code:
                self._syl_code[f] = chr(0xE000 + len(self._syl_code))  # private-use plane: never in text
            out.append(self._syl_code[f])
        return "".join(out)

    def _encode_text(self, syl: list[str | None]) -> str:
        return "".join(self._syl_code.get(fold(s), "\x01") if s else "\x00" for s in syl)

    def word_freq(self, word: str) -> int:
        return int(self._tk.FREQ.get(word) or 0)

    # -- search -----------------------------------------------------------------------------
    def find(self, text: str, source: str | None = None, *,
             gate_span: tuple[int, int] | None = None) -> list[TextMatch]:
        """Every lexicon match in ``text`` that passes source, exception and context checks.

        ``gate_span`` (original offsets): a match exactly there must pass the context gate even if
        its term would not need it (a term only a biased re-decoding heard).
        """
        if not text or not text.strip():
            return []
        nt = normalize(text)
        if not nt.text:
            return []
        nn = numeric(nt)
        words = Words(nt.text, self._tk)
        hits = self._exact_hits(nt, nn)
        coded = self._encode_text(char_pinyin(nt.text))
        hits += self._pinyin_hits(nt, coded, words, hits)
        hits += self._fuzzy_hits(nt, coded, words, hits)
        hits = [h for h in hits if source is None or h.entry.sources is None or source in h.entry.sources]
        hits = self._drop_exceptions(nt, nn, hits)
        hits = self._dedupe(hits)
        if gate_span is not None:
            for h in hits:
                if (h.os, h.oe) == gate_span:
                    h.needs_context = True
        return self._gate(nt, nn, words, hits)

    def _exact_hits(self, nt: NormText, nn: NormText) -> list[_Hit]:
        out: list[_Hit] = []
        for layer, auto in ((nt, self._exact), (nn, self._exact_num)):
            if not len(auto):
                continue
            text = layer.text
            for end, (key, entries) in auto.iter(text):
                s, e = end - len(key) + 1, end + 1
                if not self._latin_ok(text, s, e, key):
                    continue
                os_, oe = layer.span(s, e)
                # Layer-1 offsets for context and segmentation; numeric-layer hits map via the original.
                ls, le = (s, e) if layer is nt else _to_layer(nt, os_, oe)
                for en in entries:
                    out.append(_Hit(en, ls, le, os_, oe, "exact", 1.0, en.ambiguous or en.needs_context))
        return out

    @staticmethod
    def _latin_ok(text: str, s: int, e: int, key: str) -> bool:
        """Latin/digit terms must not sit inside a longer word or number (lv in lv6, 1:1 in 11:15)."""
        if key[0].isascii() and key[0].isalnum() and s > 0 and text[s - 1].isascii() and text[s - 1].isalnum():
            return False
        return not (key[-1].isascii() and key[-1].isalnum() and e < len(text) and text[e].isascii()
                    and text[e].isalnum())

    def _pinyin_hits(self, nt: NormText, coded: str, words: Words, exact: list[_Hit]) -> list[_Hit]:
        if not len(self._pinyin):
            return []
        out: list[_Hit] = []
        exact_spans = {(h.s, h.e, h.entry.term) for h in exact}
        for end, (code, items) in self._pinyin.iter(coded):
            s, e = end - len(code) + 1, end + 1
            heard = nt.text[s:e]
            if not all(is_cjk(c) or c.isdigit() for c in heard):
                continue
            todo = [(en, ts) for en, ts in items if heard != en.key and (s, e, en.term) not in exact_spans
                    and (len(heard) > 2 or en.kind in _SHORT_SOUND_KINDS)]  # 底价 by sound is too often 地价
            if not todo or not words.aligned(s, e):
                continue  # the sound spans parts of two words: 大小|相同 is not 小香
            freq = self.word_freq(heard)
            if freq >= _ORDINARY_WORD_FREQ:
                continue  # the speaker said an ordinary word (老化, 小巷), not a term that sounds like it
            heard_syl = [x for x in to_pinyin(heard) if x]
            common = len(heard) <= 2 or freq >= _COMMON_WORD_FREQ
            os_, oe = nt.span(s, e)
            for en, term_syl in todo:
                sim = syllable_similarity(heard_syl, term_syl)
                # A brand name heard only by sound (凡是这 ~ 范思哲) needs its brand's context.
                gate = en.ambiguous or en.needs_context or common or en.kind == "brand_mention"
                out.append(_Hit(en, s, e, os_, oe, "pinyin", sim, gate))
        return out

    def _fuzzy_hits(self, nt: NormText, coded: str, words: Words, prior: list[_Hit]) -> list[_Hit]:
        if not self._fuzzy:
            return []
        covered: dict[int, list[int]] = {}
        for h in prior:
            covered.setdefault(h.s, []).append(h.e)
        out: list[_Hit] = []
        cuts = words.cuts
        for k in range(len(cuts) - 1):
            a, b = cuts[k], cuts[k + 1]
            if b - a < _FUZZY_MIN_LEN - 1:
                continue
            chunk_code = coded[a:b]
            # Inverted index: only terms sharing >= 60% of their syllables with the sentence.
            counts: dict[int, int] = {}
            for c in set(chunk_code):
                for i in self._fuzzy_index.get(c, ()):
                    counts[i] = counts.get(i, 0) + 1
            for i, n in counts.items():
                en, term_syl, code = self._fuzzy[i]
                if n < 0.6 * len(set(code)):
                    continue
                al = fuzz.partial_ratio_alignment(code, chunk_code, score_cutoff=60)
                if al is None:
                    continue
                s, e = a + al.dest_start, a + al.dest_end
                if e - s < len(code) - 2:
                    continue
                if any(cs <= s and e <= ce for cs in range(max(0, s - 40), s + 1) for ce in covered.get(cs, ())):
                    continue  # already found (exactly or by sound) as a whole
                heard = nt.text[s:e]
                sim = syllable_similarity([x for x in to_pinyin(heard) if x], term_syl)
                same_chars = sum(1 for c in set(en.key) if c in heard) / len(set(en.key))
                if (sim < _FUZZY_MIN_SIM.get(len(en.key), _FUZZY_DEFAULT_SIM) or same_chars < 0.5
                        or not words.aligned(s, e)):
                    continue
                os_, oe = nt.span(s, e)
                # A garbled four-syllable phrase (珍贵品质的回忆) is only a term with context.
                gate = en.ambiguous or en.needs_context or len(en.key) < 5
                out.append(_Hit(en, s, e, os_, oe, "fuzzy", sim, gate))
        return out

    def _drop_exceptions(self, nt: NormText, nn: NormText, hits: list[_Hit]) -> list[_Hit]:
        """Drop hits that lie inside one of their rule's innocent phrases (第一 in 第一次)."""
        if not len(self._exceptions):
            return hits
        spans: dict[str, list[tuple[int, int]]] = {}
        for layer in (nt, nn):
            for end, key in self._exceptions.iter(layer.text):
                spans.setdefault(key, []).append(layer.span(end - len(key) + 1, end + 1))
        if not spans:
            return hits
        return [h for h in hits if not any(xs <= h.os and h.oe <= xe for ex in h.entry.exceptions
                                           for xs, xe in spans.get(ex, ()))]

    @staticmethod
    def _dedupe(hits: list[_Hit]) -> list[_Hit]:
        """Keep the most specific reading of each stretch of text.

        A sound/fuzzy hit that cuts into an exact hit of any kind is dropped (迪家 read exactly is
        not 底价 by sound). Within a kind, longer hits win (一比一复刻 over 一比一), except that an
        exact hit inside a longer fuzzy one stays as its own, stronger, evidence.
        """
        exact_at: dict[int, list[_Hit]] = {}
        for h in hits:
            if h.method == "exact":
                for i in range(h.os, h.oe):
                    exact_at.setdefault(i, []).append(h)
        # Kept only when every exact hit it touches lies strictly inside it (原版 in 和原版萤幕一样).
        hits = [h for h in hits if h.method == "exact" or not any(
            not (h.os <= x.os and x.oe <= h.oe and (x.os, x.oe) != (h.os, h.oe))
            for i in range(h.os, h.oe) for x in exact_at.get(i, ()))]
        hits = sorted(hits, key=lambda h: (-(h.oe - h.os), _METHOD_RANK[h.method], -h.sim, h.os))
        kept: list[_Hit] = []
        kept_at: dict[tuple[str, int], list[_Hit]] = {}
        for h in hits:
            clash = False
            for k in {id(k): k for i in range(h.os, h.oe) for k in kept_at.get((h.entry.kind, i), ())}.values():
                if h.method == "exact" and k.method != "exact":
                    continue
                # Same span, different brands (迪加 = 迪家 Dior or 蒂家 Tiffany by sound): the
                # context gate decides between them.
                if (k.os, k.oe) == (h.os, h.oe) and k.entry.brand != h.entry.brand:
                    continue
                clash = True
                break
            if not clash:
                kept.append(h)
                for i in range(h.os, h.oe):
                    kept_at.setdefault((h.entry.kind, i), []).append(h)
        return kept

    def _gate(self, nt: NormText, nn: NormText, words: Words, hits: list[_Hit]) -> list[TextMatch]:
        strong = [h for h in hits if h.method == "exact" and not h.needs_context
                  and h.entry.kind in ("brand_mention", "brand_codeword", "counterfeit_slang")]
        prices: list[tuple[int, int, str]] | None = None
        out: list[TextMatch] = []
        w = self.window
        for h in hits:
            ctx_word: str | None = None
            if h.needs_context:
                # A brand code-word needs context that fits its brand: the brand itself, its product
                # categories, or counterfeit slang. A price alone does not make 椰子 a sneaker.
                branded = h.entry.kind == "brand_codeword"
                lo, hi = h.s - w, h.e + w
                for k in strong:
                    if k is h or not (k.e > lo and k.s < hi and (k.e <= h.s or k.s >= h.e)):
                        continue
                    if branded and k.entry.kind != "counterfeit_slang" and k.entry.brand != h.entry.brand:
                        continue
                    ctx_word = nt.text[k.s:k.e]
                    break
                # Two-syllable slang heard by sound (高防 ~ 高仿, 对半 ~ 对版) needs a brand or
                # other slang nearby: a product word is too common around ordinary words.
                strong_only = h.method == "pinyin" and len(h.entry.key) <= 2 and h.entry.kind == "counterfeit_slang"
                if ctx_word is None and not strong_only:
                    for ps, pe, word, cats in self._products(nt, words, max(0, lo), hi):
                        if pe > lo and ps < hi and (pe <= h.s or ps >= h.e):
                            if branded and h.entry.categories and not (cats & set(h.entry.categories)):
                                continue
                            ctx_word = word
                            break
                if ctx_word is None and not branded and not strong_only:
                    if prices is None:
                        prices = self._prices(nt, nn)
                    for ps, pe, word in prices:
                        if pe > lo and ps < hi and (pe <= h.s or ps >= h.e):
                            ctx_word = word
                            break
                if ctx_word is None:
                    continue
            out.append(self._to_match(nt, h, ctx_word))
        out.sort(key=lambda m: (m.start, m.end))
        return out

    def _products(self, nt: NormText, words: Words, lo: int, hi: int) -> list[tuple[int, int, str, frozenset[str]]]:
        """Product words in nt.text[lo:hi] that stand as words of their own (包邮 is not 包, 表情 is not 表)."""
        if not len(self._ctx):
            return []
        out = []
        # Iterate a slice: pyahocorasick's iter(text, start, end) returned matches of an earlier
        # text once the window ran past the end of a shorter one.
        for end, (word, cats) in self._ctx.iter(nt.text[lo:hi]):
            s, e = lo + end - len(word) + 1, lo + end + 1
            if self._latin_ok(nt.text, s, e, word) and words.aligned(s, e):
                out.append((s, e, word, cats))
        return out

    def _prices(self, nt: NormText, nn: NormText) -> list[tuple[int, int, str]]:
        out = []
        for pat in self.lex.price_patterns:
            for m in pat.finditer(nn.text):
                os_, oe = nn.span(m.start(), m.end())
                s, e = _to_layer(nt, os_, oe)
                out.append((s, e, m.group()))
        return out

    def _to_match(self, nt: NormText, h: _Hit, ctx_word: str | None) -> TextMatch:
        if h.method == "exact":
            conf = 0.95 if not h.needs_context else 0.8
            if h.entry.kind == "brand_mention":
                conf = self.lex.mention_confidence
        elif h.method == "pinyin":
            conf = 0.5 + 0.4 * h.sim - (0.05 if h.needs_context else 0.0)
        else:
            conf = 0.4 + 0.4 * h.sim
        return TextMatch(h.entry, h.os, h.oe, nt.original[h.os:h.oe], h.method, round(min(conf, 1.0), 3), ctx_word,
                         round(h.sim, 3))


def _to_layer(nt: NormText, os_: int, oe: int) -> tuple[int, int]:
    """Layer-1 offsets covering original [os_, oe)."""
    return bisect.bisect_left(nt.index, os_), bisect.bisect_left(nt.index, oe)
