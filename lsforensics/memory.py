"""Giving memory back to the system between stages.

``lsf analyze`` runs its stages in one process: a model a finished stage loaded (the OCR engine's
ONNX sessions, ~300 MiB) is dropped when the stage ends, and glibc is asked to return the freed
heap pages (``malloc_trim``), which it otherwise keeps for the process; the next stage (detect,
then the voice model) then starts from a smaller process instead of adding to it. Elsewhere than
glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import gc

try:
    _trim = ctypes.CDLL("libc.so.6").malloc_trim
except (OSError, AttributeError):  # not glibc
    _trim = None


def release() -> None:
    """Collect garbage and return free heap pages to the system."""
    gc.collect()
    if _trim is not None:
        _trim(0)
