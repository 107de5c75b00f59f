"""Evidence pictures for the report: a reduced copy of the frame with the finding's box drawn.

The case's frame files are the evidence (hashed in the manifest); the report only shows reduced
copies, so its size stays reasonable with hundreds of findings. Files are opened without
following symlinks (paths come from findings.json, which is data, not trusted code).
"""

from __future__ import annotations

import base64
import io
import os
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw

from ..evidence.manifest import open_inside

THUMB_W = 360


@lru_cache(maxsize=512)
def thumbnail(root: str, rel: str, bbox: tuple[float, ...] | None, width: int = THUMB_W) -> bytes | None:
    """JPEG bytes of the frame reduced to ``width`` pixels, with ``bbox`` [x,y,w,h] outlined in red."""
    try:
        fd = open_inside(Path(root), rel)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as fh, Image.open(fh) as im:
            orig_w = im.size[0]  # before draft(), which may decode at a reduced size
            im.draft("RGB", (width * 2, width * 2))  # fast JPEG DCT downscale
            img = im.convert("RGB")
    except (OSError, Image.DecompressionBombError):
        return None
    scale = width / img.width
    if bbox is not None and len(bbox) == 4 and bbox[2] > 0 and bbox[3] > 0:
        k = img.width / max(orig_w, 1)
        x, y, w, h = (float(v) * k for v in bbox)
        draw = ImageDraw.Draw(img)
        draw.rectangle([x, y, x + w, y + h], outline=(230, 20, 20), width=max(2, int(round(3 / scale))))
    img = img.resize((width, max(1, int(round(img.height * scale)))), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=72, optimize=True)
    return buf.getvalue()


def data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()
