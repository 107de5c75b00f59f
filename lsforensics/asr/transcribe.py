"""The transcription pipeline, independent of any case folder.

``Transcriber`` holds one loaded backend and decodes arrays or files into a ``Transcript``:
unbiased decode (the record) -> Simplified Chinese -> hallucination guard -> optional
corroborated term recovery. Long files are decoded chunk by chunk; ``transcribe_file`` can
checkpoint each finished chunk so a killed run resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..progress import NullProgress, Progress
from .audio import SR, Chunk, NotPlainWav, WavReader, load_audio, plan_chunks
from .backends import DEFAULT_BACKEND, Backend, DecodeOptions, get_backend
from .chinese import has_han, to_simplified
from .recover import RecoveryOptions, TermContext, recover_terms
from .types import Candidate, Segment, Transcript
from .weights import ModelInfo, identify_model

EXPECTED_LANGUAGES = ("zh", "en")
MIN_AUDIO_S = 0.3  # shorter than this holds no word Whisper could recognise


def _has_sound(audio: np.ndarray) -> bool:
    """Long enough to hold a word and not digital silence: worth decoding (and detecting on)."""
    return len(audio) >= MIN_AUDIO_S * SR and float(np.abs(audio).max(initial=0.0)) >= 1e-4


@dataclass(frozen=True)
class TranscribeOptions:
    language: str = "zh"  # zh | en | auto
    backend: str = DEFAULT_BACKEND
    beam_size: int = 5
    vad: bool = True
    batch_size: int = 0
    chunk_s: float = 120.0  # short enough that two workers share even a 5-minute clip
    recover: bool = True
    recovery: RecoveryOptions = field(default_factory=RecoveryOptions)
    expected_languages: tuple[str, ...] = EXPECTED_LANGUAGES
    # Segments the model itself calls unlikely speech (Whisper's own no-speech test) are dropped.
    max_no_speech_prob: float = 0.6
    min_avg_logprob: float = -1.0
    max_compression_ratio: float = 2.4
    word_onsets: bool = True  # snap word starts that swallowed a pause to the speech onset
    threads: int = 0
    workers: int = 0  # processes decoding chunks at once (0: 2 on a machine with >= 2 cores)

    def to_params(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("threads")
        d.pop("workers")  # how many processes decode is not a setting of the record
        d["expected_languages"] = list(self.expected_languages)
        return d


@functools.cache
def _hallucination_phrases() -> tuple[str, ...]:
    from .hallucinations import PHRASES

    return tuple(_norm(p) for p in PHRASES)


def _norm(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", to_simplified(text).lower())


def simplify_segment(seg: Segment) -> Segment:
    """t2s on the whole text (phrase context matters), then the same mapping onto the words."""
    seg.raw_text = seg.raw_text or seg.text
    if not has_han(seg.text):
        return seg
    seg.text = to_simplified(seg.raw_text)
    raw_words = "".join(w.word for w in seg.words)
    conv = to_simplified(raw_words)
    if len(conv) == len(raw_words):  # t2s kept lengths: slice the converted string back per word
        k = 0
        for w in seg.words:
            n = len(w.word)
            w.word, k = conv[k:k + n], k + n
    else:
        for w in seg.words:
            w.word = to_simplified(w.word)
    return seg


def guard(segments: list[Segment], opts: TranscribeOptions) -> tuple[list[Segment], list[dict[str, Any]]]:
    """Remove Whisper's known failure outputs; return (kept, dropped-with-reason)."""
    kept, dropped = [], []
    phrases = _hallucination_phrases()
    for s in segments:
        reason = None
        n = _norm(s.text)
        if not n:
            reason = "empty"
        elif s.compression_ratio is not None and s.compression_ratio > opts.max_compression_ratio:
            reason = f"repetition loop (compression ratio {s.compression_ratio:.2f})"
        elif (s.no_speech_prob is not None and s.avg_logprob is not None
              and s.no_speech_prob > opts.max_no_speech_prob and s.avg_logprob < opts.min_avg_logprob):
            reason = f"model judged no speech (p={s.no_speech_prob:.2f}, logprob={s.avg_logprob:.2f})"
        else:
            for ph in phrases:
                if ph and ph in n and len(ph) >= 0.5 * len(n):
                    reason = "known Whisper hallucination phrase"
                    break
        if reason:
            dropped.append({"start": round(s.start, 3), "end": round(s.end, 3), "text": s.text,
                            "raw_text": s.raw_text, "reason": reason})
        else:
            kept.append(s)
    return kept, dropped


