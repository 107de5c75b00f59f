"""RFC 3161 with a real TSA (`openssl ts -reply`, test CA made here, HTTP on 127.0.0.1)."""

from __future__ import annotations

import json
import subprocess

import pytest
from test_evidence_helpers import LocalTsa, build_case, closed_port_url

from lsforensics.errors import VerificationError
from lsforensics.evidence import timestamp as ts
from lsforensics.evidence.seal import stamp_case
from lsforensics.evidence.verify import verify_case
from lsforensics.report import make_report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    t = LocalTsa(tmp_path_factory.mktemp("tsa"))
    t.url = t.start()
    yield t
    t.stop()


def test_offline_query_then_lsf_stamp(tmp_path, test_cache, realdata, tsa, lsf):
    case = build_case(tmp_path / "case", test_cache, realdata)
    proc = lsf("report", "-C", case.root, "--format", "json", "--tsa", closed_port_url())
    assert proc.returncode == 0, proc.stderr
    assert "unreachable" in proc.stderr and "lsf stamp" in proc.stderr
    assert (case.root / "manifest.tsq").is_file() and not (case.root / "manifest.tsr").exists()
    query = ts.parse_query((case.root / "manifest.tsq").read_bytes())
    import hashlib

    assert query.imprint == hashlib.sha256((case.root / "manifest.json").read_bytes()).hexdigest()
    assert query.nonce
    proc = lsf("verify", case.root)
    # Pending: nothing is wrong, but nothing attests the time (or anchors the case): exit 4.
    assert proc.returncode == 4 and "timestamp pending" in proc.stdout, proc.stdout
    assert "the timestamp is pending or was removed" in proc.stderr and proc.stderr.count("\n") == 1
    # Later, online: the stored query (same nonce) is sent.
    proc = lsf("stamp", case.root, "--tsa", tsa.url, "--tsa-ca", tsa.ca, "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "stamped" and out["token"]["nonce"] == query.nonce
    assert "chains to the given TSA root" in out["chain"]
    proc = lsf("verify", case.root, "--tsa-ca", tsa.ca)
    assert proc.returncode == 0, proc.stdout
    assert "RFC 3161 timestamp: manifest.json existed at" in proc.stdout
    out = subprocess.run(["openssl", "ts", "-verify", "-in", "manifest.tsr", "-queryfile", "manifest.tsq", "-CAfile",
                          str(tsa.ca), "-untrusted", "manifest.tsa.pem"], cwd=case.root, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    # A second stamp is a no-op
    again = stamp_case(case, tsa.url, tsa_ca=tsa.ca)
    assert again.status == "already"


def test_stamp_offline_exits_2_with_one_line(tmp_path, test_cache, realdata, lsf):
    case = build_case(tmp_path / "case", test_cache, realdata)
    make_report(case.root, formats="json")
    proc = lsf("stamp", case.root, "--tsa", closed_port_url())
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "unreachable" in proc.stderr and "Traceback" not in proc.stderr


def test_response_with_non_der_certificate_set_falls_back_to_openssl(tmp_path, test_cache, realdata):
    """openssl's own TSA writes the cert SET unsorted when it adds the CA; rfc3161-client refuses it."""
    odd = LocalTsa(tmp_path / "tsa2", extra_certs=True, name="Odd TSA")
    url = odd.start()
    try:
        case = build_case(tmp_path / "case", test_cache, realdata)
        res = make_report(case.root, formats="json", tsa=url, tsa_ca=odd.ca)
    finally:
        odd.stop()
    stamp = res.seal.timestamp
    assert stamp is not None and stamp.status == "stamped", stamp
    assert stamp.token["parser"] == "openssl" and "InvalidSetOrdering" in stamp.token["parser_note"]
    v = verify_case(case.root, tsa_ca=odd.ca)
    print(v.passed, v.notes)
    assert v.ok, v.problems
    assert any("rfc3161-client refused" in n for n in v.notes)
    # and a foreign root is refused through the same fallback path
    other = LocalTsa(tmp_path / "tsa3", name="Other TSA")
    v = verify_case(case.root, tsa_ca=other.ca)
    assert not v.ok and any(p.check == "timestamp" for p in v.problems)


def test_replayed_response_is_rejected_by_nonce(tmp_path, test_cache, realdata, tsa):
    """A genuine response for the same manifest but another query (nonce) is not accepted."""
    case = build_case(tmp_path / "case", test_cache, realdata)
    make_report(case.root, formats="json", tsa=tsa.url, tsa_ca=tsa.ca)
    data = (case.root / "manifest.json").read_bytes()
    foreign = tsa.reply(ts.make_query(data).der)  # same imprint, fresh nonce
    (case.root / "manifest.tsr").write_bytes(foreign)
    v = verify_case(case.root, tsa_ca=tsa.ca)
    assert not v.ok
    assert any("nonce differs" in p.message for p in v.problems)


def test_untrusted_root_and_missing_root(tmp_path, test_cache, realdata, tsa):
    case = build_case(tmp_path / "case", test_cache, realdata)
    make_report(case.root, formats="json", tsa=tsa.url)  # no --tsa-ca: not stored in the case
    v = verify_case(case.root)  # self-consistency only: passes, says so
    assert v.ok, v.problems
    assert any("no TSA root" in p for p in v.passed)
    other = LocalTsa(tmp_path / "other", name="Other TSA")
    v = verify_case(case.root, tsa_ca=other.ca)
    assert not v.ok and any("chain" in p.message for p in v.problems)


def test_stamp_refuses_a_response_for_other_data(tmp_path, test_cache, realdata, tsa):
    """A TSA that answers with a token over something else: nothing is stored, exit 1."""
    import http.server
    import threading

    case = build_case(tmp_path / "case", test_cache, realdata)
    make_report(case.root, formats="json")
    wrong = tsa.reply_for_data(b"not the manifest")

    class Liar(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", str(len(wrong)))
            self.end_headers()
            self.wfile.write(wrong)

        def log_message(self, *a) -> None:  # noqa: ANN002
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Liar)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        with pytest.raises(VerificationError, match="covers other data"):
            stamp_case(case, f"http://127.0.0.1:{srv.server_address[1]}/", tsa_ca=tsa.ca)
    finally:
        srv.shutdown()
        srv.server_close()
    assert not (case.root / "manifest.tsr").exists()
