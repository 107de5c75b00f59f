"""Human review of findings: a person confirms, rejects or marks unsure each finding.

* ``decisions.py``: ``review.jsonl`` (hash-chained like custody) and each finding's status;
* ``session.py``: a review session (browser or scripted), its custody entry, CSV import/export;
* ``exhibits.py``: the ``exhibits`` stage, a stream-copied clip of the original around each finding;
* ``server.py`` + ``web.py`` + ``static/``: the local review page (loopback, one token per session).
"""

from __future__ import annotations

from pathlib import Path

from ..case import Case
from ..errors import InputError
from ..progress import Progress
from ..stage import StageResult, run_stage
from .exhibits import ExhibitsStage


def source_video(case: Case, given: Path | None) -> tuple[Path | None, str | None]:
    """The case's source video (``--source`` or the path in source.json), or why there is none."""
    if given is not None:
        if not Path(given).is_file():
            raise InputError(f"--source {given}: no such file")
        return Path(given), None
    recorded = case.source.get("path")
    if isinstance(recorded, str) and Path(recorded).is_file():
        return Path(recorded), None
    return None, (f"the source video is not at {recorded}: pass --source VIDEO to cut exhibit clips "
                  "(frames and text are shown without them)")


def prepare_exhibits(case: Case, source: Path | None, *, progress: Progress | None = None,
                     argv: list[str] | None = None, operator: str | None = None) -> tuple[StageResult | None, str | None]:
    """Cut (or reuse) the exhibit clips; ``(None, reason)`` when the source video is not at hand."""
    video, why = source_video(case, source)
    if video is None:
        return None, why
    return run_stage(case, ExhibitsStage(video), progress=progress, argv=argv, operator=operator), None