TAIL_FRAMES = 8  # at most 0.16 s of sound before a pause is the last sentence's tail, not the word


def refine_onsets(segments: list[Segment], audio: np.ndarray, min_gap: float = 0.3) -> None:
    """Move a word's start to the speech onset when Whisper let it swallow the pause before it.

    Whisper's cross-attention timing makes the first word after a pause start when the pause
    starts (measured: up to 1.1 s early on the synthetic stream). For the first word of each
    segment, any word after a gap >= ``min_gap`` and any word longer than 0.6 s, the start moves
    to the speech onset inside the word: the first 20 ms frame whose energy reaches 15 % of the
    segment's loud frames, counted after the last quiet stretch of at least ``min_gap`` when the
    word's span holds one (the span may begin with the fading tail of the sentence before). It
    only ever moves later. When the whole span Whisper gave the word is pause and the sound starts
    before the next word, the word is moved to lie between that onset and the next word. A noisy
    background, where no frame is quiet, leaves the time as Whisper gave it.
    """
    frame = SR // 50
    for seg in segments:
        if not seg.words:
            continue
        a, b = int(seg.start * SR), int(seg.end * SR)
        x = audio[a:b]
        n = len(x) // frame
        if n < 3:
            continue
        rms = np.sqrt((x[: n * frame].reshape(n, frame) ** 2).mean(axis=1))
        level = float(np.percentile(rms, 90))
        if level <= 0:
            continue
        loud = rms >= 0.15 * level
        prev_end = None
        for k, w in enumerate(seg.words):
            if prev_end is None or w.start - prev_end >= min_gap or w.end - w.start > 0.6:
                i0 = max(0, int((w.start - seg.start) * 50))
                i1 = min(n, int((w.end - seg.start) * 50))
                hits = np.nonzero(loud[i0:i1])[0]
                # The span may open with the fading tail of the sentence before, then a pause, and
                # Whisper may even have put the whole word in that pause: search up to the next word.
                nxt = seg.words[k + 1].start if k + 1 < len(seg.words) else seg.end
                reach = loud[i0:min(n, int((max(w.end, nxt) - seg.start) * 50))]
                after = _after_last_pause(reach, int(min_gap * 50))
                if after is not None and int(reach[:after].sum()) <= TAIL_FRAMES:
                    onset = seg.start + (i0 + after) / 50
                    if onset <= w.end - 0.05:
                        w.start = onset
                    elif onset < nxt - 0.05:
                        w.start, w.end = onset, max(w.end, nxt)
                elif len(hits):
                    onset = seg.start + (i0 + int(hits[0])) / 50
                    w.start = min(max(w.start, onset), max(w.start, w.end - 0.05))
            prev_end = w.end
        seg.start = seg.words[0].start


def _after_last_pause(loud: np.ndarray, min_frames: int) -> int | None:
    """Index just after the last run of at least ``min_frames`` quiet frames followed by sound."""
    quiet = np.concatenate([[False], ~loud, [False]]).astype(np.int8)
    edges = np.diff(quiet)
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    long_runs = [e for s0, e in zip(starts, ends, strict=True) if e - s0 >= min_frames and e < len(loud)]
    return int(long_runs[-1]) if long_runs else None


def _shift(segs: list[Segment], dt: float) -> list[Segment]:
    for s in segs:
        s.start, s.end = s.start + dt, s.end + dt
        for w in s.words:
            w.start, w.end = w.start + dt, w.end + dt
    return segs


