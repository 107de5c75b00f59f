"""Corroborated term recovery: a biased pass may propose lexicon terms, never write the record.

Whisper base mishears Mandarin livestream slang as homophones (小香→小箱, 驴牌→鋁牌). Biasing the
decoder with the terms (hotwords) fixes many of these but also writes terms that were never said
(KNOWN.md). So the flow is:

1. **Propose** from the unbiased record only: slide each lexicon term over the record's characters
   (with their word times) and keep places whose syllables equal the term's up to tone and the
   usual fuzzy pairs (zh/z, ch/c, sh/s, n/l, f/h, -n/-ng).
2. **Re-decode** the segment around each proposed place with its terms as hotwords, and for places
   still unconfirmed a short window (±``pad``) around them.
3. **Corroborate acoustically**: pinyin closeness and a biased decoder agreeing are not evidence
   that the audio holds the term (a biased decoder writes what it is told to look for: 骨架 became
   股价 became 古家). The *unbiased* model scores two transcripts of the same window by teacher
   forcing: the record as decoded, and the record with the term put in its place. A term counts
   (``accepted``) only when the biased pass wrote it at the same time (±``time_tolerance``) *and*
   the audio explains the term-version about as well as the record: the log-likelihood ratio per
   character of the term is at least ``min_acoustic_llr``. Measured on the 16 natural TTS lines
   (docs/asr.md): the true terms score -2.8 to +1.4 per character (小香 -0.8, 复刻 -2.8, 对版 +0.7),
   the wrong homophones the proposer also offers -6.3 (蒂家 for 迪家) and -8.8 (蒙家 for 们家).
   Everything the biased pass hears is still listed as a candidate with the reason it was or was
   not accepted and its score, so a reader sees what was refused.

The unbiased segments are never modified. Detectors turn accepted candidates into findings with
``match: "redecode"``; claims never read them.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .backends.base import SAMPLE_RATE, Backend, DecodeOptions
from .chinese import to_simplified
from .pinyin import fuzzy_equal, syllable_similarity, to_pinyin
from .types import Candidate, Segment

METHOD = "hotwords-redecode+pinyin"
# Pass 1 (all proposals) is greedy: it costs a third of beam 5 and accepted as much on the TTS set;
# pass 2 (the few places still unconfirmed) uses beam 5, which found 莆田纯原 where greedy did not.
BEAMS = (1, 5)
_SKIP = re.compile(r"[\s\W_]", re.UNICODE)


@dataclass(frozen=True)
class RecoveryOptions:
    # A place is proposed, and can be accepted, only when every syllable of the unbiased text is
    # the term's syllable up to tone and the fuzzy pairs (zh/z, n/l, -n/-ng ...). Measured on the
    # TTS set and real clips (docs/asr.md): a looser mean-similarity rule (0.75) accepted
    # "蒂芙尼" for "的福利" while adding no correct term.
    min_syllable_similarity: float = 0.85
    time_tolerance: float = 0.6  # seconds between the biased and unbiased positions
    pad: float = 1.0  # audio kept either side of a proposed place for its re-decode
    max_terms_per_window: int = 8
    window_s: float = 28.0
    min_acoustic_llr: float = -3.0  # per character of the term (natural log): ~1/20 likelihood per character


@dataclass
class _Char:
    ch: str
    start: float
    end: float
    py: str


@dataclass
class Proposal:
    term: str
    start: float
    end: float
    unbiased: str
    similarity: float
    segment: int


class TermContext(Protocol):
    """The lexicon's context test (``text.match.TermContext``), handed in by the caller: asr does not
    read the rules. ``holds`` is None for a term the lexicon does not know."""

    sha256: str

    def holds(self, text: str, s: int, e: int, term: str) -> bool | None: ...


def lacks_context(context: TermContext | None, segments: list[Segment], p: Proposal) -> str | None:
    """The record's words around the proposal (its segment and the neighbouring ones, joined by 。 as
    the detector joins them) when the lexicon would not report the term there with those words
    around it, else None. A short term the biased pass heard (two characters or fewer) needs the
    context the lexicon asks of a match by sound: where the record and the term are exact
    homophones (这个小乡只是正经 for 这个小箱子是赠品) the acoustic score cannot tell them apart, and
    without a brand or product word nearby nothing says the speaker meant the code-word. The
    neighbours count because Whisper cuts one sentence into segments (高放|里面最好的版本 after
    迪家的这款老花脱脱包), as the detector's context window does."""
    if context is None:
        return None
    seg = segments[p.segment]
    k = _locate(seg, p)
    if k is None:
        return None
    before = "。".join(x.text for x in segments[max(0, p.segment - 1):p.segment])
    after = "。".join(x.text for x in segments[p.segment + 1:p.segment + 2])
    left = before + "。" if before else ""
    text = left + seg.text + ("。" + after if after else "")
    s0 = len(left) + k
    return seg.text if context.holds(text, s0, s0 + len(p.unbiased), p.term) is False else None


