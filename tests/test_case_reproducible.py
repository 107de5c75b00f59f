"""A case holds what it was analysed with (issue 16): its rules and reference images are archived in
CASE/rules/, its options in case.json; a rerun without options changes nothing; a copy elsewhere
reproduces the same findings from the case alone; an edited archive is caught; a different rule
set or option is an explicit change that is recorded and resealed."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from conftest import run_lsf
from synth import make_brand_rules

from lsforensics.custody import CustodyLog

ENV = {"LSF_CONFIG": "none"}  # no config file of the machine may change what is tested
FIRM_RULE = """kind: slang
rules:
  - id: firm_welfare_price
    terms: [福利价]
    severity: medium
    law: 广告法第九条
    explanation: {zh: 品牌方自己的规则, en: a brand-protection firm's own rule}
"""
OTHER_RULE = """kind: slang
rules:
  - id: firm_little_cart
    terms: [小黄车]
    severity: low
    law: 广告法第九条
    explanation: {zh: 另一条规则, en: another rule}
"""


def lsf(*args, **kw):
    return run_lsf(*args, env=ENV, **kw)


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def analyzed(synth_stream, tmp_path_factory):
    base = tmp_path_factory.mktemp("reproducible")
    firm = make_brand_rules(base / "firm")
    (firm / "firm.yaml").write_text(FIRM_RULE, encoding="utf-8")
    lsf("keygen", "-o", base / "lab", check=True)
    case = base / "case"
    proc = lsf("analyze", synth_stream.video, "-C", case, "--rules", firm, "--format", "html,json",
               "--sign-key", base / "lab.key", "--json", timeout=1800)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {"base": base, "case": case, "firm": firm, "key": base / "lab.key", "pub": base / "lab.pub",
            "video": synth_stream.video, "analyze": json.loads(proc.stdout)}


def _copy(analyzed, name: str, tmp_path: Path) -> Path:
    dest = tmp_path / name
    shutil.copytree(analyzed["case"], dest)
    return dest


def test_case_archives_its_rules_references_and_options(analyzed) -> None:
    case = analyzed["case"]
    index = json.loads((case / "rules" / "rules.json").read_text(encoding="utf-8"))
    assert [f["label"] for f in index["folders"]] == ["rules", "firm"]
    assert {r["file"] for r in index["references"]} == {"logo.png", "bag_product.png"}
    assert (case / "rules" / "2-firm" / "firm.yaml").read_text(encoding="utf-8") == FIRM_RULE
    findings = json.loads((case / "findings.json").read_text(encoding="utf-8"))
    assert findings["rules_sha256"] == index["rules_sha256"]
    rules_used = {f["rule"] for f in findings["findings"]}
    assert "slang/firm_welfare_price" in rules_used, "the firm's own rule made no finding"
    assert any(f["kind"] == "logo_match" and f["brand"] == "LUXE" for f in findings["findings"])
    options = json.loads((case / "case.json").read_text(encoding="utf-8"))["options"]
    assert options["report"] == {"formats": "html,json", "tsa": None}
    assert options["transcribe"]["language"] == "zh" and options["extract"]["interval"] == 2.0
    entries = CustodyLog(case / "custody.jsonl").entries()
    rules_entry = next(e for e in entries if e["action"] == "rules")
    assert str(analyzed["firm"]) in rules_entry["result"]["origins"]
    assert rules_entry["outputs"][0]["path"] == "rules/"
    listed = {f["path"] for f in json.loads((case / "manifest.json").read_text(encoding="utf-8"))["files"]}
    assert {"rules/rules.json", "rules/2-firm/firm.yaml", "rules/2-firm/references/LUXE/logo.png"} <= listed
    print(f"{len(findings['findings'])} findings, rules {index['rules_sha256'][:12]}, "
          f"{sum(1 for p in listed if p.startswith('rules/'))} archived rule files")


def test_rerun_without_options_changes_nothing(analyzed, tmp_path: Path) -> None:
    case = _copy(analyzed, "case", tmp_path)
    before = tree_digest(case)
    detect = lsf("detect", "-C", case, "--json")
    assert detect.returncode == 0, detect.stderr
    doc = json.loads(detect.stdout)
    assert doc["schema"] == "lsf.result/1" and all(s["skipped"] for s in doc["stages"]), doc["stages"]
    again = lsf("analyze", analyzed["video"], "-C", case, "--json")  # no --rules, no --format, no key
    assert again.returncode == 0, again.stderr
    assert all(s["skipped"] for s in json.loads(again.stdout)["stages"])
    assert tree_digest(case) == before, "a rerun without options changed the case"
    verify = lsf("verify", case, "--pubkey", analyzed["pub"])
    assert verify.returncode == 0, verify.stdout[-1500:]


def test_a_copy_reproduces_the_same_findings_from_the_case_alone(analyzed, tmp_path: Path) -> None:
    copy = _copy(analyzed, "elsewhere", tmp_path)
    moved = analyzed["firm"].with_name("firm-away")
    analyzed["firm"].rename(moved)  # the rules folder it was analysed with is gone
    try:
        proc = lsf("reproduce", copy, "--json")
        out = json.loads(proc.stdout)
        print(f"reproduced {out['findings']} in {proc.returncode=}; inputs checked: {len(out['inputs'])}")
        assert proc.returncode == 0 and out["identical"], proc.stdout[-3000:]
        assert out["findings"]["case"] == out["findings"]["reproduced"] > 20
        assert out["inputs"] and all(i["same"] for i in out["inputs"])
        verify = lsf("verify", copy, "--pubkey", analyzed["pub"], "--reproduce", "--json")
        assert verify.returncode == 0, verify.stdout[-2000:]
        assert json.loads(verify.stdout)["reproduce"]["identical"]
    finally:
        moved.rename(analyzed["firm"])
    assert tree_digest(copy) == tree_digest(analyzed["case"]), "reproduce wrote into the case"


def test_an_edited_archive_is_caught(analyzed, tmp_path: Path) -> None:
    copy = _copy(analyzed, "edited", tmp_path)
    rule = copy / "rules" / "2-firm" / "firm.yaml"
    rule.write_text(FIRM_RULE.replace("severity: medium", "severity: low"), encoding="utf-8")
    verify = lsf("verify", copy, "--pubkey", analyzed["pub"], "--json")
    assert verify.returncode == 1
    problems = json.loads(verify.stdout)["problems"]
    assert any(p["path"] == "rules/2-firm/firm.yaml" and p["check"] == "files" for p in problems), problems
    rep = lsf("reproduce", copy)
    assert rep.returncode == 2 and "edited after archiving" in rep.stderr, rep.stderr
    # A forger who also rewrites rules.json and reseals without the key is still caught: the custody
    # entry of the rules stage names the archive it wrote.
    from lsforensics.case import Case
    from lsforensics.case_rules import load_archived
    from lsforensics.evidence.seal import seal_case

    index_path = copy / "rules" / "rules.json"
    index = json.loads(index_path.read_text(encoding="utf-8"))
    index["rules_sha256"] = "0" * 64
    index_path.write_text(json.dumps(index), encoding="utf-8")
    try:
        load_archived(Case(copy))
    except Exception as exc:  # noqa: BLE001 - the real sha of the edited set is in the message
        assert "hash to" in str(exc)
    index["rules_sha256"] = _sha_of_archive(copy)
    index_path.write_text(json.dumps(index), encoding="utf-8")
    seal_case(Case(copy), force=True)
    forged = lsf("verify", copy, "--json")
    problems = json.loads(forged.stdout)["problems"]
    assert forged.returncode == 1
    assert any(p["check"] == "custody" and p["path"] == "rules/" for p in problems), problems
    differs = lsf("reproduce", copy, "--json")
    out = json.loads(differs.stdout)
    assert differs.returncode == 1 and not out["identical"]
    assert any("severity" in c["fields"] for c in out["changed"]), out["changed"]
    print(f"edited rule caught by files/custody; reproduce: {len(out['changed'])} findings changed")


def _sha_of_archive(case: Path) -> str:
    from lsforensics.case_rules import ARCHIVE_DIR
    from lsforensics.rules import load_rule_folders

    index = json.loads((case / ARCHIVE_DIR / "rules.json").read_text(encoding="utf-8"))
    return load_rule_folders([(case / ARCHIVE_DIR / f["dir"], f["label"]) for f in index["folders"]]).sha256


def test_other_rules_are_an_explicit_recorded_change_that_reseals(analyzed, tmp_path: Path) -> None:
    case = _copy(analyzed, "changed", tmp_path)
    other = tmp_path / "other-rules"
    other.mkdir()
    (other / "other.yaml").write_text(OTHER_RULE, encoding="utf-8")
    before = tree_digest(case)
    refused = lsf("detect", "-C", case, "--rules", other)
    assert refused.returncode == 2 and "is signed" in refused.stderr, refused.stderr
    assert tree_digest(case) == before, "a refused change touched the case"
    done = lsf("detect", "-C", case, "--rules", other, "--sign-key", analyzed["key"], "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert [s["name"] for s in doc["stages"] if not s["skipped"]] == ["rules", "detect"]
    assert doc["resealed"]["seal"]["signer"]
    entries = [e for e in CustodyLog(case / "custody.jsonl").entries() if e["action"] == "rules"]
    assert len(entries) == 2 and entries[1]["result"]["why"] == "--rules"
    assert entries[1]["result"]["replaces"] == entries[0]["params"]["rules_sha256"]
    rules_used = {f["rule"] for f in json.loads((case / "findings.json").read_text(encoding="utf-8"))["findings"]}
    assert "slang/firm_welfare_price" not in rules_used and "slang/firm_little_cart" in rules_used
    assert lsf("verify", case, "--pubkey", analyzed["pub"]).returncode == 0
    again = lsf("detect", "-C", case, "--json")  # the new archive is now the case's own
    assert again.returncode == 0 and all(s["skipped"] for s in json.loads(again.stdout)["stages"])


def test_a_changed_option_needs_force(analyzed, tmp_path: Path) -> None:
    case = _copy(analyzed, "options", tmp_path)
    before = tree_digest(case)
    lang = lsf("transcribe", "-C", case, "--language", "en")
    assert lang.returncode == 2 and "--force" in lang.stderr and "--language zh" in lang.stderr, lang.stderr
    fmt = lsf("report", "-C", case, "--format", "html")
    assert fmt.returncode == 2 and "--format html,json" in fmt.stderr, fmt.stderr
    same = lsf("report", "-C", case, "--format", "html,json", "--json")  # the recorded value: fine, a no-op
    assert same.returncode == 0 and json.loads(same.stdout)["seal"]["skipped"], same.stderr
    assert tree_digest(case) == before
