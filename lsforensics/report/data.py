"""The report's content, built once from the case and rendered as HTML, PDF and JSON.

Everything here is data (JSON-able dicts); the renderers only lay it out. Text that came from
the stream, the chat or a product page is untrusted: it is kept verbatim here and escaped by
each renderer (Jinja2 autoescape for HTML, XML escaping for the PDF's paragraphs).
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from .. import __version__
from ..capture.report import capture_view
from ..case import Case, utc_now
from ..custody import CustodyLog
from ..errors import InputError
from ..evidence import manifest as mf
from ..evidence.environment import environment
from ..evidence.verify import SEAL_FIND
from ..extract import media_limitations
from ..findings import Finding, FindingsDoc, timecode
from ..findings import strength as finding_strength
from . import labels as lb

MAX_EXCERPTS = 120
EXCERPT_REFS = 12  # findings named beside one transcript excerpt; the rest are counted
# Finding fields the report lays out itself; any other key is shown under the finding as is.
_SHOWN = frozenset({"id", "kind", "source", "start", "end", "brand", "term", "matched", "match", "rule", "quote",
                    "severity", "confidence", "evidence", "bbox", "explanation", "law", "legal_basis"})
TOP_N = 10


def _num(x: Any, default: float | None = None) -> float | None:
    ok = isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
    return float(x) if ok else default


def _text(x: Any) -> str | None:
    if x is None:
        return None
    return x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)


def strength(v: dict[str, Any]) -> tuple:
    """Sort key of a finding's view, strongest first (the order of :func:`findings.strength`)."""
    return finding_strength(Finding(kind=v["kind"], source=v["source"], start=v["start"], end=v["end"],
                                    rule=v["rule"], severity=v["severity"], confidence=v["confidence"] or 0.0,
                                    id=v["id"]))


