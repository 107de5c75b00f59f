"""Visual detectors: ``masked_logo`` (tape, sticker, blur, mosaic) and ``logo_match`` (references).

Both read the sampled frames (``media/frames.json``) and any product-page images copied into
``CASE/pages/``. One analysis pass per case is shared by the two detectors (cached on the
frames/rules digests), so frames are decoded once.

What turns a per-frame candidate into evidence:
* persistence: a candidate seen again in the next sampled frame at a position consistent with
  the product's motion forms a track; a track is worth more than a single frame;
* location: when a reference product photo matches and its logo position is known, a candidate
  over that position, or a product whose logo is not found at all, is strong evidence.
Each finding carries a crop of the region (``evidence/crops/``, written atomically).
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..case import Case, atomic_write_bytes
from ..errors import InputError
from ..findings import Finding
from ..memory import release
from ..progress import Progress
from ..rules import RuleSet
from ..stage import env_threads
from ..vision.imageio import is_image_file, load_image
from ..vision.layout import Layout, case_layout
from ..vision.masking import MaskParams, MaskRegion, box_iou, find_masked_regions
from ..vision.references import (
    MarkCover,
    RefMatch,
    close_mark_reader,
    find_mark_covers,
    frame_features,
    load_references,
    match_references,
)
from .base import Detector, register

REPORT_MIN_CONFIDENCE = 0.5
MIN_TRACK_FRAMES = 3  # a cover on a product stays for the product's whole showing; chance patches do not
MIN_MARK_FRAMES = 2  # a reference mark must look covered in this many sampled frames of one run
MARK_GAP = 2  # ... a run bridges this many sampled frames without the cover seen
LOGO_PRESENT_NCC = 0.5  # reference-vs-frame correlation over the expected logo area meaning "logo visible"
CROPS = "evidence/crops"


@dataclass
class FrameResult:
    file: str  # case-relative
    t: float | None
    source: str  # frame | page
    reason: str  # frames.json reason (scene | interval | keyframe), "page" for page images
    width: int
    height: int
    regions: list[MaskRegion] = field(default_factory=list)  # boxes in original pixels
    matches: list[RefMatch] = field(default_factory=list)
    mark_covers: list[MarkCover] = field(default_factory=list)  # boxes in original pixels


@dataclass
class Track:
    kind: str
    items: list[tuple[FrameResult, MaskRegion]]

    @property
    def last(self) -> tuple[FrameResult, MaskRegion]:
        return self.items[-1]


def _frame_list(case: Case) -> list[tuple[str, float | None, str, str]]:
    out: list[tuple[str, float | None, str, str]] = []
    if case.frames_json.exists():
        frames = case.read_json(case.frames_json)
        if not isinstance(frames, list):
            raise InputError(f"{case.rel(case.frames_json)} is not a list of frames")
        out += [(str(f["file"]), f.get("t"), "frame", str(f.get("reason", ""))) for f in frames
                if isinstance(f, dict) and f.get("file")]
    pages = case.root / "pages"
    if pages.is_dir():
        out += [(case.rel(p), None, "page", "page") for p in sorted(pages.rglob("*")) if p.is_file() and is_image_file(p)]
    return out


_CACHE: dict[str, tuple[list[FrameResult], list[str]]] = {}


def _threads() -> int:
    """Cores for the per-frame work: LSF_THREADS (a batch job's share) or every core."""
    return max(1, env_threads() or os.cpu_count() or 1)


def analyse(case: Case, rules: RuleSet, progress: Progress, params: MaskParams | None = None) -> tuple[list[FrameResult], list[str]]:
    """Masking candidates and reference matches of every frame/page image (cached per inputs)."""
    h = hashlib.sha256(str(case.root).encode())
    if case.frames_json.exists():
        h.update(case.frames_json.read_bytes())
    h.update(rules.sha256.encode())
    h.update(repr(params or MaskParams()).encode())
    if case.ocr_json.exists():  # the layout's comment column comes from the OCR lines
        h.update(hashlib.sha256(case.ocr_json.read_bytes()).digest())
    pages = case.root / "pages"
    if pages.is_dir():
        h.update(repr(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in pages.rglob("*"))).encode())
    key = h.hexdigest()
    if key in _CACHE:
        return _CACHE[key]
    refs, notes = load_references(rules, progress)
    items = _frame_list(case)
    layout = case_layout(case)
    results: list[FrameResult] = []
    task = progress.task("visual", total=len(items))

    def one(item: tuple[str, float | None, str, str]) -> FrameResult | str:
        rel, t, source, reason = item
        try:
            img = load_image(case.root / rel)
        except InputError as exc:
            return f"{exc}; skipped"
        fr = FrameResult(rel, t, source, reason, img.orig_w, img.orig_h)
        # The platform's UI is drawn over every frame of the stream, not over product-page images.
        ui = layout.ui_mask(img.bgr.shape[1], img.bgr.shape[0]) if source == "frame" and \
            (layout.width, layout.height) == (img.orig_w, img.orig_h) else None
        for r in find_masked_regions(img.bgr, params, ui_mask=ui):
            r.box = img.to_original(r.box)
            fr.regions.append(r)
        if refs:  # SIFT of the frame once, for the reference match and the check of its marks
            feats = frame_features(img)
            fr.matches = match_references(img, refs, features=feats)
            fr.mark_covers = find_mark_covers(img, refs, ui, features=feats)
        return fr

    # Frames are independent and OpenCV/numpy release the GIL: one thread per core, results kept
    # in frame order (so the findings do not depend on the thread count).
    # OpenCV's own thread pool is turned off meanwhile: frame-level threads use the cores better
    # (measured on 249 frames of the benchmark stream with two reference images: 199 ms/frame
    # serial, 132 with two frame threads, 118 with OpenCV single-threaded inside them).
    threads = _threads()
    cv_threads = cv2.getNumThreads()
    if threads > 1:
        cv2.setNumThreads(1)
    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for res in pool.map(one, items):
                task.update(advance=1)
                if isinstance(res, str):
                    notes.append(res)
                    progress.log(res)
                else:
                    results.append(res)
    finally:
        cv2.setNumThreads(cv_threads)
        close_mark_reader()  # the marks are read (and cached): its OCR engine is not needed again
        release()
    task.close()
    _CACHE.clear()
    _CACHE[key] = (results, notes)
    return results, notes


