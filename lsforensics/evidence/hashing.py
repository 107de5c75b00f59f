"""File and folder digests.

Hex digests are stored bare in fields named for their algorithm (``sha256``, ``sha512``), so the
same values can be checked with ``sha256sum``/``sha512sum``. A folder digest is the sha256 of its
``sha256sum``-format listing (sorted by relative path), so a third party can recompute it with
``(cd DIR && find . -type f | sort | sed 's|^./||' | xargs sha256sum) | sha256sum``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class FileDigest:
    size: int
    sha256: str
    sha512: str | None = None


def digest_file(
    path: str | os.PathLike[str],
    *,
    sha512: bool = False,
    progress: Callable[[int], None] | None = None,
) -> FileDigest:
    """Hash a file in one streaming pass, read-only.

    With ``sha512`` both digests are computed from the same chunks; hashlib releases the GIL on
    large buffers, so the two run on two cores in parallel and the file is read once.
    """
    h256 = hashlib.sha256()
    h512 = hashlib.sha512() if sha512 else None
    size = 0
    # O_RDONLY only: the source video must never be opened for writing.
    with open(path, "rb", buffering=0) as fh, ThreadPoolExecutor(max_workers=1) as pool:
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            size += len(chunk)
            fut = pool.submit(h512.update, chunk) if h512 is not None else None
            h256.update(chunk)
            if fut is not None:
                fut.result()
            if progress is not None:
                progress(len(chunk))
    return FileDigest(size=size, sha256=h256.hexdigest(), sha512=h512.hexdigest() if h512 else None)


def sha256_file(path: str | os.PathLike[str]) -> str:
    return digest_file(path).sha256


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_listing(folder: Path) -> list[tuple[str, str]]:
    """``[(sha256, relative posix path)]`` of every regular file under ``folder``, sorted by path."""
    rows = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink():
            rows.append((sha256_file(p), p.relative_to(folder).as_posix()))
    rows.sort(key=lambda r: r[1])
    return rows


def sha256sum_format(rows: list[tuple[str, str]]) -> str:
    """Lines exactly as ``sha256sum`` prints them (two spaces, text mode)."""
    return "".join(f"{h}  {name}\n" for h, name in rows)


def digest_tree(folder: Path) -> str:
    return sha256_bytes(sha256sum_format(tree_listing(folder)).encode())


def digest_path(path: Path) -> str:
    """sha256 of a file, or the folder digest of a directory."""
    return digest_tree(path) if path.is_dir() else sha256_file(path)
