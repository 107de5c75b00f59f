"""``manifest.json`` and ``manifest.sha256``: the list of every file of a sealed case.

The manifest covers every regular file under the case folder except the top-level ``manifest.*``
files (they are made from, or over, ``manifest.json`` itself). That includes ``custody.jsonl``,
so the custody entry for the seal must be appended before the manifest is written.

``manifest.sha256`` holds the same hashes in the exact format ``sha256sum`` prints, so
``cd CASE && sha256sum -c manifest.sha256`` checks the files with no lsf installed.

Evidence must be plain files: a case that holds a symlink, a FIFO or a path that ``sha256sum``
would have to escape (newline, backslash) cannot be sealed. Paths read back from a manifest are
untrusted: :func:`unsafe_path_reason` rejects anything that could lead outside the case, and
:func:`open_inside` opens files without following a symlink anywhere on the way.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..case import Case, atomic_write_bytes, utc_now
from ..errors import InputError
from .environment import environment

MANIFEST_SCHEMA = "lsf.manifest/1"
MANIFEST_JSON = "manifest.json"
MANIFEST_SHA256 = "manifest.sha256"
MANIFEST_SIG = "manifest.sig"
MANIFEST_PUB = "manifest.pub.pem"  # the signer's public key, a convenience copy (trust --pubkey)
MANIFEST_TSQ = "manifest.tsq"
MANIFEST_TSR = "manifest.tsr"
MANIFEST_TSA_CERTS = "manifest.tsa.pem"  # certificates the TSA put in its response
MANIFEST_TSA_CA = "manifest.tsa-ca.pem"  # TSA root the operator supplied with --tsa-ca
# Files that belong to one particular manifest.json: removed when a case is resealed.
SEAL_FILES = (MANIFEST_SHA256, MANIFEST_SIG, MANIFEST_PUB, MANIFEST_TSQ, MANIFEST_TSR, MANIFEST_TSA_CERTS,
              MANIFEST_TSA_CA)

_CHUNK = 1 << 20


def is_manifest_file(rel: str) -> bool:
    """True for the top-level ``manifest.*`` files, which the manifest does not list (SPEC)."""
    return "/" not in rel and rel.startswith("manifest.")


@dataclass(frozen=True)
class ManifestEntry:
    path: str  # case-relative, POSIX separators
    size: int
    sha256: str


def unsafe_path_reason(rel: Any) -> str | None:
    """Why a recorded path must not be used inside the case (None when it is a plain relative path)."""
    if not isinstance(rel, str) or not rel:
        return "empty or not a string"
    if "\0" in rel or "\n" in rel or "\r" in rel or "\\" in rel:
        return "contains a control character or backslash"
    if rel.startswith("/") or (len(rel) > 1 and rel[1] == ":"):
        return "absolute path, outside the case"
    parts = rel[:-1].split("/") if rel.endswith("/") else rel.split("/")  # not PurePath: it drops "."
    if any(p in ("..", ".", "") for p in parts):
        return "contains '..' or '.', could lead outside the case"
    return None


def symlink_on_path(root: Path, rel: str) -> str | None:
    """The first component of ``rel`` (below ``root``) that is a symlink, checked with lstat only."""
    cur = root
    for part in PurePosixPath(rel.rstrip("/")).parts:
        cur = cur / part
        try:
            if stat.S_ISLNK(os.lstat(cur).st_mode):
                return PurePosixPath(*cur.relative_to(root).parts).as_posix()
        except FileNotFoundError:
            return None
    return None


def open_inside(root: Path, rel: str) -> int:
    """Open ``root/rel`` read-only, refusing a symlink at any level (``O_NOFOLLOW`` per component).

    Returns a file descriptor. Raises ``FileNotFoundError``, or ``OSError(ELOOP)`` for a symlink,
    or ``IsADirectoryError``/``OSError`` for something that is not a regular file.
    """
    reason = unsafe_path_reason(rel)
    if reason:
        raise OSError(errno.EINVAL, reason)
    parts = PurePosixPath(rel).parts
    dir_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
            os.close(dir_fd)
            dir_fd = nxt
        fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file")
    return fd


def hash_fd(fd: int) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with os.fdopen(fd, "rb", buffering=0) as fh:
        while chunk := fh.read(_CHUNK):
            size += len(chunk)
            h.update(chunk)
    return size, h.hexdigest()


def walk_case(root: Path) -> tuple[list[str], list[str], list[str]]:
    """``(files, symlinks, others)``: case-relative paths, lstat only, symlinks never followed.

    Top-level ``manifest.*`` files are left out of ``files``.
    """
    files: list[str] = []
    links: list[str] = []
    others: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        for name in [*dirnames, *filenames]:
            p = base / name
            rel = p.relative_to(root).as_posix()
            mode = os.lstat(p).st_mode
            if stat.S_ISLNK(mode):
                links.append(rel)
            elif stat.S_ISREG(mode):
                if not is_manifest_file(rel):
                    files.append(rel)
            elif not stat.S_ISDIR(mode):
                others.append(rel)
        # os.walk does not descend into symlinked folders with followlinks=False; keep it so.
        dirnames[:] = [d for d in dirnames if not os.path.islink(base / d)]
    return sorted(files), sorted(links), sorted(others)


def scan_case(root: Path) -> list[ManifestEntry]:
    """Hash every file of the case; refuse anything that is not a plain, plainly named file."""
    files, links, others = walk_case(root)
    if links:
        raise InputError(f"case {root} contains a symlink ({links[0]}): evidence must be plain files")
    if others:
        raise InputError(f"case {root} contains a special file ({others[0]}): evidence must be plain files")
    entries = []
    for rel in files:
        reason = unsafe_path_reason(rel)
        if reason:
            raise InputError(f"case file name {rel!r} cannot be sealed: {reason}")
        size, digest = hash_fd(open_inside(root, rel))
        entries.append(ManifestEntry(rel, size, digest))
    return entries


def sha256sum_text(entries: list[ManifestEntry]) -> str:
    return "".join(f"{e.sha256}  {e.path}\n" for e in entries)


def build_manifest(case: Case, *, signer: dict[str, Any] | None = None,
                   timestamp: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest document for the case as it is now (nothing is written)."""
    entries = scan_case(case.root)
    try:
        info = case.info
    except InputError:
        info = {}
    try:
        src = case.source
        source = {k: src.get(k) for k in ("path", "name", "size", "sha256", "sha512")}
    except InputError:
        source = None
    return {
        "schema": MANIFEST_SCHEMA,
        "case_id": info.get("case_id"),
        "case_uuid": info.get("uuid"),
        "created": utc_now(),
        "algorithm": "sha256",
        "source": source,
        "environment": environment(),
        "signer": signer,
        "timestamp": timestamp,
        "excluded": "top-level manifest.* files (made from or over this file)",
        "file_count": len(entries),
        "total_bytes": sum(e.size for e in entries),
        "files": [asdict(e) for e in entries],
    }


