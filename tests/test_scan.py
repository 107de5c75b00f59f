"""``lsf scan FILE``: TXT / TSV / CSV / JSONL in, findings as JSONL or CSV out; bad input is one
line and exit 2, before anything is written."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lsforensics._cli.main import cli
from lsforensics.detect.text import matcher_for
from lsforensics.rules import load_rules
from lsforensics.scan import ScanLine, read_scan_file, scan_lines


def _run(*args: str | Path) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, ["scan", *map(str, args)])
    return r.exit_code, r.stdout, r.stderr


def test_txt_one_message_per_line(tmp_path: Path) -> None:
    p = tmp_path / "export.txt"
    p.write_text("家人们晚上好\n\n这款小香的包包，和原版一模一样\n这个精华是全网最好的\n", encoding="utf-8")
    code, out, _ = _run(p)
    assert code == 0
    rows = [json.loads(x) for x in out.splitlines()]
    assert {(r["line"], r["term"]) for r in rows} >= {(3, "小香"), (3, "和原版一模一样"), (4, "全网最好")}
    r = next(r for r in rows if r["term"] == "小香")
    assert r["quote"] == "这款小香的包包，和原版一模一样" and r["source"] == "speech" and r["brand"] == "Chanel"
    assert r["rule"] == "brands/chanel.codewords" and r["law"] and r["explanation"]


def test_tsv_columns_csv_output_and_sources(tmp_path: Path) -> None:
    p = tmp_path / "dump.tsv"
    p.write_text("id\tsource\tt\tuser\ttext\tnote\n"
                 "m1\tchat\t12.5\tu1\t主播这是正品吗\tx\n"
                 "m2\tchat\t13\tu2\t全网最好\t\n"  # viewers are no advertisers
                 "m3\tscreen\t\t\t全网最好\t\n", encoding="utf-8")
    code, out, _ = _run(p, "--output", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["line"], r["id"], r["source"], r["kind"]) for r in rows] == [
        ("2", "m1", "chat", "viewer_doubt"), ("4", "m3", "screen", "absolute_claim")]
    assert rows[0]["t"] == "12.5" and rows[0]["user"] == "u1"


def test_jsonl_json_summary_and_out_file(tmp_path: Path) -> None:
    p = tmp_path / "ads.jsonl"
    p.write_text('{"text": "莆田纯原，可过得物", "source": "screen"}\n{"text": "包邮"}\n', encoding="utf-8")
    out = tmp_path / "f.jsonl"
    code, stdout, _ = _run(p, "-o", out, "--json")
    assert code == 0
    summary = json.loads(stdout)
    assert summary["lines"] == 2 and summary["findings"] >= 2 and summary["format"] == "jsonl"
    assert summary["rules_sha256"] == load_rules().sha256 and len(summary["sha256"]) == 64
    assert [json.loads(x)["term"] for x in out.read_text(encoding="utf-8").splitlines()][:1] == ["莆田纯原"]
    code, stdout, _ = _run(p, "--json")
    assert code == 0 and json.loads(stdout)["findings"][0]["source"] == "screen"


def test_fail_on_and_gb18030(tmp_path: Path) -> None:
    p = tmp_path / "gbk.txt"
    p.write_bytes("这双鞋是一比一复刻的\n".encode("gb18030"))
    assert _run(p, "--fail-on", "high")[0] == 1
    lines, fmt, enc = read_scan_file(p)
    assert enc == "gb18030" and lines[0].text == "这双鞋是一比一复刻的"


def test_lines_of_a_stream_give_each_other_context() -> None:
    m = matcher_for(load_rules())
    lines = [ScanLine(1, "今天给大家介绍这台制氧机", "speech"), ScanLine(2, "它是医用级的", "speech")]
    assert scan_lines(lines, m) == []  # the product in play is a medical device
    assert [f.term for f in scan_lines(lines, m, each_line=True)] == ["医用级"]
    chat = [ScanLine(1, "这个包包", "chat"), ScanLine(2, "椰子", "chat")]
    assert scan_lines(chat, m) == []  # one viewer's words are no context for another's


@pytest.mark.parametrize(("name", "content", "args", "needle"), [
    ("none.tsv", "user\tmsg\nu\thi\n", [], "none.tsv:1: the header must name a 'text' column"),
    ("bad.tsv", "text\tsource\nhi\tradio\n", [], "bad.tsv:2: source 'radio' is not one of speech, screen, chat"),
    ("t.csv", "text,t\nhi,-3\n", [], "t.csv:2: bad t '-3' (seconds >= 0 expected)"),
    ("j.jsonl", '{"text": "ok"}\n{"text": \n', [], "j.jsonl:2: invalid JSON"),
    ("deep.jsonl", "[" * 100000 + "]" * 100000 + "\n", [], "deep.jsonl:1: "),
    ("n.jsonl", '{"text": 5}\n', [], "n.jsonl:1: 'text' must be a string"),
    ("long.txt", "长" * 100_001 + "\n", [], "long.txt:1: a line of 100001 characters"),
    ("bin.txt", "ok\n\x00\x01\n", [], "bin.txt:2: binary data"),
    ("empty.txt", "\n\n", [], "empty.txt:1: no text to scan"),
    ("nope.txt", None, [], "nope.txt does not exist"),
    ("x.txt", "hi\n", ["--rules", "/nonexistent-rules"], "rules folder /nonexistent-rules does not exist"),
])
def test_bad_input_is_one_line_exit_2(tmp_path: Path, name: str, content: str | None, args: list[str],
                                      needle: str) -> None:
    p = tmp_path / name
    if content is not None:
        p.write_text(content, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, stdout, stderr = _run(p, "-o", out, *args)
    assert code == 2, (code, stderr)
    assert needle in stderr and len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr, stderr
    assert not out.exists()  # nothing written


def test_scan_as_a_real_process(tmp_path: Path, lsf) -> None:  # noqa: ANN001
    p = tmp_path / "x.txt"
    p.write_text("这款是高仿的，懂的都懂\n", encoding="utf-8")
    r = lsf("scan", p)
    assert r.returncode == 0 and "高仿" in r.stdout and r.stderr == ""
    r = lsf("scan", tmp_path / "missing.txt")
    assert r.returncode == 2 and r.stderr.startswith("lsf: error:") and "Traceback" not in r.stderr
