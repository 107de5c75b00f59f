"""Bad input to `lsf review` and `lsf report --only/--matter`: one line, exit 2, and nothing written."""

from __future__ import annotations

import pytest
from conftest import run_lsf
from test_evidence_helpers import build_case

pytestmark = pytest.mark.slow  # a dozen real `lsf` processes


@pytest.fixture(scope="module")
def case(tmp_path_factory, test_cache, realdata):
    return build_case(tmp_path_factory.mktemp("rcli") / "case", test_cache, realdata)


def _snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_bad_review_and_report_input_is_one_line_exit_2(case, tmp_path) -> None:
    root = case.root
    fid = (root / "findings.json").read_text().split('"id": "')[1].split('"')[0]
    bad_csv = tmp_path / "d.csv"
    bad_csv.write_text("id,decision\nFnothere,confirmed\n")
    wrong_col = tmp_path / "w.csv"
    wrong_col.write_text("finding_id,verdict\nx,y\n")
    bad_dec = tmp_path / "b.csv"
    bad_dec.write_text(f"id,decision\n{fid},maybe\n")
    aliases = tmp_path / "m1.yaml"
    aliases.write_text("court: &c Court\nexaminer: *c\n")
    unknown = tmp_path / "m2.yaml"
    unknown.write_text("court: X\njudge: Y\n")
    before = _snapshot(root)
    cases = [
        (["review", root, "--set", f"{fid}=maybe"], "choose confirmed, rejected, unsure"),
        (["review", root, "--set", "Fnothere=confirmed"], "is not in findings.json"),
        (["review", root, "--set", "noequals"], "expected FINDING_ID=DECISION"),
        (["review", root, "--note", "x"], "--note goes with --set"),
        (["review", root, "--import", bad_csv], "(line 2) is not in findings.json"),
        (["review", root, "--import", wrong_col], "needs an 'id'"),
        (["review", root, "--import", bad_dec], "line 2: decision 'maybe'"),
        (["review", root, "--import", tmp_path / "missing.csv"], "cannot read"),
        (["review", tmp_path / "nocase"], "is not a case folder"),
        (["report", "-C", root, "--only", "approved"], "--only 'approved': choose from"),
        (["report", "-C", root, "--matter", aliases], "aliases are not allowed"),
        (["report", "-C", root, "--matter", unknown], "unknown field(s) judge"),
    ]
    for args, msg in cases:
        p = run_lsf(*args)
        lines = p.stderr.strip().splitlines()
        assert p.returncode == 2 and len(lines) == 1 and msg in lines[0], (args, p.returncode, p.stderr)
    assert _snapshot(root) == before  # nothing in the case was touched


def test_a_session_that_never_closed_is_recorded_by_the_next(case) -> None:
    from lsforensics.custody import CustodyLog
    from lsforensics.findings import FindingsDoc
    from lsforensics.review.session import ReviewSession, record_unclosed_sessions

    doc = FindingsDoc.load(case.findings_json)
    s = ReviewSession(case, doc, reviewer="killed", via="browser")
    s.decide(doc.findings[0].id, "unsure", "looked at it, then the laptop died")  # no close()
    n = len(CustodyLog(case.custody).entries())
    assert record_unclosed_sessions(case) == [s.session]
    entry = CustodyLog(case.custody).entries()[-1]
    assert len(CustodyLog(case.custody).entries()) == n + 1 and entry["params"]["session"] == s.session
    assert "without closing" in entry["result"]["note"] and entry["result"]["decisions"] == 1
    assert record_unclosed_sessions(case) == []  # once only
