"""Masked-logo detection: tape, stickers, blur and mosaic over a region of a product.

No detector weights exist offline, so this is classical vision, built on what makes a cover
patch different from the rest of a livestream frame:

* **Cover patches (tape, sticker)** are much *flatter* than the surface they sit on and meet it
  at a colour step: low local Laplacian energy inside, a textured ring around, a uniform colour
  different from the ring's. They are convex rectangles or discs.
* **Blur boxes** also lose the fine texture of the surface (low Laplacian energy inside while the
  ring stays textured) but not its colour variation: a blurred logo is smeared, not removed.
* **Mosaic** is piecewise constant on a square lattice: gradient energy sits on straight lines
  every ``b`` pixels, with about the same ``b`` in both directions.

The ring test is what keeps flat things of the scene away: a plain wall, a defocused room, a sky,
a flat-shaded cartoon are flat *and* surrounded by flat; a price sticker carries text and is not
flat; an object of the scene borders different things on different sides, while a cover is
surrounded by the one product it sits on. A second, looser pass finds covers with a faint
texture of their own (paper tape) and requires the carrier surface to be an object inside the
picture rather than the backdrop. Tracking over frames (``lsforensics.detect.visual``) then asks
whether a candidate persists and moves with the product, which is what makes it evidence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from .layout import fill_holes

MIN_BLOCK = 7  # smallest mosaic block (work pixels) we claim to recognise
WORK_SIDE = 960  # analysis long side: logos stay > 30 px and mosaic blocks >= 7 px at this size. Not
# more: at native 1280 px the 8-px JPEG block grid reads as a mosaic lattice (measured: 24 of 65
# frames of Big Buck Bunny and the phone clip flagged at 1280, none at 960)


@dataclass(frozen=True)
class MaskParams:
    detail_low: float = 8.0  # local Laplacian energy (grey levels) below which a pixel is "flat"
    detail_low_textured: float = 26.0  # second pass: covers with a faint texture of their own
    min_detail_ratio_textured: float = 2.0  # ... on a product with at least twice that texture
    detail_textured: float = 5.0  # ring pixels at or above this count as textured surface
    min_area: float = 0.0015  # region area as a fraction of the frame
    max_area: float = 0.10
    min_ring_textured: float = 0.6  # share of the ring that must be textured (on a product, not a wall)
    min_detail_ratio: float = 3.5  # ring detail / inside detail
    flat_std: float = 7.0  # grey std inside a cover patch
    flat_std_translucent: float = 14.0  # ... with the faint print under a translucent cover inside it
    max_print_contrast: float = 45.0  # grey levels: print seen through a cover is fainter than this
    cover_step: float = 18.0  # Lab distance between a cover's colour and the ring's
    mosaic_score: float = 0.45  # lattice concentration in x and y (0 random .. 1 perfect)
    mosaic_step: float = 4.0  # mean grey step across block edges
    min_regularity: float = 0.86  # IoU of the region with its best rectangle or ellipse (outline band aside)
    max_ring_spread: float = 22.0  # Lab spread of the ring's sectors (one surface around)
    min_blur_area: float = 0.004  # blur boxes over a logo: at least ~45x45 px in a 960x540 frame
    carrier_color_tol: float = 14.0  # Lab distance that still counts as the same surface
    carrier_max_area: float = 0.4  # a product occupies less of the frame than this
    min_edit_box_area: float = 0.005  # a blur box straddling a product edge must be at least this big
    # The product the camera is on is the in-focus object: a cover sits on it, a defocused room
    # behind it is no cover however flat (issue 14: "blur" raised nine times on a soft background).
    focus_level: float = 10.0  # local detail at or above this is in focus (a defocused room measures 4-6)
    focus_rel: float = 0.15  # ... and at least this share of the frame's 95th percentile of detail
    min_on_product: float = 0.5  # share of a candidate inside the in-focus product region
    min_ring_focus: float = 0.45  # share of the ring in focus for a cover reaching over the product's edge
    max_ring_focus_over_edge: float = 0.85  # ... part of that ring is the soft background
    max_product_share: float = 0.7  # ... on a product that is a distinct object, not the whole sharp frame
    min_outline_focus: float = 0.7  # ... with a sharp outline (a patch of the soft scene has a soft one)
    max_ui_share: float = 0.2  # a candidate more than this much on the platform's UI is UI
    # Print repeats its inks (issue 14: the O of OAT-LY!, a flat blue disc, was called a sticker).
    sibling_color_tol: float = 12.0  # Lab distance of a sibling shape's colour to the candidate's
    min_sibling_share: float = 0.05  # a sibling is at least this share of the candidate's area
    max_sibling_ink: float = 0.2  # siblings' area (share of the candidate's) that makes it print


@dataclass
class MaskRegion:
    kind: str  # tape | sticker | blur | mosaic
    box: list[float]  # [x, y, w, h] in the pixels of the image passed in
    confidence: float
    scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _work(bgr: np.ndarray) -> tuple[np.ndarray, float]:
    long_side = max(bgr.shape[:2])
    if long_side <= WORK_SIDE:
        return bgr, 1.0
    f = WORK_SIDE / long_side
    return cv2.resize(bgr, (round(bgr.shape[1] * f), round(bgr.shape[0] * f)), interpolation=cv2.INTER_AREA), f


def detail_map(gray: np.ndarray) -> np.ndarray:
    """Local high-frequency energy: mean |Laplacian| over a 9x9 window."""
    lap = np.abs(cv2.Laplacian(gray, cv2.CV_32F, ksize=3))
    return cv2.blur(lap, (9, 9))


def _components(low: np.ndarray, min_core: int) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Connected flat regions big enough to matter, with thin bridges cut.

    A patch touching a flat wall through a gap in the texture would merge with it; eroding,
    labelling the cores and growing each core back inside the flat mask keeps them apart.
    """
    k7 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    core = cv2.erode(low, k7)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(core, connectivity=4)
    keep = [i for i in range(1, n) if stats[i][4] >= min_core]
    labels = cv2.dilate(labels.astype(np.float32), k7).astype(np.int32) * low
    stats = stats.copy()
    for i in keep:
        ox, oy = max(0, int(stats[i][0]) - 4), max(0, int(stats[i][1]) - 4)
        ys_, xs_ = np.nonzero(labels[oy:stats[i][1] + stats[i][3] + 4, ox:stats[i][0] + stats[i][2] + 4] == i)
        if ys_.size:
            stats[i] = [xs_.min() + ox, ys_.min() + oy, int(np.ptp(xs_)) + 1, int(np.ptp(ys_)) + 1, ys_.size]
    return keep, labels, stats


