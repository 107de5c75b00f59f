"""Reference matching: user-supplied brand logos and product photos (``rules/references/<brand>/``).

SIFT keypoints + Lowe ratio test + RANSAC homography locate a reference in a frame with a box;
the inlier count is the evidence (a visible logo gives dozens, a taped or blurred one ~0). A 64-bit
perceptual hash of the matched area is recorded as a second, independent similarity. Files whose
name contains ``logo`` are logos; others are product photos. When a brand has both, the logo is
located inside each product photo once, so a matched product tells where its logo should be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import imagehash
import numpy as np
from PIL import Image

from ..progress import NullProgress, Progress
from ..rules import RuleSet
from .imageio import LoadedImage, is_image_file, load_image

MAX_REF_SIDE = 800  # references are resized to this; SIFT on product photos needs no more
_SIFT = None


def _sift() -> Any:
    global _SIFT
    if _SIFT is None:
        _SIFT = cv2.SIFT_create(nfeatures=2000)
    return _SIFT


@dataclass
class Mark:
    """A printed mark of a reference product: a text line OCR read on it, or the located logo."""

    text: str  # what OCR read there ("" for a logo located by keypoints)
    box: list[float]  # [x, y, w, h] in reference pixels
    brand_name: bool  # the text is the brand's name (or the brand's logo)

    def describe(self) -> str:
        if not self.text:
            return "its logo"
        return f"its printed name '{self.text}'" if self.brand_name else f"its printed text '{self.text}'"


@dataclass
class Reference:
    brand: str
    path: Path
    kind: str  # logo | product
    size: tuple[int, int]  # (w, h) of the analysed reference image
    keypoints: np.ndarray  # (n, 2) float32
    descriptors: np.ndarray | None
    phash: str
    logo_box: list[float] | None = None  # for products: where the brand's logo sits (reference pixels)
    gray: np.ndarray | None = None  # the analysed reference picture (for the logo-present check)
    fine: Reference | None = None  # products: the picture upscaled for the cover check (see COVER_REF_SIDE)


@dataclass
class RefMatch:
    brand: str
    reference: str
    kind: str
    inliers: int
    inlier_ratio: float
    box: list[float]  # [x, y, w, h] in original image pixels
    confidence: float
    phash_distance: int | None = None
    expected_logo_box: list[float] | None = None  # products only: logo position projected into the image
    extra: dict[str, Any] = field(default_factory=dict)


def _features(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    kps, desc = _sift().detectAndCompute(gray, None)
    pts = np.array([k.pt for k in kps], np.float32).reshape(-1, 2)
    return pts, desc


def load_reference_dir(brand: str, folder: Path, progress: Progress | None = None) -> tuple[list[Reference], list[str]]:
    """Load one brand folder. Non-image files are skipped with a note; a broken image is an error."""
    progress = progress or NullProgress()
    refs: list[Reference] = []
    notes: list[str] = []
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or p.name.startswith("."):
            continue
        if not is_image_file(p):
            notes.append(f"{p}: not an image (.png/.jpg/...), ignored")
            progress.log(notes[-1])
            continue
        img = load_image(p, max_side=MAX_REF_SIDE)  # InputError names the file
        gray = cv2.cvtColor(img.bgr, cv2.COLOR_BGR2GRAY)
        pts, desc = _features(gray)
        if desc is None or len(pts) < 8:
            notes.append(f"{p}: too little texture for keypoint matching ({len(pts)} keypoints), ignored")
            progress.log(notes[-1])
            continue
        ph = str(imagehash.phash(Image.fromarray(gray)))
        kind = "logo" if "logo" in p.stem.lower() else "product"
        refs.append(Reference(brand, p, kind, (gray.shape[1], gray.shape[0]), pts, desc, ph, gray=gray))
    # Locate each logo inside each product photo of the same brand, once.
    logos = [r for r in refs if r.kind == "logo"]
    for prod in (r for r in refs if r.kind == "product"):
        for logo in logos:
            m = _match(logo, prod.keypoints, prod.descriptors, prod.size)
            if m is not None:
                prod.logo_box = m[0]
                break
        prod.fine = _fine(prod)
        find_marks(prod.fine)  # OCR once, here (frames are analysed on several threads)
    return refs, notes


def _fine(ref: Reference) -> Reference:
    """The product picture upscaled to COVER_REF_SIDE for the cover check: a 200-px reference has
    too few keypoints outside its wordmark to be found once the wordmark is covered (measured on
    the real Oatly carton: 0 instances under tape at 1x, 23-41 inliers at 2x)."""
    assert ref.gray is not None
    f = min(3.0, COVER_REF_SIDE / max(ref.size))
    if f <= 1.2:
        return ref
    g = cv2.resize(ref.gray, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
    pts, desc = _features(g)
    box = [v * f for v in ref.logo_box] if ref.logo_box is not None else None
    return Reference(ref.brand, ref.path, ref.kind, (g.shape[1], g.shape[0]), pts, desc, ref.phash, box, g)


def load_references(rules: RuleSet, progress: Progress | None = None) -> tuple[list[Reference], list[str]]:
    refs: list[Reference] = []
    notes: list[str] = []
    for brand in sorted(rules.reference_dirs):
        for folder in rules.reference_dirs[brand]:
            r, n = load_reference_dir(brand, folder, progress)
            refs += r
            notes += n
    return refs, notes


_MATCHER = cv2.BFMatcher(cv2.NORM_L2)


def _match(ref: Reference, pts: np.ndarray, desc: np.ndarray | None, size: tuple[int, int],
           min_inliers: int = 12) -> tuple[list[float], int, float, np.ndarray] | None:
    """Box (in the target's pixels), inliers, inlier ratio and homography, or None."""
    if desc is None or ref.descriptors is None or len(desc) < 2 or len(ref.descriptors) < 2:
        return None
    # Query from the image side: a shelf shows the same product many times, and a ratio test
    # over the image's keypoints would discard exactly those repeated (correct) matches.
    pairs = _MATCHER.knnMatch(desc, ref.descriptors, k=2)
    good = [m for m, n in (p for p in pairs if len(p) == 2) if m.distance < 0.8 * n.distance]
    if len(good) < min_inliers:
        return None
    src = ref.keypoints[[m.trainIdx for m in good]].reshape(-1, 1, 2)
    dst = pts[[m.queryIdx for m in good]].reshape(-1, 1, 2)
    h = _homography(ref, src, dst, size, min_inliers)
    if h is None:
        return None
    box, inliers, H = h
    return box, inliers, inliers / len(good), H


def _homography(ref: Reference, src: np.ndarray, dst: np.ndarray, size: tuple[int, int],
                min_inliers: int) -> tuple[list[float], int, np.ndarray] | None:
    """RANSAC homography of matched points with its sanity checks: box, inliers, H (or None)."""
    H, mask = cv2.findHomography(src, dst, cv2.RANSAC, 5.0)
    if H is None:
        return None
    inliers = int(mask.sum())
    if inliers < min_inliers:
        return None
    w, h = ref.size
    corners = cv2.perspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]).reshape(-1, 1, 2), H).reshape(-1, 2)
    # A physical object maps to a convex quad of sane size; degenerate homographies are chance.
    if not cv2.isContourConvex(corners.astype(np.float32).reshape(-1, 1, 2)):
        return None
    area = cv2.contourArea(corners)
    if area < 0.002 * size[0] * size[1] or area > 4.0 * size[0] * size[1]:
        return None
    x0, y0 = corners.min(0)
    x1, y1 = corners.max(0)
    x0, y0 = max(0.0, float(x0)), max(0.0, float(y0))
    x1, y1 = min(float(size[0]), float(x1)), min(float(size[1]), float(y1))
    if x1 <= x0 or y1 <= y0:
        return None
    return [x0, y0, x1 - x0, y1 - y0], inliers, H


