"""The products a case shows, as crops with descriptors, so the same item links two streams (同款).

Crops come from the visual findings (``masked_logo``, ``logo_match``): the frame the detector
kept, around the finding's box, widened by the box's own size on every side so the crop shows
the product the box sits on, not only the box. They are cut from the clean frame (the evidence
crops under ``evidence/crops/`` carry a drawn red box) and saved under
``fingerprints/products/``; ``fingerprints/products.json`` lists each with the finding it came
from, its time, its box and its perceptual hash.

Two crops show the same item when SIFT keypoints matched with Lowe's ratio test agree on one
homography (RANSAC) with at least ``PRODUCT_MIN_INLIERS`` inliers, at least half of the matches: the same matcher that finds
reference logos (:mod:`lsforensics.vision.references`). Keypoints inside the finding's own box
are left out: that box is the tape, sticker or logo, and a brand's logo (or a strip of tape) on
two different products must not make them "the same product".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import imagehash
import numpy as np
from PIL import Image

from ..case import Case, atomic_folder, atomic_write_json
from ..errors import InputError
from ..loaders import load_json_file
from ..progress import Progress
from ..stage import Stage
from ..vision.imageio import load_image
from ..vision.references import Reference, _features, _match

PRODUCTS_SCHEMA = "lsf.products/1"
PRODUCTS_JSON = "fingerprints/products.json"
PRODUCTS_DIR = "fingerprints/products"
PRODUCT_KINDS = ("masked_logo", "logo_match")
MAX_CROPS = 40  # the strongest findings' crops; a stream shows a handful of products
PRODUCT_MIN_INLIERS = 15  # above the ~12 inliers RANSAC reaches by chance (vision/references.py)
PRODUCT_MIN_RATIO = 0.5  # and at least half of the ratio-test matches agree with the homography
MIN_KEYPOINTS = 12


@dataclass
class ProductCrop:
    id: str
    finding: str | None
    kind: str
    t: float | None
    frame: str
    bbox: list[float]  # the finding's box in frame pixels
    crop: str  # case-relative JPEG
    crop_box: list[int]  # where the crop was cut from the frame
    phash: str
    keypoints: int


def _product_findings(case: Case) -> list[dict[str, Any]]:
    if not case.findings_json.exists():
        return []
    doc = case.read_json(case.findings_json)
    fs = doc.get("findings") if isinstance(doc, dict) else None
    out = []
    for f in fs if isinstance(fs, list) else []:
        box, ev = f.get("bbox"), f.get("evidence")
        if (isinstance(f, dict) and f.get("kind") in PRODUCT_KINDS and isinstance(box, list) and len(box) == 4
                and isinstance(ev, list) and ev and isinstance(ev[0], str)):
            out.append(f)
    out.sort(key=lambda f: -(f.get("confidence") or 0))
    return out[:MAX_CROPS]


def _cut(bgr: np.ndarray, box: list[float]) -> tuple[np.ndarray, list[int], np.ndarray]:
    """Crop around ``box`` (widened by its size) and a mask that is 0 over the box itself."""
    h, w = bgr.shape[:2]
    x, y, bw, bh = box
    m = max(bw, bh)
    x0, y0 = max(0, int(x - m)), max(0, int(y - m))
    x1, y1 = min(w, int(x + bw + m)), min(h, int(y + bh + m))
    crop = bgr[y0:y1, x0:x1].copy()
    mask = np.full(crop.shape[:2], 255, np.uint8)
    pad = 6
    mask[max(0, int(y - y0) - pad):max(0, int(y + bh - y0) + pad), max(0, int(x - x0) - pad):max(0, int(x + bw - x0) + pad)] = 0
    return crop, [x0, y0, x1 - x0, y1 - y0], mask


class ProductsStage(Stage):
    """``products``: crops and descriptors of the products around visual findings."""

    name = "products"
    version = 1

    def params(self) -> dict[str, Any]:
        return {"kinds": list(PRODUCT_KINDS), "max_crops": MAX_CROPS}

    def inputs(self, case: Case) -> list[Path]:
        return [p for p in (case.findings_json, case.frames_json, case.frames_dir) if p.exists()]

    def outputs(self, case: Case) -> list[Path]:
        return [case.root / PRODUCTS_JSON, case.root / PRODUCTS_DIR]

    def run(self, case: Case, progress: Progress) -> dict[str, Any]:
        crops: list[ProductCrop] = []
        with atomic_folder(case.root / PRODUCTS_DIR) as staging:
            for n, f in enumerate(_product_findings(case), 1):
                frame = f["evidence"][0]
                try:
                    img = load_image(case.root / frame, max_side=100_000)
                except InputError:
                    continue
                crop, cbox, mask = _cut(img.bgr, [float(v) for v in f["bbox"]])
                if crop.size == 0:
                    continue
                gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
                pid = f"P{n:03d}"
                ok, buf = cv2.imencode(".png", crop)  # lossless: the descriptors are recomputed from it
                if not ok:
                    continue
                (staging / f"{pid}.png").write_bytes(buf.tobytes())
                np.save(staging / f"{pid}.mask.npy", mask, allow_pickle=False)
                pts, _ = _features_masked(gray, mask)
                crops.append(ProductCrop(pid, f.get("id"), str(f.get("kind")), f.get("start"), frame,
                                         [round(float(v), 1) for v in f["bbox"]], f"{PRODUCTS_DIR}/{pid}.png", cbox,
                                         str(imagehash.phash(Image.fromarray(gray))), len(pts)))
        atomic_write_json(case.root / PRODUCTS_JSON, {
            "schema": PRODUCTS_SCHEMA, "source_sha256": case.source.get("sha256"),
            "method": {"descriptor": "OpenCV SIFT keypoints outside the finding's own box",
                       "match": f"Lowe ratio 0.8 + RANSAC homography, at least {PRODUCT_MIN_INLIERS} inliers "
                                f"and an inlier ratio of {PRODUCT_MIN_RATIO}"},
            "products": [c.__dict__ for c in crops]})
        return {"products": len(crops)}


def _features_masked(gray: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    pts, desc = _features(gray)
    if desc is None or not len(pts):
        return pts, desc
    xi = np.clip(pts[:, 0].astype(int), 0, mask.shape[1] - 1)
    yi = np.clip(pts[:, 1].astype(int), 0, mask.shape[0] - 1)
    keep = mask[yi, xi] > 0
    return pts[keep], desc[keep]


@dataclass
class ProductView:
    crop: ProductCrop
    ref: Reference | None  # the crop as a matcher reference (None: too little texture)
    pts: np.ndarray
    desc: np.ndarray | None
    size: tuple[int, int]


def load_products(case_root: Path) -> list[ProductView]:
    path = case_root / PRODUCTS_JSON
    if not path.is_file():
        return []
    doc = load_json_file(path)
    out = []
    for p in doc.get("products") or []:
        try:
            c = ProductCrop(**p)
            gray = cv2.imread(str(case_root / c.crop), cv2.IMREAD_GRAYSCALE)
            mask = np.load(case_root / c.crop.replace(".png", ".mask.npy"), allow_pickle=False)
        except (TypeError, OSError, ValueError):
            continue
        if gray is None or mask.shape != gray.shape:
            continue
        pts, desc = _features_masked(gray, mask)
        size = (gray.shape[1], gray.shape[0])
        ref = Reference("", case_root / c.crop, "product", size, pts, desc, c.phash, gray=gray) \
            if desc is not None and len(pts) >= MIN_KEYPOINTS else None
        out.append(ProductView(c, ref, pts, desc, size))
    return out


@dataclass
class ProductMatch:
    a: ProductCrop
    b: ProductCrop
    inliers: int
    inlier_ratio: float
    threshold: int

    def to_json(self) -> dict[str, Any]:
        return {"a_product": self.a.id, "a_finding": self.a.finding, "a_t": self.a.t, "a_frame": self.a.frame,
                "a_crop": self.a.crop, "b_product": self.b.id, "b_finding": self.b.finding, "b_t": self.b.t,
                "b_frame": self.b.frame, "b_crop": self.b.crop, "inliers": self.inliers,
                "inlier_ratio": self.inlier_ratio, "threshold": self.threshold}


def compare_products(a: list[ProductView], b: list[ProductView],
                     min_inliers: int = PRODUCT_MIN_INLIERS) -> list[ProductMatch]:
    """Crop pairs that show the same item, best first (each crop of ``a`` at most once)."""
    out: list[ProductMatch] = []
    for pa in a:
        if pa.ref is None:
            continue
        best: ProductMatch | None = None
        for pb in b:
            if pb.desc is None or len(pb.pts) < MIN_KEYPOINTS:
                continue
            m = _match(pa.ref, pb.pts, pb.desc, pb.size, min_inliers)
            if m is not None and m[2] >= PRODUCT_MIN_RATIO and (best is None or m[1] > best.inliers):
                best = ProductMatch(pa.crop, pb.crop, int(m[1]), round(float(m[2]), 3), min_inliers)
        if best is not None:
            out.append(best)
    return sorted(out, key=lambda m: -m.inliers)
