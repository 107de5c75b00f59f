"""`lsf batch` on six generated streams: two pairs share a voice, one pair shares footage, one
pair shows the same product. The network draws exactly those four links (GraphML checked), each
linked case records its links and its report shows them."""

from __future__ import annotations

import json

import networkx as nx
import pytest
from conftest import run_lsf
from links_streams import build_six

pytestmark = pytest.mark.slow

EXPECTED = {
    frozenset({"s1_tts_belt.mp4", "s2_tts_bag.mp4"}): "voice",
    frozenset({"s3_english_bag.mp4", "s4_english_shoes.mp4"}): "voice",
    frozenset({"s5_bunny_german.mp4", "s6_bunny_excerpt.mp4"}): "footage",
    frozenset({"s2_tts_bag.mp4", "s3_english_bag.mp4"}): "product",
}


@pytest.fixture(scope="module")
def batch(test_cache, tmp_path_factory):
    streams = build_six(test_cache / "links")
    src = next(iter(streams.values())).parent
    out = tmp_path_factory.mktemp("batch6") / "out"
    proc = run_lsf("batch", src, "-o", out, "--workers", "2", "--json", "-q", timeout=2400, check=True)
    return out, json.loads(proc.stdout)


def test_exactly_the_expected_links(batch):
    out, result = batch
    g = nx.read_graphml(out / "network.graphml")
    names = {n: g.nodes[n]["label"] for n in g.nodes}
    edges = {frozenset({names[a], names[b]}): g.edges[a, b] for a, b in g.edges}
    for pair, e in sorted(edges.items(), key=lambda kv: sorted(kv[0])):
        print(sorted(pair), e.get("kinds"), "|", e.get("reasons"))
    assert set(edges) == set(EXPECTED), sorted(map(sorted, edges))
    for pair, kind in EXPECTED.items():
        e = edges[pair]
        assert e["kinds"] == kind, (sorted(pair), e["kinds"])
        assert e[kind] is True
        if kind == "voice":
            assert e["voice_score"] >= e["voice_threshold"] > 0
        if kind == "footage":
            assert e["footage_seconds"] >= 15
        if kind == "product":
            assert e["product_inliers"] >= 15
    clusters = result["network"]["cluster_links"]
    assert all(link["why"] for c in clusters for link in c["links"])
    assert (out / "links.csv").read_text(encoding="utf-8").count("\n") == 1 + len(EXPECTED)


def test_linked_cases_record_and_report_their_links(batch):
    out, _ = batch
    case = next((out / "cases").glob("s5_bunny_german-*"))
    links = json.loads((case / "links.json").read_text(encoding="utf-8"))["links"]
    assert [x["kinds"] for x in links] == [["footage"]]
    assert links[0]["footage"][0]["threshold"] > 0 and links[0]["footage"][0]["method"]
    html = (case / "report" / "report.html").read_text(encoding="utf-8")
    assert 'id="links"' in html and "s6_bunny_excerpt" in html
    actions = [json.loads(x)["action"] for x in (case / "custody.jsonl").read_text().splitlines()]
    assert actions[-3:] == ["links", "report", "seal"]
    from lsforensics.evidence.verify import verify_case

    assert verify_case(case).ok