def _logo_ncc(gray: np.ndarray, ref: Reference, H: np.ndarray, box: list[float]) -> float:
    """Normalised cross-correlation between the frame and the reference product (warped into the
    frame) over the expected logo area: high means the logo is there even if keypoint matching of
    the logo alone failed (small, blurred by motion). Guards "logo absent" against such misses."""
    if ref.gray is None:
        return 0.0
    h, w = gray.shape
    x0, y0 = max(0, int(box[0])), max(0, int(box[1]))
    x1, y1 = min(w, int(box[2]) + 1), min(h, int(box[3]) + 1)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return 0.0
    warped = cv2.warpPerspective(ref.gray, H, (w, h))
    a = gray[y0:y1, x0:x1].astype(np.float32)
    b = warped[y0:y1, x0:x1].astype(np.float32)
    if a.std() < 1e-3 or b.std() < 1e-3:
        return 0.0
    return round(float(cv2.matchTemplate(a, b, cv2.TM_CCOEFF_NORMED)[0, 0]), 3)


Features = tuple[np.ndarray, np.ndarray, "np.ndarray | None"]  # grey picture, keypoints, descriptors


def frame_features(image: LoadedImage) -> Features:
    """The grey picture and SIFT features of ``image``, computed once for all reference checks."""
    gray = cv2.cvtColor(image.bgr, cv2.COLOR_BGR2GRAY)
    pts, desc = _features(gray)
    return gray, pts, desc


