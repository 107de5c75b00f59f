"""Rich progress on stderr, only when stderr is a terminal and output is not quieted."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..progress import NullProgress
from ..progress import Progress as ProgressProto

stderr_console = Console(stderr=True, highlight=False)


class _RichTask:
    def __init__(self, progress: Progress, task_id: int):
        self._p, self._id = progress, task_id

    def update(self, completed=None, *, advance=None, total=None) -> None:  # noqa: ANN001
        kw = {}
        if completed is not None:
            kw["completed"] = completed
        if advance is not None:
            kw["advance"] = advance
        if total is not None:
            kw["total"] = total
        self._p.update(self._id, **kw)

    def close(self) -> None:
        task = self._p.tasks[self._id] if self._id < len(self._p.tasks) else None
        if task is not None and task.total is not None:
            self._p.update(self._id, completed=task.total)
        self._p.stop_task(self._id)


class RichProgress:
    def __init__(self) -> None:
        self._p = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=stderr_console,
            transient=False,
        )

    def __enter__(self) -> RichProgress:
        self._p.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._p.stop()

    def task(self, description: str, total: float | None = None) -> _RichTask:
        return _RichTask(self._p, self._p.add_task(description, total=total))

    def log(self, message: str) -> None:
        self._p.console.print(message)


class LogProgress(NullProgress):
    """Non-TTY verbose mode: plain log lines on stderr instead of bars."""

    def log(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)


def make_progress(quiet: bool, verbose: int) -> ProgressProto:
    if quiet:
        return NullProgress()
    if sys.stderr.isatty():
        return RichProgress()
    return LogProgress() if verbose else NullProgress()