def char_stream(segments: list[Segment]) -> list[list[_Char]]:
    """Per segment, the characters of its words with times spread evenly over each word."""
    out = []
    for seg in segments:
        chars: list[_Char] = []
        words = seg.words or []
        if not words and seg.text:
            from .types import Word

            words = [Word(seg.start, seg.end, seg.text, 1.0)]
        for w in words:
            cs = [c for c in w.word if not _SKIP.match(c)]
            if not cs:
                continue
            step = max(w.end - w.start, 1e-3) / len(cs)
            for k, c in enumerate(cs):
                py = to_pinyin(c)
                chars.append(_Char(c, w.start + k * step, w.start + (k + 1) * step, py[0] if py else c.lower()))
        out.append(chars)
    return out


def propose(segments: list[Segment], terms: list[str], opts: RecoveryOptions) -> list[Proposal]:
    streams = char_stream(segments)
    found: list[Proposal] = []
    for term in terms:
        tp = to_pinyin(term)
        n = len(tp)
        if n < 2:  # one syllable matches far too much ordinary speech to be worth proposing
            continue
        for si, chars in enumerate(streams):
            best: list[Proposal] = []
            for i in range(0, len(chars) - n + 1):
                win = chars[i:i + n]
                text = "".join(c.ch for c in win)
                if text == term:
                    continue  # already in the record verbatim: nothing to recover
                py = [c.py for c in win]
                if fuzzy_equal(tp, py, opts.min_syllable_similarity):
                    best.append(Proposal(term, win[0].start, win[-1].end, text, syllable_similarity(tp, py), si))
            # keep the best proposal per overlapping place
            best.sort(key=lambda p: -p.similarity)
            kept: list[Proposal] = []
            for p in best:
                if all(p.end <= q.start or p.start >= q.end for q in kept):
                    kept.append(p)
            found.extend(kept)
    return found


def _groups(props: list[Proposal], pad: float) -> list[list[Proposal]]:
    """Proposals whose padded windows overlap share one re-decode."""
    groups: list[list[Proposal]] = []
    for p in sorted(props, key=lambda p: p.start):
        if groups and p.start - pad <= max(q.end for q in groups[-1]) + pad:
            groups[-1].append(p)
        else:
            groups.append([p])
    return groups


def _find_term(chars: list[_Char], term: str) -> list[tuple[float, float, str]]:
    text = "".join(c.ch for c in chars)
    hits = []
    for m in re.finditer(re.escape(term), text):
        a, b = m.start(), m.end() - 1
        ctx = text[max(0, a - 4): b + 5]
        hits.append((chars[a].start, chars[b].end, ctx))
    return hits


def _biased_chars(backend: Backend, audio: np.ndarray, a: float, b: float, hot: list[str],
                  language: str, beam: int) -> list[_Char]:
    clip = audio[int(a * SAMPLE_RATE): int(b * SAMPLE_RATE)]
    # Beam search at T=0 only (no sampling), and a token cap tied to the clip length so a decoder
    # that starts looping the hotwords ("纯原纯原莆田…") stops early.
    segs, _ = backend.transcribe(
        clip, DecodeOptions(language=language, hotwords=" ".join(hot), vad=False, temperatures=(0.0,), beam_size=beam,
                            max_new_tokens=int(10 + 8 * (b - a))))
    for s in segs:
        s.text = to_simplified(s.text)
        for w in s.words:
            w.word, w.start, w.end = to_simplified(w.word), w.start + a, w.end + a
    return [c for cs in char_stream(segs) for c in cs]


