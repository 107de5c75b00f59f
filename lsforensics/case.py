"""The case folder (SPEC.md): where every stage reads and writes.

A case is a plain folder so that a third party can inspect it with ordinary tools. This module
owns its layout, atomic writes (temp file in the same folder + fsync + rename, so an interrupted
run never leaves a partial file under a final name), the exclusive lock that keeps two processes
from working on one case, and ``case.json``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import getpass
import json
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .errors import InputError

CASE_SCHEMA = "lsf.case/1"
TMP_MARK = ".tmp-"


def utc_now() -> str:
    """UTC ISO 8601 with milliseconds and a Z suffix."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def default_operator() -> str:
    env = os.environ.get("LSF_OPERATOR")
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (containers)
        return f"uid{os.getuid()}"


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def dumps_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2) + "\n"


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, dumps_json(obj).encode("utf-8"))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temp path next to ``path`` for an external writer (ffmpeg); rename on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}{path.suffix}")
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_folder(path: Path) -> Iterator[Path]:
    """Yield an empty staging folder; on success it replaces ``path`` as a whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")
    old = path.with_name(f".{path.name}.old{TMP_MARK}{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
        for p in staging.rglob("*"):
            if p.is_file():
                with open(p, "rb") as fh:
                    os.fsync(fh.fileno())
        if path.exists():
            os.replace(path, old)
        os.replace(staging, path)
        _fsync_dir(path.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


class Case:
    """A case folder. Paths are properties so stages never spell file names themselves."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).absolute()
        self._lock_fd: int | None = None

    # -- layout ---------------------------------------------------------------------------
    @property
    def case_json(self) -> Path:
        return self.root / "case.json"

    @property
    def source_json(self) -> Path:
        return self.root / "source.json"

    @property
    def media(self) -> Path:
        return self.root / "media"

    @property
    def audio(self) -> Path:
        return self.media / "audio.wav"

    @property
    def frames_dir(self) -> Path:
        return self.media / "frames"

    @property
    def frames_json(self) -> Path:
        return self.media / "frames.json"

    @property
    def transcript_json(self) -> Path:
        return self.root / "transcript.json"

    @property
    def ocr_json(self) -> Path:
        return self.root / "ocr.json"

    @property
    def findings_json(self) -> Path:
        return self.root / "findings.json"

    @property
    def report_dir(self) -> Path:
        return self.root / "report"

    @property
    def custody(self) -> Path:
        return self.root / "custody.jsonl"

    def rel(self, path: Path) -> str:
        """Case-relative posix path for records; external paths stay absolute."""
        p = Path(path).absolute()
        try:
            return p.relative_to(self.root).as_posix()
        except ValueError:
            return str(p)

    # -- state ----------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.case_json.is_file()

    def read_json(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{self.rel(path)} is missing in case {self.root}") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"{self.rel(path)} is not valid JSON (line {exc.lineno}): {exc.msg}") from None

    @property
    def info(self) -> dict[str, Any]:
        return self.read_json(self.case_json)

    @property
    def source(self) -> dict[str, Any]:
        return self.read_json(self.source_json)

    def require(self, path: Path, stage_hint: str) -> Path:
        if not path.exists():
            raise InputError(f"{self.rel(path)} is missing in {self.root}: run `lsf {stage_hint}` first")
        return path

    def create(self, *, operator: str | None = None, source_sha256: str | None = None) -> None:
        """Write ``case.json`` once; an existing case keeps its identity."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.exists():
            return
        atomic_write_json(
            self.case_json,
            {
                "schema": CASE_SCHEMA,
                "case_id": self.root.name,
                "uuid": str(uuid.uuid4()),
                "created": utc_now(),
                "operator": operator or default_operator(),
                "host": socket.gethostname(),
                "tool": {"name": "lsforensics", "version": __version__},
                "source_sha256": source_sha256,
            },
        )

    def clean_stale(self) -> list[str]:
        """Remove temp files/folders left by a killed run (only while holding the lock)."""
        removed = []
        if not self.root.exists():
            return removed
        for p in sorted(self.root.rglob(f"*{TMP_MARK}*"), key=lambda q: len(q.parts), reverse=True):
            if not p.name.startswith("."):
                continue
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed.append(self.rel(p))
        return removed

    # -- locking --------------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self) -> Iterator[Case]:
        """Exclusive lock on the case folder itself (no lock file to pollute the manifest)."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self._lock_fd is not None:  # re-entrant within one process
            yield self
            return
        fd = os.open(self.root, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise InputError(f"case {self.root} is in use by another lsf process") from None
            raise
        self._lock_fd = fd
        try:
            self.clean_stale()
            yield self
        finally:
            self._lock_fd = None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
