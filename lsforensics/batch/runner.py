"""``lsf batch``: many videos -> many cases, resumable, failure-isolated, local or on Dask.

Order of work: discover (probe every file, or read a manifest of rows) -> hash videos ->
de-duplicate by sha256 (the first path in sorted order is the original; for a manifest, by video and
row: the same video with another page or chat is another case) -> run each original's case job
(local process pool or a Dask cluster) -> summary.csv/.parquet, findings.parquet/.csv, index.html
-> network.graphml/.png. Every state change is written to the SQLite index at once, so a killed
batch resumes with ``--resume`` and redoes nothing finished.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..evidence.hashing import sha256_file
from ..progress import NullProgress, Progress
from .discover import discover, discover_files
from .index import BatchIndex
from .job import run_case_job
from .manifest import is_manifest, read_manifest
from .network import build_network, cross_links, network_json, write_network
from .overview import write_overview
from .summary import write_summary


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class BatchOptions:
    workers: int = 1
    resume: bool = False
    retry_failed: bool = False
    cluster: str | None = None  # Dask scheduler address, e.g. tcp://10.0.0.5:8786
    analyze_args: list[str] = field(default_factory=list)  # passed through to `lsf analyze`
    job_timeout: float | None = None

    def threads_per_job(self) -> int:
        # ASR and OCR each use threads; give each parallel case an equal share of the cores.
        return max(1, (os.cpu_count() or 1) // max(1, self.workers))


@dataclass
class BatchResult:
    out: Path
    counts: dict[str, int]
    wall_s: float
    network: dict[str, Any]
    failed: list[dict[str, str]]
    findings: dict[str, Any] = field(default_factory=dict)  # the findings table: files, rows
    overview: str | None = None  # index.html

    def to_json(self) -> dict[str, Any]:
        return {"out": str(self.out), "counts": self.counts, "wall_s": round(self.wall_s, 2),
                "network": self.network, "failed": self.failed,
                "summary": [str(self.out / "summary.csv"), str(self.out / "summary.parquet")],
                "findings_table": self.findings, "overview": self.overview,
                "index": str(self.out / "index.sqlite")}


def _row_args(r: Any) -> list[str]:
    """The analyze options of a manifest row: its own pages, chats and stream facts."""
    if not r["row"]:
        return []
    from .manifest import ManifestRow

    doc = json.loads(r["row"])
    return ManifestRow(doc["line"], Path(doc["video"]), [Path(p) for p in doc["pages"]],
                       [Path(c) for c in doc["chats"]], doc["stream"]).analyze_args()


def write_batch_findings(rows: list[dict[str, Any]], out: Path) -> dict[str, Any]:
    """findings.parquet + findings.csv: one row per finding of every finished case."""
    from ..case import Case
    from ..findings_table import case_rows, write_table

    table: list[dict[str, Any]] = []
    for r in rows:
        if r["status"] == "done" and r.get("case_dir"):
            table += case_rows(Case(r["case_dir"]), video=_video(r))
    files = write_table(table, out)
    return {"files": [str(f) for f in files], "rows": len(table)}


def _case_dir(out: Path, video: Path, sha256: str, identity: str = "", first: bool = True) -> Path:
    """``cases/<stem>-<sha8>``; a further manifest row for the same video with other pages, chats or
    facts gets ``-<first 6 hex of the row's identity>`` too (stable across resumes)."""
    name = f"{video.stem}-{sha256[:8]}"
    return out / "cases" / (name if first or not identity else f"{name}-{identity[:6]}")


def _video(row: Any) -> str:
    return row["video"] or row["path"]


