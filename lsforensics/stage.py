"""Stage base class: inputs, outputs and params declared once, so idempotency and custody are free.

``run_stage`` locks the case, hashes the declared inputs, and compares them, the params and the
outputs' current hashes with the stage's last custody entry: if all match, the stage is a no-op.
Otherwise it runs the stage (which writes its outputs atomically) and appends a custody entry
naming every input and output with its sha256. A stage killed half-way has written no custody
entry, so the next run redoes it.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .case import Case
from .custody import CustodyLog
from .evidence.hashing import FileDigest, digest_file, digest_path
from .progress import NullProgress, Progress


@dataclass
class StageResult:
    name: str
    skipped: bool
    reason: str
    outputs: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)


class Stage(ABC):
    """One processing step over a case.

    Subclasses set ``name`` (the custody ``action``) and ``version`` (bump it when the output
    changes for the same inputs, so old outputs are redone), and implement the four methods.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1

    def params(self) -> dict[str, Any]:
        return {}

    @abstractmethod
    def inputs(self, case: Case) -> list[Path]: ...

    @abstractmethod
    def outputs(self, case: Case) -> list[Path]: ...

    @abstractmethod
    def run(self, case: Case, progress: Progress) -> dict[str, Any]:
        """Write every output atomically; return a small JSON-able summary for the log."""



def env_threads() -> int:
    """Cores this process may use, from ``LSF_THREADS`` (``lsf batch`` sets each job's share);
    0 when unset, meaning every core."""
    raw = os.environ.get("LSF_THREADS", "").strip()
    try:
        n = int(raw or 0)
    except ValueError:
        n = -1
    if n < 0:
        from .errors import InputError

        raise InputError(f"LSF_THREADS={raw!r}: expected a whole number of cores (0 = all)")
    return n

class _DigestCache:
    """Per-process cache keyed by the file's identity (device, inode, size, mtime, ctime) so one run
    hashes a big source once, whether it is reached by its path or through a pinned ``/dev/fd/N``;
    any change to the file (ctime moves even when mtime is set back) means a new hash.

    Files are hashed with sha256 and sha512 in the same read (the source needs both).
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[int, int, int, int, int], FileDigest] = {}

    def full(self, path: Path, progress: Callable[[int], None] | None = None) -> FileDigest:
        st = path.stat()
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        if key not in self._cache:
            self._cache[key] = digest_file(path, sha512=True, progress=progress)
        return self._cache[key]

    def get(self, path: Path) -> str:
        if path.is_dir():
            return digest_path(path)
        return self.full(path).sha256


DIGESTS = _DigestCache()


def _records(case: Case, paths: list[Path]) -> list[dict[str, Any]]:
    return [{"path": case.rel(p) + ("/" if p.is_dir() else ""), "sha256": DIGESTS.get(p)} for p in paths if p.exists()]


def _full_params(stage: Stage) -> dict[str, Any]:
    return {"stage_version": stage.version, **stage.params()}


def is_current(case: Case, stage: Stage) -> bool:
    """True when the last run of ``stage`` had these params and inputs and its outputs are intact."""
    last = CustodyLog(case.custody).last(stage.name)
    if last is None or last.get("params") != _full_params(stage):
        return False
    inputs = stage.inputs(case)
    if any(not p.exists() for p in inputs) or last.get("inputs") != _records(case, inputs):
        return False
    recorded = last.get("outputs") or []
    for rec in recorded:
        p = case.root / rec["path"].rstrip("/")
        if not p.exists() or DIGESTS.get(p) != rec["sha256"]:
            return False
    # An output the stage declares but did not record must still be absent (e.g. no audio).
    declared = {case.rel(p) for p in stage.outputs(case)}
    recorded_paths = {r["path"].rstrip("/") for r in recorded}
    return all(not (case.root / d).exists() for d in declared - recorded_paths)


def run_stage(
    case: Case,
    stage: Stage,
    *,
    progress: Progress | None = None,
    argv: list[str] | None = None,
    force: bool = False,
    operator: str | None = None,
) -> StageResult:
    progress = progress or NullProgress()
    with case.locked():
        if not force and is_current(case, stage):
            last = CustodyLog(case.custody).last(stage.name) or {}
            return StageResult(stage.name, True, "up to date", last.get("outputs", []), last.get("result", {}))
        inputs = _records(case, stage.inputs(case))
        result = stage.run(case, progress) or {}
        outputs = _records(case, stage.outputs(case))
        CustodyLog(case.custody).append(
            stage.name,
            inputs=inputs,
            outputs=outputs,
            params=_full_params(stage),
            argv=argv,
            operator=operator or os.environ.get("LSF_OPERATOR") or case_operator(case),
            result=result,
        )
        return StageResult(stage.name, False, "ran", outputs, result)


def case_operator(case: Case) -> str | None:
    try:
        return case.info.get("operator")
    except Exception:
        return None


def run_stages_side_by_side(
    case: Case,
    stages: list[Stage],
    *,
    progress: Progress | None = None,
    argv: list[str] | None = None,
    operator: str | None = None,
) -> list[StageResult]:
    """Run independent stages (none reads another's outputs) at the same time, one thread each.

    Used for transcription and OCR: the first spends most of its time in decoder processes or
    native code, the second in ONNX Runtime, so together they keep both cores busy where one
    after the other leaves gaps. The case stays locked throughout; each stage appends its own
    custody entry when it finishes (the log is written by one thread at a time), so a kill
    leaves every finished stage recorded and the rest to redo. The first error is raised after
    every stage has stopped.
    """
    from concurrent.futures import ThreadPoolExecutor

    with case.locked(), ThreadPoolExecutor(max_workers=max(1, len(stages))) as pool:
        futs = [pool.submit(run_stage, case, s, progress=progress, argv=argv, operator=operator) for s in stages]
        errors = [f.exception() for f in futs]
    for e in errors:
        if e is not None:
            raise e
    return [f.result() for f in futs]