_FAMILY = {"tape": "cover", "sticker": "cover", "blur": "blur", "mosaic": "mosaic"}


def _linked(a: MaskRegion, b: MaskRegion) -> bool:
    """Same cover in the next sampled frame: same family, similar size, moved at most its own size."""
    if _FAMILY.get(a.kind, a.kind) != _FAMILY.get(b.kind, b.kind):
        return False
    ax, ay, aw, ah = a.box
    bx, by, bw, bh = b.box
    if not (0.6 <= (bw * bh) / max(aw * ah, 1.0) <= 1.67):
        return False
    dist = ((ax + aw / 2 - bx - bw / 2) ** 2 + (ay + ah / 2 - by - bh / 2) ** 2) ** 0.5
    return dist <= 1.2 * max(aw, ah)


def build_tracks(results: list[FrameResult]) -> list[Track]:
    tracks: list[Track] = []
    open_: list[Track] = []
    for fr in (r for r in results if r.source == "frame"):
        if fr.reason == "scene":
            open_ = []  # a cut: what follows is another shot, not the same product moving
        nxt: list[Track] = []
        for reg in fr.regions:
            tr = next((t for t in open_ if t not in nxt and _linked(t.last[1], reg)), None)
            if tr is None:
                tr = Track(reg.kind, [])
                tracks.append(tr)
            tr.items.append((fr, reg))
            nxt.append(tr)
        open_ = nxt  # a track must be seen in consecutive sampled frames
    for fr in (r for r in results if r.source == "page"):
        tracks += [Track(reg.kind, [(fr, reg)]) for reg in fr.regions]
    return tracks


