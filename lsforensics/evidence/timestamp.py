"""RFC 3161 trusted timestamps over ``manifest.json``.

Flow: a query (``manifest.tsq``, SHA-256 imprint of manifest.json, a random nonce, certReq) is
written first; it is sent to the TSA over HTTP; the full response (``manifest.tsr``, a
TimeStampResp, not a bare token) is accepted only if its status is granted, its imprint is the
hash of manifest.json and its nonce is the query's. The certificates the TSA included are saved
as ``manifest.tsa.pem``. Offline, the query stays in the case and ``lsf stamp`` sends it later.

A TSA time attests that manifest.json (and so every file it lists) existed at that time. It says
nothing about when the livestream was recorded.

Two independent parsers: rfc3161-client first; when it refuses a response (it rejects SignedData
certificate SETs in non-DER order, which ``openssl ts`` itself produces, see KNOWN.md) the
``openssl ts`` command line is used for parsing and for the signature check, and the result says so.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import rfc3161_client
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ..errors import InputError

_HASH_OIDS = {
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}


class TsaUnreachable(InputError):
    """The TSA could not be reached (offline, DNS, refused, timeout): the query is kept for later."""


@dataclass
class TimestampQuery:
    der: bytes
    nonce: int | None
    hash_algorithm: str
    imprint: str  # hex


@dataclass
class TokenInfo:
    """What a timestamp response says, whichever parser read it."""

    status: int
    granted: bool
    gen_time: str | None  # UTC ISO 8601
    serial: int | None
    policy: str | None
    nonce: int | None
    hash_algorithm: str | None
    imprint: str | None  # hex of the hashed message
    tsa_name: str | None
    certificates: list[bytes] = field(default_factory=list)  # DER, as found in the response
    parser: str = "rfc3161-client"
    parser_note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "granted": self.granted, "gen_time": self.gen_time, "serial": self.serial, "policy": self.policy,
            "nonce": self.nonce, "hash_algorithm": self.hash_algorithm, "imprint": self.imprint,
            "tsa_name": self.tsa_name, "certificates": len(self.certificates), "parser": self.parser,
            "parser_note": self.parser_note,
        }


# -- query --------------------------------------------------------------------------------
def make_query(data: bytes) -> TimestampQuery:
    req = (rfc3161_client.TimestampRequestBuilder().data(data)
           .hash_algorithm(rfc3161_client.HashAlgorithm.SHA256).nonce(nonce=True).cert_request(cert_request=True)
           .build())
    return TimestampQuery(req.as_bytes(), req.nonce, "sha256", req.message_imprint.message.hex())


def parse_query(der: bytes) -> TimestampQuery:
    try:
        req = rfc3161_client._rust.parse_timestamp_request(der)  # public builder has no parser
        algo = _HASH_OIDS.get(req.message_imprint.hash_algorithm.dotted_string, "unknown")
        return TimestampQuery(der, req.nonce, algo, req.message_imprint.message.hex())
    except Exception as exc:  # noqa: BLE001 - any parse failure means the file is not a query
        raise ValueError(f"not an RFC 3161 query ({exc})") from None


# -- transport ----------------------------------------------------------------------------
def post_query(url: str, der: bytes, *, timeout: float = 30.0) -> bytes:
    if not re.match(r"^https?://", url):
        raise InputError(f"--tsa {url!r}: expected an http:// or https:// URL")
    req = urllib.request.Request(url, data=der, method="POST",
                                 headers={"Content-Type": "application/timestamp-query",
                                          "Accept": "application/timestamp-reply"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - scheme checked above
            body = resp.read(4 * 1024 * 1024)
    except urllib.error.HTTPError as exc:
        raise InputError(f"TSA {url} answered HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TsaUnreachable(f"TSA {url} unreachable: {reason}") from None
    if not body:
        raise InputError(f"TSA {url} sent an empty answer")
    return body


# -- response parsing ---------------------------------------------------------------------
def _iso(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_rfc3161(tsr: bytes) -> TokenInfo:
    resp = rfc3161_client.decode_timestamp_response(tsr)
    granted = resp.status in (0, 1)
    tst = resp.tst_info
    name = None
    try:
        name = tst.name.value.rfc4514_string() if tst.name is not None else None
    except Exception:  # noqa: BLE001 - the TSA name is optional and informative only
        name = None
    mi = tst.message_imprint
    return TokenInfo(
        status=resp.status, granted=granted, gen_time=_iso(tst.gen_time), serial=tst.serial_number,
        policy=tst.policy.dotted_string if tst.policy is not None else None, nonce=tst.nonce,
        hash_algorithm=_HASH_OIDS.get(mi.hash_algorithm.dotted_string, mi.hash_algorithm.dotted_string),
        imprint=mi.message.hex(), tsa_name=name, certificates=sorted(resp.signed_data.certificates),
    )


def _openssl(args: list[str], *, input_bytes: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    if shutil.which("openssl") is None:
        raise ValueError("openssl is not installed")
    return subprocess.run(["openssl", *args], input=input_bytes, capture_output=True, timeout=60, check=False)


def _parse_openssl(tsr: bytes) -> TokenInfo:
    with tempfile.TemporaryDirectory(prefix="lsf-ts-") as tmp:
        path = Path(tmp) / "r.tsr"
        path.write_bytes(tsr)
        out = _openssl(["ts", "-reply", "-in", str(path), "-text"])
        if out.returncode != 0:
            raise ValueError(f"openssl cannot read it either: {out.stderr.decode(errors='replace').strip()[:200]}")
        text = out.stdout.decode("utf-8", errors="replace")
        tok = Path(tmp) / "t.der"
        _openssl(["ts", "-reply", "-in", str(path), "-token_out", "-out", str(tok)])
        certs: list[bytes] = []
        if tok.exists():
            pem = _openssl(["pkcs7", "-inform", "DER", "-in", str(tok), "-print_certs"]).stdout
            for m in re.finditer(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", pem, re.S):
                certs.append(x509.load_pem_x509_certificate(m.group(0)).public_bytes(Encoding.DER))

    def field_(name: str) -> str | None:
        m = re.search(rf"^{re.escape(name)}:\s*(.*)$", text, re.M)
        return m.group(1).strip() if m else None

    status = field_("Status") or ""
    imprint = None
    m = re.search(r"^Message data:\n((?:\s+[0-9a-f]{4} - .*\n)+)", text, re.M)
    if m:
        hexes = []
        for line in m.group(1).splitlines():
            body = line.split(" - ", 1)[1][:49]  # 16 bytes "xx xx ... xx-xx ..." then ASCII
            hexes.append(re.sub(r"[^0-9a-f]", "", body.replace("-", " ")))
        imprint = "".join(hexes)
    gen = field_("Time stamp")
    gen_iso = None
    if gen:
        try:
            gen_iso = _iso(datetime.strptime(gen.replace(" GMT", ""), "%b %d %H:%M:%S %Y"))
        except ValueError:
            try:
                gen_iso = _iso(datetime.strptime(gen.replace(" GMT", ""), "%b %d %H:%M:%S.%f %Y"))
            except ValueError:
                gen_iso = gen
    nonce_txt = field_("Nonce")
    serial_txt = field_("Serial number")

    def num(s: str | None) -> int | None:
        if not s or s == "unspecified":
            return None
        return int(s, 16) if s.lower().startswith("0x") else int(s)

    granted = status.startswith("Granted")
    return TokenInfo(
        status=0 if granted else 2, granted=granted, gen_time=gen_iso, serial=num(serial_txt),
        policy=field_("Policy OID"), nonce=num(nonce_txt), hash_algorithm=(field_("Hash Algorithm") or "").lower() or None,
        imprint=imprint, tsa_name=field_("TSA"), certificates=certs, parser="openssl",
    )


def parse_response(tsr: bytes) -> TokenInfo:
    """Parse a TimeStampResp with rfc3161-client, falling back to ``openssl ts -reply -text``."""
    try:
        return _parse_rfc3161(tsr)
    except Exception as first:  # noqa: BLE001 - any refusal: try the second parser and say so
        try:
            info = _parse_openssl(tsr)
        except ValueError as second:
            raise ValueError(f"not a readable RFC 3161 response (rfc3161-client: {first}; {second})") from None
        info.parser_note = f"rfc3161-client refused the response ({first}); read with openssl ts"
        return info


def response_problems(info: TokenInfo, data: bytes, query: TimestampQuery | None) -> list[str]:
    """Why a response does not stamp ``data`` (empty list: it does)."""
    problems = []
    if not info.granted:
        problems.append(f"the TSA did not grant the timestamp (status {info.status})")
    algo = info.hash_algorithm or ""
    if algo not in ("sha256", "sha384", "sha512"):
        problems.append(f"unsupported imprint hash algorithm {algo!r}")
    else:
        digest = hashlib.new(algo, data).hexdigest()
        if info.imprint != digest:
            problems.append(f"the timestamp covers other data (imprint {str(info.imprint)[:16]}…, "
                            f"manifest.json {algo} {digest[:16]}…)")
    if query is not None:
        if query.nonce is not None and info.nonce != query.nonce:
            problems.append("the response nonce differs from the query's (a replayed or foreign response)")
        if query.imprint != hashlib.sha256(data).hexdigest() and query.hash_algorithm == "sha256":
            problems.append("manifest.tsq was made for another manifest.json")
    return problems


def certificates_pem(certs: list[bytes]) -> bytes:
    return b"".join(x509.load_der_x509_certificate(c).public_bytes(Encoding.PEM) for c in certs)


def load_pem_certificates(data: bytes, name: str) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise InputError(f"{name} holds no PEM certificate") from None
    if not certs:
        raise InputError(f"{name} holds no PEM certificate")
    return certs


@dataclass
class ChainCheck:
    ok: bool
    method: str
    message: str


def verify_signature_chain(tsr: bytes, data: bytes, info: TokenInfo,
                           roots: list[x509.Certificate] | None) -> ChainCheck:
    """Check the response's CMS signature.

    With ``roots``: the signer must chain to one of them (a trusted TSA root). Without: only that
    the response is signed by the key of the certificate it carries (self-consistency; it does not
    tell who that TSA is).
    """
    embedded = [x509.load_der_x509_certificate(c) for c in info.certificates]
    if roots and info.parser == "rfc3161-client":
        builder = rfc3161_client.VerifierBuilder()
        for r in roots:
            builder = builder.add_root_certificate(r)
        for c in embedded:
            if c not in roots:
                builder = builder.add_intermediate_certificate(c)
        try:
            builder.build().verify_message(rfc3161_client.decode_timestamp_response(tsr), data)
        except rfc3161_client.VerificationError as exc:
            return ChainCheck(False, "rfc3161-client", f"TSA signature/chain check failed: {exc}")
        return ChainCheck(True, "rfc3161-client", "TSA signature valid and chains to the given TSA root")
    # openssl: with the roots as trust anchors, or the embedded signer certificate itself.
    with tempfile.TemporaryDirectory(prefix="lsf-ts-") as tmp:
        t = Path(tmp)
        (t / "r.tsr").write_bytes(tsr)
        (t / "data").write_bytes(data)
        (t / "embedded.pem").write_bytes(certificates_pem(info.certificates))
        if roots:
            (t / "roots.pem").write_bytes(b"".join(r.public_bytes(Encoding.PEM) for r in roots))
            args = ["-CAfile", str(t / "roots.pem")]
            if info.certificates:
                args += ["-untrusted", str(t / "embedded.pem")]
            what = "chains to the given TSA root"
        else:
            if not info.certificates:
                return ChainCheck(False, "none", "the response carries no certificate and no TSA root was given")
            args = ["-CAfile", str(t / "embedded.pem"), "-partial_chain"]
            what = ("is signed by the certificate it carries (no TSA root given, so who the TSA is was "
                    "not checked)")
        try:
            out = _openssl(["ts", "-verify", "-in", str(t / "r.tsr"), "-data", str(t / "data"), *args])
        except ValueError as exc:
            return ChainCheck(False, "none", f"signature not checked: {exc}")
    msg = (out.stdout + out.stderr).decode(errors="replace")
    if out.returncode == 0 and "Verification: OK" in msg:
        return ChainCheck(True, "openssl", f"TSA signature valid and {what}")
    last = [line for line in msg.splitlines() if "error" in line.lower() or "FAILED" in line]
    return ChainCheck(False, "openssl", "TSA signature/chain check failed: " + (last[-1] if last else msg.strip()[:200]))