def _register(index: BatchIndex, source: Path, out: Path, progress: Progress, rows: list[Any] | None) -> None:
    task = progress.task("probe", total=None)
    if rows is not None:
        by_video = {str(c.path): c for c in discover_files(sorted({r.video for r in rows}))}
        found = []
        for r in rows:
            ident = r.identity()
            found.append((f"{r.video.resolve()}#{ident[:16]}" if ident else str(r.video.resolve()),
                          by_video[str(r.video)], r, ident))
    else:
        found = [(str(c.path.resolve()), c, None, "") for c in discover(source, exclude=out)]
    task.close()
    with index.tx():
        for key, c, row, ident in found:
            old = index.get(key)
            if old is not None and old["size"] == c.size and old["mtime_ns"] == c.mtime_ns:
                continue  # known and unchanged: keep its state
            status = {"video": "pending", "not_video": "not_video", "unreadable": "failed"}[c.kind]
            index.upsert(key, size=c.size, mtime_ns=c.mtime_ns, kind=c.kind, status=status, sha256=None,
                         case_dir=None, duplicate_of=None, error=c.error, duration=c.duration, attempts=0,
                         video=str(c.path.resolve()), row=json.dumps(row.to_json(), ensure_ascii=False) if row else None,
                         ord=row.line if row else None, identity=ident)


def _hash_and_dedupe(index: BatchIndex, out: Path, progress: Progress, threads: int = 2) -> None:
    todo = [r for r in index.rows("pending") if not r["sha256"]]
    task = progress.task("hash", total=len(todo))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for row, digest in zip(todo, pool.map(lambda r: sha256_file(Path(_video(r))), todo), strict=True):
            index.set(row["path"], sha256=digest)
            task.update(advance=1)
    task.close()
    first: dict[tuple[str, str], Any] = {}
    named: set[str] = set()  # videos (by sha256) whose plain case name is taken
    with index.tx():
        for r in index.rows():
            if r["kind"] != "video" or not r["sha256"]:
                continue
            ident = r["identity"] or ""
            orig = first.setdefault((r["sha256"], ident), r)
            plain = r["sha256"] not in named
            named.add(r["sha256"])
            if orig["path"] != r["path"]:
                index.set(r["path"], status="duplicate", duplicate_of=orig["path"], case_dir=orig["case_dir"]
                          or str(_case_dir(out, Path(_video(orig)), r["sha256"], ident, plain)))
            elif r["status"] in ("pending", "running"):
                index.set(r["path"], status="pending",
                          case_dir=r["case_dir"] or str(_case_dir(out, Path(_video(r)), r["sha256"], ident, plain)))


Submit = Callable[[str, str, list[str]], Future]


def _local_submitter(opts: BatchOptions) -> tuple[Submit, Callable[[], None]]:
    pool = ThreadPoolExecutor(max_workers=opts.workers)  # each thread waits on one child process
    threads = opts.threads_per_job()

    def submit(video: str, case_dir: str, extra: list[str]) -> Future:
        return pool.submit(run_case_job, video, case_dir, [*opts.analyze_args, *extra], threads, opts.job_timeout)

    return submit, lambda: pool.shutdown(wait=True, cancel_futures=True)


def _dask_submitter(opts: BatchOptions) -> tuple[Submit, Callable[[], None]]:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - a declared dependency
        raise InputError("--cluster needs the 'distributed' package (pip install 'dask[distributed]')") from None
    try:
        client = Client(opts.cluster, timeout="20s")
    except OSError as exc:
        raise InputError(f"cannot reach the Dask scheduler at {opts.cluster}: {exc}") from None
    nthreads = client.nthreads()
    threads = max(1, min(nthreads.values(), default=1))

    keep: list[Any] = []  # Dask forgets a task whose future is garbage-collected

    def submit(video: str, case_dir: str, extra: list[str]) -> Future:
        # pure=False: rerunning the same video must really run again, not reuse a cached result
        dfut = client.submit(run_case_job, video, case_dir, [*opts.analyze_args, *extra], threads, opts.job_timeout,
                             pure=False, key=f"lsf-{Path(case_dir).name}-{time.time_ns()}")
        keep.append(dfut)
        bridge: Future = Future()  # a concurrent.futures Future, so one wait() loop serves both pools

        def done(f: Any) -> None:
            try:
                bridge.set_result(f.result())
            except Exception as exc:  # noqa: BLE001 - handed to the batch loop, which records it
                bridge.set_exception(exc)

        dfut.add_done_callback(done)
        return bridge

    return submit, client.close


