"""openai-whisper backend (PyTorch, fp32 on CPU), running the shipped CT2 weights via ``convert``.

openai-whisper has no VAD and no hotwords: speech regions come from the same Silero VAD that
faster-whisper ships (passed as ``clip_timestamps``), and a biased pass uses ``initial_prompt``.
"""

from __future__ import annotations

import base64
import gzip
import os

import numpy as np

from ...errors import InputError
from ..types import Segment, Word
from .base import SAMPLE_RATE, Backend, DecodeOptions
from .faster import VAD_PARAMETERS


def speech_regions(audio: np.ndarray) -> list[tuple[float, float]]:
    """Silero VAD (the ONNX model faster-whisper ships) -> [(start s, end s)]."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    ts = get_speech_timestamps(audio, VadOptions(**VAD_PARAMETERS))
    return [(t["start"] / SAMPLE_RATE, t["end"] / SAMPLE_RATE) for t in ts]


class OpenAIWhisperBackend(Backend):
    name = "openai-whisper"
    formats = ("ct2", "openai")

    def __init__(self, model, threads: int = 0):  # noqa: ANN001
        super().__init__(model, threads)
        import torch
        import whisper
        from whisper.model import ModelDimensions, Whisper

        torch.set_num_threads(threads or min(4, os.cpu_count() or 1))
        self._torch, self._whisper = torch, whisper
        if model.format == "openai":
            try:
                self._m = whisper.load_model(str(model.weights_file), device="cpu")
                heads = torch.load(str(model.weights_file), map_location="cpu", weights_only=False).get("alignment_heads")
            except Exception as exc:  # torch raises many types for a damaged checkpoint
                raise InputError(f"--model {model.path}: cannot load openai-whisper checkpoint: {exc}") from None
            if heads is not None:  # written by convert.export_openai
                self._m.set_alignment_heads(base64.b85encode(gzip.compress(np.array(heads, dtype=bool).tobytes())))
        elif model.format == "ct2":
            from ..convert import alignment_mask, read_ct2, to_openai_state

            ct2 = read_ct2(model.path)
            dims, sd = to_openai_state(ct2)
            m = Whisper(ModelDimensions(**dims))
            # fp16 -> fp32 is exact; CPU inference in openai-whisper is fp32.
            m.load_state_dict({k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in sd.items()})
            mask = alignment_mask(ct2)
            m.set_alignment_heads(base64.b85encode(gzip.compress(mask.tobytes())))
            self._m = m.eval()
        else:
            raise InputError(f"--backend openai-whisper cannot run a {model.format} model")

    def describe(self) -> dict[str, object]:
        return {"backend": self.name, "compute_type": "float32"}

    def detect_language(self, audio: np.ndarray) -> tuple[str, float, dict[str, float]]:
        w = self._whisper
        regions = speech_regions(audio)
        if regions:  # detect on speech, as faster-whisper does, not on leading silence
            audio = audio[int(regions[0][0] * SAMPLE_RATE):]
        mel = w.log_mel_spectrogram(w.pad_or_trim(audio), self._m.dims.n_mels)
        with self._torch.no_grad():
            _, probs = self._m.detect_language(mel)
        top = dict(sorted(probs.items(), key=lambda kv: -kv[1])[:5])
        lang = next(iter(top))
        return lang, float(top[lang]), {k: float(v) for k, v in top.items()}

    def transcribe(self, audio: np.ndarray, options: DecodeOptions) -> tuple[list[Segment], float]:
        duration = len(audio) / SAMPLE_RATE
        clips: list[float] = []
        speech = duration
        if options.vad:
            regions = speech_regions(audio)
            if not regions:
                return [], 0.0
            speech = sum(b - a for a, b in regions)
            clips = [x for r in regions for x in r]
        self._torch.manual_seed(0)  # temperature-fallback sampling must be reproducible
        kw = dict(language=options.language, task="transcribe", word_timestamps=options.word_timestamps,
                  temperature=options.temperatures, condition_on_previous_text=options.condition_on_previous_text,
                  initial_prompt=options.initial_prompt or options.hotwords, fp16=False, verbose=None,
                  beam_size=options.beam_size, clip_timestamps=clips or "0")
        if options.max_new_tokens:
            kw["sample_len"] = options.max_new_tokens
        with self._torch.no_grad():
            res = self._whisper.transcribe(self._m, audio.astype(np.float32), **kw)
        segs = []
        for s in res["segments"]:
            words = [Word(float(w["start"]), float(w["end"]), w["word"], float(w["probability"]))
                     for w in s.get("words", [])]
            segs.append(Segment(float(s["start"]), float(s["end"]), s["text"], words, s["text"],
                                float(s["avg_logprob"]), float(s["no_speech_prob"]), float(s["compression_ratio"])))
        return segs, float(speech)
