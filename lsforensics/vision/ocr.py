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

import cv2
import imagehash
import numpy as np
from PIL import Image

from ..case import Case, atomic_write_json
from ..errors import InputError
from ..memory import release
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
    rec_reused: str = ""  # why the recognition was copied from a line of the previous read frame

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        note = d.pop("rec_reused")
        return {**d, "note": note} if note else d


REUSED_SAME = "line crop identical to the previous read frame's; its recognition reused"


def _crop_key(img: np.ndarray) -> np.ndarray:
    g = img if img.ndim == 2 else img.mean(axis=2)
    h, w = g.shape[:2]
    kw = max(4, min(512, round(32 * w / max(h, 1))))
    return np.asarray(Image.fromarray(g.astype(np.uint8)).resize((kw, 32), Image.Resampling.BILINEAR), np.float32)


@dataclass(frozen=True)
class TrackParams:
    """When a line is "the same text" as a line of the previous read frame that moved or stayed.

    A viewer comment scrolls up the column over a semi-transparent bubble and the platform's
    counters and placeholders sit over the moving scene: the picture behind the text changes, so
    its pixels are never the same twice, and the text detector's box around it jitters by a few
    pixels, but its strokes (opaque, drawn the same way) do not change. A line is tracked to a
    line of the previous read frame when its box has about the same size and left edge (moved
    vertically, or not at all), each box lies inside the other (aligned) but for a margin of
    ``margin_h`` of the line height (no glyph more or less), and the frame's pixels over both
    boxes, aligned at the best of a few pixels, show the same strokes: no pixel that is a stroke
    in either frame (``stroke_level`` of the contrast above the background) differs by
    ``diff_level`` of the contrast or more, in any block of ``block_h`` line heights (a changed
    digit, 199 -> 189, or another user name changes whole strokes) or over the whole line.
    """

    margin_h: float = 0.3  # box extent differences allowed, as a share of the line height
    min_contrast: float = 60.0  # grey levels between the strokes and the background
    stroke_level: float = 0.5  # a stroke pixel is at least this share of the contrast above the background
    diff_level: float = 0.5  # ... and differs from the other frame's pixel by this share or more
    block_h: float = 0.5  # blocks of this many line heights (about half a glyph)
    max_block_share: float = 0.01  # differing pixels allowed in a block, as a share of the block
    max_share: float = 0.02  # ... and over the region, as a share of its stroke pixels
    search_px: int = 4  # alignment searched +- this many pixels around the boxes' offset


def _polarity(g: np.ndarray, p: TrackParams) -> tuple[float, float] | None:
    """(background level, signed contrast) of a text region: strokes lighter (+) or darker (-)."""
    med = float(np.median(g))
    hi, lo = float(np.percentile(g, 99)), float(np.percentile(g, 1))
    if hi - med >= max(med - lo, p.min_contrast):
        return med, hi - med
    if med - lo >= max(hi - med, p.min_contrast):
        return med, lo - med
    return None


def same_text_region(cur: np.ndarray, prev: np.ndarray, box: tuple[float, float, float, float],
                     pbox: tuple[float, float, float, float], p: TrackParams) -> tuple[int, int] | None:
    """The shift (dx, dy) from ``pbox`` in grey frame ``prev`` to ``box`` in grey frame ``cur`` at
    which both show the same strokes (``TrackParams``), or None."""
    x0, y0, x1, y1 = box
    px0, py0, px1, py1 = pbox
    lh = max(1.0, min(y1 - y0, py1 - py0))
    m = p.margin_h * lh + 1.0
    dx0, dy0 = round(x0 - px0), round((y0 + y1) / 2 - (py0 + py1) / 2)
    if abs((x1 - x0) - (px1 - px0)) > m or abs((y1 - y0) - (py1 - py0)) > m or abs(dx0) > m:
        return None
    H, W = cur.shape
    # the union of the box and the previous box moved by the offset, with the search margin
    s = p.search_px
    ux0, uy0 = int(min(x0, px0 + dx0)) - 2, int(min(y0, py0 + dy0)) - 2
    ux1, uy1 = int(max(x1, px1 + dx0)) + 3, int(max(y1, py1 + dy0)) + 3
    if ux0 - s - abs(dx0) < 0 or uy0 - s < 0 or ux1 + s > W or uy1 + s > H:
        return None  # at the frame's edge: not compared
    if uy0 - dy0 - s < 0 or uy1 - dy0 + s > H or ux0 - dx0 - s < 0 or ux1 - dx0 + s > W:
        return None
    a = cur[uy0:uy1, ux0:ux1]
    pol = _polarity(a, p)
    if pol is None:
        return None
    med, c = pol
    sa = (a - med) / c  # strokes toward 1, background toward 0 (either polarity)
    win = prev[uy0 - dy0 - s:uy1 - dy0 + s, ux0 - dx0 - s:ux1 - dx0 + s]
    pp = _polarity(win, p)
    if pp is None or (pp[1] > 0) != (c > 0):
        return None
    sw = (win - pp[0]) / c
    res = cv2.matchTemplate(np.clip(sw, 0, 1).astype(np.float32), np.clip(sa, 0, 1).astype(np.float32), cv2.TM_SQDIFF)
    _mn, _mx, (bx, by), _ = cv2.minMaxLoc(res)
    sb = sw[by:by + a.shape[0], bx:bx + a.shape[1]]
    diff = ((sa >= p.stroke_level) | (sb >= p.stroke_level)) & (np.abs(sa - sb) >= p.diff_level)
    strokes = max(1, int((sa >= p.stroke_level).sum()), int((sb >= p.stroke_level).sum()))
    if diff.sum() > p.max_share * strokes:
        return None
    bw = max(4, int(p.block_h * lh))
    cols = diff.sum(0)
    blocks = np.add.reduceat(cols, np.arange(0, cols.size, bw))
    if blocks.max() > p.max_block_share * bw * a.shape[0]:
        return None
    return dx0 + s - bx, dy0 + s - by