def read_optional(case: Case, path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None


def rule_index(case: Case | None = None) -> dict[str, dict[str, Any]]:
    """Rule items by id from the rules the case was analysed with (its archive, CASE/rules/), for
    each finding's legal basis; a case without an archive (made by an older lsf) falls back to
    this lsf's shipped rules, and the report says so (:func:`rules_view`). Best effort."""
    try:
        from ..case_rules import has_archive, load_archived, requested_rules

        rs = load_archived(case) if case is not None and has_archive(case) else requested_rules(())
    except Exception:  # noqa: BLE001 - a report must not fail because the rules cannot load here
        return {}
    index: dict[str, dict[str, Any]] = {}
    for kind in rs.kinds():
        base = rs.settings(kind)
        for item in rs.items(kind):
            entry = dict(item)
            entry.setdefault("_kind_basis", base.get("legal_basis") or base.get("law"))
            index[str(item["id"])] = entry
            index[f"{kind}/{item['id']}"] = entry
    return index


def _legal_basis(f: Finding, index: dict[str, dict[str, Any]]) -> str | None:
    for key in ("legal_basis", "law"):
        if f.extra.get(key):
            return _text(f.extra[key])
    rule = f.rule
    candidates = [rule, rule.split("/")[-1], rule.split("/")[-1].split(".")[0], rule.split(".")[0]]
    for c in candidates:
        item = index.get(c)
        if item:
            basis = item.get("legal_basis") or item.get("law") or item.get("_kind_basis")
            if basis:
                return _text(basis)
    return None


def _duration(source: dict[str, Any] | None, findings: list[Finding]) -> float:
    d = _num(((source or {}).get("probe") or {}).get("duration"))
    ends = [(f.end if f.end is not None else f.start) or 0.0 for f in findings]
    return max([d or 0.0, *ends, 1.0])


def frame_index(frames: Any) -> list[tuple[float, str]]:
    out = []
    for fr in frames if isinstance(frames, list) else []:
        if isinstance(fr, dict) and isinstance(fr.get("file"), str) and _num(fr.get("t")) is not None:
            out.append((float(fr["t"]), fr["file"]))
    return sorted(out)


def evidence_image(case: Case, f: Finding, frames: list[tuple[float, str]]) -> str | None:
    """A case-relative image for the finding: its own evidence, else the frame nearest its start."""
    for ev in f.evidence:
        if ev.lower().endswith((".jpg", ".jpeg", ".png")) and is_safe_case_file(case, ev):
            return ev
    t = f.start
    if t is None or not frames or f.source not in ("screen", "frame", "speech"):
        return None
    best = min(frames, key=lambda fr: abs(fr[0] - t))
    return best[1] if abs(best[0] - t) <= 5.0 and is_safe_case_file(case, best[1]) else None


def is_safe_case_file(case: Case, rel: str) -> bool:
    """A path from an untrusted record that is a plain file inside the case, reached without symlinks."""
    return (mf.unsafe_path_reason(rel) is None and mf.symlink_on_path(case.root, rel) is None
            and (case.root / rel).is_file())


def finding_view(f: Finding, index: dict[str, dict[str, Any]], case: Case,
                 frames: list[tuple[float, str]]) -> dict[str, Any]:
    """One finding as the report (and the review page) shows it: labels, timecodes, legal basis."""
    kind = f.kind
    # Kind-specific fields (claim/spec, price/reference/ratio, chat user, …) are shown as they are.
    extra = {k: v for k, v in f.extra.items() if k not in _SHOWN}
    return {
        "id": f.id,
        "n": f.n,
        "label": f.label,
        "kind": kind,
        "kind_label": lb.kind_label(kind),
        "source": f.source,
        "source_label": lb.pair(lb.SOURCES, f.source),
        "start": f.start,
        "end": f.end,
        "timecode": timecode(f.start),
        "timecode_end": timecode(f.end),
        "severity": f.severity,
        "severity_label": lb.pair(lb.SEVERITIES, f.severity),
        "confidence": round(f.confidence, 3),
        "quote": f.quote,
        "term": f.term,
        "matched": f.matched,
        "brand": f.brand,
        "rule": f.rule,
        "legal_basis": _legal_basis(f, index),
        "match": f.match,
        "match_label": lb.pair(lb.MATCHES, f.match),
        "explanation": f.explanation,
        "evidence": list(f.evidence),
        "image": evidence_image(case, f, frames),
        "bbox": f.bbox,
        "extra": extra,
    }


def _excerpts(transcript: Any, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Transcript segments around speech findings (±3 s), each once, with the findings it supports."""
    segs = transcript.get("segments") if isinstance(transcript, dict) else None
    if not isinstance(segs, list):
        return []
    segs = [s for s in segs if isinstance(s, dict) and _num(s.get("start")) is not None]
    chosen: dict[int, set[str]] = {}
    order = {f["id"]: f["n"] or 0 for f in findings}
    for f in findings:
        if f["source"] != "speech" or f["start"] is None:
            continue
        a, b = f["start"] - 3.0, (f["end"] if f["end"] is not None else f["start"]) + 3.0
        for i, s in enumerate(segs):
            if _num(s.get("start"), 0) <= b and (_num(s.get("end")) or _num(s.get("start"), 0)) >= a:
                chosen.setdefault(i, set()).add(f["id"])
    out = []
    for i in sorted(chosen)[:MAX_EXCERPTS]:
        s = segs[i]
        out.append({"start": _num(s.get("start")), "end": _num(s.get("end")), "timecode": timecode(s.get("start")),
                    "text": _text(s.get("text")) or "", "raw_text": _text(s.get("raw_text")),
                    "findings": sorted(chosen[i], key=lambda fid: (order.get(fid, 0), fid))})
    return out


def _exhibits(case: Case) -> list[dict[str, Any]]:
    """Every case file at report time except the report itself, the custody log and manifest.*."""
    files, _links, _others = mf.walk_case(case.root)
    out = []
    for rel in files:
        if rel.startswith("report/") or rel == "custody.jsonl" or rel.startswith("."):
            continue
        if mf.unsafe_path_reason(rel):
            continue
        size, digest = mf.hash_fd(mf.open_inside(case.root, rel))
        out.append({"path": rel, "size": size, "sha256": digest, "group": rel.split("/")[0] if "/" in rel else ""})
    return out


def _review_limits(review: dict[str, Any]) -> list[tuple[str, str]]:
    by = review["by_status"]
    if not review["decisions"]:
        return [("本报告中的发现尚未经人工复核。", "No finding in this report has been reviewed by a person yet "
                 "(`lsf review CASE`).")]
    items = [(f"{review['findings']} 项发现中有 {review['reviewed']} 项经人工复核（复核人：{', '.join(review['reviewers'])}）；"
              "每项发现注明其复核状态、复核人和备注。复核决定记录在 review.jsonl（哈希链）中。",
              f"{review['reviewed']} of {review['findings']} findings were reviewed by a person "
              f"({', '.join(review['reviewers'])}): confirmed {by['confirmed']}, rejected {by['rejected']}, unsure "
              f"{by['unsure']}. Each finding shows its status, reviewer and note; the decisions are in review.jsonl, "
              "hash-chained like the custody log.")]
    if by["changed"]:
        items.append(("部分发现在复核之后发生变化，其复核决定不再适用，标为“已变更”。",
                      f"{by['changed']} finding(s) changed after they were reviewed (detection was rerun): their "
                      "decisions no longer apply and they are marked 'changed'."))
    if review["only"]:
        items.append((f"本报告只列出状态为 {', '.join(review['only'])} 的发现。",
                      f"This report lists only the findings whose review status is {', '.join(review['only'])}; "
                      "the case holds the others (findings.json, review.jsonl)."))
    return items


def _limitations(transcript: Any, findings: list[dict[str, Any]]) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = [
        ("本报告中的发现由软件自动生成，是供人工复核的线索，不是结论。",
         "Findings are produced automatically: they are leads for a human reviewer, not conclusions."),
        ("RFC 3161 时间戳证明的是清单文件（manifest.json）在该时间已经存在，而不是直播的录制时间。",
         "An RFC 3161 timestamp attests when manifest.json (and every file it lists) existed, not when the "
         "stream was recorded. The recording time can only be inferred from the source file and its context."),
        ("源视频文件的修改时间（mtime）可被任意更改，不能作为录制时间的证据。",
         "The source file's modification time can be changed by anyone; it is no evidence of the recording time."),
        ("签名和时间戳在报告生成之后才加在清单上，所以本报告不能包含它们的结果：请用 lsf verify 核验。",
         "The signature and timestamp are applied to the manifest after this report is written, so this report "
         "cannot show their result: check them with `lsf verify` (see the last section)."),
    ]
    if isinstance(transcript, dict):
        model = transcript.get("model") or {}
        name = model.get("name") if isinstance(model, dict) else model
        items.append((f"语音转写模型：{name or '未知'}。小模型会把同音字写错（如品牌暗语），因此部分发现通过拼音匹配得到。",
                      f"Speech was transcribed by the model {name or 'unknown'}; small models write homophones "
                      "(e.g. a code-word as a common word), which is why some findings are matched by pinyin."))
        cands = transcript.get("candidates")
        if cands or any(f["match"] == "redecode" for f in findings):
            n_acc = sum(1 for c in cands or [] if isinstance(c, dict) and c.get("accepted"))
            items.append(("使用了有偏重解码（把关键词提示给模型）。有偏解码可能“听到”并不存在的词，因此它单独听到的词只有在无偏转写的拼音佐证后才成为发现，并标为“redecode”。",
                          "A biased re-decoding pass (key terms given to the recogniser as hints) was used. "
                          "Biasing can make a recogniser 'hear' terms that were never said, so a term heard only "
                          "by that pass became a finding only when the unbiased transcript's pinyin at the same "
                          f"time corroborated it, and is marked 'redecode' ({n_acc} accepted of "
                          f"{len(cands or [])} candidates)."))
    else:
        items.append(("本案没有语音转写。", "The case has no transcript: spoken claims were not analysed."))
    if any(f["source"] == "screen" for f in findings):
        items.append(("画面文字由 OCR 识别，只分析了抽样帧，可能漏掉短暂出现的文字。",
                      "On-screen text comes from OCR of sampled frames only; text shown briefly between samples "
                      "can be missed."))
    return items


def _segments_text(segs: Any, n: int = 4) -> str:
    if not isinstance(segs, list):
        return ""
    parts = [f"{timecode(x[0])}–{timecode(x[1])}" for x in segs[:n] if isinstance(x, list) and len(x) == 2]
    return ", ".join(parts) + (f" … (+{len(segs) - n})" if len(segs) > n else "")


def _links_view(case: Case) -> dict[str, Any] | None:
    """This stream's voices and its links to other streams (voice.json, links.json), or None."""
    from ..links.compare import read_links

    voice = read_optional(case, case.root / "voice.json")
    links = read_links(case)
    if not isinstance(voice, dict) and not links:
        return None
    voices = []
    for sp in (voice.get("speakers") or []) if isinstance(voice, dict) else []:
        if isinstance(sp, dict):
            voices.append({"id": _text(sp.get("id")), "seconds": _num(sp.get("seconds")),
                           "segments": _segments_text(sp.get("segments"))})
    items = []
    for link in links:
        rows = []
        for v in link.get("voice") or []:
            if isinstance(v, dict) and v.get("same_voice"):
                rows.append({"what": "同一声音 same voice", "this": f"{v.get('this_speaker')}: {_segments_text(v.get('this_segments'), 2)}",
                             "other": f"{v.get('other_speaker')}: {_segments_text(v.get('other_segments'), 2)}",
                             "score": round(_num(v.get("score"), 0.0) or 0.0, 3), "threshold": _num(v.get("threshold")),
                             "basis": f"cosine similarity of speaker embeddings; {v.get('this_seconds')} s / "
                                      f"{v.get('other_seconds')} s of speech"})
        for r in link.get("footage") or []:
            if isinstance(r, dict):
                rows.append({"what": "相同画面 same video" if r.get("medium") == "video" else "相同声音片段 same audio",
                             "this": f"{timecode(r.get('this_start'))}–{timecode(r.get('this_end'))}",
                             "other": f"{timecode(r.get('other_start'))}–{timecode(r.get('other_end'))}",
                             "score": _num(r.get("score")), "threshold": _num(r.get("threshold")),
                             "basis": _text(r.get("method")) + ("; picture only: MPEG-7 sees the layout of light "
                                                                "and dark, so check the frames" if r.get("medium") == "video"
                                                                else "")})
        for m in link.get("products") or []:
            if isinstance(m, dict):
                rows.append({"what": "同款商品 same product",
                             "this": f"{m.get('this_product')} ({m.get('this_finding')}) {timecode(m.get('this_t'))}",
                             "other": f"{m.get('other_product')} ({m.get('other_finding')}) {timecode(m.get('other_t'))}",
                             "score": _num(m.get("inliers")), "threshold": _num(m.get("threshold")),
                             "basis": "SIFT keypoints outside the finding's box, RANSAC homography inliers"})
        best_voice = max((_num(v.get("score"), -1.0) or -1.0 for v in link.get("voice") or [] if isinstance(v, dict)),
                         default=None)
        items.append({"other_case": _text(link.get("other_case")), "other_source_sha256": _text(link.get("other_source_sha256")),
                      "kinds": [k for k in link.get("kinds") or [] if isinstance(k, str)],
                      "compared": _text(link.get("compared")), "rows": rows, "best_voice": best_voice,
                      "notes": [n for n in link.get("notes") or [] if isinstance(n, str)]})
    model = voice.get("model") if isinstance(voice, dict) else None
    return {"voices": voices, "model": model if isinstance(model, dict) else None,
            "speech_seconds": _num(voice.get("speech_seconds")) if isinstance(voice, dict) else None,
            "items": sorted(items, key=lambda x: (not x["kinds"], str(x["other_case"])))}
def _clips(case: Case) -> dict[str, dict[str, Any]]:
    """Each finding's exhibit clip (file, sha256, where it starts on the source's clock)."""
    from ..review.exhibits import load_exhibits

    ex = load_exhibits(case) or {}
    by_file = {c.get("file"): c for c in ex.get("clips") or [] if isinstance(c, dict)}
    out = {}
    for fid, rel in (ex.get("findings") or {}).items() if isinstance(ex.get("findings"), dict) else []:
        c = by_file.get(rel)
        if c:
            out[str(fid)] = {"file": f"exhibits/{rel}", "sha256": c.get("sha256"), "timecode": timecode(c.get("clip_start")),
                             "method": ex.get("method")}
    return out


EPISODE_HOW = {"card": "商品卡链接号 the product card's link badge", "speech": "口播链接号 link numbers said",
               "scene": "场景切换 scene cuts", "whole": "整场一段 one for the whole stream"}


def episodes_view(case: Case) -> dict[str, Any] | None:
    """Which product was on sale when (``evidence/episodes.json``, written by the claims detector)."""
    doc = read_optional(case, case.root / "evidence" / "episodes.json")
    if not isinstance(doc, dict) or not isinstance(doc.get("episodes"), list):
        return None
    rows = []
    for e in doc["episodes"][:500]:
        if not isinstance(e, dict):
            continue
        start, end = _num(e.get("start")), _num(e.get("end"))
        words = [w for w in e.get("words") or [] if isinstance(w, dict)]
        rows.append({
            "start": start, "end": end,
            "span": f"{timecode(start) if start is not None else '开始 start'} – {timecode(end) if end is not None else '结束 end'}",
            "link": f"{e['link']}号" if isinstance(e.get("link"), int) else "—",
            "how": EPISODE_HOW.get(str(e.get("how")), _text(e.get("how")) or ""),
            "words": ", ".join(f"{_text(w.get('word'))} ×{_text(w.get('count'))}" for w in words[:5]) or "—",
            "pages": ", ".join(str(p) for p in e.get("pages") or [] if isinstance(p, str)) or "—",
        })
    return {"rows": rows, "note": _text(doc.get("note")) or ""} if rows else None


def build_report_data(case: Case, *, argv: list[str] | None = None, signer: str | None = None,
                      tsa: str | None = None, only: set[str] | None = None) -> dict[str, Any]:
    if not case.exists():
        raise InputError(f"{case.root} is not an lsf case (no case.json): run `lsf extract` first")
    case.require(case.findings_json, "detect -C CASE")
    doc = FindingsDoc.load(case.findings_json)
    source = read_optional(case, case.source_json)
    transcript = read_optional(case, case.transcript_json)
    frames = frame_index(read_optional(case, case.frames_json))
    index = rule_index(case)
    from ..review.decisions import review_state
    from .matter import case_matter

    state = review_state(case, doc)
    clips = _clips(case)
    all_views = [finding_view(f, index, case, frames) for f in doc.findings]
    for v in all_views:
        v["review"] = state.statuses[v["id"]].to_json()
        v["clip"] = clips.get(v["id"])
    views = [v for v in all_views if only is None or v["review"]["status"] in only]
    strongest = sorted(views, key=strength)
    duration = _duration(source, doc.findings)

    by_kind: dict[str, Counter[str]] = {}
    for v in views:
        by_kind.setdefault(v["kind"], Counter())[v["severity"]] += 1
    groups = []
    for kind, counts in by_kind.items():
        items = sorted((v for v in views if v["kind"] == kind), key=strength)
        groups.append({"kind": kind, "label": lb.kind_label(kind), "count": len(items),
                       "high": counts["high"], "medium": counts["medium"], "low": counts["low"],
                       "findings": items})
    groups.sort(key=lambda g: (strength(g["findings"][0])[:2], -g["count"]))
    sev = Counter(v["severity"] for v in views)
    summary = {
        "total": len(views),
        "by_severity": {k: sev.get(k, 0) for k in ("high", "medium", "low")},
        "by_source": dict(Counter(str(v["source"]) for v in views).most_common()),
        "by_kind": [{"kind": g["kind"], "label": g["label"], "count": g["count"], "high": g["high"],
                     "medium": g["medium"], "low": g["low"]} for g in groups],
        "top": [v["id"] for v in strongest[:TOP_N]],
        "brands": dict(Counter(v["brand"] for v in views if v["brand"]).most_common(10)),
        "all_findings": len(all_views),
    }
    review = state.summary()
    review["only"] = sorted(only) if only else None
    info = case.info
    custody = CustodyLog(case.custody).entries() if case.custody.is_file() else []
    model = transcript.get("model") if isinstance(transcript, dict) else None
    env = environment()
    env.update({
        "argv": list(sys.argv if argv is None else argv),
        "model": model,
        "transcript_backend": transcript.get("backend") if isinstance(transcript, dict) else None,
        "rules_sha256": doc.rules_sha256,
        "findings_source_sha256": doc.source_sha256,
    })
    src_view = None
    if isinstance(source, dict):
        probe = source.get("probe") or {}
        src_view = {k: source.get(k) for k in ("name", "path", "size", "mtime", "sha256", "sha512")}
        src_view.update({"duration": probe.get("duration"), "container": probe.get("format_name") or probe.get("container"),
                         "duration_timecode": timecode(probe.get("duration"))})
    return {
        "schema": "lsf.report/1",
        "generated": utc_now(),
        "tool_version": __version__,
        "case": {k: info.get(k) for k in ("case_id", "uuid", "created", "operator", "host")},
        "stream": stream_view(info),
        "rules": rules_view(case),
        "source": src_view,
        "source_matches_findings": (src_view or {}).get("sha256") == doc.source_sha256,
        "capture": capture_view(case),  # None unless the case was recorded by `lsf record`
        "matter": case_matter(case),
        "review": review,
        "summary": summary,
        "duration": duration,
        "groups": groups,
        "findings_by_id": {v["id"]: v for v in views},
        "excerpts": _excerpts(transcript, views),
        "exhibits": _exhibits(case),
        "environment": env,
        "custody": custody,
        "limitations": _review_limits(review) + _limitations(transcript, views) + media_limitations(case),
        "links": _links_view(case),
        "episodes": episodes_view(case),
        "seal": {"signer": signer, "tsa": tsa},
        "verification": verification_steps(signer, tsa),
    }


STREAM_LABELS = {"platform": "平台 Platform", "room": "直播间 Room", "streamer": "主播 Streamer",
                 "captured_at": "录制时间 Captured at", "url": "网址 URL"}


def stream_view(info: dict[str, Any]) -> list[list[str]]:
    """The stream facts of case.json (lsf batch manifest, analyze --stream) as [label, value] rows."""
    stream = info.get("stream") if isinstance(info.get("stream"), dict) else {}
    return [[label, _text(stream[k]) or ""] for k, label in STREAM_LABELS.items() if stream.get(k)]


def rules_view(case: Case) -> dict[str, Any]:
    """Which rules the findings and legal bases come from: the case's archive, or (older cases) not."""
    path = case.root / "rules" / "rules.json"
    index = read_optional(case, path)
    if not isinstance(index, dict):
        return {"archived": False, "sha256": None, "folders": [],
                "note": "这个案件没有存档规则；法律依据取自本版 lsf 自带的规则 / the case holds no archived rules: "
                        "legal bases are taken from this lsf's shipped rules"}
    folders = [str(f.get("label")) for f in index.get("folders") or [] if isinstance(f, dict)]
    return {"archived": True, "sha256": _text(index.get("rules_sha256")), "folders": folders,
            "note": "规则存档于案件 rules/ 文件夹 / archived in the case's rules/ folder"}


def verification_steps(signer: str | None, tsa: str | None) -> list[dict[str, str]]:
    steps = [
        {"zh": "用 lsf 一次性核验全部内容：", "en": "Check everything with lsf:",
         "cmd": "lsf verify CASE" + (" --pubkey SIGNER.pub" if signer else "") + (" --tsa-ca TSA-ROOT.pem" if tsa else "")
         + " --source ORIGINAL-VIDEO"},
        {"zh": "不安装 lsf，用 sha256sum 核对每个文件：", "en": "Without lsf, check every file's hash:",
         "cmd": "cd CASE && sha256sum -c --strict manifest.sha256"},
        {"zh": "核对没有多出或缺少的文件：", "en": "Check that no file was added or removed:",
         "cmd": f"cd CASE && {SEAL_FIND} | sed 's|^\\./||' | LC_ALL=C sort | "
                "diff - <(cut -c67- manifest.sha256 | LC_ALL=C sort)"},
        {"zh": "核对封存文件（签名、时间戳）没有被删除：清单 manifest.json 的 seal 字段列出它们。",
         "en": "Check that no seal file (signature, timestamp) was removed: manifest.json's 'seal' lists them:",
         "cmd": "cd CASE && python3 -c \"import json,os;s=json.load(open('manifest.json'))['seal'];"
                "print([f for f in s['files'] if not os.path.isfile(f)] or 'complete')\""},
    ]
    if signer:
        steps.append({"zh": f"核验签名（公钥指纹 {signer}）：", "en": f"Check the Ed25519 signature (key fingerprint {signer}):",
                      "cmd": "openssl pkeyutl -verify -pubin -inkey SIGNER.pub -rawin -in manifest.json -sigfile manifest.sig"})
    if tsa:
        steps.append({"zh": f"核验时间戳（TSA：{tsa}）：", "en": f"Check the RFC 3161 timestamp (TSA {tsa}):",
                      "cmd": "openssl ts -verify -in manifest.tsr -data manifest.json -CAfile TSA-ROOT.pem "
                             "-untrusted manifest.tsa.pem"})
    steps.append({"zh": "源视频的哈希应与 source.json 一致：", "en": "The source video's hash must equal source.json's:",
                  "cmd": "sha256sum ORIGINAL-VIDEO"})
    return steps