def _shift_error(ga: np.ndarray, gb: np.ndarray, va: np.ndarray, vb: np.ndarray, dx: float, dy: float) -> float:
    """Mean |a shifted by (dx, dy) - b| over pixels valid in both (blanked region excluded)."""
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    h, w = ga.shape
    sa = cv2.warpAffine(ga, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
    sv = cv2.warpAffine(va, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
    valid = (sv > 0) & (vb > 0)
    if valid.sum() < 100:
        return float("inf")
    return float(np.abs(sa - gb)[valid].mean())


def _motion_agreement(case: Case, tr: Track, frames: _FrameCache | None = None) -> tuple[int, int]:
    """(steps where the region moved with its surroundings, steps measured).

    The surroundings' shift is estimated by phase correlation of a window around the region with
    the region itself blanked. The region "moves with" its surface when shifting the surroundings
    by the region's own displacement matches the next frame about as well as the best shift: a
    band-like product (a belt moving along itself) matches any shift along it, so it agrees; a
    screen overlay that stays put over a moving textured product does not.

    "About as well": the error at the region's own shift (the best of 25 around it, for the box's
    jitter) is at most 1.15 x the error at the phase-correlation shift + 1 grey level. The shifts
    are tried nearest first and the search stops at the first one within that bound: the same
    decision as the minimum over all 25, without warping the rest.
    """
    frames = frames or _FrameCache(case)
    agree = measured = 0
    for (fa, ra), (fb, rb) in zip(tr.items, tr.items[1:], strict=False):
        a, b = frames.gray(fa.file), frames.gray(fb.file)
        if a is None or b is None:
            continue
        (ga_full, scale), (gb_full, _) = a, b
        if ga_full.shape != gb_full.shape:
            continue
        x, y, w, h = (v * scale for v in ra.box)
        m = max(w, h)
        x0, y0 = int(max(0, x - m)), int(max(0, y - m))
        x1, y1 = int(min(ga_full.shape[1], x + w + m)), int(min(ga_full.shape[0], y + h + m))
        if x1 - x0 < 16 or y1 - y0 < 16:
            continue
        ga = ga_full[y0:y1, x0:x1]
        gb = gb_full[y0:y1, x0:x1]
        valid = np.ones_like(ga, np.uint8)
        for bx, by, bw, bh in (ra.box, rb.box):
            cx0, cy0 = int(bx * scale) - x0 - 4, int(by * scale) - y0 - 4
            valid[max(0, cy0):max(0, cy0 + int(bh * scale) + 8), max(0, cx0):max(0, cx0 + int(bw * scale) + 8)] = 0
        mean_a, mean_b = ga[valid > 0].mean(), gb[valid > 0].mean()
        za, zb = (ga - mean_a) * valid, (gb - mean_b) * valid
        (sx, sy), _resp = cv2.phaseCorrelate(za, zb, cv2.createHanningWindow(za.shape[::-1], cv2.CV_32F))
        px = (rb.box[0] + rb.box[2] / 2 - ra.box[0] - ra.box[2] / 2) * scale
        py = (rb.box[1] + rb.box[3] / 2 - ra.box[1] - ra.box[3] / 2) * scale
        bound = 1.15 * _shift_error(ga, gb, valid, valid, sx, sy) + 1.0
        # the region's own box jitters by a few pixels between frames: allow +-3 px around it
        err_region = float("inf")
        for ex, ey in _JITTER:
            err_region = min(err_region, _shift_error(ga, gb, valid, valid, px + ex, py + ey))
            if err_region <= bound:
                break
        if not np.isfinite(err_region):
            continue
        measured += 1
        # err_region <= 1.15 * min(err_phase, err_region) + 1  <=>  err_region <= bound
        agree += err_region <= bound
    return agree, measured


# the 25 jitter offsets (+-3 px in 1.5-px steps), nearest first
_JITTER = sorted(((ex, ey) for ex in (-3, -1.5, 0, 1.5, 3) for ey in (-3, -1.5, 0, 1.5, 3)),
                 key=lambda e: (e[0] ** 2 + e[1] ** 2, e))


class _FrameCache:
    """Grey analysis-resolution frames for the tracks' steps, each decoded once.

    Consecutive steps of a track share a frame, and tracks of one product share frames: the
    frames of the last 8 are kept (grey, at analysis resolution)."""

    def __init__(self, case: Case, keep: int = 8):
        self.case, self.keep = case, keep
        self._d: dict[str, tuple[np.ndarray, float] | None] = {}

    def gray(self, rel: str) -> tuple[np.ndarray, float] | None:
        if rel not in self._d:
            try:
                img = load_image(self.case.root / rel)
                self._d[rel] = (cv2.cvtColor(img.bgr, cv2.COLOR_BGR2GRAY).astype("float32"), img.scale)
            except InputError:
                self._d[rel] = None
            while len(self._d) > self.keep:
                self._d.pop(next(iter(self._d)))
        return self._d[rel]


def _crop(case: Case, fr: FrameResult, box: list[float], tag: str) -> str | None:
    try:
        img = load_image(case.root / fr.file, max_side=100_000)
    except InputError:
        return None
    x, y, w, h = box
    m = 0.25 * max(w, h)
    x0, y0 = max(0, int(x - m)), max(0, int(y - m))
    x1, y1 = min(img.bgr.shape[1], int(x + w + m)), min(img.bgr.shape[0], int(y + h + m))
    crop = img.bgr[y0:y1, x0:x1].copy()
    cv2.rectangle(crop, (int(x - x0), int(y - y0)), (int(x - x0 + w), int(y - y0 + h)), (0, 0, 255), 2)
    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 92])
    if not ok:
        return None
    name = f"{Path(fr.file).stem}_{tag}_{int(x)}_{int(y)}.jpg"
    rel = f"{CROPS}/{name}"
    atomic_write_bytes(case.root / rel, buf.tobytes())
    return rel


