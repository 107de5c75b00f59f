"""Tamper tests (issue 7 acceptance): every change to a sealed case makes `lsf verify` exit 1.

One real case (real extract of a real video, report, Ed25519 signature, RFC 3161 timestamp from a
real `openssl ts` TSA on 127.0.0.1) is sealed once; each test tampers with its own copy and runs
the installed `lsf verify` as a user would.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from test_evidence_helpers import sealed_signed_stamped

from lsforensics.evidence.sign import generate_keypair, sign

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sealed(tmp_path_factory, test_cache, realdata):
    return sealed_signed_stamped(tmp_path_factory.mktemp("sealed"), test_cache, realdata)


def _copy(sealed, tmp_path: Path) -> Path:
    dest = tmp_path / "case"
    shutil.copytree(sealed["root"], dest, symlinks=True)
    return dest


def _verify(lsf, case: Path, sealed, *extra: str):
    return lsf("verify", case, "--pubkey", sealed["key"].public_path, "--tsa-ca", sealed["tsa"].ca, *extra)


def test_untouched_case_verifies_with_lsf_sha256sum_and_openssl(sealed, tmp_path, lsf, realdata):
    case = _copy(sealed, tmp_path)
    proc = _verify(lsf, case, sealed, "--source", realdata / "video_outdoor_plane_failing_audio.mp4")
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "result: INTACT" in proc.stdout
    assert "sha256sum -c" in proc.stdout and "openssl ts -verify" in proc.stdout
    assert "not when the stream was recorded" in proc.stdout
    # The same checks with no lsf at all.
    out = subprocess.run(["sha256sum", "-c", "--strict", "manifest.sha256"], cwd=case, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    listed = [line.split("  ", 1)[1] for line in (case / "manifest.sha256").read_text().splitlines()]
    assert "custody.jsonl" in listed and "report/report.html" in listed and "media/frames.json" in listed
    assert not any(p.startswith("manifest.") for p in listed)
    out = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(sealed["key"].public_path),
                          "-rawin", "-in", "manifest.json", "-sigfile", "manifest.sig"],
                         cwd=case, capture_output=True, text=True)
    assert out.returncode == 0 and "Signature Verified Successfully" in out.stdout
    out = subprocess.run(["openssl", "ts", "-verify", "-in", "manifest.tsr", "-queryfile", "manifest.tsq",
                          "-CAfile", str(sealed["tsa"].ca), "-untrusted", "manifest.tsa.pem"],
                         cwd=case, capture_output=True, text=True)
    assert out.returncode == 0 and "Verification: OK" in out.stdout
    # --json: machine-readable, same verdict
    proc = _verify(lsf, case, sealed, "--json")
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True and doc["problems"] == [] and doc["timestamp"]["imprint"]


def test_flip_one_byte_in_a_frame(sealed, tmp_path, lsf):
    case = _copy(sealed, tmp_path)
    frame = sorted((case / "media" / "frames").glob("*.jpg"))[1]
    data = bytearray(frame.read_bytes())
    data[len(data) // 2] ^= 0x01
    frame.write_bytes(bytes(data))
    proc = _verify(lsf, case, sealed)
    rel = frame.relative_to(case).as_posix()
    assert proc.returncode == 1
    assert f"files: {rel}: changed" in proc.stdout
    assert "VERIFICATION FAILED" in proc.stdout and rel in proc.stderr
    # sha256sum names the same file
    out = subprocess.run(["sha256sum", "-c", "--quiet", "manifest.sha256"], cwd=case, capture_output=True, text=True)
    assert out.returncode != 0 and rel in out.stdout


def test_delete_a_file(sealed, tmp_path, lsf):
    case = _copy(sealed, tmp_path)
    (case / "transcript.json").unlink()
    proc = _verify(lsf, case, sealed)
    assert proc.returncode == 1
    assert "files: transcript.json: missing" in proc.stdout


def test_add_a_file(sealed, tmp_path, lsf):
    case = _copy(sealed, tmp_path)
    (case / "media" / "frames" / "000005500.jpg").write_bytes(b"\xff\xd8planted")
    (case / "notes.txt").write_text("added later")
    proc = _verify(lsf, case, sealed)
    assert proc.returncode == 1
    assert "added: media/frames/000005500.jpg: added" in proc.stdout
    assert "added: notes.txt: added" in proc.stdout
    # the plain-tools check that verify prints (and the docs give) sees the added files too
    listing = next(c for c in proc.stdout.splitlines() if "find . -type f" in c).strip()
    out = subprocess.run(["bash", "-c", listing], capture_output=True, text=True)
    assert out.returncode == 1 and "media/frames/000005500.jpg" in out.stdout and "notes.txt" in out.stdout


def test_edit_one_custody_line(sealed, tmp_path, lsf):
    case = _copy(sealed, tmp_path)
    lines = (case / "custody.jsonl").read_bytes().split(b"\n")
    entry = json.loads(lines[1])
    entry["operator"] = "someone-else"
    lines[1] = json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()
    (case / "custody.jsonl").write_bytes(b"\n".join(lines))
    proc = _verify(lsf, case, sealed)
    assert proc.returncode == 1
    assert "custody: custody.jsonl: custody.jsonl line 3: prev does not match" in proc.stdout
    assert "files: custody.jsonl: changed" in proc.stdout


def test_swap_the_signature(sealed, tmp_path, lsf):
    case = _copy(sealed, tmp_path)
    other = generate_keypair(tmp_path / "mallory.key", tmp_path / "mallory.pub")
    from lsforensics.evidence.sign import load_private_key

    forged = sign(load_private_key(other.private_path), (case / "manifest.json").read_bytes())
    (case / "manifest.sig").write_bytes(forged)
    proc = _verify(lsf, case, sealed)
    assert proc.returncode == 1
    assert "signature: manifest.sig: bad signature" in proc.stdout
    # Swapping the stored public key too does not help: manifest.json names the real signer.
    shutil.copyfile(other.public_path, case / "manifest.pub.pem")
    proc = lsf("verify", case, "--tsa-ca", sealed["tsa"].ca)
    assert proc.returncode == 1
    assert "manifest.json names signer" in proc.stdout


def test_replace_the_tsr_with_one_for_another_file(sealed, tmp_path, lsf):
    case = _copy(sealed, tmp_path)
    (case / "manifest.tsr").write_bytes(sealed["tsa"].reply_for_data(b"some other file\n"))
    proc = _verify(lsf, case, sealed)
    assert proc.returncode == 1
    assert "timestamp: manifest.tsr: does not cover manifest.json: the timestamp covers other data" in proc.stdout
    # openssl agrees
    out = subprocess.run(["openssl", "ts", "-verify", "-in", "manifest.tsr", "-data", "manifest.json",
                          "-CAfile", str(sealed["tsa"].ca), "-untrusted", str(sealed["tsa"].cert)],
                         cwd=case, capture_output=True, text=True)
    assert out.returncode != 0


def test_source_video_with_another_hash(sealed, tmp_path, lsf, realdata):
    case = _copy(sealed, tmp_path)
    proc = _verify(lsf, case, sealed, "--source", realdata / "video_countdown_silent_audio_in1.mp4")
    assert proc.returncode == 1
    assert "source:" in proc.stdout and "differs from source.json" in proc.stdout


def test_edited_manifest_breaks_signature_and_timestamp(sealed, tmp_path, lsf):
    """Re-hashing a tampered file into manifest.json is caught by the signature and the timestamp."""
    case = _copy(sealed, tmp_path)
    findings = case / "findings.json"
    findings.write_text(findings.read_text().replace('"high"', '"low"'))
    doc = json.loads((case / "manifest.json").read_text())
    import hashlib

    for f in doc["files"]:
        if f["path"] == "findings.json":
            f["sha256"] = hashlib.sha256(findings.read_bytes()).hexdigest()
            f["size"] = findings.stat().st_size
    (case / "manifest.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    proc = _verify(lsf, case, sealed)
    assert proc.returncode == 1
    assert "signature: manifest.sig: bad signature" in proc.stdout
    assert "timestamp: manifest.tsr: does not cover manifest.json" in proc.stdout
    assert "manifest: manifest.sha256: does not list the same" in proc.stdout
    assert "custody: findings.json: differs from what custody entry" in proc.stdout
