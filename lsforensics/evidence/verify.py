"""``lsf verify``: re-check a sealed case the way an opposing expert would.

Named checks (:data:`CHECKS`), each reporting under its name: every manifest file is present with
its size and sha256 (``files``); no file or folder was added (``added``); ``manifest.sha256`` says
the same as ``manifest.json`` (``manifest``); the custody log's hash chain is unbroken and its
latest output records match the files (``custody``); every stage that read the source video read
the bytes ``source.json`` certifies (``binding``); the Ed25519 signature (``signature``); the
RFC 3161 timestamp covers manifest.json (imprint and the query's nonce) and its signature
(``timestamp``); and, with ``--source``, the source video's hash (``source``).

**Trust anchors.** A case can only prove its own consistency; who sealed it and when is proved
by a key or a TSA root the *verifier* holds. Each signature and timestamp is reported as an
:class:`Anchor`: anchored when checked against ``--pubkey``/``--tsa-ca``, unanchored when only
against a copy stored in the case (which whoever rewrote the case could have replaced). The
result is one of three statuses (:attr:`VerifyResult.status`, exit codes in
:data:`EXIT_CODES`): ``intact`` (no problem, and every signature and timestamp in the case was
checked against a key or root you supplied), ``unanchored`` (no problem found, but nothing ties
the case to a key or root you supplied: unsigned and unstamped, checked only against keys inside
the case, or the timestamp pending), ``failed``.

The manifest records what its seal consisted of (``seal``): a signature or timestamp recorded
there but now missing is a failure, and a ``--pubkey`` or ``--tsa-ca`` given for a case without
a signature or timestamp is one too.

Every path read from the manifest or the custody log is untrusted: an absolute path, a ``..``
or a symlink on the way is reported and never opened or followed. Every document is read with
the bounded loaders, and a check that meets content it cannot make sense of reports a problem
(exit 1) instead of crashing. Verification never writes.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..custody import CustodyLog, parse_line
from ..errors import InputError
from ..evidence.hashing import digest_file, digest_tree, sha256sum_format
from ..loaders import LoadError, clip, load_json
from . import manifest as mf
from . import sign as sg
from . import timestamp as ts

EXIT_CODES = {"intact": 0, "failed": 1, "unanchored": 4}
EXTRACT_ACTIONS = ("extract.source", "extract.audio", "extract.frames")


@dataclass
class Problem:
    check: str  # one of the names in CHECKS, or capture (lsforensics/capture/verify.py)
    path: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.path + ': ' if self.path else ''}{self.message}"


@dataclass
class Anchor:
    """How one part of the seal (the signature or the timestamp) is trusted."""

    part: str  # signature | timestamp
    anchored: bool  # checked against a key or root the verifier supplied
    statement: str  # in plain words, for the printed result
    gap: str | None = None  # when unanchored: what is missing, as one clause


@dataclass
class VerifyResult:
    case: str
    ok: bool = True  # no problem found (says nothing about anchors: see status)
    problems: list[Problem] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    anchors: list[Anchor] = field(default_factory=list)
    timestamp: dict[str, Any] | None = None
    signer: str | None = None
    seals: list[dict[str, Any]] = field(default_factory=list)  # kept earlier seals (seals/N/), see seals.py

    def fail(self, check: str, path: str | None, message: str) -> None:
        self.ok = False
        self.problems.append(Problem(check, path, message))

    @property
    def anchored(self) -> bool:
        """At least one signature or timestamp, and each checked against something you supplied."""
        return bool(self.anchors) and all(a.anchored for a in self.anchors)

    @property
    def status(self) -> str:
        if not self.ok:
            return "failed"
        return "intact" if self.anchored else "unanchored"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["problems"] = [{**asdict(p), "text": str(p)} for p in self.problems]
        d.update(status=self.status, anchored=self.anchored, exit_code=self.exit_code)
        return d


@dataclass
class VerifyContext:
    """What every check may read: the case, the exact manifest bytes, and the verifier's anchors."""

    root: Path
    data: bytes  # manifest.json as on disk
    doc: dict[str, Any]
    pubkey: Path | None = None
    tsa_ca: Path | None = None
    source: Path | None = None
    listed: set[str] = field(default_factory=set)  # filled by the files check

    @property
    def seal(self) -> dict[str, Any]:
        """What manifest.json says its seal consists of (older manifests: from signer/timestamp)."""
        seal = _obj(self.doc.get("seal"))
        if seal:
            return seal
        signer, stamp = _obj(self.doc.get("signer")), _obj(self.doc.get("timestamp"))
        return mf.seal_record(signer.get("fingerprint"), stamp.get("tsa"), None) if (signer or stamp) else {}


