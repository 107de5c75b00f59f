"""Decisions are evidence: scripted review, review.jsonl, exhibits, a second seal, and tampering.

One real case (real extract, findings through a stage) is sealed by the machine with its key,
reviewed with `lsf review --set` / `--import`, and sealed again with the reviewer's key. Then
`lsf verify` must pass and show both seals, and fail when a decision line, a clip, the first
seal or its kept report is edited (each on its own copy). A finding that changes after it was
reviewed is flagged, not silently kept.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import run_lsf
from test_evidence_helpers import FindingsFixtureStage, build_case, realistic_findings

from lsforensics.case import Case
from lsforensics.evidence.sign import generate_keypair
from lsforensics.findings import FindingsDoc
from lsforensics.review.decisions import ReviewLog, review_state
from lsforensics.review.exhibits import clip_matches_source, load_exhibits
from lsforensics.stage import run_stage

pytestmark = pytest.mark.slow
VIDEO = "video_outdoor_plane_failing_audio.mp4"


@pytest.fixture(scope="module")
def resealed(tmp_path_factory, test_cache, realdata):
    base = tmp_path_factory.mktemp("reseal")
    case = build_case(base / "case", test_cache, realdata)
    machine = generate_keypair(base / "machine.key", base / "machine.pub")
    person = generate_keypair(base / "reviewer.key", base / "reviewer.pub")
    first = run_lsf("report", "-C", case.root, "--sign-key", machine.private_path, "--json")
    assert first.returncode == 0, first.stderr
    ids = [f.id for f in FindingsDoc.load(case.findings_json)]
    s = run_lsf("review", case.root, "--set", f"{ids[0]}=confirmed", "--note", "小香 = Chanel，画面与声音一致",
                env={"LSF_OPERATOR": "reviewer-b"})
    assert s.returncode == 0, s.stderr
    print(s.stdout)
    csv_in = base / "decisions.csv"
    csv_in.write_text(f"id,decision,note\n{ids[1]},rejected,\"=HYPERLINK(\"\"x\"\") customer quote\"\n"
                      f"{ids[2]},unsure,\n", encoding="utf-8")
    imp = run_lsf("review", case.root, "--import", csv_in, "--json", env={"LSF_OPERATOR": "reviewer-b"})
    assert imp.returncode == 0, imp.stderr
    matter = base / "matter.yaml"
    matter.write_text("court: 上海市浦东新区人民法院\nproceeding: \"(2026)沪0115民初12345号\"\nexaminer: 王敏\n"
                      "statement: |\n  本人检验了上述录像。\n  I examined the recording named above.\n", encoding="utf-8")
    second = run_lsf("report", "-C", case.root, "--sign-key", person.private_path, "--only", "confirmed",
                     "--matter", matter, "--json")
    assert second.returncode == 0, second.stderr
    return {"root": case.root, "ids": ids, "machine": machine, "person": person, "import": json.loads(imp.stdout),
            "csv": csv_in}


def _copy(resealed, tmp_path: Path) -> Path:
    dest = tmp_path / "case"
    shutil.copytree(resealed["root"], dest, symlinks=True)
    return dest


def test_scripted_review_is_recorded_and_chained(resealed, realdata) -> None:
    root = Path(resealed["root"])
    case, ids = Case(root), resealed["ids"]
    log = ReviewLog(root / "review.jsonl")
    assert log.verify_chain() == []
    lines = log.entries()
    assert [(e["finding"], e["decision"], e["via"]) for e in lines] == [
        (ids[0], "confirmed", "set"), (ids[1], "rejected", "import"), (ids[2], "unsure", "import")]
    assert lines[1]["note"].startswith("=HYPERLINK")  # kept verbatim in the record
    custody = [json.loads(x) for x in (root / "custody.jsonl").read_text().splitlines()]
    reviews = [e for e in custody if e["action"] == "review"]
    assert [e["params"]["via"] for e in reviews] == ["set", "import"] and reviews[1]["result"]["decisions"] == 2
    assert {e["params"]["session"] for e in reviews} == {e["session"] for e in lines}
    # exhibits: one clip per window, listed, and packet for packet the source
    ex = load_exhibits(case)
    assert ex["method"] == "stream-copy" and set(ex["findings"]) >= set(ids[:6])
    clip = ex["clips"][0]
    assert clip_matches_source(realdata / VIDEO, root / "exhibits" / clip["file"], clip["clip_start"],
                               ex["source"]["offset_s"]) == {"v": True, "a": True}
    # re-importing the same CSV records nothing new; an export round-trips
    before = (root / "review.jsonl").read_bytes(), (root / "custody.jsonl").read_bytes()
    re_imp = run_lsf("review", root, "--import", resealed["csv"], "--json")
    assert re_imp.returncode == 0 and json.loads(re_imp.stdout)["session"]["unchanged"] == 2
    assert ((root / "review.jsonl").read_bytes(), (root / "custody.jsonl").read_bytes()) == before
    again = run_lsf("review", root, "--export", "-")
    assert again.returncode == 0 and len(again.stdout.splitlines()) == len(ids) + 1
    assert "'=HYPERLINK" in again.stdout  # a spreadsheet will not run case text as a formula


def test_verify_passes_and_shows_both_seals(resealed) -> None:
    root = Path(resealed["root"])
    proc = run_lsf("verify", root, "--pubkey", resealed["person"].public_path)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout
    assert "seal 1 (seals/1" in proc.stdout and "seals (oldest first" in proc.stdout
    assert "seal 1: Ed25519 signature over manifest.json is valid for key" in proc.stdout
    assert "between seal 1 and the current seal: added: exhibits/" in proc.stdout.replace("\n  note    ", "\n")
    assert "custody.jsonl then was the first" in proc.stdout
    doc = json.loads(run_lsf("verify", root, "--json").stdout)
    assert [s["seal"] for s in doc["seals"]] == [1] and doc["seals"][0]["signer"] != doc["signer"]
    assert "review.jsonl" in doc["seals"][0]["next"]["added"]
    # The machine's first report is kept as it was sealed: no review status in it.
    first = json.loads((root / "seals" / "1" / "report" / "report.json").read_text(encoding="utf-8"))
    assert first["review"]["decisions"] == 0 and first["summary"]["total"] == len(resealed["ids"])
    now = json.loads((root / "report" / "report.json").read_text(encoding="utf-8"))
    assert now["summary"]["total"] == 1 and now["matter"][0]["value"] == "上海市浦东新区人民法院"
    html = (root / "report" / "report.html").read_text(encoding="utf-8")
    assert html.index("上海市浦东新区人民法院") < html.index('id="summary"') and "I examined the recording" in html


@pytest.mark.parametrize("what", ["decision", "clip", "first_seal", "kept_report", "first_signature"])
def test_verify_fails_when_reviewed_evidence_is_edited(resealed, tmp_path, what) -> None:
    root = _copy(resealed, tmp_path)
    if what == "decision":
        p = root / "review.jsonl"
        p.write_text(p.read_text(encoding="utf-8").replace('"decision":"rejected"', '"decision":"confirmed"'),
                     encoding="utf-8")
        expect = ["review.jsonl", "review: review.jsonl: review.jsonl line 3: prev does not match"]
    elif what == "clip":
        clip = next((root / "exhibits" / "clips").iterdir())
        data = bytearray(clip.read_bytes())
        data[len(data) // 2] ^= 0x01
        clip.write_bytes(bytes(data))
        expect = [f"exhibits/clips/{clip.name}"]
    elif what == "first_seal":
        p = root / "seals" / "1" / "manifest.json"
        p.write_text(p.read_text(encoding="utf-8").replace('"file_count": ', '"file_count": 1'), encoding="utf-8")
        expect = ["seals/1/manifest.json"]
    elif what == "kept_report":
        p = root / "seals" / "1" / "report" / "report.html"
        p.write_text(p.read_text(encoding="utf-8").replace("</body>", "<p>reviewed</p></body>"), encoding="utf-8")
        expect = ["seals/1/report/report.html"]
    else:
        p = root / "seals" / "1" / "manifest.sig"
        p.write_bytes(bytes(b ^ 0xFF for b in p.read_bytes()))
        expect = ["seals/1/manifest.sig"]
    proc = run_lsf("verify", root)
    print(what, [x for x in proc.stdout.splitlines() if "FAILED" in x])
    assert proc.returncode == 1, proc.stdout
    assert all(e in proc.stdout for e in expect), proc.stdout


def test_a_decision_on_a_finding_that_changed_is_flagged(tmp_path, test_cache, realdata) -> None:
    case = build_case(tmp_path / "case", test_cache, realdata)
    doc = FindingsDoc.load(case.findings_json)
    fid = doc.findings[0].id
    assert run_lsf("review", case.root, "--no-clips", "--set", f"{fid}=confirmed").returncode == 0
    # Detection reruns and says something else about the same finding (same identity, new quote).
    changed = realistic_findings(case)
    changed[0].quote = "这款小箱的包包今天福利价，限量三件"
    run_stage(case, FindingsFixtureStage(changed), argv=["pytest", "fixture"], force=True)
    doc2 = FindingsDoc.load(case.findings_json)
    assert doc2.findings[0].id == fid and doc2.digests[fid] != doc.digests[fid]
    st = review_state(case, doc2).statuses[fid]
    assert st.status == "changed" and st.decision.decision == "confirmed"
    rep = run_lsf("report", "-C", case.root, "--only", "confirmed", "--format", "json")
    assert rep.returncode == 0, rep.stderr
    data = json.loads((case.root / "report" / "report.json").read_text(encoding="utf-8"))
    assert data["summary"]["total"] == 0 and data["review"]["by_status"]["changed"] == 1
    assert any("changed after they were reviewed" in en for _zh, en in data["limitations"])
