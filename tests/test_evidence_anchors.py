"""Issue 12, integrity items 1, 2, 3, 5 and 14b: what an opposing expert would try on a sealed case.

One real case (real extract of a real video, Ed25519 signature, RFC 3161 timestamp from a real
`openssl ts` TSA on 127.0.0.1) is sealed once; each test attacks its own copy and runs the
installed `lsf verify` as a user would, asserting the exit code and the one-line message. The
no-lsf procedure of docs/verifying-a-report.md is run, block by block, against the same copies.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from conftest import REPO
from test_evidence_helpers import (
    FindingsFixtureStage,
    LocalTsa,
    build_case,
    realistic_findings,
    sealed_signed_stamped,
)

from lsforensics.case import Case
from lsforensics.evidence.seal import seal_case
from lsforensics.evidence.sign import generate_keypair
from lsforensics.report import make_report
from lsforensics.stage import run_stage

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sealed(tmp_path_factory, test_cache, realdata):
    return sealed_signed_stamped(tmp_path_factory.mktemp("anchors"), test_cache, realdata, formats="json")


def _copy(sealed, tmp_path: Path) -> Path:
    dest = tmp_path / "case"
    shutil.copytree(sealed["root"], dest, symlinks=True)
    return dest


def _anchored(lsf, case: Path, sealed, *extra):
    return lsf("verify", case, "--pubkey", sealed["key"].public_path, "--tsa-ca", sealed["tsa"].ca, *extra)


def _one_line(proc, prefix: str) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(prefix), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    return lines[0]


def test_intact_case_states_its_anchors(sealed, tmp_path, lsf):
    case = _copy(sealed, tmp_path)
    proc = _anchored(lsf, case, sealed)
    print(proc.stdout[-1500:])
    assert proc.returncode == 0, proc.stdout
    assert "anchored   signature: signed by key" in proc.stdout and "the public key you gave" in proc.stdout
    assert "anchored   timestamp: manifest.json existed at" in proc.stdout
    assert "result: INTACT (exit 0)" in proc.stdout
    seal = json.loads((case / "manifest.json").read_text())["seal"]
    assert seal["signature"]["fingerprint"] == sealed["key"].fingerprint
    assert seal["timestamp"]["tsa"] == sealed["url"]
    assert seal["timestamp"]["tsa_root_sha256"] == hashlib.sha256(sealed["tsa"].ca.read_bytes()).hexdigest()
    assert seal["files"] == ["manifest.sha256", "manifest.sig", "manifest.pub.pem", "manifest.tsq", "manifest.tsr"]


# -- item 1: a removed timestamp or signature ------------------------------------------------
def test_removed_timestamp_fails_with_and_without_trust_options(sealed, tmp_path, lsf):
    case = _copy(sealed, tmp_path)
    for name in ("manifest.tsr", "manifest.tsq", "manifest.tsa.pem"):
        (case / name).unlink()
    want = f"timestamp: manifest.tsr: missing, although manifest.json records a timestamp requested from {sealed['url']}"
    for proc in (_anchored(lsf, case, sealed), lsf("verify", case)):
        assert proc.returncode == 1, proc.stdout
        assert want in proc.stdout
        assert want in _one_line(proc, "lsf: error: ")


def test_removed_response_kept_query_is_pending_not_intact(sealed, tmp_path, lsf):
    case = _copy(sealed, tmp_path)
    (case / "manifest.tsr").unlink()
    proc = _anchored(lsf, case, sealed)  # the verifier expects a timestamp
    assert proc.returncode == 1, proc.stdout
    assert "timestamp: manifest.tsr: missing: only the query manifest.tsq is in the case" in _one_line(proc, "lsf: error: ")
    proc = lsf("verify", case, "--pubkey", sealed["key"].public_path)
    assert proc.returncode == 4, proc.stdout
    assert "UNANCHORED timestamp: pending or removed" in proc.stdout
    assert "result: INTACT BUT UNANCHORED (exit 4)" in proc.stdout
    line = _one_line(proc, "lsf: unanchored: ")
    assert "the timestamp is pending or was removed (manifest.tsq without manifest.tsr)" in line


def test_key_holder_reseals_without_the_timestamp(sealed, tmp_path, lsf):
    """The issue's attack: rewrite findings (custody re-chained by a real stage run), re-sign with the
    lab key, drop the timestamp. Demanding a timestamp (--tsa-ca) now fails."""
    case = Case(_copy(sealed, tmp_path))
    fake = realistic_findings(case)[:2]
    run_stage(case, FindingsFixtureStage(fake), argv=["mallory"], force=True)
    seal_case(case, sign_key=sealed["key"].private_path, force=True)
    assert not (case.root / "manifest.tsr").exists()
    proc = _anchored(lsf, case.root, sealed)
    assert proc.returncode == 1, proc.stdout
    assert "timestamp: manifest.tsr: missing: the case has no timestamp, but --tsa-ca was given" in _one_line(
        proc, "lsf: error: ")
    # Without --tsa-ca the key holder's new seal is what it is: signed by the lab key, no timestamp.
    proc = lsf("verify", case.root, "--pubkey", sealed["key"].public_path)
    assert proc.returncode == 0 and "no RFC 3161 timestamp" in proc.stdout


def test_removed_signature_fails(sealed, tmp_path, lsf):
    case = _copy(sealed, tmp_path)
    (case / "manifest.sig").unlink()
    (case / "manifest.pub.pem").unlink()
    want = "signature: manifest.sig: missing, although manifest.json records that the case was signed (key "
    for proc in (lsf("verify", case, "--tsa-ca", sealed["tsa"].ca), lsf("verify", case)):
        assert proc.returncode == 1, proc.stdout
        assert want in _one_line(proc, "lsf: error: ")


# -- the no-lsf procedure of docs/verifying-a-report.md ----------------------------------------
def _doc_blocks() -> list[str]:
    text = (REPO / "docs" / "verifying-a-report.md").read_text(encoding="utf-8")
    start = text.index("## Without lsf: step by step")
    section = text[start:text.index("\n## ", start)]  # up to the next section (reproducing uses lsf)
    return [textwrap.dedent(m.group(1)) for m in re.finditer(r"```sh\n(.*?)```", section, re.S)]


def _run_docs(case: Path, sealed, video: Path) -> list[subprocess.CompletedProcess]:
    out = []
    for block in _doc_blocks():
        script = (block.replace("SIGNER.pub", str(sealed["key"].public_path))
                  .replace("TSA-ROOT.pem", str(sealed["tsa"].ca)).replace("ORIGINAL-VIDEO.mp4", str(video)))
        out.append(subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=case, capture_output=True,
                                  text=True, timeout=60))
    return out


def test_documented_procedure_detects_removed_timestamp_signature_and_folder(sealed, tmp_path, realdata):
    from test_evidence_helpers import VIDEO

    video = realdata / VIDEO
    blocks = _doc_blocks()
    assert len(blocks) == 8, [b[:40] for b in blocks]
    intact = _copy(sealed, tmp_path / "a")
    runs = _run_docs(intact, sealed, video)
    for n, r in enumerate(runs, 1):
        assert r.returncode == 0, (n, r.stdout, r.stderr)
    assert "seal complete: manifest.sha256 manifest.sig manifest.pub.pem manifest.tsq manifest.tsr" in runs[3].stdout
    assert "Signature Verified Successfully" in runs[4].stdout and runs[5].stdout.count("Verification: OK") == 2

    no_ts = _copy(sealed, tmp_path / "b")
    (no_ts / "manifest.tsr").unlink()
    (no_ts / "manifest.tsq").unlink()
    runs = _run_docs(no_ts, sealed, video)
    print([r.returncode for r in runs], runs[3].stderr)
    assert runs[3].returncode == 1 and "seal INCOMPLETE, missing: manifest.tsq manifest.tsr" in runs[3].stderr
    assert runs[5].returncode != 0
    assert all(runs[i].returncode == 0 for i in (0, 1, 2, 4, 6, 7))

    pending = _copy(sealed, tmp_path / "c")
    (pending / "manifest.tsr").unlink()
    r = _run_docs(pending, sealed, video)[3]
    assert r.returncode == 1 and "the timestamp is pending or was removed" in r.stderr

    no_sig = _copy(sealed, tmp_path / "d")
    (no_sig / "manifest.sig").unlink()
    (no_sig / "media" / "late").mkdir()
    runs = _run_docs(no_sig, sealed, video)
    assert runs[3].returncode == 1 and "missing: manifest.sig" in runs[3].stderr
    assert runs[4].returncode != 0
    assert runs[1].returncode == 1 and "< media/late" in runs[1].stdout, runs[1].stdout


# -- item 2: anchored only to keys inside the case -------------------------------------------
def test_attackers_reseal_is_unanchored_without_trust_options_and_fails_with_them(sealed, tmp_path, lsf):
    case = Case(_copy(sealed, tmp_path))
    run_stage(case, FindingsFixtureStage(realistic_findings(case)[:1]), argv=["mallory"], force=True)
    mallory = generate_keypair(tmp_path / "mallory.key", tmp_path / "mallory.pub")
    own_tsa = LocalTsa(tmp_path / "mallory-tsa", name="Mallory TSA")
    url = own_tsa.start()
    try:
        seal_case(case, sign_key=mallory.private_path, tsa=url, tsa_ca=own_tsa.ca, force=True)
    finally:
        own_tsa.stop()
    proc = lsf("verify", case.root)
    print(proc.stdout[-1800:])
    assert proc.returncode == 4, proc.stdout
    assert f"UNANCHORED signature: signed by key {mallory.fingerprint}, checked against only the key stored" in proc.stdout
    assert "UNANCHORED timestamp: manifest.json existed at" in proc.stdout
    line = _one_line(proc, "lsf: unanchored: ")
    assert ("intact as far as the case can tell, but the signature was checked only against the key stored in the "
            "case; the timestamp was checked against only the TSA root stored in the case (manifest.tsa-ca.pem)") in line
    proc = _anchored(lsf, case.root, sealed)
    assert proc.returncode == 1
    assert "signature: manifest.sig: manifest.json names signer" in proc.stdout
    assert "signature: manifest.sig: bad signature" in proc.stdout
    assert "timestamp: manifest.tsr: TSA signature/chain check failed" in proc.stdout


def test_signature_stripped_reseal_is_unanchored(sealed, tmp_path, lsf):
    case = Case(_copy(sealed, tmp_path))
    run_stage(case, FindingsFixtureStage(realistic_findings(case)[:1]), argv=["mallory"], force=True)
    seal_case(case, force=True)
    proc = lsf("verify", case.root)
    assert proc.returncode == 4, proc.stdout
    assert "none: the case is neither signed nor timestamped" in proc.stdout
    assert "but the case is neither signed nor timestamped" in _one_line(proc, "lsf: unanchored: ")
    proc = lsf("verify", case.root, "--pubkey", sealed["key"].public_path)
    assert proc.returncode == 1
    assert "signature: manifest.sig: missing: the case is not signed, but --pubkey was given" in _one_line(
        proc, "lsf: error: ")


# -- item 3: every top-level name and every folder ---------------------------------------------
def test_added_manifest_named_file_and_empty_folder_are_seen(sealed, tmp_path, lsf):
    case = _copy(sealed, tmp_path)
    (case / "manifest.old").write_text("a file named like the seal's")
    (case / "media" / "extra").mkdir()
    (case / "empty").mkdir()
    proc = _anchored(lsf, case, sealed)
    assert proc.returncode == 1, proc.stdout
    assert "added: manifest.old: added: in the case but not in the manifest" in proc.stdout
    assert "added: media/extra/: folder added: in the case but not in the manifest" in proc.stdout
    assert "added: empty/: folder added" in proc.stdout
    assert "added: manifest.old: added" in _one_line(proc, "lsf: error: ")


def test_manifest_named_files_present_at_sealing_are_listed(tmp_path, test_cache, realdata):
    case = build_case(tmp_path / "case", test_cache, realdata)
    (case.root / "manifest.notes").write_text("the investigator's notes, evidence like any other file")
    make_report(case.root, formats="json")
    doc = json.loads((case.root / "manifest.json").read_text())
    assert "manifest.notes" in {f["path"] for f in doc["files"]}
    assert "media/frames" in doc["folders"] and "report" in doc["folders"]
    (case.root / "manifest.notes").write_text("edited")
    from lsforensics.evidence.verify import verify_case

    v = verify_case(case.root)
    assert not v.ok and any(str(p).startswith("files: manifest.notes: changed") for p in v.problems)


# -- item 5: hostile manifest and custody content -> exit 1, never 3 ---------------------------
def test_deeply_nested_manifest_is_a_failure_not_a_crash(sealed, tmp_path, lsf):
    case = _copy(sealed, tmp_path)
    (case / "manifest.json").write_text('{"files": ' + "[" * 100_000 + "]" * 100_000 + "}")
    proc = lsf("verify", case)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    line = _one_line(proc, "lsf: error: ")
    assert line == "lsf: error: manifest: manifest.json: unreadable: manifest.json:1: nested more than 64 levels deep"


def test_manifest_and_custody_with_odd_types_fail_cleanly(sealed, tmp_path, lsf):
    case = _copy(sealed, tmp_path)
    doc = json.loads((case / "manifest.json").read_text())
    bad_index = len(doc["files"]) + 1
    doc["files"] += [{"path": 5}, "x", {"path": "case.json", "sha256": [1], "size": {}}]
    doc.update(source="a string", seal=[], signer=7, timestamp="x", folders="y")
    (case / "manifest.json").write_text(json.dumps(doc))
    log = case / "custody.jsonl"
    last = log.read_bytes().split(b"\n")[-2]
    odd = {"seq": [9], "time": 1, "operator": None, "host": {}, "action": {"x": 1}, "argv": "s",
           "tool_version": 0, "inputs": {"path": "/etc/passwd"}, "outputs": [1, None, {"path": ["a"]}],
           "params": [], "prev": hashlib.sha256(last).hexdigest()}
    with open(log, "ab") as fh:
        fh.write(json.dumps(odd).encode() + b"\n" + b'"just a string"\n' + b"[" * 5000 + b"\n")
    proc = lsf("verify", case, "--json")
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    _one_line(proc, "lsf: error: ")
    res = json.loads(proc.stdout)
    texts = [p["text"] for p in res["problems"]]
    print("\n".join(texts))
    assert res["status"] == "failed" and res["exit_code"] == 1
    assert f"manifest: files[{bad_index}] is not an object" in texts
    assert any(t.startswith("manifest: 5: unsafe manifest path rejected") for t in texts)
    assert any(t.startswith("files: case.json: changed: sha256") for t in texts)
    n = len(log.read_bytes().split(b"\n")) - 1
    assert any(f"custody.jsonl line {n - 2}: seq is [9]" in t for t in texts)
    assert any(f"custody.jsonl line {n - 1}: not a JSON object" in t for t in texts)
    assert any(f"custody.jsonl line {n}: not a JSON object" in t for t in texts)
    assert any(f"custody: custody.jsonl line {n - 2}: inputs is not a list" == t for t in texts)
    assert not any("could not be completed" in t for t in texts), texts


# -- item 14b: the printed equivalent commands work with relative key paths ---------------------
def test_equivalent_commands_work_with_relative_key_paths(sealed, tmp_path, lsf):
    _copy(sealed, tmp_path)
    shutil.copy(sealed["key"].public_path, tmp_path / "lab.pub")
    shutil.copy(sealed["tsa"].ca, tmp_path / "root.pem")
    proc = lsf("verify", "case", "--pubkey", "lab.pub", "--tsa-ca", "root.pem", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    cmds = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip().startswith("cd ")]
    assert any("openssl pkeyutl" in c and str(tmp_path / "lab.pub") in c for c in cmds), cmds
    for c in cmds:
        out = subprocess.run(["bash", "-c", c], capture_output=True, text=True, timeout=60, cwd="/")
        assert out.returncode == 0, (c, out.stdout, out.stderr)