@dataclass
class _Seen:
    key: np.ndarray
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the recogniser's frame pixels (nan: unknown)
    txt: str
    score: float
    words: Any


class _RecCache:
    """Wraps rapidocr's recogniser: a line crop that shows the same text as a line read in the
    previous OCRed frame is not recognised again.

    Two kinds of "same". *Identical*: a 32-px-high thumbnail of the crop with mean grey
    difference <= 1.5 and 99.5th percentile <= 12 (captions and price stickers that hold still
    for minutes while the host moves). *Tracked*: the same text moved (a scrolling comment) over
    a background that changed, by position and strokes (``TrackParams``). One changed glyph
    (a price going from 199 to 189) fails both and forces a new recognition.
    """

    def __init__(self, inner: Any, track: TrackParams | None = None):
        self.inner = inner
        self.track = track
        self.prev: list[_Seen] = []
        self.cur: list[_Seen] = []
        self.boxes: list[tuple[float, float, float, float]] = []  # the detector's boxes of this frame
        self.gray: np.ndarray | None = None  # this frame, grey, in the boxes' pixels
        self.prev_gray: np.ndarray | None = None
        # the lines of this frame whose recognition was reused: (raw text, this box, why, the reused line's box)
        self.reused: list[tuple[str, tuple[float, float, float, float], str, tuple[float, float, float, float]]] = []
        self.ratio = (1.0, 1.0)  # the recogniser's frame pixels per analysis pixel (w, h)
        self.hits = self.misses = self.tracked = 0

    def next_frame(self) -> None:
        self.prev, self.cur = self.cur, []
        self.prev_gray, self.gray = self.gray, None
        self.boxes = []

    def _match(self, k: np.ndarray, box: tuple[float, float, float, float]) -> tuple[_Seen, str] | None:
        for pv in self.prev:
            if pv.key.shape == k.shape:
                d = np.abs(pv.key - k)
                if d.mean() <= 1.5 and np.percentile(d, 99.5) <= 12:
                    return pv, REUSED_SAME
        if self.track is None or self.gray is None or self.prev_gray is None or np.isnan(box[0]) \
                or self.gray.shape != self.prev_gray.shape:
            return None
        for pv in self.prev:
            if not pv.txt or np.isnan(pv.box[0]):
                continue
            shift = same_text_region(self.gray, self.prev_gray, box, pv.box, self.track)
            if shift is not None:
                dy = shift[1]
                where = f"moved {dy:+d} px vertically" if dy else "at the same place"
                return pv, (f"same text strokes as the line at {{box}} of the previous read frame{{frame}}, {where} "
                            "over a changed background; its recognition reused")
        return None

    def __call__(self, imgs: list[np.ndarray]) -> Any:
        from rapidocr.ch_ppocr_rec import TextRecOutput

        nan = float("nan")
        boxes = self.boxes if len(self.boxes) == len(imgs) else [(nan, nan, nan, nan)] * len(imgs)
        keys = [_crop_key(im) for im in imgs]
        txts: list[str] = [""] * len(imgs)
        scores: list[float] = [0.0] * len(imgs)
        words: list[Any] = [()] * len(imgs)
        todo: list[int] = []
        self.reused = []
        for i, k in enumerate(keys):
            match = self._match(k, boxes[i])
            if match is None:
                todo.append(i)
            else:
                pv, why = match
                txts[i], scores[i], words[i] = pv.txt, pv.score, pv.words
                self.reused.append((pv.txt, boxes[i], why, pv.box))
                self.tracked += why != REUSED_SAME
        self.hits += len(imgs) - len(todo)
        self.misses += len(todo)
        if todo:
            res = self.inner([imgs[i] for i in todo])
            wr = list(res.word_results) if res.word_results is not None else [()] * len(todo)
            for j, i in enumerate(todo):
                txts[i], scores[i] = res.txts[j], float(res.scores[j])
                words[i] = wr[j] if j < len(wr) else ()
        self.cur += [_Seen(k, bx, t, sc, w) for k, bx, t, sc, w in zip(keys, boxes, txts, scores, words, strict=True)]
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
    track_lines: bool = True  # ... and not those that moved with their text unchanged (TrackParams)
    threads: int = 0  # ONNX Runtime intra-op threads (0: all cores); not a setting of the result


