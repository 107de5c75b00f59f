"""ASR backends behind one interface; ``get_backend(name)`` imports lazily (torch is heavy)."""

from __future__ import annotations

import importlib

from ...errors import InputError
from .base import Backend, DecodeOptions

BACKENDS = {
    "faster-whisper": "lsforensics.asr.backends.faster:FasterWhisperBackend",
    "openai-whisper": "lsforensics.asr.backends.openai:OpenAIWhisperBackend",
    "transformers": "lsforensics.asr.backends.hf:TransformersBackend",
}
DEFAULT_BACKEND = "faster-whisper"


def get_backend(name: str) -> type[Backend]:
    if name not in BACKENDS:
        raise InputError(f"--backend {name}: unknown; choose one of {', '.join(BACKENDS)}")
    mod, _, cls = BACKENDS[name].partition(":")
    try:
        module = importlib.import_module(mod)
    except ImportError as exc:
        raise InputError(f"--backend {name} is not installed ({exc.name or exc}); see docs/asr.md") from None
    return getattr(module, cls)


__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Backend", "DecodeOptions", "get_backend"]
