"""Rule files of the text detectors: validation with file:line, user extension and override."""

from __future__ import annotations

from pathlib import Path

import pytest

from lsforensics.errors import InputError
from lsforensics.rules import load_rules
from lsforensics.text.lexicon import build_lexicon
from lsforensics.text.match import Matcher

GOOD_SLANG = ("kind: slang\nrules:\n  - id: my_term\n    terms: [超级复制品]\n    severity: high\n    law: 商标法第五十七条\n"
              "    explanation: {zh: 自定义, en: custom}\n")


def _dir(tmp_path: Path, name: str, text: str) -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "x.yaml").write_text(text, encoding="utf-8")
    return d


def test_user_rules_add_and_override(tmp_path: Path) -> None:
    d = _dir(tmp_path, "mine", GOOD_SLANG + "  - id: high_imitation\n    terms: [高仿]\n    severity: low\n"
             "    law: x\n    explanation: {zh: 改, en: changed}\n")
    rs = load_rules([d])
    m = Matcher(build_lexicon(rs))
    found = {(x.entry.term, x.entry.severity) for x in m.find("这是超级复制品，高仿的")}
    assert found == {("超级复制品", "high"), ("高仿", "low")}
    assert rs.sha256 != load_rules().sha256
    # The override replaced the whole rule: its other terms (精仿) are gone.
    assert not any(x.entry.term == "精仿" for x in m.find("精仿的做工"))


def test_user_brand_file(tmp_path: Path) -> None:
    d = _dir(tmp_path, "brands2", "kind: brands\nrules:\n  - id: acme\n    brand: Acme\n    names: [阿克米, acme]\n"
             "    codewords: [阿家]\n    categories: [bag]\n    retail_cny: {bag: [100, 200]}\n    severity: high\n"
             "    law: 商标法第五十七条\n    explanation: {zh: 测试, en: test}\n")
    m = Matcher(build_lexicon(load_rules([d])))
    assert [(x.entry.kind, x.entry.brand) for x in m.find("阿家的包")] == [("brand_codeword", "Acme")]


@pytest.mark.parametrize(("text", "needle"), [
    ("kind: slang\nrules:\n  - id: a\n    terms: [x]\n    severity: urgent\n    law: l\n    explanation: {zh: a, en: b}\n",
     "x.yaml:5: rule 'a': 'severity' must be one of"),
    ("kind: slang\nrules:\n  - id: a\n    terms: [x]\n    severity: high\n    law: l\n    explanation: {zh: a}\n",
     "x.yaml:7: rule 'a': 'explanation' needs one line in 'zh' and 'en'"),
    ("kind: slang\nrules:\n  - id: a\n    severity: high\n    law: l\n    explanation: {zh: a, en: b}\n",
     "x.yaml:3: rule 'a': 'terms' must be a non-empty list"),
    ("kind: adlaw\nrules:\n  - id: a\n    terms: [x]\n    severity: high\n    explanation: {zh: a, en: b}\n",
     "x.yaml:3: rule 'a': missing or empty 'law'"),
    ("kind: slang\nrules:\n  - id: a\n    terms: [x, 350]\n    severity: high\n    law: l\n    explanation: {zh: a, en: b}\n",
     "x.yaml:4: rule 'a': term 350 in 'terms' is not text"),
    ("kind: slang\nrules:\n  - id: a\n    terms: [x]\n    severity: high\n    law: l\n    sources: [radio]\n"
     "    explanation: {zh: a, en: b}\n", "x.yaml:7: rule 'a': 'sources' must be"),
    ("kind: brands\nrules:\n  - id: b\n    brand: B\n    names: [bb]\n    categories: [rockets]\n    severity: high\n"
     "    law: l\n    explanation: {zh: a, en: b}\n", "x.yaml:6: rule 'b': unknown category 'rockets'"),
    ("kind: brands\nrules:\n  - id: b\n    brand: B\n    names: [bb]\n    categories: [bag]\n    retail_cny: {bag: [500, 100]}\n"
     "    severity: high\n    law: l\n    explanation: {zh: a, en: b}\n", "x.yaml:7: rule 'b': retail_cny.bag must be"),
    ("kind: brands\nprice_patterns: ['(unclosed']\nrules: []\n", "x.yaml:2: bad price pattern"),
    ("kind: slang\nrules:\n  - id: a\n  - id: a\n", "x.yaml:4: duplicate rule id 'a'"),
])
def test_validation_errors_name_file_and_line(tmp_path: Path, text: str, needle: str) -> None:
    d = _dir(tmp_path, "r", text)
    with pytest.raises(InputError) as exc:
        load_rules([d])
    assert needle in str(exc.value), str(exc.value)


def test_shipped_rules_cite_the_law() -> None:
    lex = build_lexicon(load_rules())
    ad = [e for e in lex.entries if e.kind == "absolute_claim"]
    health = [e for e in lex.entries if e.kind == "health_claim"]
    assert ad and all("广告法第九条" in (e.law or "") or "广告法第二十八条" in (e.law or "") for e in ad)
    assert health and all(any(a in (e.law or "") for a in ("第十六条", "第十七条", "第十八条", "化妆品监督管理条例",
                                                            "食品安全法")) for e in health)