def _obj(x: Any) -> dict[str, Any]:
    return x if isinstance(x, dict) else {}


def _str(x: Any) -> str | None:
    return x if isinstance(x, str) else None


def _hash_inside(root: Path, rel: str) -> tuple[int, str]:
    return mf.hash_fd(mf.open_inside(root, rel))


def _case_json(root: Path, rel: str) -> Any:
    """A case file read bounded (never through a symlink), or None when absent, unreadable or not JSON."""
    try:
        with os.fdopen(mf.open_inside(root, rel), "rb") as fh:
            if os.fstat(fh.fileno()).st_size > mf.MAX_MANIFEST_BYTES:
                return None
            return load_json(fh.read(), rel)
    except (OSError, LoadError):
        return None


# -- checks ---------------------------------------------------------------------------------
def check_files(ctx: VerifyContext, res: VerifyResult) -> None:
    root, bad = ctx.root, 0
    for n, entry in enumerate(ctx.doc.get("files") or []):
        if not isinstance(entry, dict):
            res.fail("manifest", None, f"files[{n}] is not an object")
            bad += 1
            continue
        rel = entry.get("path")
        reason = mf.unsafe_path_reason(rel)
        if reason:
            res.fail("manifest", clip(rel), f"unsafe manifest path rejected, not followed ({reason})")
            bad += 1
            continue
        ctx.listed.add(rel)
        if mf.is_manifest_file(rel):
            res.fail("manifest", rel, "manifest lists one of its own seal files")
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
            res.fail("files", rel, f"changed: sha256 {digest} but the manifest says {clip(entry.get('sha256'))}")
            bad += 1
        elif size != entry.get("size"):
            res.fail("files", rel, f"changed: size {size} but the manifest says {clip(entry.get('size'))}")
            bad += 1
    if not bad:
        res.passed.append(f"all {len(ctx.listed)} files listed in manifest.json are present and unchanged")


def check_added(ctx: VerifyContext, res: VerifyResult) -> None:
    tree = mf.walk_tree(ctx.root)
    added = [f for f in tree.files if f not in ctx.listed]
    for rel in added:
        res.fail("added", rel, "added: in the case but not in the manifest")
    for rel in tree.links:
        res.fail("added", rel, "symlink in the case: not followed (evidence must be plain files)")
    for rel in tree.others:
        res.fail("added", rel, "special file (not a regular file) in the case")
    folders = ctx.doc.get("folders")
    extra: list[str] = []
    if isinstance(folders, list):
        recorded = {f for f in folders if isinstance(f, str)}
        extra = [d for d in tree.folders if d not in recorded]
        for rel in extra:
            res.fail("added", rel + "/", "folder added: in the case but not in the manifest")
        for rel in sorted(recorded - set(tree.folders)):
            if mf.unsafe_path_reason(rel) is None:
                res.fail("files", rel + "/", "folder missing (listed in the manifest, not in the case)")
                extra.append(rel)
    else:
        res.notes.append("manifest.json lists no folders (sealed by an older lsf): empty folders were not checked")
    if not (added or tree.links or tree.others or extra):
        res.passed.append("no file or folder was added to the case after sealing")


def check_sha256_list(ctx: VerifyContext, res: VerifyResult) -> None:
    path = ctx.root / mf.MANIFEST_SHA256
    if not path.is_file() or path.is_symlink():
        res.fail("manifest", mf.MANIFEST_SHA256, "missing")
        return
    rows = [(_str(f.get("sha256")) or "?", _str(f.get("path")) or "?") for f in ctx.doc.get("files") or []
            if isinstance(f, dict)]
    if path.read_bytes() != sha256sum_format(rows).encode("utf-8", "backslashreplace"):
        res.fail("manifest", mf.MANIFEST_SHA256, "does not list the same files and hashes as manifest.json")
    else:
        res.passed.append("manifest.sha256 matches manifest.json (so `sha256sum -c manifest.sha256` checks the same)")


def _custody_entries(root: Path) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for n, raw in enumerate(CustodyLog(root / "custody.jsonl").raw_lines(), 1):
        e = parse_line(raw)
        if e is not None:
            out.append((n, e))
    return out


