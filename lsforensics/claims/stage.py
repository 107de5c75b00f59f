"""``claims.pages`` stage: copy each ``--page`` file into ``CASE/pages/`` and write ``pages.json``.

Copying makes the page part of the evidence: sellers delete or edit pages, and the manifest then
hashes the exact bytes the comparison used. Every page is read (and refused with a clear
message if unusable) before anything is written, so a bad page leaves the case untouched.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ..case import Case, atomic_folder, atomic_write_json, safe_file_name
from ..errors import InputError
from ..evidence.hashing import sha256_file
from ..loaders import clip
from ..progress import Progress
from ..stage import Stage
from .pages import MAX_MARKUP_BYTES, Page, read_page

PAGES_SCHEMA = "lsf.pages/1"
MAX_IMAGES = 50
MAX_IMAGE_BYTES = 20 * 1024 * 1024
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"}


def _safe(name: str) -> str:
    return safe_file_name(name, default="page")


class PagesStage(Stage):
    name = "claims.pages"
    version = 1

    def __init__(self, pages: list[str | Path], *, max_markup_bytes: int = MAX_MARKUP_BYTES):
        if not pages:
            raise InputError("no --page given")
        self.pages = [Path(p).absolute() for p in pages]
        for p in self.pages:
            if not p.is_file():
                raise InputError(f"page {p} does not exist or is not a file")
        self.max_markup_bytes = max_markup_bytes

    def params(self) -> dict[str, Any]:
        return {"pages": [str(p) for p in self.pages], "max_markup_bytes": self.max_markup_bytes}

    def inputs(self, case: Case) -> list[Path]:
        return list(self.pages)

    def outputs(self, case: Case) -> list[Path]:
        return [case.root / "pages", case.root / "pages.json"]

    def run(self, case: Case, progress: Progress) -> dict[str, Any]:
        task = progress.task("reading product pages", total=len(self.pages))
        parsed: list[tuple[Path, Page]] = []
        for p in self.pages:
            parsed.append((p, read_page(p, max_markup_bytes=self.max_markup_bytes)))
            task.update(advance=1)
        task.close()
        entries = []
        with atomic_folder(case.root / "pages") as staging:
            for n, (src, page) in enumerate(parsed, 1):
                name = f"{n:02d}-{_safe(src.name)}"
                shutil.copyfile(src, staging / name)
                page.file = f"pages/{name}"
                page.sha256 = sha256_file(staging / name)
                page.images = self._copy_images(src, page, staging, f"{n:02d}-images")
                entries.append(page.to_dict())
                for w in page.warnings:
                    progress.log(f"page {src.name}: {w}")
        atomic_write_json(case.root / "pages.json", {"schema": PAGES_SCHEMA, "pages": entries})
        return {"pages": len(entries), "attributes": sum(len(e["attributes"]) for e in entries),
                "warnings": [w for e in entries for w in e["warnings"]]}

    @staticmethod
    def _copy_images(src: Path, page: Page, staging: Path, folder: str) -> list[str]:
        """Local product images saved with the page are copied for the visual stage; remote URLs
        are kept as text (nothing is downloaded).

        Only files inside the page's own folder (or below it) are copied: a page is untrusted, and
        an ``images:`` entry or ``<img src>`` with an absolute path, a ``..`` or a symlink leading
        out could otherwise pull any local file (another case's frames) into this case's sealed
        evidence. Such a reference is kept as text, with a warning."""
        out: list[str] = []
        copied = 0
        base = src.parent.resolve()
        for ref in page.images:
            if "://" in ref or ref.startswith(("//", "data:")):
                out.append(ref)
                continue
            rel = unquote(ref.split("?")[0].split("#")[0]).replace("\\", "/")
            local = None if rel.startswith("/") or re.match(r"^[A-Za-z]:", rel) else (base / rel).resolve()
            if local is None or not local.is_relative_to(base):
                page.warnings.append(f"image {clip(ref)} not copied: it is outside the page's folder {base}")
                out.append(ref)
                continue
            if (local.is_file() and local.suffix.lower() in _IMAGE_SUFFIXES
                    and local.stat().st_size <= MAX_IMAGE_BYTES and copied < MAX_IMAGES):
                dest = staging / folder / f"{copied:02d}-{_safe(local.name)}"
                dest.parent.mkdir(exist_ok=True)
                shutil.copyfile(local, dest)
                out.append(f"pages/{folder}/{dest.name}")
                copied += 1
            else:
                out.append(ref)
        return out


def run_pages(case: Case, pages: list[str | Path], **kw: Any) -> Any:
    """Library entry: run the pages stage on a case (idempotent, with custody)."""
    from ..stage import run_stage  # noqa: PLC0415

    if not case.exists():
        raise InputError(f"{case.root} is not a case folder: run `lsf extract VIDEO -C {case.root}` first")
    return run_stage(case, PagesStage(pages), **kw)