class Transcriber:
    def __init__(self, model: str | os.PathLike[str] | ModelInfo | None = None,
                 options: TranscribeOptions | None = None, terms: list[str] | None = None,
                 context: TermContext | None = None):
        """``context``: the lexicon's context test for recovered short terms (``text.match.TermContext``;
        the pipeline passes it), None to judge recovered terms by sound and time alone."""
        self.options = options or TranscribeOptions()
        self.context = context
        if self.options.language not in ("zh", "en", "auto"):
            raise InputError(f"--language {self.options.language}: choose zh, en or auto")
        self.model = model if isinstance(model, ModelInfo) else identify_model(model)
        self.terms = sorted(set(terms or []))
        self._backend_cls = get_backend(self.options.backend)
        self.backend_name: str = self._backend_cls.name
        self._backend: Backend | None = None
        self._description: dict[str, object] | None = None  # the loaded backend's describe()
        self.language: str | None = None if self.options.language == "auto" else self.options.language
        self.notes: list[str] = []
        self.language_probability: float | None = None
        self.cpu: dict[str, float] = {}

    @property
    def backend(self) -> Backend:
        """The decoder, loaded on first use: when worker processes decode the chunks, this process
        never loads a model of its own (one model fewer in memory beside OCR, ~360 MiB)."""
        if self._backend is None:
            self._backend = self._backend_cls(self.model, threads=self.options.threads)
            self._description = self._backend.describe()
        return self._backend

    def reset(self) -> None:
        """Per-file state: the loaded model is reused, the language decision is not."""
        self.language = None if self.options.language == "auto" else self.options.language
        self.language_probability = None
        self.notes = []
        self.resumed_chunks = 0
        self.elapsed_s = 0.0
        self.cpu = {}  # CPU seconds (and counts) per phase, for the custody result

    # -- language -------------------------------------------------------------------------
    def settle_language(self, audio: np.ndarray) -> None:
        """Decide the decoding language once, on the first audio that has speech, and say why."""
        if self.language is not None and self.language_probability is not None:
            return
        lang, prob, top = self.backend.detect_language(audio)
        requested = self.options.language
        if requested == "auto":
            if lang in self.options.expected_languages and prob >= 0.5:
                self.language, self.language_probability = lang, prob
                self.notes.append(f"language detected as {lang} (p={prob:.2f})")
            else:
                fallback = self.options.expected_languages[0]
                self.language, self.language_probability = fallback, prob
                why = ("is outside the expected set " + ",".join(self.options.expected_languages)
                       if lang not in self.options.expected_languages else "is not confident")
                self.notes.append(f"detected language {lang} (p={prob:.2f}) {why}; decoded as {fallback} instead")
        else:
            self.language_probability = top.get(requested, 0.0)
            if lang != requested and prob >= 0.8:
                self.notes.append(f"audio sounds like {lang} (p={prob:.2f}) but was decoded as {requested} as requested")

    # -- decoding -------------------------------------------------------------------------
    def decode(self, audio: np.ndarray, offset: float = 0.0) -> tuple[list[Segment], list[Candidate], list[dict], float]:
        """(segments, candidates, dropped, speech seconds) of one array; times shifted by ``offset``."""
        if not _has_sound(audio):
            return [], [], [], 0.0
        if self.language is None or self.language_probability is None:
            self.settle_language(audio)
        assert self.language is not None
        o = self.options
        dec = DecodeOptions(language=self.language, beam_size=o.beam_size, vad=o.vad, batch_size=o.batch_size)
        c0 = time.process_time()
        segs, speech = self.backend.transcribe(audio, dec)
        self.cpu["record_cpu_s"] = self.cpu.get("record_cpu_s", 0.0) + time.process_time() - c0
        segs = [simplify_segment(s) for s in segs]
        if o.word_onsets:
            refine_onsets(segs, audio)
        segs, dropped = guard(segs, o)
        cands: list[Candidate] = []
        if o.recover and self.terms and self.language == "zh" and segs:
            cands = recover_terms(self.backend, audio, segs, self.terms, self.language, o.recovery, offset=offset,
                                  stats=self.cpu, context=self.context)
        _shift(segs, offset)
        for d in dropped:
            d["start"], d["end"] = round(d["start"] + offset, 3), round(d["end"] + offset, 3)
        return segs, cands, dropped, speech

    def transcribe_array(self, audio: np.ndarray) -> Transcript:
        self.reset()
        segs, cands, dropped, speech = self.decode(audio)
        return self._transcript(segs, cands, dropped, len(audio) / SR, speech)

    def transcribe_file(self, path: str | os.PathLike[str], progress: Progress | None = None,
                        checkpoint: Path | None = None,
                        on_chunk: Callable[[int], None] | None = None) -> Transcript:
        """Chunked decode of a file. With ``checkpoint`` each finished chunk is appended there and a
        rerun with the same audio and settings skips the chunks already done."""
        progress = progress or NullProgress()
        self.reset()
        p = Path(path)
        if not p.is_file():
            raise InputError(f"audio file {p} does not exist")
        try:
            reader = WavReader(p)
        except NotPlainWav:  # not 16 kHz mono s16: decode whole with ffmpeg (user files, tests)
            return self.transcribe_array(load_audio(p))
        with reader:
            duration = reader.duration
            chunks = list(plan_chunks(reader, self.options.chunk_s))
            done: dict[int, dict] = {}
            if checkpoint:
                self._ckpt_key = self.checkpoint_key(p)
                done = self._load_checkpoint(checkpoint, p)
            self.resumed_chunks = sum(1 for c in chunks if c.index in done)
            for rec in done.values():  # a resumed run keeps the language decided before the kill
                if rec.get("language") and self.language_probability is None:
                    self.language = rec["language"]
                    self.language_probability = rec.get("language_probability")
                for n in rec.get("notes", []):
                    if n not in self.notes:
                        self.notes.append(n)
            task = progress.task("transcribe", total=round(duration, 1))
            task.update(completed=round(sum(c.end - c.start for c in chunks if c.index in done), 1))
            t0 = time.monotonic()
            pending = [c for c in chunks if c.index not in done]

            def finished(ch: Chunk, rec: dict) -> None:
                done[ch.index] = rec
                if checkpoint:
                    self._append_checkpoint(checkpoint, rec)
                task.update(advance=round(ch.end - ch.start, 1))
                if on_chunk:
                    on_chunk(ch.index)

            workers = self.chunk_workers(len(pending))
            if workers > 1:
                self._decode_parallel(p, pending, workers, finished)
            else:
                for ch in pending:
                    finished(ch, self._decode_chunk(reader, ch))
            all_segs: list[Segment] = []
            all_c: list[Candidate] = []
            all_d: list[dict] = []
            speech = 0.0
            cpu: dict[str, float] = {}
            for ch in chunks:
                rec = done[ch.index]
                for k, v in rec.get("cpu", {}).items():
                    cpu[k] = round(cpu.get(k, 0.0) + v, 3)
                all_segs += [Segment.from_dict(s) for s in rec["segments"]]
                all_c += [Candidate(**c) for c in rec["candidates"]]
                all_d += rec["dropped"]
                speech += rec["speech"]
            task.close()
            elapsed = time.monotonic() - t0
        tr = self._transcript(all_segs, all_c, all_d, duration, speech)
        tr.params["chunks"] = len(chunks)
        self.elapsed_s = round(elapsed, 2)  # for the custody result, not the transcript (reproducible bytes)
        self.cpu = cpu
        return tr

    # -- chunk decoding (in this process or in worker processes) -----------------------------
    def _decode_chunk(self, reader: WavReader, ch: Chunk) -> dict:
        segs, cands, drop, sp = self.decode(reader.read(ch.start, ch.end), offset=ch.start)
        return self._chunk_record(ch, segs, cands, drop, sp)

    def _chunk_record(self, ch: Chunk, segs: list[Segment], cands: list[Candidate], drop: list[dict],
                      sp: float) -> dict:
        return {"chunk": ch.index, "start": ch.start, "end": ch.end,
                "segments": [s.to_dict() for s in segs], "candidates": [c.to_dict() for c in cands],
                "dropped": drop, "speech": sp, "language": self.language,
                "language_probability": self.language_probability, "notes": list(self.notes),
                "cpu": self._take_cpu()}

    def _take_cpu(self) -> dict[str, float]:
        """The phase CPU seconds since the last chunk record (then reset: each chunk carries its own)."""
        out, self.cpu = {k: round(v, 3) for k, v in self.cpu.items()}, {}
        return out

    def chunk_workers(self, pending: int) -> int:
        """How many processes decode chunks at once. CTranslate2 uses a second core for only ~30 %
        more speed (measured: greedy 30 s window 3.09 s on 1 thread, 2.35 s on 2), so two
        one-thread processes on different chunks get ~1.5x the throughput of one two-thread
        process. Only the default backend, and only when there are chunks to share."""
        n = self.options.workers
        if n == 0:  # the cores this transcription may use (--threads / LSF_THREADS, else all), two at most
            n = min(2, self.options.threads or os.cpu_count() or 1)
        if self.backend_name != "faster-whisper" or pending < 2:
            return 1
        return max(1, min(n, pending))

    def settle_language_from(self, reader: WavReader, pending: list[Chunk]) -> tuple[str | None, float | None, list[str]]:
        """Decide (``auto``) or check the language on the first chunk with sound, before any chunk is
        decoded, so every chunk is decoded in the same language with the same notes, as a
        sequential run would: (language, probability, notes). In parallel decoding the first worker
        does this and the others never settle it again, so they add no notes."""
        if self.language is None or self.language_probability is None:
            for ch in pending:
                audio = reader.read(ch.start, ch.end)
                if _has_sound(audio):
                    self.settle_language(audio)
                    break
        return self.language, self.language_probability, list(self.notes)

    def _decode_parallel(self, path: Path, pending: list[Chunk], workers: int,
                         finished: Callable[[Chunk, dict], None]) -> None:
        import multiprocessing as mp
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        cores = self.options.threads or os.cpu_count() or 1
        opts = replace(self.options, threads=max(1, cores // workers), workers=1)
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_worker_init,
                                 initargs=(self.model, opts, self.terms, self.context)) as pool:
            with _spawn_without_main():  # the workers are started by the first submits
                # The language is decided (or was, by the run a checkpoint resumes) before any chunk
                # is decoded, by a worker with the model it decodes with, not by a model loaded in
                # this process only for that; the worker also says what decoded the record.
                settled = pool.submit(_worker_settle, str(path), pending,
                                      (self.language, self.language_probability, list(self.notes)))
                self.language, self.language_probability, self.notes, self._description = settled.result()
                state = (self.language, self.language_probability, list(self.notes))
                futs = {pool.submit(_worker_decode, str(path), ch, state): ch for ch in pending}
            try:
                todo = set(futs)
                while todo:
                    ready, todo = wait(todo, return_when=FIRST_COMPLETED)
                    for f in sorted(ready, key=lambda f: futs[f].index):
                        finished(futs[f], f.result())
            except BaseException:
                for f in futs:
                    f.cancel()
                raise

    def _transcript(self, segs, cands, dropped, duration, speech) -> Transcript:  # noqa: ANN001
        notes = list(self.notes)
        language = self.language
        if language is None or (not segs and self.options.language == "auto"):
            # Never heard speech: a language "detected" on music or silence means nothing.
            language = "und"
            notes = [n for n in notes if "detected" not in n] + ["no speech found; language undetermined"]
        if not segs:
            notes.append("no speech transcribed" + (f" ({len(dropped)} hallucinated segment(s) dropped)" if dropped else ""))
        if self.options.recover and not self.terms:
            notes.append("term recovery off: no key terms given")
        model = self.model.to_dict()
        model.update(self._description if self._description is not None else self.backend.describe())
        params = self.options.to_params()
        params["terms_sha256"] = hashlib.sha256("\n".join(self.terms).encode()).hexdigest()
        if self.context is not None:
            params["context_rules_sha256"] = self.context.sha256
        return Transcript(language, self.backend_name, model, segs, cands, dropped, notes, duration, speech,
                          self.language_probability, params)

    # -- checkpoint -----------------------------------------------------------------------
    def checkpoint_key(self, audio: Path) -> str:
        h = hashlib.sha256()
        st = audio.stat()
        h.update(json.dumps([st.st_size, st.st_mtime_ns, self.model.sha256, self.backend_name,
                             self.options.to_params(), self.terms, self.context and self.context.sha256],
                            sort_keys=True, default=str).encode())
        return h.hexdigest()

    def _load_checkpoint(self, path: Path, audio: Path) -> dict[int, dict]:
        if not path.is_file():
            return {}
        lines = path.read_text(encoding="utf-8").splitlines()
        try:
            head = json.loads(lines[0]) if lines else {}
        except ValueError:
            head = {}
        if head.get("key") != self.checkpoint_key(audio):
            path.unlink()  # other audio or settings: start over
            return {}
        done = {}
        for line in lines[1:]:
            try:
                rec = json.loads(line)
            except ValueError:  # a torn last line from a kill: that chunk is simply redone
                break
            done[rec["chunk"]] = rec
        return done

    def _append_checkpoint(self, path: Path, rec: dict) -> None:
        new = not path.exists()
        with open(path, "a", encoding="utf-8") as fh:
            if new:
                fh.write(json.dumps({"key": self._ckpt_key_for(path)}) + "\n")
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def _ckpt_key_for(self, path: Path) -> str:
        return getattr(self, "_ckpt_key", "")


def transcribe_audio(path_or_array: str | os.PathLike[str] | np.ndarray, *, model: str | None = None,
                     language: str = "zh", terms: list[str] | None = None, **kw: Any) -> Transcript:
    """One-call library entry point."""
    opts = replace(TranscribeOptions(), language=language, **kw)
    t = Transcriber(model, opts, terms)
    if isinstance(path_or_array, np.ndarray):
        return t.transcribe_array(path_or_array)
    return t.transcribe_file(path_or_array)


# -- worker processes for chunk-parallel decoding ------------------------------------------------
_WORKER: Transcriber | None = None


@contextlib.contextmanager
def _spawn_without_main() -> Iterator[None]:
    """Start spawn workers without re-running the caller's ``__main__`` (multiprocessing does that
    by default, which breaks any script without an ``if __name__ == "__main__"`` guard). The
    workers only need this module, which they import by name."""
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if main is not None and k in main.__dict__}
    try:
        if main is not None:
            main.__dict__.pop("__file__", None)
            if "__spec__" in saved:
                main.__spec__ = None
        yield
    finally:
        if main is not None:
            main.__dict__.update(saved)