def match_references(image: LoadedImage, refs: list[Reference], *, min_inliers: int = 12,
                     features: Features | None = None) -> list[RefMatch]:
    """Every reference found in ``image``, best first (boxes in original image pixels)."""
    if not refs:
        return []
    gray, pts, desc = features or frame_features(image)
    size = (gray.shape[1], gray.shape[0])
    out: list[RefMatch] = []
    for ref in refs:
        m = _match(ref, pts, desc, size, min_inliers)
        if m is None:
            continue
        box, inliers, ratio, H = m
        x, y, w, h = (int(round(v)) for v in box)
        crop = gray[y:y + h, x:x + w]
        dist = int(imagehash.phash(Image.fromarray(crop)) - imagehash.hex_to_hash(ref.phash)) if crop.size else None
        expected = None
        extra: dict[str, Any] = {}
        if ref.logo_box is not None:
            lx, ly, lw, lh = ref.logo_box
            q = cv2.perspectiveTransform(np.float32([[lx, ly], [lx + lw, ly], [lx + lw, ly + lh], [lx, ly + lh]])
                                         .reshape(-1, 1, 2), H).reshape(-1, 2)
            ex0, ey0 = q.min(0)
            ex1, ey1 = q.max(0)
            expected = image.to_original([float(ex0), float(ey0), float(ex1 - ex0), float(ey1 - ey0)])
            extra["logo_ncc"] = _logo_ncc(gray, ref, H, [float(ex0), float(ey0), float(ex1), float(ey1)])
        # ~12 inliers is the floor of chance agreement after RANSAC; 60+ is an unmistakable match.
        conf = min(0.97, 0.5 + 0.45 * min(1.0, (inliers - min_inliers) / 48) + 0.05 * ratio)
        out.append(RefMatch(ref.brand, ref.path.name, ref.kind, inliers, round(ratio, 3), image.to_original(box),
                            round(conf, 3), dist, expected, extra))
    return sorted(out, key=lambda m: -m.inliers)


# ------------------------------------------------------------------ covers over a reference's marks
# A matched product tells where its printed marks (brand name, wordmark, logo) must be. The frame
# is warped onto the reference and compared with it inside each mark: where the reference shows
# the mark and the frame shows something else (tape, a sticker, blur, mosaic, a finger), the mark
# is covered. This holds on soft, untextured products where the generic detector's "the surface
# around a cover is more detailed" test cannot (docs/visual.md).
COVER_REF_SIDE = 400  # smaller product references are upscaled to this long side for the cover check
COVER_MIN_INLIERS = 20  # an instance must be this well matched before its marks are judged
MARK_OCR_SIDE = 600  # references are small product photos: OCR reads their print at this long side
MARK_MIN_SCORE = 0.6  # OCR confidence for a line to count as a printed mark
MARK_MIN_PX = 10  # a mark smaller than this (frame pixels, height) is not judged
COVER_NCC = 0.45  # best correlation of frame and reference over a mark below this: the mark is not shown
CELL_NCC = 0.35  # ... per cell of the mark
CELL_GRAD = 0.4  # ... or a cell's detail fell below this share of the reference's
COVER_SHARE = 0.6  # at least this share of the mark's print (edge energy) not shown
# ... and the frame keeps at most this share of the mark's detail (flat, blurred). Measured on the
# real cartons: covers keep 0.07-0.23 (tape, frosted sticker, blur, coarse mosaic, finger);
# uncovered print keeps 0.28-0.77, the least the small soft line NATURELL near the real photo's thumb
# (0.28-0.29 over a 10-minute stream), so the line sits between with little room either side.
COVER_DETAIL = 0.25
COVER_OTHER_NCC = 0.3  # ... or correlates with the mark at most this much (something else printed there)
MAX_INSTANCES = 3  # a shelf shows the same product several times: check each instance
_OCR_ENGINE: Any = None
_MARK_CACHE: dict[str, list[Mark]] = {}


