"""Lossless CTranslate2 -> openai-whisper / Hugging Face conversion of a Whisper model.

The shipped weights exist only in CTranslate2 format. openai-whisper and transformers can run the
same network once the tensors are renamed and the fused attention projections are split back:
CT2 stores self-attention q/k/v as one ``linear_0`` (rows q, k, v), cross-attention q as
``linear_0`` and k/v fused as ``linear_1``, the output projection as the last ``linear``. Every
tensor is copied bit for bit (float16 stays float16; a test checks the round trip), so all
backends run the same weights. Whisper's key projections have no bias: CT2 stores zeros there,
which are dropped (and checked to be zero).
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


@dataclass
class CT2Model:
    spec: str
    revision: int
    variables: dict[str, np.ndarray]
    aliases: dict[str, str]
    config: dict


def read_ct2(folder: Path) -> CT2Model:
    """Parse ``model.bin`` (binary version 6) of a CTranslate2 model folder."""
    path = Path(folder) / "model.bin"
    data = path.read_bytes()
    pos = 0

    def take(fmt: str) -> tuple:
        nonlocal pos
        size = struct.calcsize(fmt)
        if pos + size > len(data):
            raise InputError(f"{path}: truncated CTranslate2 model")
        out = struct.unpack_from(fmt, data, pos)
        pos += size
        return out

    def string() -> str:
        nonlocal pos
        (n,) = take("H")
        s = data[pos:pos + n - 1].decode("utf-8")
        pos += n
        return s

    (version,) = take("I")
    if version < 5:
        raise InputError(f"{path}: CTranslate2 binary version {version} is not supported")
    spec = string()
    (revision,) = take("I")
    (count,) = take("I")
    variables: dict[str, np.ndarray] = {}
    for _ in range(count):
        name = string()
        (rank,) = take("B")
        shape = take("I" * rank) if rank else ()
        (dtype_id,) = take("B")
        (nbytes,) = take("I")
        if dtype_id not in _DTYPES:
            raise InputError(f"{path}: variable {name} has unsupported dtype id {dtype_id}")
        arr = np.frombuffer(data, dtype=_DTYPES[dtype_id], count=nbytes // np.dtype(_DTYPES[dtype_id]).itemsize,
                            offset=pos)
        pos += nbytes
        variables[name] = arr.reshape(shape)
    aliases = {}
    if pos < len(data):
        (na,) = take("I")
        for _ in range(na):
            a = string()
            aliases[a] = string()
    config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    return CT2Model(spec, revision, variables, aliases, config)


def _dims(m: CT2Model) -> dict[str, int]:
    v = m.variables
    n_audio_layer = len({k.split("/")[1] for k in v if re.match(r"encoder/layer_\d+/", k)})
    n_text_layer = len({k.split("/")[1] for k in v if re.match(r"decoder/layer_\d+/", k)})
    n_vocab, n_text_state = v["decoder/embeddings/weight"].shape
    return {
        "n_mels": int(v["encoder/conv1/weight"].shape[1]),
        "n_vocab": int(n_vocab),
        "n_audio_ctx": int(v["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(v["encoder/conv1/weight"].shape[0]),
        "n_audio_head": int(v["encoder/num_heads"]) if "encoder/num_heads" in v else 8,
        "n_audio_layer": n_audio_layer,
        "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(n_text_state),
        "n_text_head": int(v["decoder/num_heads"]) if "decoder/num_heads" in v else 8,
        "n_text_layer": n_text_layer,
    }


def _split_rows(w: np.ndarray, parts: int) -> list[np.ndarray]:
    n = w.shape[0] // parts
    return [w[i * n:(i + 1) * n] for i in range(parts)]


def _zero_bias(b: np.ndarray, what: str) -> None:
    if np.any(b != 0):  # would mean a model with key biases: this converter would lose them
        raise InputError(f"cannot convert: {what} has a non-zero bias that openai/HF Whisper do not have")


def to_openai_state(m: CT2Model) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """(dims, state dict of numpy arrays) in openai-whisper naming."""
    if m.spec != "WhisperSpec":
        raise InputError(f"not a Whisper model (CTranslate2 spec {m.spec})")
    v, dims = m.variables, _dims(m)
    sd: dict[str, np.ndarray] = {}

    def attn(dst: str, src: str, cross: bool) -> None:
        if cross:
            sd[f"{dst}.query.weight"], sd[f"{dst}.query.bias"] = v[f"{src}/linear_0/weight"], v[f"{src}/linear_0/bias"]
            kw, vw = _split_rows(v[f"{src}/linear_1/weight"], 2)
            kb, vb = _split_rows(v[f"{src}/linear_1/bias"], 2)
            out = "linear_2"
        else:
            qw, kw, vw = _split_rows(v[f"{src}/linear_0/weight"], 3)
            qb, kb, vb = _split_rows(v[f"{src}/linear_0/bias"], 3)
            sd[f"{dst}.query.weight"], sd[f"{dst}.query.bias"] = qw, qb
            out = "linear_1"
        _zero_bias(kb, f"{src} key")
        sd[f"{dst}.key.weight"] = kw
        sd[f"{dst}.value.weight"], sd[f"{dst}.value.bias"] = vw, vb
        sd[f"{dst}.out.weight"], sd[f"{dst}.out.bias"] = v[f"{src}/{out}/weight"], v[f"{src}/{out}/bias"]

    def ln(dst: str, src: str) -> None:
        sd[f"{dst}.weight"], sd[f"{dst}.bias"] = v[f"{src}/gamma"], v[f"{src}/beta"]

    def mlp(dst: str, src: str) -> None:
        sd[f"{dst}.mlp.0.weight"], sd[f"{dst}.mlp.0.bias"] = v[f"{src}/linear_0/weight"], v[f"{src}/linear_0/bias"]
        sd[f"{dst}.mlp.2.weight"], sd[f"{dst}.mlp.2.bias"] = v[f"{src}/linear_1/weight"], v[f"{src}/linear_1/bias"]
        ln(f"{dst}.mlp_ln", f"{src}/layer_norm")

    for c in ("conv1", "conv2"):
        sd[f"encoder.{c}.weight"], sd[f"encoder.{c}.bias"] = v[f"encoder/{c}/weight"], v[f"encoder/{c}/bias"]
    sd["encoder.positional_embedding"] = v["encoder/position_encodings/encodings"]
    for i in range(dims["n_audio_layer"]):
        s, d = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        attn(f"{d}.attn", f"{s}/self_attention", False)
        ln(f"{d}.attn_ln", f"{s}/self_attention/layer_norm")
        mlp(d, f"{s}/ffn")
    ln("encoder.ln_post", "encoder/layer_norm")
    sd["decoder.token_embedding.weight"] = v["decoder/embeddings/weight"]
    sd["decoder.positional_embedding"] = v["decoder/position_encodings/encodings"]
    for i in range(dims["n_text_layer"]):
        s, d = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        attn(f"{d}.attn", f"{s}/self_attention", False)
        ln(f"{d}.attn_ln", f"{s}/self_attention/layer_norm")
        attn(f"{d}.cross_attn", f"{s}/attention", True)
        ln(f"{d}.cross_attn_ln", f"{s}/attention/layer_norm")
        mlp(d, f"{s}/ffn")
    ln("decoder.ln", "decoder/layer_norm")
    return dims, sd


def alignment_mask(m: CT2Model) -> np.ndarray:
    """(n_text_layer, n_text_head) booleans from the CT2 config's alignment heads."""
    dims = _dims(m)
    mask = np.zeros((dims["n_text_layer"], dims["n_text_head"]), dtype=bool)
    for layer, head in m.config.get("alignment_heads", []):
        mask[layer, head] = True
    return mask


