"""The rule set a case was analysed with, archived inside the case (``CASE/rules/``).

A finding is only as reproducible as the rules that made it: a third party re-running detection
must get the same code-words, slang, legal bases and reference images, not whatever rules their
own lsf ships. So the first stage that needs rules copies the effective set into the case::

    CASE/rules/rules.json       schema lsf.rules-archive/1: rules_sha256, folders [{dir, label,
                                shipped}], files [{file, kind, sha256}], references [{brand, file, sha256}]
    CASE/rules/1-rules/…        the shipped rules of the lsf that made the archive
    CASE/rules/2-<label>/…      each --rules folder in the order given (later ones win by id),
                                with its references/<brand>/ images

The archive is written by the ``rules`` stage (custody action ``rules``; the folders it came from
are named in the entry's ``result.origins``), so it is hashed in custody and listed in the
manifest like every other case file. From then on every stage reads the rules from the archive
(:func:`load_archived`): a rerun without ``--rules`` reuses them, and a different rule set is
only ever taken when ``--rules`` is given, as a new ``rules`` entry that names the set it replaced.
Each archived folder keeps its label, so display names and ``rules_sha256`` are the same as those
of the folders it was copied from.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .case import Case, atomic_folder, dumps_json, json_text_bytes, safe_file_name
from .custody import CustodyLog
from .errors import InputError
from .progress import Progress
from .rules import RuleFile, RuleSet, iter_rule_files, load_rule_folders, load_rules, shipped_rules_dir
from .stage import Stage

ARCHIVE_SCHEMA = "lsf.rules-archive/1"
ARCHIVE_DIR = "rules"
INDEX = "rules.json"
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024  # reference photos included; the shipped rules are < 1 MB


def _ensure_validators() -> None:
    # Detector modules register the validators of their rule kinds on import; an archived rule
    # set is validated exactly like one loaded from its folders.
    from .detect.stage import load_detectors

    load_detectors()


def requested_rules(rules_dirs: list[Path] | tuple = ()) -> RuleSet:
    """The shipped rules of this lsf plus ``rules_dirs``, validated (a bad folder: exit 2)."""
    _ensure_validators()
    return load_rules(rules_dirs)


def archive_root(case: Case) -> Path:
    return case.root / ARCHIVE_DIR


def has_archive(case: Case) -> bool:
    return (archive_root(case) / INDEX).is_file()


def reference_summary(rules: RuleSet) -> list[dict[str, str]]:
    out = []
    for brand in sorted(rules.reference_dirs):
        for d in rules.reference_dirs[brand]:
            for p in sorted(d.rglob("*")):
                if p.is_file():
                    out.append({"brand": brand, "file": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()})
    return out


def load_archived(case: Case) -> RuleSet:
    """The case's archived rules, checked against ``rules.json`` (an edited archive: exit 2)."""
    from .evidence.manifest import unsafe_path_reason

    _ensure_validators()
    index = case.read_json(archive_root(case) / INDEX)
    folders = index.get("folders") if isinstance(index, dict) else None
    if not isinstance(index, dict) or index.get("schema") != ARCHIVE_SCHEMA or not isinstance(folders, list):
        raise InputError(f"{case.rel(archive_root(case) / INDEX)}: not an lsf rules archive ({ARCHIVE_SCHEMA})")
    pairs = []
    for n, entry in enumerate(folders):
        d = entry.get("dir") if isinstance(entry, dict) else None
        label = entry.get("label") if isinstance(entry, dict) else None
        if not isinstance(label, str) or not label or unsafe_path_reason(d) or "/" in str(d):
            raise InputError(f"{case.rel(archive_root(case) / INDEX)}: folders[{n}] is not a folder of the archive")
        pairs.append((archive_root(case) / d, label))
    rules = load_rule_folders(pairs)
    if rules.sha256 != index.get("rules_sha256"):
        raise InputError(f"{case.rel(archive_root(case))}: the archived rules hash to {rules.sha256[:16]}…, but "
                         f"{INDEX} says {str(index.get('rules_sha256'))[:16]}…: they were edited after archiving "
                         "(restore them, or pass --rules to archive a new rule set)")
    return rules


def rebased(rules: RuleSet, mapping: dict[Path, Path]) -> RuleSet:
    """The same rule set with its files and reference folders at their archived paths."""
    def move(p: Path) -> Path:
        for src, dst in mapping.items():
            if p == src or p.is_relative_to(src):
                return dst / p.relative_to(src)
        return p

    files = [RuleFile(move(f.path), f.display, f.kind, f.sha256, f.data) for f in rules.files]
    refs = {b: [move(d) for d in ds] for b, ds in rules.reference_dirs.items()}
    return replace(rules, files=files, reference_dirs=refs, folders=[(move(f), label) for f, label in rules.folders])