def _hits(bchars: list[_Char], p: Proposal, tol: float) -> list[tuple[float, float, str]]:
    # The biased occurrence must overlap the unbiased place (± tolerance) and have a real
    # duration: loops at a window's end get zero-length times that match anything.
    return [h for h in _find_term(bchars, p.term)
            if h[0] <= p.end + tol and h[1] >= p.start - tol and h[1] - h[0] >= 0.05]


def acoustic_llrs(backend: Backend, audio: np.ndarray, seg: Segment, props: list[Proposal],
                  language: str) -> list[float | None]:
    """Per proposal: the per-character log-likelihood ratio of the record with ``p.term`` in place of
    ``p.unbiased`` over the proposal's segment, scored by the unbiased model (None: cannot be scored).

    All proposals of one segment are scored in one call: one encoder pass over the segment and one
    alignment of the record's text, however many terms are tried in it. The scores are the same
    as one call per proposal (realistic 3-min stream: identical candidates, 1.8 -> 1.6 CPU-s of
    scoring per audio minute, since most segments hold one proposal)."""
    text = seg.text
    alts: list[str | None] = []
    for p in props:
        k = _locate(seg, p)
        alts.append(None if k is None else text[:k] + p.term + text[k + len(p.unbiased):])
    todo = list(dict.fromkeys(a for a in alts if a is not None))
    if not todo:
        return [None] * len(props)
    a, b = max(0.0, seg.start - 0.2), min(len(audio) / SAMPLE_RATE, seg.end + 0.2, seg.start + 29.5)
    clip = audio[int(a * SAMPLE_RATE): int(b * SAMPLE_RATE)]
    scores = backend.score(clip, [text, *todo], language)
    if not scores:
        return [None] * len(props)
    by_alt = dict(zip(todo, scores[1:], strict=True))
    return [None if alt is None else (by_alt[alt] - scores[0]) / max(1, len(p.term)) for p, alt in zip(props, alts, strict=True)]


def splits_a_word(seg: Segment, p: Proposal) -> str | None:
    """The record's words around the proposal when the term's span cuts one of them in two (the
    homophone is then part of another word: 小箱|子 of 小箱子), else None. Exact homophones sound the
    same, so no acoustic score tells them apart; the record's own words do."""
    from ..text.match import words_cut  # noqa: PLC0415 - the text core's word segmentation

    k = _locate(seg, p)
    if k is None:
        return None
    return words_cut(seg.text, k, k + len(p.unbiased))


def reads_a_particle(seg: Segment, p: Proposal) -> str | None:
    """The record's words under the proposal ('爱/吗') when one of them is a sentence particle the
    term would replace (text.match.reads_a_particle), else None."""
    from ..text.match import reads_a_particle as particle_at  # noqa: PLC0415 - the text core

    k = _locate(seg, p)
    return None if k is None else particle_at(seg.text, k, k + len(p.unbiased), p.term)


def _locate(seg: Segment, p: Proposal) -> int | None:
    """Offset in ``seg.text`` of the proposal's unbiased characters (the occurrence nearest its time)."""
    hits = [m.start() for m in re.finditer(re.escape(p.unbiased), seg.text)]
    if not hits:
        return None
    if len(hits) == 1:
        return hits[0]
    frac = (p.start - seg.start) / max(1e-3, seg.end - seg.start)
    return min(hits, key=lambda k: abs(k / max(1, len(seg.text)) - frac))


