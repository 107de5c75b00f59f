"""Text detectors: brand code-words and mentions, counterfeit slang, Advertising-Law absolutes,
health claims, and viewers' doubts, in speech (``transcript.json``), on screen (``ocr.json``) and
in live chat (``chat.json``).

Times: a speech finding spans the word timestamps of the words it was heard in (Whisper word
timestamps); a segment without words falls back to a linear position inside the segment (and
says so in ``timing``). Screen findings span the first and last sampled frame showing the text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..case import Case
from ..chat import chat_json, load_chat
from ..errors import InputError
from ..findings import Finding
from ..progress import Progress
from ..rules import RuleSet
from ..text.match import Matcher, TextMatch, cached_matcher
from ..text.normalize import norm_key
from .base import Detector, register

SCREEN_MERGE_GAP = 12.0  # seconds: the same text on frames this close is one on-screen finding
REDECODE_WEIGHT = 0.8  # a term heard only by the biased pass is weaker than one in the record


def matcher_for(rules: RuleSet) -> Matcher:
    """One Matcher per rule set per process (text.match.cached_matcher, shared with term recovery)."""
    return cached_matcher(rules)


def _finding(m: TextMatch, source: str, start: float | None, end: float | None, quote: str,
             evidence: list[str] | None = None, bbox: list[float] | None = None, **extra: Any) -> Finding:
    e = m.entry
    x: dict[str, Any] = {"law": e.law} if e.law else {}
    if m.context:
        x["context"] = m.context
    if m.method != "exact":
        x["similarity"] = m.similarity
    explanation = e.explanation
    if m.evasions:
        # Say in words which disguise was undone: the quote alone does not show it.
        x["evasion"] = m.evasions
        explanation += (f" 规避写法：“{m.matched}”即“{e.term}”（" + "；".join(n.split(" / ")[0] for n in m.evasions)
                        + f"）。 / Evasion: '{m.matched}' is '{e.term}' (" + "; ".join(n.split(" / ")[-1] for n in m.evasions)
                        + ").")
    if m.gap:
        x["gap"] = m.gap
    x.update({k: v for k, v in extra.items() if v is not None})
    return Finding(kind=e.kind, source=source, start=None if start is None else round(start, 3),  # type: ignore[arg-type]
                   end=None if end is None else round(end, 3), rule=e.rule, severity=e.severity,  # type: ignore[arg-type]
                   confidence=m.confidence, match=m.method, term=e.term, matched=m.matched, brand=e.brand,
                   quote=quote, evidence=evidence or [], bbox=bbox, explanation=explanation, extra=x)


def _read(case: Case, path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{case.rel(path)}:{exc.lineno}: invalid JSON: {exc.msg}") from None


class _Frames:
    """Nearest sampled frame to a time, for a finding's evidence picture."""

    def __init__(self, case: Case):
        self.items: list[tuple[float, str]] = []
        if case.frames_json.exists():
            try:
                for f in _read(case, case.frames_json):
                    self.items.append((float(f["t"]), str(f["file"])))
            except (KeyError, TypeError, ValueError):
                self.items = []
        self.items.sort()

    def near(self, t: float | None, max_gap: float = 5.0) -> list[str]:
        if t is None or not self.items:
            return []
        best = min(self.items, key=lambda x: abs(x[0] - t))
        return [best[1]] if abs(best[0] - t) <= max_gap else []


# ------------------------------------------------------------------------------ speech
@dataclass
class SpeechText:
    """The transcript as one string with a time span per character (from word timestamps)."""

    text: str
    times: list[tuple[float, float] | None]
    seg_of: list[int]  # segment index per character (-1 for joiners)
    segments: list[tuple[int, int]]  # [start, end) character range of each segment
    approximate: list[bool]  # per segment: True when times were interpolated (no word timestamps)

    def span_time(self, s: int, e: int) -> tuple[float | None, float | None]:
        ts = [t for t in self.times[s:e] if t is not None]
        if not ts:
            return None, None
        return min(t[0] for t in ts), max(t[1] for t in ts)

    def quote(self, s: int, e: int) -> str:
        segs = sorted({self.seg_of[i] for i in range(s, e) if self.seg_of[i] >= 0})
        if not segs:
            return self.text[s:e]
        return self.text[self.segments[segs[0]][0]:self.segments[segs[-1]][1]]

    def index_at(self, t: float) -> int:
        best, gap = 0, float("inf")
        for i, span in enumerate(self.times):
            if span is None:
                continue
            d = 0.0 if span[0] <= t <= span[1] else min(abs(span[0] - t), abs(span[1] - t))
            if d < gap:
                best, gap = i, d
        return best


