"""Generate the long benchmark stream: 1 h, 1280x720, 30 fps, H.264 + AAC, like an OBS recording.

Not a still image, so frame skipping is not flattered: ffmpeg's moving ``testsrc2`` pattern with a
product sprite swinging across it, hard cuts every 23 s between three camera "layers", a Chinese
caption that changes every 17 s, and the synthetic stream's Mandarin speech looped underneath.
Encoded with OBS's defaults for streaming: x264 ``veryfast``, keyframe every 2 s, ~2.5 Mb/s.
To keep generation within minutes on 2 cores, a 5-minute block is encoded once and the hour is
its stream copy repeated (``concat`` demuxer): the decoder still has to decode every repeat, and
frame de-duplication only compares neighbouring frames, so repetition flatters nothing.

Usage: ``python benchmarks/make_long_video.py [--duration 3600] [--out benchmarks/.cache]``.
The result is cached by its parameters; prints the path.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import numpy as np  # noqa: E402
from synth import _product_sprite, build_livestream, cjk_font, draw_logo  # noqa: E402

CAPTIONS = [
    "家人们晚上好 欢迎来到直播间", "原版1:1 ¥199 限时秒杀", "专柜同款 包邮到家", "今天只要¥390",
    "库存最后50件", "七天无理由退货", "1号链接福利款", "点击下方小黄车", "新款上架 速抢",
    "关注主播不迷路", "运费险送上", "买一送一 仅限今晚", "老花托特包 ¥299", "纯棉衬衫 ¥59",
    "18K金项链 意大利进口", "羊绒大衣 ¥399", "莆田纯原 正品品质", "精华液 全网最低价",
    "宝宝们扣1", "倒计时3分钟",
]
CAP_H = 64


def caption_strip(path: Path, width: int) -> None:
    font = cjk_font(40)
    strip = Image.new("RGB", (width, CAP_H * len(CAPTIONS)), (15, 15, 20))
    d = ImageDraw.Draw(strip)
    for i, text in enumerate(CAPTIONS):
        d.text((30, i * CAP_H + CAP_H // 2), text, font=font, fill=(255, 255, 255), anchor="lm")
    strip.save(path)


def product_png(path: Path) -> None:
    sprite, logo_at = _product_sprite("bag", np.random.default_rng(3))
    logo = draw_logo(96)
    sprite.alpha_composite(logo, (logo_at[0] - 48, logo_at[1] - 48))
    sprite.save(path)


BLOCK = 300.0


def make(duration: float, out: Path, width: int = 1280, height: int = 720, fps: int = 30) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"long_{int(duration)}s_{width}x{height}_{fps}fps.mp4"
    if target.exists():
        return target
    if duration <= BLOCK:
        return encode(duration, target, width, height, fps)
    block = encode(BLOCK, out / f"block_{int(BLOCK)}s_{width}x{height}_{fps}fps.mp4", width, height, fps)
    repeats = int(-(-duration // BLOCK))
    listing = out / "concat.txt"
    listing.write_text("".join(f"file '{block.name}'\n" for _ in range(repeats)))
    tmp = out / f".{target.name}.tmp.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
                    "-t", str(duration), "-c", "copy", str(tmp)], check=True)
    tmp.rename(target)
    return target


def encode(duration: float, target: Path, width: int, height: int, fps: int) -> Path:
    if target.exists():
        return target
    out = target.parent
    speech = build_livestream(out / "synth").audio
    strip, product = out / "captions.png", out / "product.png"
    caption_strip(strip, width)
    product_png(product)
    n = len(CAPTIONS)
    graph = (
        f"testsrc2=s={width}x{height}:r={fps}:d={duration}[a];"
        f"testsrc=s={width}x{height}:r={fps}:d={duration},hue=h=90*t[b];"
        f"color=c=0x404858:s={width}x{height}:r={fps}:d={duration},noise=alls=12:allf=t[c];"
        "[a][b]overlay=enable='between(mod(t,69),23,46)'[ab];"
        "[ab][c]overlay=enable='gte(mod(t,69),46)'[abc];"
        "[2:v]loop=loop=-1:size=1:start=0,format=rgba[prod];"
        f"[abc][prod]overlay=x='{width // 2 - 170}+{width // 4}*sin(t/3)':y='{height // 6}+20*sin(t)':shortest=1[withprod];"
        f"[3:v]loop=loop=-1:size=1:start=0,crop=w={width}:h={CAP_H}:x=0:y='{CAP_H}*mod(floor(t/17),{n})'[cap];"
        f"[withprod][cap]overlay=x=0:y={height - CAP_H}:shortest=1,format=yuv420p[v]"
    )
    tmp = out / f".{target.name}.tmp.mp4"
    cmd = [
        "ffmpeg", "-v", "error", "-y",
        "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono",  # input 0 (unused, keeps indices stable)
        "-stream_loop", "-1", "-i", str(speech),  # input 1: speech, looped
        "-loop", "1", "-i", str(product),  # input 2
        "-loop", "1", "-i", str(strip),  # input 3
        "-filter_complex", graph, "-map", "[v]", "-map", "1:a",
        "-t", str(duration), "-r", str(fps),
        "-c:v", "libx264", "-preset", "veryfast", "-b:v", "2500k", "-maxrate", "3000k", "-bufsize", "6000k",
        "-g", str(2 * fps), "-keyint_min", str(fps),
        "-c:a", "aac", "-b:a", "128k", "-ar", "48000", str(tmp),
    ]
    t0 = time.time()
    subprocess.run(cmd, check=True)
    tmp.rename(target)
    print(f"generated {target} in {time.time() - t0:.0f} s", file=sys.stderr)
    return target


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=3600)
    ap.add_argument("--out", type=Path, default=HERE / ".cache")
    args = ap.parse_args()
    print(make(args.duration, args.out))


if __name__ == "__main__":
    main()
