"""The options a case was analysed with, recorded in ``case.json`` (``options``).

A case must say how it was made, and a rerun must not quietly make it differently: ``lsf
transcribe -C CASE`` on a case transcribed with ``--language en`` transcribes in English again.
Each group of options (one per stage family) is recorded once its stage has run::

    "options": {"extract": {"interval": 2.0, "scene_threshold": 0.1, ...},
                "transcribe": {"language": "zh", "model": null, ...},
                "ocr": {...}, "report": {"formats": "html,pdf,json", "tsa": null}}

For a run on a case, each option is settled as: a value typed on the command line, else the
case's recorded value, else the environment (``LSF_*``), else the config file (``lsf.toml``), else
the default. A command-line value that differs from the recorded one is refused unless
``--force`` is given; with it the change is recorded (custody action ``options``, naming the
values before and after) and the case is resealed by the command that made the change.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .case import Case, atomic_write_json
from .custody import CustodyLog
from .errors import InputError
from .evidence.hashing import sha256_file

# What each stage family records (click parameter names).
GROUPS: dict[str, tuple[str, ...]] = {
    "extract": ("interval", "scene_threshold", "mode", "dedup_distance", "max_hold"),
    "transcribe": ("model", "language", "backend", "beam_size", "chunk_seconds", "no_recover"),
    "ocr": ("det_side", "min_score"),
    "report": ("formats", "tsa"),
    # Not options but facts about the stream (lsf batch's manifest columns): kept at case.json "stream".
    "stream": ("platform", "room", "streamer", "captured_at", "url"),
}
VERBS = {"extract": "extracted", "transcribe": "transcribed", "ocr": "read (OCR)", "report": "reported",
         "stream": "described"}
STREAM_FIELDS = GROUPS["stream"]
MAX_STREAM_FIELD = 2000


def check_stream(info: dict[str, Any]) -> None:
    """The stream facts given for a case: known names, short single-line text, captured_at as ISO 8601."""
    from datetime import datetime

    for k, v in info.items():
        if k not in STREAM_FIELDS:
            raise InputError(f"unknown stream field {k!r}: use {', '.join(STREAM_FIELDS)}")
        if not isinstance(v, str) or len(v) > MAX_STREAM_FIELD or any(c in v for c in "\r\n\0"):
            raise InputError(f"stream {k}: expected one line of text up to {MAX_STREAM_FIELD} characters")
    at = info.get("captured_at")
    if at:
        try:
            datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"captured_at {at!r}: expected an ISO 8601 time such as 2026-06-12T20:15:00+08:00") from None


def _slot(info: dict[str, Any], group: str) -> Any:
    if group == "stream":
        return info.get("stream")
    opts = info.get("options")
    return opts.get(group) if isinstance(opts, dict) else None


def _plain(v: Any) -> Any:
    """A JSON value for case.json: paths as absolute strings, tuples as lists."""
    if isinstance(v, Path):
        return str(v.expanduser().absolute())
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v


def recorded(case: Case, group: str) -> dict[str, Any]:
    """The options ``group`` was last run with on this case ({} for a case made before options were kept)."""
    if not case.exists():
        return {}
    got = _slot(case.info, group)
    return dict(got) if isinstance(got, dict) else {}


@dataclass
class Settled:
    group: str
    values: dict[str, Any]
    source: dict[str, str]  # name -> flag | case | environment | config | default
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # name -> (recorded, new), with --force
    notes: list[str] = field(default_factory=list)


def flag(name: str) -> str:
    return {"formats": "--format", "dedup_distance": "--dedup"}.get(name, "--" + name.replace("_", "-"))


def settle(case: Case | None, group: str, *, given: dict[str, Any], ambient: dict[str, tuple[Any, str]],
           defaults: dict[str, Any], force: bool = False) -> Settled:
    """The effective options of ``group`` for a run on ``case`` (None or new: nothing recorded).

    ``given``: typed on the command line; ``ambient``: name -> (value, "environment"|"config");
    ``defaults``: the rest. A given value that differs from the case's record needs ``force``."""
    check_values(group, {**defaults, **given})  # a bad value is refused as such, before the record is asked
    rec = recorded(case, group) if case is not None else {}
    out = Settled(group, {}, {})
    for name in GROUPS[group]:
        if name in given:
            new = _plain(given[name])
            if name in rec and rec[name] != new:
                if not force:
                    raise InputError(
                        f"case {case.root if case else ''} was {VERBS[group]} with {flag(name)} {_show(rec[name])} "
                        f"(recorded in case.json): rerun with --force to change it to {_show(new)} (the change is "
                        "recorded in custody and the case resealed), or leave the option out to keep it")
                out.changed[name] = (rec[name], new)
            out.values[name], out.source[name] = new, "flag"
        elif name in rec:
            out.values[name], out.source[name] = rec[name], "case"
            if name in ambient and _plain(ambient[name][0]) != rec[name]:
                out.notes.append(f"{flag(name)} from the {ambient[name][1]} ({_show(_plain(ambient[name][0]))}) not "
                                 f"used: the case records {_show(rec[name])}")
        elif name in ambient:
            out.values[name], out.source[name] = _plain(ambient[name][0]), ambient[name][1]
        else:
            out.values[name], out.source[name] = _plain(defaults.get(name)), "default"
    return out