def manifest_bytes(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write_manifest(case: Case, doc: dict[str, Any]) -> bytes:
    """Remove the previous seal's files, then write ``manifest.json`` and ``manifest.sha256``.

    Returns the exact bytes of ``manifest.json`` (what the signature and timestamp cover).
    """
    for name in SEAL_FILES:
        (case.root / name).unlink(missing_ok=True)
    data = manifest_bytes(doc)
    entries = [ManifestEntry(**f) for f in doc["files"]]
    atomic_write_bytes(case.root / MANIFEST_SHA256, sha256sum_text(entries).encode("utf-8"))
    atomic_write_bytes(case.root / MANIFEST_JSON, data)
    return data


def read_manifest(root: Path) -> tuple[bytes, dict[str, Any]]:
    path = root / MANIFEST_JSON
    data = path.read_bytes()
    doc = json.loads(data)
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise ValueError("manifest.json has no 'files' list")
    return data, doc


def manifest_is_current(case: Case) -> bool:
    """True when manifest.json exists and lists exactly the case's files with their hashes."""
    try:
        _, doc = read_manifest(case.root)
        recorded = [ManifestEntry(**f) for f in doc["files"]]
        return recorded == scan_case(case.root)
    except (OSError, ValueError, TypeError, InputError):
        return False