class RulesStage(Stage):
    """Copy a rule set into ``CASE/rules/`` (custody action ``rules``)."""

    name = "rules"
    version = 1

    def __init__(self, rules: RuleSet, *, replaces: str | None = None, why: str = "first use"):
        self.rules = rules
        self.folders = list(rules.folders)
        self.replaces, self.why = replaces, why
        total = sum(p.stat().st_size for folder, _ in self.folders for p in _archived_files(folder))
        if total > MAX_ARCHIVE_BYTES:
            raise InputError(f"the rules folders hold {total / 2**20:.0f} MiB, more than the "
                             f"{MAX_ARCHIVE_BYTES // 2**20} MiB a case archives: keep reference images small")

    def params(self) -> dict[str, Any]:
        return {"rules_sha256": self.rules.sha256, "files": self.rules.to_summary(),
                "references": reference_summary(self.rules)}

    def inputs(self, case: Case) -> list[Path]:
        return []  # the folders it copies from are outside the case: named in result.origins

    def outputs(self, case: Case) -> list[Path]:
        return [archive_root(case)]

    def dirs(self) -> list[str]:
        return [f"{n}-{safe_file_name(label, max_len=60, default='rules')}" for n, (_f, label) in enumerate(self.folders, 1)]

    def run(self, case: Case, progress: Progress) -> dict[str, Any]:
        copied = size = 0
        with atomic_folder(archive_root(case)) as staging:
            for (folder, _label), d in zip(self.folders, self.dirs(), strict=True):
                for p in _archived_files(folder):
                    dest = staging / d / p.relative_to(folder)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(p, dest)  # a symlinked rule file is archived as the file it names
                    copied += 1
                    size += dest.stat().st_size
            index = {"schema": ARCHIVE_SCHEMA, "rules_sha256": self.rules.sha256,
                     "folders": [{"dir": d, "label": label, "shipped": folder == shipped_rules_dir()}
                                 for (folder, label), d in zip(self.folders, self.dirs(), strict=True)],
                     "files": self.rules.to_summary(), "references": reference_summary(self.rules)}
            (staging / INDEX).write_bytes(json_text_bytes(dumps_json(index)))
        return {"rules_sha256": self.rules.sha256, "replaces": self.replaces, "why": self.why,
                "origins": [str(folder) for folder, _ in self.folders], "files": copied, "bytes": size}

    def archived(self, case: Case) -> RuleSet:
        """The rule set as it now lies in the case (same content and sha256, archived paths)."""
        return rebased(self.rules, {folder: archive_root(case) / d
                                    for (folder, _), d in zip(self.folders, self.dirs(), strict=True)})


def _archived_files(folder: Path) -> list[Path]:
    refs = folder / "references"
    extra = sorted(p for p in refs.rglob("*") if p.is_file() and not p.name.startswith(".")) if refs.is_dir() else []
    return [*iter_rule_files(folder), *extra]


@dataclass
class RulesPlan:
    """Which rules a run uses and whether they must be archived first."""

    rules: RuleSet
    stage: RulesStage | None  # run it (under the case lock) before any stage that reads rules
    note: str | None = None

    def settle(self, case: Case) -> RuleSet:
        """After ``stage`` ran: the rules at their archived paths (what the stages must read)."""
        return self.stage.archived(case) if self.stage is not None else self.rules


def _last_detect_sha(case: Case) -> str | None:
    try:
        last = CustodyLog(case.custody).last("detect")
    except InputError:
        return None
    return ((last or {}).get("params") or {}).get("rules_sha256")


def plan_rules(case: Case | None, rules_dirs: list[Path] | tuple = (), *, ambient_dirs: list[Path] | tuple = (),
               force: bool = False, requested: RuleSet | None = None) -> RulesPlan:
    """Decide the rule set of a run, before the case is touched.

    * no ``--rules`` and an archive: the archive (whatever this lsf ships, whatever ``LSF_RULES``
      or lsf.toml say: ``ambient_dirs`` apply to cases that have no archive yet);
    * ``--rules`` (or a new case): the shipped rules plus the folders; archived unless the archive
      already holds exactly that set, and then named as a change in custody;
    * a case analysed before cases archived their rules: its rules are unknown, so the shipped set
      is taken only when it is the set its findings name, or with ``--rules``/``--force``.

    ``requested``: the rule set of ``rules_dirs or ambient_dirs``, when already loaded.
    """
    exists = case is not None and case.exists()
    if exists and has_archive(case) and not rules_dirs:  # type: ignore[arg-type]
        return RulesPlan(load_archived(case), None)  # type: ignore[arg-type]
    dirs = list(rules_dirs) or list(ambient_dirs)
    req = requested if requested is not None else requested_rules(dirs)
    if not exists:
        return RulesPlan(req, RulesStage(req))
    assert case is not None
    if has_archive(case):
        archived = load_archived(case)
        if archived.sha256 == req.sha256:
            return RulesPlan(archived, None)
        return RulesPlan(req, RulesStage(req, replaces=archived.sha256, why="--rules"),
                         f"rules changed: {archived.sha256[:12]}… -> {req.sha256[:12]}… (--rules)")
    last = _last_detect_sha(case)
    if last is None or last == req.sha256 or rules_dirs or force:
        why = "--rules" if rules_dirs else ("--force" if force and last not in (None, req.sha256) else "first use")
        return RulesPlan(req, RulesStage(req, replaces=last if last != req.sha256 else None, why=why))
    raise InputError(f"case {case.root} was analysed with rules {last[:12]}… that it does not hold (made before "
                     "cases archived their rules), and these rules differ: pass --rules with the folders it was "
                     "analysed with, or --force to re-detect with these rules")
