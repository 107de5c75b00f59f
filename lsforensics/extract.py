"""``lsf extract``: hash and probe the source, then audio and frames, as three resumable stages.

* ``extract.source`` -> ``source.json`` (path, size, mtime, sha256 + sha512, probe, packet scan)
* ``extract.audio``  -> ``media/audio.wav`` (16 kHz mono s16le; absent when there is no audio)
* ``extract.frames`` -> ``media/frames/`` + ``media/frames.json``

Each is a :class:`~lsforensics.stage.Stage`, so rerunning with the same source and parameters
is a no-op and a killed run is redone from the first unfinished stage.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import imagehash
import numpy as np
from PIL import Image

from . import case_options, media
from .case import Case, atomic_folder, atomic_output, atomic_write_json, safe_file_name
from .case_options import Settled
from .case_run import SealOptions, Step, check_signed_reseal, reseal, run_step, seal_signer
from .errors import InputError, StageError
from .evidence.hashing import FileDigest, sha256_file
from .progress import NullProgress, Progress
from .stage import DIGESTS, Stage, StageResult

SOURCE_SCHEMA = "lsf.source/1"


@dataclass(frozen=True)
class FrameParams:
    interval: float = 2.0  # seconds between interval samples
    scene_threshold: float = 0.1  # ffmpeg-style scene score (min(mafd, |Δmafd|)/100); see docs
    mode: str = "auto"  # auto | keyframes | full
    dedup_distance: int = 4  # drop an interval frame whose 64-bit phash is this close to the last kept
    max_width: int = 1920  # larger frames are scaled down (8K sources), aspect kept
    max_hold: float = 10.0  # keep a frame at least this often even when nothing changed

    def validate(self) -> None:
        if not 0.1 <= self.interval <= 3600:
            raise InputError(f"--interval must be between 0.1 and 3600 s (got {self.interval})")
        if not 0 < self.scene_threshold <= 1:
            raise InputError(f"--scene-threshold must be in (0, 1] (got {self.scene_threshold})")
        if self.mode not in ("auto", "keyframes", "full"):
            raise InputError(f"--mode must be auto, keyframes or full (got {self.mode})")
        if self.max_hold < self.interval:
            raise InputError(f"--max-hold must be at least the interval ({self.interval} s)")
        if not 0 <= self.dedup_distance <= 32:
            raise InputError(f"--dedup must be between 0 and 32 (got {self.dedup_distance})")


def check_source(path: Path) -> Path:
    """Fail early, with one clear line, on anything that cannot be a readable media file."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a video file")
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: not a regular file")
    if st.st_size == 0:
        raise InputError(f"{path}: file is empty (0 bytes)")
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except PermissionError:
        raise InputError(f"{path}: permission denied (cannot read the file)") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    return path


def _video_stream(probe: dict[str, Any]) -> dict[str, Any] | None:
    idx = probe.get("video_stream")
    return next((s for s in probe["streams"] if s["index"] == idx), None) if idx is not None else None


def _audio_stream(probe: dict[str, Any]) -> dict[str, Any] | None:
    idx = probe.get("audio_stream")
    return next((s for s in probe["streams"] if s["index"] == idx), None) if idx is not None else None


@contextlib.contextmanager
def pinned_source(video: Path, certified: str | None) -> Iterator[media.PinnedSource]:
    """Open the source once for a stage and check it is the file the case certifies.

    ``certified`` is the sha256 in case.json/source.json; the file is hashed only when it is not
    the very file (same device, inode, size, mtime and ctime) hashed before in this process. A
    source replaced or edited since it was hashed is refused, so no stage ever reads other bytes
    than the ones source.json names (and the custody log records for its input)."""
    with media.PinnedSource(video) as pin:
        digest = DIGESTS.full(Path(pin.name))
        if certified and digest.sha256 != certified:
            raise InputError(f"{video}: not the file this case certifies (sha256 {digest.sha256[:16]}…, the case "
                             f"says {certified[:16]}…): it was replaced or changed after it was hashed")
        yield pin


def _case_clock_zero(probe: dict[str, Any]) -> float:
    """The case's t=0: the video start (the audio start for an audio-only recording)."""
    s = _video_stream(probe) or _audio_stream(probe) or {}
    return s.get("start_time") or 0.0


