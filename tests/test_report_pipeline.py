"""End to end with real components only: extract a real video, `lsf detect --chat` a real Bilibili
danmaku file with the shipped rules, `lsf report`, `lsf verify --source`. No hand-written findings."""

from __future__ import annotations

import json
import shutil

import pytest
from test_evidence_helpers import VIDEO, extracted_base

pytestmark = pytest.mark.slow


def test_extract_detect_report_verify(tmp_path, test_cache, realdata, lsf):
    pytest.importorskip("lsforensics.detect.stage")
    case = tmp_path / "case"
    shutil.copytree(extracted_base(test_cache, realdata), case)
    proc = lsf("detect", "-C", case, "--chat", realdata / "chat_bilibili_danmaku01.xml")
    assert proc.returncode == 0, proc.stderr
    findings = json.loads((case / "findings.json").read_text(encoding="utf-8"))["findings"]
    proc = lsf("report", "-C", case)
    assert proc.returncode == 0, proc.stderr
    html = (case / "report" / "report.html").read_text(encoding="utf-8")
    doc = json.loads((case / "report" / "report.json").read_text(encoding="utf-8"))
    print(f"real pipeline: {len(findings)} findings from the danmaku file; report.html {len(html)} chars")
    assert doc["summary"]["total"] == len(findings)
    for f in findings:
        assert f'id="{f["id"]}"' in html
    # the copied chat file is part of the evidence, and so is everything else
    listed = {f["path"] for f in json.loads((case / "manifest.json").read_text())["files"]}
    assert "chat/chat_bilibili_danmaku01.xml" in listed and "chat.json" in listed
    proc = lsf("verify", case, "--source", realdata / VIDEO)
    assert proc.returncode == 4, proc.stdout  # unsigned: intact but unanchored
    assert "INTACT BUT UNANCHORED" in proc.stdout
