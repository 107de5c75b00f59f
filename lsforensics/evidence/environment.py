"""What produced a case: tool version and commit, Python, platform, ffmpeg, key libraries.

Recorded in ``manifest.json`` and shown in the report, so an opposing expert can rebuild the same
environment. Every probe is best-effort: a missing ffmpeg or git is written as ``null``, never an
error, because sealing must not fail on a machine that merely lacks a diagnostic tool.
"""

from __future__ import annotations

import functools
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import __version__

# Libraries whose versions change what a case contains (decoding, hashing, signing, reports).
_PACKAGES = (
    "lsforensics", "cryptography", "rfc3161-client", "jinja2", "reportlab", "pillow", "numpy",
    "faster-whisper", "ctranslate2", "rapidocr", "onnxruntime", "opencv-python-headless", "pypinyin",
    "opencc", "pyyaml", "defusedxml",
)


@functools.cache
def git_commit() -> str | None:
    """Commit of the source checkout the package runs from (None for an installed wheel)."""
    repo = Path(__file__).resolve().parents[2]
    if not (repo / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    if out.returncode != 0 or len(commit) != 40:
        return None
    dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, timeout=10, check=False)
    return commit + ("-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


@functools.cache
def ffmpeg_version() -> str | None:
    try:
        out = subprocess.run(["ffmpeg", "-hide_banner", "-version"], capture_output=True, text=True,
                             timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    first = out.stdout.splitlines()[0] if out.stdout else ""
    return first.strip() or None


@functools.cache
def _package_versions() -> dict[str, str]:
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def environment() -> dict[str, Any]:
    return {
        "tool": {"name": "lsforensics", "version": __version__, "commit": git_commit()},
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "ffmpeg": ffmpeg_version(),
        "packages": dict(_package_versions()),
    }
