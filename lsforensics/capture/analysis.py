"""A recorded case as input to ``lsf analyze``: its remux is the video, its chat a chat file."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import InputError
from .layout import CaptureLayout, is_capture_case


def recorded_input(video: str | os.PathLike[str], case_dir: str | os.PathLike[str] | None,
                   opts: Any) -> tuple[Path, Path | None, Any]:
    """``(video, case folder, options)`` for analyze: unchanged unless ``video`` is a recorded case."""
    p = Path(video)
    if not is_capture_case(p):
        return p, Path(case_dir) if case_dir else None, opts
    if case_dir and Path(case_dir).absolute() != p.absolute():
        raise InputError(f"{p} is a recorded case: analyze it in place (leave out -C, or give -C {p})")
    L = CaptureLayout(p)
    if not L.recording.is_file():
        raise InputError(f"{p} holds no capture/recording.ts yet (the recording never ended normally): "
                         f"rerun `lsf record` on it to continue and finish it")
    chats = list(opts.chats)
    if L.chat.is_file() and L.chat.absolute() not in {Path(c).absolute() for c in chats}:
        chats.append(L.chat)
    return L.recording, p, replace(opts, chats=chats)