def _records(e: dict[str, Any], key: str) -> list[dict[str, Any]]:
    recs = e.get(key)
    return [r for r in recs if isinstance(r, dict)] if isinstance(recs, list) else []


def check_custody(ctx: VerifyContext, res: VerifyResult) -> None:
    root = ctx.root
    log = CustodyLog(root / "custody.jsonl")
    if not log.path.is_file() or log.path.is_symlink():
        res.fail("custody", "custody.jsonl", "missing")
        return
    problems = log.verify_chain()
    for p in problems:
        res.fail("custody", "custody.jsonl", str(p))
    entries = _custody_entries(root)
    external: set[str] = set()
    unsafe = False
    for n, e in entries:
        for key in ("inputs", "outputs"):
            raw = e.get(key)
            if raw is not None and not isinstance(raw, list):
                res.fail("custody", f"custody.jsonl line {n}", f"{key} is not a list")
                unsafe = True
                continue
            for rec in raw or []:
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
                res.fail("custody", f"custody.jsonl line {n}", f"{key} path {clip(repr(p))} rejected, not followed ({reason})")
                unsafe = True
    source_path = _str(_obj(ctx.doc.get("source")).get("path"))
    if external:
        others = sorted(external - {source_path})
        res.notes.append("custody names inputs outside the case (not opened by verify): "
                         + ", ".join(clip(x, 200) for x in sorted(external))
                         + ("" if not others else " (other than the source: rules, models or input files)"))
    # The latest run of each action says what it wrote; those files must still be what it wrote.
    latest: dict[str, dict[str, Any]] = {}
    for _n, e in entries:
        latest[str(e.get("action"))] = e
    last_write: dict[str, tuple[int, Any]] = {}
    for e in latest.values():
        seq = e.get("seq") if isinstance(e.get("seq"), int) else 0
        for rec in _records(e, "outputs"):
            p = rec.get("path")
            if mf.unsafe_path_reason(p) is None and (p not in last_write or last_write[p][0] < seq):
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


def check_review_log(ctx: VerifyContext, res: VerifyResult) -> None:
    """review.jsonl, when the case was reviewed: the same hash chain as custody.jsonl."""
    from ..review.decisions import REVIEW_FILE, ReviewLog

    log = ReviewLog(ctx.root / REVIEW_FILE)
    if not log.path.is_file() or log.path.is_symlink():
        return
    problems = log.verify_chain()
    for p in problems:
        res.fail("review", REVIEW_FILE, str(p))
    if not problems:
        res.passed.append(f"{REVIEW_FILE} hash chain intact ({len(log.raw_lines())} decisions)")


def check_source_binding(ctx: VerifyContext, res: VerifyResult) -> None:
    """The source every extract stage read, the case's identity and the findings all name the one
    sha256 that source.json certifies (a source swapped between hashing and decoding shows here)."""
    src = _obj(_case_json(ctx.root, "source.json"))
    certified = _str(src.get("sha256"))
    if not certified:
        extracted = any(e.get("action") in EXTRACT_ACTIONS for _n, e in _custody_entries(ctx.root))
        if not extracted and not (ctx.root / "source.json").exists() and not (ctx.root / "findings.json").exists():
            # Nothing was extracted yet (a case `lsf record` made, before `lsf analyze`): no binding to check.
            res.notes.append("no source has been extracted into this case yet (no source.json, no extract stage)")
            return
        res.fail("binding", "source.json", "missing, unreadable or without a sha256: the source is not certified")
        return
    bad = 0
    reads = 0
    for n, e in _custody_entries(ctx.root):
        if e.get("action") not in EXTRACT_ACTIONS:
            continue
        for rec in _records(e, "inputs"):
            p = _str(rec.get("path"))
            if p and p.startswith("/"):
                reads += 1
                if rec.get("sha256") != certified:
                    res.fail("binding", f"custody.jsonl line {n}",
                             f"{e.get('action')} read the source {clip(p, 120)} with sha256 "
                             f"{clip(rec.get('sha256'))}, but source.json certifies {certified}")
                    bad += 1
    for rel, key in (("case.json", "source_sha256"), ("findings.json", "source_sha256")):
        doc = _case_json(ctx.root, rel)
        named = _obj(doc).get(key)
        if named is not None and named != certified:
            res.fail("binding", rel, f"names source sha256 {clip(named)}, but source.json certifies {certified}")
            bad += 1
    if not bad:
        res.passed.append(f"every extract stage read the source video that source.json certifies (sha256 "
                          f"{certified}; {reads} reads recorded)")


