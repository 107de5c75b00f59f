"""Score a case's findings against the realistic generator's ground truth (tests/realistic.py).

A finding is *true* when the stream planted what it reports where it reports it:

* text kinds in speech: the finding overlaps (±1 s) a line that plants that kind;
* chat / screen_chat: the comment it quotes plants that kind (假的吧 and 是正品吗 are viewers'
  doubts, "H家的皮带还有吗" a code-word, "这个一比一吗" slang; "明天放假的吧" plants nothing);
* masked_logo: inside an episode whose product carries a cover, the box on that cover;
* logo_match: inside an episode showing the real photo of that brand;
* spec_mismatch: the page of the episode in which the claim was made, on an attribute where that
  page contradicts what the host says (a comparison with another product's page is counted apart);
* brand_conflict: the page of an episode whose lines imply that brand;
* price_anomaly: the host's spoken reference price (zh_06) or a price while a brand is implied.

Everything else is a false finding. ``python tests/realistic_eval.py CASE STREAM_FOLDER`` prints
the table.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realistic import COVER_FAMILY, COVERS, PHOTOS  # noqa: E402

TTS_BRAND = {"zh_02.flac": "Chanel", "zh_03.flac": "Louis Vuitton", "zh_15.flac": "Dior", "zh_06.flac": "Hermès"}
CHAT_PLANTS = {"假的吧": {"viewer_doubt"}, "是正品吗": {"viewer_doubt"}, "H家的皮带还有吗": {"brand_codeword"},
               "这个一比一吗": {"counterfeit_slang"}}
# what each host claim line is about on its product's page: page attribute keys it speaks to
CLAIM_KEYS = {"zh_04.flac": ("面料成分",), "zh_05.flac": ("面料成分",), "zh_06.flac": ("材质",),
              "zh_10.flac": ("材质", "产地"), "zh_16.flac": ("面料成分",)}
TEXT_KINDS = ("brand_codeword", "brand_mention", "counterfeit_slang", "absolute_claim", "health_claim", "viewer_doubt")


def _iou(a: list[float], b: list[float]) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    u = a[2] * a[3] + b[2] * b[3] - iw * ih
    return iw * ih / u if u > 0 else 0.0


@dataclass
class Score:
    hours: float
    false: Counter = field(default_factory=Counter)
    true: Counter = field(default_factory=Counter)
    recall: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (found, planted)
    cross_product: int = 0
    false_items: list[str] = field(default_factory=list)
    masked_by_cover: dict[str, tuple[int, int]] = field(default_factory=dict)

    def per_hour(self) -> dict[str, float]:
        kinds = sorted(set(self.false) | set(self.true))
        return {k: round(self.false[k] / self.hours, 1) for k in kinds}

    def total_false_per_hour(self) -> float:
        return round(sum(self.false.values()) / self.hours, 1)

    def merge(self, o: Score) -> Score:
        out = Score(self.hours + o.hours, self.false + o.false, self.true + o.true, {}, self.cross_product + o.cross_product,
                    self.false_items + o.false_items, {})
        for src, dst in ((self.recall, out.recall), (o.recall, out.recall)):
            for k, (a, b) in src.items():
                x, y = dst.get(k, (0, 0))
                dst[k] = (x + a, y + b)
        for src in (self.masked_by_cover, o.masked_by_cover):
            for k, (a, b) in src.items():
                x, y = out.masked_by_cover.get(k, (0, 0))
                out.masked_by_cover[k] = (x + a, y + b)
        return out

    def table(self) -> str:
        rows = [f"{self.hours * 60:.1f} min of stream; false findings per hour: total {self.total_false_per_hour()}"]
        for k, v in self.per_hour().items():
            rows.append(f"  {k:<18} false {self.false[k]:>3} ({v:>5}/h)   true {self.true[k]:>3}")
        for k, (a, b) in sorted(self.recall.items()):
            rows.append(f"  recall {k:<24} {a}/{b} = {a / b:.2f}" if b else f"  recall {k:<24} 0/0")
        rows.append(f"  spec comparisons across products: {self.cross_product}")
        if self.masked_by_cover:
            rows.append("  masked-logo recall by cover: " + ", ".join(
                f"{k} {a}/{b}" for k, (a, b) in sorted(self.masked_by_cover.items())))
        return "\n".join(rows)


def _episode_at(eps: list[dict[str, Any]], t: float | None) -> dict[str, Any] | None:
    if t is None:
        return None
    return next((e for e in eps if e["start"] <= t < e["end"]), eps[-1] if eps and t >= eps[-1]["start"] else None)


def _brands(ep: dict[str, Any] | None) -> set[str]:
    """Brands the host's lines imply in an episode."""
    return {TTS_BRAND[ln["file"]] for ln in (ep["lines"] if ep else []) if ln.get("file") in TTS_BRAND}


