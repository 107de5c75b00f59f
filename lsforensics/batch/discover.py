"""Find videos in a folder tree or a list file, by probing (not by extension)."""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .. import media
from ..errors import InputError

# Container signatures: a file that starts like media but does not probe is corrupt, not "other".
_MAGIC = (b"\x1aE\xdf\xa3", b"FLV", b"RIFF", b"OggS", b"\x00\x00\x01\xba", b"G@")


@dataclass
class Candidate:
    path: Path
    size: int
    mtime_ns: int
    kind: str  # video | not_video | unreadable
    error: str | None = None
    duration: float | None = None


def _walk(folder: Path, exclude: Path | None) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                             and (exclude is None or (here / d).resolve() != exclude))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield here / name


def list_inputs(source: Path, exclude: Path | None = None) -> list[Path]:
    """Files under a folder, or the paths named in a list file (one per line, # comments)."""
    exclude = exclude.resolve() if exclude else None
    if not source.exists():
        raise InputError(f"{source}: no such file or folder")
    if source.is_dir():
        return list(_walk(source, exclude))
    paths: list[Path] = []
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InputError(f"{source}: a list of videos must be UTF-8 text, one path per line") from None
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        p = Path(line)
        p = p if p.is_absolute() else source.parent / p
        if p.is_dir():
            paths.extend(_walk(p, exclude))
        elif p.exists():
            paths.append(p)
        else:
            raise InputError(f"{source}:{n}: {line}: no such file")
    return paths


def _looks_like_media(path: Path) -> bool:
    mime, _ = mimetypes.guess_type(path.name)
    if mime and mime.split("/")[0] in ("video", "audio"):
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return head[4:8] == b"ftyp" or head.startswith(_MAGIC)


def classify(path: Path) -> Candidate:
    try:
        st = path.stat()
    except OSError as exc:
        return Candidate(path, 0, 0, "unreadable", f"cannot stat: {exc.strerror}")
    if st.st_size == 0:
        kind = "unreadable" if _looks_like_media(path) else "not_video"
        return Candidate(path, 0, st.st_mtime_ns, kind, "empty file")
    try:
        probe = media.probe(path)
    except InputError as exc:
        still = "still image" in str(exc)
        kind = "unreadable" if _looks_like_media(path) and not still else "not_video"
        return Candidate(path, st.st_size, st.st_mtime_ns, kind, str(exc).removeprefix(f"{path}: "))
    if probe.get("video_stream") is None:
        return Candidate(path, st.st_size, st.st_mtime_ns, "not_video", "no video stream", probe["duration"])
    return Candidate(path, st.st_size, st.st_mtime_ns, "video", None, probe["duration"])


def discover(source: Path, exclude: Path | None = None, threads: int = 4) -> list[Candidate]:
    return discover_files(list_inputs(source, exclude), threads)


def discover_files(files: list[Path], threads: int = 4) -> list[Candidate]:
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(classify, files))
