"""Issue 12, items 9-13 and 15: hostile or careless input gets one line and exit 2, never a
traceback, and never reaches outside what it names; options are checked before the case is
touched; one lock covers a whole analyze.

Every command runs as a user would (the installed `lsf`, real exit codes); cases are copies of one
real extracted case (tests/test_evidence_helpers.py), so each test costs seconds.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from conftest import run_lsf
from test_evidence_helpers import VIDEO, FindingsFixtureStage, build_case, extracted_base, realistic_findings

from lsforensics.case import Case
from lsforensics.progress import NullProgress
from lsforensics.stage import run_stage

pytestmark = pytest.mark.slow


def _one_line(proc, prefix: str = "lsf: error: ") -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(prefix), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.fixture
def case(tmp_path, test_cache, realdata) -> Case:
    return build_case(tmp_path / "case", test_cache, realdata)


def _jpeg(path: Path, color: tuple[int, int, int] = (200, 30, 30)) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 48), color).save(path, "JPEG")
    return path


# -- item 9: a page can only bring in images saved with it ------------------------------------
def test_page_images_outside_the_page_folder_are_not_copied(case, tmp_path, test_cache, realdata):
    page_dir = tmp_path / "saved-page"
    _jpeg(page_dir / "img" / "product.jpg")
    outside = _jpeg(tmp_path / "outside.jpg", (0, 0, 200))
    os.symlink(outside, page_dir / "img" / "link.jpg")
    other_frame = sorted((extracted_base(test_cache, realdata) / "media" / "frames").glob("*.jpg"))[0]
    refs = ["img/product.jpg", str(other_frame), "../outside.jpg", "img/link.jpg", "img/%2e%2e/../outside.jpg",
            "https://cdn.example.com/p.jpg"]
    page = page_dir / "page.yaml"
    page.write_text("title: 小香 经典款\nprice: 390\nattributes: {材质: PU}\nimages:\n"
                    + "".join(f"  - {json.dumps(r)}\n" for r in refs), encoding="utf-8")
    proc = run_lsf("claims", "-C", case.root, "--page", page)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    for bad in refs[1:5]:
        assert f"warning: image {bad} not copied: it is outside the page's folder {page_dir}" in proc.stdout, bad
    doc = json.loads((case.root / "pages.json").read_text(encoding="utf-8"))["pages"][0]
    assert doc["images"] == ["pages/01-images/00-product.jpg", *refs[1:]]
    copied = sorted(p.name for p in (case.root / "pages").rglob("*") if p.is_file())
    assert copied == ["00-product.jpg", "01-page.yaml"], copied


# -- items 10 and 11: odd chat and source file names -------------------------------------------
def test_chat_files_with_a_leading_dot_a_newline_or_gbk_bytes(case, tmp_path):
    files = {".hidden-chat.jsonl": "藏起来的弹幕", "chat\nwith newline.jsonl": "换行的文件名",
             os.fsdecode("直播弹幕".encode("gbk") + b".jsonl"): "GBK 文件名"}
    paths = []
    for n, (name, text) in enumerate(files.items()):
        p = tmp_path / name
        p.write_text(json.dumps({"t": 1.0 + n, "user": "u", "text": text}, ensure_ascii=False) + "\n", encoding="utf-8")
        paths.append(p)
    args = [a for p in paths for a in ("--chat", p)]
    proc = run_lsf("detect", "-C", case.root, *args)
    assert proc.returncode == 0, proc.stderr
    msgs = json.loads((case.root / "chat.json").read_text(encoding="utf-8"))
    assert sorted(m["text"] for m in msgs) == sorted(files.values()), msgs
    names = sorted(p.name for p in (case.root / "chat").iterdir())
    print(names)
    assert names[1:] == ["chat_with_newline.jsonl", "hidden-chat.jsonl"]
    assert names[0].startswith("_") and names[0].endswith(".jsonl") and names[0].encode("utf-8")  # plain UTF-8
    proc = run_lsf("report", "-C", case.root, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    proc = run_lsf("verify", case.root)
    assert proc.returncode == 4 and "result: INTACT BUT UNANCHORED" in proc.stdout, proc.stdout[-600:]


def test_gbk_named_video_extracts_reports_and_verifies(tmp_path, realdata):
    raw = "直播 0612".encode("gbk") + b".mp4"  # as copied from a Chinese Windows machine
    video = Path(os.fsdecode(tmp_path.as_posix().encode() + b"/" + raw))
    shutil.copy(realdata / VIDEO, video)
    proc = run_lsf("extract", video, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    root = Path(json.loads(proc.stdout)["case"])
    print(root)
    assert root.parent == tmp_path / "cases" and root.name.endswith(json.loads(proc.stdout)["source_sha256"][:8])
    assert root.name.isascii()
    src = json.loads((root / "source.json").read_text(encoding="utf-8"))
    assert os.fsencode(src["path"]) == os.fsencode(video), "the exact bytes of the name are recorded"
    case = Case(root)
    run_stage(case, FindingsFixtureStage(realistic_findings(case)))
    proc = run_lsf("report", "-C", root, "--format", "html,pdf,json")
    assert proc.returncode == 0, proc.stderr
    html = (root / "report" / "report.html").read_text(encoding="utf-8")
    assert "直播 0612.mp4 [not UTF-8; shown decoded as GB18030/GBK]" in html
    proc = run_lsf("verify", root, "--source", video)
    assert proc.returncode == 4, proc.stdout[-800:]
    assert "has the recorded sha256" in proc.stdout


# -- item 12: bounded loaders ------------------------------------------------------------------
BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))


def _deep_yaml(key: str) -> str:
    return f"{key}:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(200)) + "  " * 201 + "x\n"


def test_yaml_alias_bombs_are_refused_at_once(case, tmp_path):
    page = tmp_path / "bomb.yaml"
    page.write_text("title: x\nattributes:\n  " + BOMB.replace("\n", "\n  ") + "\n", encoding="utf-8")
    t0 = time.perf_counter()
    proc = run_lsf("claims", "-C", case.root, "--page", page)
    wall = time.perf_counter() - t0
    line = _one_line(proc)
    print(f"{wall:.1f} s: {line}")
    assert proc.returncode == 2
    assert line == f"lsf: error: page {page}:4: YAML aliases (*a) are not allowed: write the value out"
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bomb.yaml").write_text("kind: slang\n" + BOMB + "rules: [{id: x, terms: [*i]}]\n", encoding="utf-8")
    proc = run_lsf("detect", "-C", case.root, "--rules", rules)
    line = _one_line(proc)
    assert proc.returncode == 2 and line == "lsf: error: rules/bomb.yaml:3: YAML aliases (*a) are not allowed: write the value out"
    assert len(line) < 200 and wall < 60


@pytest.mark.parametrize("what", ["page.json", "page.yaml", "chat.jsonl", "rules.yaml"])
def test_deep_nesting_is_one_line_with_file_and_line(case, tmp_path, what):
    if what == "page.json":
        f = tmp_path / "page.json"
        f.write_text('{"title": "x",\n "attributes": {"材质": ' + "[" * 50_000 + "]" * 50_000 + "}}", encoding="utf-8")
        proc, want = run_lsf("claims", "-C", case.root, "--page", f), f"page {f}:2: nested more than 64 levels deep"
    elif what == "page.yaml":
        f = tmp_path / "page.yaml"
        f.write_text("title: x\n" + _deep_yaml("attributes"), encoding="utf-8")
        proc, want = run_lsf("claims", "-C", case.root, "--page", f), f"page {f}:65: nested more than 64 levels deep"
    elif what == "chat.jsonl":
        f = tmp_path / "chat.jsonl"
        f.write_text('{"t": 1, "text": "ok"}\n{"t": 2, "text": ' + "[" * 100_000 + "]" * 100_000 + "}\n",
                     encoding="utf-8")
        proc, want = run_lsf("detect", "-C", case.root, "--chat", f), f"{f}:2: nested more than 64 levels deep"
    else:
        d = tmp_path / "r"
        d.mkdir()
        (d / "deep.yaml").write_text("kind: slang\n" + _deep_yaml("extra") + "rules: []\n", encoding="utf-8")
        proc, want = run_lsf("detect", "-C", case.root, "--rules", d), "r/deep.yaml:65: nested more than 64 levels deep"
    assert proc.returncode == 2, proc.stderr
    assert _one_line(proc) == f"lsf: error: {want}"


# -- item 13: every option checked before the case is touched ----------------------------------
@pytest.mark.parametrize(("args", "says"), [
    (["--sign-key", "MISSING.key"], "signing key MISSING.key: cannot read (No such file or directory)"),
    (["--format", "html,docx"], "--format 'docx': choose from html, pdf, json"),
    (["--tsa", "ftp://tsa.example"], "--tsa 'ftp://tsa.example': expected an http:// or https:// URL"),
    (["--tsa-ca", "MISSING.pem"], "--tsa-ca MISSING.pem: cannot read (No such file or directory)"),
])
def test_analyze_refuses_a_bad_seal_option_before_any_work(tmp_path, realdata, args, says):
    t0 = time.perf_counter()
    proc = run_lsf("analyze", realdata / VIDEO, "-C", tmp_path / "case", *args, cwd=tmp_path)
    wall = time.perf_counter() - t0
    assert proc.returncode == 2 and _one_line(proc) == f"lsf: error: {says}"
    assert not (tmp_path / "case").exists()
    print(f"refused in {wall:.1f} s: {says}")
    assert wall < 30, "refused only after the pipeline ran"


def test_case_path_that_is_a_file_is_a_usage_error(tmp_path, realdata):
    f = tmp_path / "notes.txt"
    f.write_text("not a folder")
    proc = run_lsf("extract", realdata / VIDEO, "-C", f)
    assert proc.returncode == 2 and _one_line(proc) == f"lsf: error: case {f} is a file, not a case folder: choose another -C"
    proc = run_lsf("extract", realdata / VIDEO, "-C", f / "case")
    assert proc.returncode == 2 and _one_line(proc) == f"lsf: error: case {f / 'case'}: {f} is a file, not a folder"
    assert f.read_text() == "not a folder"


@pytest.fixture
def read_only_copy(tmp_path, test_cache, realdata):
    """A sealed case on a filesystem mounted read-only (as a write-blocked evidence disk would be)."""
    src = build_case(tmp_path / "src", test_cache, realdata)
    run_lsf("report", "-C", src.root, "--format", "json", check=True)
    mnt = tmp_path / "ro"
    mnt.mkdir()
    name = f"lsf-ro-{uuid.uuid4().hex[:8]}"
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", name, str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root with mount rights)")
    try:
        shutil.copytree(src.root, mnt / "case")
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        yield mnt / "case"
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_read_only_case_is_a_usage_error_and_still_verifies(read_only_copy, realdata):
    with pytest.raises(OSError) as exc:
        (read_only_copy / "probe").write_text("x")
    assert exc.value.errno == errno.EROFS
    proc = run_lsf("report", "-C", read_only_copy, "--format", "json", "--force")
    assert proc.returncode == 2
    assert _one_line(proc) == f"lsf: error: case folder {read_only_copy} is not writable (Read-only file system)"
    proc = run_lsf("extract", realdata / VIDEO, "-C", read_only_copy, "--force")
    assert proc.returncode == 2 and "is not writable (Read-only file system)" in _one_line(proc)
    proc = run_lsf("verify", read_only_copy)
    assert proc.returncode == 4, proc.stdout[-600:]  # verify never writes: a write-blocked copy verifies


# -- item 15: one lock for the whole analyze ---------------------------------------------------
class LockProbe(NullProgress):
    """At every progress event of a running analyze, try to take the case lock as another process
    would (flock of the lock file beside the case, on another open file description) and record
    whether it was free."""

    def __init__(self, root: Path, video: Path):
        self.root, self.video = root, video
        self.refused, self.free, self.second = 0, [], None

    def _probe(self, where: str) -> None:
        if not (self.root / "case.json").exists():
            return
        fd = os.open(Case(self.root).lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.refused += 1
        else:
            self.free.append(where)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        if self.second is None and where.startswith("log"):
            self.second = run_lsf("extract", self.video, "-C", self.root)

    def task(self, description: str, total: float | None = None):
        self._probe(f"task {description}")
        return super().task(description, total)

    def log(self, message: str) -> None:
        self._probe(f"log {message}")


def test_analyze_holds_one_lock_from_creation_to_seal(tmp_path, realdata):
    from lsforensics.pipeline import AnalyzeOptions, analyze

    video = realdata / "video_phone_room_dog_fire2.mp4"  # 2.4 s with sound: the cheapest full analyze
    root = tmp_path / "case"
    probe = LockProbe(root, video)
    t0 = time.perf_counter()
    res = analyze(video, root, AnalyzeOptions(formats="json"), progress=probe)
    print(f"analyze {time.perf_counter() - t0:.1f} s; lock probes refused {probe.refused}, free at {probe.free}")
    assert (res.case / "manifest.json").is_file()
    assert probe.free == [], f"the case lock was free during the analyze at: {probe.free}"
    assert probe.refused >= 5
    assert probe.second is not None and probe.second.returncode == 2
    assert _one_line(probe.second) == f"lsf: error: case {root} is in use by another lsf process"
