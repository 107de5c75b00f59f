"""Decode images defensively: frames and references come from users and may be broken.

Every failure becomes one clear ``InputError`` line naming the file. Huge images (8K frames,
print-resolution product photos) are decoded at reduced size: the detectors work on at most
``MAX_SIDE`` pixels and boxes are mapped back to original pixel coordinates with ``scale``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ..errors import InputError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
MIN_SIDE = 32  # below this neither OCR nor patch statistics mean anything
MAX_SIDE = 1920  # analysis resolution cap; 1080p frames are analysed as they are
MAX_PIXELS = 400_000_000  # refuse decompression bombs instead of exhausting memory


@dataclass
class LoadedImage:
    path: Path | None
    bgr: np.ndarray  # analysis-resolution BGR uint8
    orig_w: int
    orig_h: int
    scale: float  # analysis pixels per original pixel (<= 1)

    def to_original(self, box: list[float]) -> list[float]:
        """[x, y, w, h] in analysis pixels -> original pixels (rounded to 0.1 px)."""
        return [round(v / self.scale, 1) for v in box]


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def _header_size(path: Path) -> tuple[int, int]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                size = im.size
                if size[0] * size[1] > MAX_PIXELS:
                    return size
                # Decode once (JPEG at 1/8 scale: cheap even for 8K) so that truncated or damaged
                # data is refused here; OpenCV would fill the missing part with grey and go on.
                im.draft("RGB", (max(1, size[0] // 8), max(1, size[1] // 8)))
                im.load()
                return size
    except FileNotFoundError:
        raise InputError(f"{path}: image file not found") from None
    except Image.DecompressionBombError:
        raise InputError(f"{path}: image is too large to analyse (over {MAX_PIXELS} pixels)") from None
    except Image.UnidentifiedImageError:
        raise InputError(f"{path}: not a readable image (unknown or damaged format)") from None
    except (OSError, SyntaxError, ValueError) as exc:  # truncated/damaged data after a valid header
        raise InputError(f"{path}: image data is corrupt or truncated ({' '.join(str(exc).split())})") from None


def load_image(path: str | Path, *, max_side: int = MAX_SIDE) -> LoadedImage:
    """Read an image file for analysis or raise ``InputError`` with a one-line reason."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: image file not found")
    w, h = _header_size(path)
    if w * h > MAX_PIXELS:
        raise InputError(f"{path}: image is too large to analyse ({w}x{h})")
    if min(w, h) < MIN_SIDE:
        raise InputError(f"{path}: image is too small to analyse ({w}x{h}, need at least {MIN_SIDE} px a side)")
    # JPEG decoders can downscale by 2/4/8 while decoding: an 8K frame never exists in full.
    flag = cv2.IMREAD_COLOR
    for factor, reduced in ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4),
                            (2, cv2.IMREAD_REDUCED_COLOR_2)):
        if max(w, h) / factor >= max_side:
            flag = reduced
            break
    bgr = cv2.imread(str(path), flag)
    if bgr is None or bgr.size == 0:
        raise InputError(f"{path}: image data is corrupt or truncated (header says {w}x{h})")
    return from_array(bgr, path=path, orig_size=(w, h), max_side=max_side)


def from_array(bgr: np.ndarray, *, path: Path | None = None, orig_size: tuple[int, int] | None = None,
               max_side: int = MAX_SIDE) -> LoadedImage:
    """Wrap an in-memory BGR (or gray/BGRA) array, downscaling it to the analysis cap."""
    name = str(path) if path else "image"
    if bgr.ndim == 2:
        bgr = cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGR)
    elif bgr.ndim == 3 and bgr.shape[2] == 4:
        bgr = cv2.cvtColor(bgr, cv2.COLOR_BGRA2BGR)
    if bgr.ndim != 3 or bgr.shape[2] != 3:
        raise InputError(f"{name}: unsupported image layout {bgr.shape}")
    ow, oh = orig_size or (bgr.shape[1], bgr.shape[0])
    if min(ow, oh) < MIN_SIDE:
        raise InputError(f"{name}: image is too small to analyse ({ow}x{oh}, need at least {MIN_SIDE} px a side)")
    long_side = max(bgr.shape[:2])
    if long_side > max_side:
        f = max_side / long_side
        bgr = cv2.resize(bgr, (round(bgr.shape[1] * f), round(bgr.shape[0] * f)), interpolation=cv2.INTER_AREA)
    return LoadedImage(path, np.ascontiguousarray(bgr), ow, oh, bgr.shape[1] / ow)
