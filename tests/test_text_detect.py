"""The text detectors inside the detect stage and `lsf detect`, on a real (small) extracted case
with hand-built transcript.json / ocr.json and real chat logs."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lsforensics._cli.main import cli
from lsforensics.case import Case
from lsforensics.detect.stage import DetectStage, load_detectors
from lsforensics.detect.text import detect_screen, detect_speech, matcher_for
from lsforensics.rules import load_rules
from lsforensics.stage import run_stage


def _words(text: str, t0: float, step: float = 0.25) -> list[dict]:
    return [{"start": round(t0 + i * step, 3), "end": round(t0 + (i + 1) * step, 3), "word": ch, "p": 0.9}
            for i, ch in enumerate(text)]


def _transcript(*segments: tuple[str, float], candidates: list[dict] | None = None, words: bool = True) -> dict:
    segs = []
    for text, t0 in segments:
        w = _words(text, t0) if words else []
        segs.append({"start": t0, "end": round(t0 + 0.25 * len(text), 3), "text": text, "raw_text": text, "words": w})
    return {"schema": "lsf.transcript/1", "language": "zh", "backend": "hand", "model": {}, "segments": segs,
            "candidates": candidates or []}


@pytest.fixture(scope="module")
def matcher():
    return matcher_for(load_rules())


@pytest.fixture(scope="module")
def small_case_root(realdata, tmp_path_factory) -> Path:
    from lsforensics.extract import extract

    root = tmp_path_factory.mktemp("textdetect") / "case"
    extract(realdata / "video_countdown_silent_audio_in1.mp4", root)
    return root


@pytest.fixture
def case(small_case_root, tmp_path) -> Case:
    dest = tmp_path / "case"
    shutil.copytree(small_case_root, dest)
    return Case(dest)


def test_speech_times_come_from_word_timestamps(matcher) -> None:
    tr = _transcript(("家人们晚上好", 0.5), ("这款小箱的包包今天福利价", 3.0))
    found = detect_speech(tr, matcher)
    f = next(f for f in found if f.term == "小香")
    # 小箱 = characters 2-3 of the second segment: words at 3.0 + 2*0.25 .. 3.0 + 4*0.25
    assert (f.start, f.end) == (3.5, 4.0)
    assert f.matched == "小箱" and f.match == "pinyin" and f.source == "speech"
    assert f.quote == "这款小箱的包包今天福利价" and f.brand == "Chanel" and f.extra["timing"] == "words"
    assert f.extra["law"] and "Chanel" in (f.explanation or "")


def test_speech_without_words_interpolates_and_says_so(matcher) -> None:
    tr = _transcript(("今天的包都是一比一复刻的", 10.0), words=False)
    f = next(f for f in detect_speech(tr, matcher) if f.term == "一比一复刻")
    assert 10.0 < f.start < f.end <= 13.0 and f.extra["timing"] == "interpolated"


def test_redecode_only_accepted_and_not_duplicated(matcher) -> None:
    cands = [
        {"term": "高仿", "start": 2.0, "end": 2.5, "heard": "高仿", "unbiased": "勾访", "similarity": 0.7,
         "accepted": True, "method": "biased_redecode"},
        {"term": "莆田纯原", "start": 2.6, "end": 3.2, "heard": "莆田纯原", "unbiased": "不填纯圆", "similarity": 0.8,
         "accepted": False, "method": "biased_redecode"},
        # Heard by the record already: no second finding.
        {"term": "小香", "start": 5.5, "end": 6.0, "heard": "小香", "unbiased": "小箱", "similarity": 1.0,
         "accepted": True, "method": "biased_redecode"},
        # Short term heard only under bias with no context around it (百达 for 百搭 of a shirt).
        {"term": "百达", "start": 9.5, "end": 10.0, "heard": "百达", "unbiased": "摆搭", "similarity": 1.0,
         "accepted": True, "method": "biased_redecode"},
    ]
    tr = _transcript(("迪家的托特包勾访里面最好", 0.5), ("这款小箱的包包", 5.0), ("这件衬衫颜色很摆搭", 8.0),
                     candidates=cands)
    found = detect_speech(tr, matcher)
    red = [f for f in found if f.match == "redecode"]
    assert [(f.term, f.start, f.end, f.matched) for f in red] == [("高仿", 2.0, 2.5, "勾访")]
    assert red[0].confidence == pytest.approx(0.56) and red[0].extra["heard_biased"] == "高仿"
    assert sum(1 for f in found if f.term == "小香") == 1
    assert not any(f.term in ("莆田纯原", "百达") for f in found)


def test_screen_findings_merge_frames_and_keep_boxes(matcher) -> None:
    items = [{"frame": f"media/frames/{int(t * 1000):09d}.jpg", "t": t, "text": "原版1:1¥199", "raw": "原版1:1￥199",
              "box": [10, 20, 200, 40], "score": 0.95} for t in (2.0, 4.0, 6.0)]
    items += [{"frame": "media/frames/000030000.jpg", "t": 30.0, "text": "原版1:1¥199", "box": [10, 20, 200, 40],
               "score": 0.9}]
    found = detect_screen(items, matcher)
    one = [f for f in found if f.term == "1:1"]
    assert [(f.start, f.end) for f in one] == [(2.0, 6.0), (30.0, 30.0)]  # a 24 s gap starts a new finding
    assert one[0].bbox == [10.0, 20.0, 200.0, 40.0] and one[0].quote == "原版1:1￥199"
    assert one[0].evidence == ["media/frames/000002000.jpg", "media/frames/000004000.jpg", "media/frames/000006000.jpg"]
    assert one[0].extra["frames_seen"] == 3
    # 原版 alone needs context: the price on the same frame gives it.
    assert any(f.term == "原版" and f.extra.get("context") for f in found)


def test_registry_orders_detectors() -> None:
    names = [d.name for d in load_detectors()]
    assert {"text.speech", "text.screen", "text.chat"} <= set(names)
    orders = [d.order for d in load_detectors()]
    assert orders == sorted(orders)


def test_detect_stage_writes_findings_and_is_idempotent(case: Case, realdata: Path) -> None:
    (case.root / "transcript.json").write_text(json.dumps(_transcript(
        ("这款小香的包包今天福利价和原版一模一样", 1.0), ("这个精华是全网最好的效果第一", 4.0)), ensure_ascii=False))
    r1 = run_stage(case, DetectStage())
    doc = json.loads(case.findings_json.read_text(encoding="utf-8"))
    assert doc["schema"] == "lsf.findings/1" and doc["source_sha256"] == case.source["sha256"]
    assert doc["rules_sha256"] == load_rules().sha256
    kinds = {f["kind"] for f in doc["findings"]}
    assert {"brand_codeword", "counterfeit_slang", "absolute_claim"} <= kinds
    assert all(re.fullmatch(r"F[0-9a-f]{10}", f["id"]) for f in doc["findings"])  # stable ids (findings.py)
    assert [f["n"] for f in doc["findings"]] == list(range(1, len(doc["findings"]) + 1))  # display numbers
    assert not r1.skipped and run_stage(case, DetectStage()).skipped
    # A changed input reruns detection.
    (case.root / "transcript.json").write_text(json.dumps(_transcript(("今天没有什么", 1.0)), ensure_ascii=False))
    assert not run_stage(case, DetectStage()).skipped
    last = [json.loads(x) for x in case.custody.read_text().splitlines()][-1]
    assert last["action"] == "detect" and any(i["path"] == "transcript.json" for i in last["inputs"])


@pytest.mark.slow
def test_cli_detect_with_chat_and_fail_on(case: Case, realdata: Path, lsf, tmp_path: Path) -> None:
    (case.root / "transcript.json").write_text(json.dumps(_transcript(("我们家的鋁牌老花包都是一比一复刻的", 1.0)),
                                                          ensure_ascii=False))
    chat = tmp_path / "viewers.jsonl"
    chat.write_text('{"t": 3.5, "user": "u1", "text": "主播这是正品吗"}\n{"t": 4, "user": "u2", "text": "好看"}\n',
                    encoding="utf-8")
    r = lsf("detect", "-C", case.root, "--chat", chat, "--chat", realdata / "chat_bilibili_danmaku01.xml", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [s["name"] for s in out["stages"]] == ["rules", "chat", "detect"]  # rules archived on first use
    doc = json.loads(case.findings_json.read_text(encoding="utf-8"))
    doubt = [f for f in doc["findings"] if f["kind"] == "viewer_doubt"]
    assert [(f["source"], f["start"], f["user"], f["quote"]) for f in doubt] == [("chat", 3.5, "u1", "主播这是正品吗")]
    assert (case.root / "chat" / "viewers.jsonl").read_bytes() == chat.read_bytes()
    assert (case.root / "chat" / "chat_bilibili_danmaku01.xml").is_file()
    messages = json.loads((case.root / "chat.json").read_text(encoding="utf-8"))
    assert len(messages) == 1202 and messages == sorted(messages, key=lambda m: m["t"])
    # --fail-on: exit 1 when a finding at or above the severity exists; low catches everything.
    assert lsf("detect", "-C", case.root, "--fail-on", "high", "-q").returncode == 1
    r = lsf("detect", "-C", case.root)
    assert r.returncode == 0 and "up to date" in r.stdout


def test_cli_bad_input_exits_2_naming_file_and_line(case: Case, lsf, tmp_path: Path) -> None:
    bad_yaml = tmp_path / "r1"
    bad_yaml.mkdir()
    (bad_yaml / "extra.yaml").write_text("kind: slang\nrules:\n  - id: x\n    terms: [a, b\n", encoding="utf-8")
    missing = tmp_path / "r2"
    missing.mkdir()
    (missing / "mine.yaml").write_text(
        "kind: slang\nrules:\n  - id: ok\n    terms: [假货]\n    severity: high\n    law: x\n"
        "    explanation: {zh: 假, en: fake}\n  - id: broken\n    terms: [仿货]\n    law: x\n"
        "    explanation: {zh: 仿, en: copy}\n", encoding="utf-8")
    empty = tmp_path / "r3"
    empty.mkdir()
    number = tmp_path / "r4"
    number.mkdir()
    (number / "n.yaml").write_text("kind: slang\nrules:\n  - id: n\n    terms: [1:1]\n    severity: high\n"
                                   "    law: x\n    explanation: {zh: a, en: b}\n", encoding="utf-8")
    chat = tmp_path / "chat.xml"
    chat.write_text('<?xml version="1.0"?><i>\n<d p="1.0,1,25">ok</d>\n<d p="2.0,1,25">broken</i>\n', encoding="utf-8")
    cases = [
        (["--rules", bad_yaml], "r1/extra.yaml:5: invalid YAML"),
        (["--rules", missing], "r2/mine.yaml:8: rule 'broken': 'severity'"),
        (["--rules", empty], "holds no *.yaml"),
        (["--rules", number], "r4/n.yaml:4"),
        (["--chat", chat], f"{chat}:3"),
        (["--chat", tmp_path / "nope.jsonl"], "does not exist"),
    ]
    runner = CliRunner()
    for args, needle in cases:
        r = runner.invoke(cli, ["detect", "-C", str(case.root), *map(str, args)])
        assert r.exit_code == 2, (args, r.output)
        assert needle in r.stderr, (needle, r.stderr)
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not case.findings_json.exists()
    # And once as a real process: exit status and a single line on stderr.
    r = lsf("detect", "-C", case.root, "--rules", missing)
    assert r.returncode == 2 and r.stderr.startswith("lsf: error: r2/mine.yaml:8:") and "Traceback" not in r.stderr
    r = lsf("detect", "-C", tmp_path / "not-a-case")
    assert r.returncode == 2 and "not a case folder" in r.stderr