_WHAT = {
    "tape": "a flat, single-coloured strip (tape) with sharp edges",
    "sticker": "a flat, single-coloured patch (a sticker)",
    "finger": "a skin-coloured, rounded shape (a finger or hand)",
    "blur": "an area where the product's fine texture is gone but its colours are smeared (a blur)",
    "mosaic": "a square-block pattern (mosaic pixelation)",
}


def _explain(reg: MaskRegion, layout: Layout | None) -> str:
    """Why a region was reported, in words a reader can check on the crop."""
    s = reg.scores
    parts = [f"{_WHAT.get(reg.kind, reg.kind)} covers part of a product"]
    if "on_product" in s:
        parts.append(f"{s['on_product']:.0%} of it lies on the sharp, in-focus object the camera is on, "
                     "so it is not the soft background")
    if "detail_ratio" in s:
        parts.append(f"the surface around it carries {s['detail_ratio']:.1f} times its fine detail")
    if s.get("pieces", 1) > 1:
        parts.append(f"its own print splits it into {s['pieces']} flat pieces of one colour, reported as one patch")
    if "outline_focus" in s:
        parts.append(f"it reaches over the product's edge or across its parts, with a sharp outline "
                     f"({s['outline_focus']:.0%} in focus, as a cover laid on the product is)")
    if "block_px" in s:
        parts.append(f"blocks of about {s['block_px']:.0f} px in both directions over {s.get('tiles', 0)} tiles")
        if s.get("full_resolution"):
            parts.append("found at the frame's full resolution, with its block borders off the 8-px compression grid")
    if layout is not None and (layout.ui_boxes or layout.comment_region):
        parts.append("the platform's on-screen UI (" + layout.describe() + ") was left out of the search")
    return "; ".join(parts)


def _shot_lengths(results: list[FrameResult]) -> dict[str, int]:
    """Sampled frames in each frame's shot (frames between two scene cuts)."""
    shots: list[list[str]] = []
    for fr in (r for r in results if r.source == "frame"):
        if fr.reason == "scene" or not shots:
            shots.append([])
        shots[-1].append(fr.file)
    return {f: len(sh) for sh in shots for f in sh}


def _write_layout(case: Case, layout: Layout) -> None:
    """The layout the visual detectors used, as evidence (``evidence/layout.json``)."""
    import json

    if layout.width:
        atomic_write_bytes(case.root / "evidence" / "layout.json",
                           json.dumps(layout.to_dict(), ensure_ascii=False, indent=1).encode())


def _expected_logo(fr: FrameResult) -> list[tuple[RefMatch, list[float]]]:
    return [(m, m.expected_logo_box) for m in fr.matches if m.kind == "product" and m.expected_logo_box]