def recover_terms(
    backend: Backend,
    audio: np.ndarray,
    segments: list[Segment],
    terms: list[str],
    language: str,
    opts: RecoveryOptions | None = None,
    offset: float = 0.0,
    stats: dict[str, float] | None = None,
    context: TermContext | None = None,
) -> list[Candidate]:
    """Candidates for ``terms`` in ``audio`` (times of ``segments`` are relative to the array start;
    returned candidates are shifted by ``offset``). ``stats``, when given, accumulates the CPU
    seconds and window counts of each phase (``pass1_cpu_s``, ``pass2_windows`` ...). ``context``, when
    given, is the lexicon's context test (``lacks_context``), asked before the acoustic score."""
    opts = opts or RecoveryOptions()
    if not terms or not segments:
        return []
    stats = {} if stats is None else stats

    def count(key: str, value: float) -> None:
        stats[key] = stats.get(key, 0.0) + value

    proposals = propose(segments, terms, opts)
    count("proposals", len(proposals))
    unbiased_chars = [c for cs in char_stream(segments) for c in cs]
    out: list[Candidate] = []
    dur = len(audio) / SAMPLE_RATE

    def hot_terms(props: list[Proposal]) -> list[str]:
        hot: list[str] = []
        for p in sorted(props, key=lambda p: (-len(p.term), -p.similarity)):
            if p.term not in hot:
                hot.append(p.term)
        return hot[: opts.max_terms_per_window]

    found: dict[int, tuple[float, float, str]] = {}  # proposal index -> biased hit
    heard: list[tuple[list[_Char], list[str]]] = []

    def try_window(idx: list[int], a: float, b: float, beam: int, phase: str) -> None:
        hot = hot_terms([proposals[i] for i in idx])
        c0 = time.process_time()
        bchars = _biased_chars(backend, audio, a, b, hot, language, beam)
        count(f"{phase}_cpu_s", time.process_time() - c0)
        count(f"{phase}_windows", 1)
        count(f"{phase}_audio_s", b - a)
        heard.append((bchars, hot))
        for i in idx:
            if proposals[i].term in hot:
                hs = _hits(bchars, proposals[i], opts.time_tolerance)
                if hs:
                    found[i] = min(hs, key=lambda h: abs(h[0] - proposals[i].start))

    def settled(i: int) -> bool:
        # A place (same span) confirmed for one term is not retried for its homophones (迪家/蒂家):
        # given all of them at once, the decoder's own choice stands. Longer/shorter terms
        # (纯原 inside 莆田纯原) are still tried.
        p = proposals[i]
        return i in found or any(abs(p.start - proposals[j].start) < 0.05 and abs(p.end - proposals[j].end) < 0.05
                                 for j in found)

    # Pass 1: whole segments (natural pauses at both ends, full context), consecutive segments
    # with proposals packed into one window of <= ``window_s``: Whisper pads every window to 30 s,
    # so the encoder costs the same for 5 s as for 28 s and packing saves most of the time.
    # What the record alone refuses (a cut word, a particle, no context for a short term) needs no
    # biased decode: a window is decoded only when it holds a proposal that could still be accepted.
    # The windows and their hotwords are the same as without this (all proposals), so every other
    # proposal's outcome is unchanged; only windows of refused proposals alone are skipped.
    splits = {i: splits_a_word(segments[p.segment], p) for i, p in enumerate(proposals)}
    particles = {i: None if splits[i] else reads_a_particle(segments[p.segment], p) for i, p in enumerate(proposals)}
    bare = {i: None if splits[i] or particles[i] else lacks_context(context, segments, p)
            for i, p in enumerate(proposals)}
    live = {i for i in range(len(proposals)) if not (splits[i] or particles[i] or bare[i])}
    by_seg: dict[int, list[int]] = {}
    for i, p in enumerate(proposals):
        by_seg.setdefault(p.segment, []).append(i)
    packs: list[tuple[float, float, list[int]]] = []
    for si, idx in sorted(by_seg.items()):
        a, b = max(0.0, segments[si].start - 0.2), min(dur, segments[si].end + 0.2)
        if packs and b - packs[-1][0] <= opts.window_s and len(hot_terms(
                [proposals[i] for i in packs[-1][2] + idx])) < opts.max_terms_per_window:
            packs[-1] = (packs[-1][0], b, packs[-1][2] + idx)
        else:
            packs.append((a, b, list(idx)))
    for a, b, idx in packs:
        if live.intersection(idx):
            try_window(idx, a, b, BEAMS[0], "pass1")
        else:
            count("pass1_skipped", 1)
    # Pass 2, only for places still unconfirmed: a short window around them (less room to loop).
    # Measured on the TTS set, each pass recovers terms the other misses (docs/asr.md).
    index = {id(p): i for i, p in enumerate(proposals)}
    for group in _groups(proposals, opts.pad):
        idx = [index[id(p)] for p in group if not settled(index[id(p)])]
        if idx and not live.intersection(idx):
            count("pass2_skipped", 1)
        elif idx:
            try_window(idx, max(0.0, min(proposals[i].start for i in idx) - opts.pad),
                       min(dur, max(proposals[i].end for i in idx) + opts.pad), BEAMS[1], "pass2")

    to_score: dict[int, list[int]] = {}  # segment -> proposals to score in it (the words of the record allow them)
    for i in sorted(found):
        if not splits[i] and not particles[i] and not bare[i]:
            to_score.setdefault(proposals[i].segment, []).append(i)
    llrs: dict[int, float | None] = {}
    for si, idx in to_score.items():
        c0 = time.process_time()
        llrs.update(zip(idx, acoustic_llrs(backend, audio, segments[si], [proposals[i] for i in idx], language),
                        strict=True))
        count("score_cpu_s", time.process_time() - c0)
        count("scored", len(idx))

    used: set[tuple[str, float]] = set()
    for i, p in enumerate(proposals):
        if i not in found and i in live:
            out.append(Candidate(p.term, p.start + offset, p.end + offset, "", p.unbiased, p.similarity, False,
                                 METHOD, "biased pass did not write the term here"))
            continue
        h = found.get(i) or (p.start, p.end, "")  # not found and refused by the record: listed at its place
        if i in found:
            used.add((p.term, round(h[0], 1)))
        split = splits[i]
        if split:
            out.append(Candidate(p.term, h[0] + offset, h[1] + offset, h[2], p.unbiased, p.similarity, False, METHOD,
                                 f"the record's words here are '{split}': the term would cut a word of it in two "
                                 "(小箱子 is a small box, not 小香)"))
            continue
        particle = particles[i]
        if particle:
            out.append(Candidate(p.term, h[0] + offset, h[1] + offset, h[2], p.unbiased, p.similarity, False, METHOD,
                                 f"the record reads '{particle}' here: a sentence particle where the term has a word "
                                 "(你们爱吗 is 'do you love it?', not 爱马); the same sounds, so no acoustic score "
                                 "can tell them apart"))
            continue
        if bare[i]:
            out.append(Candidate(p.term, h[0] + offset, h[1] + offset, h[2], p.unbiased, p.similarity, False, METHOD,
                                 f"the record reads '{bare[i]}' here: a short term recovered by sound needs a brand or "
                                 "product word around it (as any match by sound does), and none is there; where the "
                                 "syllables are the same the acoustic score cannot tell the term from the record"))
            continue
        llr = llrs[i]
        if llr is None:
            out.append(Candidate(p.term, h[0] + offset, h[1] + offset, h[2], p.unbiased, p.similarity, False, METHOD,
                                 "biased pass wrote the term, but this backend cannot score it against the audio"))
            continue
        ok = llr >= opts.min_acoustic_llr
        why = (f"biased pass wrote the term where the record has the same syllables, and the unbiased model "
               f"finds the audio explained about as well with it ({llr:+.2f} nats per character vs the record)"
               if ok else
               f"biased pass wrote the term, but the unbiased model finds the audio explained much worse with it "
               f"({llr:+.2f} nats per character vs the record, below {opts.min_acoustic_llr:g}): not corroborated")
        out.append(Candidate(p.term, h[0] + offset, h[1] + offset, h[2], p.unbiased, p.similarity, ok, METHOD, why,
                             acoustic_llr=llr))
    # Terms a biased pass wrote where the unbiased record has no such sounds: listed, refused.
    seen: set[tuple[str, float]] = set()
    for bchars, hot in heard:
        for term in hot:
            for h in _find_term(bchars, term):
                key = (term, round(h[0], 1))
                if key in used or key in seen:
                    continue
                seen.add(key)
                under = [c for c in unbiased_chars if c.end > h[0] and c.start < h[1]]
                utext = "".join(c.ch for c in under)
                if utext == term or any(q.term == term and q.accepted and q.start - offset < h[1]
                                        and q.end - offset > h[0] for q in out):
                    continue
                sim = syllable_similarity(to_pinyin(term), [c.py for c in under]) if under else 0.0
                out.append(Candidate(term, h[0] + offset, h[1] + offset, h[2], utext, sim, False, METHOD,
                                     "no matching sounds at this time in the unbiased record"))
    out.sort(key=lambda c: (c.start, c.term))
    return out
