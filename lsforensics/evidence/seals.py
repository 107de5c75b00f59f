"""Earlier seals of a case (``seals/1/``, ``seals/2/``, …), kept when the case is sealed again.

The machine seals a case when it writes the first report; a person then reviews it and the case
is sealed again. The first seal must survive: it is what the machine said before anyone looked.
So resealing never deletes a seal. It moves the previous ``manifest.*`` files into ``seals/N/``
and keeps a copy of the report they covered (``seals/N/report/``); the new manifest lists those
files like any other, so editing an old seal breaks the new one.

``lsf verify`` checks every kept seal (its manifest list, its signature and timestamp over its own
manifest bytes, its kept report) and says what changed between each seal and the next. The
append-only logs (``custody.jsonl``, ``review.jsonl``) must have only grown: the bytes an old seal
covered must be the first bytes of today's log.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..case import Case
from ..errors import InputError
from . import manifest as mf

SEALS_DIR = "seals"
KEPT_FOLDERS = ("report",)  # what a seal covered that the next report replaces: kept beside it
APPEND_ONLY = ("custody.jsonl", "review.jsonl", "capture.jsonl")
_N = re.compile(r"[1-9][0-9]{0,5}")


def seal_dirs(root: Path) -> list[tuple[int, Path]]:
    base = root / SEALS_DIR
    if not base.is_dir() or base.is_symlink():
        return []
    out = [(int(p.name), p) for p in base.iterdir() if _N.fullmatch(p.name) and p.is_dir() and not p.is_symlink()]
    return sorted(out)


def _next_slot(root: Path) -> Path:
    """The folder for the next kept seal: after the last one that holds a manifest."""
    done = [n for n, p in seal_dirs(root) if (p / mf.MANIFEST_JSON).is_file()]
    return root / SEALS_DIR / str((max(done) if done else 0) + 1)


def keep_report(case: Case) -> None:
    """Before a sealed case's report is rewritten: copy the sealed report into the next slot."""
    if not (case.root / mf.MANIFEST_JSON).is_file():
        return
    slot = _next_slot(case.root)
    for name in KEPT_FOLDERS:
        src = case.root / name
        if src.is_dir() and not src.is_symlink():
            dest = slot / name
            tmp = slot / f".{name}.tmp-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(src, tmp, symlinks=True)
            shutil.rmtree(dest, ignore_errors=True)
            os.replace(tmp, dest)


def keep_manifest(case: Case) -> Path | None:
    """Before a new manifest is written: move the current seal's ``manifest.*`` into the next slot."""
    if not (case.root / mf.MANIFEST_JSON).is_file():
        return None
    slot = _next_slot(case.root)
    slot.mkdir(parents=True, exist_ok=True)
    # manifest.json last: a slot with a manifest.json is a finished one.
    for name in [*mf.SEAL_FILES, mf.MANIFEST_JSON]:
        src = case.root / name
        if src.is_file() and not src.is_symlink():
            os.replace(src, slot / name)
    return slot