_HF_ATTN = {"query": "q_proj", "key": "k_proj", "value": "v_proj", "out": "out_proj"}


def openai_to_hf_names(name: str) -> str:
    """openai-whisper parameter name -> transformers ``WhisperForConditionalGeneration`` name."""
    p = name.split(".")
    if name == "encoder.positional_embedding":
        return "model.encoder.embed_positions.weight"
    if name == "decoder.positional_embedding":
        return "model.decoder.embed_positions.weight"
    if name == "decoder.token_embedding.weight":
        return "model.decoder.embed_tokens.weight"
    if p[1] in ("conv1", "conv2"):
        return f"model.{name}"
    if p[1] in ("ln_post", "ln"):
        return f"model.{p[0]}.layer_norm.{p[2]}"
    side, i, part = p[0], p[2], p[3]
    base = f"model.{side}.layers.{i}"
    if part in ("attn", "cross_attn"):
        return f"{base}.{'self_attn' if part == 'attn' else 'encoder_attn'}.{_HF_ATTN[p[4]]}.{p[5]}"
    if part in ("attn_ln", "cross_attn_ln", "mlp_ln"):
        tgt = {"attn_ln": "self_attn_layer_norm", "cross_attn_ln": "encoder_attn_layer_norm",
               "mlp_ln": "final_layer_norm"}[part]
        return f"{base}.{tgt}.{p[4]}"
    if part == "mlp":
        return f"{base}.{'fc1' if p[4] == '0' else 'fc2'}.{p[5]}"
    raise ValueError(f"unmapped parameter {name}")