def check_signature(ctx: VerifyContext, res: VerifyResult) -> None:
    root, pubkey = ctx.root, ctx.pubkey
    sig_path, pub_path = root / mf.MANIFEST_SIG, root / mf.MANIFEST_PUB
    recorded = _obj(ctx.seal.get("signature"))
    named = _str(recorded.get("fingerprint")) or _str(_obj(ctx.doc.get("signer")).get("fingerprint"))
    if not sig_path.is_file() or sig_path.is_symlink():
        if named:
            res.fail("signature", mf.MANIFEST_SIG, f"missing, although manifest.json records that the case was "
                                                    f"signed (key {named[:16]}…): the signature was removed")
        elif pubkey is not None:
            res.fail("signature", mf.MANIFEST_SIG, "missing: the case is not signed, but --pubkey was given")
        else:
            res.notes.append("the case is not signed (no manifest.sig, and manifest.json records no signer)")
        return
    if pubkey is not None:
        key = sg.load_public_key(pubkey)
        anchored, trust = True, f"the public key you gave, {pubkey}"
    elif pub_path.is_file() and not pub_path.is_symlink():
        try:
            key = sg.load_public_key_bytes(pub_path.read_bytes(), mf.MANIFEST_PUB)
        except InputError as exc:
            res.fail("signature", mf.MANIFEST_PUB, str(exc))
            return
        anchored, trust = False, f"only the key stored in the case ({mf.MANIFEST_PUB})"
    else:
        res.fail("signature", mf.MANIFEST_SIG, "no public key: pass --pubkey")
        return
    fpr = sg.fingerprint(key)
    res.signer = fpr
    if named and named != fpr:
        res.fail("signature", mf.MANIFEST_SIG, f"manifest.json names signer {named[:16]}…, not key {fpr[:16]}…")
    if sg.check_signature(key, sig_path.read_bytes(), ctx.data):
        res.passed.append(f"Ed25519 signature over manifest.json is valid for key {fpr} ({trust})")
        res.anchors.append(Anchor("signature", anchored, (
            f"signed by key {fpr}, checked against {trust}" if anchored else
            f"signed by key {fpr}, checked against {trust}: whoever rewrote the case could have re-signed it "
            "with a key of their own; pass --pubkey with the signer's key obtained separately"),
            None if anchored else "the signature was checked only against the key stored in the case"))
    else:
        res.fail("signature", mf.MANIFEST_SIG, f"bad signature: manifest.sig does not verify with key {fpr[:16]}…")


