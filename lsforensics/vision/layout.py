"""The frame's layout: where the platform's UI sits over the picture, and where viewers' comments scroll.

A phone livestream is a camera picture with the platform's interface drawn over it: the host's
capsule, viewer and like counters, banners, a product card, the comment box, and a column of
viewers' comments that scrolls up. None of it is the seller's product, and the comment column is
viewers' words, not the seller's. Two observations find it without knowing the platform:

* **Static overlay.** The camera moves (zoom, pan, shake, cuts between products) but the UI does
  not: pixels that hold the same grey level in frames sampled far apart in time, and that carry
  edges (text, button outlines), are overlay. Pairs are taken at least ``min_gap_s`` apart so that
  a camera resting on one product for a few seconds is not mistaken for UI.
* **Scrolling comments.** OCR lines whose text reappears in the next read frame at the same left
  edge but higher up are comments scrolling; their column is the comment region.

The layout is computed once per case from the sampled frames (and ``ocr.json`` when present), and
is reusable: the masking detector ignores UI, the screen-text detector reads the comment region
as chat (``source: screen_chat``), and OCR may later read only what changed outside the UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

THUMB_W = 240  # static-overlay analysis width (portrait 240x427): UI text is still 4-6 px high


@dataclass(frozen=True)
class LayoutParams:
    min_gap_s: float = 20.0  # frames compared for "static" are at least this far apart
    max_frames: int = 80  # frames used for the static-overlay analysis (evenly spread)
    static_level: float = 8.0  # grey levels a pixel may change and still count as unchanged
    static_share: float = 0.75  # share of the compared pairs in which a UI pixel is unchanged
    edge_level: float = 20.0  # gradient (grey levels per thumb pixel) that counts as an edge
    edge_share: float = 0.7  # ... an edge present in this share of the frames is the UI's (scene edges move)
    grow_px: int = 4  # thumb pixels the static edges are grown by (fills a button, a capsule)
    min_pairs: int = 6  # fewer pairs than this say nothing
    scroll_min_lines: int = 4  # scrolling OCR lines needed to call a column the comment region
    scroll_extent_share: float = 0.01  # the column reaches down as far as this share of its moving lines do


@dataclass
class Layout:
    width: int = 0
    height: int = 0
    ui_boxes: list[list[float]] = field(default_factory=list)  # [x, y, w, h] in frame pixels
    comment_region: list[float] | None = None
    frames_used: int = 0
    pairs: int = 0
    scrolling_lines: int = 0
    notes: list[str] = field(default_factory=list)
    mask: np.ndarray | None = None  # thumb-scale boolean UI mask (not serialised)

    def ui_mask(self, width: int, height: int) -> np.ndarray | None:
        """The UI mask (static overlay and comment region) at ``width`` x ``height``, or None."""
        if self.mask is None and self.comment_region is None:
            return None
        m = np.zeros((height, width), np.uint8)
        if self.mask is not None:
            m = cv2.resize(self.mask.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
        if self.comment_region is not None and self.width:
            f = width / self.width
            x, y, w, h = (int(round(v * f)) for v in self.comment_region)
            m[max(0, y):y + h, max(0, x):x + w] = 1
        return m > 0

    def in_comments(self, box: list[float], min_share: float = 0.6) -> bool:
        """Whether most of ``box`` (frame pixels) lies in the comment region."""
        if self.comment_region is None or not box:
            return False
        cx, cy, cw, ch = self.comment_region
        x, y, w, h = box
        iw = max(0.0, min(x + w, cx + cw) - max(x, cx))
        ih = max(0.0, min(y + h, cy + ch) - max(y, cy))
        return iw * ih >= min_share * max(w * h, 1e-6)

    def to_dict(self) -> dict[str, Any]:
        return {"width": self.width, "height": self.height, "ui_boxes": self.ui_boxes,
                "comment_region": self.comment_region, "frames_used": self.frames_used, "pairs": self.pairs,
                "scrolling_lines": self.scrolling_lines, "notes": self.notes}

    def describe(self) -> str:
        parts = [f"{len(self.ui_boxes)} static overlay region(s) found over {self.pairs} frame pairs"]
        if self.comment_region:
            x, y, w, h = (int(v) for v in self.comment_region)
            parts.append(f"a scrolling comment column at x {x}-{x + w}, y {y}-{y + h} "
                         f"({self.scrolling_lines} OCR lines seen moving up)")
        return "; ".join(parts)


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """``mask`` (uint8 0/1) with every region it encloses filled: pixels not reachable from the border."""
    h, w = mask.shape
    ff = (1 - (mask > 0)).astype(np.uint8)
    seed_mask = np.zeros((h + 2, w + 2), np.uint8)
    for x, y in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)):
        if ff[y, x]:
            cv2.floodFill(ff, seed_mask, (x, y), 0)
    return ((mask > 0) | (ff > 0)).astype(np.uint8)


def _thumb(path: Path) -> np.ndarray | None:
    try:
        with Image.open(path) as im:
            im.draft("L", (THUMB_W, THUMB_W * 4))
            g = im.convert("L")
            h = max(1, round(g.height * THUMB_W / g.width))
            return np.asarray(g.resize((THUMB_W, h), Image.Resampling.BILINEAR), np.float32)
    except Exception:  # an unreadable frame is the frame reader's business; here it is just left out
        return None


def static_overlay(frames: list[tuple[float, Path]], p: LayoutParams) -> tuple[np.ndarray | None, int, int]:
    """(thumb-scale UI mask, frames used, pairs compared) from frames sampled far apart in time."""
    frames = sorted(frames)
    if len(frames) > p.max_frames:
        idx = np.linspace(0, len(frames) - 1, p.max_frames).round().astype(int)
        frames = [frames[i] for i in sorted(set(idx))]
    thumbs: list[tuple[float, np.ndarray]] = []
    for t, path in frames:
        th = _thumb(path)
        if th is not None and (not thumbs or th.shape == thumbs[0][1].shape):
            thumbs.append((t, th))
    if len(thumbs) < 3:
        return None, len(thumbs), 0
    span = thumbs[-1][0] - thumbs[0][0]
    gap = min(p.min_gap_s, span / 2)
    same = np.zeros_like(thumbs[0][1])
    pairs = 0
    j = 0
    for i, (t, a) in enumerate(thumbs):
        # each frame against the first frame at least `gap` later (and the one after it)
        while j < len(thumbs) and thumbs[j][0] - t < gap:
            j += 1
        for k in (j, j + 1):
            if k < len(thumbs) and k != i:
                same += np.abs(a - thumbs[k][1]) <= p.static_level
                pairs += 1
    if pairs < p.min_pairs:
        return None, len(thumbs), pairs
    static = same / pairs >= p.static_share
    # Semi-transparent UI (a dark capsule, a comment bubble) lets the scene through, so its pixels
    # change; its text and outlines are edges in every frame while the scene's edges move.
    persist = np.zeros_like(same)
    for _, th in thumbs:
        gx = cv2.Sobel(th, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(th, cv2.CV_32F, 0, 1, ksize=3)
        persist += np.hypot(gx, gy) / 4 >= p.edge_level
    edges_always = persist / len(thumbs) >= p.edge_share
    med = np.median(np.stack([th for _, th in thumbs]), axis=0).astype(np.float32)
    gx = cv2.Sobel(med, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(med, cv2.CV_32F, 0, 1, ksize=3)
    edges = np.hypot(gx, gy) / 4 >= p.edge_level
    core = ((static & edges) | edges_always).astype(np.uint8)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * p.grow_px + 1, 2 * p.grow_px + 1))
    big = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (4 * p.grow_px + 1, 4 * p.grow_px + 1))
    mask = fill_holes(cv2.dilate(cv2.morphologyEx(core, cv2.MORPH_CLOSE, big), k))
    # single static pixels are chance (a flat wall that stayed flat); UI pieces are blobs
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = np.zeros_like(mask)
    for c in range(1, n):
        if stats[c][4] >= 12:
            keep[labels == c] = 1
    return keep > 0, len(thumbs), pairs


def comment_column(rows: list[dict[str, Any]], p: LayoutParams) -> tuple[list[float] | None, int]:
    """The region where OCR lines scroll upwards between consecutive read frames."""
    by_t: dict[float, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("reused_from") or not r.get("box") or r.get("t") is None:
            continue
        by_t.setdefault(float(r["t"]), []).append(r)
    times = sorted(by_t)
    moving: list[list[float]] = []
    for a, b in zip(times, times[1:], strict=False):
        later = {}
        for r in by_t[b]:
            later.setdefault(str(r.get("text", "")), []).append(r["box"])
        for r in by_t[a]:
            text = str(r.get("text", ""))
            if len(text) < 2:
                continue
            x, y, w, h = r["box"]
            for bx, by, bw, bh in later.get(text, []):
                # same left edge, same height, moved up by at least half a line: a scrolling comment
                if abs(bx - x) <= max(6.0, 0.3 * h) and abs(bh - h) <= 0.3 * h and y - by >= 0.5 * h:
                    moving += [[x, y, w, h], [bx, by, bw, bh]]
                    break
    if len(moving) < 2 * p.scroll_min_lines:
        return None, len(moving) // 2
    arr = np.array(moving, np.float32)
    # the column: robust extent of the moving lines (a stray match elsewhere does not stretch it)
    x0 = float(np.percentile(arr[:, 0], 5))
    x1 = float(np.percentile(arr[:, 0] + arr[:, 2], 95))
    y0 = float(np.percentile(arr[:, 1], 2))
    # At the bottom, the extent that a few lines reach: a new comment slides in below the column's
    # resting lines and is caught there in only a few read frames (1-2 % of the moving lines over
    # an hour), but it is a viewer's line all the same; the 98th percentile cut it off (its box
    # then lay mostly outside, and its text was taken for the seller's screen text).
    k = max(2, int(np.ceil(p.scroll_extent_share * len(arr))))
    y1 = float(np.sort(arr[:, 1] + arr[:, 3])[-k])
    hgt = float(np.median(arr[:, 3]))
    return [round(x0 - 0.3 * hgt, 1), round(y0 - 0.5 * hgt, 1), round(x1 - x0 + 0.6 * hgt, 1),
            round(y1 - y0 + 1.0 * hgt, 1)], len(moving) // 2


def find_layout(frames: list[tuple[float, Path]], size: tuple[int, int], ocr_rows: list[dict[str, Any]] | None = None,
                params: LayoutParams | None = None) -> Layout:
    """The layout of one stream from its sampled frames ``[(t, path)]`` of ``size`` (w, h) pixels."""
    p = params or LayoutParams()
    lay = Layout(width=size[0], height=size[1])
    mask, lay.frames_used, lay.pairs = static_overlay(frames, p)
    if mask is None:
        lay.notes.append(f"static overlay not assessed: {lay.frames_used} readable frames, {lay.pairs} pairs "
                         f"at least {p.min_gap_s:g} s apart")
    else:
        lay.mask = mask
        f = size[0] / mask.shape[1]
        n, _labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
        lay.ui_boxes = [[round(float(v) * f, 1) for v in stats[c][:4]] for c in range(1, n)]
    if ocr_rows:
        lay.comment_region, lay.scrolling_lines = comment_column(ocr_rows, p)
    return lay


_CACHE: dict[str, Layout] = {}


def case_layout(case: Any, params: LayoutParams | None = None) -> Layout:
    """The layout of a case (frames.json + frames + ocr.json), cached per process on their digests."""
    import hashlib
    import json

    h = hashlib.sha256(str(case.root).encode())
    h.update(repr(params or LayoutParams()).encode())
    frames: list[tuple[float, Path]] = []
    size = (0, 0)
    if case.frames_json.exists():
        raw = case.frames_json.read_bytes()
        h.update(raw)
        try:
            rows = json.loads(raw)
        except ValueError:
            rows = []
        for r in rows if isinstance(rows, list) else []:
            if isinstance(r, dict) and r.get("file") and r.get("t") is not None:
                frames.append((float(r["t"]), case.root / str(r["file"])))
    ocr: list[dict[str, Any]] = []
    if case.ocr_json.exists():
        raw = case.ocr_json.read_bytes()
        h.update(hashlib.sha256(raw).digest())
        try:
            doc = json.loads(raw)
            ocr = doc if isinstance(doc, list) else []
        except ValueError:
            ocr = []
    key = h.hexdigest()
    if key in _CACHE:
        return _CACHE[key]
    if frames:
        try:
            with Image.open(frames[0][1]) as im:
                size = im.size
        except Exception:
            size = (0, 0)
    lay = find_layout(frames, size, [r for r in ocr if isinstance(r, dict)], params) if size[0] else Layout()
    _CACHE.clear()
    _CACHE[key] = lay
    return lay
