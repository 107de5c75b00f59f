"""Synthetic livestream frames with known ground truth, for tests and ``benchmarks/visual.py``.

Real brand logos are never shipped: logos here are random monograms (arcs + Hershey letters).
A frame shows a textured room, optionally a presenter's face, a leather-like product with a logo
in one of the states sellers use (visible, tape, sticker, blur, mosaic, none), and for negatives a
red price sticker or a plain background. Every frame is JPEG round-tripped like extracted frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

MASKED_STATES = ("tape", "sticker", "blur", "mosaic")
NEGATIVE_STATES = ("visible", "none", "price", "plain")
FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


@dataclass
class SynthFrame:
    bgr: np.ndarray
    state: str
    masked_box: list[int] | None  # ground truth cover region [x, y, w, h]
    logo_box: list[int] | None  # where the logo is (visible or hidden)
    product_box: list[int] | None
    price_box: list[int] | None = None
    meta: dict = field(default_factory=dict)


def _noise(rng: np.random.Generator, h: int, w: int, sigma: float, smooth: float = 0) -> np.ndarray:
    n = rng.normal(0, sigma, (h, w)).astype(np.float32)
    if smooth:
        n = cv2.GaussianBlur(n, (0, 0), smooth) * (1 + smooth)
    return n


def make_logo(rng: np.random.Generator, size: int, color: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A random monogram: two interlocking arcs and two letters. Returns (bgr, alpha mask)."""
    img = np.zeros((size, size, 3), np.uint8)
    mask = np.zeros((size, size), np.uint8)
    th = max(2, size // 14)
    r = int(size * 0.3)
    for cx in (int(size * 0.36), int(size * 0.64)):
        start = int(rng.integers(20, 70))
        cv2.ellipse(mask, (cx, size // 2), (r, r), 0, start, start + 280, 255, th, cv2.LINE_AA)
    letters = "".join(chr(int(c)) for c in rng.integers(65, 91, 2))
    cv2.putText(mask, letters, (int(size * 0.2), int(size * 0.62)), cv2.FONT_HERSHEY_DUPLEX,
                size / 90, 255, max(1, th // 2), cv2.LINE_AA)
    img[:] = color
    return img, mask


def _room(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    base = rng.integers(60, 200, 3).astype(np.float32)
    yy = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    img = np.broadcast_to(base * (0.8 + 0.3 * yy), (h, w, 3)).copy()
    for _ in range(int(rng.integers(4, 10))):  # shelves, boxes, a window
        x, y = int(rng.integers(0, w - 60)), int(rng.integers(0, h - 40))
        bw, bh = int(rng.integers(40, 300)), int(rng.integers(20, 200))
        cv2.rectangle(img, (x, y), (x + bw, y + bh), [float(v) for v in rng.integers(20, 235, 3)], -1)
    img += _noise(rng, h, w, 6, 1.5)[..., None]
    img += _noise(rng, h, w, 2)[..., None]
    if rng.random() < 0.5:  # shallow depth of field: a defocused room behind the seller
        img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(2, 5)))
    return img


def _face(img: np.ndarray, rng: np.random.Generator) -> None:
    h, w = img.shape[:2]
    cx, cy, r = int(rng.integers(w // 2, w - 120)), int(rng.integers(90, h // 3 + 60)), int(rng.integers(50, 80))
    skin = np.array([150, 175, 215], np.float32) * rng.uniform(0.7, 1.1)
    cv2.ellipse(img, (cx, cy - r // 2), (int(r * 1.1), int(r * 0.9)), 0, 180, 360, (30, 30, 35), -1)  # hair
    cv2.ellipse(img, (cx, cy), (int(r * 0.8), r), 0, 0, 360, [float(v) for v in skin], -1)
    for ex in (cx - r // 3, cx + r // 3):
        cv2.circle(img, (ex, cy - r // 5), max(3, r // 10), (40, 30, 30), -1)
    cv2.ellipse(img, (cx, cy + r // 2), (r // 4, r // 10), 0, 0, 180, (60, 60, 150), 2)


def draw_price_sticker(img: np.ndarray, x: int, y: int, text: str = "¥199", scale: float = 1.0) -> list[int]:
    from PIL import Image, ImageDraw, ImageFont

    w, h = int(170 * scale), int(76 * scale)
    cv2.rectangle(img, (x, y), (x + w, y + h), (40, 40, 225), -1)
    pil = Image.fromarray(cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_BGR2RGB))
    font = ImageFont.truetype(str(FONT), int(48 * scale)) if FONT.exists() else ImageFont.load_default()
    ImageDraw.Draw(pil).text((x + int(14 * scale), y + int(10 * scale)), text, font=font, fill=(255, 255, 255))
    img[:] = cv2.cvtColor(np.asarray(pil), cv2.COLOR_RGB2BGR).astype(img.dtype)
    return [x, y, w, h]


def _product(img: np.ndarray, rng: np.random.Generator) -> list[int]:
    h, w = img.shape[:2]
    pw, ph = int(rng.integers(280, 430)), int(rng.integers(200, 300))
    x = int(rng.integers(20, w - pw - 20))
    y = int(rng.integers(h - ph - 150, h - ph - 10))
    color = np.array(rng.choice([[30, 40, 60], [20, 20, 20], [60, 90, 150], [120, 110, 100], [50, 50, 140]]),
                     np.float32) * rng.uniform(0.8, 1.3)
    m = np.zeros((h, w), np.uint8)
    cv2.rectangle(m, (x, y), (x + pw, y + ph), 255, -1)
    cv2.ellipse(m, (x + pw // 2, y), (pw // 4, ph // 3), 0, 180, 360, 255, 10)  # handle
    leather = color + _noise(rng, h, w, 9, 1.0)[..., None] + _noise(rng, h, w, 4)[..., None]
    img[m > 0] = leather[m > 0]
    for k in range(x + 12, x + pw - 12, 14):  # stitching
        cv2.line(img, (k, y + 10), (k + 7, y + 10), (200, 200, 190), 1)
        cv2.line(img, (k, y + ph - 10), (k + 7, y + ph - 10), (200, 200, 190), 1)
    return [x, y, pw, ph]


def make_frame(state: str, seed: int, width: int = 960, height: int = 540, quality: int = 85) -> SynthFrame:
    rng = np.random.default_rng(seed)
    img = _room(rng, width, height)
    if state == "plain":
        flat = np.array(rng.integers(30, 230, 3), np.float32)
        img = np.broadcast_to(flat, (height, width, 3)).copy() + _noise(rng, height, width, 1.5)[..., None]
        return SynthFrame(_jpeg(img, quality), state, None, None, None)
    if rng.random() < 0.6:
        _face(img, rng)
    pbox = _product(img, rng)
    px, py, pw, ph = pbox
    ls = int(rng.integers(60, 120))
    lx = int(px + pw / 2 - ls / 2 + rng.integers(-pw // 6, pw // 6))
    ly = int(py + ph / 2 - ls / 2 + rng.integers(-ph // 8, ph // 8))
    logo_box = [lx, ly, ls, ls] if state != "none" else None
    price_box = None
    if state != "none":
        color = tuple(int(v) for v in rng.choice([[60, 180, 220], [235, 235, 235], [40, 170, 200]]))
        limg, lmask = make_logo(rng, ls, color)
        a = (lmask.astype(np.float32) / 255)[..., None]
        img[ly:ly + ls, lx:lx + ls] = img[ly:ly + ls, lx:lx + ls] * (1 - a) + limg * a
    masked = None
    pad = int(ls * rng.uniform(0.1, 0.25))
    mx, my, mw, mh = lx - pad, ly - pad, ls + 2 * pad, ls + 2 * pad
    if state == "tape":
        color = [float(v) for v in rng.choice([[180, 200, 215], [200, 200, 200], [25, 25, 25], [235, 240, 240]])]
        ang = float(rng.uniform(-12, 12))
        rect = ((mx + mw / 2, my + mh / 2), (mw * rng.uniform(1.0, 1.3), mh), ang)
        pts = cv2.boxPoints(rect).astype(np.int32)
        tape = np.zeros(img.shape[:2], np.uint8)
        cv2.fillPoly(tape, [pts], 255)
        shade = np.array(color, np.float32) + _noise(rng, height, width, 2.0, 2)[..., None]
        img[tape > 0] = shade[tape > 0]
        x, y, w, h = cv2.boundingRect(pts)
        masked = [x, y, w, h]
    elif state == "sticker":
        color = [float(v) for v in rng.choice([[30, 200, 240], [240, 240, 240], [60, 60, 220], [200, 120, 40]])]
        if rng.random() < 0.5:
            r = mw // 2
            cv2.circle(img, (mx + r, my + r), r, color, -1, cv2.LINE_AA)
        else:
            cv2.rectangle(img, (mx, my), (mx + mw, my + mh), color, -1)
        masked = [mx, my, mw, mh]
    elif state == "blur":
        roi = img[my:my + mh, mx:mx + mw]
        img[my:my + mh, mx:mx + mw] = cv2.GaussianBlur(roi, (0, 0), float(rng.uniform(6, 12)))
        masked = [mx, my, mw, mh]
    elif state == "mosaic":
        b = int(rng.integers(8, 17))
        roi = img[my:my + mh, mx:mx + mw]
        small = cv2.resize(roi, (max(1, mw // b), max(1, mh // b)), interpolation=cv2.INTER_AREA)
        img[my:my + mh, mx:mx + mw] = cv2.resize(small, (mw, mh), interpolation=cv2.INTER_NEAREST)
        masked = [mx, my, mw, mh]
    elif state == "price":
        if rng.random() < 0.5:  # on the product, next to the logo
            sx, sy = min(px + pw - 180, width - 180), max(py + 10, 0)
        else:
            sx, sy = int(rng.integers(20, width - 200)), int(rng.integers(20, 120))
        price_box = draw_price_sticker(img, sx, sy, f"¥{int(rng.integers(39, 999))}")
    return SynthFrame(_jpeg(img, quality), state, masked, logo_box, pbox, price_box)


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", np.clip(img, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def iou(a: list[float], b: list[float]) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0
