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


@pytest.mark.slow
def test_batched_decode_keeps_each_speech_region_and_its_times(realdata):
    """The opt-in batched record decode (``TranscribeOptions.batch_size``): speech regions a short
    pause apart share a window, regions far apart are decoded apart, and every segment keeps its
    times and word times on the original timeline (no long merged segments)."""
    from lsforensics.asr.backends.base import DecodeOptions

    sr = 16000
    clips = ["zh_aishell1_BAC009S0764W0121.wav", "zh_funasr_asr_example.wav", CLIP]
    parts, spans, t = [], [], 0.0
    for k, name in enumerate(clips):
        a = load_audio(realdata / name)
        gap = np.zeros(int(sr * (1.0 if k == 0 else 8.0)), np.float32)  # 1 s, then 8 s of silence
        parts += [a, gap]
        spans.append((t, t + len(a) / sr))
        t += (len(a) + len(gap)) / sr
    audio = np.concatenate(parts)
    b = Transcriber(None, TranscribeOptions(language="zh", workers=1, threads=1), [], None).backend
    seq, _ = b.transcribe(audio, DecodeOptions(language="zh"))
    bat, speech = b.transcribe(audio, DecodeOptions(language="zh", batch_size=8))
    print(f"\nbatched: {b.last_batch}, {len(bat)} segments ({len(seq)} sequential), speech {speech:.1f} s")
    for s in bat:
        print(f"  {s.start:6.2f}-{s.end:6.2f} {s.text}")
    assert b.last_batch["regions"] == 2  # the first two clips (1 s apart) share a window
    assert len(bat) >= len(clips)
    for s in bat:  # every segment and word lies in the speech it transcribes
        assert any(a0 - 0.5 <= s.start and s.end <= a1 + 0.5 for a0, a1 in spans[:2]) \
            or spans[2][0] - 0.5 <= s.start <= s.end <= spans[2][1] + 0.5, (s.start, s.end, s.text)
        assert s.words and all(s.start - 0.05 <= w.start <= w.end <= s.end + 0.05 for w in s.words)
    assert [s.start for s in bat] == sorted(s.start for s in bat)
    cer_b = _cer("".join(s.text for s in bat if s.start >= spans[2][0] - 0.5))
    assert cer_b <= 0.1, cer_b  # the last clip, alone in its window, as well heard as alone
    assert abs(len("".join(s.text for s in bat)) - len("".join(s.text for s in seq))) <= 6