class SourceStage(Stage):
    name = "extract.source"
    version = 2  # 2: completeness (packets of every stream vs the container's duration)

    def __init__(self, video: Path):
        self.video = video

    def inputs(self, case: Case) -> list[Path]:
        return [self.video]

    def outputs(self, case: Case) -> list[Path]:
        return [case.source_json]

    def run(self, case: Case, progress: Progress) -> dict[str, Any]:
        with pinned_source(self.video, case.info.get("source_sha256")) as pin:
            digest = DIGESTS.full(Path(pin.name))
            probe = media.probe(pin.name, display=self.video, pass_fds=pin.fds)
            vs = _video_stream(probe)
            scan = media.scan_packets(pin.name, vs["index"] if vs else None, _case_clock_zero(probe),
                                      pass_fds=pin.fds, display=self.video)
            completeness = media.settle_duration(probe, scan)
            pin.check_unchanged("it was hashed and probed")
            st = os.fstat(pin.fd)
        packets = scan.to_json() if vs is not None else None
        doc = {
            "schema": SOURCE_SCHEMA,
            "path": str(self.video.absolute()),
            "name": self.video.name,
            "size": digest.size,
            "mtime": datetime.fromtimestamp(st.st_mtime, UTC).isoformat().replace("+00:00", "Z"),
            "sha256": digest.sha256,
            "sha512": digest.sha512,
            "probe": probe,
            "packets": packets,
            "vfr": packets["vfr"] if packets else None,
            "completeness": completeness,
            "ffmpeg": media.ffmpeg_version(),
        }
        atomic_write_json(case.source_json, doc)
        return {"sha256": digest.sha256, "duration": probe["duration"],
                "video": vs is not None, "audio": probe["audio_stream"] is not None,
                "partial": completeness["partial"], "notes": completeness["notes"]}


def _wav_seconds(path: Path) -> float:
    return max(0, path.stat().st_size - 44) / 2 / 16000


def _audio_expected(source: dict[str, Any], decoded: float) -> float | None:
    """Where the audio packets end, when the decoded audio falls short of it (else None)."""
    a = _audio_stream(source.get("probe") or {}) if isinstance(source.get("probe"), dict) else None
    comp = source.get("completeness")
    ends = comp.get("stream_ends") if isinstance(comp, dict) else None
    expected = ends.get(str(a["index"])) if a and isinstance(ends, dict) else None
    if isinstance(expected, int | float) and decoded < expected - max(1.0, 0.02 * expected):
        return float(expected)
    return None


class AudioStage(Stage):
    name = "extract.audio"

    def __init__(self, video: Path):
        self.video = video

    def params(self) -> dict[str, Any]:
        return {"sample_rate": 16000, "channels": 1, "codec": "pcm_s16le"}

    def inputs(self, case: Case) -> list[Path]:
        return [self.video]

    def outputs(self, case: Case) -> list[Path]:
        return [case.audio]

    def run(self, case: Case, progress: Progress) -> dict[str, Any]:
        source = case.source
        probe = source["probe"]
        a = _audio_stream(probe)
        if a is None:
            case.audio.unlink(missing_ok=True)
            return {"audio": None, "note": "source has no audio stream; speech stages will skip"}
        v = _video_stream(probe)
        v_start = (v or {}).get("start_time") or 0.0
        a_start = a.get("start_time") or 0.0
        offset = round(a_start - v_start, 6) if v else 0.0
        total = probe["duration"]
        task = progress.task("audio", total=total)
        with pinned_source(self.video, source.get("sha256")) as pin, atomic_output(case.audio) as tmp:
            warnings = media.extract_audio(
                pin.name, tmp, stream_index=a["index"], offset=offset, progress=lambda t: task.update(t),
                pass_fds=pin.fds,
            )
            # Checked before the rename: an unfinished WAV never appears under its final name.
            problem = media.wav_problem(tmp)
            if problem:
                raise InputError(f"audio extraction did not finish ({problem}); nothing was kept: check the "
                                 f"free space on {case.root} and rerun the same command")
            pin.check_unchanged("its audio was decoded")
            decoded = _wav_seconds(tmp)
        task.close()
        return {
            "audio": {"stream": a["index"], "choice": probe.get("audio_stream_choice"), "codec": a["codec"],
                      "offset": offset, "duration": round(decoded, 3)},
            "complete": _audio_expected(source, decoded) is None,
            "ffmpeg_warnings": [w for w in warnings if "error" in w.lower()][:20],
        }


