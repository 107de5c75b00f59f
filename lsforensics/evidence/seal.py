"""Sealing a case: custody entry, then manifest, then signature, then timestamp.

The order matters. The manifest lists ``custody.jsonl``, so the ``seal`` custody entry is
appended first and the manifest is written after it; the signature is over the manifest bytes
and the timestamp over the same bytes, so both come last and are excluded from the manifest
(top-level ``manifest.*``). Resealing removes the previous seal's files first, so a stale
signature or timestamp can never sit next to a new manifest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..case import Case, atomic_write_bytes
from ..custody import CustodyLog
from ..errors import InputError, VerificationError
from ..stage import case_operator
from . import manifest as mf
from . import seals
from . import sign as sg
from . import timestamp as ts


@dataclass
class StampOutcome:
    status: str  # stamped | pending | already
    tsa: str
    message: str
    token: dict[str, Any] | None = None
    chain: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "tsa": self.tsa, "message": self.message, "token": self.token,
                "chain": self.chain}


@dataclass
class SealResult:
    case: Path
    skipped: bool
    manifest_sha256: str
    file_count: int
    signer: str | None = None  # key fingerprint
    timestamp: StampOutcome | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"case": str(self.case), "skipped": self.skipped, "manifest_sha256": self.manifest_sha256,
                "file_count": self.file_count, "signer": self.signer,
                "timestamp": self.timestamp.to_json() if self.timestamp else None, "notes": self.notes}


def _load_roots(tsa_ca: Path | None, case: Case) -> tuple[list[Any] | None, bytes | None]:
    if tsa_ca is not None:
        try:
            data = Path(tsa_ca).read_bytes()
        except OSError as exc:
            raise InputError(f"--tsa-ca {tsa_ca}: cannot read ({exc.strerror})") from None
        return ts.load_pem_certificates(data, str(tsa_ca)), data
    stored = case.root / mf.MANIFEST_TSA_CA
    if stored.is_file() and not stored.is_symlink():
        data = stored.read_bytes()
        return ts.load_pem_certificates(data, mf.MANIFEST_TSA_CA), data
    return None, None


def _signature_current(case: Case, fingerprint: str, data: bytes) -> bool:
    sig, pub = case.root / mf.MANIFEST_SIG, case.root / mf.MANIFEST_PUB
    if not (sig.is_file() and pub.is_file()):
        return False
    try:
        key = sg.load_public_key(pub)
    except InputError:
        return False
    return sg.fingerprint(key) == fingerprint and sg.check_signature(key, sig.read_bytes(), data)


def stamp_case(case: Case, tsa: str, *, tsa_ca: Path | None = None, timeout: float = 30.0,
               force: bool = False) -> StampOutcome:
    """Timestamp ``manifest.json`` (or finish an offline query). Nothing else in the case changes."""
    with case.locked():
        mpath = case.root / mf.MANIFEST_JSON
        if not mpath.is_file():
            raise InputError(f"{case.root} is not sealed (no manifest.json): run `lsf report -C {case.root}` first")
        data = mpath.read_bytes()
        roots, roots_pem = _load_roots(tsa_ca, case)
        tsr_path, tsq_path = case.root / mf.MANIFEST_TSR, case.root / mf.MANIFEST_TSQ
        query: ts.TimestampQuery | None = None
        if tsq_path.is_file():
            try:
                query = ts.parse_query(tsq_path.read_bytes())
            except ValueError:
                query = None
            if query is not None and query.imprint != hashlib.sha256(data).hexdigest():
                query = None  # made for an earlier manifest
        if tsr_path.is_file() and not force:
            try:
                info = ts.parse_response(tsr_path.read_bytes())
                if not ts.response_problems(info, data, query):
                    return StampOutcome("already", tsa, f"manifest.json already stamped at {info.gen_time}",
                                        info.to_json())
            except ValueError:
                pass
        if query is None:
            query = ts.make_query(data)
            atomic_write_bytes(tsq_path, query.der)
        if tsa_ca is not None and roots_pem is not None:
            atomic_write_bytes(case.root / mf.MANIFEST_TSA_CA, roots_pem)
        try:
            tsr = ts.post_query(tsa, query.der, timeout=timeout)
        except ts.TsaUnreachable as exc:
            return StampOutcome("pending", tsa, f"{exc}; the query is kept in {mf.MANIFEST_TSQ}: "
                                f"run `lsf stamp {case.root} --tsa {tsa}` when online")
        try:
            info = ts.parse_response(tsr)
        except ValueError as exc:
            raise VerificationError(f"TSA {tsa} sent something that is not a timestamp response: {exc}") from None
        problems = ts.response_problems(info, data, query)
        if problems:
            raise VerificationError(f"TSA {tsa} response rejected: {'; '.join(problems)}")
        chain = ts.verify_signature_chain(tsr, data, info, roots)
        if not chain.ok:
            raise VerificationError(f"TSA {tsa} response rejected: {chain.message}")
        atomic_write_bytes(tsr_path, tsr)
        if info.certificates:
            atomic_write_bytes(case.root / mf.MANIFEST_TSA_CERTS, ts.certificates_pem(info.certificates))
        return StampOutcome("stamped", tsa, f"manifest.json stamped at {info.gen_time} by {info.tsa_name or tsa}",
                            info.to_json(), chain.message)


def seal_case(
    case: Case,
    *,
    sign_key: Path | None = None,
    tsa: str | None = None,
    tsa_ca: Path | None = None,
    argv: list[str] | None = None,
    operator: str | None = None,
    force: bool = False,
    tsa_timeout: float = 30.0,
) -> SealResult:
    """Append the ``seal`` custody entry, write the manifest, sign it and timestamp it."""
    with case.locked():
        # Everything that can fail on bad input is checked before the case is touched.
        key = sg.load_private_key(sign_key) if sign_key else None
        fpr = sg.fingerprint(key.public_key()) if key else None
        roots_pem = _load_roots(tsa_ca, case)[1] if tsa_ca is not None else None
        if tsa is not None and not tsa.startswith(("http://", "https://")):
            raise InputError(f"--tsa {tsa!r}: expected an http:// or https:// URL")
        mpath = case.root / mf.MANIFEST_JSON
        if not force and mf.manifest_is_current(case):
            data = mpath.read_bytes()
            sig_ok = key is None or _signature_current(case, fpr or "", data)
            tsr_ok = tsa is None or (case.root / mf.MANIFEST_TSR).is_file()
            if sig_ok and tsr_ok:
                doc = mf.read_manifest(case.root)[1]
                return SealResult(case.root, True, hashlib.sha256(data).hexdigest(), doc.get("file_count", 0),
                                  (doc.get("signer") or {}).get("fingerprint"), None,
                                  ["case already sealed and unchanged"])
        seals.keep_manifest(case)  # a reseal keeps the previous seal under seals/N/, never deletes it
        signer = ({"algorithm": "ed25519", "fingerprint": fpr, "public_key": sg.public_pem(key.public_key()).decode()}
                  if key else None)
        CustodyLog(case.custody).append(
            "seal",
            inputs=[],
            outputs=[],
            params={"signer": fpr, "tsa": tsa, "algorithm": "sha256"},
            argv=argv,
            operator=operator or case_operator(case),
            result={"note": "manifest.json is written after this entry and covers this log up to this line"},
        )
        seal = mf.seal_record(fpr, tsa, hashlib.sha256(roots_pem).hexdigest() if roots_pem else None)
        doc = mf.build_manifest(case, signer=signer, timestamp={"tsa": tsa} if tsa else None, seal=seal)
        data = mf.write_manifest(case, doc)
        result = SealResult(case.root, False, hashlib.sha256(data).hexdigest(), doc["file_count"], fpr)
        if key is not None:
            atomic_write_bytes(case.root / mf.MANIFEST_SIG, sg.sign(key, data))
            atomic_write_bytes(case.root / mf.MANIFEST_PUB, sg.public_pem(key.public_key()))
        if roots_pem is not None:
            atomic_write_bytes(case.root / mf.MANIFEST_TSA_CA, roots_pem)
        if tsa is not None:
            result.timestamp = stamp_case(case, tsa, tsa_ca=tsa_ca, timeout=tsa_timeout)
        return result
