"""Re-checking a capture the way an opposing expert would (called by ``lsf verify``).

Checks, each reported by name under ``capture``: the chain (seq, prev hashes); every chained
segment present with its size and sha256, in index order, and no segment file the chain does not
name (an inserted, renamed or reordered file shows up here); each RFC 3161 stamp covers the
chain line it names (imprint, the query's nonce, the TSA signature); the Ed25519 signature over
the end line; ``recording.ts`` is what the end line says and, packet by packet, the
concatenation of the segments; ``chat.jsonl`` is what the chain's chat says. Gaps and damaged
input are facts of the stream, not of the case: they are reported as notes. Nothing is written.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..evidence import manifest as mf
from ..evidence import sign as sg
from ..evidence import timestamp as ts
from ..evidence.hashing import sha256_bytes
from . import remux as rm
from . import stamps as st
from .chain import verify_chain
from .layout import CaptureLayout, is_capture_case
from .timeline import parse_time, read_timeline, summarize


@dataclass
class CaptureCheck:
    passed: list[str] = field(default_factory=list)
    problems: list[tuple[str | None, str]] = field(default_factory=list)  # (path, message)
    notes: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    summary: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, path: str | None, message: str) -> None:
        self.problems.append((path, message))


def _hash(root: Path, rel: str) -> tuple[int, str] | str:
    """``(size, sha256)`` of a case file reached without symlinks, or why it cannot be read."""
    reason = mf.unsafe_path_reason(rel)
    if reason:
        return f"unsafe path rejected, not followed ({reason})"
    link = mf.symlink_on_path(root, rel)
    if link:
        return f"{link} is a symlink: not followed"
    try:
        return mf.hash_fd(mf.open_inside(root, rel))
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"


def _check_segments(L: CaptureLayout, tl: Any, out: CaptureCheck) -> bool:
    bad = 0
    expected = None
    named: set[str] = set()
    for e in sorted([*(s.entry for s in tl.segments), *tl.partials], key=lambda e: int(e.get("seq") or 0)):
        rel, idx = str(e.get("file")), e.get("index")
        named.add(rel)
        if expected is not None and idx != expected:
            out.fail(rel, f"chained as segment {idx} after segment {expected - 1}: segments are out of order")
            bad += 1
        expected = (idx if isinstance(idx, int) else 0) + 1
        if Path(rel).name != L.segment_name(idx if isinstance(idx, int) else -1):
            out.fail(rel, f"chained as segment {idx} under another file name")
            bad += 1
        got = _hash(L.root, rel)
        if isinstance(got, str):
            out.fail(rel, f"segment {idx} {got}")
            bad += 1
        elif got[1] != e.get("sha256"):
            out.fail(rel, f"segment {idx} changed: sha256 {got[1][:16]}… but the chain (line {e.get('seq')}) says "
                          f"{str(e.get('sha256'))[:16]}…")
            bad += 1
        elif got[0] != e.get("size"):
            out.fail(rel, f"segment {idx} changed: size {got[0]} but the chain says {e.get('size')}")
            bad += 1
    for folder in (L.segments, L.partial):
        if not folder.is_dir():
            continue
        for p in sorted(folder.iterdir()):
            rel = L.rel(p)
            if rel not in named:
                out.fail(rel, "in the capture folder but not in capture.jsonl (inserted or renamed after recording)")
                bad += 1
    if not bad:
        late = sum(1 for s in tl.segments if s.entry.get("late"))
        out.passed.append(f"capture: all {len(tl.segments)} segments chained in capture.jsonl are present, unchanged and in "
                          f"order; no other segment file" + (f" ({late} hashed late, after a killed session)" if late else "")
                          + (f"; {len(tl.partials)} unfinished segment(s) kept under capture/partial/" if tl.partials else ""))
    return not bad


def _check_stamps(L: CaptureLayout, lines: dict[int, bytes], tl: Any, tsa_ca: Path | None, out: CaptureCheck,
                  times: dict[int, float]) -> None:
    if not tl.stamps:
        out.notes.append("capture: the chain head was never RFC 3161-timestamped (recorded without --tsa)")
        return
    roots, where = st.load_roots(L, tsa_ca)
    ok_stamps: list[tuple[int, str]] = []
    pend = 0
    for e in tl.stamps:
        seq = e.get("of_seq")
        if not isinstance(seq, int) or seq not in lines:
            out.fail("capture.jsonl", f"stamp entry line {e.get('seq')} names chain line {seq!r}, which does not exist")
            continue
        if e.get("status") == "refused":
            out.notes.append(f"capture: the TSA's answer for chain line {seq} was refused while recording: {e.get('error')}")
            continue
        tsq_p, tsr_p = st.query_path(L, seq), st.response_path(L, seq)
        q_rel, r_rel = L.rel(tsq_p), L.rel(tsr_p)
        got = _hash(L.root, q_rel)
        if isinstance(got, str) or got[1] != (e.get("tsq") or {}).get("sha256"):
            out.fail(q_rel, "timestamp query missing or changed since it was chained")
            continue
        if not tsr_p.is_file():
            pend += 1
            continue
        if e.get("tsr"):
            got = _hash(L.root, r_rel)
            if isinstance(got, str) or got[1] != e["tsr"].get("sha256"):
                out.fail(r_rel, "timestamp response changed since it was chained")
                continue
        tsr = tsr_p.read_bytes()
        try:
            info = ts.parse_response(tsr)
            query = ts.parse_query(tsq_p.read_bytes())
        except ValueError as exc:
            out.fail(r_rel, str(exc))
            continue
        problems = ts.response_problems(info, lines[seq], query)
        chain = ts.verify_signature_chain(tsr, lines[seq], info, roots)
        for p in problems:
            out.fail(r_rel, f"does not cover capture.jsonl line {seq}: "
                     + p.replace("manifest.json", f"line {seq}").replace("manifest.tsq", q_rel))
        if not chain.ok:
            out.fail(r_rel, chain.message)
        if not problems and chain.ok:
            ok_stamps.append((seq, str(info.gen_time)))
    if pend:
        out.notes.append(f"capture: {pend} timestamp(s) pending (TSA unreachable while recording): "
                         "run `lsf stamp CASE --tsa URL`")
    if ok_stamps:
        # How far apart the stamped lines are in recording time: what the stamps actually attest.
        covered = sorted(times[s] for s, _ in ok_stamps if s in times)
        span = [times[min(times)], *covered, times[max(times)]]
        worst = max((b - a for a, b in zip(span, span[1:], strict=False)), default=0.0)
        out.passed.append(f"capture: {len(ok_stamps)} RFC 3161 timestamps each cover the chain line they name "
                          f"(first {ok_stamps[0][1]}, last {ok_stamps[-1][1]}); at most {worst / 60:.1f} min of "
                          f"recording between stamped lines; trust anchor: {where}")


def _check_signature(L: CaptureLayout, lines: dict[int, bytes], tl: Any, pubkey: Path | None, out: CaptureCheck) -> None:
    sigs = [e for e in tl.events if e.get("kind") == "signature"]
    if not L.signature.is_file():
        if sigs:
            out.fail(L.rel(L.signature), "missing although the chain says the capture was signed")
        else:
            out.notes.append("capture: the capture chain is not signed (recorded without --sign-key)")
        return
    if not sigs:
        out.fail(L.rel(L.signature), "present but the chain names no signature")
        return
    seq = sigs[-1].get("of_seq")
    if seq not in lines:
        out.fail("capture.jsonl", f"the signature names chain line {seq!r}, which does not exist")
        return
    if pubkey is not None:
        key, trust = sg.load_public_key(pubkey), f"the public key you gave ({pubkey})"
    elif L.public_key.is_file() and not L.public_key.is_symlink():
        key = sg.load_public_key_bytes(L.public_key.read_bytes(), L.rel(L.public_key))
        trust = f"the key stored in the case ({L.rel(L.public_key)}); pass --pubkey to check it is the key you trust"
    else:
        out.fail(L.rel(L.signature), "no public key: pass --pubkey")
        return
    fpr = sg.fingerprint(key)
    if sigs[-1].get("fingerprint") not in (None, fpr):
        out.fail(L.rel(L.signature), f"the chain names signer {str(sigs[-1].get('fingerprint'))[:16]}…, not key {fpr[:16]}…")
    if sg.check_signature(key, L.signature.read_bytes(), lines[seq]):
        out.passed.append(f"capture: Ed25519 signature over capture.jsonl line {seq} (the end of recording) is valid "
                          f"for key {fpr} ({trust})")
    else:
        out.fail(L.rel(L.signature), f"bad signature over capture.jsonl line {seq} for key {fpr[:16]}…")


def _check_recording(L: CaptureLayout, tl: Any, out: CaptureCheck, deep: bool) -> None:
    end = next((e for e in reversed(tl.ends) if e.get("recording")), None)
    if end is None:
        if tl.segments:
            out.notes.append("capture: no recording.ts was made (the recorder never ended a session normally); "
                             "rerun `lsf record` on the case to continue and remux")
        return
    rec = end["recording"]
    rel = str(rec.get("path"))
    got = _hash(L.root, rel)
    if isinstance(got, str) or got[1] != rec.get("sha256"):
        out.fail(rel, "recording.ts " + (got if isinstance(got, str) else "differs from what the end line "
                                                                          f"(line {end.get('seq')}) recorded"))
        return
    n = int(rec.get("segments") or 0)
    segs = [s for s in tl.segments if int(s.entry.get("seq") or 0) < int(end.get("seq") or 0)][:n]
    if len(segs) != n:
        out.fail(rel, f"the end line says {n} segments went into recording.ts, the chain has {len(segs)} before it")
        return
    if not deep:
        out.notes.append("capture: recording.ts matches its recorded hash; packet comparison skipped")
        return
    try:
        whole = rm.packet_digests([L.root / rel], concat=False)
        parts = rm.packet_digests([L.root / s.file for s in segs], concat=True)
    except ValueError as exc:
        out.fail(rel, f"packet comparison could not run: {exc}")
        return
    if whole == parts:
        npk = sum(len(v) for v in whole.values())
        out.passed.append(f"capture: recording.ts is, packet for packet ({npk} packets in {len(whole)} streams), the "
                          f"concatenation of the {n} segments in chain order")
        return
    for sidx in sorted(set(whole) | set(parts)):
        a, b = whole.get(sidx, []), parts.get(sidx, [])
        k = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        if a != b:
            out.fail(rel, f"recording.ts is not the concatenation of the segments: stream {sidx} differs from "
                          f"packet {k} on ({len(a)} packets vs {len(b)} in the segments)")
            break


def _check_chat(L: CaptureLayout, tl: Any, entries: list[dict[str, Any]], out: CaptureCheck) -> None:
    end = next((e for e in reversed(tl.ends) if "chat" in e), None)
    if not tl.chat:
        return
    if end is None or not end.get("chat"):
        out.notes.append(f"capture: {len(tl.chat)} chat messages chained; no chat.jsonl was derived yet")
        return
    expected = rm.chat_bytes(read_timeline([e for e in entries if int(e.get("seq") or 0) < int(end["seq"])]))
    got = _hash(L.root, str(end["chat"].get("path")))
    if isinstance(got, str) or got[1] != sha256_bytes(expected) or got[1] != end["chat"].get("sha256"):
        out.fail(str(end["chat"].get("path")), "chat.jsonl is not what the chain's chat messages give")
    else:
        out.passed.append(f"capture: chat.jsonl is exactly the {len(tl.chat)} chained chat messages, placed by "
                          "their receive time")


def check_capture(root: Path, *, pubkey: Path | None = None, tsa_ca: Path | None = None,
                  deep: bool = True) -> CaptureCheck | None:
    """All capture checks of a case folder, or None when the case holds no capture."""
    root = Path(root).absolute()
    if not is_capture_case(root):
        return None
    L = CaptureLayout(root)
    out = CaptureCheck()
    problems, good = verify_chain(L.chain)
    for p in problems:
        out.fail("capture.jsonl", str(p))
    entries = [e for _n, _raw, e in good]
    lines = {n: raw for n, raw, _e in good}
    times = {int(e["seq"]): t for e in entries if isinstance(e.get("seq"), int)
             and (t := parse_time(e.get("time"))) is not None}
    tl = read_timeline(entries)
    if not problems:
        out.passed.append(f"capture: capture.jsonl hash chain intact ({len(entries)} lines, {tl.sessions} session(s))")
    _check_segments(L, tl, out)
    try:
        _check_stamps(L, lines, tl, tsa_ca, out, times)
        _check_signature(L, lines, tl, pubkey, out)
    except InputError as exc:
        out.fail(None, str(exc))
    _check_recording(L, tl, out, deep)
    _check_chat(L, tl, entries, out)
    s = summarize(entries)
    out.summary = s
    if tl.sessions and not tl.ended:
        out.notes.append("capture: the last recording session did not end normally (killed or still running); "
                         "its closed segments are checked above")
    for g in s["gaps"]:
        missing = f", {g['media_missing_s']} s of media missing" if g.get("media_missing_s") is not None else ""
        out.notes.append(f"capture: gap ({g['cause']}) from {g['from']} to {g['to']}: {g['wall_s']} s without "
                         f"data{missing}, before segment {g['before_segment']}")
    for d in s["damaged_segments"]:
        out.notes.append(f"capture: segment {d['index']} arrived damaged: {'; '.join(d['warnings'][:3])}")
    q = shlex.quote(str(root))
    out.commands.append(
        f"cd {q} && python3 -c \"import hashlib,json;L=open('capture.jsonl','rb').read().split(b'\\n')[:-1];"
        "print(all(json.loads(b)['prev']==hashlib.sha256(a).hexdigest() for a,b in zip(L,L[1:])))\"")
    ca = shlex.quote(str(tsa_ca)) if tsa_ca else "TSA-ROOT.pem"
    for e in tl.stamps[-1:]:
        if isinstance(e.get("of_seq"), int):
            n = e["of_seq"]
            out.commands.append(f"cd {q} && sed -n {n}p capture.jsonl | tr -d '\\n' > /tmp/line{n} && openssl ts -verify "
                                f"-in capture/stamps/L{n:06d}.tsr -data /tmp/line{n} -CAfile {ca}   # the last stamp")
    return out


def merge_into(res: Any, root: Path, *, pubkey: Path | None = None, tsa_ca: Path | None = None) -> None:
    """The hook ``evidence.verify.verify_case`` calls: capture results into its VerifyResult."""
    out = check_capture(root, pubkey=pubkey, tsa_ca=tsa_ca)
    if out is None:
        return
    for path, message in out.problems:
        res.fail("capture", path, message)
    res.passed.extend(out.passed)
    res.notes.extend(out.notes)
    res.commands.extend(out.commands)