def _ocr_lines(gray: np.ndarray) -> list[tuple[str, list[float], float]]:
    """OCR of a reference picture (upscaled to MARK_OCR_SIDE): (text, box in reference px, score)."""
    global _OCR_ENGINE
    from ..errors import InputError
    from .imageio import from_array
    from .ocr import OcrEngine

    if _OCR_ENGINE is None:
        _OCR_ENGINE = OcrEngine()
    f = max(1.0, MARK_OCR_SIDE / max(gray.shape))
    big = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC) if f > 1 else gray
    try:
        lines = _OCR_ENGINE.read(from_array(cv2.cvtColor(big, cv2.COLOR_GRAY2BGR)))
    except InputError:
        return []  # no OCR installed: marks come from a located logo only
    return [(ln.text, [v / f for v in ln.box], ln.score) for ln in lines]


def close_mark_reader() -> None:
    """Drop the OCR engine that reads reference pictures' marks (the marks stay cached; ~300 MiB)."""
    global _OCR_ENGINE
    if _OCR_ENGINE is not None:
        _OCR_ENGINE.close()
        _OCR_ENGINE = None


def _brand_like(text: str, brand: str) -> bool:
    from difflib import SequenceMatcher

    a = "".join(c for c in text.lower() if c.isalnum())
    b = "".join(c for c in brand.lower() if c.isalnum())
    return bool(a and b) and (b in a or SequenceMatcher(None, a, b).ratio() >= 0.6)


def find_marks(ref: Reference) -> list[Mark]:
    """The reference product's printed marks: the text lines OCR reads on it (lines resembling the
    brand's name are its printed name). Cached per picture."""
    assert ref.gray is not None
    key = f"{ref.brand}|{ref.gray.shape}|{hash(ref.gray.tobytes())}"
    if key not in _MARK_CACHE:
        # A brand's logo file is checked by the logo-absent rule (lsforensics/detect/visual.py);
        # the marks here are the reference's printed text.
        marks: list[Mark] = []
        for text, box, score in _ocr_lines(ref.gray):
            if score >= MARK_MIN_SCORE and box[2] >= 6 and box[3] >= 6 and sum(c.isalnum() for c in text) >= 2:
                marks.append(Mark(text, box, _brand_like(text, ref.brand)))
        _MARK_CACHE[key] = marks
    return _MARK_CACHE[key]


