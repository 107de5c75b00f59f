"""Cross-stream links: the "map of selling networks".

Two streams are linked when they imply the same brand, use the same code-word or slang term,
match the same reference product, or show near-identical frames (perceptual hash). Frame
matching uses banded lookup (pigeonhole: with distance <= d, one of d+1 bands is identical), so
an archive of thousands of streams needs no all-pairs comparison. Near-blank frames (almost all
hash bits equal) are ignored: a black screen links nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from itertools import combinations
from pathlib import Path
from typing import Any

import networkx as nx

from ..case import atomic_output
from ..findings import FindingsDoc
from .summary import case_findings

FRAME_DISTANCE = 4
MAX_BUCKET = 2000  # buckets larger than this are generic imagery; skipped


def _frame_hashes(case_dir: Path) -> list[int]:
    try:
        frames = json.loads((case_dir / "media" / "frames.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    out = []
    for f in frames:
        try:
            h = int(f.get("phash", ""), 16)
        except ValueError:
            continue
        if 8 <= bin(h).count("1") <= 56:
            out.append(h)
    return out


def _near_duplicate_pairs(hashes: dict[str, list[int]], distance: int = FRAME_DISTANCE) -> dict[tuple[str, str], int]:
    bands = distance + 1
    width = 64 // bands
    buckets: dict[tuple[int, int], set[tuple[str, int]]] = defaultdict(set)
    for node, hs in hashes.items():
        for h in set(hs):
            for b in range(bands):
                buckets[(b, (h >> (b * width)) & ((1 << width) - 1))].add((node, h))
    pairs: dict[tuple[str, str], set[tuple[int, int]]] = defaultdict(set)
    for members in buckets.values():
        if len(members) < 2 or len(members) > MAX_BUCKET:
            continue
        for (n1, h1), (n2, h2) in combinations(sorted(members), 2):
            if n1 != n2 and bin(h1 ^ h2).count("1") <= distance:
                key = (n1, n2) if n1 < n2 else (n2, n1)
                pairs[key].add((min(h1, h2), max(h1, h2)))
    return {k: len(v) for k, v in pairs.items()}


def build_network(cases: dict[str, Path]) -> nx.Graph:
    """``cases``: node id (the video path) -> case folder."""
    g = nx.Graph()
    brands: dict[str, set[str]] = {}
    terms: dict[str, set[str]] = {}
    refs: dict[str, set[str]] = {}
    hashes: dict[str, list[int]] = {}
    for node, case_dir in cases.items():
        fs = case_findings(case_dir).findings
        brands[node] = set(FindingsDoc(fs).brands())
        terms[node] = {f.term for f in fs if f.term and f.kind in ("brand_codeword", "counterfeit_slang")}
        refs[node] = {str(f.extra.get("reference") or f.rule) for f in fs if f.kind == "logo_match"}
        hashes[node] = _frame_hashes(case_dir)
        g.add_node(node, label=Path(node).name, case=str(case_dir), findings=len(fs),
                   brands=";".join(sorted(brands[node])))
    dup = _near_duplicate_pairs(hashes)
    for a, b in combinations(sorted(cases), 2):
        sb, st, sr = brands[a] & brands[b], terms[a] & terms[b], refs[a] & refs[b]
        nf = dup.get((a, b), 0)
        weight = len(sb) + len(st) + 2 * len(sr) + min(nf, 5)
        if weight:
            g.add_edge(a, b, weight=weight, brands=";".join(sorted(sb)), terms=";".join(sorted(st)),
                       references=";".join(sorted(sr)), near_duplicate_frames=nf)
    return g


def clusters(g: nx.Graph) -> list[list[str]]:
    comps = [sorted(c) for c in nx.connected_components(g) if len(c) > 1]
    return sorted(comps, key=lambda c: (-len(c), c))


def write_network(g: nx.Graph, out_dir: Path) -> dict[str, str]:
    """Write network.graphml and network.png; return {node: cluster id}."""
    comps = clusters(g)
    membership = {n: f"C{i}" for i, comp in enumerate(comps, 1) for n in comp}
    for n in g.nodes:
        g.nodes[n]["cluster"] = membership.get(n, "")
    with atomic_output(out_dir / "network.graphml") as tmp:
        nx.write_graphml(g, tmp)
    _draw(g, membership, out_dir / "network.png")
    return membership


def _draw(g: nx.Graph, membership: dict[str, str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fp = _cjk_font()
    fig, ax = plt.subplots(figsize=(10, 7), dpi=110)
    if g.number_of_nodes():
        pos = nx.spring_layout(g, seed=0, weight="weight")
        ids = sorted(set(membership.values()))
        colour = {c: plt.cm.tab10(i % 10) for i, c in enumerate(ids)}
        nx.draw_networkx_edges(g, pos, ax=ax, alpha=0.4,
                               width=[0.5 + g.edges[e]["weight"] * 0.5 for e in g.edges])
        nx.draw_networkx_nodes(g, pos, ax=ax, node_size=[200 + 40 * g.nodes[n]["findings"] for n in g.nodes],
                               node_color=[colour.get(membership.get(n), (0.7, 0.7, 0.7, 1)) for n in g.nodes])
        for n, (x, y) in pos.items():  # by hand: networkx labels take no font file, names are Chinese
            ax.text(x, y, g.nodes[n]["label"][:24], fontsize=7, ha="center", va="center", fontproperties=fp)
    ax.set_title(f"Streams linked by shared brands, code-words, references and frames "
                 f"({g.number_of_nodes()} streams, {len(set(membership.values()))} clusters)", fontsize=9)
    ax.axis("off")
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
    plt.close(fig)


def _cjk_font() -> Any:
    """Stream names are Chinese: draw them with the CJK font the PDF report embeds."""
    from matplotlib.font_manager import FontProperties

    from ..errors import InputError
    from ..report.pdf import find_cjk_font

    try:
        path, _ = find_cjk_font()
    except InputError:
        return None
    return FontProperties(fname=path, size=7)


def network_json(g: nx.Graph) -> dict[str, Any]:
    return {"nodes": g.number_of_nodes(), "edges": g.number_of_edges(),
            "clusters": [[Path(n).name for n in c] for c in clusters(g)]}