class OcrEngine:
    """Lazy RapidOCR wrapper; one instance per process (the ONNX sessions cost ~1 s to build)."""

    def __init__(self, params: OcrParams | None = None):
        self.p = params or OcrParams()
        self._engine: Any = None
        self._cache: _RecCache | None = None

    def close(self) -> None:
        """Drop the ONNX sessions and the line cache (rebuilt on the next read)."""
        self._engine = None
        self._cache = None

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
                cache = self._cache = _RecCache(self._engine.recognize_txt,
                                                TrackParams() if self.p.track_lines else None)
                self._engine.recognize_txt = cache
                detect_and_crop = self._engine.detect_and_crop

                def detect_and_crop_boxes(img: np.ndarray, op_record: dict[str, Any]) -> Any:
                    # the detector's boxes and the picture they are in, for tracking lines
                    crops, det = detect_and_crop(img, op_record)
                    pts = [np.asarray(b, np.float32) for b in (det.boxes if det.boxes is not None else [])]
                    cache.boxes = [(*(float(v) for v in q.min(0)), *(float(v) for v in q.max(0))) for q in pts]
                    pad = op_record.get("padding_1") or {}
                    plain = not pad.get("top") and not pad.get("left") and img.ndim == 3
                    pre = op_record.get("preprocess") or {}
                    cache.ratio = (float(pre.get("ratio_w", 1.0)), float(pre.get("ratio_h", 1.0)))
                    cache.gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32) if plain else None
                    return crops, det

                self._engine.detect_and_crop = detect_and_crop_boxes
        return self._engine

    @property
    def line_reuse(self) -> tuple[int, int]:
        """(line crops whose recognition was reused, line crops recognised)."""
        return (self._cache.hits, self._cache.misses) if self._cache else (0, 0)

    @property
    def line_tracked(self) -> int:
        """Line crops whose recognition was reused because the same text moved (of ``line_reuse[0]``)."""
        return self._cache.tracked if self._cache else 0

    def read(self, image: LoadedImage, prev_frame: str = "") -> list[OcrLine]:
        """The text lines of ``image``; ``prev_frame`` names the previously read frame in notes."""
        engine = self._get()
        if self._cache is not None:
            self._cache.next_frame()
        res = engine(image.bgr)
        if res is None or res.boxes is None or res.txts is None:
            return []
        reused = self._cache.reused if self._cache else []
        rw, rh = self._cache.ratio if self._cache else (1.0, 1.0)
        lines: list[OcrLine] = []
        for poly, raw, score in zip(res.boxes, res.txts, res.scores, strict=False):
            text = normalize_ocr_text(raw)
            if not text:
                continue
            pts = np.asarray(poly, dtype=np.float32)
            x0, y0 = pts.min(0)
            x1, y1 = pts.max(0)
            box = image.to_original([float(x0), float(y0), float(x1 - x0), float(y1 - y0)])
            note = ""
            # the reused crop at this line's place (by text alone when the boxes were not seen)
            hit = next((r for r in reused if r[0] == raw and (np.isnan(r[1][0]) or (
                abs(r[1][0] - float(x0) * rw) <= 1.0 and abs(r[1][1] - float(y0) * rh) <= 1.0))), None)
            if hit is not None:
                _raw, _at, why, (px0, py0, px1, py1) = hit
                pbox = image.to_original([px0 / rw, py0 / rh, (px1 - px0) / rw, (py1 - py0) / rh])
                note = why.replace("{box}", "[" + ", ".join(f"{v:g}" for v in pbox) + "]") \
                    .replace("{frame}", f" {prev_frame}" if prev_frame else "")
            lines.append(OcrLine(text, raw, box, round(float(score), 4), rec_reused=note))
        return lines

    def read_file(self, path: Path, prev_frame: str = "") -> list[OcrLine]:
        return self.read(load_image(path), prev_frame)


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
        self._own_engine = engine is None  # an engine passed in is the caller's to keep or close
        self.engine = engine or OcrEngine(self.p)

    def params(self) -> dict[str, Any]:
        d = asdict(self.p)
        d.pop("threads")
        if self.p.reuse_lines and self.p.track_lines:
            d["track"] = asdict(TrackParams())  # when a moved line keeps its reading
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
                lines = self.engine.read_file(path, prev_frame=str(last["frame"]) if last else "")
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
        tracked = self.engine.line_tracked
        if self._own_engine:  # the stage is done with it: the stages after OCR need the memory
            self.engine.close()
            release()
        return {"frames": len(frames), "ocred": ocred, "reused": reused, "skipped": skipped,
                "line_crops_recognised": misses, "line_crops_reused": hits,
                "line_crops_tracked": tracked,
                "lines": len(out), "seconds": round(elapsed, 2),
                # this thread's CPU: all of OCR's when ONNX Runtime runs on one thread (side by side)
                "cpu_s": round(time.thread_time() - cpu0, 2),
                "seconds_per_ocred_frame": round(elapsed / ocred, 3) if ocred else None}
