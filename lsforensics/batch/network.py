"""Cross-stream links: the "map of selling networks".

Two streams are linked when they imply the same brand, use the same code-word or slang term,
match the same reference product, or show near-identical frames (perceptual hash); and, from the
per-case link stages (:mod:`lsforensics.links`), when they have the same voice, share footage
(audio fingerprint or video signature over a time range) or show the same product. Every edge
carries why it exists (``reasons``) with the scores and thresholds behind it. Frame
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
from ..errors import LsfError
from ..findings import FindingsDoc
from ..links.compare import CaseLinks, CaseSignals, compare_signals
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


EDGE_COLOURS = {"voice": "#7b1fa2", "footage": "#c62828", "product": "#2e7d32", "shared terms/brands/frames": "#9e9e9e"}


def cross_links(cases: dict[str, Path]) -> dict[tuple[str, str], CaseLinks]:
    """Voice, footage and product links of every pair of cases (cases without the files: none)."""
    signals: dict[str, CaseSignals] = {}
    for node, case_dir in cases.items():
        try:
            signals[node] = CaseSignals.load(case_dir)
        except LsfError:
            continue  # an unreadable case links nothing; its own row says why
    out = {}
    for a, b in combinations(sorted(signals), 2):
        link = compare_signals(signals[a], signals[b])
        if link.kinds:
            out[(a, b)] = link
    return out


def build_network(cases: dict[str, Path], links: dict[tuple[str, str], CaseLinks] | None = None) -> nx.Graph:
    """``cases``: node id (the video path) -> case folder; ``links``: from :func:`cross_links`."""
    links = links or {}
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
        link = links.get((a, b))
        kinds = link.kinds if link else []
        weight = len(sb) + len(st) + 2 * len(sr) + min(nf, 5) + 3 * len(kinds)
        if weight:
            reasons = (link.reasons() if link else []) + [
                f"shared {what}: {'; '.join(sorted(items))}" for what, items in
                (("brands", sb), ("code-words/slang", st), ("reference products", sr)) if items]
            if nf:
                reasons.append(f"{nf} near-identical frame pairs (perceptual hash)")
            voice = max((m.score for m in link.voice), default=None) if link else None
            g.add_edge(a, b, weight=weight, brands=";".join(sorted(sb)), terms=";".join(sorted(st)),
                       references=";".join(sorted(sr)), near_duplicate_frames=nf, kinds=";".join(kinds),
                       voice=bool(link and link.same_voices), voice_score=voice if voice is not None else -1.0,
                       voice_threshold=link.voice[0].threshold if link and link.voice else -1.0,
                       footage=bool(link and link.footage),
                       footage_seconds=max((r.seconds for r in link.footage), default=0.0) if link else 0.0,
                       footage_ranges=";".join(f"{r.medium} {r.a_start}-{r.a_end}={r.b_start}-{r.b_end}"
                                               for r in link.footage) if link else "",
                       product=bool(link and link.products), product_matches=len(link.products) if link else 0,
                       product_inliers=max((p.inliers for p in link.products), default=0) if link else 0,
                       reasons=" | ".join(reasons))
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
    write_links_table(g, membership, out_dir)
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
        for kind, edge_colour in EDGE_COLOURS.items():
            es = [e for e in g.edges if _edge_kind(g.edges[e]) == kind]
            if es:
                nx.draw_networkx_edges(g, pos, ax=ax, edgelist=es, alpha=0.7, edge_color=edge_colour,
                                       width=[0.8 + min(g.edges[e]["weight"], 10) * 0.4 for e in es])
        nx.draw_networkx_nodes(g, pos, ax=ax, node_size=[200 + 40 * g.nodes[n]["findings"] for n in g.nodes],
                               node_color=[colour.get(membership.get(n), (0.7, 0.7, 0.7, 1)) for n in g.nodes])
        for a, b in g.edges:  # every kind of an edge, written on it (the colour shows the strongest)
            if g.edges[a, b].get("kinds"):
                (xa, ya), (xb, yb) = pos[a], pos[b]
                ax.text((xa + xb) / 2, (ya + yb) / 2, g.edges[a, b]["kinds"].replace(";", " + "), fontsize=6,
                        ha="center", va="center", color="#333333",
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
        for n, (x, y) in pos.items():  # by hand: networkx labels take no font file, names are Chinese
            ax.text(x, y, g.nodes[n]["label"][:24], fontsize=7, ha="center", va="center", fontproperties=fp)
    from matplotlib.lines import Line2D

    kinds = {_edge_kind(g.edges[e]) for e in g.edges}
    handles = [Line2D([0], [0], color=c, lw=2.5, label=k if k != "footage" else "footage (audio/video)")
               for k, c in EDGE_COLOURS.items() if k in kinds]
    if handles:
        ax.legend(handles=handles, title="link", loc="lower left", fontsize=7, title_fontsize=7, frameon=False)
    ax.set_title(f"Streams linked by voice, footage, products, brands, code-words, references and frames "
                 f"({g.number_of_nodes()} streams, {len(set(membership.values()))} clusters)", fontsize=9)
    ax.axis("off")
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
    plt.close(fig)


def _edge_kind(attrs: dict[str, Any]) -> str:
    """The strongest reason an edge exists, for its colour (footage > voice > product > the rest)."""
    for k in ("footage", "voice", "product"):
        if attrs.get(k):
            return k
    return "shared terms/brands/frames"


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
    """Counts, and each cluster with its members and why each of its links exists."""
    out = []
    for i, comp in enumerate(clusters(g), 1):
        sub = g.subgraph(comp)
        out.append({"cluster": f"C{i}", "streams": [Path(n).name for n in comp],
                    "links": [{"a": Path(a).name, "b": Path(b).name, "kinds": sub.edges[a, b].get("kinds", ""),
                               "why": sub.edges[a, b].get("reasons", "")} for a, b in sorted(sub.edges)]})
    return {"nodes": g.number_of_nodes(), "edges": g.number_of_edges(),
            "clusters": [c["streams"] for c in out], "cluster_links": out}


def write_links_table(g: nx.Graph, membership: dict[str, str], out_dir: Path) -> None:
    """links.csv: one row per link, with its cluster and why it exists."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["cluster", "a", "b", "kinds", "voice_score", "voice_threshold", "footage_seconds",
                "footage_ranges", "product_matches", "brands", "terms", "near_duplicate_frames", "why"])
    for a, b in sorted(g.edges):
        e = g.edges[a, b]
        w.writerow([membership.get(a, ""), a, b, e.get("kinds", ""), e.get("voice_score"), e.get("voice_threshold"),
                    e.get("footage_seconds"), e.get("footage_ranges"), e.get("product_matches"), e.get("brands"),
                    e.get("terms"), e.get("near_duplicate_frames"), e.get("reasons")])
    with atomic_output(out_dir / "links.csv") as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8")
