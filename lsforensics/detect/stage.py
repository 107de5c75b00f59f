"""The ``detect`` stage: run every registered detector and write the one ``findings.json``.

Detector modules register themselves on import. Each import is guarded so that a detector
family that is not installed or not written yet is skipped, not fatal; the stage's params name
the detectors that ran, so adding one later reruns detection.
"""

from __future__ import annotations

import importlib
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from ..case import Case, atomic_write_json
from ..errors import InputError
from ..findings import Finding, findings_document
from ..progress import Progress
from ..rules import RuleSet, load_rules
from ..stage import Stage
from .base import DETECTORS, Detector

DETECTOR_MODULES = ("lsforensics.detect.text", "lsforensics.detect.visual", "lsforensics.claims.detector")


def load_detectors(modules: tuple[str, ...] = DETECTOR_MODULES) -> list[type[Detector]]:
    """Import the detector modules (missing ones are skipped) and return the registry in run order."""
    for mod in modules:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            # Only the module itself (or its package) being absent is a skip; a missing
            # dependency inside an existing module is a real error.
            if exc.name is None or not (mod == exc.name or mod.startswith(exc.name + ".")):
                raise
    return sorted(DETECTORS, key=lambda d: (d.order, d.name))


class DetectStage(Stage):
    name = "detect"
    version = 1

    def __init__(self, rules_dirs: list[str | os.PathLike[str]] | tuple = (), *, rules: RuleSet | None = None,
                 detectors: list[type[Detector]] | None = None):
        # Detector modules first: importing them registers their rule validators, which
        # load_rules then runs (a rule with a missing field must fail here, not later).
        classes = detectors if detectors is not None else load_detectors()
        self.rules = rules if rules is not None else load_rules(rules_dirs)
        self.detectors = [cls() for cls in sorted(classes, key=lambda d: (d.order, d.name))]

    def use_rules(self, rules: RuleSet) -> None:
        """Read the rules from the case's archive (``case_rules``): the same set, archived paths."""
        if rules.sha256 != self.rules.sha256:
            raise InputError("internal: the archived rules differ from the planned ones")
        self.rules = rules

    def params(self) -> dict[str, Any]:
        return {
            "rules_sha256": self.rules.sha256,
            "rules": self.rules.to_summary(),
            "detectors": [{"name": d.name, "order": d.order, **({"params": d.params()} if d.params() else {})}
                          for d in self.detectors],
        }

    def inputs(self, case: Case) -> list[Path]:
        paths: dict[str, Path] = {str(case.source_json): case.source_json}
        archive = case.root / "rules"  # the archived rules (lsforensics/case_rules.py), when the case has them
        if archive.is_dir():
            paths[str(archive)] = archive
        for d in self.detectors:
            for p in d.inputs(case):
                if p.exists():
                    paths.setdefault(str(p), p)
        return sorted(paths.values(), key=lambda p: case.rel(p))

    def outputs(self, case: Case) -> list[Path]:
        # Detectors save evidence crops under evidence/: they are this stage's outputs too.
        return [case.findings_json, case.root / "evidence"]

    def run(self, case: Case, progress: Progress) -> dict[str, Any]:
        if not case.source_json.exists():
            raise InputError(f"{case.root} has no source.json: run `lsf extract` first")
        source_sha = case.source.get("sha256", "")
        # Crops of an earlier run may belong to findings that no longer exist: start clean.
        shutil.rmtree(case.root / "evidence", ignore_errors=True)
        findings: list[Finding] = []
        task = progress.task("detect", total=len(self.detectors))
        per_detector: dict[str, int] = {}
        for d in self.detectors:
            found = d.detect(case, self.rules, list(findings), progress)
            per_detector[d.name] = len(found)
            findings.extend(found)
            task.update(advance=1)
        task.close()
        doc = findings_document(findings, source_sha256=source_sha, rules_sha256=self.rules.sha256)
        atomic_write_json(case.findings_json, doc)
        kinds = Counter(f["kind"] for f in doc["findings"])
        sev = Counter(f["severity"] for f in doc["findings"])
        return {"findings": len(doc["findings"]), "by_kind": dict(sorted(kinds.items())),
                "by_severity": dict(sev), "detectors": per_detector}
