"""`lsf batch`: discovery by probing, dedup, failure isolation, resume after kill -9, Dask cluster."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import LSF, REAL_VIDEOS

FAST = ["--format", "json"]  # batch tests check the batch, not the PDF renderer


def _cut(src: Path, dst: Path, start: float, dur: float) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", str(start), "-i", str(src), "-t", str(dur),
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(dst)], check=True)
    return dst


@pytest.fixture(scope="module")
def archive(realdata: Path, synth_stream, tmp_path_factory) -> Path:
    """An archive like a firm's: real clips in sub-folders, odd names, a duplicate, junk, a corrupt file."""
    root = tmp_path_factory.mktemp("archive")
    (root / "2026-06" / "主播A").mkdir(parents=True)
    (root / "2026-07").mkdir()
    for i, name in enumerate(REAL_VIDEOS):
        dest = root / ("2026-06" if i % 2 else "2026-07") / name.replace("video_", "rec_").rsplit(".", 1)[0]
        shutil.copy(realdata / name, dest)  # no extension: found by probing, not by name
    for i, start in enumerate((4.0, 26.0, 66.0)):
        _cut(synth_stream.video, root / "2026-06" / "主播A" / f"直播片段 {i}.mp4", start, 12.0)
    # the same clip re-uploaded by another account: re-encoded, so different bytes (not a duplicate)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(root / "2026-06" / "主播A" / "直播片段 0.mp4"),
                    "-c:v", "libx264", "-crf", "30", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "64k",
                    str(root / "2026-07" / "reupload.mp4")], check=True)
    shutil.copy(realdata / REAL_VIDEOS[0], root / "2026-07" / "copy of first.mkv")  # same bytes: a duplicate
    data = synth_stream.video.read_bytes()
    (root / "2026-07" / "corrupt.mp4").write_bytes(data[: len(data) // 3])
    (root / "2026-07" / "notes.txt").write_text("不是视频\n", encoding="utf-8")
    (root / "2026-07" / "cover.jpg").write_bytes((realdata / "img_iconic_arla_milk.jpg").read_bytes())
    return root


def _rows(out: Path) -> dict[str, dict]:
    db = sqlite3.connect(out / "index.sqlite")
    db.row_factory = sqlite3.Row
    rows = {Path(r["path"]).name: dict(r) for r in db.execute("SELECT * FROM files")}
    db.close()
    return rows


@pytest.mark.slow
def test_batch_kill_resume_summary_network(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [str(LSF), "batch", str(archive), "-o", str(out), "--workers", "2", *FAST]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 900
    done_before: dict[str, dict] = {}
    while time.time() < deadline:
        if (out / "index.sqlite").exists():
            try:
                rows = _rows(out)
            except sqlite3.OperationalError:
                rows = {}
            done_before = {k: v for k, v in rows.items() if v["status"] == "done"}
            if len(done_before) >= 3:
                break
        if proc.poll() is not None:
            pytest.fail(f"batch ended before it could be killed: {proc.stderr.read()}")
        time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(1)
    assert len(done_before) >= 3
    custody_before = {k: (Path(v["case_dir"]) / "custody.jsonl").read_bytes() for k, v in done_before.items()}

    t0 = time.time()
    again = subprocess.run(cmd + ["--resume", "--json"], capture_output=True, text=True, timeout=1800)
    print(f"resume took {time.time() - t0:.0f} s")
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    rows = _rows(out)
    # finished videos were not redone: same finish time, one attempt, custody untouched
    for name, before in done_before.items():
        assert rows[name]["finished"] == before["finished"]
        assert rows[name]["attempts"] == 1
        # not redone: the custody log only grew by the batch's cross-stream links (links.json,
        # then the refreshed report and seal), which the killed run never reached
        after = (Path(before["case_dir"]) / "custody.jsonl").read_bytes()
        assert after.startswith(custody_before[name]), name
        added = [json.loads(x)["action"] for x in after[len(custody_before[name]):].splitlines() if x.strip()]
        assert set(added) <= {"links", "report", "seal"}, (name, added)
    status = {k: v["status"] for k, v in rows.items()}
    print(status)
    # the first path in sorted order is the original, the other copy the duplicate
    pair = ["copy of first.mkv", "rec_zh_en_autocut_test001"]
    assert sorted(status[k] for k in pair) == ["done", "duplicate"]
    dup_name = next(k for k in pair if status[k] == "duplicate")
    good = [k for k in status if (k.startswith("rec_") or k.startswith("直播片段") or k in pair
                                  or k == "reupload.mp4") and k != dup_name]
    assert len(good) == 10 and all(status[k] == "done" for k in good)
    assert status["corrupt.mp4"] == "failed" and "not a readable media file" in rows["corrupt.mp4"]["error"]
    dup = rows[dup_name]
    assert Path(dup["duplicate_of"]).name == next(k for k in pair if k != dup_name)
    assert status["notes.txt"] == "not_video" and status["cover.jpg"] == "not_video"
    assert result["failed"] and result["failed"][0]["path"].endswith("corrupt.mp4")
    # summaries: one row per video (good + duplicate + corrupt), the same in CSV and Parquet
    csv = pd.read_csv(out / "summary.csv")
    pq = pd.read_parquet(out / "summary.parquet")
    assert len(csv) == len(pq) == 12
    assert set(csv["status"]) == {"done", "duplicate", "failed"}
    for col in ("findings", "severity_high", "brands", "strongest", "duration_s", "cluster"):
        assert col in csv.columns
    synth_rows = csv[csv["path"].str.contains("直播片段")]
    assert (synth_rows["findings"] > 0).all(), synth_rows[["path", "findings"]]
    # every good case verifies
    for k in good:
        v = subprocess.run([str(LSF), "verify", rows[k]["case_dir"]], capture_output=True, text=True)
        assert v.returncode == 4 and "INTACT BUT UNANCHORED" in v.stdout, (k, v.stdout[-500:], v.stderr)
    # the network: the synthetic clips share brands/terms and end up clustered together
    import networkx as nx

    g = nx.read_graphml(out / "network.graphml")
    assert g.number_of_nodes() == 10
    node = {Path(n).name: n for n in g.nodes}
    print("clusters:", result["network"]["clusters"])
    # the re-upload is tied to its original by near-identical frames (and their shared terms)
    edge = g.edges[node["直播片段 0.mp4"], node["reupload.mp4"]]
    assert edge["near_duplicate_frames"] > 0, edge
    # two clips selling Louis Vuitton copies (驴牌/老花 and 老花) are linked by the brand
    link = g.get_edge_data(node["直播片段 0.mp4"], node["直播片段 2.mp4"])
    assert link and "Louis Vuitton" in link["brands"], link
    cl = g.nodes[node["直播片段 0.mp4"]]["cluster"]
    assert cl and g.nodes[node["reupload.mp4"]]["cluster"] == cl == g.nodes[node["直播片段 2.mp4"]]["cluster"]
    # a cartoon with music has nothing in common with them
    assert g.nodes[node["rec_webm_big_buck_bunny_0_30"]]["cluster"] != cl
    assert (out / "network.png").stat().st_size > 10_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_batch_on_local_dask_cluster(realdata: Path, tmp_path: Path) -> None:
    """Scheduler and worker as separate processes on 127.0.0.1; lsf submits to the address."""
    src = tmp_path / "in"
    src.mkdir()
    for name in ("video_countdown_silent_audio_in1.mp4", "video_phone_room_dog_fire2.mp4"):
        shutil.copy(realdata / name, src / name)
    port = _free_port()
    bindir = Path(sys.executable).parent
    sched = subprocess.Popen([str(bindir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                              "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        worker = subprocess.Popen([str(bindir / "dask"), "worker", f"tcp://127.0.0.1:{port}", "--nworkers", "1",
                                   "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out = tmp_path / "out"
        proc = subprocess.run([str(LSF), "batch", str(src), "-o", str(out), "--cluster", f"tcp://127.0.0.1:{port}",
                               "--json", *FAST], capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stderr
        res = json.loads(proc.stdout)
        assert res["counts"] == {"done": 2}
        for row in _rows(out).values():
            assert (Path(row["case_dir"]) / "findings.json").exists()
    finally:
        for p in (worker, sched):
            if p is not None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()


def test_batch_bad_input(tmp_path: Path) -> None:
    proc = subprocess.run([str(LSF), "batch", str(tmp_path / "missing"), "-o", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith("lsf: error:") and "Traceback" not in proc.stderr
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "index.sqlite").write_bytes(b"")
    (tmp_path / "in").mkdir()
    proc = subprocess.run([str(LSF), "batch", str(tmp_path / "in"), "-o", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "--resume" in proc.stderr
    proc = subprocess.run([str(LSF), "batch", str(tmp_path / "in"), "-o", str(tmp_path / "o2"), "--cluster",
                           f"tcp://127.0.0.1:{_free_port()}"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Dask scheduler" in proc.stderr, proc.stderr
