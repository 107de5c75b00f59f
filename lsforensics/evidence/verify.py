"""``lsf verify``: re-check a sealed case the way an opposing expert would.

Checks, each reported by name: every manifest file is present with its size and sha256; no file
was added; ``manifest.sha256`` says the same as ``manifest.json``; the custody log's hash chain
is unbroken and its latest output records match the files; the Ed25519 signature; the RFC 3161
timestamp covers manifest.json (imprint and the query's nonce) and its signature; and, with
``--source``, the source video's hash.

Every path read from the manifest or the custody log is untrusted: an absolute path, a ``..``
or a symlink on the way is reported and never opened or followed. Verification never writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..custody import CustodyLog
from ..errors import InputError
from ..evidence.hashing import digest_file, sha256sum_format
from . import manifest as mf
from . import sign as sg
from . import timestamp as ts


@dataclass
class Problem:
    check: str  # files | added | manifest | custody | signature | timestamp | source
    path: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.path + ': ' if self.path else ''}{self.message}"


@dataclass
class VerifyResult:
    case: str
    ok: bool = True
    problems: list[Problem] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    timestamp: dict[str, Any] | None = None
    signer: str | None = None
    seals: list[dict[str, Any]] = field(default_factory=list)  # kept earlier seals (seals/N/), see seals.py

    def fail(self, check: str, path: str | None, message: str) -> None:
        self.ok = False
        self.problems.append(Problem(check, path, message))

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["problems"] = [{**asdict(p), "text": str(p)} for p in self.problems]
        return d


def _hash_inside(root: Path, rel: str) -> tuple[int, str]:
    return mf.hash_fd(mf.open_inside(root, rel))


def _check_files(root: Path, doc: dict[str, Any], res: VerifyResult) -> set[str]:
    listed: set[str] = set()
    bad = 0
    for n, entry in enumerate(doc.get("files") or []):
        if not isinstance(entry, dict):
            res.fail("manifest", None, f"files[{n}] is not an object")
            continue
        rel = entry.get("path")
        reason = mf.unsafe_path_reason(rel)
        if reason:
            res.fail("manifest", str(rel), f"unsafe manifest path rejected, not followed ({reason})")
            bad += 1
            continue
        listed.add(rel)
        if mf.is_manifest_file(rel):
            res.fail("manifest", rel, "manifest lists one of its own manifest.* files")
            continue
        link = mf.symlink_on_path(root, rel)
        if link:
            res.fail("files", rel, f"{link} is a symlink: not followed")
            bad += 1
            continue
        try:
            size, digest = _hash_inside(root, rel)
        except FileNotFoundError:
            res.fail("files", rel, "missing (listed in the manifest, not in the case)")
            bad += 1
            continue
        except OSError as exc:
            res.fail("files", rel, f"cannot be checked: {exc.strerror or exc}")
            bad += 1
            continue
        if digest != entry.get("sha256"):
            res.fail("files", rel, f"changed: sha256 {digest} but the manifest says {entry.get('sha256')}")
            bad += 1
        elif size != entry.get("size"):
            res.fail("files", rel, f"changed: size {size} but the manifest says {entry.get('size')}")
            bad += 1
    if not bad:
        res.passed.append(f"all {len(listed)} files listed in manifest.json are present and unchanged")
    return listed


def _check_added(root: Path, listed: set[str], res: VerifyResult) -> None:
    files, links, others = mf.walk_case(root)
    added = [f for f in files if f not in listed]
    for rel in added:
        res.fail("added", rel, "added: in the case but not in the manifest")
    for rel in links:
        res.fail("added", rel, "symlink in the case: not followed (evidence must be plain files)")
    for rel in others:
        res.fail("added", rel, "special file (not a regular file) in the case")
    if not (added or links or others):
        res.passed.append("no file was added to the case after sealing")


def _check_sha256_list(root: Path, doc: dict[str, Any], res: VerifyResult) -> None:
    path = root / mf.MANIFEST_SHA256
    if not path.is_file() or path.is_symlink():
        res.fail("manifest", mf.MANIFEST_SHA256, "missing")
        return
    expected = sha256sum_format([(f.get("sha256"), f.get("path")) for f in doc.get("files") or []
                                 if isinstance(f, dict)])
    if path.read_bytes() != expected.encode("utf-8"):
        res.fail("manifest", mf.MANIFEST_SHA256, "does not list the same files and hashes as manifest.json")
    else:
        res.passed.append("manifest.sha256 matches manifest.json (so `sha256sum -c manifest.sha256` checks the same)")


def _check_custody(root: Path, source_path: str | None, res: VerifyResult) -> None:
    log = CustodyLog(root / "custody.jsonl")
    if not log.path.is_file():
        res.fail("custody", "custody.jsonl", "missing")
        return
    problems = log.verify_chain()
    for p in problems:
        res.fail("custody", "custody.jsonl", str(p))
    entries: list[tuple[int, dict[str, Any]]] = []
    for n, raw in enumerate(log.raw_lines(), 1):
        try:
            e = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(e, dict):
            entries.append((n, e))
    external: set[str] = set()
    unsafe = False
    for n, e in entries:
        for key in ("inputs", "outputs"):
            for rec in e.get(key) or []:
                p = rec.get("path") if isinstance(rec, dict) else None
                reason = mf.unsafe_path_reason(p)
                if reason is None:
                    link = mf.symlink_on_path(root, p)
                    if link:
                        res.fail("custody", f"custody.jsonl line {n}", f"{key} path {p!r}: {link} is a symlink, not followed")
                        unsafe = True
                    continue
                # Stage inputs outside the case (the source video, a rules folder, a model) are
                # recorded by absolute path: named, never opened. Anything else is rejected.
                if key == "inputs" and isinstance(p, str) and p.startswith("/") and ".." not in Path(p).parts:
                    external.add(p)
                    continue
                res.fail("custody", f"custody.jsonl line {n}", f"{key} path {p!r} rejected, not followed ({reason})")
                unsafe = True
    if external:
        others = sorted(external - {source_path})
        res.notes.append("custody names inputs outside the case (not opened by verify): "
                         + ", ".join(sorted(external)) + ("" if not others else
                                                          " (other than the source: rules, models or input files)"))
    # The latest run of each action says what it wrote; those files must still be what it wrote.
    latest: dict[str, dict[str, Any]] = {}
    for _n, e in entries:
        latest[str(e.get("action"))] = e
    last_write: dict[str, tuple[int, str]] = {}
    for e in latest.values():
        for rec in e.get("outputs") or []:
            p = rec.get("path") if isinstance(rec, dict) else None
            if mf.unsafe_path_reason(p) is None:
                seq = int(e.get("seq") or 0)
                if p not in last_write or last_write[p][0] < seq:
                    last_write[p] = (seq, rec.get("sha256"))
    mism = 0
    for p, (seq, digest) in sorted(last_write.items()):
        if mf.symlink_on_path(root, p):
            continue
        target = root / p.rstrip("/")
        if p.endswith("/"):
            if not target.is_dir():
                res.fail("custody", p, f"written by custody entry {seq} but missing now")
                mism += 1
                continue
            from .hashing import digest_tree

            now = digest_tree(target)
        else:
            try:
                now = _hash_inside(root, p)[1]
            except OSError:
                res.fail("custody", p, f"written by custody entry {seq} but missing or unreadable now")
                mism += 1
                continue
        if now != digest:
            res.fail("custody", p, f"differs from what custody entry {seq} recorded writing")
            mism += 1
    if not problems and not unsafe and not mism:
        res.passed.append(f"custody.jsonl hash chain intact ({len(entries)} entries); the latest outputs of "
                          f"each action are unchanged")


def _check_review_log(root: Path, res: VerifyResult) -> None:
    """review.jsonl, when the case was reviewed: the same hash chain as custody.jsonl."""
    from ..review.decisions import REVIEW_FILE, ReviewLog

    log = ReviewLog(root / REVIEW_FILE)
    if not log.path.is_file() or log.path.is_symlink():
        return
    problems = log.verify_chain()
    for p in problems:
        res.fail("review", REVIEW_FILE, str(p))
    if not problems:
        res.passed.append(f"{REVIEW_FILE} hash chain intact ({len(log.raw_lines())} decisions)")


def _check_signature(root: Path, data: bytes, doc: dict[str, Any], pubkey: Path | None, res: VerifyResult) -> None:
    sig_path, pub_path = root / mf.MANIFEST_SIG, root / mf.MANIFEST_PUB
    if not sig_path.is_file():
        if pubkey is not None:
            res.fail("signature", mf.MANIFEST_SIG, "missing: the case is not signed")
        elif doc.get("signer"):
            res.fail("signature", mf.MANIFEST_SIG, "missing although manifest.json names a signer")
        else:
            res.notes.append("the case is not signed (no manifest.sig)")
        return
    if pubkey is not None:
        key = sg.load_public_key(pubkey)
        trust = f"the public key you gave ({pubkey})"
    elif pub_path.is_file() and not pub_path.is_symlink():
        try:
            key = sg.load_public_key_bytes(pub_path.read_bytes(), mf.MANIFEST_PUB)
        except InputError as exc:
            res.fail("signature", mf.MANIFEST_PUB, str(exc))
            return
        trust = f"the key stored in the case ({mf.MANIFEST_PUB}); pass --pubkey to check it is the key you trust"
    else:
        res.fail("signature", mf.MANIFEST_SIG, "no public key: pass --pubkey")
        return
    fpr = sg.fingerprint(key)
    res.signer = fpr
    named = (doc.get("signer") or {}).get("fingerprint")
    if named and named != fpr:
        res.fail("signature", mf.MANIFEST_SIG, f"manifest.json names signer {named[:16]}…, not key {fpr[:16]}…")
    if sg.check_signature(key, sig_path.read_bytes(), data):
        res.passed.append(f"Ed25519 signature over manifest.json is valid for key {fpr} ({trust})")
    else:
        res.fail("signature", mf.MANIFEST_SIG, f"bad signature: manifest.sig does not verify with key {fpr[:16]}…")


def _check_timestamp(root: Path, data: bytes, tsa_ca: Path | None, res: VerifyResult) -> None:
    tsr_path, tsq_path = root / mf.MANIFEST_TSR, root / mf.MANIFEST_TSQ
    if not tsr_path.is_file():
        if tsq_path.is_file():
            res.notes.append("timestamp pending: manifest.tsq is waiting; run `lsf stamp CASE --tsa URL`")
        else:
            res.notes.append("no RFC 3161 timestamp (no manifest.tsr)")
        return
    tsr = tsr_path.read_bytes()
    try:
        info = ts.parse_response(tsr)
    except ValueError as exc:
        res.fail("timestamp", mf.MANIFEST_TSR, str(exc))
        return
    res.timestamp = info.to_json()
    query = None
    if tsq_path.is_file():
        try:
            query = ts.parse_query(tsq_path.read_bytes())
        except ValueError as exc:
            res.fail("timestamp", mf.MANIFEST_TSQ, str(exc))
    if query is None:
        res.notes.append("no manifest.tsq in the case: the response's nonce could not be checked")
    problems = ts.response_problems(info, data, query)
    for p in problems:
        res.fail("timestamp", mf.MANIFEST_TSR, f"does not cover manifest.json: {p}")
    roots = None
    if tsa_ca is not None:
        roots = ts.load_pem_certificates(Path(tsa_ca).read_bytes(), str(tsa_ca))
        where = f"the TSA root you gave ({tsa_ca})"
    elif (root / mf.MANIFEST_TSA_CA).is_file():
        roots = ts.load_pem_certificates((root / mf.MANIFEST_TSA_CA).read_bytes(), mf.MANIFEST_TSA_CA)
        where = f"the TSA root stored in the case ({mf.MANIFEST_TSA_CA}); pass --tsa-ca to use your own copy"
    else:
        where = "no TSA root (pass --tsa-ca ROOT.pem to check who the TSA is)"
    chain = ts.verify_signature_chain(tsr, data, info, roots)
    if info.parser_note:
        res.notes.append(info.parser_note)
    if not chain.ok:
        res.fail("timestamp", mf.MANIFEST_TSR, chain.message)
    elif not problems:
        res.passed.append(f"RFC 3161 timestamp: manifest.json existed at {info.gen_time} (TSA {info.tsa_name}); "
                          f"{chain.message}; trust anchor: {where}")
        res.notes.append("the TSA time attests when manifest.json existed, not when the stream was recorded")


def _check_source(root: Path, source: Path, res: VerifyResult) -> None:
    if not source.is_file():
        raise InputError(f"--source {source}: no such file")
    try:
        recorded = json.loads((root / "source.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        res.fail("source", "source.json", "missing or unreadable: cannot compare the source video")
        return
    d = digest_file(source)
    if d.sha256 != recorded.get("sha256"):
        res.fail("source", str(source), f"sha256 {d.sha256} differs from source.json ({recorded.get('sha256')})")
    else:
        res.passed.append(f"source video {source} has the recorded sha256 {d.sha256}")


def _commands(root: Path, res: VerifyResult, pubkey: Path | None, tsa_ca: Path | None) -> None:
    q = shlex.quote(str(root))
    res.commands.append(f"cd {q} && sha256sum -c --strict --quiet manifest.sha256")
    res.commands.append(
        f"cd {q} && find . -type f ! -path './manifest.*' | sed 's|^\\./||' | LC_ALL=C sort | "
        "diff - <(cut -c67- manifest.sha256 | LC_ALL=C sort)   # no added or missing file")
    if (root / mf.MANIFEST_SIG).is_file():
        key = shlex.quote(str(pubkey)) if pubkey else "manifest.pub.pem"
        res.commands.append(f"cd {q} && openssl pkeyutl -verify -pubin -inkey {key} -rawin "
                            "-in manifest.json -sigfile manifest.sig")
    if (root / mf.MANIFEST_TSR).is_file():
        ca = shlex.quote(str(tsa_ca)) if tsa_ca else "TSA-ROOT.pem"
        untrusted = " -untrusted manifest.tsa.pem" if (root / mf.MANIFEST_TSA_CERTS).is_file() else ""
        res.commands.append(f"cd {q} && openssl ts -verify -in manifest.tsr -data manifest.json -CAfile {ca}{untrusted}")
        if (root / mf.MANIFEST_TSQ).is_file():
            res.commands.append(f"cd {q} && openssl ts -verify -in manifest.tsr -queryfile manifest.tsq "
                                f"-CAfile {ca}{untrusted}   # also checks the nonce")
    res.commands.append(
        f"cd {q} && python3 -c \"import hashlib,json;L=open('custody.jsonl','rb').read().split(b'\\n')[:-1];"
        "print(all(json.loads(b)['prev']==hashlib.sha256(a).hexdigest() for a,b in zip(L,L[1:])))\"")


def verify_case(root: str | os.PathLike[str], *, pubkey: Path | None = None, source: Path | None = None,
                tsa_ca: Path | None = None) -> VerifyResult:
    root = Path(root).absolute()
    if not root.is_dir():
        raise InputError(f"{root}: no such case folder")
    # Bad options are input errors (exit 2), found before anything is checked.
    if pubkey is not None:
        sg.load_public_key(pubkey)
    if tsa_ca is not None:
        try:
            ts.load_pem_certificates(Path(tsa_ca).read_bytes(), str(tsa_ca))
        except OSError as exc:
            raise InputError(f"--tsa-ca {tsa_ca}: cannot read ({exc.strerror})") from None
    if source is not None and not Path(source).is_file():
        raise InputError(f"--source {source}: no such file")
    res = VerifyResult(str(root))
    mpath = root / mf.MANIFEST_JSON
    if mpath.is_symlink() or not mpath.is_file():
        res.fail("manifest", mf.MANIFEST_JSON, "missing: the case is not sealed (run `lsf report -C CASE`)")
        return res
    try:
        data, doc = mf.read_manifest(root)
    except (ValueError, UnicodeDecodeError) as exc:
        res.fail("manifest", mf.MANIFEST_JSON, f"unreadable: {exc}")
        return res
    res.passed.append(f"manifest.json sha256 {hashlib.sha256(data).hexdigest()}")
    listed = _check_files(root, doc, res)
    _check_added(root, listed, res)
    _check_sha256_list(root, doc, res)
    src_path = (doc.get("source") or {}).get("path")
    _check_custody(root, src_path, res)
    _check_review_log(root, res)
    _check_signature(root, data, doc, pubkey, res)
    _check_timestamp(root, data, tsa_ca, res)
    if source is not None:
        _check_source(root, Path(source), res)
    res.seals = _check_kept_seals(root, doc, pubkey, tsa_ca, res)
    _commands(root, res, pubkey, tsa_ca)
    return res


def _check_kept_seals(root: Path, doc: dict[str, Any], pubkey: Path | None, tsa_ca: Path | None,
                      res: VerifyResult) -> list[dict[str, Any]]:
    """Every earlier seal under seals/N/: the same signature and timestamp checks, on its own bytes."""
    from . import seals

    def sub_check(folder: Path, run: Any, bad: Any = None) -> None:
        sub = VerifyResult(str(folder))
        run(sub)
        tag = f"{seals.SEALS_DIR}/{folder.name}"
        for p in sub.problems:
            if bad is not None:
                bad(f"{tag}/{p.path}" if p.path else tag, f"{p.check}: {p.message}")
            else:
                res.fail("seals", f"{tag}/{p.path}" if p.path else tag, f"{p.check}: {p.message}")
        res.passed += [f"seal {folder.name}: {x}" for x in sub.passed]
        res.notes += [f"seal {folder.name}: {x}" for x in sub.notes if "not signed" in x or "no RFC 3161" in x]

    def signature(folder: Path, data: bytes, sdoc: dict[str, Any], bad: Any) -> None:
        # The stored key of that seal (an earlier seal may have another signer than --pubkey).
        sub_check(folder, lambda sub: _check_signature(folder, data, sdoc, None, sub), bad)

    def timestamp(folder: Path, data: bytes) -> None:
        sub_check(folder, lambda sub: _check_timestamp(folder, data, tsa_ca, sub))

    records = seals.check_seals(root, doc, res.fail, res.passed, res.notes, signature, timestamp)
    if records:
        res.notes.append(f"{len(records) + 1} seals: {len(records)} kept under {seals.SEALS_DIR}/ and the current "
                         "manifest.json, which lists them")
    return records
