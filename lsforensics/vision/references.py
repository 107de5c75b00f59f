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
    return refs, notes


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
    return [x0, y0, x1 - x0, y1 - y0], inliers, inliers / len(good), H


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


def match_references(image: LoadedImage, refs: list[Reference], *, min_inliers: int = 12) -> list[RefMatch]:
    """Every reference found in ``image``, best first (boxes in original image pixels)."""
    if not refs:
        return []
    gray = cv2.cvtColor(image.bgr, cv2.COLOR_BGR2GRAY)
    pts, desc = _features(gray)
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
