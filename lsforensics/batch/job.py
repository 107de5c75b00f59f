"""One video -> one case: the unit of work a local pool or a Dask worker runs.

The job runs ``lsf analyze`` in a child process: a crash, a runaway decoder or a corrupt file
stays inside that process, the batch records it and goes on. The child dies with its parent
(PR_SET_PDEATHSIG), so a killed batch leaves no orphan writing into a case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from ..childproc import die_with_parent


def run_case_job(video: str, case_dir: str, analyze_args: list[str], threads: int = 1,
                 timeout: float | None = None) -> dict[str, Any]:
    """Run ``lsf analyze`` on one video; return status, wall time and the analyze JSON summary."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "LSF_THREADS": str(threads),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "lsforensics", "analyze", video, "-C", case_dir, "--json", "-q", *analyze_args]
    t0 = time.time()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout,
                              preexec_fn=die_with_parent if sys.platform.startswith("linux") else None)
    except subprocess.TimeoutExpired:
        return {"status": "failed", "error": f"timed out after {timeout} s", "wall_s": time.time() - t0}
    wall = time.time() - t0
    err_lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    if proc.returncode not in (0, 1):  # 1 = --fail-on threshold hit: the case itself is complete
        return {"status": "failed", "rc": proc.returncode, "wall_s": wall,
                "error": err_lines[-1] if err_lines else f"exit code {proc.returncode}"}
    try:
        result = json.loads(proc.stdout)
    except json.JSONDecodeError:
        result = {}
    return {"status": "done", "rc": proc.returncode, "wall_s": wall, "result": result}
