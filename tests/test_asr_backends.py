"""The lossless CT2 -> openai/HF converter and the openai-whisper / transformers backends.

Both backends run the shipped weights through the project's converter; the check is that they
recognise the same real Mandarin clip with word timestamps, as faster-whisper does.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from lsforensics.asr.audio import load_audio
from lsforensics.asr.chinese import to_simplified
from lsforensics.asr.convert import ct2_from_openai_state, openai_to_hf_names, read_ct2, to_openai_state
from lsforensics.asr.transcribe import TranscribeOptions, Transcriber
from lsforensics.asr.weights import identify_model, shipped_model_dir

CLIP = "zh_net_TEST_NET_Y0000000000_-KTKHdZ2fb8_S00000.wav"
REF = "我有的时候说不清楚你们知道吗"


def test_conversion_is_lossless_and_complete():
    m = read_ct2(shipped_model_dir())
    dims, sd = to_openai_state(m)
    assert dims["n_text_layer"] == dims["n_audio_layer"] == 6 and dims["n_vocab"] == 51865
    back = ct2_from_openai_state(sd, dims["n_audio_layer"], dims["n_text_layer"])
    tensors = {k: v for k, v in m.variables.items() if v.ndim > 0}
    assert set(back) == set(tensors)
    for k, v in tensors.items():  # bit-identical, same dtype (float16)
        assert back[k].dtype == v.dtype and back[k].tobytes() == v.tobytes(), k
    hf = {openai_to_hf_names(k) for k in sd}
    assert len(hf) == len(sd) and "model.decoder.layers.5.encoder_attn.k_proj.weight" in hf


def _cer(hyp: str) -> float:
    h = re.sub(r"[\s\W_]+", "", to_simplified(hyp))
    prev = list(range(len(h) + 1))
    for i, x in enumerate(REF, 1):
        cur = [i] + [0] * len(h)
        for j, y in enumerate(h, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return prev[-1] / len(REF)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["openai-whisper", "transformers"])
def test_backend_recognises_real_mandarin_with_word_times(backend, realdata):
    pytest.importorskip("torch")
    audio = load_audio(realdata / CLIP)
    t = Transcriber(None, replace(TranscribeOptions(language="zh"), backend=backend), [])
    tr = t.transcribe_array(audio)
    words = [w for s in tr.segments for w in s.words]
    print(f"[asr] {backend}: {tr.text!r} CER {_cer(tr.text):.3f}, {len(words)} words, model {tr.model}")
    assert _cer(tr.text) <= 0.2  # faster-whisper: 0.0 on this clip
    assert words and all(0 <= w.start <= w.end <= len(audio) / 16000 + 0.5 for w in words)
    assert np.all(np.diff([w.start for w in words]) >= -1e-6)
    assert tr.model["weights_sha256"] == identify_model(None).sha256


@pytest.mark.slow
def test_openai_checkpoint_exported_by_the_converter_loads_as_user_model(tmp_path, realdata):
    pytest.importorskip("whisper")
    from lsforensics.asr.convert import export_openai

    pt = export_openai(shipped_model_dir(), tmp_path / "base.pt")
    info = identify_model(pt)
    assert info.format == "openai"
    t = Transcriber(info, replace(TranscribeOptions(language="zh"), backend="openai-whisper"), [])
    tr = t.transcribe_array(load_audio(realdata / CLIP))
    print(f"[asr] openai .pt user model: {tr.text!r}")
    assert _cer(tr.text) <= 0.2 and tr.segments[0].words
