"""Progress reporting without a UI dependency.

The library reports through this small protocol; the CLI plugs in a rich implementation. The
default does nothing, so library callers never see output they did not ask for.
"""

from __future__ import annotations

from typing import Protocol


class ProgressTask(Protocol):
    def update(
        self, completed: float | None = None, *, advance: float | None = None, total: float | None = None
    ) -> None: ...

    def close(self) -> None: ...


class Progress(Protocol):
    def task(self, description: str, total: float | None = None) -> ProgressTask: ...

    def log(self, message: str) -> None: ...


class _NullTask:
    def update(self, completed=None, *, advance=None, total=None) -> None:  # noqa: ANN001
        pass

    def close(self) -> None:
        pass


class NullProgress:
    def task(self, description: str, total: float | None = None) -> ProgressTask:
        return _NullTask()

    def log(self, message: str) -> None:
        pass
