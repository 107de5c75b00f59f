"""Realistic livestream generator for tests and benchmarks (issue 14): what a phone stream looks like.

A portrait (720x1280, or 1080x1920) or landscape phone stream of a shop that sells several
products, one *episode* per product, with everything that fools detectors built on clean
synthetic frames:

* **picture**: a defocused room (shelves, lamps, a beige wall) behind an in-focus product held in
  a hand, or a real photo of a branded product held in a hand (``../shared/realdata/img_handheld_*``);
  a camera that slowly zooms, pans and shakes; exposure flicker; x264 at a phone-like bitrate;
* **covers**: tape strips at an angle (beige and blue, translucent), printed and translucent
  stickers, blur and mosaic of several strengths, a finger resting on the logo; and their
  look-alikes: beige printed labels, price stickers beside a visible logo, a plain product;
* **platform UI over the picture**: host capsule, viewer and like counters, scrolling viewer
  comments, a seller banner, a product card with the link number and a price, the comment box;
* **sound**: the host's natural Mandarin lines (``../shared/fixtures/tts_zh``) sped up 1.2x, a
  second speaker (espeak-ng Mandarin) with ordinary sales talk, background music, a reverberant
  room, AAC at 56 kb/s;
* **ground truth** (``truth.json``): episodes with product, link, page, cover and its box per
  sampled time; every planted line with its time and what it plants; the comment region.

Everything is deterministic by ``seed``. Outputs are cached under a key over this file, the TTS
inputs and the arguments (``.test-cache/realistic/``); nothing here is committed as media.
Run ``python tests/realistic.py OUTDIR [--seed N] [--minutes M] [--landscape]`` by hand.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth import (  # noqa: E402
    SHARED,
    TTS_DIR,
    X264_THREADS,
    cjk_font,
    decode_pcm,
    draw_logo,
    read_lines,
    speech_bounds,
    write_wav,
)

# Bump when the output of the same arguments changes. 2: x264 on one thread (with two, libx264 gave
# a different bitstream on every run: 133 of 6000 decoded frames differed between two builds of
# seed 2) and espeak-ng lines taken only when two runs agree.
GENERATOR_VERSION = 2
REALDATA = SHARED / "realdata"
SR = 16000
FPS = 10

# Real photos: logo box [x0, y0, x1, y1] in the 348x348 photo, annotated by eye (test labels).
PHOTOS: dict[str, dict[str, Any]] = {
    "arla": {"file": "img_handheld_arla_milk.jpg", "brand": "Arla", "logo": [108, 56, 158, 96],
             "reference": "img_iconic_arla_milk.jpg", "title": "瑞典全脂牛奶 1L", "noun": "牛奶"},
    "oatly": {"file": "img_handheld_oatly_oatghurt.jpg", "brand": "Oatly", "logo": [76, 80, 190, 186],
              "reference": "img_iconic_oatly_oatghurt.jpg", "title": "燕麦酸奶 1L", "noun": "酸奶"},
    # The original alpro photo has a thumb over the top of its logo: used only with a cover.
    "alpro": {"file": "img_handheld_alpro_soya.jpg", "brand": "Alpro", "logo": [72, 118, 158, 158],
              "reference": None, "title": "原味豆奶 1L", "noun": "豆奶"},
}
COVERS = ("tape", "tape_blue", "sticker_print", "sticker_clear", "blur_soft", "blur_strong",
          "mosaic_fine", "mosaic_coarse", "finger")
# Scenes without a cover, each a look-alike a careless detector calls a cover.
LOOKALIKES = ("visible", "label_beige", "price_sticker", "plain")
COVER_FAMILY = {"tape": "tape", "tape_blue": "tape", "sticker_print": "sticker", "sticker_clear": "sticker",
                "blur_soft": "blur", "blur_strong": "blur", "mosaic_fine": "mosaic", "mosaic_coarse": "mosaic",
                "finger": "finger"}


# --------------------------------------------------------------------------------------- speech
@dataclass(frozen=True)
class Line:
    """A spoken line: natural TTS (``tts`` file) or espeak-ng (``text`` read as pinyin)."""

    text: str
    tts: str | None = None
    plants: tuple[str, ...] = ()  # kinds of finding this line should raise (ground truth)
    claim: tuple[str, str] | None = None  # (attribute, material) it claims about the product on show


# The natural lines by product (what the host says about it). plants: what they should raise.
TTS_BY_PRODUCT: dict[str, list[tuple[str, tuple[str, ...], tuple[str, str] | None]]] = {
    "bag": [("zh_02.flac", ("brand_codeword", "counterfeit_slang"), None),
            ("zh_03.flac", ("brand_codeword", "counterfeit_slang"), None),
            ("zh_14.flac", ("counterfeit_slang",), None), ("zh_15.flac", ("brand_codeword", "counterfeit_slang",
                                                                           "absolute_claim"), None)],
    "shorts": [("zh_04.flac", (), ("material", "天丝"))],
    "coat": [("zh_05.flac", (), ("material", "羊绒"))],
    "belt": [("zh_06.flac", ("brand_codeword", "price_anomaly"), ("material", "头层牛皮"))],
    "shoes": [("zh_07.flac", ("counterfeit_slang",), None)],
    "serum": [("zh_08.flac", ("absolute_claim",), None)],
    "pills": [("zh_09.flac", ("health_claim",), None)],
    "necklace": [("zh_10.flac", (), ("material", "18K金"))],
    "shirt": [("zh_16.flac", (), ("material", "纯棉"))],
}
TTS_ORDINARY = ["zh_01.flac", "zh_11.flac", "zh_12.flac", "zh_13.flac"]

# Ordinary sales talk for the second speaker (espeak-ng). Twins of code-words on purpose:
# 成家, 宝家, 爱吗, 小箱子, 老家, 钩子, 骨架, 放假 (issue 14's false findings).
ORDINARY_TALK = [
    "家人们下午好，新进来的宝宝点点关注",
    "喜欢主播的可以点个小红心",
    "这个颜色是今年的新色，特别显白",
    "我们家的东西都是实拍，没有滤镜",
    "宝宝们有什么问题可以打在公屏上",
    "库存不多了，喜欢的抓紧时间拍",
    "链接加库存了，刚才没抢到的再去看看",
    "这个包装的骨架很结实，运输不会压坏",
    "我老家就在这边，发货很快的",
    "主播已经成家了，孩子都上学了",
    "这个小箱子是赠品，拍一件送一个",
    "挂在墙上的钩子我们也有，下一场再上",
    "今天是宝家粉丝专场，福利很多",
    "你们爱吗，爱的话扣个一",
    "我们的客服二十四小时在线",
    "拍下之后四十八小时内发货",
    "偏远地区不包邮哦",
    "这个尺码是标准码，按平时的穿就行",
    "一百六十斤以内都能穿",
    "洗的时候建议手洗，不要暴晒",
    "这个枕头是记忆棉的，睡起来很舒服",
    "这款枕头的芯是记忆棉，慢回弹",
    "新来的宝宝欢迎欢迎",
    "关注主播不迷路",
    "大家说要黑色还是白色",
    "我们下一个讲这款",
    "这个价格就是直播间专享的",
    "明天就放假了，大家出去玩要注意安全",
    "点赞到一万我们就抽奖",
    "主播身高一米六五，穿的是中码",
]
# Which ordinary lines go with which product episode (others are free to go anywhere).
ORDINARY_BY_PRODUCT = {"pillow": ["这个枕头是记忆棉的，睡起来很舒服", "这款枕头的芯是记忆棉，慢回弹"]}
LINK_WORDS = "零一二三四五六七八九十"

VIEWER_COMMENTS = [
    "主播好漂亮", "666", "已拍", "什么时候发货", "有优惠券吗", "多少钱", "有没有大码",
    "明天放假的吧", "假的吧", "是正品吗", "能便宜点吗", "已关注", "求上链接", "上次买的很好用",
    "H家的皮带还有吗", "这个一比一吗", "主播成家了吗", "老家哪里的", "宝宝们冲", "质量怎么样",
    "来了来了", "主播看看我", "三号链接还有吗", "好看", "颜色好正",
]
VIEWER_DOUBTS = {"假的吧", "是正品吗"}  # comments that are viewer doubts (chat, not the seller's words)
NAMES = ["小鱼儿", "momo", "开心果", "阿花", "Lucky", "风一样", "糖糖", "老王", "木子", "橙子", "晴天", "大白"]


def cn_number(n: int) -> str:
    """129 -> 一百二十九 (what a host says; espeak-ng reads digits in English)."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        tail = "" if rest == 0 else ("零" + digits[rest] if rest < 10 else
                                     (digits[rest // 10] + "十" + (digits[rest % 10] if rest % 10 else "")))
        return digits[n // 100] + "百" + tail
    return str(n)


def to_pinyin_line(text: str) -> str:
    import re

    from pypinyin import Style, lazy_pinyin

    text = re.sub(r"\d+", lambda m: cn_number(int(m.group())), text)
    out = []
    for syl in lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True):
        out.append(" , " if syl in "，。！？、" else syl)
    return " ".join(out)


ESPEAK_TAKES = 5  # at most this many syntheses of one line before the generator gives up


def espeak_command(text: str, *, voice: str, speed: int, pitch: int, out: Path) -> list[str]:
    return ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(out), to_pinyin_line(text)]


def espeak_key(text: str, *, voice: str, speed: int, pitch: int) -> str:
    return hashlib.sha256(f"{text}|{voice}|{speed}|{pitch}".encode()).hexdigest()[:16]


def espeak_synthesize(text: str, *, voice: str, speed: int, pitch: int, work: Path) -> bytes:
    """The WAV bytes espeak-ng writes for ``text``, taken only when two separate runs agree.

    espeak-ng 1.51 is deterministic when run by hand (hundreds of runs, under load, under valgrind),
    yet one suite build (2026-12-04) cached a clip whose breath noise differed from every later run
    (same length, correlation 0.998), and the seed-1 stream built on it heard a planted claim
    differently. The cause was not found; a line now enters the cache only when two runs give the
    same bytes (espeak-ng takes ~10 ms a line, so this costs seconds per stream)."""
    takes: list[bytes] = []
    for n in range(ESPEAK_TAKES):
        tmp = work / f".espeak-{os.getpid()}-{n}.wav"
        try:
            subprocess.run(espeak_command(text, voice=voice, speed=speed, pitch=pitch, out=tmp),
                           check=True, capture_output=True)
            take = tmp.read_bytes()
        finally:
            tmp.unlink(missing_ok=True)
        if take in takes:
            return take
        takes.append(take)
    raise RuntimeError(f"espeak-ng gave {ESPEAK_TAKES} different waveforms for {text!r}")


def espeak_pcm(text: str, *, voice: str, speed: int, pitch: int, cache: Path) -> np.ndarray:
    """espeak-ng reading ``text`` (hanzi -> tone-numbered pinyin) at 16 kHz, cached by its inputs."""
    key = espeak_key(text, voice=voice, speed=speed, pitch=pitch)
    wav = cache / f"espeak-{key}.wav"
    if not wav.exists():
        data = espeak_synthesize(text, voice=voice, speed=speed, pitch=pitch, work=cache)
        tmp = cache / f".espeak-{key}-{os.getpid()}.wav"
        tmp.write_bytes(data)
        os.replace(tmp, wav)
    return decode_pcm(wav)


def _tempo(pcm: np.ndarray, factor: float) -> np.ndarray:
    """Speed speech up without changing its pitch (ffmpeg atempo)."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-f", "s16le", "-ar", str(SR), "-ac", "1", "-i", "-",
                          "-filter:a", f"atempo={factor}", "-f", "s16le", "-"],
                         input=pcm.tobytes(), capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype=np.int16)


def _music(n: int, rng: np.random.Generator) -> np.ndarray:
    """Background pop loop: chord pads, a bass line and a kick at 110 bpm (float, peak ~1)."""
    t = np.arange(n) / SR
    beat = 60 / 110
    chords = [(220.0, 277.2, 329.6), (196.0, 246.9, 293.7), (174.6, 220.0, 261.6), (196.0, 246.9, 329.6)]
    out = np.zeros(n, np.float32)
    bar = 4 * beat
    idx = (t // bar).astype(int) % len(chords)
    for k in range(3):
        f = np.array([c[k] for c in chords])[idx]
        out += 0.18 * np.sin(2 * np.pi * f * t + k)
    bass = np.array([c[0] / 2 for c in chords])[idx]
    out += 0.3 * np.sign(np.sin(2 * np.pi * bass * t)) * 0.5
    phase = (t % beat) / beat
    out += 0.6 * np.exp(-phase * 30) * np.sin(2 * np.pi * 60 * t)
    hat = (((t + beat / 2) % beat) / beat)
    out += 0.05 * np.exp(-hat * 80) * rng.standard_normal(n).astype(np.float32)
    return out / np.abs(out).max()


def _reverb(x: np.ndarray, rng: np.random.Generator, rt60: float = 0.45, wet: float = 0.35) -> np.ndarray:
    """A small reverberant room: convolution with exponentially decaying noise."""
    from scipy.signal import fftconvolve

    n = int(rt60 * SR)
    ir = rng.standard_normal(n).astype(np.float32) * np.exp(-6.9 * np.arange(n) / n).astype(np.float32)
    ir[0] = 0
    ir /= np.sqrt((ir**2).sum())
    y = fftconvolve(x, ir)[: len(x)].astype(np.float32)
    return (1 - wet) * x + wet * y


# --------------------------------------------------------------------------------------- products
@dataclass
class Episode:
    index: int
    start: float
    end: float
    product: str  # drawn kind (bag, belt, ...) or photo:<name>
    noun: str  # the product word the host and the card use
    link: int
    cover: str  # a COVERS item, or a LOOKALIKES item (no cover)
    brand: str | None  # brand of the product shown (real photos) or implied by the code-words said
    title: str
    price: int
    page: dict[str, Any] | None = None  # the product page of this link, None when it has none
    page_mismatch: list[str] = field(default_factory=list)  # attributes where the page contradicts the host
    lines: list[dict[str, Any]] = field(default_factory=list)


DRAWN = {
    # product: (noun, category title, page attributes that agree with the host, that contradict)
    "bag": ("包包", "老花托特包", {"材质": "PU"}, None),
    "shorts": ("短裤", "冰丝短裤", {"面料成分": "莱赛尔纤维100%"}, {"面料成分": "棉100%"}),
    "coat": ("大衣", "双面呢大衣", {"面料成分": "山羊绒100%"}, {"面料成分": "羊毛80% 涤纶20%"}),
    "belt": ("皮带", "商务皮带", {"材质": "头层牛皮"}, {"材质": "PU"}),
    "shoes": ("鞋子", "休闲板鞋", {"鞋面材质": "超纤皮"}, None),
    "serum": ("精华", "修护精华液", {"产地": "中国"}, None),
    "pills": ("保健品", "鱼油软胶囊", {"产地": "中国"}, None),
    "necklace": ("项链", "锁骨项链", {"材质": "18K金", "产地": "意大利"}, {"材质": "925银镀金", "产地": "中国"}),
    "shirt": ("衬衫", "长袖衬衫", {"面料成分": "棉100%"}, {"面料成分": "聚酯纤维65% 棉35%"}),
    "sweater": ("毛衣", "圆领毛衣", {"面料成分": "棉100%"}, None),
    "pillow": ("枕头", "护颈枕头", {"材质": "记忆棉", "面料成分": "聚酯纤维100%"}, None),
}


def _hand(w: int, h: int, rng: np.random.Generator) -> Image.Image:
    """A hand gripping the product's left side: palm and four fingers, skin tones with shading."""
    im = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    skin = tuple(int(v) for v in rng.integers([200, 150, 120], [235, 185, 155]))
    d.rounded_rectangle([0, int(h * 0.45), int(w * 0.35), h], 40, fill=skin + (255,))
    for k in range(4):
        y = int(h * 0.48 + k * h * 0.11)
        d.rounded_rectangle([int(w * 0.15), y, int(w * 0.66), y + int(h * 0.09)], 18, fill=skin + (255,))
    arr = np.asarray(im).astype(np.float32)
    shade = np.linspace(0.85, 1.05, w, dtype=np.float32)[None, :, None]
    arr[..., :3] = np.clip(arr[..., :3] * shade, 0, 255)
    return Image.fromarray(arr.astype(np.uint8))


def _drawn_product(kind: str, rng: np.random.Generator, size: int) -> tuple[Image.Image, tuple[int, int] | None]:
    """A product sprite (RGBA, about ``size`` px) and where its logo goes."""
    palette = {"bag": (150, 90, 50), "shorts": (70, 110, 160), "coat": (190, 170, 140), "belt": (60, 40, 30),
               "shoes": (235, 235, 230), "serum": (210, 220, 235), "pills": (240, 240, 235), "necklace": (0, 0, 0),
               "shirt": (245, 245, 250), "sweater": (120, 40, 50), "pillow": (230, 230, 240)}
    c = tuple(int(v) for v in np.clip(np.array(palette[kind]) + rng.integers(-15, 16, 3), 0, 255))
    s = size
    im = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    logo: tuple[int, int] | None = (s // 2, int(s * 0.6))
    if kind == "bag":
        d.arc([int(s * .28), int(s * .02), int(s * .72), int(s * .4)], 180, 360, fill=(90, 50, 25, 255), width=s // 25)
        d.polygon([(s * .1, s * .25), (s * .9, s * .25), (s * .97, s * .97), (s * .03, s * .97)], fill=c + (255,))
    elif kind == "belt":
        d.rounded_rectangle([0, int(s * .4), s, int(s * .6)], 12, fill=c + (255,))
        d.rounded_rectangle([int(s * .32), int(s * .3), int(s * .68), int(s * .7)], 18, fill=(200, 170, 80, 255))
        logo = (s // 2, s // 2)
    elif kind == "shoes":
        d.ellipse([int(s * .05), int(s * .45), int(s * .95), int(s * .92)], fill=c + (255,))
        d.rectangle([int(s * .18), int(s * .33), int(s * .6), int(s * .7)], fill=c + (255,))
        d.ellipse([int(s * .05), int(s * .84), int(s * .95), int(s * .98)], fill=(60, 60, 60, 255))
    elif kind in ("serum", "pills"):
        d.rectangle([int(s * .44), int(s * .02), int(s * .56), int(s * .18)], fill=(40, 40, 40, 255))
        d.rounded_rectangle([int(s * .28), int(s * .16), int(s * .72), int(s * .98)], 30, fill=c + (255,))
    elif kind == "necklace":
        d.arc([int(s * .12), 0, int(s * .88), int(s * .8)], 20, 160, fill=(218, 165, 32, 255), width=8)
        d.ellipse([int(s * .44), int(s * .72), int(s * .56), int(s * .86)], fill=(218, 165, 32, 255))
        logo = None
    elif kind == "pillow":
        d.rounded_rectangle([int(s * .05), int(s * .3), int(s * .95), int(s * .85)], 60, fill=c + (255,))
    else:  # garments
        d.polygon([(s * .2, s * .08), (s * .8, s * .08), (s * .97, s * .32), (s * .82, s * .38), (s * .82, s * .97),
                   (s * .18, s * .97), (s * .18, s * .38), (s * .03, s * .32)], fill=c + (255,))
    # woven/printed texture: the in-focus product is the most detailed thing in the picture
    arr = np.asarray(im).astype(np.int16)
    mask = arr[..., 3] > 0
    noise = rng.integers(-16, 17, size=arr.shape[:2] + (1,))
    weave = (((np.arange(s)[:, None] // 3 + np.arange(s)[None, :] // 3) % 2) * 10 - 5)[..., None]
    arr[..., :3] = np.where(mask[..., None], np.clip(arr[..., :3] + noise + weave, 0, 255), arr[..., :3])
    return Image.fromarray(arr.astype(np.uint8)), logo


def _apply_cover(img: Image.Image, box: list[int], cover: str, rng: np.random.Generator) -> list[int]:
    """Cover the logo at ``box`` [x0, y0, x1, y1] of ``img`` (RGB/RGBA, changed in place); return the
    cover's bounding box [x0, y0, x1, y1] (what a detector should find)."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if cover.startswith("blur"):
        sigma = (0.09 if cover == "blur_soft" else 0.2) * max(w, h)
        region = img.crop((x0, y0, x1, y1))
        img.paste(region.filter(ImageFilter.GaussianBlur(sigma)), (x0, y0))
        return [x0, y0, x1, y1]
    if cover.startswith("mosaic"):
        block = max(6, int(max(w, h) / (12 if cover == "mosaic_fine" else 6)))
        region = img.crop((x0, y0, x1, y1))
        small = region.resize((max(1, w // block), max(1, h // block)), Image.Resampling.BILINEAR)
        img.paste(small.resize((w, h), Image.Resampling.NEAREST), (x0, y0))
        return [x0, y0, x1, y1]
    pad = int(0.12 * max(w, h))
    cw, ch = w + 2 * pad, h + 2 * pad
    layer = Image.new("RGBA", (cw * 2, ch * 2), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    cx, cy = cw, ch
    angle = 0.0
    if cover.startswith("tape"):
        colour = (222, 205, 160) if cover == "tape" else (60, 120, 200)
        alpha = 250 if cover == "tape" else 215  # blue tape lets a little of the print through
        tw, th = int(cw * 1.25), int(ch * 0.72)
        strip = np.full((th, tw, 4), colour + (alpha,), np.int16)
        strip[..., :3] += rng.integers(-7, 8, size=(th, tw, 1))
        strip[:, :3, 3] = strip[:, -3:, 3] = alpha // 2  # torn, thinner ends
        st = Image.fromarray(np.clip(strip, 0, 255).astype(np.uint8))
        angle = float(rng.uniform(12, 30) * rng.choice([-1, 1]))
        st = st.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
        layer.alpha_composite(st, (cx - st.width // 2, cy - st.height // 2))
    elif cover == "sticker_print":  # a printed white label with red text, square corners
        d.rectangle([cx - cw // 2, cy - ch // 2, cx + cw // 2, cy + ch // 2], fill=(250, 250, 245, 255))
        font = cjk_font(max(12, ch // 4))
        d.text((cx, cy), "福利款", font=font, fill=(210, 30, 30, 255), anchor="mm")
        d.rectangle([cx - cw // 2 + 4, cy - ch // 2 + 4, cx + cw // 2 - 4, cy + ch // 2 - 4], outline=(210, 30, 30, 255),
                    width=2)
    elif cover == "sticker_clear":  # a frosted translucent round sticker
        d.ellipse([cx - cw // 2, cy - ch // 2, cx + cw // 2, cy + ch // 2], fill=(240, 240, 240, 205))
    elif cover == "finger":
        skin = tuple(int(v) for v in rng.integers([205, 150, 125], [230, 180, 150]))
        fw = int(0.7 * ch)
        d.rounded_rectangle([cx - int(cw * 0.9), cy - fw // 2, cx + cw // 2, cy + fw // 2], fw // 2, fill=skin + (255,))
        d.ellipse([cx + cw // 2 - fw, cy - fw // 2 + 4, cx + cw // 2 - 6, cy + fw // 2 - 4],
                  fill=tuple(min(255, v + 20) for v in skin) + (255,))  # the nail
        angle = float(rng.uniform(-25, 25))
        arr = np.asarray(layer).astype(np.float32)
        yy = np.linspace(1.08, 0.82, arr.shape[0], dtype=np.float32)[:, None, None]
        arr[..., :3] *= yy
        layer = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).rotate(angle, resample=Image.Resampling.BICUBIC)
    ox, oy = x0 + w // 2 - cx, y0 + h // 2 - cy
    base = img.convert("RGBA")
    canvas = Image.new("RGBA", img.size, (0, 0, 0, 0))
    canvas.paste(layer, (ox, oy))
    base.alpha_composite(canvas)
    img.paste(base.convert(img.mode) if img.mode != "RGBA" else base)
    a = np.asarray(canvas)[..., 3] > 40
    ys, xs = np.nonzero(a)
    if cover == "finger":  # the finger's part over the logo is the cover, not the whole finger
        return [max(x0 - pad, int(xs.min())), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


def _lookalike(img: Image.Image, box: list[int], kind: str, rng: np.random.Generator) -> None:
    """What is not a cover: a beige printed label beside the logo, a price sticker beside it."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    d = ImageDraw.Draw(img)
    if kind == "label_beige":  # the product's own label: beige, with print on it, below the logo
        ly = min(img.height - h // 2 - 4, y1 + h // 3)
        d.rectangle([x0 - w // 4, ly, x1 + w // 4, ly + h // 2], fill=(222, 205, 165, 255))
        d.text(((x0 + x1) // 2, ly + h // 4), "MADE WITH CARE", font=cjk_font(max(10, h // 8)), fill=(120, 90, 60, 255),
               anchor="mm")
    elif kind == "price_sticker":
        sx = min(img.width - w // 2 - 2, x1 + 6)
        d.rounded_rectangle([sx, y0, sx + int(w * 0.55), y0 + int(h * 0.4)], 8, fill=(230, 40, 40, 255))
        d.text((sx + int(w * 0.27), y0 + int(h * 0.2)), "¥99", font=cjk_font(max(12, h // 6)), fill=(255, 255, 255, 255),
               anchor="mm")


def _room(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """A defocused shop room: beige wall, shelves with boxes, lamps; the camera focuses on the product."""
    im = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers([175, 160, 135], [215, 200, 175])))
    d = ImageDraw.Draw(im)
    for k in range(3):  # shelves with boxes
        y = int(h * (0.18 + 0.22 * k))
        d.rectangle([0, y, w, y + 14], fill=(120, 90, 60))
        x = int(rng.integers(0, 40))
        while x < w:
            bw = int(rng.integers(40, 110))
            bh = int(rng.integers(50, 140))
            d.rectangle([x, y - bh, x + bw, y], fill=tuple(int(v) for v in rng.integers(40, 240, 3)))
            x += bw + int(rng.integers(5, 30))
    for _ in range(4):  # lamps
        cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h // 3))
        d.ellipse([cx - 40, cy - 40, cx + 40, cy + 40], fill=(255, 245, 220))
    d.rectangle([0, int(h * 0.78), w, h], fill=(110, 80, 55))  # the table
    sigma = float(rng.uniform(6, 12))
    im = im.filter(ImageFilter.GaussianBlur(sigma))  # depth of field: the room is out of focus
    arr = np.asarray(im).astype(np.float32)
    arr += rng.normal(0, 2.0, size=arr.shape[:2] + (1,)).astype(np.float32)  # sensor noise
    return np.clip(arr, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------- UI overlay
@dataclass
class Layout:
    width: int
    height: int
    capsule: list[int]
    counters: list[int]
    banner: list[int]
    comments: list[int]  # the scrolling comment column [x, y, w, h]
    card: list[int]
    input_bar: list[int]


def ui_layout(w: int, h: int) -> Layout:
    if h > w:  # portrait
        u = w / 720
        return Layout(w, h, capsule=[int(16 * u), int(60 * u), int(300 * u), int(72 * u)],
                      counters=[int(w - 230 * u), int(64 * u), int(214 * u), int(64 * u)],
                      banner=[int(16 * u), int(150 * u), int(330 * u), int(52 * u)],
                      comments=[int(16 * u), int(h - 620 * u), int(470 * u), int(400 * u)],
                      card=[int(w - 260 * u), int(h - 540 * u), int(240 * u), int(300 * u)],
                      input_bar=[int(16 * u), int(h - 110 * u), int(w - 32 * u), int(80 * u)])
    u = h / 720
    return Layout(w, h, capsule=[int(16 * u), int(16 * u), int(300 * u), int(64 * u)],
                  counters=[int(w - 230 * u), int(16 * u), int(214 * u), int(60 * u)],
                  banner=[int(16 * u), int(96 * u), int(330 * u), int(48 * u)],
                  comments=[int(16 * u), int(h - 380 * u), int(460 * u), int(290 * u)],
                  card=[int(w - 250 * u), int(h - 330 * u), int(230 * u), int(240 * u)],
                  input_bar=[int(16 * u), int(h - 76 * u), int(w - 32 * u), int(60 * u)])


def _rgba_box(size: tuple[int, int], fill: tuple[int, int, int, int], radius: int) -> Image.Image:
    im = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(im).rounded_rectangle([0, 0, size[0] - 1, size[1] - 1], radius, fill=fill)
    return im


class Overlay:
    """The platform UI, drawn per frame from cached pieces (RGBA), composited over the camera."""

    def __init__(self, lay: Layout, host: str, banner: str, rng: np.random.Generator, duration: float):
        self.lay = lay
        u = lay.width / 720 if lay.height > lay.width else lay.height / 720
        self.u = u
        self.font = cjk_font(int(26 * u))
        self.small = cjk_font(int(22 * u))
        x, y, w, h = lay.capsule
        cap = _rgba_box((w, h), (0, 0, 0, 110), h // 2)
        d = ImageDraw.Draw(cap)
        d.ellipse([4, 4, h - 4, h - 4], fill=(250, 180, 190, 255))
        d.text((h + 6, h // 2 - int(12 * u)), host, font=self.font, fill=(255, 255, 255, 255), anchor="lm")
        d.text((h + 6, h // 2 + int(16 * u)), "本场点赞", font=self.small, fill=(220, 220, 220, 255), anchor="lm")
        d.rounded_rectangle([w - int(80 * u), 10, w - 8, h - 10], (h - 20) // 2, fill=(255, 45, 85, 255))
        d.text((w - int(44 * u), h // 2), "关注", font=self.small, fill=(255, 255, 255, 255), anchor="mm")
        x, y, w, h = lay.banner
        ban = _rgba_box((w, h), (255, 90, 40, 200), 12)
        ImageDraw.Draw(ban).text((w // 2, h // 2), banner, font=self.small, fill=(255, 255, 255, 255), anchor="mm")
        x, y, w, h = lay.input_bar
        bar = _rgba_box((w, h), (0, 0, 0, 0), 8)
        d = ImageDraw.Draw(bar)
        d.rounded_rectangle([0, 8, int(w * 0.55), h - 8], (h - 16) // 2, fill=(0, 0, 0, 110))
        d.text((int(24 * u), h // 2), "说点什么...", font=self.small, fill=(210, 210, 210, 255), anchor="lm")
        for k in range(4):
            cx = int(w * 0.62) + k * int(70 * u)
            d.ellipse([cx, 10, cx + h - 20, h - 10], fill=(0, 0, 0, 110))
        self.pieces = [(np.asarray(cap), tuple(lay.capsule[:2])), (np.asarray(ban), tuple(lay.banner[:2])),
                       (np.asarray(bar), tuple(lay.input_bar[:2]))]
        self._arrays: dict[int, tuple[Image.Image, np.ndarray]] = {}
        # comments: one every ~1.6 s, scrolling up the column; each bubble rendered once
        self.comments: list[tuple[float, Image.Image, str, str]] = []
        t = 0.5
        while t < duration:
            who = NAMES[int(rng.integers(0, len(NAMES)))]
            msg = VIEWER_COMMENTS[int(rng.integers(0, len(VIEWER_COMMENTS)))]
            self.comments.append((t, self._bubble(who, msg), who, msg))
            t += float(rng.uniform(0.9, 2.4))
        self.viewers0 = int(rng.integers(800, 5000))
        self.likes0 = int(rng.integers(1000, 30000))
        self._counter_cache: dict[tuple[int, int], Image.Image] = {}
        self._cards: dict[int, Image.Image] = {}

    def _bubble(self, who: str, msg: str) -> Image.Image:
        tw = int(self.font.getlength(f"{who}：{msg}")) + int(28 * self.u)
        hh = int(42 * self.u)
        b = _rgba_box((min(tw, self.lay.comments[2]), hh), (0, 0, 0, 100), hh // 2)
        d = ImageDraw.Draw(b)
        d.text((int(14 * self.u), hh // 2), f"{who}：", font=self.font, fill=(160, 210, 255, 255), anchor="lm")
        nx = int(14 * self.u + self.font.getlength(f"{who}："))
        d.text((nx, hh // 2), msg, font=self.font, fill=(255, 255, 255, 255), anchor="lm")
        return b

    def card(self, ep: Episode, thumb: Image.Image) -> Image.Image:
        if ep.index not in self._cards:
            x, y, w, h = self.lay.card
            c = _rgba_box((w, h), (255, 255, 255, 235), 14)
            d = ImageDraw.Draw(c)
            th = thumb.copy()
            th.thumbnail((w - 20, int(h * 0.5)))
            c.paste(th, ((w - th.width) // 2, 10))
            d.rounded_rectangle([8, 8, int(60 * self.u), int(36 * self.u)], 6, fill=(255, 45, 85, 255))
            d.text((int(34 * self.u), int(22 * self.u)), f"{ep.link}号", font=self.small, fill=(255, 255, 255, 255),
                   anchor="mm")
            d.text((12, int(h * 0.62)), ep.title[:9], font=self.small, fill=(30, 30, 30, 255), anchor="lm")
            d.text((12, int(h * 0.8)), f"¥{ep.price}", font=cjk_font(int(34 * self.u)), fill=(255, 45, 85, 255),
                   anchor="lm")
            d.rounded_rectangle([w - int(90 * self.u), int(h * 0.72), w - 10, int(h * 0.9)], 10, fill=(255, 45, 85, 255))
            d.text((w - int(50 * self.u), int(h * 0.81)), "去抢购", font=self.small, fill=(255, 255, 255, 255),
                   anchor="mm")
            self._cards[ep.index] = c
        return self._cards[ep.index]

    def counters(self, t: float) -> Image.Image:
        v, lk = self.viewers0 + int(t * 1.7), self.likes0 + int(t * 23.0)
        key = (v, lk // 10)
        if key not in self._counter_cache:
            self._counter_cache.clear()
            x, y, w, h = self.lay.counters
            c = _rgba_box((w, h), (0, 0, 0, 0), 8)
            d = ImageDraw.Draw(c)
            d.rounded_rectangle([0, 6, int(w * 0.55), h - 6], (h - 12) // 2, fill=(0, 0, 0, 110))
            d.text((int(w * 0.27), h // 2), f"{v}人", font=self.small, fill=(255, 255, 255, 255), anchor="mm")
            d.text((int(w * 0.8), h // 2), f"♥{lk / 10000:.1f}万", font=self.small, fill=(255, 255, 255, 255),
                   anchor="mm")
            self._counter_cache[key] = c
        return self._counter_cache[key]

    def visible_comments(self, t: float) -> list[tuple[int, Image.Image, str, str]]:
        """(y, bubble, user, text) of the comments on screen at ``t``: newest at the bottom."""
        x, y, w, h = self.lay.comments
        shown = [c for c in self.comments if c[0] <= t][-8:]
        out = []
        line = int(50 * self.u)
        for k, (t0, b, who, msg) in enumerate(reversed(shown)):
            rise = min(1.0, (t - t0) / 0.3)  # a new comment slides in from below
            yy = y + h - line * (k + 1) + int((1 - rise) * line)
            if yy < y:
                break
            out.append((yy, b, who, msg))
        return out

    def compose(self, frame: np.ndarray, t: float, ep: Episode, thumb: Image.Image) -> np.ndarray:
        """Blend every UI piece into ``frame`` (RGB, changed in place) at its place."""
        for piece, at in self.pieces:
            _blend(frame, piece, at)
        _blend(frame, np.asarray(self.counters(t)), tuple(self.lay.counters[:2]))
        for yy, b, _w, _m in self.visible_comments(t):
            _blend(frame, self._arr(b), (self.lay.comments[0], yy))
        _blend(frame, self._arr(self.card(ep, thumb)), tuple(self.lay.card[:2]))
        hs = int(26 * self.u)
        for k in range(3):  # floating hearts on the right
            ph = (t * 0.6 + k / 3) % 1.0
            hx = int(self.lay.width - 80 * self.u + 20 * self.u * math.sin(ph * 6 + k))
            hy = int(self.lay.input_bar[1] - ph * 400 * self.u)
            heart = np.zeros((hs, hs, 4), np.uint8)
            cv2.ellipse(heart, (hs // 2, hs // 2), (hs // 2 - 1, hs // 2 - 2), 0, 0, 360,
                        (255, 80, 120, int(230 * (1 - ph))), -1)
            _blend(frame, heart, (hx, hy))
        return frame

    def _arr(self, im: Image.Image) -> np.ndarray:
        key = id(im)
        if key not in self._arrays:
            self._arrays[key] = (im, np.asarray(im))
        return self._arrays[key][1]


def _blend(frame: np.ndarray, rgba: np.ndarray, at: tuple[int, int]) -> None:
    """Alpha-blend an RGBA piece into an RGB frame at ``at`` (clipped to the frame)."""
    x, y = int(at[0]), int(at[1])
    h, w = rgba.shape[:2]
    fh, fw = frame.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(fw, x + w), min(fh, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    p = rgba[y0 - y:y1 - y, x0 - x:x1 - x]
    a = p[..., 3:4].astype(np.uint16)
    roi = frame[y0:y1, x0:x1]
    roi[:] = ((roi.astype(np.uint16) * (255 - a) + p[..., :3].astype(np.uint16) * a + 127) // 255).astype(np.uint8)


# --------------------------------------------------------------------------------------- the stream
@dataclass
class StreamSpec:
    seed: int = 1
    minutes: float = 10.0
    portrait: bool = True
    width: int = 720
    fps: int = FPS

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.width * 16 // 9) if self.portrait else (self.width * 16 // 9, self.width)


@dataclass
class RealisticStream:
    folder: Path
    video: Path
    truth: dict[str, Any]

    @property
    def episodes(self) -> list[dict[str, Any]]:
        return self.truth["episodes"]

    @property
    def pages(self) -> list[Path]:
        return [self.folder / p for p in self.truth["pages"]]

    @property
    def chat(self) -> Path:
        return self.folder / "chat.jsonl"

    @property
    def references(self) -> Path:
        return self.folder / "rules"

    @property
    def duration(self) -> float:
        return float(self.truth["duration"])


def cache_key(spec: StreamSpec) -> str:
    """Key over GENERATOR_VERSION, the arguments and the input media (not this file's bytes: a
    comment or lint edit must not rebuild 30 minutes of video; a change of output bumps the version)."""
    h = hashlib.sha256()
    for name, text in read_lines():
        h.update(name.encode() + text.encode())
        h.update(hashlib.sha256((TTS_DIR / name).read_bytes()).digest())
    for p in PHOTOS.values():
        h.update(hashlib.sha256((REALDATA / p["file"]).read_bytes()).digest())
    args = {**asdict(spec), "minutes": float(spec.minutes)}
    h.update(json.dumps([GENERATOR_VERSION, args], sort_keys=True).encode())
    return h.hexdigest()[:16]


def plan_episodes(spec: StreamSpec) -> list[Episode]:
    """Products, covers, links and pages of one stream (before its sound is timed)."""
    rng = np.random.default_rng(1000 + spec.seed)
    drawn = list(DRAWN)
    photos = list(PHOTOS)
    n = max(3, int(round(spec.minutes * 60 / 95)))  # ~95 s per product
    eps: list[Episode] = []
    covers = list(COVERS)
    rng.shuffle(covers)
    looks = list(LOOKALIKES)
    rng.shuffle(looks)
    order = list(rng.permutation(drawn))
    for i in range(n):
        photo = i % 3 == 1
        if photo:
            name = photos[(i // 3 + spec.seed) % len(photos)]
            kind = f"photo:{name}"
            noun, title = PHOTOS[name]["noun"], PHOTOS[name]["title"]
            brand = PHOTOS[name]["brand"]
        else:
            kind = str(order[i % len(order)])
            noun, title = DRAWN[kind][0], DRAWN[kind][1]
            brand = None
        # every other episode carries a cover; the others are look-alikes (no cover)
        if (i + spec.seed) % 2 == 0 or (photo and name == "alpro"):
            cover = covers[i % len(covers)]
        else:
            cover = looks[i % len(looks)]
            if photo and cover in ("label_beige", "price_sticker"):
                cover = "visible"
        if kind == "necklace" and cover not in LOOKALIKES:
            cover = "plain"  # nothing to cover on a thin chain
        link = i + 1
        price = int(rng.choice([39, 59, 79, 99, 129, 159, 199, 299, 399]))
        ep = Episode(i, 0.0, 0.0, kind, noun, link, cover, brand, title, price)
        if not photo:
            agree, contra = DRAWN[kind][2], DRAWN[kind][3]
            has_page = rng.random() < 0.8
            if has_page:
                attrs = dict(contra if (contra and rng.random() < 0.6) else agree)
                ep.page_mismatch = [k for k in attrs if contra and attrs == contra]
                ep.page = {"url": f"https://shop.example/item/{spec.seed}{link:02d}", "title": f"{title} {link}号链接",
                           "brand": "无品牌", "price": price, "currency": "CNY",
                           "captured": "2026-11-20T12:00:00Z", "attributes": {"品名": title, **attrs}}
        eps.append(ep)
    return eps


def _speech_plan(spec: StreamSpec, eps: list[Episode], cache: Path) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """The sound track (speech only, 16 kHz int16) and every line with its time and what it plants."""
    rng = np.random.default_rng(2000 + spec.seed)
    total = int(spec.minutes * 60 * SR)
    track = np.zeros(total, np.float32)
    lines: list[dict[str, Any]] = []
    ep_len = total / len(eps) / SR
    t = 0.8
    tts_cache: dict[str, np.ndarray] = {}

    def natural(name: str) -> np.ndarray:
        if name not in tts_cache:
            tts_cache[name] = _tempo(decode_pcm(TTS_DIR / name), 1.2)
        return tts_cache[name]

    texts = dict(read_lines())
    for ep in eps:
        ep.start = round(t if ep.index else 0.0, 3)
        end = min(total / SR, (ep.index + 1) * ep_len)
        kind = ep.product
        own = [] if kind.startswith("photo:") else TTS_BY_PRODUCT.get(kind, [])
        link_line = f"{LINK_WORDS[ep.link] if ep.link <= 10 else ep.link}号链接，{ep.noun}，今天直播间{ep.price}元"
        queue: list[tuple[str, str | None, tuple[str, ...], Any, str]] = [(link_line, None, (), None, "assistant")]
        for name, plants, claim in own:
            queue.append((texts[name], name, plants, claim, "host"))
        for s in ORDINARY_BY_PRODUCT.get(kind, []):
            queue.append((s, None, (), None, "assistant"))
        fill = [s for s in ORDINARY_TALK if all(s not in v for v in ORDINARY_BY_PRODUCT.values())]
        while True:
            # fill the episode: ordinary talk by both speakers, the host's own lines spread inside
            if not queue:
                if rng.random() < 0.3:
                    name = TTS_ORDINARY[int(rng.integers(0, len(TTS_ORDINARY)))]
                    queue.append((texts[name], name, (), None, "host"))
                else:
                    queue.append((fill[int(rng.integers(0, len(fill)))], None, (), None, "assistant"))
            text, tts, plants, claim, who = queue.pop(0) if rng.random() < 0.6 or len(queue) == 1 else queue.pop(
                int(rng.integers(0, len(queue))))
            if tts:
                pcm = natural(tts)
            else:
                pcm = espeak_pcm(text, voice="cmn-latn-pinyin+f2", speed=int(rng.integers(165, 190)),
                                 pitch=int(rng.integers(55, 75)), cache=cache)
            n0 = int(t * SR)
            if n0 + len(pcm) > int(end * SR) - SR // 2:
                break
            on, off = speech_bounds(pcm)
            gain = 0.9 if tts else 0.55
            track[n0:n0 + len(pcm)] += gain * pcm.astype(np.float32) / 32768.0
            lines.append({"episode": ep.index, "speaker": who, "voice": "tts" if tts else "espeak", "file": tts,
                          "text": text, "start": round(t + on, 3), "end": round(t + off, 3), "plants": list(plants),
                          "claim": list(claim) if claim else None})
            ep.lines.append(lines[-1])
            t += len(pcm) / SR + float(rng.uniform(0.15, 0.6))  # continuous talk: short pauses only
        t = max(t, end)
        ep.end = round(min(end, total / SR), 3)
    eps[-1].end = round(total / SR, 3)
    # the room and the music
    mrng = np.random.default_rng(3000 + spec.seed)
    speech = _reverb(track, mrng)
    music = _music(total, mrng)
    mix = speech + 0.12 * music
    mix = np.clip(mix / max(1.0, float(np.abs(mix).max()) / 0.95), -1, 1)
    return (mix * 32767).astype(np.int16), lines


@dataclass
class _Scene:
    world: np.ndarray  # camera world (H*1.2 x W*1.2 RGB)
    sprite: np.ndarray | None  # RGBA product + hand (drawn products), moves with a hand sway
    sprite_at: tuple[int, int]
    cover_box: list[int] | None  # in world coords (photo) or sprite coords (drawn)
    thumb: Image.Image


MARGIN = 1.2  # the camera world is this much larger than the frame (room for zoom, pan and shake)


def _build_scene(ep: Episode, spec: StreamSpec, rng: np.random.Generator) -> _Scene:
    fw, fh = spec.size
    ww, wh = int(fw * MARGIN), int(fh * MARGIN)
    cover_box = None
    if ep.product.startswith("photo:"):
        p = PHOTOS[ep.product.split(":", 1)[1]]
        photo = Image.open(REALDATA / p["file"]).convert("RGB")
        scale = min(ww, wh) * 0.95 / photo.width
        lb = p["logo"]
        look = ep.cover
        if look in COVERS:
            cb = _apply_cover(photo, lb, ep.cover, rng)
        else:
            cb = None
        big = photo.resize((int(photo.width * scale), int(photo.height * scale)), Image.Resampling.BICUBIC)
        world = np.asarray(big.resize((ww, wh), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(14)))
        world = (world.astype(np.float32) * 0.8).astype(np.uint8).copy()  # the same place, out of frame and defocused
        ox, oy = (ww - big.width) // 2, (wh - big.height) // 2
        world[oy:oy + big.height, ox:ox + big.width] = np.asarray(big)
        if cb is not None:
            cover_box = [int(ox + v * scale) if k % 2 == 0 else int(oy + v * scale) for k, v in enumerate(cb)]
        thumb = Image.open(REALDATA / p["file"]).convert("RGB")
        return _Scene(world, None, (0, 0), cover_box, thumb)
    world = _room(ww, wh, rng)
    size = int(min(fw, fh) * 0.62)
    sprite, logo_at = _drawn_product(ep.product, rng, size)
    thumb = sprite.copy()
    if logo_at is not None:
        ls = int(size * 0.26)
        lx, ly = logo_at[0] - ls // 2, logo_at[1] - ls // 2
        if ep.cover != "plain":
            sprite.alpha_composite(draw_logo(ls), (lx, ly))
        box = [lx, ly, lx + ls, ly + ls]
        if ep.cover in COVERS:
            cover_box = _apply_cover(sprite, box, ep.cover, rng)
        elif ep.cover in ("label_beige", "price_sticker"):
            _lookalike(sprite, box, ep.cover, rng)
    hand = _hand(int(size * 0.5), size, rng)
    full = Image.new("RGBA", (int(size * 1.25), size), (0, 0, 0, 0))
    full.alpha_composite(sprite, (int(size * 0.25), 0))
    hand_layer = Image.new("RGBA", full.size, (0, 0, 0, 0))
    hand_layer.alpha_composite(hand, (0, 0))
    full = Image.alpha_composite(full, hand_layer) if ep.cover != "finger" else Image.alpha_composite(hand_layer, full)
    if cover_box is not None:
        cover_box = [cover_box[0] + int(size * 0.25), cover_box[1], cover_box[2] + int(size * 0.25), cover_box[3]]
    at = ((ww - full.width) // 2, int(wh * 0.42 - full.height / 2))
    return _Scene(world, np.asarray(full).copy(), at, cover_box, thumb)


def _camera(t: float, ep: Episode, spec: StreamSpec, shake: np.ndarray) -> np.ndarray:
    """World -> frame affine at time t: a slow zoom over the episode, a slow pan, hand shake."""
    fw, fh = spec.size
    ww, wh = fw * MARGIN, fh * MARGIN
    u = (t - ep.start) / max(1.0, ep.end - ep.start)
    zoom = 1.0 + 0.1 * u if ep.index % 2 == 0 else 1.1 - 0.1 * u
    k = int(t * spec.fps) % len(shake)
    px = 0.35 * (ww - fw) * math.sin(2 * math.pi * t / 37 + ep.index) + shake[k, 0]
    py = 0.25 * (wh - fh) * math.sin(2 * math.pi * t / 53) + shake[k, 1]
    s = zoom
    # frame = s * (world - centre) + frame centre + pan
    m = np.array([[s, 0, fw / 2 - s * (ww / 2) + px], [0, s, fh / 2 - s * (wh / 2) + py]], np.float32)
    ang = 0.6 * math.sin(2 * math.pi * t / 11)  # a slight roll
    rot = cv2.getRotationMatrix2D((fw / 2, fh / 2), ang, 1.0)
    return (np.vstack([rot, [0, 0, 1]]) @ np.vstack([m, [0, 0, 1]]))[:2].astype(np.float32)


def _sway(t: float, ep: Episode) -> tuple[float, float]:
    """The hand holding the product moves it a little against the room."""
    return 18 * math.sin(2 * math.pi * t / 7.3 + ep.index), 10 * math.sin(2 * math.pi * t / 5.1)


def _box_through(m: np.ndarray, box: list[float]) -> list[float]:
    x0, y0, x1, y1 = box
    pts = np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    q = pts @ m[:, :2].T + m[:, 2]
    return [round(float(q[:, 0].min()), 1), round(float(q[:, 1].min()), 1),
            round(float(q[:, 0].max() - q[:, 0].min()), 1), round(float(q[:, 1].max() - q[:, 1].min()), 1)]


class Renderer:
    """Renders any frame of a planned stream (the visual tests sample frames without a video)."""

    def __init__(self, spec: StreamSpec, eps: list[Episode], duration: float):
        self.spec = spec
        self.eps = eps
        rng = np.random.default_rng(4000 + spec.seed)
        self.scenes = [_build_scene(ep, spec, np.random.default_rng(5000 + 97 * spec.seed + ep.index)) for ep in eps]
        walk = np.cumsum(rng.normal(0, 1.2, size=(int(duration * spec.fps) + 10, 2)), axis=0)
        walk -= cv2.blur(walk.astype(np.float32), (1, 31))  # shake: a high-passed random walk
        self.shake = np.clip(walk, -6, 6)
        self.flicker = rng.normal(0, 0.012, size=int(duration * spec.fps) + 10)
        hosts = ["小美优选", "阿杰好物", "慧慧的店", "橙子严选"]
        banners = ["直播间专享 满299减30", "新人首单立减10元", "老家特产节 全场包邮", "宝家粉丝节 福利多多"]
        self.overlay = Overlay(ui_layout(*spec.size), hosts[spec.seed % 4], banners[spec.seed % 4], rng, duration)

    def episode_at(self, t: float) -> int:
        for i, ep in enumerate(self.eps):
            if t < ep.end:
                return i
        return len(self.eps) - 1

    def frame(self, t: float) -> tuple[np.ndarray, dict[str, Any]]:
        """RGB frame at ``t`` and its truth: episode, cover box in frame pixels (or None)."""
        i = self.episode_at(t)
        ep, sc = self.eps[i], self.scenes[i]
        fw, fh = self.spec.size
        m = _camera(t, ep, self.spec, self.shake)
        world = sc.world
        cover = None
        product_box = None
        if sc.sprite is not None:
            world = world.copy()
            dx, dy = _sway(t, ep)
            x0, y0 = int(sc.sprite_at[0] + dx), int(sc.sprite_at[1] + dy)
            h, w = sc.sprite.shape[:2]
            _blend(world, sc.sprite, (x0, y0))
            product_box = _box_through(m, [x0, y0, x0 + w, y0 + h])
            if sc.cover_box is not None:
                cb = sc.cover_box
                cover = _box_through(m, [cb[0] + x0, cb[1] + y0, cb[2] + x0, cb[3] + y0])
        elif sc.cover_box is not None:
            cover = _box_through(m, sc.cover_box)
        img = cv2.warpAffine(world, m, (fw, fh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        k = int(t * self.spec.fps) % len(self.flicker)
        gain = 1.0 + 0.05 * math.sin(2 * math.pi * t * 0.37) + self.flicker[k]  # auto-exposure hunting
        img = cv2.convertScaleAbs(img, alpha=gain, beta=0)
        self.overlay.compose(img, t, ep, sc.thumb)
        truth = {"episode": i, "cover": COVER_FAMILY.get(ep.cover), "cover_kind": ep.cover if ep.cover in COVERS else None,
                 "cover_box": cover, "product_box": product_box, "product": ep.product}
        return img, truth


def build_stream(dest: Path, spec: StreamSpec | None = None) -> RealisticStream:
    """Build (or reuse) the stream for ``spec`` under ``dest``; return its folder and truth."""
    spec = spec or StreamSpec()
    folder = Path(dest) / f"realistic-s{spec.seed}-{spec.minutes:g}m-{'p' if spec.portrait else 'l'}-{cache_key(spec)}"
    if (folder / "truth.json").exists():
        return RealisticStream(folder, folder / "stream.mp4", json.loads((folder / "truth.json").read_text("utf-8")))
    tmp = folder.with_name(folder.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    espeak_cache = Path(dest) / "espeak"
    espeak_cache.mkdir(parents=True, exist_ok=True)
    eps = plan_episodes(spec)
    audio, lines = _speech_plan(spec, eps, espeak_cache)
    duration = len(audio) / SR
    wav = write_wav(tmp / "sound.wav", audio)
    r = Renderer(spec, eps, duration)
    fw, fh = spec.size
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{fw}x{fh}", "-r", str(spec.fps),
           "-i", "-", "-i", str(wav), "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast",
           "-crf", "27", *X264_THREADS, "-g", str(4 * spec.fps), "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "56k",
           "-ar", "48000", "-shortest", str(tmp / "stream.mp4")]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    samples: list[dict[str, Any]] = []
    for n in range(int(math.ceil(duration * spec.fps))):
        t = n / spec.fps
        img, truth = r.frame(t)
        proc.stdin.write(img.tobytes())
        if n % (2 * spec.fps) == 0:  # the cover box every 2 s (the default frame interval)
            samples.append({"t": round(t, 2), **{k: truth[k] for k in ("episode", "cover_box", "product_box")}})
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError("ffmpeg failed to encode the realistic stream")
    wav.unlink()
    pages = []
    rules = tmp / "rules" / "references"
    for ep in eps:
        if ep.page:
            name = f"page_link{ep.link:02d}.json"
            (tmp / name).write_text(json.dumps(ep.page, ensure_ascii=False, indent=1), encoding="utf-8")
            pages.append(name)
        if ep.product.startswith("photo:"):
            p = PHOTOS[ep.product.split(":", 1)[1]]
            if p["reference"] and not (rules / p["brand"]).exists():
                (rules / p["brand"]).mkdir(parents=True)
                shutil.copyfile(REALDATA / p["reference"], rules / p["brand"] / p["reference"])
    lay = r.overlay.lay
    chat = [{"t": round(t0, 2), "user": who, "text": msg} for t0, _b, who, msg in r.overlay.comments]
    # The same comments as the platform's chat log (what an investigator saves beside the video).
    (tmp / "chat.jsonl").write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in chat), encoding="utf-8")
    truth = {"generator_version": GENERATOR_VERSION, "spec": asdict(spec), "duration": round(duration, 3),
             "width": fw, "height": fh, "episodes": [asdict(e) for e in eps], "lines": lines, "pages": pages,
             "layout": asdict(lay), "comments": chat, "samples": samples}
    (tmp / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    return RealisticStream(folder, folder / "stream.mp4", truth)


CLAIM_PRODUCTS = ("shorts", "coat", "belt", "necklace", "shirt")


def claims_sound(dest: Path, seed: int = 1, minutes: float = 4.0) -> tuple[Path, list[Episode], list[dict[str, Any]]]:
    """The sound of a stream that sells the five products the host makes material/origin claims
    about, each with a page that contradicts him (cached WAV, 16 kHz), its episodes and lines.
    For the claims tests: the same voices, music and room as the streams, without the video."""
    rng = np.random.default_rng(6000 + seed)
    eps = []
    for i, kind in enumerate(rng.permutation(list(CLAIM_PRODUCTS))):
        noun, title, _agree, contra = DRAWN[str(kind)]
        link = i + 1
        ep = Episode(i, 0.0, 0.0, str(kind), noun, link, "plain", None, title, 99)
        ep.page = {"url": f"https://shop.example/item/c{seed}{link:02d}", "title": f"{title} {link}号链接",
                   "brand": "无品牌", "price": 99, "currency": "CNY", "captured": "2026-11-20T12:00:00Z",
                   "attributes": {"品名": title, **(contra or {})}}
        ep.page_mismatch = list(contra or {})
        eps.append(ep)
    spec = StreamSpec(seed=seed, minutes=minutes)
    folder = Path(dest) / f"claims-sound-s{seed}-{minutes:g}m-{cache_key(spec)}"
    espeak_cache = Path(dest) / "espeak"
    espeak_cache.mkdir(parents=True, exist_ok=True)
    audio, lines = _speech_plan(spec, eps, espeak_cache)
    wav = folder / "sound.wav"
    if not wav.exists():
        folder.mkdir(parents=True, exist_ok=True)
        write_wav(wav, audio)
    return wav, eps, lines


def renderer_for(spec: StreamSpec, espeak_cache: Path) -> tuple[Renderer, list[Episode]]:
    """A renderer for sampled-frame tests: the same pictures as the stream, without encoding it.
    Episode times need the sound plan (espeak lines are cached, so this is cheap after a build)."""
    eps = plan_episodes(spec)
    audio, _lines = _speech_plan(spec, eps, espeak_cache)
    return Renderer(spec, eps, len(audio) / SR), eps


if __name__ == "__main__":  # pragma: no cover
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--landscape", action="store_true")
    ap.add_argument("--width", type=int, default=720)
    a = ap.parse_args()
    s = build_stream(a.out, StreamSpec(a.seed, a.minutes, not a.landscape, a.width))
    print(s.video)