def _instances(ref: Reference, pts: np.ndarray, desc: np.ndarray | None, size: tuple[int, int],
               min_inliers: int, ui_mask: np.ndarray | None = None) -> list[tuple[np.ndarray, int]]:
    """Homographies of up to MAX_INSTANCES instances of ``ref``: the frame's keypoints inside one
    instance's outline are set aside before the next is sought. An instance lying mostly on the
    platform's UI (the product card's thumbnail shows the product as listed, uncovered) is
    passed over."""
    if desc is None or ref.descriptors is None or len(desc) < 2 or len(ref.descriptors) < 2:
        return []
    pairs = _MATCHER.knnMatch(desc, ref.descriptors, k=2)
    good = [m for m, n in (p for p in pairs if len(p) == 2) if m.distance < 0.8 * n.distance]
    src_all = ref.keypoints[[m.trainIdx for m in good]].reshape(-1, 2)
    dst_all = pts[[m.queryIdx for m in good]].reshape(-1, 2)
    keep = np.ones(len(good), bool)
    w, h = ref.size
    out: list[tuple[np.ndarray, int]] = []
    for _ in range(MAX_INSTANCES + 2):
        if len(out) >= MAX_INSTANCES or keep.sum() < min_inliers:
            break
        r = _homography(ref, src_all[keep].reshape(-1, 1, 2), dst_all[keep].reshape(-1, 1, 2), size, min_inliers)
        if r is None:
            break
        _, inliers, H = r
        q = cv2.perspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]).reshape(-1, 1, 2), H).reshape(-1, 2)
        inside = np.array([cv2.pointPolygonTest(q.reshape(-1, 1, 2), (float(x), float(y)), False) >= 0
                           for x, y in dst_all])
        keep &= ~inside
        if ui_mask is not None:
            poly = np.zeros(ui_mask.shape, np.uint8)
            cv2.fillConvexPoly(poly, np.round(q).astype(np.int32), 1)
            if poly.any() and (ui_mask[poly > 0] > 0).mean() >= 0.5:
                continue
        out.append((H, inliers))
    return out


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 1e-6 else 0.0


def _grad(g: np.ndarray) -> np.ndarray:
    return np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3))