@register
class MaskedLogoDetector(Detector):
    name = "visual.masking"
    order = 50

    def __init__(self, params: MaskParams | None = None):
        self.p = params or MaskParams()

    def inputs(self, case: Case) -> list[Path]:
        return [case.frames_json, case.frames_dir, case.root / "pages", case.ocr_json]

    def params(self) -> dict[str, Any]:
        return {"min_confidence": REPORT_MIN_CONFIDENCE, "version": 5, "mask": asdict(self.p),
                "min_track_frames": MIN_TRACK_FRAMES, "min_mark_frames": MIN_MARK_FRAMES, "mark_gap": MARK_GAP}

    def detect(self, case: Case, rules: RuleSet, prior: list[Finding], progress: Progress) -> list[Finding]:
        results, _notes = analyse(case, rules, progress, self.p)
        layout = case_layout(case)
        _write_layout(case, layout)
        shot_len = _shot_lengths(results)
        frames = _FrameCache(case)
        findings: list[Finding] = []
        for tr in build_tracks(results):
            fr0, reg0 = tr.items[0]
            frl, _ = tr.last
            shot = shot_len.get(fr0.file, 1)
            if fr0.source == "frame" and len(tr.items) < (MIN_TRACK_FRAMES if shot >= 2 * MIN_TRACK_FRAMES else min(2, shot)):
                continue  # fewer consecutive sampled frames than a cover on a product shown this long
            conf = max(r.confidence for _, r in tr.items)
            persisted = len(tr.items) >= 2
            conf = min(0.97, conf + 0.1) if persisted else conf * 0.85
            agree, measured = _motion_agreement(case, tr, frames) if persisted else (0, 0)
            if measured and agree < measured:
                conf -= 0.15  # does not follow the surface it sits on: an overlay, or a tracking mix-up
            where = ""
            brand = None
            for m, exp in _expected_logo(fr0):
                if box_iou(exp, reg0.box) >= 0.2:
                    conf = min(0.99, conf + 0.15)
                    brand = m.brand
                    where = f"; it sits where {m.brand}'s logo is on the matched reference {m.reference}"
            if conf < REPORT_MIN_CONFIDENCE:
                continue
            crop = _crop(case, fr0, reg0.box, reg0.kind)
            moved = ""
            if persisted:
                dx = tr.last[1].box[0] - reg0.box[0]
                moved = (f"; seen in {len(tr.items)} consecutive sampled frames (moved {dx:+.0f} px horizontally; "
                         f"moved with the surrounding surface in {agree} of {measured} steps)")
                if measured and agree < measured:
                    moved += "; it does not follow the surface under it: possibly a screen overlay"
            findings.append(Finding(
                kind="masked_logo", source="page" if fr0.source == "page" else "frame",
                start=fr0.t, end=frl.t, rule=f"visual/masking.{reg0.kind}",
                severity="high" if conf >= 0.8 else "medium", confidence=round(conf, 3), match="visual",
                brand=brand, term=reg0.kind, matched=reg0.kind,
                evidence=[fr0.file] + ([crop] if crop else []) + ([frl.file] if frl.file != fr0.file else []),
                bbox=reg0.box,
                explanation=_explain(reg0, layout if fr0.source == "frame" else None) + moved + where,
                extra={"scores": reg0.scores},
            ))
        findings += self._mark_cover_findings(case, results, shot_len)
        # A matched product whose own logo is not visible on it: covered or removed. Consecutive
        # frames with the same product extend one finding.
        open_: dict[tuple[str, str], Finding] = {}
        for fr in results:
            if fr.reason == "scene":
                open_ = {}  # a cut starts a new shot: do not extend findings across it
            logos_seen = {m.brand for m in fr.matches if m.kind == "logo"}
            seen: dict[tuple[str, str], Finding] = {}
            for m, exp in _expected_logo(fr):
                if m.brand in logos_seen or m.extra.get("logo_ncc", 0.0) >= LOGO_PRESENT_NCC:
                    continue  # the logo is there (by keypoints, or by appearance where it should be)
                key = (m.brand, m.reference)
                covered = next((r for r in fr.regions if box_iou(r.box, exp) >= 0.2), None)
                f = open_.get(key) if fr.source == "frame" else None
                if f is not None:
                    f.end = fr.t
                    f.extra["frames"] = f.extra.get("frames", 1) + 1
                    if covered and f.confidence < 0.9:
                        f.confidence, f.term = 0.9, covered.kind
                    seen[key] = f
                    continue
                crop = _crop(case, fr, exp, "logo-absent")
                f = Finding(
                    kind="masked_logo", source="page" if fr.source == "page" else "frame", start=fr.t, end=fr.t,
                    rule=f"references/{m.brand}", severity="high", confidence=0.9 if covered else 0.75,
                    match="visual", brand=m.brand, term=covered.kind if covered else "logo_absent",
                    matched=m.reference, evidence=[fr.file] + ([crop] if crop else []), bbox=exp,
                    explanation=(f"product reference {m.reference} matches ({m.inliers} SIFT inliers) but the "
                                 f"{m.brand} logo is not visible where the reference shows it"
                                 + (f"; a {covered.kind} region covers that spot" if covered else "")),
                )
                findings.append(f)
                seen[key] = f
            if fr.source == "frame":
                open_ = seen
        return findings

    def _mark_cover_findings(self, case: Case, results: list[FrameResult], shot_len: dict[str, int]) -> list[Finding]:
        """A matched reference product whose printed mark (name, wordmark, logo) the frame does not
        show: one finding per product and run of sampled frames (gaps of up to MARK_GAP). A run must hold
        MIN_MARK_FRAMES frames (fewer only in a shorter shot): a cover stays while the product is shown."""
        runs: list[list[tuple[FrameResult, MarkCover]]] = []
        # (brand, reference) -> (its run, index of the run's last frame); a run bridges up to
        # MARK_GAP sampled frames where the mark was not judged covered (a frame where the product
        # was not matched, or the mark was at the picture's edge), never a scene cut.
        open_: dict[tuple[str, str], tuple[list[tuple[FrameResult, MarkCover]], int]] = {}
        for i, fr in enumerate(results):
            if fr.reason == "scene" or fr.source != "frame":
                open_ = {}
            for mc in fr.mark_covers:
                key = (mc.brand, mc.reference)
                run, last = open_.get(key, (None, -1))
                if run is not None and last == i:
                    continue  # one entry per product and frame
                if run is None or i - last > MARK_GAP + 1 or fr.source != "frame":
                    run = []
                    runs.append(run)
                run.append((fr, mc))
                open_[key] = (run, i)
        out: list[Finding] = []
        for run in runs:
            fr0, mc0 = run[0]
            frl = run[-1][0]
            if fr0.source == "frame" and len(run) < min(MIN_MARK_FRAMES, shot_len.get(fr0.file, 1)):
                continue
            fr, mc = max(run, key=lambda x: x[1].covered)
            crop = _crop(case, fr, mc.box, "mark-covered")
            n = (f"; seen in {len(run)} sampled frames from {fr0.t:.0f} s to {frl.t:.0f} s" if len(run) > 1 and fr0.t is not None
                 else "")
            out.append(Finding(
                kind="masked_logo", source="page" if fr0.source == "page" else "frame", start=fr0.t, end=frl.t,
                rule=f"references/{mc.brand}", severity="high", confidence=0.9 if len(run) > 1 else 0.8,
                match="visual", brand=mc.brand, term="mark_covered", matched=mc.reference,
                evidence=[fr.file] + ([crop] if crop else []) + ([frl.file] if frl.file != fr.file else []),
                bbox=mc.box, explanation=mc.explain() + n,
                extra={"scores": {"covered": mc.covered, "ncc": mc.ncc, "detail": mc.detail, "inliers": mc.inliers},
                       "mark": mc.mark, "frames": len(run)},
            ))
        return out