def media_limitations(case: Case) -> list[tuple[str, str]]:
    """Report limitation lines (zh, en) when the source was not complete media: cut short, a header
    that claims more (or less) than the streams hold, damaged data, or audio that decoded short."""
    try:
        source = case.source
    except InputError:
        return []
    comp = source.get("completeness") if isinstance(source, dict) else None
    if not isinstance(comp, dict):
        return []
    out: list[tuple[str, str]] = []
    header, content = comp.get("container_duration"), comp.get("content_duration")
    if comp.get("partial") and isinstance(header, int | float) and isinstance(content, int | float):
        out.append((f"源文件不完整或其文件头不实：容器声明时长 {header:.1f} 秒，音视频数据只到 {content:.1f} 秒。分析只覆盖能读取的部分，"
                    "报告中的时长按实际数据计算。",
                    f"The source file is incomplete or its header is wrong: the container claims {header:.1f} s, but "
                    f"its audio and video data end at {content:.1f} s. The analysis covers only what could be read; "
                    "durations in this report are those of the data."))
    errors = [e for e in comp.get("demux_errors") or [] if isinstance(e, str)]
    if comp.get("partial") and errors:
        out.append(("读取源文件时发现损坏或缺失的数据：" + "；".join(errors[:3]),
                    "Reading the source found damaged or missing data: " + "; ".join(errors[:3])))
    decoded = _wav_seconds(case.audio) if case.audio.is_file() else None
    expected = _audio_expected(source, decoded) if decoded is not None else None
    if decoded is not None and expected is not None:
        out.append((f"音频只解码出 {decoded:.1f} 秒（数据到 {expected:.1f} 秒）：其后的语音未被分析。",
                    f"The audio decoded to {decoded:.1f} s only (its data run to {expected:.1f} s): speech after "
                    "that was not analysed."))
    return out


@dataclass
class _FrameFacts:
    size: tuple[int, int]
    gray: np.ndarray  # 64x36 grayscale for scene scores
    phash: imagehash.ImageHash
    sha256: str


def _facts(path: Path) -> _FrameFacts:
    """Everything selection needs from one JPEG, from a fast reduced decode (JPEG DCT scaling).

    Runs on a thread pool: Pillow's decoder and hashlib release the GIL.
    """
    with Image.open(path) as im:
        size = im.size
        im.draft("L", (160, 90))
        thumb = im.convert("L").resize((64, 36), Image.Resampling.BILINEAR)
    return _FrameFacts(size, np.asarray(thumb, dtype=np.float32), imagehash.phash(thumb.resize((64, 64))),
                       sha256_file(path))


