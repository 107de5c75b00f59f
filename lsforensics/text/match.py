"""Find lexicon terms in text: exact, by sound (pinyin), fuzzy for long phrases, and through the
evasions hosts use on purpose.

Order of evidence, strongest first:
1. ``exact``: Aho-Corasick over the normalised text (and over its numeral-as-digits form); a
   rule's gapped phrases (没有…副作用: the parts in order, a few characters of the same clause
   apart) and ``patterns`` (regexes over the numeral-as-digits text: 月瘦\\d+斤) count as exact.
2. ``evasion``: the term found only once a deliberate disguise is undone (``text/evasion.py``): a
   filler inside it (蓝某扣 -> 兰蔻, 副母作用 -> 副作用), a stutter or split character (不一一不赖赖 ->
   不依不赖), a near-form or sound-alike character from the variant table, or 某 standing for one of
   its characters (免某力 -> 免疫力). The finding says which evasion it saw.
3. ``pinyin``: the same automaton idea over folded syllables (zh/z, ch/c, sh/s, n/l, f/h, -n/-ng),
   for ASR homophones (鋁牌 -> 驴牌). Kept only where the heard span lines up with word boundaries
   (a jieba segmentation that knows the lexicon terms), so 大小相同 never yields 小香.
4. ``fuzzy``: phrases of 4+ characters aligned with edit distance over syllables, for ASR
   that garbles a syllable or two (和原版螢幕一樣 -> 和原版一模一样).

A heard span that is itself an everyday word (老化, 小巷: frequent in jieba's dictionary), that
holds another everyday word where a short term has other characters (赠品吗 is not 正品吗), or
that begins or ends with a particle the term does not have (爱吗 is not 爱马) is never a term by
sound. A rule with ``boundary: word`` never matches where it cuts an everyday word of a plain
jieba segmentation (果家 in 如果家里, 假的吧 in 放假的吧).

Context gate: an ambiguous code-word (椰子, 百搭), a rule marked ``needs_context``, and a sound
match of a short term or of a rarer word fire only when a brand, counterfeit slang, product word
(or, except for brand code-words, a price) is within ``context_window`` characters; brand
code-words need their own brand's product categories, generic style names (云朵包) the brand
itself or slang, and two-syllable slang heard by sound (高方 -> 高仿) needs a brand or other slang.
A rule's ``near`` words must be within the window; ``unless_category`` drops a match when a
product word of that category is within ``category_window`` (医用级 said of a 制氧机). Exceptions
listed in a rule (第一次 for 第一, or a regex) veto a match inside them.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections import ChainMap
from dataclasses import dataclass, field

import ahocorasick
from rapidfuzz import fuzz

from .evasion import EvasionText, undo_evasions
from .lexicon import Entry, Lexicon
from .normalize import NormText, is_cjk, norm_key, normalize, numeric
from .pinyin import char_pinyin, fold, syllable_similarity, to_pinyin

_SENTENCE_END = re.compile(r"[,.!?;:。，！？；：\n]")
_CLAUSE_PUNCT = set(",.!?;:。，！？；：、\n")
_SENTENCE_STOP = "。！？!?\n"
_FUZZY_MIN_LEN = 4
# Fuzzy needs more of a short phrase right: 3 of 4 syllables (珍贵品质 -> 专柜品质) but not 2.
_FUZZY_MIN_SIM = {4: 0.8}
_FUZZY_DEFAULT_SIM = 0.75
_FUZZY_MIN_SHARED = 0.6  # a candidate term shares at least this share of its syllables with the sentence
_BOUNDARY_MAX_LEN = 3  # `boundary: word` is checked for terms up to this long
_CUT_WORD_FREQ = 30  # a segmented word rarer than this may be cut by a term (jieba oddities)
_ORDINARY_WORD_FREQ = 100  # a heard span this frequent in jieba's dictionary is never a term by sound
_COMMON_WORD_FREQ = 50  # a heard span that is a jieba word this frequent is an ordinary word
_INNER_WORD_FREQ = 20  # a word this frequent inside a short heard span, where the term differs, was said
_INNER_WORD_MAX_TERM = 3
_WORD_FREQ = 5  # a dictionary entry this frequent is a word (正品 20, 保真 7), not a rare sound (小棕 0)
# Particles and function characters: a sound-alike span that starts or ends with one the term does
# not have is two words, not a disguised term (爱吗 = 爱 + the question particle, not 爱马).
# Numerals too: 八加一 is a drink's name, not 巴家.
# The copula 是 too: 马是 is 马 + "is", not the code-word 马仕.
_FUNCTION_CHARS = set("吗呢吧啊呀嘛哦哈啦了的地得着过和与跟在把被给从对向就都也还又这那哪一二三四五六七八九十两几是")
# A particle or copula inside a heard span where the term has another character: 去是正 is no 祛湿疹.
_PARTICLES = set("的是了吗呢吧啊呀嘛")
_PARTICLE_TAIL = set("的了着过地得吗呢吧啊呀嘛")
# Only code-words and slang are worth matching by sound when they are two syllables long.
_SHORT_SOUND_KINDS = ("brand_codeword", "counterfeit_slang")
_METHOD_RANK = {"exact": 0, "evasion": 1, "fuzzy": 2, "pinyin": 3}
_WILDCARD = "某"
_STRONG_KINDS = ("brand_mention", "brand_codeword", "counterfeit_slang")  # what counts as context for others  # stands for one character of a term on purpose (免某力 = 免疫力)


@dataclass
class TextMatch:
    """A lexicon term found in one text; offsets index the original (un-normalised) text."""

    entry: Entry
    start: int
    end: int
    matched: str
    method: str  # exact | evasion | pinyin | fuzzy
    confidence: float
    context: str | None = None  # the word that satisfied the context gate, if one was needed
    similarity: float = 1.0
    evasions: list[str] = field(default_factory=list)  # what was undone, in words (method evasion)
    gap: str | None = None  # the words between the parts of a gapped phrase, as said


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
    evasions: list[str] = field(default_factory=list)
    gap: str | None = None
    strong: bool = False  # may serve as context for others (exact, or an evasion heard exactly)
    said_word: bool = False  # a sound-alike that is an everyday word itself: needs the brand or slang


class Words:
    """Word boundaries of a text, segmented lazily one sentence at a time (jieba is the slow part).

    The one test of "does a sound match line up with the words" for every matcher by sound (the
    lexicon's here, the material ontology's in ``claims``)."""

    def __init__(self, text: str, tk, skip: frozenset[str] = frozenset()) -> None:  # noqa: ANN001 - jieba
        self.text = text
        self.tk = tk
        self.skip = skip  # words that never block a term (product words: 椰子鞋 may cut 鞋码)
        self.cuts = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
        self.cache: dict[int, list[tuple[int, int, int]]] = {}

    def _chunk(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self.cuts, pos) - 1)

    def _tokens(self, k: int) -> list[tuple[int, int, int]]:
        if k not in self.cache:
            a, b = self.cuts[k], self.cuts[min(k + 1, len(self.cuts) - 1)]
            toks, pos = [], a
            for tok in self.tk.cut(self.text[a:b], HMM=False):
                freq = 0 if len(tok) < 2 or tok in self.skip else int(self.tk.FREQ.get(tok) or 0)
                toks.append((pos, pos + len(tok), freq))
                pos += len(tok)
            self.cache[k] = toks
        return self.cache[k]

    def aligned(self, s: int, e: int, min_freq: int = _CUT_WORD_FREQ) -> bool:
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
            if ts >= s and te <= e:
                continue
            # A word that only adds a particle to the term's last character (标的 in 剪标的
            # 包包, 真的 in 是真的) is jieba's greed, not another word.
            if ts >= s and set(self.text[e:te]) <= _PARTICLE_TAIL:
                continue
            if freq >= min_freq or self._inner_word_cut(ts, te, s, e, min_freq):
                return False
        return True

    def _inner_word_cut(self, ts: int, te: int, s: int, e: int, min_freq: int) -> bool:
        """True when a rare segmented word [ts, te) that [s, e) cuts holds a frequent word of its
        own across the span's edge: jieba keeps 代加工 (frequency 3) as one word, but its 加工
        (4877) is what was said, so 代加 is no code-word (戴家) by sound. A rare word whose parts
        are no words either (全部堆 around 堆版) still does not hide a term."""
        for a in range(ts, te - 1):
            for b in range(a + 2, te + 1):
                if (b - a == te - ts) or not (a < s < b or a < e < b):
                    continue
                w = self.text[a:b]
                if w in self.skip or int(self.tk.FREQ.get(w) or 0) < min_freq:
                    continue
                if a >= s and set(self.text[e:b]) <= _PARTICLE_TAIL:
                    continue
                return True
        return False

    def inner_words(self, s: int, e: int) -> list[tuple[int, int, int]]:
        """Words of two or more characters lying inside [s, e), with their dictionary frequency."""
        return [t for t in self._tokens(self._chunk(s)) if t[0] >= s and t[1] <= e and t[1] - t[0] > 1]


def words_cut(text: str, s: int, e: int) -> str | None:
    """The words of jieba's own segmentation of ``text`` (its dictionary, no HMM) around the span
    [s, e), joined by ``|``, when the span cuts one of them in two (小箱|子 for the 小箱 of 小箱子),
    else None. ASR term recovery asks this of a re-decoded term's place in the record.

    A word counts as cut only when it holds at least two of the span's characters and runs past it
    (小箱 of 小箱子). A single character shared with a neighbouring word (刻|本 after 一笔衣服刻,
    堆|版) is a boundary the recogniser guessed on a misheard syllable, as unsure as the term."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    words = jieba.lcut(text, HMM=False)
    pos, around, cut = 0, [], False
    for w in words:
        lo, hi = max(s, pos), min(e, pos + len(w))
        if hi > lo:
            around.append(w)
            cut |= hi - lo >= 2 and (pos < s or pos + len(w) > e)
        pos += len(w)
    return "|".join(around) if cut else None


