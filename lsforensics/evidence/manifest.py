"""``manifest.json`` and ``manifest.sha256``: the list of every file of a sealed case.

The manifest covers every regular file under the case folder except the seal's own top-level files
(:data:`SEAL_NAMES`: ``manifest.json`` and the files made from or over it), and names every folder,
so an added empty folder or a stray ``manifest.old`` is seen too. That includes ``custody.jsonl``,
so the custody entry for the seal must be appended before the manifest is written.

``manifest.json`` also records what the seal consists of (``seal``: signed and by which key,
timestamp requested and from which TSA, the seal files that must sit beside it), so deleting a
signature or a timestamp is detectable from the manifest alone.

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

from ..case import Case, atomic_write_bytes, json_text_bytes, utc_now
from ..errors import InputError
from ..loaders import load_json, read_bytes
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
SEAL_NAMES = frozenset((MANIFEST_JSON, *SEAL_FILES))  # the only names the manifest does not list

_CHUNK = 1 << 20


def is_manifest_file(rel: str) -> bool:
    """True for the seal's own top-level files, which the manifest does not list (SPEC's
    ``manifest.*``, by exact name: any other file, whatever it is called, is evidence)."""
    return rel in SEAL_NAMES


def seal_record(signer_fingerprint: str | None, tsa: str | None, tsa_root_sha256: str | None) -> dict[str, Any]:
    """What the seal of this manifest consists of; written into manifest.json before signing."""
    files = [MANIFEST_SHA256]
    if signer_fingerprint:
        files += [MANIFEST_SIG, MANIFEST_PUB]
    if tsa:
        files += [MANIFEST_TSQ, MANIFEST_TSR]
    return {
        "signature": {"algorithm": "ed25519", "fingerprint": signer_fingerprint} if signer_fingerprint else None,
        "timestamp": {"tsa": tsa, "tsa_root_sha256": tsa_root_sha256} if tsa else None,
        "files": files,
    }


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
    if any("\udc80" <= c <= "\udcff" for c in rel):
        return "not a UTF-8 name"
    if rel.startswith("/") or (len(rel) > 1 and rel[1] == ":"):
        return "absolute path, outside the case"
    parts = rel[:-1].split("/") if rel.endswith("/") else rel.split("/")  # not PurePath: it drops "."
    if any(p in ("..", ".", "") for p in parts):
        return "contains '..' or '.', could lead outside the case"
    return None


def symlink_on_path(root: Path, rel: str) -> str | None:
    """The first component of ``rel`` (below ``root``) that is a symlink (or, on Windows, a
    junction), checked with lstat only."""
    cur = root
    for part in PurePosixPath(rel.rstrip("/")).parts:
        cur = cur / part
        try:
            st = os.lstat(cur)
            if stat.S_ISLNK(st.st_mode) or getattr(st, "st_reparse_tag", 0):
                return PurePosixPath(*cur.relative_to(root).parts).as_posix()
        except FileNotFoundError:
            return None
    return None


# Opening relative to a folder descriptor without following links is POSIX (Linux, macOS); Windows
# has neither O_NOFOLLOW nor dir_fd, so there every component is checked with lstat first.
SAFE_OPEN = all(hasattr(os, n) for n in ("O_NOFOLLOW", "O_DIRECTORY")) and os.open in os.supports_dir_fd


def open_inside(root: Path, rel: str) -> int:
    """Open ``root/rel`` read-only, refusing a symlink at any level (``O_NOFOLLOW`` per component).

    Returns a file descriptor. Raises ``FileNotFoundError``, or ``OSError(ELOOP)`` for a symlink,
    or ``IsADirectoryError``/``OSError`` for something that is not a regular file.
    """
    reason = unsafe_path_reason(rel)
    if reason:
        raise OSError(errno.EINVAL, reason)
    parts = PurePosixPath(rel).parts
    if not SAFE_OPEN:
        link = symlink_on_path(root, rel)  # lstat of every component (a Windows junction included)
        if link is not None:
            raise OSError(errno.ELOOP, f"{link} is a symbolic link")
        if not stat.S_ISREG(os.lstat(root.joinpath(*parts)).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")  # checked before opening: a FIFO would block
        fd = os.open(root.joinpath(*parts), os.O_RDONLY | getattr(os, "O_BINARY", 0))
    else:
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


@dataclass
class CaseTree:
    """Everything under a case folder, by kind (case-relative paths, lstat only)."""

    files: list[str]  # regular files, the seal's own files left out
    links: list[str]
    others: list[str]  # FIFOs, sockets, devices
    folders: list[str]


def walk_tree(root: Path) -> CaseTree:
    """Walk the case without following any symlink."""
    tree = CaseTree([], [], [], [])
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(dirpath)
        for name in [*dirnames, *filenames]:
            p = base / name
            rel = p.relative_to(root).as_posix()
            mode = os.lstat(p).st_mode
            if stat.S_ISLNK(mode):
                tree.links.append(rel)
            elif stat.S_ISREG(mode):
                if not is_manifest_file(rel):
                    tree.files.append(rel)
            elif stat.S_ISDIR(mode):
                tree.folders.append(rel)
            else:
                tree.others.append(rel)
        # os.walk does not descend into symlinked folders with followlinks=False; keep it so.
        dirnames[:] = [d for d in dirnames if not os.path.islink(base / d)]
    for part in (tree.files, tree.links, tree.others, tree.folders):
        part.sort()
    return tree


def walk_case(root: Path) -> tuple[list[str], list[str], list[str]]:
    """``(files, symlinks, others)`` of :func:`walk_tree`."""
    tree = walk_tree(root)
    return tree.files, tree.links, tree.others


def scan_case(root: Path) -> tuple[list[ManifestEntry], list[str]]:
    """Hash every file of the case and name every folder; refuse anything that is not a plain,
    plainly named file or folder."""
    tree = walk_tree(root)
    if tree.links:
        raise InputError(f"case {root} contains a symlink ({tree.links[0]}): evidence must be plain files")
    if tree.others:
        raise InputError(f"case {root} contains a special file ({tree.others[0]}): evidence must be plain files")
    for rel in tree.folders:
        reason = unsafe_path_reason(rel)
        if reason:
            raise InputError(f"case folder name {rel!r} cannot be sealed: {reason}")
    entries = []
    for rel in tree.files:
        reason = unsafe_path_reason(rel)
        if reason:
            raise InputError(f"case file name {rel!r} cannot be sealed: {reason}")
        size, digest = hash_fd(open_inside(root, rel))
        entries.append(ManifestEntry(rel, size, digest))
    return entries, tree.folders


def sha256sum_text(entries: list[ManifestEntry]) -> str:
    return "".join(f"{e.sha256}  {e.path}\n" for e in entries)


def build_manifest(case: Case, *, signer: dict[str, Any] | None = None,
                   timestamp: dict[str, Any] | None = None, seal: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest document for the case as it is now (nothing is written)."""
    entries, folders = scan_case(case.root)
    try:
        info = case.info
    except InputError:
        info = {}
    try:
        src = case.source
        source = {k: src.get(k) for k in ("path", "name", "size", "sha256", "sha512")}
    except (InputError, AttributeError):
        source = None
    return {
        "schema": MANIFEST_SCHEMA,
        "case_id": info.get("case_id") if isinstance(info, dict) else None,
        "case_uuid": info.get("uuid") if isinstance(info, dict) else None,
        "created": utc_now(),
        "algorithm": "sha256",
        "source": source,
        "environment": environment(),
        "signer": signer,
        "timestamp": timestamp,
        "seal": seal or seal_record((signer or {}).get("fingerprint"), (timestamp or {}).get("tsa"), None),
        "excluded": "the seal's own files: " + ", ".join(sorted(SEAL_NAMES)) + " (made from or over this file)",
        "file_count": len(entries),
        "total_bytes": sum(e.size for e in entries),
        "folders": folders,
        "files": [asdict(e) for e in entries],
    }


def manifest_bytes(doc: dict[str, Any]) -> bytes:
    return json_text_bytes(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")


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


MAX_MANIFEST_BYTES = 256 * 1024 * 1024  # a million files is about 150 MB of manifest


def read_manifest(root: Path) -> tuple[bytes, dict[str, Any]]:
    """The exact bytes and the parsed document; a damaged or hostile manifest is a ``LoadError``
    (bounded size and depth) or a ``ValueError`` naming what is missing."""
    data = read_bytes(root / MANIFEST_JSON, MANIFEST_JSON, max_bytes=MAX_MANIFEST_BYTES, what="manifest")
    doc = load_json(data, MANIFEST_JSON)
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise ValueError("manifest.json has no 'files' list")
    return data, doc


def manifest_is_current(case: Case) -> bool:
    """True when manifest.json exists and lists exactly the case's files and folders with their hashes."""
    try:
        _, doc = read_manifest(case.root)
        recorded = [ManifestEntry(**f) for f in doc["files"]]
        entries, folders = scan_case(case.root)
        return recorded == entries and doc.get("folders") == folders
    except (OSError, ValueError, TypeError, InputError):
        return False