class FramesStage(Stage):
    name = "extract.frames"

    def __init__(self, video: Path, params: FrameParams):
        params.validate()
        self.video, self.p = video, params

    def params(self) -> dict[str, Any]:
        return asdict(self.p)

    def inputs(self, case: Case) -> list[Path]:
        return [self.video]

    def outputs(self, case: Case) -> list[Path]:
        return [case.frames_dir, case.frames_json]

    def choose_mode(self, source: dict[str, Any]) -> str:
        if self.p.mode != "auto":
            return self.p.mode
        packets = source.get("packets") or {}
        keys = packets.get("keyframes") or []
        duration = source["probe"]["duration"]
        if len(keys) < 2:
            return "full"
        gaps = [b - a for a, b in zip([*keys, duration], [*keys[1:], duration], strict=False)]
        gaps = [g for g in gaps if g > 0]
        return "keyframes" if max(gaps, default=duration) <= 1.5 * self.p.interval else "full"

    def run(self, case: Case, progress: Progress) -> dict[str, Any]:
        source = case.source
        probe = source["probe"]
        v = _video_stream(probe)
        if v is None:
            shutil.rmtree(case.frames_dir, ignore_errors=True)
            case.frames_json.unlink(missing_ok=True)
            return {"frames": 0, "note": "source has no video stream"}
        mode = self.choose_mode(source)
        start = v.get("start_time") or 0.0
        fps = media._ratio(v.get("avg_frame_rate")) or media._ratio(v.get("r_frame_rate")) or 25.0
        task = progress.task(f"frames ({mode})", total=probe["duration"])
        with pinned_source(self.video, source.get("sha256")) as pin, atomic_folder(case.frames_dir) as staging:
            raw_dir = staging / ".raw"
            raw_dir.mkdir()
            raw = media.decode_frames(
                pin.name, raw_dir, stream_index=v["index"], mode=mode, interval=self.p.interval,
                scene_threshold=self.p.scene_threshold, max_width=self.p.max_width,
                progress=lambda t: task.update(t), pass_fds=pin.fds,
            )
            pin.check_unchanged("its frames were decoded")
            entries, stats = self._select(raw, staging, start=start, fps=fps, mode=mode)
            shutil.rmtree(raw_dir)
            if not entries:
                raise StageError("no frame could be decoded from the video stream")
        task.close()
        atomic_write_json(case.frames_json, entries)
        return {"mode": mode, **stats}

    def _select(
        self, raw: list[media.RawFrame], staging: Path, *, start: float, fps: float, mode: str
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        half_frame = 0.5 / fps
        entries: list[dict[str, Any]] = []
        last_t: float | None = None
        last_kept_t = float("-inf")
        last_hash: imagehash.ImageHash | None = None
        prev_arr: np.ndarray | None = None
        prev_mafd = 0.0
        dropped_dup = skipped = 0
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            facts = list(pool.map(_facts, [rf.path for rf in raw]))
        for rf, fact in zip(raw, facts, strict=True):
            t = round(rf.pts_time - start, 3)
            arr = fact.gray
            if mode == "keyframes":
                # Mirror ffmpeg's select scene score between consecutive keyframes.
                if prev_arr is None:
                    score = 0.0
                else:
                    mafd = float(np.abs(arr - prev_arr).mean())
                    score = min(min(mafd, abs(mafd - prev_mafd)) / 100.0, 1.0)
                    prev_mafd = mafd
                prev_arr = arr
            else:
                score = rf.scene_score or 0.0
            is_scene = last_t is not None and score > self.p.scene_threshold
            due = last_t is None or t - last_t >= self.p.interval - half_frame
            if not (is_scene or due):
                skipped += 1
                continue
            ph = fact.phash
            held_long = t - last_kept_t >= self.p.max_hold - half_frame
            if not is_scene and not held_long and last_hash is not None and ph - last_hash <= self.p.dedup_distance:
                dropped_dup += 1
                last_t = t  # the sampling clock moves on; the picture did not change
                continue
            name = f"{int(round(t * 1000)):09d}.jpg"
            final = staging / name
            if final.exists():
                skipped += 1
                continue
            os.replace(rf.path, final)
            w, h = fact.size
            reason = "scene" if is_scene else ("keyframe" if mode == "keyframes" and last_t is not None else "interval")
            entries.append({
                "file": f"media/frames/{name}", "t": t, "reason": reason, "sha256": fact.sha256,
                "width": w, "height": h, "phash": str(ph), "scene_score": round(score, 4),
            })
            last_t, last_kept_t, last_hash = t, t, ph
        return entries, {"frames": len(entries), "candidates": len(raw),
                         "dropped_near_duplicates": dropped_dup, "not_due": skipped}


@dataclass
class ExtractResult:
    case: Path
    sha256: str
    stages: list[StageResult]
    report: dict[str, Any] | None = None  # the reseal, when a sealed case changed

    def to_json(self) -> dict[str, Any]:
        return {
            "case": str(self.case),
            "source_sha256": self.sha256,
            "stages": [{"name": s.name, "skipped": s.skipped, "reason": s.reason, "outputs": s.outputs,
                        "result": s.result} for s in self.stages],
            "resealed": self.report,
        }


@dataclass
class PreparedSource:
    """A source checked, hashed and probed, and the case folder it goes to (nothing written yet)."""

    video: Path
    digest: FileDigest
    root: Path
    existed: bool  # the case folder was there before this run (never removed on failure)


def prepare_extract(video: str | os.PathLike[str], case_dir: str | os.PathLike[str] | None, frames: FrameParams,
                    progress: Progress) -> PreparedSource:
    """Everything about the source that can fail, before any case folder is touched."""
    frames.validate()
    src = check_source(Path(video))
    size = src.stat().st_size
    task = progress.task("hash source", total=size)
    digest: FileDigest = DIGESTS.full(src, progress=lambda n: task.update(advance=n))
    task.close()
    media.probe(src)  # validate before anything is written
    root = Path(case_dir) if case_dir else default_case_dir(src, digest.sha256)
    Case(root).check_folder()
    return PreparedSource(src, digest, root, root.exists())


def extract_locked(case: Case, prep: PreparedSource, *, frames: FrameParams, operator: str | None = None,
                   progress: Progress | None = None, argv: list[str] | None = None,
                   force: bool = False, options: Settled | None = None,
                   stream: Settled | None = None) -> ExtractResult:
    """Create the case (if new) and run the extract stages; the caller holds ``case.locked()``.

    ``options``: the settled ``extract`` options (recorded in case.json before the frames stage
    runs); ``stream``: the stream's platform, room, … (case.json ``stream``).

    The identity checks (another source's case, a folder that is not a case) happen here, under
    the lock, so a second lsf process can neither slip in between nor see a half-made case."""
    progress = progress or NullProgress()
    src, digest, root = prep.video, prep.digest, case.root
    results: list[StageResult] = []
    try:
        if case.exists():
            known = case.info.get("source_sha256")
            if known and known != digest.sha256:
                raise InputError(f"case {root} belongs to another source (sha256 {known[:12]}…, this file "
                                 f"{digest.sha256[:12]}…)")
        elif prep.existed and any(root.iterdir()):
            raise InputError(f"{root} exists and is not an lsf case (no case.json); choose another -C folder")
        case.create(operator=operator, source_sha256=digest.sha256)
        if stream is not None:
            case_options.record(case, stream, argv=argv, operator=operator)
        for stage in (SourceStage(src), AudioStage(src), FramesStage(src, frames)):
            step = Step(stage, options if isinstance(stage, FramesStage) else None)
            results.append(run_step(case, step, progress=progress, argv=argv, force=force, operator=operator))
    except BaseException:
        # A case made by this very call and never completed a stage is removed, so bad input
        # leaves nothing behind; an existing case keeps what earlier stages finished.
        if not prep.existed and not results:
            shutil.rmtree(root, ignore_errors=True)
        raise
    return ExtractResult(case.root, digest.sha256, results)


def default_case_dir(video: Path, sha256: str, base: Path | None = None) -> Path:
    return (base or Path.cwd() / "cases") / f"{safe_file_name(video.stem, max_len=80, default='video')}-{sha256[:8]}"


def extract(
    video: str | os.PathLike[str],
    case_dir: str | os.PathLike[str] | None = None,
    *,
    frames: FrameParams | None = None,
    operator: str | None = None,
    progress: Progress | None = None,
    argv: list[str] | None = None,
    force: bool = False,
    given: frozenset[str] | set[str] | None = None,
    ambient: dict[str, tuple[Any, str]] | None = None,
    seal: SealOptions | None = None,
) -> ExtractResult:
    """Create or refresh a case from a video. Nothing is created when the input is not media.

    Frame options not in ``given`` (default: those that differ from :class:`FrameParams`'s
    defaults) are the case's recorded ones; a given one that differs from the record needs
    ``force`` (:mod:`lsforensics.case_options`). A sealed case that this changes is resealed
    (a signed one needs ``seal.sign_key``)."""
    progress = progress or NullProgress()
    frames = frames or FrameParams()
    prep = prepare_extract(video, case_dir, frames, progress)
    case = Case(prep.root)
    with case.locked():
        settled = case_options.settle_values(case if case.exists() else None, "extract",
                                             case_options.frame_values(frames), case_options.frame_values(FrameParams()),
                                             given=given, ambient=ambient, force=force)
        frames = replace(frames, **settled.values)
        frames.validate()
        seal = seal or SealOptions()
        sealed = case.exists() and seal_signer(case) is not None
        if sealed:
            check_signed_reseal(case, [SourceStage(prep.video), AudioStage(prep.video), FramesStage(prep.video, frames)],
                                seal, force=force)
        out = extract_locked(case, prep, frames=frames, operator=operator, progress=progress, argv=argv,
                             force=force, options=settled)
        if sealed and any(not s.skipped for s in out.stages):
            out.report = reseal(case, seal, argv=argv, operator=operator, progress=progress).to_json()
        return out