def _page_of(f: dict[str, Any]) -> str:
    return Path(str((f.get("spec") or {}).get("page") or "")).name.split("-", 1)[-1]


def score(truth: dict[str, Any], findings: list[dict[str, Any]]) -> Score:
    eps = truth["episodes"]
    lines = truth["lines"]
    sc = Score(hours=truth["duration"] / 3600)
    page_name = {e["index"]: f"page_link{e['link']:02d}.json" for e in eps if e.get("page")}
    samples = truth.get("samples") or []
    samples_of: dict[int, list[dict[str, Any]]] = {}
    for smp in samples:
        samples_of.setdefault(smp.get("episode"), []).append(smp)
    found_masked: set[int] = set()
    found_logo: set[int] = set()
    found_spec: set[tuple[int, str]] = set()
    found_conflict: set[tuple[int, str]] = set()
    found_lines: dict[tuple[int, str], bool] = {}

    def false(f: dict[str, Any], why: str) -> None:
        sc.false[f["kind"]] += 1
        sc.false_items.append(f"{f['kind']} {f['source']} {f.get('start')} {f.get('matched')!r} "
                              f"{(f.get('quote') or '')[:40]!r}: {why}")

    for f in findings:
        k, src, t = f["kind"], f["source"], f.get("start")
        ep = _episode_at(eps, t)
        if k in TEXT_KINDS and src in ("chat", "screen_chat"):
            q = str(f.get("quote") or "")
            if any(k in kinds and c in q for c, kinds in CHAT_PLANTS.items()):
                sc.true[k] += 1
            else:
                false(f, "viewer comment plants nothing of this kind")
        elif k == "brand_codeword" and src == "screen" and ep and f.get("brand") in _brands(ep):
            sc.true[k] += 1  # the seller's own card or caption names the brand the host implies (老花托特包)
        elif k in TEXT_KINDS or (k == "price_anomaly" and src == "speech" and f.get("reference_kind") == "spoken"):
            hit = [i for i, ln in enumerate(lines) if k in ln["plants"] and t is not None
                   and ln["start"] - 1.0 <= t <= ln["end"] + 1.0]
            if hit and src == "speech":
                sc.true[k] += 1
                for i in hit:
                    found_lines[(i, k)] = True
            else:
                false(f, f"no planted {k} line here ({src})")
        elif k == "masked_logo":
            cover = ep and ep["cover"] in COVERS
            box = f.get("bbox")
            # the truth sample nearest in time within the finding's own episode: a frame just
            # after a cut is compared with its own product's cover, not with the previous shot's
            own = (samples_of.get(ep["index"]) if ep else None) or samples
            near = min(own, key=lambda s: abs(s["t"] - t), default=None) if t is not None else None
            on = bool(cover and near and near.get("cover_box") and box and _iou(box, near["cover_box"]) >= 0.1)
            if on:
                sc.true[k] += 1
                found_masked.add(ep["index"])
            else:
                false(f, "no cover in this episode" if not cover else "box not on the cover")
        elif k == "logo_match":
            brand = ep and ep["product"].startswith("photo:") and PHOTOS[ep["product"][6:]]["brand"]
            if brand and f.get("brand") == brand:
                sc.true[k] += 1
                found_logo.add(ep["index"])
            else:
                false(f, "no such brand's photo on show")
        elif k == "spec_mismatch":
            page = _page_of(f)
            claim_ep = ep
            if claim_ep is None or page_name.get(claim_ep["index"]) != page:
                sc.cross_product += 1
                false(f, f"compared with {page}, the claim was made in episode "
                         f"{claim_ep and claim_ep['index']} ({claim_ep and claim_ep['product']})")
                continue
            attr = (f.get("spec") or {}).get("attribute")
            if attr in claim_ep["page_mismatch"]:
                sc.true[k] += 1
                found_spec.add((claim_ep["index"], attr))
            else:
                false(f, f"the page agrees with the host on {attr}")
        elif k == "brand_conflict":
            page = _page_of(f)
            e = next((e for e in eps if page_name.get(e["index"]) == page), None)
            if e and f.get("brand") in _brands(e):
                sc.true[k] += 1
                found_conflict.add((e["index"], f["brand"]))
            else:
                false(f, "no such brand implied while this page's product was on sale")
        elif k == "price_anomaly":
            if src == "page":  # a page's price: the episode of that page
                ep = next((e for e in eps if page_name.get(e["index"]) == Path(str(f.get("page") or "")).name.split("-", 1)[-1]),
                          None)
            if f.get("brand") and f.get("brand") in _brands(ep):
                sc.true[k] += 1
            else:
                false(f, "price of a product no brand was implied for")
        else:
            false(f, "unexpected kind")
    # recall
    planted_lines = [(i, k) for i, ln in enumerate(lines) for k in ln["plants"]]
    by_kind = defaultdict(lambda: [0, 0])
    for i, k in planted_lines:
        by_kind[k][1] += 1
        by_kind[k][0] += found_lines.get((i, k), False)
    for k, (a, b) in by_kind.items():
        sc.recall[f"speech {k}"] = (a, b)
    covered = [e for e in eps if e["cover"] in COVERS]
    sc.recall["masked_logo"] = (sum(e["index"] in found_masked for e in covered), len(covered))
    for e in covered:
        key = f"{COVER_FAMILY[e['cover']]}/{'photo' if e['product'].startswith('photo:') else 'drawn'}"
        a, b = sc.masked_by_cover.get(key, (0, 0))
        sc.masked_by_cover[key] = (a + (e["index"] in found_masked), b + 1)
    ref_eps = [e for e in eps if e["product"].startswith("photo:") and PHOTOS[e["product"][6:]]["reference"]]
    sc.recall["logo_match (photo episodes)"] = (sum(e["index"] in found_logo for e in ref_eps), len(ref_eps))
    planted_spec = {(e["index"], key) for e in eps for ln in e["lines"] if ln.get("file") in CLAIM_KEYS
                    for key in CLAIM_KEYS[ln["file"]] if key in e["page_mismatch"]}
    sc.recall["spec_mismatch"] = (len(found_spec & planted_spec), len(planted_spec))
    planted_conf = {(e["index"], TTS_BRAND[ln["file"]]) for e in eps if e.get("page") for ln in e["lines"]
                    if ln.get("file") in TTS_BRAND}
    sc.recall["brand_conflict"] = (len(found_conflict & planted_conf), len(planted_conf))
    return sc


def score_case(case: Path, stream_folder: Path) -> Score:
    truth = json.loads((stream_folder / "truth.json").read_text(encoding="utf-8"))
    findings = json.loads((case / "findings.json").read_text(encoding="utf-8"))["findings"]
    return score(truth, findings)


if __name__ == "__main__":  # pragma: no cover
    s = score_case(Path(sys.argv[1]), Path(sys.argv[2]))
    print(s.table())
    if "-v" in sys.argv:
        print("\n".join(s.false_items))
