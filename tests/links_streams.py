"""Generated streams for the cross-stream link tests (voice, footage, product).

* :func:`excerpt` re-encodes a 60-s (or any) stretch of a video at another size and bitrate with
  a new overlay (a shop banner), as a re-upload or a looped "live" would.
* :func:`build_six` makes the six streams of the batch test: two pairs share a voice (the TTS
  voice on different sentences; the English reader of the multilingual clip, first and second
  half), one pair shares footage (Big Buck Bunny and a re-encoded excerpt of it with another
  voice), one pair shows the same patterned product with tape over its logo, on other
  backgrounds, at other places and sizes. Everything else differs.

Outputs are cached under the given folder by a key over this file and the inputs.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from synth import (
    SHARED,
    SR,
    TTS_DIR,
    X264_THREADS,
    _apply_logo,
    _background,
    _product_sprite,
    decode_pcm,
    write_wav,
)

REALDATA = SHARED / "realdata"
W, H, FPS = 640, 360, 10
FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


def _key(*parts: object) -> str:
    h = hashlib.sha256(Path(__file__).read_bytes())
    for p in parts:
        h.update(str(p).encode())
    return h.hexdigest()[:12]


def excerpt(src: Path, dest: Path, start: float, duration: float, *, size: str = "640:360",
            bitrate: str = "400k", banner: str = "NEW SHOP 新店开业", audio: Path | None = None) -> Path:
    """``duration`` seconds of ``src`` from ``start``, re-encoded smaller with a banner on top."""
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    vf = (f"scale={size},drawbox=x=10:y=10:w=300:h=48:color=red@0.85:t=fill,"
          f"drawtext=fontfile={FONT}:text='{banner}':x=22:y=18:fontsize=28:fontcolor=white")
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", str(start), "-t", str(duration), "-i", str(src)]
    if audio is not None:
        cmd += ["-i", str(audio), "-map", "0:v", "-map", "1:a", "-shortest"]
    cmd += ["-vf", vf, "-c:v", "libx264", *X264_THREADS, "-preset", "veryfast", "-b:v", bitrate, "-c:a", "aac", "-b:a", "64k"]
    tmp = dest.with_name(f".{dest.name}.tmp.mp4")
    subprocess.run([*cmd, str(tmp)], check=True)
    tmp.rename(dest)
    return dest


def _lines(names: list[str], gap: float = 0.6) -> np.ndarray:
    parts = []
    for n in names:
        parts += [decode_pcm(TTS_DIR / n), np.zeros(int(gap * SR), np.int16)]
    return np.concatenate(parts)


def _clip(path: Path, start: float = 0.0, duration: float | None = None) -> np.ndarray:
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-ss", str(start), *(["-t", str(duration)] if duration else []),
           "-i", str(path), "-ac", "1", "-ar", str(SR), "-f", "s16le", "-"]
    return np.frombuffer(subprocess.run(cmd, capture_output=True, check=True).stdout, np.int16)


def patterned_product(kind: str, seed: int) -> tuple[Image.Image, list[int]]:
    """A product with a printed pattern (like a monogram canvas) and tape over its logo."""
    rng = np.random.default_rng(seed)
    sprite, logo_at = _product_sprite(kind, rng)
    d = ImageDraw.Draw(sprite)
    alpha = np.asarray(sprite)[..., 3]
    for _ in range(70):
        x, y = int(rng.integers(10, sprite.width - 10)), int(rng.integers(10, sprite.height - 10))
        if alpha[y, x] == 0:
            continue
        r = int(rng.integers(4, 11))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3)) + (255,)
        if rng.random() < 0.5:
            d.ellipse([x - r, y - r, x + r, y + r], outline=colour, width=2)
        else:
            d.polygon([(x, y - r), (x + r, y), (x, y + r), (x - r, y)], fill=colour)
    box = _apply_logo(sprite, logo_at, "tape", rng)
    return sprite, box


def _render(dest: Path, audio: np.ndarray, product: tuple[Image.Image, list[int]] | None, *, bg_seed: int,
            x0: int, scale: float, dx: float) -> Path:
    duration = len(audio) / SR
    wav = write_wav(dest.parent.parent / "work" / dest.with_suffix(".wav").name, audio)
    bg = _background(W, H, bg_seed)
    sprite = None
    if product is not None:
        im, _box = product
        sprite = im.resize((int(im.width * scale), int(im.height * scale)), Image.Resampling.LANCZOS)
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-r", str(FPS),
           "-i", "-", "-i", str(wav), "-map", "0:v", "-map", "1:a", "-c:v", "libx264", *X264_THREADS, "-preset", "veryfast",
           "-crf", "20", "-g", str(2 * FPS), "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-shortest",
           str(dest.with_name(f".{dest.name}.tmp.mp4"))]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for i in range(int(np.ceil(duration * FPS))):
        frame = bg.copy()
        if sprite is not None:
            frame.paste(sprite, (int(x0 + dx * i / FPS), 20), sprite)
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    assert proc.wait() == 0
    dest.with_name(f".{dest.name}.tmp.mp4").rename(dest)
    return dest


def build_six(folder: Path) -> dict[str, Path]:
    """The six streams; names say what each shares (the test reads nothing else from them)."""
    root = folder / f"six-{_key(W, H, FPS)}"
    out, work = root / "streams", root / "work"  # the batch scans `streams/` only
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    multi = REALDATA / "en_de_multilingual.mp3"
    bunny = REALDATA / "video_webm_big_buck_bunny_0_30.webm"
    bag = patterned_product("bag", 42)
    specs = {
        "s1_tts_belt.mp4": (_lines(["zh_01.flac", "zh_04.flac", "zh_05.flac", "zh_10.flac"]),
                            patterned_product("belt", 7), 11, 80, 0.75, 6.0),
        "s2_tts_bag.mp4": (_lines(["zh_12.flac", "zh_16.flac", "zh_11.flac", "zh_15.flac"]), bag, 12, 60, 0.75, 5.0),
        "s3_english_bag.mp4": (_clip(multi, 0.0, 14.5), bag, 13, 300, 0.6, -5.0),
        "s4_english_shoes.mp4": (_clip(multi, 15.0, 14.5), patterned_product("shoes", 3), 14, 200, 0.75, 4.0),
    }
    paths = {}
    for name, (audio, product, seed, x0, scale, dx) in specs.items():
        p = out / name
        paths[name] = p if p.exists() else _render(p, audio, product, bg_seed=seed, x0=x0, scale=scale, dx=dx)
    s5 = out / "s5_bunny_german.mp4"
    if not s5.exists():
        german = write_wav(work / "german.wav", _clip(multi, 30.0, 28.0))
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(bunny), "-i", str(german), "-map", "0:v", "-map", "1:a",
                        "-t", "28", "-c:v", "libx264", *X264_THREADS, "-preset", "veryfast", "-crf", "22", "-c:a", "aac",
                        str(work / "s5.tmp.mp4")], check=True)
        (work / "s5.tmp.mp4").rename(s5)
    paths[s5.name] = s5
    libri = _clip(REALDATA / "en_librispeech_1995-1837-0001.wav")
    other_voice = write_wav(work / "librispeech_padded.wav", np.concatenate([libri, np.zeros(SR * 12, np.int16)]))
    paths["s6_bunny_excerpt.mp4"] = excerpt(s5, out / "s6_bunny_excerpt.mp4", 4.0, 20.0, size="480:270",
                                            bitrate="300k", audio=other_voice)
    return paths