def check_marks(gray: np.ndarray, ref: Reference, H: np.ndarray, ui_mask: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Compare the frame with the reference inside each of the reference's marks (frame warped onto
    the reference). One entry per judged mark: its box in the frame, best correlation, the share of
    its print the frame does not show (``covered``), how the frame's surface looks there."""
    h, w = gray.shape
    rw, rh = ref.size
    lin = H[:2, :2] / H[2, 2]
    s = float(np.sqrt(abs(np.linalg.det(lin))))  # frame pixels per reference pixel
    g = gray.astype(np.float32)
    if s > 1.3:  # bring the frame to the reference's resolution without aliasing
        g = cv2.GaussianBlur(g, (0, 0), 0.45 * s)
    warped = cv2.warpPerspective(g, np.linalg.inv(H), (rw, rh), flags=cv2.INTER_LINEAR, borderValue=-1)
    rg = ref.gray.astype(np.float32)
    if s < 0.9:  # the frame shows the product smaller than the reference: compare at the frame's detail
        rg = cv2.GaussianBlur(rg, (0, 0), 0.45 / s)
    out: list[dict[str, Any]] = []
    for mk in find_marks(ref):
        x, y, bw, bh = mk.box
        pad = max(2, int(round(0.15 * min(bw, bh))))
        x0, y0 = max(0, int(x) - 1), max(0, int(y) - 1)
        x1, y1 = min(rw, int(np.ceil(x + bw)) + 1), min(rh, int(np.ceil(y + bh)) + 1)
        q = cv2.perspectiveTransform(np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]).reshape(-1, 1, 2), H).reshape(-1, 2)
        fx0, fy0 = q.min(0)
        fx1, fy1 = q.max(0)
        entry: dict[str, Any] = {"mark": mk.text, "brand_name": mk.brand_name,
                                 "box": [float(fx0), float(fy0), float(fx1 - fx0), float(fy1 - fy0)]}
        if fx0 < 0 or fy0 < 0 or fx1 > w or fy1 > h or fy1 - fy0 < MARK_MIN_PX:
            continue  # out of the picture or too small to judge
        if ui_mask is not None:
            poly = np.zeros((h, w), np.uint8)
            cv2.fillConvexPoly(poly, q.astype(np.int32), 1)
            if (ui_mask[poly > 0] > 0).mean() > 0.2:
                continue  # behind the platform's UI
        a = rg[y0:y1, x0:x1]
        big = warped[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad]
        if a.std() < 4 or (big < 0).any() or big.shape[0] < a.shape[0] or big.shape[1] < a.shape[1]:
            continue
        res = cv2.matchTemplate(big, a, cv2.TM_CCOEFF_NORMED)
        _, best, _, (dx, dy) = cv2.minMaxLoc(res)
        b = big[dy:dy + a.shape[0], dx:dx + a.shape[1]]
        ga, gb = _grad(a), _grad(b)
        # contrast of the surface: the frame's print may be darker or paler than the reference's
        cells, covered, weight = 0, 0.0, 0.0
        ch = max(4, int(round(min(a.shape) / 2)))
        boxes = []
        for cy in range(0, a.shape[0] - ch // 2, ch):
            for cx in range(0, a.shape[1] - ch // 2, ch):
                ca, cb = a[cy:cy + ch, cx:cx + ch], b[cy:cy + ch, cx:cx + ch]
                e = float(ga[cy:cy + ch, cx:cx + ch].mean())
                if ca.std() < 6:
                    continue  # no print in this cell of the reference
                cells += 1
                weight += e
                lost = float(gb[cy:cy + ch, cx:cx + ch].mean()) < CELL_GRAD * e
                if lost or _ncc(ca, cb) < CELL_NCC:
                    covered += e
                    boxes.append((cx, cy))
        share = covered / weight if weight else 0.0
        detail = float(gb.mean() / max(1e-3, ga.mean()))
        entry.update(ncc=round(float(best), 3), covered=round(share, 3), cells=cells, detail=round(detail, 3),
                     surface_std=round(float(b.std()), 1), mark_std=round(float(a.std()), 1), scale=round(s, 2))
        entry["is_cover"] = bool(cells >= 2 and share >= COVER_SHARE and (detail <= COVER_DETAIL or best <= COVER_OTHER_NCC))
        if entry["is_cover"]:
            entry["surface"] = ("a flat surface" if b.std() < 0.35 * a.std() and detail <= COVER_DETAIL else
                                "a blurred surface" if detail <= COVER_DETAIL else "other print or a different surface")
        out.append(entry)
    return out


@dataclass
class MarkCover:
    """A matched reference product whose printed mark the frame does not show."""

    brand: str
    reference: str
    inliers: int
    mark: str  # what the reference's OCR read there ("" for a located logo)
    brand_name: bool
    box: list[float]  # the mark's area in original image pixels
    covered: float  # share of the mark's print (edge energy) not shown
    ncc: float
    detail: float
    surface: str
    checked: int  # marks of this instance judged
    others: list[str] = field(default_factory=list)  # further covered marks of the same instance

    def explain(self) -> str:
        what = (f"its printed name '{self.mark}'" if self.brand_name and self.mark else
                "its logo" if not self.mark else f"its printed text '{self.mark}'")
        return (f"the product matches reference {self.reference} ({self.brand}) with {self.inliers} matching points, "
                f"but where the reference shows {what} the frame shows {self.surface} over {self.covered:.0%} of it "
                f"(correlation with the reference there {self.ncc:.2f}, {self.detail:.0%} of its detail kept; "
                f"{self.checked} printed marks of the reference were compared"
                + (f"; also not shown: {', '.join(repr(t) for t in self.others)}" if self.others else "") + ")")


def find_mark_covers(image: LoadedImage, refs: list[Reference], ui_mask: np.ndarray | None = None,
                     features: Features | None = None) -> list[MarkCover]:
    """Covers over the printed marks of every product reference found in ``image`` (at most one,
    the most covered mark, per instance). ``ui_mask``: the platform's UI at the image's analysed size."""
    prods = [r.fine for r in refs if r.kind == "product" and r.fine is not None and find_marks(r.fine)]
    if not prods:
        return []
    gray, pts, desc = features or frame_features(image)
    size = (gray.shape[1], gray.shape[0])
    out: list[MarkCover] = []
    for ref in prods:
        for H, inliers in _instances(ref, pts, desc, size, COVER_MIN_INLIERS, ui_mask):
            entries = check_marks(gray, ref, H, ui_mask)
            hit = [e for e in entries if e["is_cover"]]
            if not hit:
                continue
            e = max(hit, key=lambda e: (e["brand_name"], e["covered"]))
            out.append(MarkCover(ref.brand, ref.path.name, inliers, e["mark"], e["brand_name"], image.to_original(e["box"]),
                                 e["covered"], e["ncc"], e["detail"], e["surface"], len(entries),
                                 [x["mark"] for x in hit if x is not e]))
    return out