def speech_text(transcript: dict[str, Any]) -> SpeechText:
    chars: list[str] = []
    times: list[tuple[float, float] | None] = []
    seg_of: list[int] = []
    segments: list[tuple[int, int]] = []
    approx: list[bool] = []
    for si, seg in enumerate(transcript.get("segments") or []):
        if chars:
            chars.append("。")  # a boundary: no term matches across segments by accident
            times.append(None)
            seg_of.append(-1)
        start = len(chars)
        words = seg.get("words") or []
        if words:
            for w in words:
                word = str(w.get("word", ""))
                for ch in word:
                    chars.append(ch)
                    times.append((float(w["start"]), float(w["end"])))
                    seg_of.append(si)
            approx.append(False)
        else:
            text = str(seg.get("text", ""))
            s0, s1 = float(seg.get("start", 0.0)), float(seg.get("end", 0.0))
            n = max(len(text), 1)
            for k, ch in enumerate(text):
                chars.append(ch)
                times.append((s0 + (s1 - s0) * k / n, s0 + (s1 - s0) * (k + 1) / n))
                seg_of.append(si)
            approx.append(True)
        segments.append((start, len(chars)))
    return SpeechText("".join(chars), times, seg_of, segments, approx)


@register
class SpeechTextDetector(Detector):
    name = "text.speech"

    def inputs(self, case: Case) -> list[Path]:
        return [case.transcript_json, case.frames_json]

    def detect(self, case: Case, rules: RuleSet, prior: list[Finding], progress: Progress) -> list[Finding]:
        if not case.transcript_json.exists():
            return []
        transcript = _read(case, case.transcript_json)
        if not isinstance(transcript, dict):
            raise InputError(f"{case.rel(case.transcript_json)}: not a transcript object")
        return detect_speech(transcript, matcher_for(rules), _Frames(case))


def detect_speech(transcript: dict[str, Any], matcher: Matcher, frames: _Frames | None = None) -> list[Finding]:
    st = speech_text(transcript)
    out: list[Finding] = []
    for m in matcher.find(st.text, "speech"):
        start, end = st.span_time(m.start, m.end)
        seg = st.seg_of[m.start]
        timing = "interpolated" if seg >= 0 and st.approximate[seg] else "words"
        out.append(_finding(m, "speech", start, end, st.quote(m.start, m.end),
                            frames.near(start) if frames else [], timing=timing))
    out += _redecoded(transcript, st, matcher, out, frames)
    return out


def _redecoded(transcript: dict[str, Any], st: SpeechText, matcher: Matcher, found: list[Finding],
               frames: _Frames | None) -> list[Finding]:
    """Accepted candidates of the biased re-decoding pass become ``match: redecode`` findings.

    Only ``accepted`` candidates (corroborated by the unbiased audio), never the others, and only
    where the record itself did not already yield the term at that time. Context rules still
    apply: the term is put in place of the unbiased words and matched with its neighbours.
    """
    out: list[Finding] = []
    accepted = [c for c in transcript.get("candidates") or [] if c.get("accepted")]
    # Longest terms first: 一比一复刻 stands for the 一比一 and 复刻 heard in the same breath.
    accepted.sort(key=lambda c: -len(str(c.get("term", ""))))
    for c in accepted:
        entry = matcher.entry_for(str(c.get("term", "")))
        if entry is None or (entry.sources is not None and "speech" not in entry.sources):
            continue
        start, end = float(c["start"]), float(c["end"])
        # Already in the record (any term of the same kind at that time): the record is the better evidence.
        if any(f.kind == entry.kind and f.start is not None and f.end is not None
               and f.start < end and start < f.end for f in found + out):
            continue
        s = st.index_at(start)
        e = max(s + 1, st.index_at(end) + 1)
        while e < len(st.times) and st.times[e] is not None and st.times[e][0] < end:  # type: ignore[index]
            e += 1
        lo, hi = max(0, s - matcher.window - 2), min(len(st.text), e + matcher.window + 2)
        m = matcher.spliced_match(st.text[lo:hi], s - lo, e - lo, entry)
        if m is None:
            continue
        sim = float(c.get("similarity") or 0.0)
        m = TextMatch(entry, m.start, m.end, str(c.get("unbiased") or ""), "redecode",
                      round(max(0.0, min(1.0, sim)) * REDECODE_WEIGHT, 3), m.context, sim)
        out.append(_finding(m, "speech", start, end, st.quote(s, e) if e > s else str(c.get("unbiased", "")),
                            frames.near(start) if frames else [], heard_biased=c.get("heard"),
                            redecode_method=c.get("method"), acoustic_llr=c.get("acoustic_llr"),
                            corroboration=c.get("reason")))
    return out


