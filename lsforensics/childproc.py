"""Child processes that die with their parent.

A ``kill -9`` of lsf must leave no ffmpeg or worker writing into a case after the rerun has
cleaned up: on Linux each child asks the kernel for SIGKILL when its parent dies
(``PR_SET_PDEATHSIG``). libc's ``prctl`` is looked up once here, in the parent, so the function
that runs in the child between fork and exec only makes the call (no library loading after fork).
Elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import signal

PR_SET_PDEATHSIG = 1

try:
    _prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except (OSError, AttributeError):  # not Linux/glibc
    _prctl = None


def die_with_parent() -> None:
    """Call in the child (``preexec_fn=`` or a worker's initializer): SIGKILL when the parent dies."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