def reads_a_particle(text: str, s: int, e: int, term: str) -> str | None:
    """The words of ``text`` around the span [s, e), joined by ``/``, when one of them lies inside
    the span, is a modal particle (jieba's tag ``y``: 吗 呢 吧 啊 呀 嘛 啦) and is not part of ``term``,
    else None. ASR term recovery asks this of a re-decoded term's place in the record: a decoder
    that heard a question (你们爱吗, "do you love it?") made a grammatical choice among exact
    homophones, and a code-word (爱马) in its place would leave the sentence without its particle."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    pos, around, particle = 0, [], False
    for tok in jieba.posseg.lcut(text, HMM=False):
        w = tok.word
        if pos < e and pos + len(w) > s:
            around.append(w)
            particle |= tok.flag == "y" and s <= pos and pos + len(w) <= e and w not in term
        pos += len(w)
    return "/".join(around) if particle else None


def tokenizer(words: list[str]):  # noqa: ANN201 - jieba has no type hints
    """A jieba tokenizer that keeps each of ``words`` whole (a term is a word: 天丝 in 天丝面料)."""
    return _tokenizers(words, [])[0]


def _tokenizers(terms: list[str], product_words: list[str]):  # noqa: ANN202 - jieba has no type hints
    """A jieba tokenizer that knows the lexicon terms, and a plain one over the same dictionary.

    The first makes 小香包 split as 小香/包 (for sound matches); the second is jieba's own view of
    the sentence, knowing only the product words (托特包) beyond its dictionary, the one that says
    如果家里 is 如果/家里 (for ``boundary: word`` rules). They share one dictionary: the plain one
    sees the terms' original frequencies through a ChainMap.
    """
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.initialize()
    original: dict[str, int] = {}
    products = set(product_words)
    for w in sorted(set(terms) | products):
        if w not in products:
            original[w] = int(tk.FREQ.get(w) or 0)
        # Lexicon terms are words: 小香包 must split as 小香/包, not 小/香包.
        tk.add_word(w, freq=max(int(tk.FREQ.get(w) or 0), 3000))
    plain = jieba.Tokenizer()
    plain.FREQ = ChainMap(original, tk.FREQ)
    plain.total = tk.total
    plain.initialized = True
    return tk, plain


class _CodeTable(dict):
    """``str.translate`` table from a character to its syllable code, computed on first sight."""

    def __init__(self, codes: dict[str, str]):
        super().__init__()
        self.codes = codes

    def __missing__(self, o: int) -> str:
        syl = char_pinyin(chr(o))[0]
        c = self[o] = self.codes.get(fold(syl), "\x01") if syl else "\x00"
        return c


def _automaton(keys: dict[str, object]) -> ahocorasick.Automaton:
    a = ahocorasick.Automaton()
    for k, v in keys.items():
        a.add_word(k, (k, v))
    if len(a):
        a.make_automaton()
    return a


class Matcher:
    """Index a lexicon once; ``find`` is then fast (a 20,000-character transcript well under 1 s)."""

    def __init__(self, lex: Lexicon):
        self.lex = lex
        self.window = lex.context_window
        self._syl_code: dict[str, str] = {}
        self._char_code = _CodeTable(self._syl_code)  # ord -> code, filled lazily once the codes are fixed
        self._fuzzy: list[tuple[Entry, list[str], str]] = []
        exact_keys: dict[str, list[Entry]] = {}
        num_keys: dict[str, list[Entry]] = {}
        masked_keys: dict[str, list[tuple[Entry, int]]] = {}
        py_keys: dict[str, list[tuple[Entry, list[str]]]] = {}
        ev_py_keys: dict[str, list[tuple[Entry, list[str]]]] = {}
        part_keys: dict[str, list[tuple[Entry, int]]] = {}
        self._patterns = [e for e in lex.entries if e.pattern is not None]
        for e in lex.entries:
            if e.parts:
                for i, p in enumerate(e.parts):
                    part_keys.setdefault(p, []).append((e, i))
                continue
            if e.pattern is not None:
                continue
            exact_keys.setdefault(e.key, []).append(e)
            nk = numeric(normalize(e.key)).text
            if nk != e.key:
                num_keys.setdefault(nk, []).append(e)
            if not e.is_cjk or len(e.key) < 2:
                continue
            if e.evasions and len(e.key) >= 3 and all(is_cjk(c) for c in e.key):
                # Inside the term only: 某 at its edge is 某 + the next word (专柜某猫 is no 专柜级).
                for i in range(1, len(e.key) - 1):
                    masked_keys.setdefault(e.key[:i] + _WILDCARD + e.key[i + 1:], []).append((e, i))
            syl = to_pinyin(e.key)
            plain = char_pinyin(e.key)
            if any(s is None for s in syl) or any(s is None for s in plain):
                continue
            # Candidates are found on per-character readings (fast, same on both sides);
            # the similarity is then graded on the phrase-aware readings.
            code = self._encode(plain)  # type: ignore[arg-type]
            if e.evasions:
                ev_py_keys.setdefault(code, []).append((e, syl))  # type: ignore[arg-type]
            if e.exact_only:
                continue
            py_keys.setdefault(code, []).append((e, syl))  # type: ignore[arg-type]
            if len(e.key) >= _FUZZY_MIN_LEN:
                self._fuzzy.append((e, syl, code))  # type: ignore[arg-type]
        self._exceptions = ahocorasick.Automaton()
        for ex in {x for e in lex.entries for x in e.exceptions}:
            self._exceptions.add_word(ex, ex)
        if len(self._exceptions):
            self._exceptions.make_automaton()
        self._has_exception_patterns = any(e.exception_patterns for e in lex.entries)
        # Fuzzy candidates: a term shares at least one pair of adjacent syllables with the sentence
        # (one garbled syllable in four leaves an intact pair) and >= 60% of its distinct syllables.
        self._fuzzy_pairs: dict[str, list[int]] = {}
        self._fuzzy_sets: list[frozenset[str]] = []
        self._fuzzy_need: list[int] = []
        for i, (_e, _syl, code) in enumerate(self._fuzzy):
            distinct = set(code)
            self._fuzzy_sets.append(frozenset(distinct))
            self._fuzzy_need.append(-(-len(distinct) * int(_FUZZY_MIN_SHARED * 10) // 10))  # ceil(0.6 n)
            for pair in {code[k:k + 2] for k in range(len(code) - 1)}:
                self._fuzzy_pairs.setdefault(pair, []).append(i)
        self._exact = _automaton(exact_keys)  # type: ignore[arg-type]
        self._exact_num = _automaton(num_keys)  # type: ignore[arg-type]
        self._masked = _automaton(masked_keys)  # type: ignore[arg-type]
        self._pinyin = _automaton(py_keys)  # type: ignore[arg-type]
        self._ev_pinyin = _automaton(ev_py_keys)  # type: ignore[arg-type]
        self._parts = _automaton(part_keys)  # type: ignore[arg-type]
        self._variants = lex.variants
        self._max_key = max((len(e.key) for e in lex.entries if e.plain), default=1)
        v = lex.variants
        alts = [re.escape(f) for f in sorted(v.fillers, key=len, reverse=True)] + [re.escape(c) for c in v.chars]
        if v.stutter:
            alts.append(r"([\u3400-\u9fff])\1")
        self._evasion_re = re.compile("|".join(alts) or r"(?!)")
        # Context words: product words per category.
        ctx: dict[str, set[str]] = {}
        for cat, words in lex.categories.items():
            for w in words:
                ctx.setdefault(w, set()).add(cat)
        self._ctx = _automaton({w: frozenset(c) for w, c in ctx.items()})
        claim: dict[str, set[str]] = {}
        for cat, words in lex.claim_categories.items():
            for w in words:
                claim.setdefault(w, set()).add(cat)
        self._claim_ctx = _automaton({w: frozenset(c) for w, c in claim.items()})
        terms = {e.key for e in lex.entries if e.is_cjk and e.plain} | {p for e in lex.entries for p in e.parts}
        self._tk, self._plain_tk = _tokenizers(sorted(terms), sorted(ctx))
        self._product_words = frozenset(ctx)

    # -- helpers ----------------------------------------------------------------------------
    def _encode(self, syllables: list[str]) -> str:
        out = []
        for s in syllables:
            f = fold(s)
            if f not in self._syl_code:
                self._syl_code[f] = chr(0xE000 + len(self._syl_code))  # private-use plane: never in text
            out.append(self._syl_code[f])
        return "".join(out)

    def _code_text(self, text: str) -> str:
        """The syllable code of each character (per-character readings, as the lexicon side):
        "\x00" for a character without a reading, "\x01" for a syllable no term has."""
        return text.translate(self._char_code)

    def _may_evade(self, text: str) -> bool:
        """Cheap test before building the evasion text: a filler, a variant character or a repeat."""
        return bool(self._evasion_re.search(text))

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
        plain_words = Words(nt.text, self._plain_tk, self._product_words)
        hits = self._exact_hits(nt, nn)
        hits += self._gapped_hits(nt)
        hits += self._pattern_hits(nt, nn)
        hits += self._masked_hits(nt)
        coded = self._code_text(nt.text)
        hits += self._pinyin_hits(nt, coded, words, hits)
        if self._may_evade(nt.text):
            ev = undo_evasions(nt.text, self._variants)
            if ev.changed:
                hits += self._evasion_hits(nt, ev, hits)
        hits += self._fuzzy_hits(nt, coded, words, hits)
        hits = [h for h in hits if source is None or h.entry.sources is None or source in h.entry.sources]
        hits = self._drop_exceptions(nt, nn, hits)
        # boundary: word, for short contiguous terms (a gapped phrase's edges are its own: 绝不…反弹;
        # a term of four or more characters does not hide inside an everyday word).
        hits = [h for h in hits if not h.entry.boundary or not h.entry.plain or not h.entry.is_cjk
                or len(h.entry.key) > _BOUNDARY_MAX_LEN or h.method not in ("exact", "evasion")
                or plain_words.aligned(h.s, h.e)]
        hits = self._dedupe(hits)
        if source == "speech":
            # Speech is a recogniser's characters, chosen by sound: a two-character code-word written
            # exactly there (这个小香子 for 这个小箱子) is no better evidence than one heard by sound, so
            # it needs its brand's context as a sound match does.
            for h in hits:
                if h.method == "exact" and h.entry.kind == "brand_codeword" and len(h.entry.key) <= 2 \
                        and h.entry.is_cjk:
                    h.needs_context, h.strong = True, False
        if gate_span is not None:
            for h in hits:
                if (h.os, h.oe) == gate_span:
                    h.needs_context = True
        return self._gate(nt, nn, words, hits)

    def entry_for(self, term: str) -> Entry | None:
        """The lexicon entry spelled ``term`` (a code-word reading before a brand mention)."""
        key = norm_key(term)
        ranked = sorted((e for e in self.lex.entries if e.key == key), key=lambda e: e.kind == "brand_mention")
        return ranked[0] if ranked else None

    def spliced_match(self, text: str, s: int, e: int, entry: Entry) -> TextMatch | None:
        """``entry``'s term put in place of ``text[s:e]`` (words a recogniser heard) and matched with its
        neighbours: the match there, or None when the lexicon would not report it. A short term (two
        characters or fewer) must pass the context gate even where its rule would not ask it: a term
        only a biased re-decoding heard is no stronger than a match by sound (小香 needs 包包 or a
        brand word nearby, not 这个小香只是...). The one test for the detector and for ASR term recovery."""
        spliced = text[:s] + entry.key + text[e:]
        gate = (s, s + len(entry.key)) if len(entry.key) <= 2 else None
        ok = [m for m in self.find(spliced, "speech", gate_span=gate)
              if m.entry.rule == entry.rule and m.entry.term == entry.term and m.start == s and m.method == "exact"]
        return ok[0] if ok else None

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
                    need = en.ambiguous or en.needs_context
                    out.append(_Hit(en, ls, le, os_, oe, "exact", 1.0, need, strong=not need))
        return out

    def _gapped_hits(self, nt: NormText) -> list[_Hit]:
        """Gapped phrases: every part in order, each within ``max_gap`` characters of the last,
        with no clause punctuation in between (没有任何的副作用 for 没有…副作用)."""
        if not len(self._parts):
            return []
        text = nt.text
        found: dict[int, tuple[Entry, dict[int, list[tuple[int, int]]]]] = {}
        for end, (key, items) in self._parts.iter(text):
            s = end - len(key) + 1
            for en, i in items:
                found.setdefault(id(en), (en, {}))[1].setdefault(i, []).append((s, end + 1))
        out: list[_Hit] = []
        for en, by_part in found.values():
            if len(by_part) < len(en.parts):
                continue
            for s0, e0 in by_part[0]:
                e, gaps = e0, []
                for i in range(1, len(en.parts)):
                    nxt = next(((ps, pe) for ps, pe in by_part[i] if e <= ps <= e + en.max_gap
                                and not any(c in _CLAUSE_PUNCT for c in text[e:ps])), None)
                    if nxt is None:
                        break
                    gaps.append(text[e:nxt[0]])
                    e = nxt[1]
                else:
                    os_, oe = nt.span(s0, e)
                    gap = "…".join(g for g in gaps if g) or None
                    need = en.ambiguous or en.needs_context
                    out.append(_Hit(en, s0, e, os_, oe, "exact", 1.0, need, gap=gap, strong=not need))
        return out

    def _pattern_hits(self, nt: NormText, nn: NormText) -> list[_Hit]:
        out: list[_Hit] = []
        for en in self._patterns:
            for m in en.pattern.finditer(nn.text):  # type: ignore[union-attr]
                if m.end() <= m.start():
                    continue
                os_, oe = nn.span(m.start(), m.end())
                s, e = _to_layer(nt, os_, oe)
                need = en.ambiguous or en.needs_context
                out.append(_Hit(en, s, e, os_, oe, "exact", 1.0, need, strong=not need))
        return out

    def _masked_hits(self, nt: NormText) -> list[_Hit]:
        """某 standing for one character of a term (免某力 for 免疫力, 某东 style)."""
        if _WILDCARD not in nt.text or not len(self._masked):
            return []
        out: list[_Hit] = []
        for end, (key, items) in self._masked.iter(nt.text):
            s, e = end - len(key) + 1, end + 1
            os_, oe = nt.span(s, e)
            for en, i in items:
                note = f"用“{_WILDCARD}”代替“{en.key[i]}” / '{_WILDCARD}' written in place of '{en.key[i]}'"
                out.append(_Hit(en, s, e, os_, oe, "evasion", 1.0, en.ambiguous or en.needs_context, [note]))
        return out

    @staticmethod
    def _latin_ok(text: str, s: int, e: int, key: str) -> bool:
        """Latin/digit terms must not sit inside a longer word or number (lv in lv6, 1:1 in 11:15)."""
        if key[0].isascii() and key[0].isalnum() and s > 0 and text[s - 1].isascii() and text[s - 1].isalnum():
            return False
        return not (key[-1].isascii() and key[-1].isalnum() and e < len(text) and text[e].isascii()
                    and text[e].isalnum())

    def _said_other_word(self, heard: str, term: str, words: Words, s: int) -> bool:
        """A short sound match whose heard span holds an everyday word where the term has another
        word (赠品吗 for 正品吗, 保证吗 for 保真吗), or starts/ends with a particle the term lacks
        (爱吗 for 爱马): the speaker said those words, not the term."""
        if (heard[0] != term[0] and heard[0] in _FUNCTION_CHARS) or (heard[-1] != term[-1] and heard[-1] in _FUNCTION_CHARS):
            return True
        if len(heard) == len(term) and any(h != t and h in _PARTICLES for h, t in zip(heard[1:-1], term[1:-1], strict=True)):
            return True
        if len(term) > _INNER_WORD_MAX_TERM or len(heard) != len(term):
            return False
        common = []
        for ws, we, freq in words.inner_words(s, s + len(heard)):
            said, meant = heard[ws - s:we - s], term[ws - s:we - s]
            # One word for another (赠品 for 正品), not a common word for a rare sound (小宗 for 小棕).
            if freq >= _INNER_WORD_FREQ and said != meant and int(self._plain_tk.FREQ.get(meant) or 0) >= _WORD_FREQ:
                return True
            if freq >= _COMMON_WORD_FREQ and said != meant:
                common.append((ws - s, we - s))
        if common:
            # A common word heard across the term's own words (姿势|正 for 治|湿疹): the sentence is
            # built of other words, so the sound is a coincidence, not a mispronounced term.
            term_words = Words(term, self._plain_tk).inner_words(0, len(term))
            return any(ts < a < te or ts < b < te for a, b in common for ts, te, _f in term_words)
        return False

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
                if self._said_other_word(heard, en.key, words, s):
                    continue
                sim = syllable_similarity(heard_syl, term_syl)
                # A brand name heard only by sound (凡是这 ~ 范思哲) needs its brand's context.
                gate = en.ambiguous or en.needs_context or common or en.kind == "brand_mention"
                hit = _Hit(en, s, e, os_, oe, "pinyin", sim, gate)
                # A two-syllable twin that is a word itself (保驾 ~ 宝家) was probably said as that
                # word: only the brand or slang nearby makes it the code-word, not a product word.
                hit.said_word = len(heard) <= 2 and freq >= _INNER_WORD_FREQ
                out.append(hit)
        return out

    def _evasion_hits(self, nt: NormText, ev: EvasionText, prior: list[_Hit]) -> list[_Hit]:
        """Terms found in the evasion text across a change (a filler, stutter or variant inside).

        By sound too (没有一来 ~ 没有依赖 once 某 is out), but a term that is never matched by sound
        (a short brand name) only when a filler was inserted inside it: 蓝某扣 is a deliberate 兰蔻.
        """
        out: list[_Hit] = []
        seen = {(h.os, h.oe, h.entry.term) for h in prior}
        ev_words = Words(ev.text, self._tk)

        def add(en: Entry, s: int, e: int, how: str, sim: float, need: bool) -> None:
            if not en.evasions or not ev.evasions(s, e):
                return
            if e - s <= 2 and not ev.inserted_filler(s, e) and not any(ev.replaced[s:e]):
                return  # 宝宝家 is a doubled noun (宝宝), not a stuttered 宝家
            ns, ne = ev.span(s, e)
            os_, oe = nt.span(ns, ne)
            if (os_, oe, en.term) in seen:
                return
            seen.add((os_, oe, en.term))
            notes = ev.evasions(s, e) + ([f"听起来像“{en.key}” / sounds like '{en.key}'"] if how == "pinyin" else [])
            out.append(_Hit(en, ns, ne, os_, oe, "evasion", sim, need, notes, strong=not need and sim >= 1.0))

        # Only around a change: a removed character sits before text[i], a replaced one at text[i].
        removed_at = [i for i, r in enumerate(ev.removed) if r]
        replaced_at = [i for i, r in enumerate(ev.replaced) if r is not None]

        def across(s: int, e: int) -> bool:
            return (bisect.bisect_right(removed_at, s) < bisect.bisect_left(removed_at, e)
                    or bisect.bisect_left(replaced_at, s) < bisect.bisect_left(replaced_at, e))

        coded = self._code_text(ev.text) if len(self._ev_pinyin) else ""
        for w0, w1 in _windows(sorted(removed_at + replaced_at), len(ev.text), self._max_key):
            for end, (key, entries) in self._exact.iter(ev.text[w0:w1]) if len(self._exact) else ():
                s, e = w0 + end - len(key) + 1, w0 + end + 1
                if not across(s, e) or any(not is_cjk(c) for c in key) or not ev_words.aligned(s, e):
                    continue
                short_filler = len(key) <= 2 and ev.inserted_filler(s, e)
                for en in entries:
                    # 某 + a noun is ordinary talk (果某家 may be 果 + 某家): a two-character term with a
                    # filler inside needs context (a look-alike character, 蕞好, does not).
                    add(en, s, e, "exact", 1.0, en.ambiguous or en.needs_context or short_filler)
            for end, (code, items) in self._ev_pinyin.iter(coded[w0:w1]) if coded else ():
                s, e = w0 + end - len(code) + 1, w0 + end + 1
                heard = ev.text[s:e]
                if not across(s, e) or not all(is_cjk(c) for c in heard) or not ev_words.aligned(s, e):
                    continue
                if self.word_freq(heard) >= _ORDINARY_WORD_FREQ:
                    continue  # 国什么家 disguises 国家, an everyday word, not 果家 that sounds like it
                filler = ev.inserted_filler(s, e)
                heard_syl = [x for x in to_pinyin(heard) if x]
                for en, term_syl in items:
                    if heard == en.key or (en.exact_only and not filler) or (len(heard) <= 2 and not filler):
                        continue
                    if self._said_other_word(heard, en.key, ev_words, s):
                        continue
                    sim = syllable_similarity(heard_syl, term_syl)
                    # A deliberate filler inside an exact sound is strong evidence; otherwise the usual gate.
                    need = en.ambiguous or en.needs_context or not (filler and sim >= 1.0) and (
                        len(heard) <= 2 or en.kind == "brand_mention")
                    add(en, s, e, "pinyin", sim, need)
        return out

    def _fuzzy_hits(self, nt: NormText, coded: str, words: Words, prior: list[_Hit]) -> list[_Hit]:
        if not self._fuzzy:
            return []
        spans = sorted((h.s, h.e) for h in prior)
        starts = [sp[0] for sp in spans]
        out: list[_Hit] = []
        cuts = words.cuts
        pairs, fsets, needs = self._fuzzy_pairs, self._fuzzy_sets, self._fuzzy_need
        for k in range(len(cuts) - 1):
            a, b = cuts[k], cuts[k + 1]
            if b - a < _FUZZY_MIN_LEN - 1:
                continue
            chunk_code = coded[a:b]
            present = set(chunk_code)
            local = spans[bisect.bisect_left(starts, a):bisect.bisect_left(starts, b)]
            cands: set[int] = set()
            for k2 in range(len(chunk_code) - 1):
                lst = pairs.get(chunk_code[k2:k2 + 2])
                if lst:
                    cands.update(lst)
            for i in cands:
                if len(fsets[i] & present) < needs[i]:
                    continue
                en, term_syl, code = self._fuzzy[i]
                al = fuzz.partial_ratio_alignment(code, chunk_code, score_cutoff=60)
                if al is None:
                    continue
                s, e = a + al.dest_start, a + al.dest_end
                if e - s < len(code) - 2:
                    continue
                if any(cs <= s and e <= ce for cs, ce in local):
                    continue  # already found (exactly or by sound) as a whole
                # The alignment's edges are approximate: take the best of it and its one-character
                # neighbours that lines up with word boundaries (一笔衣服刻|本 for 一比一复刻).
                best = None
                min_sim = _FUZZY_MIN_SIM.get(len(en.key), _FUZZY_DEFAULT_SIM)
                key_chars = set(en.key)
                for ds, de in ((0, 0), (0, -1), (1, 0), (0, 1), (-1, 0)):
                    cs, ce = s + ds, e + de
                    if cs < a or ce > b or ce - cs < len(code) - 2:
                        continue
                    heard = nt.text[cs:ce]
                    if sum(1 for c in key_chars if c in heard) < 0.5 * len(key_chars):
                        continue
                    sim = syllable_similarity([x for x in to_pinyin(heard) if x], term_syl)
                    # Segmenting the sentence is the slow part: only for a span that sounds right.
                    if sim >= min_sim and (best is None or sim > best[2]) and words.aligned(cs, ce):
                        best = (cs, ce, sim)
                        if (ds, de) == (0, 0):
                            break  # the alignment itself holds: no need for its neighbours
                if best is None:
                    continue
                s, e, sim = best
                if nt.text[s:e] in en.key:
                    continue  # a piece of the term (原装正品 of 原装正品级) is what was said, not the term
                os_, oe = nt.span(s, e)
                # A garbled four-syllable phrase (珍贵品质的回忆) is only a term with context.
                gate = en.ambiguous or en.needs_context or len(en.key) < 5
                out.append(_Hit(en, s, e, os_, oe, "fuzzy", sim, gate))
        return out

    def _drop_exceptions(self, nt: NormText, nn: NormText, hits: list[_Hit]) -> list[_Hit]:
        """Drop hits that lie inside one of their rule's innocent phrases (第一 in 第一次) or regexes."""
        if not len(self._exceptions) and not self._has_exception_patterns:
            return hits
        spans: dict[str, list[tuple[int, int]]] = {}
        if len(self._exceptions):
            for layer in (nt, nn):
                for end, key in self._exceptions.iter(layer.text):
                    spans.setdefault(key, []).append(layer.span(end - len(key) + 1, end + 1))
        pattern_spans: dict[int, list[tuple[int, int]]] = {}

        def inside_pattern(h: _Hit) -> bool:
            for p in h.entry.exception_patterns:
                if id(p) not in pattern_spans:  # both layers, like the phrases: 第一 and 第1
                    pattern_spans[id(p)] = [layer.span(m.start(), m.end()) for layer in (nt, nn)
                                            for m in p.finditer(layer.text) if m.end() > m.start()]
                if any(xs <= h.os and h.oe <= xe for xs, xe in pattern_spans[id(p)]):
                    return True
            return False

        return [h for h in hits if not any(xs <= h.os and h.oe <= xe for ex in h.entry.exceptions
                                           for xs, xe in spans.get(ex, ())) and not inside_pattern(h)]

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
        # A code-word read inside the brand's own full name (江诗 in 江诗丹顿, 百达翡 in 百达翡丽) is
        # the same characters said once: the name is the finding, not a second one beside it.
        return [h for h in kept if h.entry.kind != "brand_codeword" or not any(
            m.entry.kind == "brand_mention" and m.entry.brand == h.entry.brand
            and m.os <= h.os and h.oe <= m.oe for m in kept)]

    def _near(self, nt: NormText, h: _Hit, words: tuple[str, ...], window: int) -> str | None:
        lo, hi = max(0, h.s - window), min(len(nt.text), h.e + window)
        around = nt.text[lo:h.s] + "\x00" + nt.text[h.e:hi]
        return next((w for w in words if w in around), None)

    @staticmethod
    def _negated(nt: NormText, h: _Hit, window: int = 24) -> bool:
        """A negation word of the rule earlier in the same clause (at most ``window`` characters):
        没有办法说直接让你看到立竿见影的感觉 denies the claim."""
        lo = max(0, h.s - window)
        before = nt.text[lo:h.s]
        cut = max((before.rfind(c) for c in _CLAUSE_PUNCT), default=-1) + 1
        # The negation may run into the term (不能 before 能治): it must start before the term.
        span = nt.text[lo + cut:h.e]
        head = h.s - lo - cut
        return any(0 <= span.find(w) < head for w in h.entry.negated_by)

    def _category_in_play(self, nt: NormText, h: _Hit, cats: tuple[str, ...]) -> str | None:
        """A product word of one of ``cats`` within ``category_window`` of the hit (the product in play)."""
        if not len(self._claim_ctx):
            return None
        w = self.lex.category_window
        lo = max(0, h.s - w)
        for _end, (word, wcats) in self._claim_ctx.iter(nt.text[lo:h.e + w]):
            if wcats & set(cats):
                return word
        return None

    def _gate(self, nt: NormText, nn: NormText, words: Words, hits: list[_Hit]) -> list[TextMatch]:
        """Keep the hits whose context holds. Two rounds: an exact code-word that passed its own
        gate (老花 next to 包) is then context for its neighbours (兌版 ~ 对版 in 细节全部兌版，老花包)."""
        strong = [h for h in hits if h.strong and h.entry.kind in _STRONG_KINDS]
        prices: list[tuple[int, int, str]] = []
        kept: dict[int, str | None] = {}
        for _round in range(2):
            grew = False
            for h in hits:
                if id(h) in kept:
                    continue
                ok, ctx_word = self._context(nt, nn, words, h, strong, prices)
                if ok:
                    kept[id(h)] = ctx_word
                    if h.method == "exact" and h.entry.kind in _STRONG_KINDS and not h.strong:
                        strong.append(h)
                        grew = True
            if not grew:
                break
        out = [self._to_match(nt, h, kept[id(h)]) for h in hits if id(h) in kept]
        out.sort(key=lambda m: (m.start, m.end))
        return out

    def _context(self, nt: NormText, nn: NormText, words: Words, h: _Hit, strong: list[_Hit],
                 prices: list[tuple[int, int, str]]) -> tuple[bool, str | None]:
        """Whether ``h`` stands, and the word that gave it context (if it needed one)."""
        w = self.window
        ctx_word: str | None = None
        if h.entry.unless_category and self._category_in_play(nt, h, h.entry.unless_category):
            return False, None  # 医用级 said of a registered medical device, 药效 of a drug
        if h.entry.negated_by and self._negated(nt, h):
            return False, None  # 不能治疗, 没有办法立竿见影: the claim is denied, not made
        if h.entry.near:
            ctx_word = self._near(nt, h, h.entry.near, w)
            if ctx_word is None:
                return False, None
        if not h.needs_context or ctx_word is not None:
            return True, ctx_word
        # A brand code-word needs context that fits its brand: the brand itself, its product
        # categories, or counterfeit slang. A price alone does not make 椰子 a sneaker.
        branded = h.entry.kind == "brand_codeword"
        lo, hi = h.s - w, h.e + w
        if h.method != "exact" and len(h.entry.key) <= 2:
            # A two-syllable sound-alike (保驾 ~ 宝家) takes its context from its own sentence only.
            text = nt.text
            lo = max(lo, max((text.rfind(c, 0, h.s) for c in _SENTENCE_STOP), default=-1) + 1)
            ends = [i for i in (text.find(c, h.e) for c in _SENTENCE_STOP) if i >= 0]
            hi = min(hi, min(ends, default=len(text)))
        for k in strong:
            if k is h or not (k.e > lo and k.s < hi and (k.e <= h.s or k.s >= h.e)):
                continue
            if branded and k.entry.kind != "counterfeit_slang" and k.entry.brand != h.entry.brand:
                continue
            if h.entry.context_kinds and k.entry.kind not in h.entry.context_kinds:
                continue
            return True, nt.text[k.s:k.e]
        # Two-syllable slang heard by sound (高防 ~ 高仿, 对半 ~ 对版) needs a brand or other
        # slang nearby: a product word is too common around ordinary words. So does a rule with
        # `context: counterfeit` and a generic style name (云朵包): it is a product word itself.
        if (h.method == "pinyin" and len(h.entry.key) <= 2 and h.entry.kind == "counterfeit_slang"
                or h.entry.context_kinds or h.said_word):
            return False, None
        for ps, pe, word, cats in self._products(nt, words, max(0, lo), hi):
            if pe > lo and ps < hi and (pe <= h.s or ps >= h.e):
                if branded and h.entry.categories and not (cats & set(h.entry.categories)):
                    continue
                return True, word
        if branded:
            return False, None
        if not prices:
            prices.extend(self._prices(nt, nn) or [(-1, -1, "")])
        for ps, pe, word in prices:
            if pe > lo and ps < hi and (pe <= h.s or ps >= h.e) and word:
                return True, word
        return False, None

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
        elif h.method == "evasion":
            # A disguise undone: as strong as an exact match when the letters are the term's,
            # weaker when the term was also only heard by sound.
            conf = 0.9 * h.sim - (0.05 if h.needs_context else 0.0)
        elif h.method == "pinyin":
            conf = 0.5 + 0.4 * h.sim - (0.05 if h.needs_context else 0.0)
        else:
            conf = 0.4 + 0.4 * h.sim
        return TextMatch(h.entry, h.os, h.oe, nt.original[h.os:h.oe], h.method, round(min(conf, 1.0), 3), ctx_word,
                         round(h.sim, 3), list(h.evasions), h.gap)


