"""Sealing order, idempotency, keys, and paths that lead outside the case (rejected, never followed)."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest
from test_evidence_helpers import build_case

from lsforensics.custody import CustodyLog
from lsforensics.errors import InputError
from lsforensics.evidence.manifest import open_inside, unsafe_path_reason
from lsforensics.evidence.seal import seal_case
from lsforensics.evidence.verify import verify_case
from lsforensics.report import make_report

pytestmark = pytest.mark.slow


@pytest.fixture
def sealed_case(tmp_path, test_cache, realdata):
    case = build_case(tmp_path / "case", test_cache, realdata)
    make_report(case.root, formats="json")
    return case


def _reseal_manifest(root, mutate) -> None:
    """Attacker-style: edit manifest.json and rewrite manifest.sha256 to match (unsigned case)."""
    doc = json.loads((root / "manifest.json").read_text())
    mutate(doc)
    (root / "manifest.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    (root / "manifest.sha256").write_text("".join(f"{f['sha256']}  {f['path']}\n" for f in doc["files"]))


def test_seal_entry_precedes_manifest_and_is_covered(sealed_case):
    root = sealed_case.root
    entries = CustodyLog(root / "custody.jsonl").entries()
    assert [e["action"] for e in entries[-2:]] == ["report", "seal"]
    doc = json.loads((root / "manifest.json").read_text())
    listed = {f["path"]: f for f in doc["files"]}
    # the manifest covers the custody log *including* the seal entry
    assert listed["custody.jsonl"]["sha256"] == hashlib.sha256((root / "custody.jsonl").read_bytes()).hexdigest()
    assert "report/report.json" in listed and not any(p.startswith("manifest.") for p in listed)
    assert doc["environment"]["tool"]["name"] == "lsforensics" and doc["environment"]["python"]
    assert doc["source"]["sha256"] == json.loads((root / "source.json").read_text())["sha256"]
    # the report stage recorded its outputs in custody with the hashes now on disk
    rep = entries[-2]
    # (--format json; the findings table and subtitle tracks are written with every report)
    assert {o["path"] for o in rep["outputs"]} == {"report/report.json", "report/findings.csv", "report/findings.srt",
                                                   "report/findings.vtt"}
    assert verify_case(root).ok


def test_report_is_idempotent_and_reseals_after_a_change(sealed_case, lsf):
    root = sealed_case.root
    n = len(CustodyLog(root / "custody.jsonl").entries())
    before = (root / "manifest.json").read_bytes()
    proc = lsf("report", "-C", root, "--format", "json")
    assert proc.returncode == 0 and "up to date" in proc.stdout and "unchanged" in proc.stdout
    assert (root / "manifest.json").read_bytes() == before
    assert len(CustodyLog(root / "custody.jsonl").entries()) == n
    # A new format reruns the report, appends options (the formats, now recorded in case.json) +
    # report + seal entries and a new manifest.
    proc = lsf("report", "-C", root, "--format", "html,json")
    assert proc.returncode == 0, proc.stderr
    assert [e["action"] for e in CustodyLog(root / "custody.jsonl").entries()[n:]] == ["options", "report", "seal"]
    assert (root / "report" / "report.html").is_file()
    assert verify_case(root).ok


def test_keygen_private_key_0600_refuses_overwrite_and_signs(sealed_case, tmp_path, lsf):
    proc = lsf("keygen", "-o", tmp_path / "lab", "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    key = tmp_path / "lab.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert b"PRIVATE KEY" in key.read_bytes() and len(info["fingerprint"]) == 64
    proc = lsf("keygen", "-o", tmp_path / "lab")
    assert proc.returncode == 2 and "refusing to overwrite" in proc.stderr
    proc = lsf("report", "-C", sealed_case.root, "--format", "json", "--sign-key", key)
    assert proc.returncode == 0, proc.stderr
    assert info["fingerprint"] in proc.stdout
    proc = lsf("verify", sealed_case.root, "--pubkey", tmp_path / "lab.pub")
    assert proc.returncode == 0, proc.stdout
    assert f"valid for key {info['fingerprint']}" in proc.stdout
    # an unsigned reseal removes the stale signature
    seal_case(sealed_case, force=True)
    assert not (sealed_case.root / "manifest.sig").exists()
    proc = lsf("verify", sealed_case.root, "--pubkey", tmp_path / "lab.pub")
    assert proc.returncode == 1 and "not signed" in proc.stdout


def test_bad_inputs_exit_2_one_line(sealed_case, tmp_path, lsf):
    cases = [
        ("report", "-C", tmp_path / "nothing"),
        ("report", "-C", sealed_case.root, "--format", "docx"),
        ("report", "-C", sealed_case.root, "--sign-key", tmp_path / "missing.key"),
        ("report", "-C", sealed_case.root, "--tsa", "ftp://example"),
        ("verify", tmp_path / "nothing"),
        ("verify", sealed_case.root, "--pubkey", sealed_case.root / "case.json"),
    ]
    (tmp_path / "notakey.key").write_text("hello")
    cases.append(("report", "-C", sealed_case.root, "--sign-key", tmp_path / "notakey.key"))
    n = len(CustodyLog(sealed_case.root / "custody.jsonl").entries())
    for args in cases:
        proc = lsf(*args)
        assert proc.returncode == 2, (args, proc.returncode, proc.stderr)
        assert proc.stderr.startswith("lsf: error:") and proc.stderr.count("\n") == 1, proc.stderr
        assert "Traceback" not in proc.stderr
    # nothing was written by the refused commands
    assert len(CustodyLog(sealed_case.root / "custody.jsonl").entries()) == n
    assert verify_case(sealed_case.root).ok


def test_unsealed_case_fails_verify(tmp_path, test_cache, realdata, lsf):
    case = build_case(tmp_path / "case", test_cache, realdata)
    proc = lsf("verify", case.root)
    assert proc.returncode == 1 and "not sealed" in proc.stdout


def test_unsafe_path_reasons():
    for bad in ["../x", "a/../../x", "/etc/passwd", "", "a//b", "./a", "a\nb", "a\\b", "C:/x"]:
        assert unsafe_path_reason(bad), bad
    for ok in ["findings.json", "media/frames/000001000.jpg", "report/report.html", "chat/弹幕.xml"]:
        assert unsafe_path_reason(ok) is None, ok


def test_manifest_paths_outside_the_case_are_rejected_not_followed(sealed_case, tmp_path):
    root = sealed_case.root
    outside = tmp_path / "outside.txt"
    outside.write_text("a file outside the case")
    digest = hashlib.sha256(outside.read_bytes()).hexdigest()
    size = outside.stat().st_size
    # Each entry carries the outside file's *correct* hash: following it would make it pass.
    _reseal_manifest(root, lambda d: d["files"].extend([
        {"path": "../outside.txt", "size": size, "sha256": digest},
        {"path": str(outside), "size": size, "sha256": digest},
    ]))
    v = verify_case(root)
    msgs = [str(p) for p in v.problems]
    print(msgs)
    assert not v.ok
    assert any("../outside.txt" in m and "not followed" in m for m in msgs)
    assert any(str(outside) in m and "absolute path" in m for m in msgs)


def test_symlink_out_of_the_case_is_rejected_not_followed(sealed_case, tmp_path, lsf):
    root = sealed_case.root
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"\xff\xd8 outside")
    link = root / "media" / "frames" / "000099000.jpg"
    os.symlink(outside, link)
    digest = hashlib.sha256(outside.read_bytes()).hexdigest()
    _reseal_manifest(root, lambda d: d["files"].append(
        {"path": "media/frames/000099000.jpg", "size": outside.stat().st_size, "sha256": digest}))
    proc = lsf("verify", root)
    assert proc.returncode == 1
    assert "media/frames/000099000.jpg: media/frames/000099000.jpg is a symlink: not followed" in proc.stdout
    # a symlinked folder too
    os.symlink(tmp_path, root / "media" / "linkdir")
    with pytest.raises(OSError):
        open_inside(root, "media/linkdir/outside.jpg")
    # and a case holding a symlink cannot be sealed
    with pytest.raises(InputError, match="symlink"):
        seal_case(sealed_case, force=True)


def test_custody_paths_outside_the_case_are_rejected(sealed_case):
    root = sealed_case.root
    log = CustodyLog(root / "custody.jsonl")
    log.append("evil", inputs=[{"path": "../../etc/passwd", "sha256": "0" * 64}],
               outputs=[{"path": "/etc/hostname", "sha256": "0" * 64}], params={})
    seal_case(sealed_case, force=True)  # sealed *with* the bad entry, so only the paths are wrong
    v = verify_case(root)
    msgs = [str(p) for p in v.problems]
    print(msgs)
    assert not v.ok
    assert any("'../../etc/passwd' rejected, not followed" in m for m in msgs)
    assert any("outputs path '/etc/hostname' rejected" in m for m in msgs)
