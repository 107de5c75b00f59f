"""Chat readers on the real Bilibili danmaku and YouTube replay files, plus the simple formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lsforensics.chat import read_chat
from lsforensics.errors import InputError


def test_bilibili_danmaku_real(realdata: Path) -> None:
    msgs = read_chat(realdata / "chat_bilibili_danmaku01.xml")
    assert len(msgs) == 1200  # MANIFEST: 1200 <d> comments over 0-180.5 s
    ts = [m.t for m in msgs]
    assert min(ts) == 0.0 and 180.0 <= max(ts) <= 180.6
    assert msgs[0].text == "才发现歌是喵酱自己唱的啊啊太棒了" and msgs[0].t == pytest.approx(0.479)
    assert msgs[0].user == "5bd04b14" and msgs[0].source_format == "bilibili_xml"
    assert all(m.text for m in msgs)


def test_youtube_replay_real(realdata: Path) -> None:
    msgs = read_chat(realdata / "chat_youtube_livechat_replay.json")
    # MANIFEST: 47 text messages + 1 paid (Super Chat) message.
    assert len(msgs) == 48
    assert msgs[0].text == "や" and msgs[0].user == "だにょぉぉーん Frisk" and msgs[0].t == pytest.approx(101.308)
    assert all(m.source_format == "youtube_json" for m in msgs)


def test_youtube_jsonl_from_yt_dlp(realdata: Path, tmp_path: Path) -> None:
    doc = json.loads((realdata / "chat_youtube_livechat_replay.json").read_text(encoding="utf-8"))
    actions = doc["continuationContents"]["liveChatContinuation"]["actions"]
    lines = [json.dumps({"replayChatItemAction": a["replayChatItemAction"],
                         "videoOffsetTimeMsec": a["replayChatItemAction"].get("videoOffsetTimeMsec")},
                        ensure_ascii=False) for a in actions if "replayChatItemAction" in a]
    p = tmp_path / "live_chat.json"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert [m.text for m in read_chat(p)] == [m.text for m in read_chat(realdata / "chat_youtube_livechat_replay.json")]


def test_jsonl_and_csv(tmp_path: Path) -> None:
    j = tmp_path / "c.jsonl"
    j.write_text('{"t": 1.5, "user": "a", "text": "是正品吗"}\n\n{"t": 2, "text": "好"}\n', encoding="utf-8")
    assert [(m.t, m.user, m.text, m.source_format) for m in read_chat(j)] == [
        (1.5, "a", "是正品吗", "jsonl"), (2.0, "", "好", "jsonl")]
    c = tmp_path / "c.csv"
    c.write_text("t,user,text\n3.25,bob,\"假的吧, 这么便宜\"\n", encoding="utf-8")
    assert [(m.t, m.user, m.text) for m in read_chat(c)] == [(3.25, "bob", "假的吧, 这么便宜")]


@pytest.mark.parametrize(("name", "content", "needle"), [
    ("a.xml", '<i>\n<d p="1,1">ok</d>\n<d>no p</d>\n</i>', "a.xml:3: <d> without the p="),
    ("b.xml", '<i>\n<d p="x,1">bad time</d>\n</i>', "b.xml:2: bad time 'x'"),
    ("c.xml", '<i>\n<d p="1,1">unclosed\n</i>', "c.xml:3: invalid XML"),
    ("d.xml", '<!DOCTYPE i [<!ENTITY a "aaaa">]><i><d p="1">&a;</d></i>', "d.xml:1: XML entity declarations"),
    ("e.jsonl", '{"t": 1, "text": "ok"}\n{"t": 2, "text": "ok"\n', "e.jsonl:2: invalid JSON"),
    ("f.jsonl", '{"t": 1, "text": "ok"}\n{"user": "x", "text": "no time"}\n', "f.jsonl:2: missing t"),
    ("g.jsonl", '{"t": -4, "text": "neg"}\n', "g.jsonl:1: bad t"),
    ("h.csv", "time,text\n1,a\n", "h.csv:1: CSV header must name t, user, text"),
    ("i.csv", "t,user,text\n1,a,b,c\n", "i.csv:2: more fields"),
    ("j.json", '{"foo": 1}', "j.json:1"),
    ("k.txt", "just words", "k.txt:1: unknown chat format"),
    ("l.jsonl", "", "l.jsonl:1: empty chat file"),
])
def test_malformed_chat_names_file_and_line(tmp_path: Path, name: str, content: str, needle: str) -> None:
    p = tmp_path / name
    p.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_chat(p)
    assert needle in str(exc.value), str(exc.value)


def test_not_utf8(tmp_path: Path) -> None:
    p = tmp_path / "gbk.jsonl"
    p.write_bytes('{"t": 1, "text": "ok"}\n{"t": 2, "text": "假的吧"}\n'.encode("gbk"))
    with pytest.raises(InputError, match=r"gbk.jsonl:2: not UTF-8"):
        read_chat(p)
