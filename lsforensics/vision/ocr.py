"""On-screen text: PP-OCR (rapidocr + onnxruntime, models ship in the wheel) over sampled frames.

``OcrStage`` (custody action ``ocr``) reads ``media/frames.json`` and the frames and writes
``ocr.json``: ``[{frame, t, text, raw, box [x, y, w, h], score}]`` with ``text`` normalised (NFKC,
so ``￥`` becomes ``¥`` and full-width digits ASCII; whitespace collapsed, spaces between CJK
characters dropped) and the recogniser's output kept as ``raw``.

Frames whose picture did not change since the last OCRed frame are not OCRed again: their lines
are copied with ``reused_from`` naming the frame that was read, so every line stays traceable to
pixels that were actually recognised. "Changed" is judged twice: the 64-bit perceptual hash of
``frames.json`` (global changes) and the largest mean difference over ~32x32-pixel blocks of
240x136 thumbnails (a price that changes from 199 to 189 while the rest of the picture holds
still moves the phash by nothing at all).
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import imagehash
import numpy as np
from PIL import Image

from ..case import Case, atomic_write_json
from ..errors import InputError
from ..progress import Progress
from ..stage import Stage
from .imageio import LoadedImage, load_image

_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")


def normalize_ocr_text(raw: str) -> str:
    """NFKC + whitespace: what detectors match against (``raw`` keeps the recogniser's output)."""
    text = unicodedata.normalize("NFKC", raw)
    text = text.replace("\uffe5", "¥")  # NFKC already maps it; keep explicit for other yen forms
    text = " ".join(text.split())
    return _SPACE_BETWEEN_CJK.sub("", text)


@dataclass
class OcrLine:
    text: str
    raw: str
    box: list[float]  # [x, y, w, h] in original frame pixels
    score: float
    rec_reused: bool = False  # recognition copied from an identical line crop of the previous read frame

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if not d.pop("rec_reused"):
            return d
        return {**d, "note": "line crop identical to the previous read frame's; its recognition reused"}


def _crop_key(img: np.ndarray) -> np.ndarray:
    g = img if img.ndim == 2 else img.mean(axis=2)
    h, w = g.shape[:2]
    kw = max(4, min(512, round(32 * w / max(h, 1))))
    return np.asarray(Image.fromarray(g.astype(np.uint8)).resize((kw, 32), Image.Resampling.BILINEAR), np.float32)


class _RecCache:
    """Wraps rapidocr's recogniser: a line crop that is the same picture as one read in the
    previous OCRed frame is not recognised again.

    In a livestream the host moves (so frames change) while captions and price stickers hold
    still for minutes; recognition is most of the OCR time. "Same" is strict: a 32-px-high
    thumbnail of the crop with mean grey difference <= 1.5 and 99.5th percentile <= 12, so one
    changed glyph (a price going from 199 to 189) forces a new recognition.
    """

    def __init__(self, inner: Any):
        self.inner = inner
        self.prev: list[tuple[np.ndarray, str, float, Any]] = []
        self.cur: list[tuple[np.ndarray, str, float, Any]] = []
        self.reused_idx: set[int] = set()
        self.hits = self.misses = 0

    def next_frame(self) -> None:
        self.prev, self.cur = self.cur, []

    def __call__(self, imgs: list[np.ndarray]) -> Any:
        from rapidocr.ch_ppocr_rec import TextRecOutput

        keys = [_crop_key(im) for im in imgs]
        txts: list[str] = [""] * len(imgs)
        scores: list[float] = [0.0] * len(imgs)
        words: list[Any] = [()] * len(imgs)
        todo: list[int] = []
        self.reused_idx = set()
        for i, k in enumerate(keys):
            match = None
            for pk, pt, ps, pw in self.prev:
                if pk.shape == k.shape:
                    d = np.abs(pk - k)
                    if d.mean() <= 1.5 and np.percentile(d, 99.5) <= 12:
                        match = (pt, ps, pw)
                        break
            if match is None:
                todo.append(i)
            else:
                txts[i], scores[i], words[i] = match
                self.reused_idx.add(i)
        self.hits += len(imgs) - len(todo)
        self.misses += len(todo)
        if todo:
            res = self.inner([imgs[i] for i in todo])
            wr = list(res.word_results) if res.word_results is not None else [()] * len(todo)
            for j, i in enumerate(todo):
                txts[i], scores[i] = res.txts[j], float(res.scores[j])
                words[i] = wr[j] if j < len(wr) else ()
        self.cur += [(k, t, sc, w) for k, t, sc, w in zip(keys, txts, scores, words, strict=True)]
        return TextRecOutput(imgs=imgs, txts=tuple(txts), scores=scores, word_results=tuple(words), elapse=0.0)


@dataclass(frozen=True)
class OcrParams:
    det_side: int = 736  # detector input long side: same reads as 960 on our streams, ~30 % less CPU
    text_score: float = 0.5  # drop recognitions below this confidence
    use_cls: bool = False  # 180-degree text classifier: livestream captions are upright
    # Recogniser input: every line crop is scaled to 48 px high and padded to at least this width
    # (PP-OCR's default 320). A phone stream's UI is short lines (关注, ¥39, 1号, 0.6万) that the
    # default pads to 320 columns of nothing: 160 read the same text on the realistic stream's
    # frames (the few differences are spaces and dots: 燕麦酸奶1L / 燕麦酸奶 1L) for ~23 % less OCR CPU.
    rec_min_width: int = 160
    phash_skip: int = 2  # reuse text when the phash moved at most this many bits ...
    block_skip: float = 4.0  # ... and no ~32x32-pixel block changed by more grey levels than this
    pixel_level: float = 20.0  # ... and fewer than `pixel_count` thumbnail pixels changed by more than this
    pixel_count: int = 2
    reuse_lines: bool = True  # re-recognise only line crops that changed since the last read frame
    threads: int = 0  # ONNX Runtime intra-op threads (0: all cores); not a setting of the result


class OcrEngine:
    """Lazy RapidOCR wrapper; one instance per process (the ONNX sessions cost ~1 s to build)."""

    def __init__(self, params: OcrParams | None = None):
        self.p = params or OcrParams()
        self._engine: Any = None
        self._cache: _RecCache | None = None

    @staticmethod
    def version() -> str:
        try:
            from importlib.metadata import version

            return version("rapidocr")
        except Exception:
            return "unknown"

    def _get(self) -> Any:
        if self._engine is None:
            try:
                from rapidocr import RapidOCR
            except ImportError as exc:
                raise InputError(f"OCR needs rapidocr + onnxruntime ({exc}); pip install rapidocr onnxruntime") from None
            self._engine = RapidOCR(params={
                "Global.log_level": "error",
                "Global.use_cls": self.p.use_cls,
                "Global.text_score": self.p.text_score,
                "Det.limit_type": "max",
                "Det.limit_side_len": self.p.det_side,
                "Rec.rec_img_shape": [3, 48, self.p.rec_min_width],
                "EngineConfig.onnxruntime.intra_op_num_threads": self.p.threads or -1,
            })
            if self.p.reuse_lines:
                self._cache = _RecCache(self._engine.recognize_txt)
                self._engine.recognize_txt = self._cache
        return self._engine

    @property
    def line_reuse(self) -> tuple[int, int]:
        """(line crops whose recognition was reused, line crops recognised)."""
        return (self._cache.hits, self._cache.misses) if self._cache else (0, 0)

    def read(self, image: LoadedImage) -> list[OcrLine]:
        engine = self._get()
        if self._cache is not None:
            self._cache.next_frame()
        res = engine(image.bgr)
        if res is None or res.boxes is None or res.txts is None:
            return []
        reused = {self._cache.cur[i][1] for i in self._cache.reused_idx} if self._cache else set()
        lines: list[OcrLine] = []
        for poly, raw, score in zip(res.boxes, res.txts, res.scores, strict=False):
            text = normalize_ocr_text(raw)
            if not text:
                continue
            pts = np.asarray(poly, dtype=np.float32)
            x0, y0 = pts.min(0)
            x1, y1 = pts.max(0)
            box = image.to_original([float(x0), float(y0), float(x1 - x0), float(y1 - y0)])
            lines.append(OcrLine(text, raw, box, round(float(score), 4), rec_reused=raw in reused))
        return lines

    def read_file(self, path: Path) -> list[OcrLine]:
        return self.read(load_image(path))


THUMB = (240, 136)  # 1/4 of a 960x540 frame: a changed digit of a small price sticker still shows


def _thumb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        im.draft("L", THUMB)
        return np.asarray(im.convert("L").resize(THUMB, Image.Resampling.BILINEAR), dtype=np.float32)


def _block_change(a: np.ndarray, b: np.ndarray) -> float:
    """Largest mean grey difference over 8x8-pixel blocks of the thumbnails (~32x32 frame pixels)."""
    h, w = a.shape
    d = np.abs(a - b).reshape(h // 8, 8, w // 8, 8).mean(axis=(1, 3))
    return float(d.max())


def _pixels_changed(a: np.ndarray, b: np.ndarray, level: float) -> int:
    """Thumbnail pixels that changed by more than ``level`` grey levels.

    One changed digit ("¥199" -> "¥189" on a small sticker) changes only a handful of thumbnail
    pixels, but by 50+ levels; re-encoding the same picture changes none by more than ~10.
    """
    return int((np.abs(a - b) > level).sum())


class OcrStage(Stage):
    name = "ocr"
    version = 1

    def __init__(self, params: OcrParams | None = None, engine: OcrEngine | None = None):
        self.p = params or OcrParams()
        self.engine = engine or OcrEngine(self.p)

    def params(self) -> dict[str, Any]:
        d = asdict(self.p)
        d.pop("threads")
        return {**d, "engine": "rapidocr", "engine_version": OcrEngine.version()}

    def inputs(self, case: Case) -> list[Path]:
        # An audio-only source has no frames: its finished state is an empty ocr.json.
        return [p for p in (case.frames_json, case.frames_dir) if p.exists()] or [case.source_json]

    def outputs(self, case: Case) -> list[Path]:
        return [case.ocr_json]

    def run(self, case: Case, progress: Progress) -> dict[str, Any]:
        if not case.frames_json.exists() and case.source_json.exists() \
                and case.source["probe"].get("video_stream") is None:
            atomic_write_json(case.ocr_json, [])  # an audio-only source: nothing on screen
            return {"frames": 0, "note": "source has no video stream"}
        case.require(case.frames_json, "extract")
        frames = case.read_json(case.frames_json)
        if not isinstance(frames, list):
            raise InputError(f"{case.rel(case.frames_json)} is not a list of frames")
        out: list[dict[str, Any]] = []
        last: dict[str, Any] | None = None  # {frame, phash, thumb, lines}
        ocred = reused = 0
        skipped: list[dict[str, str]] = []
        started, cpu0 = time.perf_counter(), time.thread_time()
        task = progress.task("ocr", total=len(frames))
        for fr in frames:
            task.update(advance=1)
            rel = fr.get("file")
            path = case.root / str(rel)
            try:
                thumb = _thumb(path)
                ph = imagehash.hex_to_hash(fr["phash"]) if fr.get("phash") else None
            except Exception as exc:  # corrupt or missing frame: note it, keep going
                skipped.append({"frame": str(rel), "reason": "unreadable: " + " ".join(f"{type(exc).__name__}: {exc}".split())})
                progress.log(f"ocr: {rel}: unreadable frame skipped")
                continue
            if last is not None and ph is not None and last["phash"] is not None:
                dist = ph - last["phash"]
                change = _block_change(thumb, last["thumb"])
                moved_px = _pixels_changed(thumb, last["thumb"], self.p.pixel_level)
                if dist <= self.p.phash_skip and change <= self.p.block_skip and moved_px < self.p.pixel_count:
                    reused += 1
                    for ln in last["lines"]:
                        out.append({"frame": rel, "t": fr.get("t"), **ln.to_dict(), "reused_from": last["frame"],
                                    "note": f"picture unchanged since {last['frame']} (phash distance {dist}, "
                                            f"max block change {change:.1f}); text reused"})
                    continue
            try:
                lines = self.engine.read_file(path)
            except InputError as exc:
                skipped.append({"frame": str(rel), "reason": str(exc)})
                progress.log(f"ocr: {exc}")
                continue
            ocred += 1
            for ln in lines:
                out.append({"frame": rel, "t": fr.get("t"), **ln.to_dict()})
            last = {"frame": rel, "phash": ph, "thumb": thumb, "lines": lines}
        task.close()
        atomic_write_json(case.ocr_json, out)
        elapsed = time.perf_counter() - started
        hits, misses = self.engine.line_reuse
        return {"frames": len(frames), "ocred": ocred, "reused": reused, "skipped": skipped,
                "line_crops_recognised": misses, "line_crops_reused": hits,
                "lines": len(out), "seconds": round(elapsed, 2),
                # this thread's CPU: all of OCR's when ONNX Runtime runs on one thread (side by side)
                "cpu_s": round(time.thread_time() - cpu0, 2),
                "seconds_per_ocred_frame": round(elapsed / ocred, 3) if ocred else None}
