"""Core library pieces: atomic writes, lock, custody chain, rule loading."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lsforensics.case import Case, atomic_folder, atomic_write_json
from lsforensics.custody import CustodyLog
from lsforensics.errors import InputError
from lsforensics.rules import load_rules


def test_atomic_write_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    atomic_write_json(target, {"a": "小香"})
    assert json.loads(target.read_text()) == {"a": "小香"}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_atomic_folder_replaces_whole_or_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    with atomic_folder(folder) as staging:
        (staging / "a.jpg").write_bytes(b"1")
    with pytest.raises(RuntimeError):
        with atomic_folder(folder) as staging:
            (staging / "b.jpg").write_bytes(b"2")
            raise RuntimeError("killed half-way")
    assert sorted(p.name for p in folder.iterdir()) == ["a.jpg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]


def test_case_lock_excludes_a_second_process(tmp_path: Path) -> None:
    case = Case(tmp_path / "c")
    code = (
        "import sys; from lsforensics.case import Case\n"
        "try:\n    Case(sys.argv[1]).locked().__enter__()\nexcept Exception as e:\n    print(e); sys.exit(2)\n"
    )
    with case.locked():
        proc = subprocess.run([sys.executable, "-c", code, str(case.root)], capture_output=True, text=True)
    assert proc.returncode == 2 and "in use by another lsf process" in proc.stdout
    proc = subprocess.run([sys.executable, "-c", code, str(case.root)], capture_output=True, text=True)
    assert proc.returncode == 0


def test_custody_chain_detects_edits(tmp_path: Path) -> None:
    log = CustodyLog(tmp_path / "custody.jsonl")
    for i in range(4):
        log.append(f"step{i}", inputs=[], outputs=[{"path": f"f{i}", "sha256": "0" * 64}], params={"i": i}, argv=["t"])
    assert log.verify_chain() == []
    lines = log.path.read_text().splitlines()
    edited = lines[1].replace('"i":1', '"i":7')
    assert edited != lines[1]
    log.path.write_text("\n".join([lines[0], edited, *lines[2:]]) + "\n")
    problems = log.verify_chain()
    assert [p.line for p in problems] == [3]  # line 3's prev no longer matches the edited line 2
    log.path.write_text("\n".join([lines[0], *lines[2:]]) + "\n")  # a deleted line
    assert {p.line for p in log.verify_chain()} >= {2}


def _write(p: Path, text: str) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def test_rules_errors_name_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path / "bad" / "x.yaml", "kind: brands\nrules:\n  - id: a\n   names: [oops\n")
    with pytest.raises(InputError, match=r"bad/x\.yaml:4: invalid YAML"):
        load_rules([tmp_path / "bad"], include_shipped=False)
    _write(tmp_path / "nokind" / "x.yaml", "rules:\n  - id: a\n")
    with pytest.raises(InputError, match=r"nokind/x\.yaml:1: missing 'kind'"):
        load_rules([tmp_path / "nokind"], include_shipped=False)
    _write(tmp_path / "dup" / "x.yaml", "kind: slang\nrules:\n  - id: a\n  - id: b\n  - id: a\n")
    with pytest.raises(InputError, match=r"dup/x\.yaml:5: duplicate rule id 'a'"):
        load_rules([tmp_path / "dup"], include_shipped=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no"):
        load_rules([tmp_path / "empty"], include_shipped=False)
    with pytest.raises(InputError, match="does not exist"):
        load_rules([tmp_path / "missing"], include_shipped=False)


def test_rules_merge_by_id_and_hash(tmp_path: Path) -> None:
    _write(tmp_path / "a" / "t.yaml", "kind: testkind\nrules:\n  - id: x\n    v: 1\n  - id: y\n    v: 2\n")
    _write(tmp_path / "b" / "extra.yaml", "kind: testkind\nrules:\n  - id: y\n    v: 20\n  - id: z\n    v: 3\n")
    one = load_rules([tmp_path / "a"], include_shipped=False)
    both = load_rules([tmp_path / "a", tmp_path / "b"], include_shipped=False)
    assert {r["id"]: r["v"] for r in both.items("testkind")} == {"x": 1, "y": 20, "z": 3}
    assert one.sha256 != both.sha256
    assert both.items("testkind")[1].line == 3  # the overriding item remembers where it came from
