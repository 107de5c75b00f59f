"""RFC 3161 timestamps on the capture chain's head, every few minutes while recording.

A stamp covers the bytes of one chain line (the head when it was asked for). Every line names
the hash of the one before, so a stamp on line N attests that lines 1..N (every segment and
message chained so far) existed at the TSA's time. Files: ``capture/stamps/L<N>.tsq`` (written
first) and ``L<N>.tsr`` (the full response). When the TSA is unreachable the query stays and
``lsf stamp CASE --tsa URL`` sends it later, as for ``manifest.tsq`` (evidence/seal.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..case import atomic_write_bytes
from ..errors import InputError
from ..evidence import timestamp as ts
from ..evidence.hashing import sha256_bytes
from .chain import read_lines
from .layout import CaptureLayout

STAMP_RE = re.compile(r"^L(\d{6,})\.(tsq|tsr)$")
TSA_CA = "tsa-ca.pem"  # the TSA root given with --tsa-ca, kept beside the stamps


def query_path(layout: CaptureLayout, seq: int) -> Path:
    return layout.stamps / f"L{seq:06d}.tsq"


def response_path(layout: CaptureLayout, seq: int) -> Path:
    return layout.stamps / f"L{seq:06d}.tsr"


def load_roots(layout: CaptureLayout, tsa_ca: Path | None) -> tuple[list[Any] | None, str]:
    if tsa_ca is not None:
        try:
            data = Path(tsa_ca).read_bytes()
        except OSError as exc:
            raise InputError(f"--tsa-ca {tsa_ca}: cannot read ({exc.strerror})") from None
        return ts.load_pem_certificates(data, str(tsa_ca)), f"the TSA root you gave ({tsa_ca})"
    stored = layout.stamps / TSA_CA
    if stored.is_file() and not stored.is_symlink():
        return (ts.load_pem_certificates(stored.read_bytes(), str(stored)),
                f"the TSA root stored in the case (capture/stamps/{TSA_CA}); pass --tsa-ca to use your own copy")
    return None, "no TSA root (pass --tsa-ca ROOT.pem to check who the TSA is)"


@dataclass
class StampAttempt:
    seq: int
    line: bytes
    query: ts.TimestampQuery


def prepare(layout: CaptureLayout, seq: int, line: bytes) -> StampAttempt:
    """Write the query for chain line ``seq`` (before anything is sent, so nothing is lost)."""
    q = ts.make_query(line)
    atomic_write_bytes(query_path(layout, seq), q.der)
    return StampAttempt(seq, line, q)


def _messages(problems: list[str], seq: int) -> list[str]:
    return [p.replace("manifest.tsq", f"L{seq:06d}.tsq").replace("manifest.json", f"capture.jsonl line {seq}")
            for p in problems]


def send(layout: CaptureLayout, attempt: StampAttempt, tsa: str, roots: list[Any] | None,
         timeout: float = 15.0) -> dict[str, Any]:
    """Post the query; returns the chain fields of a ``stamp`` entry (status stamped or pending).

    A response that does not cover the line, or whose signature fails, is refused (InputError):
    a TSA that answers wrongly is not a TSA that is down.
    """
    rel_q = layout.rel(query_path(layout, attempt.seq))
    base = {"of_seq": attempt.seq, "line_sha256": sha256_bytes(attempt.line), "tsa": tsa,
            "tsq": {"path": rel_q, "sha256": sha256_bytes(attempt.query.der)}}
    try:
        tsr = ts.post_query(tsa, attempt.query.der, timeout=timeout)
    except ts.TsaUnreachable as exc:
        return {**base, "status": "pending", "error": str(exc)}
    try:
        info = ts.parse_response(tsr)
    except ValueError as exc:
        raise InputError(f"TSA {tsa} sent something that is not a timestamp response: {exc}") from None
    problems = _messages(ts.response_problems(info, attempt.line, attempt.query), attempt.seq)
    chain = ts.verify_signature_chain(tsr, attempt.line, info, roots)
    if not chain.ok:
        problems.append(chain.message)
    if problems:
        raise InputError(f"TSA {tsa} response refused: {'; '.join(problems)}")
    path = response_path(layout, attempt.seq)
    atomic_write_bytes(path, tsr)
    return {**base, "status": "stamped", "gen_time": info.gen_time, "tsa_name": info.tsa_name,
            "tsr": {"path": layout.rel(path), "sha256": sha256_bytes(tsr)}}


def pending(layout: CaptureLayout) -> list[int]:
    """Chain lines whose query was written but never answered."""
    if not layout.stamps.is_dir():
        return []
    out = []
    for p in sorted(layout.stamps.iterdir()):
        m = STAMP_RE.match(p.name)
        if m and m.group(2) == "tsq" and not response_path(layout, int(m.group(1))).exists():
            out.append(int(m.group(1)))
    return out


def finish_pending(layout: CaptureLayout, tsa: str, tsa_ca: Path | None = None,
                   timeout: float = 15.0) -> dict[str, Any]:
    """Send every queued capture query (``lsf stamp``); the chain itself is not changed."""
    roots, _ = load_roots(layout, tsa_ca)
    lines = read_lines(layout.chain)
    done, still, messages = [], [], []
    for seq in pending(layout):
        if not 1 <= seq <= len(lines):
            raise InputError(f"capture/stamps/L{seq:06d}.tsq names line {seq}, but capture.jsonl has {len(lines)}")
        try:
            query = ts.parse_query(query_path(layout, seq).read_bytes())
        except ValueError as exc:
            raise InputError(f"capture/stamps/L{seq:06d}.tsq: {exc}") from None
        fields = send(layout, StampAttempt(seq, lines[seq - 1], query), tsa, roots, timeout)
        if fields["status"] == "stamped":
            done.append(seq)
            messages.append(f"capture.jsonl line {seq} stamped at {fields['gen_time']}")
        else:
            still.append(seq)
            messages.append(f"capture.jsonl line {seq}: {fields['error']}")
    return {"stamped": done, "pending": still, "messages": messages}
