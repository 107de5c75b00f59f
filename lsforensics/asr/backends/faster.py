"""faster-whisper (CTranslate2) backend: the default, int8 on CPU."""

from __future__ import annotations

import bisect
import os

import numpy as np

from ...errors import InputError
from ..audio import SR
from ..types import Segment, Word
from .base import Backend, DecodeOptions

_JOIN_GAP_S = 2.0  # batched decode: speech regions this close share one 30-s window
VAD_PARAMETERS = {"threshold": 0.5, "min_silence_duration_ms": 500, "speech_pad_ms": 300, "max_speech_duration_s": 30}


def cpu_numerics() -> dict[str, str]:
    """The CPU code path CTranslate2 picks on this machine, which decides the decoder's arithmetic.

    int8 Whisper's text can differ between machines (measured on the same sound: 天丝 and 纯棉 heard
    天资 and 纯练 on an AVX2-only AMD host, as said on an earlier host), because CTranslate2 uses
    Intel MKL on Intel CPUs and oneDNN elsewhere, each with the widest instruction set the CPU has. Its own selection rule is followed
    here (``CT2_USE_MKL`` and ``CT2_FORCE_CPU_ISA`` override it), so that a third party who
    reproduces a transcript on another machine can tell why a word may differ.
    """
    import platform

    import ctranslate2

    vendor, flags = "", set()
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):  # noqa: SIM115 (bounded: stops at the first CPU)
            if line.startswith("vendor_id") and not vendor:
                vendor = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    machine = platform.machine().lower()
    if machine in ("arm64", "aarch64"):
        isa = "NEON"
    elif {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        isa = "AVX512"
    elif "avx2" in flags:
        isa = "AVX2"
    elif "avx" in flags:
        isa = "AVX"
    else:
        isa = "generic" if flags or vendor else "unknown"
    isa = os.environ.get("CT2_FORCE_CPU_ISA") or isa
    mkl_env = os.environ.get("CT2_USE_MKL")
    mkl = (mkl_env not in ("0", "false", "False")) if mkl_env is not None else vendor == "GenuineIntel"
    return {"ctranslate2": ctranslate2.__version__, "cpu_vendor": vendor or machine or "unknown",
            "isa": isa, "gemm": "Intel MKL" if mkl and machine not in ("arm64", "aarch64") else "oneDNN/other"}


class FasterWhisperBackend(Backend):
    name = "faster-whisper"
    formats = ("ct2",)

    def __init__(self, model, threads: int = 0, compute_type: str = "int8"):  # noqa: ANN001
        super().__init__(model, threads)
        if model.format != "ct2":
            raise InputError(f"--backend faster-whisper needs a CTranslate2 model folder, got a {model.format} model")
        from faster_whisper import WhisperModel

        self.compute_type = compute_type
        self._cpu_threads = threads or min(4, os.cpu_count() or 1)
        try:
            self._m = WhisperModel(str(model.path), device="cpu", compute_type=compute_type,
                                   cpu_threads=self._cpu_threads, local_files_only=True)
        except (RuntimeError, ValueError, OSError) as exc:
            raise InputError(f"--model {model.path}: cannot load CTranslate2 model: {str(exc).splitlines()[0]}") from None
        self._batched = None
        self._sampled = False  # the last decode drew random numbers (a temperature-fallback sample)

    def _fresh_sampler(self, can_sample: bool) -> None:
        """Give the next decode a random-number generator seeded with 0, whatever was decoded before.

        CTranslate2 keeps its sampling generator per worker thread, seeded once, at the thread's
        first sample (``static thread_local std::mt19937`` in ``get_random_generator``), so
        ``ctranslate2.set_random_seed`` does not reach a thread that has sampled already. A chunk
        that needed temperature fallback after another chunk did would then draw different numbers
        than in a fresh process, and the transcript would depend on which chunks a process decoded
        before (measured: the same 120-s chunk gave 8 vs 31 segments after two different earlier
        chunks). The model's worker threads live as long as its ``ctranslate2.models.Whisper``
        object, so after a decode that sampled, that object is rebuilt from the same files and
        settings before the next decode that may sample (about 2 s on CPU; chunks without fallback,
        and term recovery's temperature-0 decodes, cost nothing).
        """
        import ctranslate2

        ctranslate2.set_random_seed(0)
        if not (self._sampled and can_sample):  # a decode at temperature 0 only draws no numbers
            return
        m = self._m
        m.model = None  # release the old weights and threads before the new ones are mapped
        m.model = ctranslate2.models.Whisper(str(self.model.path), device="cpu", compute_type=self.compute_type,
                                             intra_threads=self._cpu_threads, inter_threads=1)
        self._sampled = False

    def describe(self) -> dict[str, object]:
        return {"backend": self.name, "compute_type": self.compute_type, "cpu_numerics": cpu_numerics()}

    def score(self, audio: np.ndarray, texts: list[str], language: str) -> list[float] | None:
        """Teacher-forced token probabilities of each text (CTranslate2 ``align``), no bias."""
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer

        m = self._m
        feats = m.feature_extractor(audio[: 30 * 16000])
        n_frames = min(feats.shape[-1], 3000)
        enc = m.encode(pad_or_trim(feats))
        tok = Tokenizer(m.hf_tokenizer, m.model.is_multilingual, task="transcribe", language=language)
        tokens = [tok.encode(t) for t in texts]
        if any(not t for t in tokens):
            return None
        out = []
        for t in tokens:  # one at a time: the encoder output is a batch of one
            r = m.model.align(enc, list(tok.sot_sequence), [t], n_frames)[0]
            probs = np.asarray(r.text_token_probs[: len(t)], np.float64)
            out.append(float(np.log(np.maximum(probs, 1e-12)).sum()))
        return out

    def detect_language(self, audio: np.ndarray) -> tuple[str, float, dict[str, float]]:
        lang, prob, all_probs = self._m.detect_language(audio, vad_filter=True, language_detection_segments=1)
        return lang, float(prob), {k: float(v) for k, v in (all_probs or [])[:5]}

    def transcribe(self, audio: np.ndarray, options: DecodeOptions) -> tuple[list[Segment], float]:
        can_sample = any(t > 0 for t in options.temperatures)
        self._fresh_sampler(can_sample)  # temperature-fallback sampling must not depend on earlier decodes
        kwargs = dict(
            language=options.language, beam_size=options.beam_size, word_timestamps=options.word_timestamps,
            vad_filter=options.vad, vad_parameters=dict(VAD_PARAMETERS), hotwords=options.hotwords,
            initial_prompt=options.initial_prompt, temperature=list(options.temperatures),
            condition_on_previous_text=options.condition_on_previous_text,
        )
        if options.max_new_tokens:
            kwargs["max_new_tokens"] = options.max_new_tokens
        if options.batch_size > 0:
            return self._transcribe_batched(audio, options, kwargs)
        gen, info = self._m.transcribe(audio, **kwargs)
        segs, sampled = self._collect(gen, can_sample)
        if can_sample:
            self._sampled = sampled
        speech = info.duration_after_vad if options.vad else info.duration
        return segs, float(speech)

    def _collect(self, gen, can_sample: bool, shift: float = 0.0) -> tuple[list[Segment], bool]:  # noqa: ANN001
        """Our segments of a faster-whisper segment generator (times moved by ``shift``), and whether
        a temperature-fallback sample was drawn."""
        segs, sampled = [], False
        self._sampled |= can_sample  # until the decode is complete
        for s in gen:
            sampled |= (s.temperature or 0.0) > 0  # the last temperature tried for the segment
            words = [Word(float(w.start) + shift, float(w.end) + shift, w.word, float(w.probability))
                     for w in (s.words or [])]
            segs.append(Segment(float(s.start) + shift, float(s.end) + shift, s.text, words, s.text,
                                float(s.avg_logprob), float(s.no_speech_prob), float(s.compression_ratio)))
        return segs, sampled

    def _transcribe_batched(self, audio: np.ndarray, options: DecodeOptions,
                            kwargs: dict) -> tuple[list[Segment], float]:
        """The VAD's speech regions (neighbours under ``_JOIN_GAP_S`` apart joined into one window of
        at most 30 s, as a sequential decode would read them), decoded with timestamps up to
        ``batch_size`` at once, at the first temperature only; a region
        whose decode fails Whisper's own fallback test (compression ratio above 2.4: a loop; mean
        log-probability under -1 where the model hears speech) is decoded again alone with the full
        temperature fallback, as the sequential decode would. Regions longer than 30 s are split by
        the VAD itself (``max_speech_duration_s``)."""
        from faster_whisper import BatchedInferencePipeline
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        sr = SR
        if self._batched is None:
            self._batched = BatchedInferencePipeline(self._m)
        if options.vad:
            regions = get_speech_timestamps(audio, VadOptions(**VAD_PARAMETERS))
        else:
            regions = [{"start": s, "end": min(len(audio), s + 30 * sr)} for s in range(0, len(audio), 30 * sr)]
        merged: list[dict] = []
        for r in regions:  # neighbours a short pause apart share one window, as in a sequential decode
            if merged and r["end"] - merged[-1]["start"] <= 30 * sr and r["start"] - merged[-1]["end"] <= _JOIN_GAP_S * sr:
                merged[-1] = {"start": merged[-1]["start"], "end": r["end"]}
            else:
                merged.append(dict(r))
        regions = [r for r in merged if r["end"] - r["start"] >= int(0.3 * sr)]
        if not regions:
            return [], 0.0
        clips = [{"start": r["start"] / sr, "end": r["end"] / sr} for r in regions]
        bk = {k: v for k, v in kwargs.items() if k not in ("condition_on_previous_text", "vad_filter", "vad_parameters")}
        bk["temperature"] = [list(options.temperatures)[0]]
        gen, _info = self._batched.transcribe(audio, batch_size=options.batch_size, clip_timestamps=clips,
                                              without_timestamps=False, **bk)
        first, _ = self._collect(gen, False)
        ends = [c["end"] for c in clips]
        by_clip: list[list[Segment]] = [[] for _ in clips]
        for s in first:  # a segment belongs to the region its start lies in
            by_clip[min(len(clips) - 1, bisect.bisect_right(ends, s.start + 1e-3))].append(s)
        segs: list[Segment] = []
        can_sample = len(options.temperatures) > 1
        self.last_batch = {"regions": len(clips), "redecoded": 0}
        for c, got in zip(clips, by_clip, strict=True):
            failed = can_sample and any(s.compression_ratio > 2.4 or (s.avg_logprob < -1.0 and s.no_speech_prob <= 0.6)
                                        for s in got)
            if not failed:
                segs += got
                continue
            self.last_batch["redecoded"] += 1
            self._fresh_sampler(True)
            a, b = int(c["start"] * sr), int(c["end"] * sr)
            seq = dict(kwargs, vad_filter=False)
            seq.pop("vad_parameters", None)
            g2, _ = self._m.transcribe(audio[a:b], **seq)
            more, _ = self._collect(g2, True, shift=c["start"])
            segs += more
        self._sampled = can_sample and self.last_batch["redecoded"] > 0
        return segs, float(sum(c["end"] - c["start"] for c in clips))