@dataclass
class _Context:
    """Per-frame facts every candidate is judged against."""

    product: np.ndarray  # uint8 mask of the in-focus product region (holes filled)
    focus: np.ndarray  # bool: pixel in focus
    focus_level: float
    ui: np.ndarray | None  # bool: platform UI (static overlay, comment column)


def product_region(detail: np.ndarray, ui: np.ndarray | None, p: MaskParams) -> tuple[np.ndarray, np.ndarray, float]:
    """(product mask, in-focus mask, focus level) of one frame.

    In focus: local detail above an absolute floor and a share of the frame's own detail range
    (a phone frame of a product in hand is sharp on the product and soft behind it). The product
    region is the in-focus area closed and with its holes filled (a cover on the product is a
    hole in its texture), less the UI; small specks are dropped."""
    vals = detail if ui is None else detail[~ui]
    top = float(np.percentile(vals, 95)) if vals.size else 0.0
    level = max(p.focus_level, p.focus_rel * top)
    focus = detail >= level
    if ui is not None:
        focus &= ~ui
    h, w = detail.shape
    k = max(5, int(0.03 * max(h, w)) | 1)
    closed = cv2.morphologyEx(focus.astype(np.uint8), cv2.MORPH_CLOSE,
                              cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    prod = np.zeros((h, w), np.uint8)
    for c in range(1, n):
        if stats[c][4] >= 0.01 * h * w:
            prod[labels == c] = 1
    prod = fill_holes(prod)  # a cover is a hole in the product's texture
    if ui is not None:
        prod[ui] = 0
    return prod, focus, level


def _flat_candidates(bgr: np.ndarray, gray: np.ndarray, detail: np.ndarray, p: MaskParams,
                     reasons: list[tuple[list[float], str]] | None = None,
                     ctx: _Context | None = None) -> list[MaskRegion]:
    lab = cv2.cvtColor(cv2.GaussianBlur(bgr, (0, 0), 1.5), cv2.COLOR_BGR2Lab).astype(np.float32)
    out: list[MaskRegion] = []
    min_core = int(0.3 * p.min_area * gray.size)
    # Two passes: "no texture at all" finds blur boxes and flat covers; "much less texture than
    # around it" finds covers that have a faint texture of their own (paper tape, matte stickers)
    # on a strongly textured product, and only covers: blur needs the first pass's evidence.
    for level, min_ratio, covers_only in ((p.detail_low, p.min_detail_ratio, False),
                                          (p.detail_low_textured, p.min_detail_ratio_textured, True)):
        low = (detail < level).astype(np.uint8)
        keep, labels, stats = _components(low, min_core)
        for i in keep:
            r = _assess(i, labels, stats, bgr, gray, detail, lab, p, min_ratio, covers_only, ctx)
            if isinstance(r, MaskRegion) and r.kind != "blur":
                _join_split_pieces(r, i, labels, lab, p, ctx)
            if isinstance(r, MaskRegion):
                same = [o for o in out if box_iou(r.box, o.box) >= 0.3]
                if not same:
                    out.append(r)
                elif all(r.scores.get("pieces", 1) > o.scores.get("pieces", 1) for o in same):
                    # the second pass joined pieces of the cover that the first found one of
                    out = [o for o in out if o not in same] + [r]
            elif reasons is not None and r:
                reasons.append(([float(v) for v in stats[i][:4]], f"level {level}: {r}"))
    return out


def _join_split_pieces(r: MaskRegion, i: int, labels: np.ndarray, lab: np.ndarray, p: MaskParams,
                       ctx: _Context | None) -> None:
    """Widen a uniform cover to the other flat pieces of the same patch that its own print split off.

    A printed sticker is one patch of one ink cut by its text: the strip above the text and the
    strip below it are separate flat regions, and the one that passed alone is a third of the
    sticker. A piece joins when it has the cover's colour, lies within the cover's short
    side of it, and the pieces together (their convex hull, the print between them included)
    are still a regular rectangle or disc mostly made of the pieces. Only the box grows: the
    cover was accepted on its own evidence."""
    h, w = labels.shape
    x, y, bw, bh = (int(v) for v in r.box)
    gap = max(4, int(min(bw, bh)))
    near = labels[max(0, y - gap):y + bh + gap, max(0, x - gap):x + bw + gap]
    # the pieces are judged whole, in a window wide enough to hold a piece as big as the cover
    X0, Y0, X1, Y1 = max(0, x - 3 * gap), max(0, y - 3 * gap), min(w, x + bw + 3 * gap), min(h, y + bh + 3 * gap)
    win = labels[Y0:Y1, X0:X1]
    own = win == i
    area = int(own.sum())
    if not area:
        return
    colour = lab[Y0:Y1, X0:X1][own].mean(0)
    union = own.copy()
    pieces = 1
    for j in np.unique(near):
        if j in (0, i):
            continue
        mj = win == j
        nj = int(mj.sum())
        if nj < p.min_sibling_share * area or nj > 2 * area:
            continue
        if int((labels == j).sum()) > nj:
            continue  # reaches beyond the window: the product's surface, not a piece of this patch
        if float(np.linalg.norm(lab[Y0:Y1, X0:X1][mj].mean(0) - colour)) > p.sibling_color_tol:
            continue
        if ctx is not None and float(ctx.product[Y0:Y1, X0:X1][mj].mean()) < p.min_on_product:
            continue
        union |= mj
        pieces += 1
    if pieces == 1:
        return
    u = union.astype(np.uint8)
    pts = cv2.findNonZero(u)
    hull = cv2.convexHull(pts)
    hm = np.zeros_like(u)
    cv2.fillPoly(hm, [hull], 1)
    if float(u.sum()) / max(1.0, float(hm.sum())) < 0.6:
        return
    if _regularity(hm, hull) < p.min_regularity:
        return
    hx, hy, hw, hh = cv2.boundingRect(hull)
    if hw * hh > p.max_area * h * w:
        return
    g = 4  # the detail window's reach, as for a single cover's box
    bx0, by0 = max(0, hx + X0 - g), max(0, hy + Y0 - g)
    bx1, by1 = min(w, hx + X0 + hw + g), min(h, hy + Y0 + hh + g)
    r.box = [float(min(bx0, x)), float(min(by0, y)), 0.0, 0.0]
    r.box[2] = float(max(bx1, x + bw)) - r.box[0]
    r.box[3] = float(max(by1, y + bh)) - r.box[1]
    r.scores["pieces"] = pieces


def _assess(i: int, labels: np.ndarray, stats: np.ndarray, bgr: np.ndarray, gray: np.ndarray, detail: np.ndarray,
            lab: np.ndarray, p: MaskParams, min_ratio: float, covers_only: bool,
            ctx: _Context | None = None) -> MaskRegion | str:
    """One flat region -> a MaskRegion, or the reason it is not one."""
    h, w = gray.shape
    x, y, bw, bh, area = (int(v) for v in stats[i])
    frac = area / float(h * w)
    if not (p.min_area <= frac <= p.max_area):
        return ""  # too small/large: not worth a reason line (there are thousands)
    if x <= 2 or y <= 2 or x + bw >= w - 2 or y + bh >= h - 2:
        return "touches the frame edge (background)"
    x0, y0 = max(0, x - 40), max(0, y - 40)
    x1, y1 = min(w, x + bw + 40), min(h, y + bh + 40)
    comp = (labels[y0:y1, x0:x1] == i).astype(np.uint8)
    holes = 0
    flat_part = comp
    if ctx is not None:
        # A translucent sticker or tape lets the logo's strokes through: its flat part is a ring
        # around them. The hole is part of the cover (and must still be near-uniform, below).
        # Print reaching the cover's edge breaks that ring (LUXE under a frosted disc): the ring
        # is closed over gaps up to a tenth of its size before its hole is filled.
        kc = max(5, int(0.1 * np.sqrt(area)) | 1)
        closed = cv2.morphologyEx(comp, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kc, kc)))
        filled = fill_holes(closed)
        if int(filled.sum()) == int(closed.sum()):
            filled = comp  # nothing enclosed: the region is judged as it is
        holes = int(filled.sum()) - int(comp.sum())
        hole_px = (filled > 0) & (comp == 0)
        if holes:
            comp, area = filled, int(filled.sum())
    contours, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    contour = max(contours, key=cv2.contourArea)
    # Shape on the rotated rectangle: a strip of tape at 25 degrees fills half its upright box.
    (_c, (rw, rh), _a) = cv2.minAreaRect(contour)
    aspect = max(rw, rh) / max(1.0, min(rw, rh))
    fill = area / max(1.0, rw * rh)
    if aspect > 4.5 or fill < 0.6:
        return f"elongated or sparse (aspect {aspect:.2f}, fill {fill:.2f})"
    solidity = area / max(1.0, cv2.contourArea(cv2.convexHull(contour)))
    if solidity < 0.8:
        return f"not convex (solidity {solidity:.2f})"
    regular = _regularity(comp, contour)
    if regular < p.min_regularity:
        return f"not a rectangle or disc (regularity {regular:.2f})"
    # The 9x9 detail window eats ~4 px of the patch at its border; give them back.
    grown = cv2.dilate(comp, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    r = int(max(6, 0.12 * np.sqrt(area)))
    outer = cv2.dilate(grown, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    ring = (outer > 0) & ~(cv2.dilate(grown, np.ones((5, 5), np.uint8)) > 0)
    inside = cv2.erode(comp, np.ones((5, 5), np.uint8)) > 0
    if ring.sum() < 20 or inside.sum() < 20:
        return "too thin"
    on_product = 1.0
    ring_focus = 1.0
    if ctx is not None:
        cm = comp > 0
        if ctx.ui is not None:
            ui_share = float(ctx.ui[y0:y1, x0:x1][cm].mean())
            if ui_share > p.max_ui_share:
                return f"on the platform's on-screen UI ({ui_share:.0%} of it), not on a product"
        on_product = float(ctx.product[y0:y1, x0:x1][cm].mean())
        if on_product < p.min_on_product:
            return (f"not on the in-focus product ({on_product:.0%} of it inside the sharp object region): "
                    "a soft background or an empty part of the picture")
        fr = ctx.focus[y0:y1, x0:x1][ring]
        ring_focus = float(fr.mean()) if fr.size else 0.0
    d = detail[y0:y1, x0:x1]
    ring_detail = float(np.median(d[ring]))
    # The detail inside is the cover's own: under a translucent cover, the print showing through
    # (faint, tested below) is what it covers, not its texture.
    flat_inside = (cv2.erode(flat_part, np.ones((5, 5), np.uint8)) > 0) if holes else inside
    in_detail = float(np.median(d[flat_inside if flat_inside.sum() >= 20 else inside]))
    ring_textured = float((d[ring] >= max(p.detail_textured, 2 * in_detail)).mean())
    L = lab[y0:y1, x0:x1]
    spread, half_spread = _ring_spread(L, ring, grown)
    # An editor's blur box is an axis-aligned rectangle and may straddle a product edge (half the
    # ring on the product is enough); anything else must be surrounded by one surface.
    rect = cv2.minAreaRect(contour)
    axis_rect = regular >= p.min_regularity and min(abs(rect[2]) % 90, 90 - abs(rect[2]) % 90) <= 3
    g = gray[y0:y1, x0:x1]
    in_std = float(cv2.GaussianBlur(g, (0, 0), 1.0)[inside].std())
    step = float(np.linalg.norm(L[inside].mean(0) - L[ring].mean(0)))
    # Print showing through a translucent cover is faint; print on an opaque label is not (its
    # strokes stand far from the label's colour: 56 grey levels at the 90th percentile on a beige
    # label's text, 36 for a logo under a frosted sticker).
    faint = True
    if holes:
        gh = g[hole_px]
        faint = gh.size == 0 or float(np.percentile(np.abs(gh - np.median(g[inside])), 90)) <= p.max_print_contrast
    uniform = in_std <= (p.flat_std_translucent if holes else p.flat_std) and step >= p.cover_step and faint
    edit_box = (axis_rect and half_spread <= p.max_ring_spread and not covers_only and not uniform
                and frac >= p.min_edit_box_area)
    # A strip of tape or a sticker wider than the product reaches over its edge: its ring is the
    # product on some sides and the soft room on others. Regular, uniform, mostly on a sharp
    # product that stands out of a soft picture, with part of its ring on that soft picture, it is
    # still a cover (a hand at the product's side is not regular; a flat-shaded object with a sharp
    # ring all round, in a cartoon, is not reaching over anything).
    over_edge = (ctx is not None and uniform and on_product >= 0.8
                 and p.min_ring_focus <= ring_focus <= p.max_ring_focus_over_edge
                 and float(ctx.product.mean()) <= p.max_product_share)
    # A strip across two parts of the product (a belt's buckle and its strap) meets the second
    # part on a few sides, all of them sharp: uniform, mostly on a product that stands out of a
    # soft picture, and surrounded by one surface on most sides (the median sector), it is a
    # cover laid across the parts (the sharp outline below is required as well).
    across_parts = (ctx is not None and uniform and not over_edge and on_product >= 0.8
                    and ring_focus > p.max_ring_focus_over_edge and half_spread <= p.max_ring_spread / 2
                    and float(ctx.product.mean()) <= p.max_product_share)
    over_edge = over_edge or across_parts
    outline_focus = 1.0
    if over_edge and spread > p.max_ring_spread:
        # ... and its outline is sharp: a cover brought onto the sharp product is as sharp as the
        # product where it meets it and where it reaches into the room (a finger's outline: 88-92 %
        # in focus); a flat patch of a soft scene has a soft outline (a shelf label behind a real
        # photo's carton: 55 %).
        k7 = np.ones((7, 7), np.uint8)
        outline = (cv2.dilate(grown, k7) > 0) & ~(cv2.erode(grown, k7) > 0)
        outline_focus = float(ctx.focus[y0:y1, x0:x1][outline].mean())
        over_edge = outline_focus >= p.min_outline_focus
    if spread > p.max_ring_spread and not edit_box and not over_edge:
        if outline_focus < p.min_outline_focus:
            return (f"ring crosses several surfaces (spread {spread:.1f}) and its outline is soft "
                    f"({outline_focus:.0%} in focus): a flat patch of the soft scene, not a cover over the product's edge")
        return (f"ring crosses several surfaces (spread {spread:.1f}, half {half_spread:.1f}, "
                f"regularity {regular:.2f}, angle {rect[2]:.1f})")
    ratio = ring_detail / max(in_detail, 0.5)
    if over_edge and ring_focus >= p.min_ring_focus and ratio >= min_ratio:
        ring_textured = max(ring_textured, p.min_ring_textured)  # the in-focus part of the ring decides
    if ring_textured < p.min_ring_textured or ratio < min_ratio:
        return f"surroundings not more textured (ring textured {ring_textured:.2f}, ratio {ratio:.1f})"
    ry, rx = np.nonzero(ring)
    if covers_only and _carrier_is_backdrop(lab, ry + y0, rx + x0, p):
        # A faintly textured patch is only told from a poster on a wall by what carries it: a
        # product is an object inside the picture, the backdrop runs to the frame's edges.
        return "the surface around it is the backdrop (reaches the frame edge), not a product"
    gx, gy, gw, gh = cv2.boundingRect(grown)
    box = [float(gx + x0), float(gy + y0), float(gw), float(gh)]
    scores = {"pass": 2 if covers_only else 1, "ring_detail": round(ring_detail, 1),
              "on_product": round(on_product, 3), "ring_focus": round(ring_focus, 3),
              "ring_textured": round(ring_textured, 3), "detail_ratio": round(ratio, 2),
              "inside_std": round(in_std, 2), "color_step": round(step, 1), "solidity": round(solidity, 3),
              "area_frac": round(frac, 4), "regularity": round(regular, 3), "ring_spread": round(spread, 1)}
    if over_edge and spread > p.max_ring_spread:
        scores["outline_focus"] = round(outline_focus, 3)  # accepted as reaching over the edge / parts
    if uniform:
        fill = area / (bw * bh)
        # Discs fill ~pi/4 of their box, judged on the rotated rectangle: a strip of tape at 45
        # degrees fills half of its square upright box too (it was called a disc, then a letter O).
        disc = area / max(1.0, rw * rh) < 0.83 and 0.8 < rw / max(1.0, rh) < 1.25
        # A flat disc is also what a printed O or dot looks like. (Only discs: the halves of a
        # printed label split by its text are rectangles of one ink too, and are the cover.)
        sib = _same_ink_siblings(lab, detail, comp, x0, y0, L[inside].mean(0), p) if disc else 0.0
        if sib >= p.max_sibling_ink:
            return (f"a flat disc whose ink forms other shapes beside it ({sib:.0%} of its area within one size "
                    "of it): a letter or mark of the product's own print (the O of a wordmark), not a sticker")
        hsv = cv2.cvtColor(bgr[y:y + bh, x:x + bw], cv2.COLOR_BGR2HSV)
        sat = float(hsv[..., 1][inside[y - y0:y - y0 + bh, x - x0:x - x0 + bw]].mean())
        # Discs and saturated colours are typical of stickers, not tape.
        hue = float(np.median(hsv[..., 0][inside[y - y0:y - y0 + bh, x - x0:x - x0 + bw]]))
        kind = "sticker" if disc or sat > 120 else "tape"
        if hue <= 16 and 40 <= sat <= 150 and float(L[inside][:, 0].mean()) >= 120 and fill < 0.9:
            kind = "finger"  # skin hue and lightness, a rounded end: a finger resting on the spot
        conf = 0.55 + 0.15 * min(1.0, (ring_textured - p.min_ring_textured) / 0.3) \
            + 0.15 * min(1.0, (step - p.cover_step) / 40) + 0.1 * min(1.0, (p.flat_std - in_std) / p.flat_std)
        return MaskRegion(kind, box, round(min(conf, 0.95), 3), scores)
    if not faint:
        return "crisp print inside it: a printed label or sticker of the product, not a cover over it"
    if frac < p.min_blur_area:
        return f"too small for a blur box ({frac:.4f} of the frame)"
    if covers_only or (edit_box and spread > p.max_ring_spread and ratio < 5):
        return f"not a uniform cover, not a clear blur box (std {in_std:.1f}, colour step {step:.1f})"
    # Texture gone but not a uniform patch: a blur box (a blurred logo smears, not removes, colour).
    conf = 0.45 + 0.2 * min(1.0, (ring_textured - p.min_ring_textured) / 0.3) \
        + 0.2 * min(1.0, (ratio - p.min_detail_ratio) / 6)
    return MaskRegion("blur", box, round(min(conf, 0.9), 3), scores)


def _same_ink_siblings(lab: np.ndarray, detail: np.ndarray, comp: np.ndarray, x0: int, y0: int,
                       colour: np.ndarray, p: MaskParams) -> float:
    """Area of other flat shapes of the candidate's own colour within one candidate size of it,
    as a share of its area, counting only shapes at least ``min_sibling_share`` of its size.

    Print repeats its inks: the O of OAT-LY! is a flat disc beside an A and a T of the same blue.
    A sticker or tape brought to the product is one patch of its own colour."""
    ys, xs = np.nonzero(comp)
    cx0, cy0, cx1, cy1 = xs.min() + x0, ys.min() + y0, xs.max() + x0 + 1, ys.max() + y0 + 1
    pad = max(cx1 - cx0, cy1 - cy0)
    h, w = detail.shape
    X0, Y0, X1, Y1 = max(0, cx0 - pad), max(0, cy0 - pad), min(w, cx1 + pad), min(h, cy1 + pad)
    same = ((np.linalg.norm(lab[Y0:Y1, X0:X1] - colour, axis=2) <= p.sibling_color_tol)
            & (detail[Y0:Y1, X0:X1] < p.detail_low)).astype(np.uint8)
    # the candidate itself, grown by the detail window's reach, is not a sibling
    own = np.zeros_like(same)
    own[ys + y0 - Y0, xs + x0 - X0] = 1
    own = cv2.dilate(own, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (13, 13)))
    same[own > 0] = 0
    area = float(comp.sum())
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(same, connectivity=8)
    return sum(float(st[4]) for st in stats[1:] if st[4] >= p.min_sibling_share * area) / max(1.0, area)


def _carrier_is_backdrop(lab: np.ndarray, ring_y: np.ndarray, ring_x: np.ndarray, p: MaskParams) -> bool:
    """Whether the surface around a candidate (pixels of the ring's colour connected to the ring)
    reaches the frame edge or covers a large part of the frame."""
    ring_vals = lab[ring_y, ring_x]
    med = np.median(ring_vals, 0)
    same = (np.linalg.norm(lab - med, axis=2) <= p.carrier_color_tol).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(same, connectivity=4)
    ids = labels[ring_y, ring_x]
    ids = ids[ids > 0]
    if ids.size == 0:
        return True  # the ring has no single colour: no carrier surface at all
    i = int(np.bincount(ids).argmax())
    h, w = same.shape
    x, y, bw, bh, area = (int(v) for v in stats[i])
    return x <= 1 or y <= 1 or x + bw >= w - 1 or y + bh >= h - 1 or area > p.carrier_max_area * h * w


def _regularity(comp: np.ndarray, contour: np.ndarray, max_band: int = 4, band_share: float = 0.02) -> float:
    """Mask IoU of a region with its minimum-area rectangle or its ellipse, whichever is higher,
    not counting a band either side of the shape's outline.

    A flat region's outline is where the 9x9 detail window crosses the flat level: it wanders by
    up to the window's reach (4 px) either way with the texture beside it and with JPEG ringing,
    and print peeking out beside a cover bites into it: a strip of tape at an angle, 80 px across
    at the work size, measured a raw IoU of 0.84-0.86 and 0.87-0.89 with a 1-px band. The band is
    at most that reach and at most ``band_share`` of the shape's short side (1 px from 50 px, 2 px
    from 100 px), so a small patch is judged pixel by pixel: small flat patches of real video
    (digits of a countdown, flat-shaded cartoon parts, a carton's face on a real photo's shelf)
    measure 0.67-0.85 raw and gain the most from any band. The ellipse is fitted to the convex
    hull, so bites do not bend it."""
    m = comp > 0
    hull = cv2.convexHull(contour)
    rr = cv2.minAreaRect(hull)
    band = int(min(max_band, band_share * min(rr[1])))
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    shapes = []
    rect = np.zeros_like(comp)
    cv2.fillPoly(rect, [cv2.boxPoints(rr).astype(np.int32)], 1)
    shapes.append(rect)
    if len(hull) >= 5:
        ell = np.zeros_like(comp)
        cv2.ellipse(ell, cv2.fitEllipse(hull), 1, -1)
        shapes.append(ell)
    best = 0.0
    for shape in shapes:
        inner, outer = cv2.erode(shape, k) > 0, cv2.dilate(shape, k) > 0
        care = inner | ~outer  # outside the band: must be in the shape (inner) or outside it
        best = max(best, float((m & inner).sum() / max(1, ((m | inner) & care).sum())))
    return best


def _ring_spread(lab: np.ndarray, ring: np.ndarray, region: np.ndarray) -> tuple[float, float]:
    """Lab distance of the ring's 16 sector medians from its median colour: (second largest, median).

    A cover on a product is surrounded by that product on every side (max small); an object of
    the scene borders different things on different sides.
    """
    ys, xs = np.nonzero(region)
    cy, cx = ys.mean(), xs.mean()
    ry, rx = np.nonzero(ring)
    ang = ((np.arctan2(ry - cy, rx - cx) + np.pi) / (2 * np.pi) * 16).astype(int) % 16
    vals = lab[ry, rx]
    med = np.median(vals, 0)
    dists = []
    for s in range(16):
        sel = ang == s
        if sel.sum() >= 5:  # sector medians: stitching or a logo edge in the ring does not count
            dists.append(float(np.linalg.norm(np.median(vals[sel], 0) - med)))
    if len(dists) < 8:
        return float("inf"), float("inf")
    return float(np.sort(dists)[-2]), float(np.median(dists))  # one odd sector (a seam, a stitch) is allowed


def _lines(energy: np.ndarray, min_lines: int = 3, min_block: float = MIN_BLOCK,
           offset: int = 0, grid: int = 0) -> tuple[float, float] | None:
    """Evenly spaced step lines along one axis of a tile: (concentration, spacing) or None.

    ``energy[k]`` is the summed step size at column (row) ``k``. Pixelation puts the steps on
    block borders that run straight through the tile at a regular spacing; JPEG ringing spreads
    a little energy into the neighbouring pixels, but the border column stays the local maximum.
    Resize-based pixelation alternates b and b+1, and two equal neighbouring blocks hide a
    border, so gaps of about 2b and 3b are allowed.

    ``grid`` (with the tile's ``offset`` in the image): the image is at the resolution it was
    compressed at, so step lines that sit on the image's ``grid``-px block borders (a third of
    them or more) are its JPEG/H.264/VP8 block grid, not pixelation.
    """
    n = energy.size
    if energy.max() <= 0:
        return None
    win = energy.copy()  # running max over +-3 samples (a local-maximum test)
    for k in (1, 2, 3):
        win[k:] = np.maximum(win[k:], energy[:-k])
        win[:-k] = np.maximum(win[:-k], energy[k:])
    peaks = np.nonzero((energy >= win) & (energy >= 0.2 * energy.max()))[0]
    if peaks.size < min_lines:
        return None
    gaps = np.diff(peaks)
    base = float(np.min(gaps))
    if base < min_block:
        return None  # finer "lattices" are everywhere in natural texture and JPEG blocking
    if grid and float(np.mean((peaks + offset + 1) % grid == 0)) >= 1 / 3:
        # a step between pixels k and k+1 sits at k + 1; a mosaic's own lattice (any origin, its
        # own block size) puts about one line in eight there, blocky compression most of them
        return None
    ok = [g for g in gaps if min(abs(g - k * base) for k in (1, 2, 3)) <= 1.5 + 0.1 * g]
    if len(ok) < max(min_lines - 1, 0.8 * gaps.size):
        return None
    on = np.zeros(n, bool)
    for d in (-1, 0, 1):
        on[np.clip(peaks + d, 0, n - 1)] = True
    conc = float(energy[on].sum() / energy.sum())
    return conc, base


def _mosaic_candidates(gray: np.ndarray, p: MaskParams, min_block: float = MIN_BLOCK,
                       where: np.ndarray | None = None, grid: int = 0) -> list[MaskRegion]:
    """Pixelated areas of ``gray``; ``where`` (bool, same size) limits the tiles to those centred
    on it, ``grid`` refuses the compression block grid (see ``_lines``)."""
    # One tile size: 48 px tiles (tried for fine mosaics over small logos) found a lattice in
    # Big Buck Bunny's flat-shaded cartoon frames (a third of them flagged).
    h, w = gray.shape
    tile, stride = 64, 24
    if h < tile or w < tile:
        return []
    gx = np.abs(np.diff(gray, axis=1))
    gy = np.abs(np.diff(gray, axis=0))
    gx = np.pad(gx, ((0, 0), (0, 1)))
    gy = np.pad(gy, ((0, 1), (0, 0)))
    # Cheap pre-filter: a pixelated tile is mostly flat inside blocks yet has strong steps.
    flat = ((gx < 2.0) & (gy < 2.0)).astype(np.float32)
    strong = ((gx > 4) | (gy > 4)).astype(np.float32)
    flat_frac = cv2.boxFilter(flat, -1, (tile, tile), normalize=True, borderType=cv2.BORDER_CONSTANT)
    strong_frac = cv2.boxFilter(strong, -1, (tile, tile), normalize=True, borderType=cv2.BORDER_CONSTANT)
    hit = np.zeros((h, w), np.uint8)
    found: list[tuple[int, int, float, float]] = []
    half = tile // 2
    for y in range(0, h - tile + 1, stride):
        for x in range(0, w - tile + 1, stride):
            cy, cx = y + half, x + half
            if flat_frac[cy, cx] < 0.45 or strong_frac[cy, cx] < 0.02:
                continue
            if where is not None and not where[cy, cx]:
                continue
            tx, ty = gx[y:y + tile, x:x + tile], gy[y:y + tile, x:x + tile]
            lx = _lines(tx.sum(0), min_block=min_block, offset=x, grid=grid)
            ly = _lines(ty.sum(1), min_block=min_block, offset=y, grid=grid)
            if lx is None or ly is None or abs(lx[1] - ly[1]) > 2:
                continue
            conc = min(lx[0], ly[0])
            step = float(np.percentile(tx[tx >= 2], 90)) if (tx >= 2).any() else 0.0
            if conc < p.mosaic_score or step < p.mosaic_step:
                continue
            hit[y:y + tile, x:x + tile] = 1
            found.append((x, y, conc, (lx[1] + ly[1]) / 2))
    if not found:
        return []
    out: list[MaskRegion] = []
    n, labels, stats, _ = cv2.connectedComponentsWithStats(hit, connectivity=4)
    for i in range(1, n):
        x, y, bw, bh, _area = (int(v) for v in stats[i])
        members = [f for f in found if labels[f[1] + half, f[0] + half] == i]
        if len(members) < 2:
            continue  # one tile can be a chance grid (tiles, a checked shirt); pixelation spans more
        b = float(np.median([f[3] for f in members]))
        box = _refine_mosaic(gray, [x, y, bw, bh], b)
        if box is None:
            continue
        frac = box[2] * box[3] / float(h * w)
        if frac < p.min_area / 2 or frac > 0.5:
            continue
        score = float(np.mean([f[2] for f in members]))
        conf = 0.6 + 0.3 * min(1.0, (score - p.mosaic_score) / (1 - p.mosaic_score)) + 0.05 * min(1.0, len(members) / 6)
        out.append(MaskRegion("mosaic", box, round(min(conf, 0.95), 3),
                              {"lattice": round(score, 3), "block_px": round(b, 1), "tiles": len(members)}))
    return out


def _mosaic_ok(r: MaskRegion, ctx: _Context, p: MaskParams) -> bool:
    """A pixelated area on the product, not on the UI."""
    x, y, w, h = (int(v) for v in r.box)
    if w <= 0 or h <= 0:
        return False
    if ctx.ui is not None and float(ctx.ui[y:y + h, x:x + w].mean()) > p.max_ui_share:
        return False
    share = float(ctx.product[y:y + h, x:x + w].mean())
    r.scores["on_product"] = round(share, 3)
    return share >= p.min_on_product


def _refine_mosaic(gray: np.ndarray, box: list[int], b: float) -> list[float] | None:
    """Tighten a tile-union box to the extent of the block-border lines inside it."""
    x, y, bw, bh = box
    roi = gray[y:y + bh, x:x + bw]
    gx = np.abs(np.diff(roi, axis=1)) >= 1
    gy = np.abs(np.diff(roi, axis=0)) >= 1
    # Border lines of the pixelated area: columns/rows where steps run over a long stretch.
    cols = np.nonzero(gx.mean(0) >= 0.3)[0]
    rows = np.nonzero(gy.mean(1) >= 0.3)[0]
    if cols.size < 2 or rows.size < 2:
        return None
    bi = int(round(b))
    x0, x1 = max(0, int(cols.min()) - bi + 1), min(bw, int(cols.max()) + bi + 1)
    y0, y1 = max(0, int(rows.min()) - bi + 1), min(bh, int(rows.max()) + bi + 1)
    if x1 - x0 < 2 * bi or y1 - y0 < 2 * bi:
        return None
    return [float(x + x0), float(y + y0), float(x1 - x0), float(y1 - y0)]


def find_masked_regions(bgr: np.ndarray, params: MaskParams | None = None,
                        reasons: list[tuple[list[float], str]] | None = None,
                        ui_mask: np.ndarray | None = None) -> list[MaskRegion]:
    """Candidate masked regions of one image (a frame or a product-page image), best first.

    ``reasons``, when given, collects (box, why it was rejected) for flat regions that were
    considered and dropped: what an examiner asks when a visible cover was not reported.
    ``ui_mask`` (boolean, any size: resized to the image) marks the platform's UI
    (``vision.layout``); candidates on it are dropped.
    """
    p = params or MaskParams()
    work, f = _work(bgr)
    gray = cv2.cvtColor(work, cv2.COLOR_BGR2GRAY).astype(np.float32)
    detail = detail_map(gray)
    ui = None
    if ui_mask is not None:
        ui = cv2.resize(ui_mask.astype(np.uint8), (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
    prod, focus, level = product_region(detail, ui, p)
    ctx = _Context(prod, focus, level, ui)
    regions = [r for r in _mosaic_candidates(gray, p) if _mosaic_ok(r, ctx, p)]
    if f != 1.0:
        # A fine mosaic over a small logo has blocks below MIN_BLOCK at the work size (9-px blocks
        # of a 1280-px frame are 6.75 px at 960). Look for them at the image's own resolution, only
        # on the in-focus product (where a cover is), refusing the 8-px compression block grid that
        # a full-resolution search reads as a lattice in real video.
        # (smoothed a little: the work size's area averaging is what quietens JPEG noise inside
        # the blocks there; unsmoothed, a fine mosaic's blocks are flat over 20-40 % of a tile)
        native = cv2.GaussianBlur(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32), (0, 0), 0.7)
        where = cv2.resize(prod, (native.shape[1], native.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
        for r in _mosaic_candidates(native, p, min_block=MIN_BLOCK, where=where, grid=8):
            r.box = [v * f for v in r.box]
            r.scores["block_px"] = round(r.scores["block_px"] * f, 1)
            r.scores["full_resolution"] = 1
            if _mosaic_ok(r, ctx, p) and all(box_iou(r.box, o.box) < 0.3 for o in regions):
                regions.append(r)
    regions = regions + _flat_candidates(work, gray, detail, p, reasons, ctx)
    regions = _nms(regions)
    if f != 1.0:
        for r in regions:
            r.box = [round(v / f, 1) for v in r.box]
    return sorted(regions, key=lambda r: -r.confidence)


def box_iou(a: list[float], b: list[float]) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _nms(regions: list[MaskRegion], thr: float = 0.3) -> list[MaskRegion]:
    keep: list[MaskRegion] = []
    for r in sorted(regions, key=lambda r: -r.confidence):
        if all(box_iou(r.box, k.box) < thr for k in keep):
            keep.append(r)
    return keep
