"""What lets lsf run on macOS and Windows too (issue 16), tested here on Linux through the same code
paths: the case lock is a lock file beside the case (filelock), never a file inside it; the
symlink-safe open used by verify has a path for systems without O_NOFOLLOW/dir_fd (Windows)."""

from __future__ import annotations

import errno
import os
import shutil

import pytest
from test_evidence_helpers import build_case

from lsforensics.case import Case
from lsforensics.evidence import manifest as mf
from lsforensics.evidence.seal import seal_case
from lsforensics.evidence.verify import verify_case


def test_the_case_lock_is_a_file_beside_the_case(tmp_path) -> None:
    case = Case(tmp_path / "cases" / "room12")
    with case.locked():
        assert case.lock_file == tmp_path / "cases" / ".room12.lsf-lock" and case.lock_file.exists()
        assert sorted(p.name for p in case.root.iterdir()) == [], "the lock put a file inside the case"
        with case.locked():  # re-entrant in one process
            pass
    assert sorted(p.name for p in case.root.iterdir()) == []


@pytest.fixture
def no_safe_open(monkeypatch):
    monkeypatch.setattr(mf, "SAFE_OPEN", False)


def test_open_inside_without_nofollow_refuses_links_and_special_files(no_safe_open, tmp_path) -> None:
    root = tmp_path / "case"
    (root / "media").mkdir(parents=True)
    (root / "media" / "a.txt").write_text("evidence", encoding="utf-8")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "b.txt").write_text("elsewhere", encoding="utf-8")
    os.symlink(tmp_path / "outside", root / "linked")
    os.symlink(tmp_path / "outside" / "b.txt", root / "media" / "b.txt")
    os.mkfifo(root / "media" / "fifo")
    fd = mf.open_inside(root, "media/a.txt")
    assert os.read(fd, 100) == b"evidence"
    os.close(fd)
    for rel, code in (("linked/b.txt", errno.ELOOP), ("media/b.txt", errno.ELOOP), ("media/fifo", errno.EINVAL)):
        with pytest.raises(OSError) as exc:
            os.close(mf.open_inside(root, rel))
        assert exc.value.errno == code, rel
    with pytest.raises(OSError):
        mf.open_inside(root, "../outside/b.txt")


def test_verify_without_nofollow_still_catches_a_swapped_file(no_safe_open, tmp_path, test_cache, realdata) -> None:
    case = build_case(tmp_path / "case", test_cache, realdata)
    seal_case(case)
    assert verify_case(case.root).ok
    frame = sorted((case.root / "media" / "frames").iterdir())[0]
    shutil.move(frame, tmp_path / "real.jpg")
    os.symlink(tmp_path / "real.jpg", frame)  # same bytes, but through a link out of the case
    res = verify_case(case.root)
    assert not res.ok and any("symlink" in p.message for p in res.problems), [str(p) for p in res.problems]