# ------------------------------------------------------------------------------ screen
@register
class ScreenTextDetector(Detector):
    name = "text.screen"

    def params(self) -> dict[str, Any]:
        return {"merge_gap": SCREEN_MERGE_GAP, "comment_column": "screen_chat"}

    def inputs(self, case: Case) -> list[Path]:
        return [case.ocr_json, case.frames_json]

    def detect(self, case: Case, rules: RuleSet, prior: list[Finding], progress: Progress) -> list[Finding]:
        if not case.ocr_json.exists():
            return []
        items = _read(case, case.ocr_json)
        if not isinstance(items, list):
            raise InputError(f"{case.rel(case.ocr_json)}: expected a list of OCR items")
        # Lines in the platform's scrolling comment column are viewers' words (chat), not the
        # seller's on-screen text (vision.layout finds the column from lines moving up).
        from ..vision.layout import case_layout  # noqa: PLC0415

        layout = case_layout(case)
        seller = [it for it in items if not (isinstance(it, dict) and layout.in_comments(it.get("box") or []))]
        viewers = [it for it in items if isinstance(it, dict) and layout.in_comments(it.get("box") or [])]
        out = detect_screen(seller, matcher_for(rules))
        if viewers:
            found = detect_screen(viewers, matcher_for(rules), as_source="screen_chat")
            for f in found:
                f.explanation = (f.explanation or "") + (" Read by OCR in the platform's scrolling comment column: "
                                                         "a viewer's comment, not the seller's words.")
            out += found
        return out


def _frame_path(frame: str) -> str:
    return frame if "/" in frame else f"media/frames/{frame}"


def detect_screen(items: list[dict[str, Any]], matcher: Matcher, merge_gap: float = SCREEN_MERGE_GAP,
                  as_source: str = "screen") -> list[Finding]:
    """Findings in OCR lines. ``as_source="screen_chat"``: the lines are viewers' comments shown
    by the platform, matched with the chat rules (a viewer's 假的吧 is a doubt, not slang)."""
    rule_source = "chat" if as_source == "screen_chat" else "screen"
    by_frame: dict[tuple[float, str], list[dict[str, Any]]] = {}
    for n, it in enumerate(items):
        if not isinstance(it, dict) or not it.get("frame"):
            raise InputError(f"ocr.json: item {n} has no frame: {str(it)[:80]}")
        try:
            key = (float(it["t"]), str(it["frame"]))
        except (KeyError, TypeError, ValueError):
            continue  # a frame without a time cannot place a finding; the OCR stage notes such frames
        by_frame.setdefault(key, []).append(it)
    hits: list[tuple[float, str, TextMatch, list[float] | None, str]] = []
    for (t, frame), its in sorted(by_frame.items()):
        # All text of a frame as one string (boxes joined by a boundary) so a price next to a
        # code-word counts as context; each match maps back to the box it came from.
        text, owners = "", []
        for it in its:
            if text:
                text += "。"
                owners.append(None)
            s = str(it.get("text", ""))
            text += s
            owners.extend([it] * len(s))
        for m in matcher.find(text, rule_source):
            owner = next((o for o in owners[m.start:m.end] if o is not None), None)
            box = [float(v) for v in owner["box"]] if owner and owner.get("box") else None
            quote = str(owner.get("raw") or owner.get("text")) if owner else m.matched
            hits.append((t, frame, m, box, quote))
    # Merge the same term seen on consecutive frames into one finding spanning them.
    merged: list[dict[str, Any]] = []
    open_: dict[tuple[str, str, str], dict[str, Any]] = {}
    for t, frame, m, box, quote in hits:
        key = (m.entry.rule, m.entry.term, norm_key(m.matched))
        cur = open_.get(key)
        if cur is not None and t - cur["end"] <= merge_gap:
            cur["end"] = t
            cur["frames"].append(frame)
            if m.confidence > cur["m"].confidence:
                cur["m"] = m
            continue
        cur = {"start": t, "end": t, "frames": [frame], "m": m, "box": box, "quote": quote}
        open_[key] = cur
        merged.append(cur)
    out = []
    for g in merged:
        fr = g["frames"]
        picks = list(dict.fromkeys([fr[0], fr[len(fr) // 2], fr[-1]]))
        out.append(_finding(g["m"], as_source, g["start"], g["end"], g["quote"], [_frame_path(f) for f in picks],
                            g["box"], frames_seen=len(fr)))
    return out


# ------------------------------------------------------------------------------ chat
@register
class ChatTextDetector(Detector):
    name = "text.chat"

    def inputs(self, case: Case) -> list[Path]:
        return [chat_json(case)]

    def detect(self, case: Case, rules: RuleSet, prior: list[Finding], progress: Progress) -> list[Finding]:
        messages = load_chat(case)
        if not messages:
            return []
        matcher = matcher_for(rules)
        out = []
        for msg in messages:
            for m in matcher.find(msg.text, "chat"):
                out.append(_finding(m, "chat", msg.t, msg.t, msg.text, user=msg.user or None, chat_file=msg.file))
        return out