@register
class LogoMatchDetector(Detector):
    name = "visual.references"
    order = 50

    def params(self) -> dict[str, Any]:
        return {"version": 1, "min_inliers": 12}

    def inputs(self, case: Case) -> list[Path]:
        return [case.frames_json, case.frames_dir, case.root / "pages"]

    def detect(self, case: Case, rules: RuleSet, prior: list[Finding], progress: Progress) -> list[Finding]:
        if not rules.reference_dirs:
            return []
        results, _notes = analyse(case, rules, progress)
        findings: list[Finding] = []
        open_: dict[tuple[str, str], Finding] = {}
        for fr in results:
            if fr.reason == "scene":
                open_ = {}  # a cut starts a new shot: do not extend findings across it
            seen: dict[tuple[str, str], Finding] = {}
            for m in fr.matches:
                key = (m.brand, m.reference)
                f = open_.get(key) if fr.source == "frame" else None
                if f is not None:  # same reference in consecutive frames: extend the finding
                    f.end = fr.t
                    f.confidence = max(f.confidence, m.confidence)
                    seen[key] = f
                    continue
                crop = _crop(case, fr, m.box, "ref")
                f = Finding(
                    kind="logo_match", source="page" if fr.source == "page" else "frame", start=fr.t, end=fr.t,
                    rule=f"references/{m.brand}", severity="medium", confidence=m.confidence, match="visual",
                    brand=m.brand, term=m.reference, matched=m.kind, bbox=m.box,
                    evidence=[fr.file] + ([crop] if crop else []),
                    explanation=(f"{m.brand} reference {m.kind} {m.reference} found: {m.inliers} SIFT/RANSAC "
                                 f"inliers (ratio {m.inlier_ratio}), phash distance {m.phash_distance}"),
                )
                findings.append(f)
                seen[key] = f
            if fr.source == "frame":
                open_ = seen
        return findings