_WORKER_ERROR: InputError | None = None


def _worker_init(model: ModelInfo, options: TranscribeOptions, terms: list[str],
                 context: TermContext | None = None) -> None:
    global _WORKER, _WORKER_ERROR
    from ..childproc import die_with_parent  # noqa: PLC0415 - in the worker process

    die_with_parent()  # a killed `lsf` must not leave decoders running
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    _WORKER = Transcriber(model, options, terms, context)
    try:
        _WORKER.backend  # noqa: B018 - load the model now, once per worker
    except InputError as exc:  # a model that cannot be loaded: the task says why (a failed
        _WORKER_ERROR = exc  # initializer would only break the pool without a message)


def _worker(state: tuple[str | None, float | None, list[str]]) -> Transcriber:
    """This worker's transcriber with the parent's language decision (language, probability, notes)."""
    if _WORKER_ERROR is not None:
        raise _WORKER_ERROR
    assert _WORKER is not None
    _WORKER.language, _WORKER.language_probability, _WORKER.notes = state[0], state[1], list(state[2])
    return _WORKER


def _worker_settle(path: str, pending: list[Chunk], state: tuple[str | None, float | None, list[str]]
                   ) -> tuple[str | None, float | None, list[str], dict]:
    t = _worker(state)
    with WavReader(Path(path)) as reader:
        lang, prob, notes = t.settle_language_from(reader, pending)
    return lang, prob, notes, t.backend.describe()


def _worker_decode(path: str, ch: Chunk, state: tuple[str | None, float | None, list[str]]) -> dict:
    t = _worker(state)
    with WavReader(Path(path)) as reader:
        return t._decode_chunk(reader, ch)  # noqa: SLF001
