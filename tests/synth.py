"""Synthetic livestream builder for tests, examples and benchmarks.

Builds an H.264 + AAC mp4 that looks like a recorded shopping stream: one scene per spoken line,
a product drawn with Pillow (bag, belt, shoes, bottle …) carrying a made-up logo that is visible,
taped, stickered, blurred or mosaicked, a Chinese caption bar, a red price sticker, slow product
motion, and the real synthesised Mandarin lines of ``../shared/fixtures/tts_zh/`` as the sound
track. Ground truth (line times, speech onsets, scene boxes) is returned and written next to the
video as ``meta.json``. Outputs are cached by a key over this file and the audio inputs.

Run ``python tests/synth.py OUTDIR`` to build one by hand.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import wave
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TTS_DIR = SHARED / "fixtures" / "tts_zh"
SR = 16000
# libx264 on more than one thread writes a different bitstream on every run (measured 2026-12-04:
# four encodes of the same frames, four bitstreams; 133 of 6000 decoded frames differed between two
# builds of a realistic stream). Fixtures are encoded on one thread so two clones build the same bytes.
X264_THREADS = ("-threads", "1")
CJK_FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
]

# One scene per TTS line: (product, logo_state, caption, price sticker). Captions and stickers
# are what the OCR tests expect to read back; logo states are what masking tests expect.
SCENES: list[tuple[str, str, str, str | None]] = [
    ("none", "none", "欢迎来到直播间", None),
    ("bag", "visible", "原版1:1 ¥199", None),
    ("bag", "tape", "限时秒杀包邮", None),
    ("shorts", "none", "天丝短裤 ¥59", None),
    ("coat", "none", "羊绒大衣", "¥399"),
    ("belt", "sticker", "今天只要¥390", None),
    ("shoes", "blur", "莆田纯原", None),
    ("bottle", "mosaic", "全网最好", None),
    ("bottle", "none", "治疗高血压", None),
    ("necklace", "none", "18K金 意大利进口", None),
    ("bag", "visible", "库存最后50件", None),
    ("none", "none", "七天无理由退货", None),
    ("none", "none", "1号链接福利款", None),
    ("bag", "tape", "原单尾货", "¥299"),
    ("bag", "sticker", "老花托特包", None),
    ("shirt", "none", "纯棉衬衫", None),
]


def cjk_font(size: int) -> ImageFont.FreeTypeFont:
    for cand in CJK_FONT_CANDIDATES:
        if Path(cand).exists():
            return ImageFont.truetype(cand, size)
    raise RuntimeError("no CJK font found: install fonts-wqy-zenhei (the README's set-up does)")


def draw_logo(size: int = 120, *, colour: tuple[int, int, int] = (20, 20, 20)) -> Image.Image:
    """A made-up brand mark ("LUXE" over a ring and diamond): distinctive corners for SIFT/ORB."""
    im = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    s = size
    d.ellipse([s * 0.08, s * 0.04, s * 0.92, s * 0.72], outline=colour + (255,), width=max(3, s // 20))
    d.polygon([(s * 0.5, s * 0.14), (s * 0.72, s * 0.38), (s * 0.5, s * 0.62), (s * 0.28, s * 0.38)],
              fill=colour + (255,))
    d.polygon([(s * 0.5, s * 0.26), (s * 0.6, s * 0.38), (s * 0.5, s * 0.5), (s * 0.4, s * 0.38)],
              fill=(240, 200, 60, 255))
    font = ImageFont.truetype(CJK_FONT_CANDIDATES[0], int(s * 0.22)) if Path(CJK_FONT_CANDIDATES[0]).exists() \
        else ImageFont.load_default()
    d.text((s * 0.5, s * 0.86), "LUXE", fill=colour + (255,), font=font, anchor="mm")
    return im


@dataclass
class Scene:
    start: float
    end: float
    product: str
    logo_state: str
    caption: str
    price_sticker: str | None
    logo_box: list[int] | None  # [x, y, w, h] of the logo / its cover at scene start
    product_box: list[int] | None
    dx_per_s: float
    caption_box: list[int] = field(default_factory=list)
    sticker_box: list[int] | None = None


@dataclass
class SynthStream:
    video: Path
    audio: Path
    duration: float
    width: int
    height: int
    fps: int
    lines: list[dict[str, Any]]
    scenes: list[dict[str, Any]]

    @classmethod
    def load(cls, folder: Path) -> SynthStream:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        return cls(video=folder / meta["video"], audio=folder / meta["audio"], duration=meta["duration"],
                   width=meta["width"], height=meta["height"], fps=meta["fps"],
                   lines=meta["lines"], scenes=meta["scenes"])


def read_lines() -> list[tuple[str, str]]:
    rows = []
    for raw in (TTS_DIR / "lines.txt").read_text(encoding="utf-8").splitlines():
        if "\t" in raw:
            name, text = raw.split("\t", 1)
            rows.append((name.strip(), text.strip()))
    return rows


def decode_pcm(path: Path) -> np.ndarray:
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-ac", "1", "-ar", str(SR), "-f", "s16le", "-"],
        capture_output=True, check=True,
    ).stdout
    return np.frombuffer(out, dtype=np.int16)


def speech_bounds(pcm: np.ndarray, threshold_db: float = -35.0) -> tuple[float, float]:
    """First and last 20 ms window above ``threshold_db`` dBFS (speech onset/offset)."""
    win = SR // 50
    n = len(pcm) // win
    frames = pcm[: n * win].astype(np.float32).reshape(n, win) / 32768.0
    rms = np.sqrt((frames**2).mean(axis=1) + 1e-12)
    loud = np.nonzero(20 * np.log10(rms) > threshold_db)[0]
    if len(loud) == 0:
        return 0.0, len(pcm) / SR
    return loud[0] * win / SR, (loud[-1] + 1) * win / SR


def write_wav(path: Path, pcm: np.ndarray, rate: int = SR) -> Path:
    """Mono 16-bit WAV of ``pcm`` (int16 samples, or floats in [-1, 1]), written atomically."""
    x = np.asarray(pcm)
    if x.dtype.kind == "f":
        x = np.clip(x, -1, 1) * 32767
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(x.astype("<i2").tobytes())
    os.replace(tmp, path)
    return path


def cache_key(extra: str = "") -> str:
    h = hashlib.sha256(Path(__file__).read_bytes())
    for name, text in read_lines():
        h.update(name.encode() + text.encode())
        h.update(hashlib.sha256((TTS_DIR / name).read_bytes()).digest())
    h.update(extra.encode())
    return h.hexdigest()[:16]


def _product_sprite(kind: str, rng: np.random.Generator) -> tuple[Image.Image, tuple[int, int] | None]:
    """Draw a product; return it (RGBA) and where its logo goes (centre in sprite coords)."""
    palette = {"bag": (150, 90, 50), "shorts": (70, 110, 160), "coat": (190, 170, 140), "belt": (60, 40, 30),
               "shoes": (235, 235, 230), "bottle": (210, 220, 235), "necklace": (0, 0, 0), "shirt": (245, 245, 250)}
    c = palette.get(kind, (128, 128, 128))
    im = Image.new("RGBA", (340, 300), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    logo_at: tuple[int, int] | None = None
    if kind == "bag":
        d.arc([95, 10, 245, 130], 180, 360, fill=(90, 50, 25, 255), width=14)
        d.polygon([(40, 80), (300, 80), (325, 290), (15, 290)], fill=c + (255,))
        d.line([(40, 80), (300, 80)], fill=(110, 65, 35, 255), width=6)
        logo_at = (170, 190)
    elif kind == "belt":
        d.rounded_rectangle([0, 120, 340, 180], 12, fill=c + (255,))
        d.rounded_rectangle([110, 95, 230, 205], 18, fill=(200, 170, 80, 255))
        logo_at = (170, 150)
    elif kind == "shoes":
        d.ellipse([20, 150, 320, 280], fill=c + (255,))
        d.rectangle([60, 110, 200, 220], fill=c + (255,))
        d.ellipse([20, 250, 320, 295], fill=(60, 60, 60, 255))
        logo_at = (210, 215)
    elif kind == "bottle":
        d.rectangle([150, 10, 190, 60], fill=(40, 40, 40, 255))
        d.rounded_rectangle([95, 55, 245, 295], 30, fill=c + (255,))
        logo_at = (170, 170)
    elif kind == "shorts":
        d.polygon([(60, 30), (280, 30), (310, 280), (185, 280), (170, 140), (155, 280), (30, 280)], fill=c + (255,))
    elif kind == "coat":
        d.polygon([(80, 20), (260, 20), (320, 290), (20, 290)], fill=c + (255,))
        d.line([(170, 20), (170, 290)], fill=(120, 100, 80, 255), width=4)
    elif kind == "shirt":
        d.polygon([(70, 30), (270, 30), (330, 110), (280, 130), (280, 290), (60, 290), (60, 130), (10, 110)],
                  fill=c + (255,))
    elif kind == "necklace":
        d.arc([40, 0, 300, 260], 20, 160, fill=(218, 165, 32, 255), width=8)
        d.ellipse([150, 235, 190, 280], fill=(218, 165, 32, 255))
    # fabric/print texture so the product is not a flat patch
    arr = np.asarray(im).copy()
    mask = arr[..., 3] > 0
    noise = rng.integers(-12, 13, size=arr.shape[:2] + (1,))
    arr[..., :3] = np.where(mask[..., None], np.clip(arr[..., :3].astype(int) + noise, 0, 255), arr[..., :3])
    return Image.fromarray(arr.astype(np.uint8)), logo_at


def _apply_logo(sprite: Image.Image, logo_at: tuple[int, int], state: str, rng: np.random.Generator) -> list[int]:
    """Put the logo on the product in the given state; return its box [x, y, w, h] in sprite coords."""
    size = 96
    x0, y0 = logo_at[0] - size // 2, logo_at[1] - size // 2
    box = [x0, y0, size, size]
    logo = draw_logo(size)
    sprite.alpha_composite(logo, (x0, y0))
    if state == "visible":
        return box
    region = sprite.crop((x0, y0, x0 + size, y0 + size))
    if state == "blur":
        sprite.paste(region.filter(ImageFilter.GaussianBlur(9)), (x0, y0))
        return box
    if state == "mosaic":
        small = region.resize((size // 12, size // 12), Image.Resampling.BILINEAR)
        sprite.paste(small.resize((size, size), Image.Resampling.NEAREST), (x0, y0))
        return box
    pad = 10
    cover = [x0 - pad, y0 - pad, size + 2 * pad, size + 2 * pad]
    d = ImageDraw.Draw(sprite)
    if state == "tape":  # matte beige masking tape, faint texture
        patch = np.full((cover[3], cover[2], 4), (222, 205, 160, 255), dtype=np.int16)
        patch[..., :3] += rng.integers(-6, 7, size=(cover[3], cover[2], 1))
        sprite.paste(Image.fromarray(np.clip(patch, 0, 255).astype(np.uint8)), (cover[0], cover[1]))
    elif state == "sticker":  # glossy white round-cornered sticker
        d.rounded_rectangle([cover[0], cover[1], cover[0] + cover[2], cover[1] + cover[3]], 16,
                            fill=(250, 250, 248, 255))
    return cover


def _background(w: int, h: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    # Alternate bright and dark sets, like a stream cutting between host and close-up cameras.
    bright = seed % 2 == 0
    top = np.array(rng.integers(170, 230, 3) if bright else rng.integers(40, 90, 3), dtype=np.float32)
    bottom = np.array(rng.integers(110, 160, 3) if bright else rng.integers(10, 50, 3), dtype=np.float32)
    ramp = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    arr = top * (1 - ramp) + bottom * ramp + np.zeros((h, w, 3), dtype=np.float32)
    arr[int(h * 0.72):, :, :] *= 0.7  # a table edge
    arr += rng.normal(0, 3, size=(h, w, 1))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def build_livestream(dest: Path, *, width: int = 960, height: int = 540, fps: int = 15,
                     lead_in: float = 1.0, gap: float = 0.8) -> SynthStream:
    """Build (or reuse from ``dest``) the synthetic stream; return its ground truth."""
    dest = Path(dest)
    key = cache_key(f"{width}x{height}@{fps}/{lead_in}/{gap}")
    folder = dest / f"livestream-{key}"
    if (folder / "meta.json").exists():
        return SynthStream.load(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)

    # --- audio: the TTS lines with gaps, ground truth from the samples themselves
    pcm_parts: list[np.ndarray] = [np.zeros(int(lead_in * SR), dtype=np.int16)]
    lines = []
    t = lead_in
    for name, text in read_lines():
        pcm = decode_pcm(TTS_DIR / name)
        on, off = speech_bounds(pcm)
        lines.append({"file": name, "text": text, "file_start": round(t, 3), "file_end": round(t + len(pcm) / SR, 3),
                      "start": round(t + on, 3), "end": round(t + off, 3)})
        pcm_parts += [pcm, np.zeros(int(gap * SR), dtype=np.int16)]
        t += len(pcm) / SR + gap
    audio = np.concatenate(pcm_parts)
    duration = round(len(audio) / SR, 3)
    wav = write_wav(folder / "speech.wav", audio)

    # --- scenes: one per line, cut where the line's audio file starts
    font = cjk_font(40)
    sticker_font = cjk_font(44)
    scenes: list[Scene] = []
    layers = []
    for i, (line, (product, state, caption, sticker)) in enumerate(zip(lines, SCENES, strict=True)):
        start = 0.0 if i == 0 else line["file_start"]
        end = lines[i + 1]["file_start"] if i + 1 < len(lines) else duration
        bg = _background(width, height, seed=100 + i)
        sprite = logo_box = product_box = None
        dx = 0.0
        if product != "none":
            sprite, logo_at = _product_sprite(product, rng)
            px, py = int(width * 0.30) + (i % 3) * 20, int(height * 0.12)
            dx = 12.0 if i % 2 else -10.0
            product_box = [px, py, sprite.width, sprite.height]
            if logo_at and state != "none":
                lb = _apply_logo(sprite, logo_at, state, rng)
                logo_box = [lb[0] + px, lb[1] + py, lb[2], lb[3]]
        # caption bar
        cap = Image.new("RGBA", (width, 70), (0, 0, 0, 150))
        ImageDraw.Draw(cap).text((24, 35), caption, font=font, fill=(255, 255, 255, 255), anchor="lm")
        caption_box = [0, height - 70, width, 70]
        sticker_img = sticker_box = None
        if sticker:
            sticker_img = Image.new("RGBA", (170, 80), (0, 0, 0, 0))
            sd = ImageDraw.Draw(sticker_img)
            sd.rounded_rectangle([0, 0, 169, 79], 14, fill=(220, 30, 30, 255))
            sd.text((85, 40), sticker, font=sticker_font, fill=(255, 255, 255, 255), anchor="mm")
            sticker_box = [width - 200, 30, 170, 80]
        scenes.append(Scene(round(start, 3), round(end, 3), product, state if product != "none" else "none",
                            caption, sticker, logo_box, product_box, dx, caption_box, sticker_box))
        layers.append((bg, sprite, cap, sticker_img))

    # --- render and encode: raw RGB frames on ffmpeg's stdin, the WAV as second input
    video = folder / "livestream.mp4"
    tmp = folder / ".livestream.tmp.mp4"
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
           "-r", str(fps), "-i", "-", "-i", str(wav), "-map", "0:v", "-map", "1:a",
           "-c:v", "libx264", *X264_THREADS, "-preset", "veryfast", "-crf", "23", "-g", str(2 * fps), "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "96k", "-ar", "48000", "-shortest", str(tmp)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    n_frames = int(math.ceil(duration * fps))
    si = 0
    for n in range(n_frames):
        t = n / fps
        while si + 1 < len(scenes) and t >= scenes[si + 1].start:
            si += 1
        sc, (bg, sprite, cap, sticker_img) = scenes[si], layers[si]
        frame = bg.copy()
        if sprite is not None and sc.product_box:
            x = int(round(sc.product_box[0] + sc.dx_per_s * (t - sc.start)))
            frame.paste(sprite, (x, sc.product_box[1]), sprite)
        frame.paste(cap, (0, height - 70), cap)
        if sticker_img is not None and sc.sticker_box:
            frame.paste(sticker_img, (sc.sticker_box[0], sc.sticker_box[1]), sticker_img)
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError("ffmpeg failed to encode the synthetic stream")
    os.replace(tmp, video)
    meta = {"video": video.name, "audio": wav.name, "duration": duration, "width": width, "height": height,
            "fps": fps, "lines": lines, "scenes": [asdict(s) for s in scenes]}
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    return SynthStream.load(folder)


def _on_white(im: Image.Image) -> Image.Image:
    bg = Image.new("RGB", im.size, (255, 255, 255))
    bg.paste(im, (0, 0), im)
    return bg


def make_brand_rules(folder: Path) -> Path:
    """A brand-protection firm's own rules folder: a reference logo and a product photo of "LUXE"."""
    refs = Path(folder) / "references" / "LUXE"
    if not refs.is_dir():
        refs.mkdir(parents=True)
        _on_white(draw_logo(240)).save(refs / "logo.png")
        bag, logo_at = _product_sprite("bag", np.random.default_rng(11))
        assert logo_at is not None
        bag.alpha_composite(draw_logo(96), (logo_at[0] - 48, logo_at[1] - 48))
        _on_white(bag).save(refs / "bag_product.png")
    return Path(folder)


if __name__ == "__main__":  # pragma: no cover
    out = build_livestream(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
    print(out.video)