def check_values(group: str, values: dict[str, Any]) -> None:
    """Refuse a value no stage of ``group`` accepts (one line, exit 2), whatever the case records."""
    if group == "extract":
        from dataclasses import replace

        from .extract import FrameParams

        replace(FrameParams(), **{k: values[k] for k in GROUPS["extract"] if k in values}).validate()
    elif group == "transcribe" and float(values.get("chunk_seconds") or 0) < 30:
        raise InputError("--chunk-seconds must be at least 30")
    elif group == "ocr" and (int(values.get("det_side") or 0) < 160
                             or not 0 <= float(values.get("min_score") or 0) <= 1):
        raise InputError("--det-side must be >= 160 and --min-score within 0..1")


def settle_values(case: Case | None, group: str, values: dict[str, Any], defaults: dict[str, Any], *,
                  given: frozenset[str] | set[str] | None = None, ambient: dict[str, tuple[Any, str]] | None = None,
                  force: bool = False) -> Settled:
    """:func:`settle` for a library caller holding every value: ``given=None`` counts each value
    that differs from its default as set (the rest fall back to the case's record)."""
    names = given if given is not None else {k for k in values if values[k] != defaults.get(k)}
    return settle(case, group, given={k: values[k] for k in names if k in values}, ambient=ambient or {},
                  defaults=defaults, force=force)


@functools.cache
def defaults() -> dict[str, Any]:
    """The default of every recorded option (from the stages' own parameter classes)."""
    from .asr.backends import DEFAULT_BACKEND
    from .asr.transcribe import TranscribeOptions
    from .extract import FrameParams
    from .vision.ocr import OcrParams

    t, o = TranscribeOptions(), OcrParams()
    return {**frame_values(FrameParams()), "model": None, "language": t.language, "backend": DEFAULT_BACKEND,
            "beam_size": t.beam_size, "chunk_seconds": t.chunk_s, "no_recover": not t.recover,
            "det_side": o.det_side, "min_score": o.text_score, "formats": "html,pdf,json", "tsa": None,
            **{k: None for k in STREAM_FIELDS}}


def frame_values(frames: Any) -> dict[str, Any]:
    """The ``extract`` group of a :class:`~lsforensics.extract.FrameParams`."""
    return {k: getattr(frames, k) for k in GROUPS["extract"]}


def _show(v: Any) -> str:
    return "(none)" if v is None else json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v


def record(case: Case, settled: Settled, *, argv: list[str] | None = None, operator: str | None = None) -> bool:
    """Write ``settled.values`` into case.json when they differ from the record; custody names the change.

    Called once the group's stage has run (under the case lock). Returns True when case.json changed."""
    info = case.info
    before = _slot(info, settled.group)
    if before == settled.values or (settled.group == "stream" and before is None
                                    and not any(settled.values.values())):
        return False
    if settled.group == "stream":
        info["stream"] = settled.values
    else:
        options = info.get("options") if isinstance(info.get("options"), dict) else {}
        info["options"] = {**options, settled.group: settled.values}
    atomic_write_json(case.case_json, info)
    CustodyLog(case.custody).append(
        "options", inputs=[], outputs=[{"path": "case.json", "sha256": sha256_file(case.case_json)}],
        params={"group": settled.group, "before": before, "after": settled.values,
                "changed": {k: {"before": a, "after": b} for k, (a, b) in settled.changed.items()}},
        argv=argv, operator=operator, result={"why": "--force" if settled.changed else "first run of the stage"})
    return True