def _sha(path: Path, limit: int | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        left = limit
        while True:
            chunk = fh.read(1 << 20 if left is None else min(1 << 20, left))
            if not chunk:
                break
            h.update(chunk)
            if left is not None:
                left -= len(chunk)
                if left <= 0:
                    break
    return h.hexdigest()


def _files(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for f in doc.get("files") or [] if isinstance(f, dict) and isinstance(f.get("path"), str)}


def _summarise(paths: list[str]) -> list[str]:
    """Paths, with big folders (clips, frames) folded into one line each."""
    folders: dict[str, list[str]] = {}
    for p in paths:
        head = p.rsplit("/", 1)[0] if p.count("/") >= 2 else ""
        folders.setdefault(head, []).append(p)
    out = []
    for head, items in sorted(folders.items()):
        out += items if not head or len(items) <= 3 else [f"{head}/ ({len(items)} files)"]
    return out


def check_seals(root: Path, current: dict[str, Any] | None, fail: Callable[[str, str | None, str], None],
                passed: list[str], notes: list[str],
                check_signature: Callable[[Path, bytes, dict[str, Any], Any], None],
                check_timestamp: Callable[[Path, bytes], None]) -> list[dict[str, Any]]:
    """Verify every kept seal; return one record per seal (kept ones, then the current one)."""
    kept = seal_dirs(root)
    if not kept:
        return []
    records: list[dict[str, Any]] = []
    docs: list[dict[str, Any]] = []
    for n, folder in kept:
        where = f"{SEALS_DIR}/{n}"
        try:
            data, doc = mf.read_manifest(folder)
        except (OSError, ValueError, InputError) as exc:
            fail("seals", f"{where}/{mf.MANIFEST_JSON}", f"unreadable: {exc}")
            continue
        rec: dict[str, Any] = {"seal": n, "folder": where, "created": doc.get("created"),
                               "manifest_sha256": hashlib.sha256(data).hexdigest(), "file_count": doc.get("file_count"),
                               "signer": (doc.get("signer") or {}).get("fingerprint"), "problems": 0}
        before = len(passed)

        def bad(path: str | None, msg: str, _rec: dict[str, Any] = rec) -> None:
            _rec["problems"] += 1
            fail("seals", path, msg)

        sums = folder / mf.MANIFEST_SHA256
        listed = "".join(f"{f.get('sha256')}  {f.get('path')}\n" for f in doc.get("files") or [] if isinstance(f, dict))
        if not sums.is_file() or sums.read_bytes() != listed.encode("utf-8"):
            bad(f"{where}/{mf.MANIFEST_SHA256}", "missing or not the same list as its manifest.json")
        check_signature(folder, data, doc, bad)
        check_timestamp(folder, data)
        unchanged, changed, kept_ok, logs = 0, [], 0, []
        for rel, entry in _files(doc).items():
            if mf.unsafe_path_reason(rel):
                bad(f"{where}/{mf.MANIFEST_JSON}", f"unsafe path {rel!r} rejected, not followed")
                continue
            copy = folder / rel
            if rel.split("/")[0] in KEPT_FOLDERS and (copy.exists() or copy.is_symlink()):
                # (no kept copy: the report was not rewritten at that reseal; compared below)
                if mf.symlink_on_path(folder, rel) or not copy.is_file() or _sha(copy) != entry.get("sha256"):
                    bad(f"{where}/{rel}", "the kept copy of what this seal covered was changed")
                else:
                    kept_ok += 1
                continue
            now = root / rel
            if mf.symlink_on_path(root, rel) or not now.is_file():
                changed.append(rel)
                continue
            if rel in APPEND_ONLY:
                size = int(entry.get("size") or 0)
                if now.stat().st_size < size or _sha(now, size) != entry.get("sha256"):
                    bad(rel, f"is not an extension of the {rel} that seal {n} covered: the log was rewritten")
                else:
                    logs.append(f"{rel} then was the first {size} bytes of today's (only appended since)")
                    unchanged += 1
                continue
            if _sha(now) == entry.get("sha256"):
                unchanged += 1
            else:
                changed.append(rel)
        rec.update({"unchanged": unchanged, "kept_copies": kept_ok, "changed_since": _summarise(sorted(changed))})
        if not rec["problems"]:
            passed.insert(before, f"seal {n} ({where}, made {doc.get('created')}): manifest sha256 "
                                  f"{rec['manifest_sha256']}, its {doc.get('file_count')} files: {unchanged} unchanged "
                                  f"today, {kept_ok} kept in {where}/, {len(changed)} replaced since"
                          + ("; " + "; ".join(logs) if logs else ""))
        records.append(rec)
        docs.append(doc)
    # What changed from each seal to the next (the last kept one to the current manifest).
    chain = [*docs, current] if current is not None else docs
    for i, rec in enumerate(records):
        if i + 1 >= len(chain):
            break
        a, b = _files(chain[i]), _files(chain[i + 1])
        nxt = records[i + 1]["seal"] if i + 1 < len(records) else "current"
        diff = {"to": nxt,
                "added": _summarise(sorted(p for p in b if p not in a)),
                "removed": _summarise(sorted(p for p in a if p not in b)),
                "changed": _summarise(sorted(p for p in a if p in b and a[p].get("sha256") != b[p].get("sha256")))}
        rec["next"] = diff
        what = "; ".join(f"{k}: {', '.join(v)}" for k, v in diff.items() if k != "to" and v) or "nothing"
        notes.append(f"between seal {rec['seal']} and {'the current seal' if nxt == 'current' else f'seal {nxt}'}: {what}")
    return records