def _windows(points: list[int], n: int, reach: int) -> list[tuple[int, int]]:
    """Merged [start, end) windows of ``reach`` characters either side of each point."""
    out: list[tuple[int, int]] = []
    for p in points:
        a, b = max(0, p - reach), min(n, p + reach + 1)
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _to_layer(nt: NormText, os_: int, oe: int) -> tuple[int, int]:
    """Layer-1 offsets covering original [os_, oe)."""
    return bisect.bisect_left(nt.index, os_), bisect.bisect_left(nt.index, oe)


_MATCHERS: dict[str, Matcher] = {}


def cached_matcher(rules) -> Matcher:  # noqa: ANN001 - a RuleSet (text does not import rules)
    """One Matcher per rule set per process (building it costs about a second): the detectors' and
    ASR term recovery's."""
    sha = str(rules.sha256)
    if sha not in _MATCHERS:
        from .lexicon import build_lexicon  # noqa: PLC0415

        _MATCHERS.clear()  # one rule set per process is the norm; do not grow without bound
        _MATCHERS[sha] = Matcher(build_lexicon(rules))
    return _MATCHERS[sha]


class TermContext:
    """For ASR term recovery (which does not read the rules): does a term the biased pass heard, put
    in the record's place, have the context the lexicon asks of it (``Matcher.spliced_match``)?
    Picklable (the rules travel, the matcher is rebuilt lazily in each decoder process)."""

    def __init__(self, rules) -> None:  # noqa: ANN001 - a RuleSet (text does not import rules)
        self.rules = rules
        self.sha256 = str(rules.sha256)
        self._matcher: Matcher | None = None

    def __getstate__(self) -> dict:
        return {"rules": self.rules, "sha256": self.sha256, "_matcher": None}

    def holds(self, text: str, s: int, e: int, term: str) -> bool | None:
        """True/False: the lexicon does/does not report ``term`` in place of ``text[s:e]``. None where
        there is nothing to ask: the term is no lexicon term, or it is also an everyday word (an
        ``ambiguous`` code-word: 百搭 'goes with everything'); without a brand nearby such a word was
        still said, only not as the code-word, which is the detector's judgement, not the record's."""
        if self._matcher is None:
            self._matcher = cached_matcher(self.rules)  # once per process, when needed
        key = norm_key(term)
        entries = [x for x in self._matcher.lex.entries if x.key == key]
        if not entries or any(x.ambiguous for x in entries):
            return None
        return any(self._matcher.spliced_match(text, s, e, x) is not None for x in entries)