def _reseal_options(args: list[str]) -> tuple[Path | None, str | None, Path | None]:
    """--sign-key / --tsa / --tsa-ca as passed through to `lsf analyze`, to reseal linked cases alike."""
    found: dict[str, str] = {}
    for i, a in enumerate(args):
        for opt in ("--sign-key", "--tsa", "--tsa-ca"):
            if a == opt and i + 1 < len(args):
                found[opt] = args[i + 1]
            elif a.startswith(opt + "="):
                found[opt] = a.split("=", 1)[1]
    key, tsa_ca = found.get("--sign-key"), found.get("--tsa-ca")
    return (Path(key) if key else None), found.get("--tsa"), (Path(tsa_ca) if tsa_ca else None)


def _record_links(cases: dict[str, Path], links: dict[tuple[str, str], Any], opts: BatchOptions,
                  progress: Progress) -> None:
    """Each linked case records its links (links.json) and its report is refreshed to show them."""
    from ..links.compare import Reseal, link_cases

    by_case: dict[Path, list[Any]] = {}
    for (a, b), link in links.items():
        by_case.setdefault(cases[a], []).append(link)
        by_case.setdefault(cases[b], []).append(link)
    if not by_case:
        return
    task = progress.task("links", total=None)
    link_cases(by_case, Reseal(*_reseal_options(opts.analyze_args)), argv=["lsf", "batch"])
    task.close()


def run_batch(source: Path, out: Path, opts: BatchOptions, progress: Progress | None = None) -> BatchResult:
    progress = progress or NullProgress()
    if opts.workers < 1:
        raise InputError("--workers must be at least 1")
    out = out.absolute()
    if not source.exists():  # before OUT is created: a typo must not leave an empty batch behind
        raise InputError(f"{source}: no such file or folder")
    rows = read_manifest(source) if is_manifest(source) else None  # every row checked before OUT exists
    idx_path = out / "index.sqlite"
    if idx_path.exists() and not opts.resume:
        raise InputError(f"{out} already holds a batch (index.sqlite); pass --resume to continue it")
    t0 = time.time()
    index = BatchIndex(idx_path)
    try:
        index.meta("source", str(source.absolute()))
        with index.tx():  # a killed run left jobs "running": they are redone (the case resumes itself)
            index.db.execute("UPDATE files SET status='pending' WHERE status='running'")
            if opts.retry_failed:
                index.db.execute("UPDATE files SET status='pending', error=NULL WHERE status='failed' AND kind='video'")
        _register(index, source, out, progress, rows)
        _hash_and_dedupe(index, out, progress)
        todo = index.rows("pending")
        submit, close = _dask_submitter(opts) if opts.cluster else _local_submitter(opts)
        task = progress.task("cases", total=len(todo))
        running: dict[Future, str] = {}
        try:
            for r in todo:
                index.set(r["path"], status="running", started=_now(), attempts=r["attempts"] + 1)
                running[submit(_video(r), r["case_dir"], _row_args(r))] = r["path"]
            while running:
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in done:
                    path = running.pop(fut)
                    try:
                        res = fut.result()
                    except Exception as exc:  # a worker lost, a pickling error: recorded, batch goes on
                        res = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
                    index.set(path, status=res["status"], error=res.get("error"), finished=_now(),
                              wall_s=res.get("wall_s"), result=res.get("result"))
                    task.update(advance=1)
        finally:
            close()
        task.close()
        rows = [dict(r) for r in index.rows() if r["kind"] in ("video", "unreadable")]
        done_cases = {r["path"]: Path(r["case_dir"]) for r in rows if r["status"] == "done"}
        links = cross_links(done_cases)
        g = build_network(done_cases, links)
        membership = write_network(g, out)
        _record_links(done_cases, links, opts, progress)
        write_summary(rows, out, membership)
        table = write_batch_findings(rows, out)
        overview = write_overview(rows, out)
        failed = [{"path": r["path"], "error": r["error"] or ""} for r in rows if r["status"] == "failed"]
        return BatchResult(out, index.counts(), time.time() - t0, network_json(g), failed, table, overview)
    finally:
        index.close()
