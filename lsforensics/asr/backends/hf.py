"""transformers backend (PyTorch, fp32 on CPU), running the shipped CT2 weights via ``convert``.

The CT2 folder's ``tokenizer.json`` is the Hugging Face fast tokenizer of Whisper, so nothing
but the weights needs converting. Speech regions come from Silero VAD; each region (<= 30 s) is
one segment, decoded with cross-attention word timestamps (``return_timestamps="word"``). The
pipeline gives no per-word probability, so ``p`` is null for this backend (never invented).
"""

from __future__ import annotations

import json
import os

import numpy as np

from ...errors import InputError
from ..types import Segment, Word
from .base import SAMPLE_RATE, Backend, DecodeOptions
from .openai import speech_regions

# Token ids of multilingual Whisper (tokenizer.json of openai/whisper-base).
SOT, EOT, TRANSLATE, TRANSCRIBE, PREV, NO_TS = 50258, 50257, 50358, 50359, 50361, 50363


class TransformersBackend(Backend):
    name = "transformers"
    formats = ("ct2", "hf")

    def __init__(self, model, threads: int = 0):  # noqa: ANN001
        super().__init__(model, threads)
        import torch
        from transformers import (
            GenerationConfig,
            PreTrainedTokenizerFast,
            WhisperConfig,
            WhisperFeatureExtractor,
            WhisperForConditionalGeneration,
            WhisperTokenizerFast,
        )

        torch.set_num_threads(threads or min(4, os.cpu_count() or 1))
        self._torch = torch
        self.fe = WhisperFeatureExtractor(feature_size=80)
        if model.format == "hf":
            try:
                self._m = WhisperForConditionalGeneration.from_pretrained(str(model.path), local_files_only=True)
                self.tok = WhisperTokenizerFast.from_pretrained(str(model.path), local_files_only=True)
            except Exception as exc:
                raise InputError(f"--model {model.path}: cannot load Hugging Face Whisper: {exc}") from None
        elif model.format == "ct2":
            from ..convert import alignment_mask, openai_to_hf_names, read_ct2, to_openai_state

            ct2 = read_ct2(model.path)
            dims, sd = to_openai_state(ct2)
            cfg = WhisperConfig(
                vocab_size=dims["n_vocab"], num_mel_bins=dims["n_mels"], d_model=dims["n_text_state"],
                encoder_layers=dims["n_audio_layer"], decoder_layers=dims["n_text_layer"],
                encoder_attention_heads=dims["n_audio_head"], decoder_attention_heads=dims["n_text_head"],
                encoder_ffn_dim=4 * dims["n_audio_state"], decoder_ffn_dim=4 * dims["n_text_state"],
                max_source_positions=dims["n_audio_ctx"], max_target_positions=dims["n_text_ctx"],
                decoder_start_token_id=SOT, pad_token_id=EOT, bos_token_id=EOT, eos_token_id=EOT,
            )
            m = WhisperForConditionalGeneration(cfg)
            state = {openai_to_hf_names(k): torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in sd.items()}
            state["proj_out.weight"] = state["model.decoder.embed_tokens.weight"]
            missing, unexpected = m.load_state_dict(state, strict=False)
            if unexpected or [k for k in missing if "embed_positions" not in k]:
                raise InputError(f"conversion to transformers failed: missing {missing[:3]}, unexpected {unexpected[:3]}")
            self.tok = PreTrainedTokenizerFast(tokenizer_file=str(model.path / "tokenizer.json"),
                                               bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                               unk_token="<|endoftext|>", pad_token="<|endoftext|>")
            vocab = json.loads((model.path / "tokenizer.json").read_text(encoding="utf-8"))
            added = {t["content"]: t["id"] for t in vocab.get("added_tokens", [])}
            lang_ids = set(ct2.config.get("lang_ids", []))
            mask = alignment_mask(ct2)
            m.generation_config = GenerationConfig(
                decoder_start_token_id=SOT, eos_token_id=EOT, pad_token_id=EOT, bos_token_id=EOT,
                no_timestamps_token_id=NO_TS, prev_sot_token_id=PREV, is_multilingual=True,
                lang_to_id={k: v for k, v in added.items() if v in lang_ids},
                task_to_id={"transcribe": TRANSCRIBE, "translate": TRANSLATE},
                alignment_heads=[[int(i), int(j)] for i, j in zip(*np.nonzero(mask), strict=True)],
                suppress_tokens=list(ct2.config.get("suppress_ids", [])),
                begin_suppress_tokens=list(ct2.config.get("suppress_ids_begin", [])),
                max_initial_timestamp_index=50, max_length=dims["n_text_ctx"],
            )
            self._m = m
        else:
            raise InputError(f"--backend transformers cannot run a {model.format} model")
        self._m.eval()

    def describe(self) -> dict[str, object]:
        return {"backend": self.name, "compute_type": "float32", "word_probabilities": False}

    def _features(self, audio: np.ndarray):  # noqa: ANN202
        return self.fe(audio, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features

    def _inputs(self, audio: np.ndarray) -> dict:
        f = self.fe(audio, sampling_rate=SAMPLE_RATE, return_tensors="pt", return_attention_mask=True)
        return {"input_features": f.input_features, "attention_mask": f.attention_mask}

    def detect_language(self, audio: np.ndarray) -> tuple[str, float, dict[str, float]]:
        regions = speech_regions(audio)
        if regions:
            audio = audio[int(regions[0][0] * SAMPLE_RATE):]
        feats = self._features(audio[: 30 * SAMPLE_RATE])
        gc = self._m.generation_config
        with self._torch.no_grad():
            enc = self._m.model.encoder(feats)
            logits = self._m(encoder_outputs=enc, decoder_input_ids=self._torch.tensor([[SOT]])).logits[0, -1]
        ids = list(gc.lang_to_id.values())
        probs = self._torch.softmax(logits[ids], dim=-1).numpy()
        names = [k.strip("<|>") for k in gc.lang_to_id]
        order = np.argsort(-probs)[:5]
        top = {names[i]: float(probs[i]) for i in order}
        best = names[order[0]]
        return best, top[best], top

    def transcribe(self, audio: np.ndarray, options: DecodeOptions) -> tuple[list[Segment], float]:
        duration = len(audio) / SAMPLE_RATE
        regions = speech_regions(audio) if options.vad else [(0.0, duration)]
        segs: list[Segment] = []
        self._torch.manual_seed(0)
        for a, b in regions:
            for s0 in np.arange(a, b, 30.0):  # VAD caps regions at 30 s; this guards longer ones
                s1 = min(b, s0 + 30.0)
                clip = audio[int(s0 * SAMPLE_RATE): int(s1 * SAMPLE_RATE)]
                kw = dict(language=options.language, task="transcribe", num_beams=options.beam_size,
                          return_token_timestamps=options.word_timestamps)
                if options.hotwords or options.initial_prompt:
                    kw["prompt_ids"] = self._torch.tensor(
                        self.tok.encode(" " + (options.initial_prompt or options.hotwords), add_special_tokens=False))
                if options.max_new_tokens:
                    kw["max_new_tokens"] = options.max_new_tokens
                with self._torch.no_grad():
                    out = self._m.generate(**self._inputs(clip), return_dict_in_generate=True, **kw)
                seq = out["sequences"][0].tolist()
                stamps = out["token_timestamps"][0].tolist() if options.word_timestamps else None
                text = self.tok.decode([t for t in seq if t < EOT])
                if text.strip():
                    segs.append(Segment(float(s0), float(s1), text, _words(seq, stamps, self.tok, float(s0)), text))
        return segs, float(sum(b - a for a, b in regions))


def _words(seq: list[int], stamps: list[float] | None, tok, offset: float) -> list[Word]:  # noqa: ANN001
    """Token times -> words. Whisper's byte-level BPE splits many CJK characters over two tokens,
    so tokens are gathered until they decode to whole text. A token's time is when it starts; a
    word ends where the next token starts."""
    if stamps is None:
        return []
    words: list[Word] = []
    buf: list[int] = []
    first = 0
    for k, tid in enumerate(seq):
        if tid >= EOT:
            continue
        if not buf:
            first = k
        buf.append(tid)
        piece = tok.decode(buf)
        if "\ufffd" in piece:
            continue
        end = stamps[k + 1] if k + 1 < len(stamps) else stamps[k]
        if piece.strip():
            words.append(Word(offset + float(stamps[first]), offset + float(max(end, stamps[first])), piece, None))
        buf = []
    return words