def ct2_from_openai_state(sd: dict[str, np.ndarray], n_audio_layer: int, n_text_layer: int) -> dict[str, np.ndarray]:
    """Inverse of ``to_openai_state`` for the tensors (used to prove the conversion is lossless)."""
    out: dict[str, np.ndarray] = {}

    def attn(src: str, dst: str, cross: bool) -> None:
        zeros = np.zeros_like(sd[f"{src}.query.bias"])
        if cross:
            out[f"{dst}/linear_0/weight"], out[f"{dst}/linear_0/bias"] = sd[f"{src}.query.weight"], sd[f"{src}.query.bias"]
            out[f"{dst}/linear_1/weight"] = np.concatenate([sd[f"{src}.key.weight"], sd[f"{src}.value.weight"]])
            out[f"{dst}/linear_1/bias"] = np.concatenate([zeros, sd[f"{src}.value.bias"]])
            o = "linear_2"
        else:
            out[f"{dst}/linear_0/weight"] = np.concatenate(
                [sd[f"{src}.query.weight"], sd[f"{src}.key.weight"], sd[f"{src}.value.weight"]])
            out[f"{dst}/linear_0/bias"] = np.concatenate([sd[f"{src}.query.bias"], zeros, sd[f"{src}.value.bias"]])
            o = "linear_1"
        out[f"{dst}/{o}/weight"], out[f"{dst}/{o}/bias"] = sd[f"{src}.out.weight"], sd[f"{src}.out.bias"]

    def ln(src: str, dst: str) -> None:
        out[f"{dst}/gamma"], out[f"{dst}/beta"] = sd[f"{src}.weight"], sd[f"{src}.bias"]

    def mlp(src: str, dst: str) -> None:
        out[f"{dst}/linear_0/weight"], out[f"{dst}/linear_0/bias"] = sd[f"{src}.mlp.0.weight"], sd[f"{src}.mlp.0.bias"]
        out[f"{dst}/linear_1/weight"], out[f"{dst}/linear_1/bias"] = sd[f"{src}.mlp.2.weight"], sd[f"{src}.mlp.2.bias"]
        ln(f"{src}.mlp_ln", f"{dst}/layer_norm")

    for c in ("conv1", "conv2"):
        out[f"encoder/{c}/weight"], out[f"encoder/{c}/bias"] = sd[f"encoder.{c}.weight"], sd[f"encoder.{c}.bias"]
    out["encoder/position_encodings/encodings"] = sd["encoder.positional_embedding"]
    for i in range(n_audio_layer):
        attn(f"encoder.blocks.{i}.attn", f"encoder/layer_{i}/self_attention", False)
        ln(f"encoder.blocks.{i}.attn_ln", f"encoder/layer_{i}/self_attention/layer_norm")
        mlp(f"encoder.blocks.{i}", f"encoder/layer_{i}/ffn")
    ln("encoder.ln_post", "encoder/layer_norm")
    out["decoder/embeddings/weight"] = sd["decoder.token_embedding.weight"]
    out["decoder/position_encodings/encodings"] = sd["decoder.positional_embedding"]
    for i in range(n_text_layer):
        attn(f"decoder.blocks.{i}.attn", f"decoder/layer_{i}/self_attention", False)
        ln(f"decoder.blocks.{i}.attn_ln", f"decoder/layer_{i}/self_attention/layer_norm")
        attn(f"decoder.blocks.{i}.cross_attn", f"decoder/layer_{i}/attention", True)
        ln(f"decoder.blocks.{i}.cross_attn_ln", f"decoder/layer_{i}/attention/layer_norm")
        mlp(f"decoder.blocks.{i}", f"decoder/layer_{i}/ffn")
    ln("decoder.ln", "decoder/layer_norm")
    return out


def export_openai(ct2_dir: Path, dest: Path) -> Path:
    """Write an openai-whisper checkpoint (``.pt``, float16 as stored) of a CT2 Whisper folder.

    The alignment heads ride along under ``alignment_heads`` (openai's loader ignores the key; our
    backend reads it), so word timing matches the other backends.
    """
    import torch

    m = read_ct2(ct2_dir)
    dims, sd = to_openai_state(m)
    ckpt = {"dims": dims, "model_state_dict": {k: torch.from_numpy(np.array(v)) for k, v in sd.items()},
            "alignment_heads": alignment_mask(m).tolist()}
    dest = Path(dest)
    tmp = dest.with_name(f".{dest.name}.tmp")
    torch.save(ckpt, tmp)
    tmp.replace(dest)
    return dest
