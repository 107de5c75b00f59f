"""Case builder shared by the evidence and report tests (imported; holds no tests itself).

A case is made the real way: ``lsforensics.extract`` on a real video of the shared data set, then
a small stage (custody action ``test.findings``) writes a realistic transcript.json and
findings.json through ``run_stage``, so the custody log is the real hash chain. Findings are the
report's input, so writing them by hand is the honest fixture for the report and seal; they
include hostile text (``<script>``, ``</td>``, reportlab markup) as untrusted sources would.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

from lsforensics.case import Case, atomic_write_json
from lsforensics.findings import Finding, findings_document
from lsforensics.stage import Stage, run_stage

VIDEO = "video_outdoor_plane_failing_audio.mp4"  # real footage, 640x360, 11.26 s, with audio
HOSTILE_TITLE = '小香 经典款 <script>alert("x")</script></td></tr></table><b>ORIGINAL</b> <img src=x onerror=alert(1)>'
QUOTES = {
    "F_code": "这款小箱的包包今天福利价",
    "F_slang": "原版一比一，跟专柜一模一样",
    "F_abs": "全网最好的面料，第一品质",
}

_BASE: dict[str, Path] = {}


def _frames(case: Case) -> list[dict[str, Any]]:
    return json.loads(case.frames_json.read_text(encoding="utf-8"))


def realistic_findings(case: Case) -> list[Finding]:
    frames = _frames(case)
    fr = frames[min(2, len(frames) - 1)]
    return [
        Finding(kind="brand_codeword", source="speech", start=1.48, end=2.02, rule="brands/chanel.codewords",
                severity="high", confidence=0.82, match="pinyin", term="小香", matched="小箱", brand="Chanel",
                quote=QUOTES["F_code"], evidence=[frames[0]["file"]],
                explanation="小箱 is read xiao xiang, the code-word 小香 for Chanel"),
        Finding(kind="counterfeit_slang", source="speech", start=3.2, end=4.9, rule="slang/yibiyi",
                severity="high", confidence=0.95, match="exact", term="一比一", matched="一比一",
                quote=QUOTES["F_slang"]),
        Finding(kind="absolute_claim", source="screen", start=5.0, end=5.0, rule="adlaw/zuihao",
                severity="medium", confidence=0.7, match="exact", term="最好", matched="最好", quote=QUOTES["F_abs"],
                evidence=[fr["file"]], bbox=[40, 30, 200, 60],
                extra={"legal_basis": "《广告法》第九条第（三）项 / Advertising Law art. 9(3)"}),
        Finding(kind="masked_logo", source="frame", start=fr["t"], end=fr["t"] + 1.0, rule="visual.masking.tape",
                severity="medium", confidence=0.66, match="visual", evidence=[fr["file"]], bbox=[300, 120, 120, 80],
                explanation="uniform patch <b>over</b> a logo-shaped area"),
        Finding(kind="spec_mismatch", source="page", start=6.5, end=7.4, rule="claims.specs.material",
                severity="high", confidence=0.9, match="rule", quote="百分百真皮",
                extra={"claim": {"attribute": "材质", "value": "真皮", "quote": "百分百真皮", "start": 6.5},
                       "spec": {"attribute": "材质", "value": "PU", "page": HOSTILE_TITLE, "locator": "table tr[3]"}}),
        Finding(kind="price_anomaly", source="speech", start=8.0, end=9.1, rule="prices.luxury", severity="high",
                confidence=0.8, match="rule", brand="Chanel", quote="专柜价两万多，今天只要三百九",
                extra={"price": 390, "reference": 20000, "ratio": 0.0195}),
        Finding(kind="brand_mention", source="chat", start=9.5, end=9.5, rule="brands/chanel.names",
                severity="low", confidence=0.6, match="exact", term="香奈儿", matched="香奈儿",
                quote=HOSTILE_TITLE),
    ]


def many_findings(case: Case, n: int, seed: int = 7) -> list[Finding]:
    rng = random.Random(seed)
    frames = _frames(case)
    kinds = ["brand_codeword", "counterfeit_slang", "absolute_claim", "masked_logo", "brand_mention",
             "health_claim", "price_anomaly", "logo_match"]
    duration = 11.0
    out = []
    for i in range(n):
        k = rng.choice(kinds)
        t = round(rng.uniform(0, duration - 0.5), 3)
        fr = min(frames, key=lambda f: abs(f["t"] - t))
        out.append(Finding(
            kind=k, source=rng.choice(["speech", "screen", "frame", "chat"]), start=t, end=round(t + 0.4, 3),
            rule=f"test/{k}.{i % 13}", severity=rng.choice(["high", "medium", "low", "low"]),
            confidence=round(rng.uniform(0.3, 0.99), 3), match=rng.choice(["exact", "pinyin", "fuzzy", "visual"]),
            term="原版", matched="原版", quote=f"第{i}条 原版一比一 <td>{i}</td>", evidence=[fr["file"]],
            bbox=[10, 10, 50 + i % 100, 40] if i % 3 == 0 else None))
    return out


class FindingsFixtureStage(Stage):
    """Writes a transcript and findings for the report tests (custody action ``test.findings``)."""

    name = "test.findings"

    def __init__(self, findings: list[Finding]):
        self.findings = findings

    def params(self) -> dict[str, Any]:
        return {"n": len(self.findings)}

    def inputs(self, case: Case) -> list[Path]:
        return [case.source_json]

    def outputs(self, case: Case) -> list[Path]:
        return [case.transcript_json, case.findings_json]

    def run(self, case, progress) -> dict[str, Any]:  # noqa: ANN001
        sha = case.source["sha256"]
        segs = [{"start": 1.0, "end": 2.5, "text": QUOTES["F_code"], "raw_text": "這款小箱的包包今天福利價",
                 "words": []},
                {"start": 3.0, "end": 5.0, "text": QUOTES["F_slang"], "words": []},
                {"start": 7.9, "end": 9.3, "text": "专柜价两万多，今天只要三百九 <script>x</script>", "words": []}]
        atomic_write_json(case.transcript_json, {
            "schema": "lsf.transcript/1", "language": "zh", "backend": "faster-whisper",
            "model": {"name": "whisper-base (CTranslate2, int8)", "sha256": "ab" * 32}, "segments": segs,
            "candidates": [{"term": "小香", "start": 1.48, "end": 2.02, "heard": "小香", "unbiased": "小箱",
                            "similarity": 1.0, "accepted": True, "method": "pinyin"}]})
        atomic_write_json(case.findings_json, findings_document(self.findings, source_sha256=sha,
                                                                rules_sha256="cd" * 32))
        return {"findings": len(self.findings)}


def extracted_base(cache: Path, realdata: Path) -> Path:
    """Run the real extract once per session; tests copy the result."""
    if "base" not in _BASE:
        from lsforensics.extract import extract

        root = cache / "evidence-base-case"
        shutil.rmtree(root, ignore_errors=True)
        extract(realdata / VIDEO, root, argv=["lsf", "extract", str(realdata / VIDEO), "-C", str(root)])
        _BASE["base"] = root
    return _BASE["base"]


def build_case(dest: Path, cache: Path, realdata: Path, *, n_findings: int | None = None) -> Case:
    shutil.copytree(extracted_base(cache, realdata), dest)
    case = Case(dest)
    findings = realistic_findings(case) if n_findings is None else many_findings(case, n_findings)
    run_stage(case, FindingsFixtureStage(findings), argv=["pytest", "fixture"])
    return case


def sealed_signed_stamped(base: Path, cache: Path, realdata: Path, *, formats: str = "html,pdf,json") -> dict[str, Any]:
    """A case sealed with a new Ed25519 key and a timestamp from a new local TSA (then stopped):
    ``{"root", "key", "tsa", "url"}``."""
    from lsforensics.evidence.sign import generate_keypair
    from lsforensics.report import make_report

    tsa = LocalTsa(base / "tsa")
    url = tsa.start()
    try:
        case = build_case(base / "case", cache, realdata)
        kp = generate_keypair(base / "lab.key", base / "lab.pub")
        res = make_report(case.root, formats=formats, sign_key=kp.private_path, tsa=url, tsa_ca=tsa.ca)
        assert res.seal.timestamp is not None and res.seal.timestamp.status == "stamped"
    finally:
        tsa.stop()
    return {"root": case.root, "key": kp, "tsa": tsa, "url": url}


# -- a real RFC 3161 TSA: `openssl ts -reply` with a test CA, behind HTTP on 127.0.0.1 --------
_TSA_CNF = """
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = {dir}/serial
crypto_device = builtin
signer_cert = {dir}/tsa.crt
signer_key = {dir}/tsa.key
{certs_line}
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
[ v3_tsa ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
[ v3_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
"""


def _run(*args: str, cwd: Path | None = None, input_bytes: bytes | None = None) -> bytes:
    import subprocess

    out = subprocess.run(list(args), cwd=cwd, input=input_bytes, capture_output=True, timeout=60, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {out.stderr.decode(errors='replace')}")
    return out.stdout


class LocalTsa:
    """A real timestamp authority: test root CA + TSA certificate, `openssl ts -reply` per request.

    ``extra_certs=True`` makes openssl include the CA certificate too, which writes the SignedData
    certificate SET in non-DER order (KNOWN.md): rfc3161-client refuses such responses.
    """

    def __init__(self, folder: Path, *, extra_certs: bool = False, name: str = "Test TSA"):
        self.dir = folder
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "serial").write_text("01\n")
        certs_line = f"certs = {folder}/ca.crt" if extra_certs else ""
        (folder / "tsa.cnf").write_text(_TSA_CNF.format(dir=folder, certs_line=certs_line))
        cnf = str(folder / "tsa.cnf")
        _run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650", "-subj", f"/CN={name} Root CA",
             "-config", cnf, "-extensions", "v3_ca", cwd=folder)
        _run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", f"/CN={name}", "-config", cnf, cwd=folder)
        _run("openssl", "x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "tsa.crt", "-days", "3650", "-extfile", cnf, "-extensions", "v3_tsa", cwd=folder)
        self.ca = folder / "ca.crt"
        self.cert = folder / "tsa.crt"
        self.requests = 0
        self._server = None

    def reply(self, tsq: bytes) -> bytes:
        import tempfile

        with tempfile.TemporaryDirectory(dir=self.dir) as tmp:
            q, r = Path(tmp) / "q.tsq", Path(tmp) / "r.tsr"
            q.write_bytes(tsq)
            _run("openssl", "ts", "-reply", "-config", str(self.dir / "tsa.cnf"), "-section", "tsa_config",
                 "-queryfile", str(q), "-out", str(r))
            return r.read_bytes()

    def reply_for_data(self, data: bytes) -> bytes:
        """A genuine response of this TSA for other data (to swap into a case)."""
        import tempfile

        with tempfile.TemporaryDirectory(dir=self.dir) as tmp:
            d = Path(tmp) / "other"
            d.write_bytes(data)
            tsq = _run("openssl", "ts", "-query", "-data", str(d), "-sha256", "-cert")
        return self.reply(tsq)

    def start(self) -> str:
        import http.server
        import threading

        tsa = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(n, 65536))
                try:
                    tsr = tsa.reply(body)
                except RuntimeError:
                    self.send_error(400)
                    return
                tsa.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(tsr)))
                self.end_headers()
                self.wfile.write(tsr)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}/tsr"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def closed_port_url() -> str:
    """A loopback URL where nothing listens (the 'offline' TSA)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/tsr"
