"""Which product page a spoken claim is compared with (claims/detector.py ``about_page``).

A clause without a product noun takes the product of its episode only when most of the episode's
product words are that product: an episode naming shorts, a belt and shoes alike cannot say which
page a clause is about, and comparing it with all of them makes false findings."""

from __future__ import annotations

import pytest

from lsforensics.claims.detector import _page_words, about_page
from lsforensics.claims.episodes import Episode
from lsforensics.claims.pages import Page
from lsforensics.claims.price import PriceRules
from lsforensics.rules import load_rules

PAGES = {"necklace": Page("n.html", "html", title="时尚意式项链 女 锁骨链"),
         "belt": Page("b.html", "html", title="男士皮带 自动扣"),
         "shorts": Page("s.html", "html", title="女士短裤 夏季")}


@pytest.fixture(scope="module")
def pr() -> PriceRules:
    return PriceRules.from_rules(load_rules())


@pytest.mark.parametrize("words, clause, expected", [
    ({"短裤": 1, "皮带": 1, "鞋子": 1, "项链": 1}, set(), set()),  # several products, none the most
    ({"项链": 3, "皮带": 1}, set(), {"necklace"}),  # mostly the necklace
    ({"短裤": 1, "皮带": 1}, {"项链"}, {"necklace"}),  # the clause names it: the episode does not matter
    ({}, set(), set()),  # nothing known, three pages
])
def test_a_clause_without_a_noun_takes_its_episodes_product_only_when_one_dominates(pr, words, clause, expected):
    ep = Episode(0.0, 100.0, None, "whole", dict(words))
    got = {name for name, page in PAGES.items()
           if about_page(10.0, set(clause), page, _page_words(page, pr), [ep], n_pages=len(PAGES))}
    print(f"episode {words} clause {clause or '-'} -> compared with {sorted(got) or 'no page'}")
    assert got == expected


def test_the_episodes_used_are_written_as_evidence_and_shown_in_the_report(tmp_path) -> None:
    """Two products in one stream, each with its card badge and page: evidence/episodes.json says
    which product was on sale when, how that was known and which page each episode met, and the
    report (data, HTML, PDF) shows it — the reader sees why a claim was compared with a page."""
    import json

    import yaml

    from lsforensics.case import Case, atomic_write_json
    from lsforensics.claims.detector import ClaimsDetector
    from lsforensics.claims.stage import run_pages
    from lsforensics.progress import NullProgress
    from lsforensics.report.data import build_report_data
    from lsforensics.report.html import render_html
    from lsforensics.report.pdf import render_pdf

    case = Case(tmp_path / "case")
    case.create(source_sha256="0" * 64)
    said = [(5.0, "这件毛衣是百分之百羊毛的"), (12.0, "毛衣很暖和"), (65.0, "这条皮带是真牛皮"), (80.0, "皮带扣是合金的")]
    atomic_write_json(case.transcript_json, {"schema": "lsf.transcript/1", "language": "zh", "segments": [
        {"start": t, "end": t + 3.0, "text": x, "words": []} for t, x in said]})
    ocr = [{"frame": f"media/frames/{int(t * 1000):09d}.jpg", "t": t, "text": f"{link}号", "box": [470, 750, 40, 20],
            "score": 0.99} for link, ts in ((1, range(0, 60, 4)), (2, range(60, 120, 4))) for t in map(float, ts)]
    atomic_write_json(case.ocr_json, ocr)
    pages = []
    for link, title, attrs in ((1, "1号链接 羊毛毛衣 女", {"材质": "棉"}), (2, "2号链接 男士皮带", {"材质": "牛皮"})):
        p = tmp_path / f"page{link}.yaml"
        p.write_text(yaml.safe_dump({"title": title, "attributes": attrs}, allow_unicode=True), encoding="utf-8")
        pages.append(p)
    run_pages(case, pages)
    found = ClaimsDetector().detect(case, load_rules(), [], NullProgress())
    doc = json.loads((case.root / "evidence" / "episodes.json").read_text(encoding="utf-8"))
    eps = doc["episodes"]
    print(json.dumps(eps, ensure_ascii=False))
    assert doc["schema"] == "lsf.episodes/1" and [e["link"] for e in eps] == [1, 2]
    assert all(e["how"] == "card" for e in eps) and eps[0]["start"] is None and eps[1]["end"] is None
    assert 56 <= eps[0]["end"] == eps[1]["start"] <= 60
    assert "毛衣" in [w["word"] for w in eps[0]["words"]] and "皮带" in [w["word"] for w in eps[1]["words"]]
    assert len(eps[0]["pages"]) == 1 and eps[0]["pages"][0] != eps[1]["pages"][0]
    mism = [f for f in found if f.kind == "spec_mismatch"]
    assert mism and all(f.start < 60 for f in mism)  # the sweater's wool vs its cotton page only
    atomic_write_json(case.findings_json, {"schema": "lsf.findings/1", "source_sha256": "0" * 64, "findings": []})
    data = build_report_data(case)
    rows = data["episodes"]["rows"]
    assert [r["link"] for r in rows] == ["1号", "2号"] and "毛衣" in rows[0]["words"]
    html = render_html(data, str(case.root))
    assert 'id="episodes"' in html and "Which product was on sale when" in html and "2号" in html
    pdf = render_pdf(data, str(case.root))
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
