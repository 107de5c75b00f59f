"""Settings an operator would otherwise type on every run: ``lsf.toml`` files and ``LSF_*`` variables.

Precedence, highest first: a command-line flag, the environment (``LSF_*``), the config files,
the built-in default. Two files are read when they exist, the second overriding the first:

1. the user's config folder (platformdirs: ``~/.config/lsforensics/lsf.toml`` on Linux,
   ``~/Library/Application Support/lsforensics/lsf.toml`` on macOS,
   ``%LOCALAPPDATA%\\lsforensics\\lsf.toml`` on Windows);
2. ``lsf.toml`` in the working folder.

``LSF_CONFIG=FILE`` reads only that file instead, and ``LSF_CONFIG=none`` reads none (scripts and
tests that must not depend on the machine). Paths in a file are relative to that file's folder;
``~`` is expanded. A file is one flat TOML table of :data:`SETTINGS` (:data:`EXAMPLE`).

An existing case's own record wins over the environment and the files (its archived rules and
recorded options, see :mod:`lsforensics.case_options`): they apply to new cases, a flag changes a
case explicitly. This module knows nothing of click: the CLI turns :func:`effective` into defaults.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError

FILE_NAME = "lsf.toml"
EXAMPLE = """# lsf.toml
operator = "Wang Li, Market Regulation Bureau"
sign_key = "~/keys/lab.key"
tsa = "http://tsa.example/tsr"
tsa_ca = "~/keys/tsa-root.pem"
rules = ["~/lsf-rules"]
language = "zh"
threads = 2
"""
MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Setting:
    name: str  # key in lsf.toml
    env: str  # LSF_* variable
    kind: str  # text | path | paths | int | choice
    help: str
    recorded: str  # where a case records it ("" when it does not change a case)
    choices: tuple[str, ...] = ()
    default: Any = None


SETTINGS: tuple[Setting, ...] = (
    Setting("operator", "LSF_OPERATOR", "text", "Name recorded as operator in the case and custody log "
            "[default: the login name].", "case.json operator, every custody line's operator"),
    Setting("sign_key", "LSF_SIGN_KEY", "path", "Ed25519 private key (lsf keygen) that signs manifests.",
            "its public key's fingerprint: manifest.json seal, custody seal entry, manifest.pub.pem"),
    Setting("tsa", "LSF_TSA", "text", "RFC 3161 timestamp authority URL for manifests.",
            "case.json options.report.tsa, custody seal entry, manifest.tsr"),
    Setting("tsa_ca", "LSF_TSA_CA", "path", "PEM root certificate the TSA's responses must chain to.",
            "a copy: manifest.tsa-ca.pem"),
    Setting("rules", "LSF_RULES", "paths", "Extra rules folders, loaded after the shipped rules "
            "(in LSF_RULES separated by the path separator, ':' or ';').",
            "the rules themselves: CASE/rules/ (archive), custody rules entry"),
    Setting("language", "LSF_LANGUAGE", "choice", "Spoken language of new cases.",
            "case.json options.transcribe.language", ("zh", "en", "auto"), "zh"),
    Setting("threads", "LSF_THREADS", "int", "Cores one analysis may use (0: all).", "", (), 0),
    Setting("cjk_font", "LSF_CJK_FONT", "text", "TrueType CJK font for PDF reports, FILE[:index] "
            "[default: found among the system's fonts].", "the report's 'PDF font' line"),
    Setting("cache", "LSF_CACHE", "path", "Folder for the assembled speech model "
            "[default: the user cache folder].", ""),
)
BY_NAME = {s.name: s for s in SETTINGS}

# Variables that are not settings of a run but are read by lsf (listed in docs/options.md).
OTHER_ENV = {
    "LSF_CONFIG": "Read only this config file (`none`: read no config file).",
    "LSF_KEY_PASSPHRASE": "Passphrase of an encrypted signing key (lsf keygen --passphrase).",
    "LSF_DEBUG": "Print a traceback on an internal error (as -vv does).",
}


@dataclass
class Value:
    setting: Setting
    value: Any
    source: str  # environment LSF_X | FILE | default

    def to_json(self) -> dict[str, Any]:
        v = self.value
        return {"name": self.setting.name, "value": [str(x) for x in v] if isinstance(v, list) else
                (str(v) if isinstance(v, Path) else v), "source": self.source, "env": self.setting.env,
                "recorded_in_case": self.setting.recorded or None}


def config_files(cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> list[Path]:
    """The files that are read, in order (the later overrides the earlier); ``environ`` (default
    ``os.environ``) is where ``LSF_CONFIG`` is looked up."""
    forced = ((os.environ if environ is None else environ).get("LSF_CONFIG") or "").strip()
    if forced:
        if forced.lower() == "none":
            return []
        p = Path(forced).expanduser()
        if not p.is_file():
            raise InputError(f"LSF_CONFIG={forced}: no such file")
        return [p]
    import platformdirs

    out = [platformdirs.user_config_path("lsforensics", appauthor=False) / FILE_NAME,
           (cwd or Path.cwd()) / FILE_NAME]
    seen: list[Path] = []
    for p in out:
        if p.is_file() and all(p.resolve() != q.resolve() for q in seen):
            seen.append(p)
    return seen


def _convert(s: Setting, raw: Any, where: str, base: Path | None) -> Any:
    def path(x: Any) -> Path:
        if not isinstance(x, str) or not x:
            raise InputError(f"{where}: {s.name} must be a path (text)")
        p = Path(x).expanduser()
        return p if p.is_absolute() or base is None else base / p

    if s.kind == "text":
        if not isinstance(raw, str):
            raise InputError(f"{where}: {s.name} must be text")
        return raw
    if s.kind == "path":
        return path(raw)
    if s.kind == "paths":
        items = raw if isinstance(raw, list) else ([x for x in raw.split(os.pathsep) if x] if isinstance(raw, str) else None)
        if items is None:
            raise InputError(f"{where}: {s.name} must be a list of folders")
        return [path(x) for x in items]
    if s.kind == "int":
        try:
            n = int(raw) if not isinstance(raw, bool) else -1
        except (TypeError, ValueError):
            n = -1
        if n < 0:
            raise InputError(f"{where}: {s.name} must be a whole number >= 0 (got {raw!r})")
        return n
    if s.kind == "choice":
        if raw not in s.choices:
            raise InputError(f"{where}: {s.name} must be one of {', '.join(s.choices)} (got {raw!r})")
        return raw
    raise AssertionError(s.kind)


def read_file(path: Path) -> dict[str, Any]:
    """One config file, checked: bounded size, known keys, the right types."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise InputError(f"{path}: larger than {MAX_CONFIG_BYTES} bytes, not an lsf config file")
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: {exc}") from None
    out = {}
    for key, raw in doc.items():
        s = BY_NAME.get(key)
        if s is None:
            raise InputError(f"{path}: unknown setting {key!r} (known: {', '.join(BY_NAME)})")
        out[key] = _convert(s, raw, str(path), path.parent)
    return out


def effective(cwd: Path | None = None, environ: dict[str, str] | None = None) -> dict[str, Value]:
    """Every setting's value and where it came from (environment > files > default)."""
    env = os.environ if environ is None else environ
    files: dict[str, tuple[Any, str]] = {}
    for f in config_files(cwd, env):
        for k, v in read_file(f).items():
            files[k] = (v, str(f))
    out: dict[str, Value] = {}
    for s in SETTINGS:
        raw = env.get(s.env)
        if raw not in (None, ""):
            out[s.name] = Value(s, _convert(s, raw, s.env, None), f"environment {s.env}")
        elif s.name in files:
            out[s.name] = Value(s, files[s.name][0], files[s.name][1])
        else:
            out[s.name] = Value(s, s.default, "default")
    return out