def check_timestamp(ctx: VerifyContext, res: VerifyResult) -> None:
    root, data, tsa_ca = ctx.root, ctx.data, ctx.tsa_ca
    tsr_path, tsq_path = root / mf.MANIFEST_TSR, root / mf.MANIFEST_TSQ
    recorded = _obj(ctx.seal.get("timestamp")) or _obj(ctx.doc.get("timestamp"))
    tsa = clip(recorded.get("tsa"), 120) if recorded else None
    if not tsr_path.is_file() or tsr_path.is_symlink():
        if tsq_path.is_file() and not tsq_path.is_symlink():
            if tsa_ca is not None:
                res.fail("timestamp", mf.MANIFEST_TSR, "missing: only the query manifest.tsq is in the case (the "
                                                        "timestamp is pending or was removed), but --tsa-ca was given")
                return
            res.notes.append("timestamp pending: manifest.tsq is waiting; run `lsf stamp CASE --tsa URL`")
            res.anchors.append(Anchor("timestamp", False, (
                f"pending or removed: {'manifest.json records a timestamp requested from ' + tsa if tsa else 'the case'}"
                ", the case holds the query (manifest.tsq) but no response (manifest.tsr): the time of sealing is "
                "not attested"), "the timestamp is pending or was removed (manifest.tsq without manifest.tsr)"))
        elif recorded:
            res.fail("timestamp", mf.MANIFEST_TSR, f"missing, although manifest.json records a timestamp requested "
                                                    f"from {tsa}: manifest.tsr and manifest.tsq were removed")
        elif tsa_ca is not None and not any((root / "capture" / "stamps").glob("*.tsr")):
            res.fail("timestamp", mf.MANIFEST_TSR, "missing: the case has no timestamp, but --tsa-ca was given")
        elif tsa_ca is not None:
            res.notes.append("the current seal has no RFC 3161 timestamp; --tsa-ca was used for the stamps of the "
                             "capture chain (capture/stamps/), which attest when each recorded piece existed")
        else:
            res.notes.append("no RFC 3161 timestamp (no manifest.tsr, and manifest.json records no timestamp request)")
        return
    tsr = tsr_path.read_bytes()
    try:
        info = ts.parse_response(tsr)
    except ValueError as exc:
        res.fail("timestamp", mf.MANIFEST_TSR, clip(str(exc), 300))
        return
    res.timestamp = info.to_json()
    query = None
    if tsq_path.is_file():
        try:
            query = ts.parse_query(tsq_path.read_bytes())
        except ValueError as exc:
            res.fail("timestamp", mf.MANIFEST_TSQ, clip(str(exc), 300))
    if query is None:
        res.notes.append("no manifest.tsq in the case: the response's nonce could not be checked")
    problems = ts.response_problems(info, data, query)
    for p in problems:
        res.fail("timestamp", mf.MANIFEST_TSR, f"does not cover manifest.json: {p}")
    roots = None
    anchored = False
    if tsa_ca is not None:
        roots = ts.load_pem_certificates(Path(tsa_ca).read_bytes(), str(tsa_ca))
        anchored, where = True, f"the TSA root you gave, {tsa_ca}"
    elif (root / mf.MANIFEST_TSA_CA).is_file() and not (root / mf.MANIFEST_TSA_CA).is_symlink():
        try:
            roots = ts.load_pem_certificates((root / mf.MANIFEST_TSA_CA).read_bytes(), mf.MANIFEST_TSA_CA)
        except InputError as exc:
            res.fail("timestamp", mf.MANIFEST_TSA_CA, str(exc))
            return
        where = f"only the TSA root stored in the case ({mf.MANIFEST_TSA_CA})"
    else:
        where = "no TSA root (only the certificate inside the response)"
    chain = ts.verify_signature_chain(tsr, data, info, roots)
    if info.parser_note:
        res.notes.append(info.parser_note)
    if not chain.ok:
        res.fail("timestamp", mf.MANIFEST_TSR, clip(chain.message, 300))
    elif not problems:
        res.passed.append(f"RFC 3161 timestamp: manifest.json existed at {info.gen_time} (TSA {info.tsa_name}); "
                          f"{chain.message}; trust anchor: {where}")
        res.notes.append("the TSA time attests when manifest.json existed, not when the stream was recorded")
        res.anchors.append(Anchor("timestamp", anchored, (
            f"manifest.json existed at {info.gen_time} (TSA {info.tsa_name}), checked against {where}"
            + ("" if anchored else ": whoever rewrote the case could have stamped it with a TSA of their own; "
               "pass --tsa-ca with the TSA's root obtained from the TSA")),
            None if anchored else f"the timestamp was checked against {where}"))


def check_source(ctx: VerifyContext, res: VerifyResult) -> None:
    if ctx.source is None:
        return
    recorded = _obj(_case_json(ctx.root, "source.json"))
    if not recorded:
        res.fail("source", "source.json", "missing or unreadable: cannot compare the source video")
        return
    d = digest_file(ctx.source)
    if d.sha256 != recorded.get("sha256"):
        res.fail("source", str(ctx.source), f"sha256 {d.sha256} differs from source.json ({clip(recorded.get('sha256'))})")
    else:
        res.passed.append(f"source video {ctx.source} has the recorded sha256 {d.sha256}")


def check_kept_seals(ctx: VerifyContext, res: VerifyResult) -> None:
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
        sub_check(folder, lambda sub: check_signature(VerifyContext(folder, data, sdoc), sub), bad)

    def timestamp(folder: Path, data: bytes) -> None:
        # A kept seal whose timestamp was still pending when it was superseded is a fact of its time,
        # not a removal (the current manifest lists that seal's files, so removing one shows anyway).
        roots = ctx.tsa_ca if (folder / mf.MANIFEST_TSR).is_file() else None
        sub_check(folder, lambda sub: check_timestamp(VerifyContext(folder, data, _obj(mf.read_manifest(folder)[1]),
                                                                    tsa_ca=roots), sub))

    records = seals.check_seals(ctx.root, ctx.doc, res.fail, res.passed, res.notes, signature, timestamp)
    if records:
        res.notes.append(f"{len(records) + 1} seals: {len(records)} kept under {seals.SEALS_DIR}/ and the current "
                         "manifest.json, which lists them")
    res.seals = records


