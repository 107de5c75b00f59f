"""The case folder (SPEC.md): where every stage reads and writes.

A case is a plain folder so that a third party can inspect it with ordinary tools. This module
owns its layout, atomic writes (temp file in the same folder + fsync + rename, so an interrupted
run never leaves a partial file under a final name), the exclusive lock that keeps two processes
from working on one case (a lock file beside the case folder, never inside it), and ``case.json``.
"""

from __future__ import annotations

import contextlib
import errno
import getpass
import hashlib
import json
import os
import re
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .errors import InputError

CASE_SCHEMA = "lsf.case/1"
TMP_MARK = ".tmp-"
CASE_FILE_MAX_BYTES = 512 * 1024 * 1024  # a 10-hour transcript with word times is tens of MB


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
        return f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_problem(path: Path, exc: OSError) -> InputError:
    """A write that the machine refused (disk full, read-only, no permission): one line, exit 2.

    Nothing half-written is left under a final name (every writer here uses a temp name), so the
    same command can simply be rerun once the cause is fixed."""
    why = exc.strerror or type(exc).__name__
    hint = " (free some space and rerun the same command)" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else ""
    return InputError(f"cannot write {path}: {why}{hint}")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise write_problem(path, exc) from None
    _fsync_dir(path.parent)


def json_text_bytes(text: str) -> bytes:
    """UTF-8 bytes of JSON text. A file name that is not UTF-8 (GBK from a Chinese Windows copy)
    arrives as lone surrogates (``surrogateescape``); they are written as the JSON escapes
    ``\\udcXX``, which read back to the same surrogates, so ``os.fsencode`` recovers the exact bytes."""
    return text.encode("utf-8", "backslashreplace")


def dumps_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2) + "\n"


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json_text_bytes(dumps_json(obj)))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temp path next to ``path`` for an external writer (ffmpeg); rename on success."""
    tmp = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}{path.suffix}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_problem(path.parent, exc) from None
    try:
        yield tmp
        try:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            raise write_problem(path, exc) from None
        _fsync_dir(path.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_folder(path: Path) -> Iterator[Path]:
    """Yield an empty staging folder; on success it replaces ``path`` as a whole."""
    staging = path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")
    old = path.with_name(f".{path.name}.old{TMP_MARK}{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
    except OSError as exc:
        raise write_problem(staging, exc) from None
    try:
        yield staging
        try:
            for p in staging.rglob("*"):
                if p.is_file():
                    with open(p, "rb") as fh:
                        os.fsync(fh.fileno())
            if path.exists():
                os.replace(path, old)
            os.replace(staging, path)
        except OSError as exc:
            if old.exists() and not path.exists():
                os.replace(old, path)  # the previous version stays, never neither
            raise write_problem(path, exc) from None
        _fsync_dir(path.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


_NAME_UNSAFE = re.compile(r"[^\w.\-]+")


def safe_file_name(name: str, *, max_len: int = 100, default: str = "file") -> str:
    """A plain file name for a copy inside the case: letters (CJK included), digits, ``_ . -`` only;
    never starting with a dot (temp files and hidden files do), at most ``max_len`` characters with
    the suffix kept. Control characters, newlines, backslashes and non-UTF-8 bytes become ``_``."""
    clean = _NAME_UNSAFE.sub("_", name).lstrip(".")
    if len(clean) > max_len:
        stem, dot, suffix = clean.rpartition(".")
        clean = stem[: max_len - len(suffix) - 1] + dot + suffix if dot and len(suffix) <= 16 else clean[:max_len]
    return clean or default


class Case:
    """A case folder. Paths are properties so stages never spell file names themselves."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).absolute()

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
        """A case file, read bounded (size, depth): a case handed over by others is untrusted."""
        from .loaders import load_json_file

        if not path.exists():
            raise InputError(f"{self.rel(path)} is missing in case {self.root}")
        return load_json_file(path, self.rel(path), max_bytes=CASE_FILE_MAX_BYTES)

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

    def check_folder(self) -> None:
        """The case path must be a folder (or not exist yet); ``-C`` naming a file is a usage error."""
        if self.root.exists() and not self.root.is_dir():
            raise InputError(f"case {self.root} is a file, not a case folder: choose another -C")
        for parent in self.root.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise InputError(f"case {self.root}: {parent} is a file, not a folder")
                break

    def create(self, *, operator: str | None = None, source_sha256: str | None = None) -> None:
        """Write ``case.json`` once; an existing case keeps its identity."""
        self.check_folder()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise write_problem(self.root, exc) from None
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

    def _check_writable(self) -> None:
        """Fail before any work when the folder cannot be written (read-only disk, no permission)."""
        probe = self.root / f".lsf-write-check{TMP_MARK}{os.getpid()}"
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise InputError(f"case folder {self.root} is not writable ({exc.strerror})") from None

    # -- locking --------------------------------------------------------------------------
    @property
    def lock_file(self) -> Path:
        """The lock beside the case, ``.<case name>.lsf-lock`` in its parent folder: outside the case,
        so it is never evidence (the manifest lists every file inside), and a plain file, so the
        same lock works on Linux, macOS and Windows (filelock: flock / msvcrt)."""
        return self.root.parent / f".{self.root.name}.lsf-lock"

    def _lock_path(self) -> Path:
        """:attr:`lock_file`, or, when the parent folder cannot be written, a file in the user's
        cache folder named by the case's resolved path (every lsf of this user agrees on it)."""
        if os.access(self.root.parent, os.W_OK):
            return self.lock_file
        import platformdirs

        folder = platformdirs.user_cache_path("lsforensics", appauthor=False) / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        key = hashlib.sha256(os.fsencode(self.root.resolve())).hexdigest()[:32]
        return folder / f"case-{key}.lsf-lock"

    @contextlib.contextmanager
    def locked(self) -> Iterator[Case]:
        """Exclusive lock on the case (:attr:`lock_file`; no lock file inside the case).

        Re-entrant within one process, whichever ``Case`` object asks (``lsf analyze`` holds it
        from before the case is created until the seal; the stages inside take it again). Another
        process is refused at once. The folder is created if needed and checked to be writable.
        """
        from filelock import FileLock, Timeout

        self.check_folder()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise write_problem(self.root, exc) from None
        st = os.stat(self.root)
        key = (st.st_dev, st.st_ino)
        with _HELD_GUARD:
            held = _HELD.get(key)
            if held is not None:
                held[1] += 1
        if held is not None:
            try:
                yield self
            finally:
                with _HELD_GUARD:
                    held[1] -= 1
            return
        lock = FileLock(self._lock_path(), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise InputError(f"case {self.root} is in use by another lsf process") from None
        except OSError as exc:
            raise write_problem(Path(lock.lock_file), exc) from None
        entry: list[Any] = [lock, 1]
        with _HELD_GUARD:
            _HELD[key] = entry
        try:
            self._check_writable()
            self.clean_stale()
            yield self
        finally:
            with _HELD_GUARD:
                entry[1] -= 1
                del _HELD[key]
            lock.release()


# (st_dev, st_ino) of each case folder this process has locked -> [lock, depth]
_HELD: dict[tuple[int, int], list[Any]] = {}
_HELD_GUARD = threading.Lock()
