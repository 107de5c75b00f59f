"""`lsf batch MANIFEST` (issue 16): one stream per row with its own page, chat and facts; signed
cases; a findings table with one row per finding and the same schema in every batch; an
index.html overview that sorts in a real browser and keeps hostile case text inert."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import run_lsf

from lsforensics.findings_table import COLUMN_NAMES

PAGES = Path(__file__).resolve().parent / "data" / "claims"
ENV = {"LSF_CONFIG": "none"}
FAST = ["--format", "html,json"]
HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">主播'


def _cut(src: Path, dst: Path, start: float, dur: float) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", str(start), "-i", str(src), "-t", str(dur),
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(dst)], check=True)
    return dst


@pytest.fixture(scope="module")
def manifest_batch(synth_stream, tmp_path_factory):
    """Four rows: four clips of the synthetic stream, each with its own page and chat."""
    root = tmp_path_factory.mktemp("manifest")
    pages = ["taobao_shorts.html", "douyin_belt.html", "jd_necklace.html", "microdata_coat.html"]
    rows = []
    for i, (start, page) in enumerate(zip((4.0, 22.0, 40.0, 58.0), pages, strict=True)):
        clip = _cut(synth_stream.video, root / f"clip{i}.mp4", start, 10.0)
        shutil.copy(PAGES / page, root / page)
        chat = root / f"chat{i}.jsonl"
        chat.write_text(json.dumps({"t": 2.0 + i, "user": f"viewer{i}", "text": f"第{i}场 这是正品吗"},
                                   ensure_ascii=False) + "\n", encoding="utf-8")
        rows.append({"video": clip.name, "page": page, "chat": chat.name, "platform": ["douyin", "kuaishou"][i % 2],
                     "room": f"room-{i}", "streamer": HOSTILE if i == 1 else f"主播{i}",
                     "captured_at": f"2026-06-1{i}T20:00:00+08:00", "url": f"https://live.example/{i}"})
    manifest = root / "streams.csv"
    with manifest.open("w", encoding="utf-8-sig", newline="") as fh:  # a BOM, as Excel writes it
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    key = root / "lab"
    run_lsf("keygen", "-o", key, env=ENV, check=True)
    out = root / "out"
    proc = run_lsf("batch", manifest, "-o", out, "--workers", "2", "--sign-key", f"{key}.key", *FAST, "--json",
                   env=ENV, timeout=2400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"root": root, "out": out, "rows": rows, "pub": Path(f"{key}.pub"), "result": json.loads(proc.stdout)}


def _cases(out: Path) -> list[Path]:
    return sorted(p for p in (out / "cases").iterdir() if p.is_dir())


def test_each_case_holds_its_own_page_chat_and_facts(manifest_batch) -> None:
    res = manifest_batch["result"]
    assert res["schema"] == "lsf.result/1" and res["command"] == "batch"
    assert res["counts"] == {"done": 4}, res["counts"]
    by_room = {}
    for case in _cases(manifest_batch["out"]):
        info = json.loads((case / "case.json").read_text(encoding="utf-8"))
        by_room[info["stream"]["room"]] = case
    assert sorted(by_room) == [f"room-{i}" for i in range(4)]
    for i, row in enumerate(manifest_batch["rows"]):
        case = by_room[f"room-{i}"]
        stream = json.loads((case / "case.json").read_text(encoding="utf-8"))["stream"]
        assert stream == {k: row[k] for k in ("platform", "room", "streamer", "captured_at", "url")}
        pages = [p.name for p in (case / "pages").iterdir() if p.is_file()]
        assert pages == [f"01-{row['page']}"], pages
        chat_copies = sorted(p.name for p in (case / "chat").iterdir())
        assert len(chat_copies) == 1 and row["chat"] in chat_copies[0], chat_copies
        assert (case / "pages" / pages[0]).read_bytes() == (PAGES / row["page"]).read_bytes()
        chat = json.loads((case / "chat.json").read_text(encoding="utf-8"))
        texts = [m["text"] for m in (chat["messages"] if isinstance(chat, dict) else chat)]
        assert texts == [f"第{i}场 这是正品吗"], texts
        report = json.loads((case / "report" / "report.json").read_text(encoding="utf-8"))
        assert [v for _label, v in report["stream"]] == [row[k] for k in ("platform", "room", "streamer",
                                                                           "captured_at", "url")]  # in the report
        # signed with the batch's key, verified against the public key given separately
        verify = run_lsf("verify", case, "--pubkey", manifest_batch["pub"], env=ENV)
        assert verify.returncode == 0, verify.stdout[-1500:]
    summary = list(csv.DictReader((manifest_batch["out"] / "summary.csv").open(encoding="utf-8")))
    assert sorted(r["room"] for r in summary) == [f"room-{i}" for i in range(4)]
    assert {r["platform"] for r in summary} == {"douyin", "kuaishou"}


def test_findings_table_one_row_per_finding_same_schema_as_another_batch(manifest_batch, realdata, tmp_path) -> None:
    out = manifest_batch["out"]
    table = pq.read_table(out / "findings.parquet")
    expected = sum(len(json.loads((c / "findings.json").read_text(encoding="utf-8"))["findings"])
                   for c in _cases(out))
    print(f"findings table: {table.num_rows} rows for {expected} findings in 4 cases; columns {table.column_names}")
    assert table.num_rows == expected > 0
    assert tuple(table.column_names) == COLUMN_NAMES
    import pyarrow as pa

    ev, bbox = table.schema.field("evidence").type, table.schema.field("bbox").type
    assert pa.types.is_list(ev) and ev.value_type == pa.string() and bbox.value_type == pa.float64()
    assert all(isinstance(v, list) for v in table.column("evidence").to_pylist())
    ids = list(zip(table.column("case_dir").to_pylist(), table.column("id").to_pylist(), strict=True))
    assert len(set(ids)) == len(ids), "a finding appears twice"
    rows = list(csv.DictReader((out / "findings.csv").open(encoding="utf-8")))
    assert len(rows) == expected and tuple(rows[0]) == COLUMN_NAMES
    assert all(isinstance(json.loads(r["evidence"]), list) for r in rows)  # lists as JSON lists, not a;b
    assert {r["room"] for r in rows} <= {f"room-{i}" for i in range(4)}
    # a second, different batch (one real video, a plain list, no manifest): the same schema
    src = tmp_path / "list.txt"
    src.write_text(str(realdata / "video_phone_room_dog_fire2.mp4") + "\n", encoding="utf-8")
    second = run_lsf("batch", src, "-o", tmp_path / "out2", "--format", "json", env=ENV, timeout=1200)
    assert second.returncode == 0, second.stderr[-2000:]
    other = pq.read_table(tmp_path / "out2" / "findings.parquet")
    assert other.schema.equals(table.schema, check_metadata=True), (other.schema, table.schema)
    print(f"second batch: {other.num_rows} rows, schema identical")


def test_a_bad_manifest_is_refused_before_anything_is_written(tmp_path, realdata) -> None:
    video = realdata / "video_phone_room_dog_fire2.mp4"
    cases = {
        "unknown.csv": (f"video,pgae\n{video},x\n", "unknown column 'pgae'"),
        "nopage.csv": (f"video,page\n{video},missing.html\n", "page missing.html: no such file"),
        "time.jsonl": (json.dumps({"video": str(video), "captured_at": "yesterday"}) + "\n", "captured_at 'yesterday'"),
        "novideo.jsonl": (json.dumps({"page": "x"}) + "\n", ":1: no video"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        proc = run_lsf("batch", path, "-o", tmp_path / f"out-{name}", env=ENV)
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], (name, proc.stderr)
        assert not (tmp_path / f"out-{name}").exists()


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed")
def test_overview_sorts_in_a_browser_and_keeps_case_text_inert(manifest_batch, tmp_path) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from test_report_html import DevTools

    index = manifest_batch["out"] / "index.html"
    html = index.read_text(encoding="utf-8")
    import re

    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|@import""", html), "loads from the network"
    assert HOSTILE not in html and "&lt;script&gt;window.__pwned=1" in html
    assert html.count('href="cases/') == 4
    dt = DevTools(tmp_path / "profile")
    try:
        target = dt.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = dt.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            dt.send(f"{domain}.enable", session=sid)

        def rows() -> list[dict]:
            expr = ("JSON.stringify(Array.from(document.querySelectorAll('#cases tbody tr')).map(r => ({"
                    "severity: +r.dataset.severity, brand: r.dataset.brand, room: r.cells[4].innerText,"
                    "link: r.querySelector('a') && r.querySelector('a').getAttribute('href')})))")
            return json.loads(dt.send("Runtime.evaluate", {"expression": expr, "returnByValue": True},
                                      session=sid)["result"]["value"])

        dt.send("Page.navigate", {"url": index.as_uri() + "#sort=severity"}, session=sid)
        dt.wait_event("Page.loadEventFired", timeout=120)
        by_sev = rows()
        assert [r["severity"] for r in by_sev] == sorted((r["severity"] for r in by_sev), reverse=True)
        assert all(r["link"] and (index.parent / r["link"]).is_file() for r in by_sev)
        click = "document.querySelector('button[data-sort=brand]').click(); 1"
        dt.send("Runtime.evaluate", {"expression": click}, session=sid)
        by_brand = rows()
        assert [r["brand"] for r in by_brand] == sorted(r["brand"] for r in by_brand), by_brand
        dt.send("Runtime.evaluate", {"expression": click}, session=sid)  # a second click: the other way
        assert [r["brand"] for r in rows()] == sorted((r["brand"] for r in by_brand), reverse=True)
        pwned = dt.send("Runtime.evaluate", {"expression": "String(window.__pwned)", "returnByValue": True},
                        session=sid)["result"]["value"]
        assert pwned == "undefined", "case text ran as script"
        text = dt.send("Runtime.evaluate", {"expression": "document.body.innerText", "returnByValue": True},
                       session=sid)["result"]["value"]
        assert "<script>window.__pwned=1</script>" in text  # shown as text
        errors = [e for e in dt.events if e.get("method") in ("Runtime.exceptionThrown",)
                  or (e.get("method") == "Log.entryAdded" and e["params"]["entry"].get("level") == "error")]
        assert not errors, errors
        print("severity order:", [r["severity"] for r in by_sev], "brand order:", [r["brand"] for r in by_brand])
    finally:
        dt.close()