Check = Callable[[VerifyContext, VerifyResult], None]
CHECKS: tuple[tuple[str, Check], ...] = (
    ("files", check_files),
    ("added", check_added),
    ("manifest", check_sha256_list),
    ("custody", check_custody),
    ("review", check_review_log),
    ("binding", check_source_binding),
    ("signature", check_signature),
    ("timestamp", check_timestamp),
    ("source", check_source),
    ("seals", check_kept_seals),
)


# -- equivalent commands ---------------------------------------------------------------------
SEAL_FIND = r"find . -type f ! -regex '\./manifest\.\(json\|sha256\|sig\|pub\.pem\|tsq\|tsr\|tsa\.pem\|tsa-ca\.pem\)'"


def equivalent_commands(root: Path, pubkey: Path | None, tsa_ca: Path | None) -> list[str]:
    """The no-lsf procedure of docs/verifying-a-report.md, filled in (absolute paths throughout,
    since each line starts with ``cd CASE``)."""
    q = shlex.quote(str(root))
    out = [f"cd {q} && sha256sum -c --strict --quiet manifest.sha256",
           f"cd {q} && {SEAL_FIND} | sed 's|^\\./||' | LC_ALL=C sort | "
           "diff - <(cut -c67- manifest.sha256 | LC_ALL=C sort)   # no added or missing file",
           f"cd {q} && python3 -c \"import json,os,sys;s=json.load(open('manifest.json')).get('seal') or {{}};"
           "m=[f for f in s.get('files',[]) if not os.path.isfile(f)];print('seal:',s);"
           "sys.exit('seal files missing: '+' '.join(m) if m else 0)\"   # signature/timestamp not removed"]
    if (root / mf.MANIFEST_SIG).is_file():
        key = shlex.quote(str(Path(pubkey).absolute())) if pubkey else "SIGNER.pub"
        out.append(f"cd {q} && openssl pkeyutl -verify -pubin -inkey {key} -rawin "
                   "-in manifest.json -sigfile manifest.sig")
    if (root / mf.MANIFEST_TSR).is_file():
        ca = shlex.quote(str(Path(tsa_ca).absolute())) if tsa_ca else "TSA-ROOT.pem"
        untrusted = " -untrusted manifest.tsa.pem" if (root / mf.MANIFEST_TSA_CERTS).is_file() else ""
        out.append(f"cd {q} && openssl ts -verify -in manifest.tsr -data manifest.json -CAfile {ca}{untrusted}")
        if (root / mf.MANIFEST_TSQ).is_file():
            out.append(f"cd {q} && openssl ts -verify -in manifest.tsr -queryfile manifest.tsq "
                       f"-CAfile {ca}{untrusted}   # also checks the nonce")
    out.append(
        f"cd {q} && python3 -c \"import hashlib,json;L=open('custody.jsonl','rb').read().split(b'\\n')[:-1];"
        "print(all(json.loads(b)['prev']==hashlib.sha256(a).hexdigest() for a,b in zip(L,L[1:])))\"")
    return out


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
    # A recorded case (lsf record): the capture's own checks, merged in (lsforensics/capture/verify.py).
    from ..capture.verify import merge_into as merge_capture_checks

    try:
        merge_capture_checks(res, root, pubkey=pubkey, tsa_ca=tsa_ca)
    except Exception as exc:  # noqa: BLE001 - hostile content must fail verification, never crash it
        res.fail("capture", None, f"could not be completed on this case's content "
                                  f"({type(exc).__name__}: {clip(str(exc), 200)})")
    mpath = root / mf.MANIFEST_JSON
    if mpath.is_symlink() or not mpath.is_file():
        res.fail("manifest", mf.MANIFEST_JSON, "missing: the case is not sealed (run `lsf report -C CASE`)")
        return res
    try:
        data, doc = mf.read_manifest(root)
    except (ValueError, OSError, InputError) as exc:
        res.fail("manifest", mf.MANIFEST_JSON, f"unreadable: {exc}")
        return res
    res.passed.append(f"manifest.json sha256 {hashlib.sha256(data).hexdigest()}")
    ctx = VerifyContext(root, data, doc, pubkey=pubkey, tsa_ca=tsa_ca, source=Path(source) if source else None)
    for name, check in CHECKS:
        try:
            check(ctx, res)
        except Exception as exc:  # noqa: BLE001 - hostile content must fail verification, never crash it
            res.fail(name, None, f"could not be completed on this case's content "
                                 f"({type(exc).__name__}: {clip(str(exc), 200)})")
    res.commands = equivalent_commands(root, pubkey, tsa_ca)
    return res

