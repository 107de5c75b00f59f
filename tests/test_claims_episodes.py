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
