"""Labelled claim/page pairs (tests/data/claims/pairs.yaml): precision and recall of certain
spec mismatches, and the traps named in issue 6.

Each pair runs through the real pipeline: a case folder, the ``claims.pages`` stage on a YAML
page, and the claims detector on a one-segment transcript (or one OCR line)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from lsforensics.case import Case, atomic_write_json
from lsforensics.claims.detector import ClaimsDetector
from lsforensics.claims.stage import run_pages
from lsforensics.findings import Finding
from lsforensics.progress import NullProgress
from lsforensics.rules import RuleSet, load_rules

PAIRS = Path(__file__).resolve().parent / "data" / "claims" / "pairs.yaml"


@dataclass
class Outcome:
    pair: dict[str, Any]
    certain: bool  # a certain spec_mismatch was reported
    uncertain: bool  # only a low-confidence one
    findings: list[dict[str, Any]]


def load_pairs() -> list[dict[str, Any]]:
    return yaml.safe_load(PAIRS.read_text(encoding="utf-8"))["pairs"]


def run_pair(pair: dict[str, Any], root: Path, rules: RuleSet) -> Outcome:
    case = Case(root / pair["id"])
    case.create(source_sha256="0" * 64)
    text = pair["claim"]
    if pair.get("source") == "screen":
        atomic_write_json(case.ocr_json, [{"frame": "media/frames/000010000.jpg", "t": 10.0, "text": text,
                                           "box": [0, 470, 960, 70], "score": 0.99}])
    else:
        atomic_write_json(case.transcript_json, {"schema": "lsf.transcript/1", "language": "zh", "segments": [
            {"start": 10.0, "end": 10.0 + 0.25 * len(text), "text": text, "words": []}]})
    page = root / f"{pair['id']}.yaml"
    page.write_text(yaml.safe_dump({"title": None, "attributes": pair["page"]}, allow_unicode=True), encoding="utf-8")
    run_pages(case, [page])
    prior = []
    if pair.get("brand"):
        prior.append(Finding(kind="brand_codeword", source="speech", start=10.0, end=10.5, rule="test", severity="high",
                             confidence=0.9, brand=pair["brand"], quote=text))
    found = [f.to_dict() for f in ClaimsDetector().detect(case, rules, prior, NullProgress())
             if f.kind == "spec_mismatch"]
    certain = any(f.get("certain") for f in found)
    return Outcome(pair, certain, bool(found) and not certain, found)


def score(outcomes: list[Outcome]) -> dict[str, float]:
    tp = sum(1 for o in outcomes if o.certain and o.pair["label"] == "mismatch")
    fp = sum(1 for o in outcomes if o.certain and o.pair["label"] != "mismatch")
    fn = sum(1 for o in outcomes if not o.certain and o.pair["label"] == "mismatch")
    return {"n": len(outcomes), "tp": tp, "fp": fp, "fn": fn,
            "precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    rules = load_rules()
    root = tmp_path_factory.mktemp("pairs")
    t0 = time.perf_counter()
    outs = {p["id"]: run_pair(p, root, rules) for p in load_pairs()}
    print(f"\n{len(outs)} pairs in {time.perf_counter() - t0:.1f}s")
    return outs


def test_enough_labelled_pairs():
    pairs = load_pairs()
    labels = [p["label"] for p in pairs]
    assert len(pairs) >= 60
    assert labels.count("mismatch") >= 25 and labels.count("consistent") >= 25 and labels.count("uncertain") >= 3
    assert len({p["id"] for p in pairs}) == len(pairs)


@pytest.mark.slow
def test_precision_recall(outcomes):
    s = score(list(outcomes.values()))
    held = score([o for k, o in outcomes.items() if k.startswith("h")])
    print(f"all pairs: n={s['n']} tp={s['tp']} fp={s['fp']} fn={s['fn']} "
          f"precision={s['precision']:.3f} recall={s['recall']:.3f}")
    print(f"held-out:  n={held['n']} tp={held['tp']} fp={held['fp']} fn={held['fn']} "
          f"precision={held['precision']:.3f} recall={held['recall']:.3f}")
    wrong = [(o.pair["id"], o.pair["label"], o.certain) for o in outcomes.values()
             if o.certain != (o.pair["label"] == "mismatch")]
    print("wrong:", wrong)
    # issue 6 acceptance: >= 0.9 each (measured 1.0 on 99 pairs; held-out 16 pairs 1.0)
    assert s["precision"] >= 0.9 and s["recall"] >= 0.9


@pytest.mark.slow
def test_traps(outcomes):
    # 天丝 vs "莱赛尔纤维100%" is consistent (TENCEL is a lyocell trade mark)
    assert not outcomes["f02"].findings
    # 纯棉 vs "棉95% 氨纶5%" is a mismatch (纯 = 100%), plain "棉的" is not
    f15 = outcomes["f15"]
    assert f15.certain and f15.findings[0]["claim"]["pct"] == 100 and f15.findings[0]["severity"] == "medium"
    assert "氨纶5%" in f15.findings[0]["spec"]["value"]
    assert not outcomes["f17"].findings
    # 白金 against white K gold: reported, but never as certain
    for pid in ("m10", "m16"):
        o = outcomes[pid]
        assert not o.certain
        assert all(f["confidence"] < 0.5 and f["severity"] == "low" for f in o.findings)
    assert outcomes["m10"].uncertain
    assert not outcomes["m11"].findings  # 白金 vs Pt950: platinum, consistent
    assert outcomes["m12"].certain  # 白金 vs 合金镀白金: neither reading
    # 羊绒 = 山羊绒 ≠ 绵羊绒; 冰丝 ≠ 真丝
    assert not outcomes["f09"].findings and outcomes["f11"].certain and outcomes["f06"].certain
    # the finding carries claim and spec per SPEC.md
    f = outcomes["f01"].findings[0]
    assert f["kind"] == "spec_mismatch" and f["source"] == "speech" and f["start"] >= 10.0
    assert set(f["claim"]) >= {"attribute", "value", "quote", "start"}
    assert set(f["spec"]) >= {"attribute", "value", "page", "locator"}
    assert f["claim"]["value"] == "天丝" and f["spec"]["attribute"] == "面料成分" and f["spec"]["value"] == "棉100%"
    assert f["quote"] == "这个短裤是天丝面料，穿在腿上会呼吸。"
    # an on-screen claim keeps its frame and box
    s = outcomes["f40"].findings[0]
    assert s["source"] == "screen" and s["evidence"] == ["media/frames/000010000.jpg"] and s["bbox"]
