"""Stable finding ids and the one findings reader (``FindingsDoc``).

An id is derived from what the finding is, so a reviewer's decision keeps naming the same
finding after ``lsf detect`` reruns, and after other findings appear or disappear.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lsforensics._cli.main import cli
from lsforensics.case import Case
from lsforensics.errors import InputError
from lsforensics.findings import Finding, FindingsDoc, assign_ids, findings_document, timecode


def _f(kind: str = "counterfeit_slang", start: float = 1.0, matched: str = "原版", **kw) -> Finding:
    base = {"source": "speech", "end": None if start is None else start + 0.5, "rule": f"slang/{matched}", "severity": "high",
            "confidence": 0.9, "term": matched, "matched": matched, "quote": f"今天{matched}"}
    base.update(kw)
    return Finding(kind=kind, start=start, **base)


def test_ids_come_from_the_finding_not_its_position() -> None:
    a = [_f(start=1.0), _f(start=2.5, matched="高仿"), _f(kind="absolute_claim", start=2.5, matched="最好"),
         _f(kind="masked_logo", source="frame", start=4.0, matched=None, term=None, bbox=[1, 2, 3, 4])]
    first = {f.identity()["kind"] + str(f.identity()["start_ms"]): f.id for f in assign_ids(a)}
    shuffled = [Finding.from_dict(f.to_dict()) for f in a]
    random.Random(3).shuffle(shuffled)
    for f in shuffled:
        f.id = f.n = None
    again = {f.identity()["kind"] + str(f.identity()["start_ms"]): f.id for f in assign_ids(shuffled)}
    assert first == again and len(set(first.values())) == 4
    assert all(re.fullmatch(r"F[0-9a-f]{10}", i) for i in first.values())
    # A new finding earlier in the stream shifts the display numbers, never the ids.
    more = [Finding.from_dict({**f.to_dict(), "id": None, "n": None}) for f in a] + [_f(start=0.2, matched="复刻")]
    ordered = assign_ids(more)
    assert ordered[0].matched == "复刻" and ordered[0].n == 1
    assert {f.id for f in ordered} >= set(first.values())
    print("ids:", sorted(first.values()))


def test_findings_that_share_an_identity_still_get_distinct_ids() -> None:
    # Two masked regions in the same frame by the same rule: same kind/rule/source/time/matched.
    twins = [_f(kind="masked_logo", start=3.0, matched="tape", bbox=[10, 10, 40, 40]),
             _f(kind="masked_logo", start=3.0, matched="tape", bbox=[200, 10, 40, 40])]
    exact = [_f(start=5.0), _f(start=5.0)]  # true duplicates: told apart by a suffix
    ids = [f.id for f in assign_ids(twins + exact)]
    assert len(set(ids)) == 4, ids
    assert sum(i.endswith("-2") for i in ids) == 1
    assert ids == [f.id for f in assign_ids([Finding.from_dict(f.to_dict()) for f in twins + exact])]


def test_findings_doc_reads_sorts_and_summarises(tmp_path: Path) -> None:
    doc = findings_document([_f(start=9.0, severity="low", confidence=0.5), _f(start=1.0, matched="高仿"),
                             _f(kind="brand_mention", start=None, matched="香奈儿", brand="Chanel")],
                            source_sha256="ab" * 32, rules_sha256="cd" * 32)
    path = tmp_path / "findings.json"
    path.write_text(json.dumps(doc, ensure_ascii=False))
    fd = FindingsDoc.load(path)
    assert [f.n for f in fd] == [1, 2, 3] and fd.in_time_order()[-1].start is None
    assert fd.strongest(1)[0].matched == "高仿"
    s = fd.summary()
    assert s["by_severity"] == {"high": 2, "medium": 0, "low": 1} and s["brands"] == ["Chanel"]
    assert fd.digests[fd.findings[0].id] == fd.findings[0].digest()
    assert timecode(3725.5) == "01:02:05.500" and timecode(None) == "—" and timecode(float("nan"), empty="") == ""
    # Bad files are one-line input errors, not tracebacks.
    for bad, msg in [("[]", "no 'findings' list"), ('{"findings": [{"kind": 1}]}', "'kind' must be"),
                     ("{", "not valid JSON")]:
        path.write_text(bad)
        with pytest.raises(InputError, match=msg):
            FindingsDoc.load(path)
    dup = dict(doc, findings=[doc["findings"][0], doc["findings"][0]])
    path.write_text(json.dumps(dup))
    with pytest.raises(InputError, match="used twice"):
        FindingsDoc.load(path)


@pytest.fixture(scope="module")
def small_case_root(realdata, tmp_path_factory) -> Path:
    from lsforensics.extract import extract

    root = tmp_path_factory.mktemp("ids") / "case"
    extract(realdata / "video_countdown_silent_audio_in1.mp4", root)
    return root


def _transcript(*lines: tuple[str, float]) -> dict:
    segs = [{"start": t, "end": t + 0.25 * len(s), "text": s, "raw_text": s,
             "words": [{"start": t + i * 0.25, "end": t + (i + 1) * 0.25, "word": ch, "p": 0.9}
                       for i, ch in enumerate(s)]} for s, t in lines]
    return {"schema": "lsf.transcript/1", "language": "zh", "backend": "hand", "model": {}, "segments": segs}


def test_rerunning_lsf_detect_keeps_every_finding_id(small_case_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "case"
    shutil.copytree(small_case_root, root)
    case = Case(root)
    lines = [("这款小箱的包包今天福利价和原版一模一样", 2.0), ("这个精华是全网最好的效果第一", 5.0)]
    (root / "transcript.json").write_text(json.dumps(_transcript(*lines), ensure_ascii=False))
    frames = json.loads(case.frames_json.read_text())
    (root / "ocr.json").write_text(json.dumps([{"frame": frames[1]["file"], "t": frames[1]["t"], "text": "高仿 一比一 驴牌",
                                                "box": [10, 10, 200, 40], "score": 0.95}], ensure_ascii=False))
    chat = tmp_path / "chat.jsonl"
    chat.write_text("\n".join(json.dumps({"t": t, "user": u, "text": x}, ensure_ascii=False) for t, u, x in
                              [(3.0, "a", "是正品吗？假的吧"), (4.0, "b", "小香多少钱")]) + "\n")
    runner = CliRunner()

    def detect(*extra: str) -> tuple[list[str], bytes]:
        r = runner.invoke(cli, ["detect", "-C", str(root), "--chat", str(chat), "--json", *extra])
        assert r.exit_code == 0, r.output
        return [f["id"] for f in json.loads(case.findings_json.read_text())["findings"]], case.findings_json.read_bytes()

    ids1, bytes1 = detect()
    ids2, bytes2 = detect("--force")  # a real rerun, not the up-to-date no-op
    actions = [json.loads(x)["action"] for x in case.custody.read_text().splitlines()]
    assert actions.count("detect") == 2
    print(f"{len(ids1)} findings, ids after rerun identical: {ids1 == ids2}")
    assert len(ids1) >= 6 and ids1 == ids2 and bytes1 == bytes2
    # A new line before the others: new display numbers, the old findings keep their ids.
    (root / "transcript.json").write_text(json.dumps(_transcript(("复刻的", 0.5), *lines), ensure_ascii=False))
    ids3, _ = detect()
    assert set(ids1) <= set(ids3) and len(ids3) > len(ids1)
    doc = json.loads(case.findings_json.read_text())
    assert doc["findings"][0]["matched"] == "复刻" and doc["findings"][0]["n"] == 1
