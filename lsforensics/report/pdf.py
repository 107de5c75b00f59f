"""``report.pdf`` with reportlab and an embedded (subset) CJK TrueType font.

reportlab embeds TrueType outlines only, not CFF-based OpenType, so the Noto CJK ``.otf``/``.ttc``
files cannot be used; :func:`~lsforensics.report.fonts.find_cjk_font` finds a TrueType CJK font
on Linux, macOS or Windows (``LSF_CJK_FONT=/path/font.ttf[:index]`` picks one).
Every piece of text goes through XML escaping before it reaches a Paragraph, because reportlab
reads a small markup language in paragraphs and untrusted text must not be able to use it.
"""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from ..errors import InputError
from . import timeline
from .display import display_text
from .fonts import find_cjk_font
from .images import thumbnail

FONT = "LsfCJK"
IMAGE_CAP = 40
_registered: tuple[str, int] | None = None


def _register() -> tuple[str, int]:
    global _registered
    if _registered is None:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        path, idx = find_cjk_font()
        try:
            pdfmetrics.registerFont(TTFont(FONT, path, subfontIndex=idx))
        except Exception as exc:  # noqa: BLE001 - e.g. a CFF font given via LSF_CJK_FONT
            raise InputError(f"cannot embed font {path} in the PDF ({exc}); use a TrueType (glyf) CJK font") from None
        _registered = (path, idx)
    return _registered


CELL_CHARS = 600  # free text in one table cell: a table row must fit on a page (reportlab LayoutError)
TOKEN_CHARS = 1000  # any other field (ids, paths, names): longer is cut with a note
APPENDIX_CHARS = 400_000  # all cut texts together, given in full in the appendix
APPENDIX_CHUNK = 1500  # characters per appendix paragraph (each one splits across pages cheaply)


def _t(x: Any, limit: int = TOKEN_CHARS) -> str:
    """Escaped (reportlab reads markup in paragraphs), controls made visible, and never longer than
    ``limit`` characters, so no untrusted value can make a table row taller than a page."""
    s = display_text("" if x is None else str(x))
    if len(s) <= limit:
        return escape(s)
    return escape(s[:limit]) + f" … [{len(s):,} 字符 characters; 全文见 full text in report.json]"


def _refs(ids: list[str], by_id: dict[str, Any]) -> str:
    from .data import EXCERPT_REFS

    shown = ", ".join(f"#{_t(by_id[i]['n'])}" if i in by_id else _t(i) for i in ids[:EXCERPT_REFS])
    return shown + (f" +{len(ids) - EXCERPT_REFS}" if len(ids) > EXCERPT_REFS else "")


def render_pdf(data: dict[str, Any], root: str) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Image,
        KeepTogether,
        LongTable,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    font_path, _ = _register()
    base = ParagraphStyle("base", fontName=FONT, fontSize=8.5, leading=11.5, wordWrap="CJK")
    small = ParagraphStyle("small", parent=base, fontSize=7, leading=9)
    # Short tokens only (ids, timecodes, labels): plain word wrapping, much cheaper than CJK wrapping.
    tokens = ParagraphStyle("tokens", parent=small, wordWrap=None)
    mono = ParagraphStyle("mono", parent=base, fontSize=6.5, leading=8.5)
    h1 = ParagraphStyle("h1", parent=base, fontSize=17, leading=22, spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=base, fontSize=13, leading=17, spaceBefore=10, spaceAfter=4,
                        textColor=colors.HexColor("#111111"))
    h3 = ParagraphStyle("h3", parent=base, fontSize=10.5, leading=14, spaceBefore=6, spaceAfter=2)
    sev_color = {"high": "#c62828", "medium": "#b26a00", "low": "#3d5f86"}

    class CachedParagraph(Paragraph):
        """A Paragraph that breaks its lines once per width.

        Tables wrap each cell several times (row heights, page splits, drawing) and CJK line
        breaking is per character in pure Python: caching by width halves the PDF time.
        """

        _wrapped_at: float | None = None

        def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
            if self._wrapped_at == avail_w and getattr(self, "blPara", None) is not None:
                return self.width, self.height
            out = super().wrap(avail_w, avail_h)
            self._wrapped_at = avail_w
            return out

    def P(text: str, style: ParagraphStyle = base) -> Paragraph:  # noqa: N802 - reads like markup
        return CachedParagraph(text, style)

    appendix: list[tuple[str, str]] = []  # (where it was cut, the full text)

    def fit(x: Any, where: str, limit: int = CELL_CHARS) -> str:
        """Free text for a table cell: cut at ``limit`` characters, the whole of it in the appendix."""
        full = display_text("" if x is None else str(x))
        if len(full) <= limit:
            return escape(full)
        appendix.append((where, full))
        n = len(appendix)
        return (escape(full[:limit]) + f" … <i>[共 {len(full):,} 字，全文见附录 A{n} / {len(full):,} characters, "
                f"in full in appendix A{n}]</i>")

    grid = TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), FONT), ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ])

    def kv_table(rows: list[list[Any]]) -> Any:
        """A two-column label/value table (source, capture, matter)."""
        t = LongTable(rows, colWidths=[40 * mm, width - 40 * mm])
        t.setStyle(grid)
        t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.white)]))
        return t
    finding_style = TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), FONT), ("BOX", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
        ("LINEBEFORE", (1, 0), (2, -1), 0.4, colors.HexColor("#bbbbbb")), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 1), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -2), 0),
    ])
    width = A4[0] - 30 * mm
    story: list[Any] = []
    d = data
    story.append(P("直播带货取证报告 / Livestream-shopping forensic report", h1))
    story.append(P(f"案件 Case <b>{_t(d['case']['case_id'])}</b> · 生成 Generated {_t(d['generated'])} UTC · "
                   f"lsforensics {_t(d['tool_version'])}", small))

    # -- case -------------------------------------------------------------------------------
    story.append(P("案件与操作人 / Case and operator", h2))
    rows = [[P("案件编号 Case ID"), P(_t(d["case"]["case_id"]))], [P("操作人 Operator"), P(_t(d["case"]["operator"]))],
            [P("主机 Host"), P(_t(d["case"]["host"]))], [P("案件创建 Created"), P(_t(d["case"]["created"]))]]
    rows += [[P(_t(label)), P(fit(value, label))] for label, value in d.get("stream") or []]
    rules = d.get("rules") or {}
    rows.append([P("规则 Rules"), P(f"{_t(rules.get('sha256') or '—')} {_t(' + '.join(rules.get('folders') or []))}"
                                   f"<br/>{_t(rules.get('note') or '')}", small)])
    src = d.get("source")
    if src:
        rows += [[P("源视频 Source"), P(f"{_t(src['name'])}<br/>{_t(src['path'])}")],
                 [P("SHA-256"), P(_t(src["sha256"]), mono)], [P("SHA-512"), P(_t(src["sha512"]), mono)],
                 [P("大小/时长 Size/duration"), P(f"{_t(src['size'])} bytes · {_t(src['duration_timecode'])}")],
                 [P("文件修改时间 mtime"), P(f"{_t(src['mtime'])}（可被更改，不代表录制时间 / not the recording time）")]]
    story.append(kv_table(rows))
    cap = d.get("capture")
    if cap:
        story.append(P("直播采集 / Capture", h2))
        rows = [[P(f"{_t(zh)} {_t(en)}"), P(_t(v))] for zh, en, v in cap["rows"]]
        rows += [[P(f"中断 gap: {_t(g['cause'])}"), P(f"{_t(g['from'])} .. {_t(g['to'])}: {_t(g['wall'])} without data, "
                                                   f"{_t(g['missing'])} media missing, at {_t(g['at'])}")]
                 for g in cap["gaps"]]
        story.append(kv_table(rows))
    if d.get("matter"):
        story.append(P("案件信息 / Matter", h2))
        rows = [[P(f"{_t(m['zh'])} {_t(m['en'])}"), P(fit(m["value"], f"matter {m['en']}").replace("\n", "<br/>"))] for m in d["matter"]]
        story.append(kv_table(rows))

    # -- summary ----------------------------------------------------------------------------
    s = d["summary"]
    story.append(P("摘要 / Summary", h2))
    story.append(P(f"共 <b>{s['total']}</b> 项发现 / <b>{s['total']}</b> findings: "
                   f"<font color='{sev_color['high']}'>高 high {s['by_severity']['high']}</font> · "
                   f"<font color='{sev_color['medium']}'>中 medium {s['by_severity']['medium']}</font> · "
                   f"<font color='{sev_color['low']}'>低 low {s['by_severity']['low']}</font>",
                   ParagraphStyle("big", parent=base, fontSize=11, leading=15)))
    rv = d["review"]
    by = rv["by_status"]
    story.append(P(f"人工复核 Human review: {rv['reviewed']} / {rv['findings']} reviewed · 确认 confirmed {by['confirmed']} · "
                   f"驳回 rejected {by['rejected']} · 不确定 unsure {by['unsure']} · 已变更 changed {by['changed']} · "
                   f"未复核 not reviewed {by['unreviewed']}"
                   + (f" · 复核人 reviewer(s): {_t(', '.join(rv['reviewers']))}" if rv["reviewers"] else "")))
    if rv["only"]:
        story.append(P(f"<b>本报告只列出状态为 {_t(', '.join(rv['only']))} 的发现 / only findings with review status "
                       f"{_t(', '.join(rv['only']))}: {s['total']} of {s['all_findings']}</b>"))
    if s.get("brands"):
        story.append(P("涉及品牌 Brands named: " + ", ".join(f"{_t(b)} ({n})" for b, n in s["brands"].items())))
    rows = [[P("类型 Kind"), P("高 High"), P("中 Med."), P("低 Low"), P("合计 Total")]]
    rows += [[P(f"{_t(k['label'][0])} / {_t(k['label'][1])}"), k["high"], k["medium"], k["low"], k["count"]]
             for k in s["by_kind"]]
    t = LongTable(rows, colWidths=[width - 64 * mm, 16 * mm, 16 * mm, 16 * mm, 16 * mm], repeatRows=1)
    t.setStyle(grid)
    story.append(t)
    story.append(P("最重要的发现 / Strongest findings", h3))
    rows = [[P("编号 ID"), P("时间码 Timecode"), P("类型/严重程度 Kind/severity"), P("原话/原文 Quote")]]
    for fid in s["top"]:
        f = d["findings_by_id"][fid]
        rows.append([P(_t(f["label"])), P(_t(f["timecode"])),
                     P(f"{_t(f['kind_label'][0])}<br/><font color='{sev_color.get(f['severity'], '#000')}'>"
                       f"{_t(f['severity'])}</font> {_t(f['confidence'])}"),
                     P(fit(f["quote"] or f["matched"] or "", f"{f['id']} quote"))])
    t = LongTable(rows, colWidths=[16 * mm, 24 * mm, 36 * mm, width - 76 * mm], repeatRows=1)
    t.setStyle(grid)
    story.append(t)
    story.append(P("这些发现是供人工复核的线索。/ These findings are leads for human review, not conclusions.", small))

    # -- timeline ---------------------------------------------------------------------------
    story.append(KeepTogether([
        P("时间轴 / Timeline of findings", h2),
        timeline.flowable(d["groups"], d["duration"], width, FONT),
        P("横轴为视频时间；颜色表示严重程度。/ Time from the start of the video; colour = severity.", small)]))

    # -- findings ---------------------------------------------------------------------------
    story.append(P("全部发现（按类型分组） / All findings, grouped by kind", h2))
    images_left = IMAGE_CAP
    img_w = 46 * mm
    for g in d["groups"]:
        story.append(P(f"{_t(g['label'][0])} / {_t(g['label'][1])} — {g['count']} "
                       f"(高 {g['high']} · 中 {g['medium']} · 低 {g['low']})", h3))
        # One small table per finding rather than one long table per group: reportlab re-wraps
        # every remaining row of a long table at each page split (quadratic with CJK line breaking).
        widths = [26 * mm, width - 26 * mm - img_w - 6, img_w + 6]
        for f in g["findings"]:
            left = (f"<b>{_t(f['label'])}</b><br/>{_t(f['timecode'])}"
                    + (f"<br/>– {_t(f['timecode_end'])}" if f["end"] is not None and f["end"] != f["start"] else "")
                    + f"<br/><font color='{sev_color.get(f['severity'], '#000')}'>{_t(f['severity_label'][0])} "
                      f"{_t(f['severity'])}</font><br/>conf. {_t(f['confidence'])}<br/>{_t(f['source'])}"
                    + f"<br/><b>{_t(f['review']['status'])}</b>"
                    + (f"<br/>{_t(f['review']['reviewer'])}" if f["review"]["reviewer"] else ""))
            fid = f["id"]
            parts = []
            if f["quote"]:
                parts.append(f"<b>“{fit(f['quote'], f'{fid} quote')}”</b>")
            if f["term"]:
                found = (f" (识别为 found as “{fit(f['matched'], f'{fid} matched', 200)}”)"
                         if f["matched"] and f["matched"] != f["term"] else "")
                parts.append(f"词条 term: {_t(f['term'])}{found}")
            if f["brand"]:
                parts.append(f"品牌 brand: {_t(f['brand'])}")
            parts.append(f"规则 rule: {_t(f['rule'])}")
            parts.append(f"法律依据 legal basis: {_t(f['legal_basis'] or '规则中未记录 / not recorded in the rules')}")
            parts.append(f"匹配 matched by: <b>{_t(f['match'])}</b> — {_t(f['match_label'][0])} / {_t(f['match_label'][1])}")
            if f["explanation"]:
                parts.append(f"说明 explanation: {fit(f['explanation'], f'{fid} explanation')}")
            for k, v in f["extra"].items():
                items = v.items() if isinstance(v, dict) else [(None, v)]
                vals = [(f"{_t(kk, 60)}: " if kk is not None else "") + fit(vv, f"{fid} {k}" + (f".{kk}" if kk else ""), 300)
                        for kk, vv in list(items)[:20]]
                parts.append(f"{_t(k, 60)}: " + "; ".join(vals))
            if f["review"]["note"]:
                parts.append(f"复核备注 reviewer's note: {fit(f['review']['note'], f'{fid} note')}")
            if f.get("clip"):
                parts.append(f"视频片段 clip: {_t(f['clip']['file'])} (stream copy from {_t(f['clip']['timecode'])}) "
                             f"sha256 {_t(f['clip']['sha256'])}")
            if f["evidence"]:
                ev = f["evidence"]
                parts.append("证据 evidence: " + ", ".join(_t(e, 200) for e in ev[:12])
                             + (f" … (+{len(ev) - 12})" if len(ev) > 12 else ""))
            pic: Any = ""
            if f["image"] and images_left > 0:
                jpeg = thumbnail(root, f["image"], tuple(f["bbox"]) if f["bbox"] else None, 300)
                if jpeg:
                    from PIL import Image as PILImage

                    with PILImage.open(io.BytesIO(jpeg)) as im:
                        w, h = im.size
                    pic = Image(io.BytesIO(jpeg), width=img_w, height=img_w * h / w)
                    images_left -= 1
            elif f["image"]:
                pic = P(_t(f["image"]), small)
            # One row per part: a finding taller than a page splits between its parts.
            rows = [[P(left, tokens), P(parts[0]), pic]] + [["", P(part), ""] for part in parts[1:]]
            t = Table(rows, colWidths=widths)
            t.setStyle(finding_style)
            story.append(t)

    # -- transcript -------------------------------------------------------------------------
    story.append(P("转写摘录 / Transcript excerpts", h2))
    if d["excerpts"]:
        rows = [[P("时间码 Timecode"), P("转写（自动） Transcript (automatic)"), P("发现 Findings")]]
        rows += [[P(_t(e["timecode"])), P(fit(e["text"], f"transcript {e['timecode']}")),
                  P(_refs(e["findings"], d["findings_by_id"]), small)] for e in d["excerpts"]]
        t = LongTable(rows, colWidths=[24 * mm, width - 54 * mm, 30 * mm], repeatRows=1)
        t.setStyle(grid)
        story.append(t)
    else:
        story.append(P("无语音发现或无转写。/ No speech findings or no transcript."))

    # -- which product was on sale when ---------------------------------------------------------
    if d.get("episodes"):
        story.append(P("商品时段 / Which product was on sale when", h2))
        story.append(P("主播口头宣称只与其讲述时正在销售的商品页面比较（见每项发现的 about）。/ A spoken claim is compared "
                       "only with the page of the product on sale when it was said (each finding's \"about\" says why).",
                       small))
        rows = [[P(x, small) for x in ("时段 Time", "链接 Link", "依据 Known from", "商品词 Product words", "页面 Page")]]
        rows += [[P(_t(r["span"]), small), P(_t(r["link"]), small), P(_t(r["how"]), small), P(_t(r["words"]), small),
                  P(_t(r["pages"]), small)] for r in d["episodes"]["rows"]]
        t = LongTable(rows, colWidths=[34 * mm, 14 * mm, 34 * mm, width - 122 * mm, 40 * mm], repeatRows=1)
        t.setStyle(grid)
        story.append(t)

    # -- links to other streams ---------------------------------------------------------------
    if d.get("links"):
        lk = d["links"]
        story.append(P("与其他直播的关联 / Links to other streams", h2))
        story.append(P("由 lsf compare / lsf batch 计算，供人工复核；每项列出分数、阈值和方法。/ Computed by lsf compare or "
                       "lsf batch; leads for a reviewer, each with its score, threshold and method.", small))
        if lk["voices"]:
            model = lk.get("model") or {}
            story.append(P("主要声音 Main voices: " + "; ".join(f"{_t(v['id'])} {_t(v['seconds'])} s ({_t(v['segments'])})"
                                                           for v in lk["voices"])
                           + (f" — {_t(model.get('name'))}, weights sha256 {_t(model.get('weights_sha256'))}" if model else ""),
                           small))
        for it in lk["items"]:
            what = ("linked by " + ", ".join(it["kinds"])) if it["kinds"] else "no link"
            story.append(P(f"<b>{_t(it['other_case'])}</b> — {_t(what)} · compared {_t(it['compared'])}", base))
            if it["rows"]:
                rows = [[P(x, small) for x in ("关联 Link", "本案 This", "对方 Other", "分数 Score", "阈值 Thr.", "方法 Method")]]
                rows += [[P(_t(r["what"]), small), P(_t(r["this"]), small), P(_t(r["other"]), small),
                          P(_t(r["score"]), small), P(_t(r["threshold"]), small), P(_t(r["basis"]), small)]
                         for r in it["rows"]]
                t = LongTable(rows, colWidths=[24 * mm, 34 * mm, 34 * mm, 14 * mm, 14 * mm, width - 120 * mm],
                              repeatRows=1)
                t.setStyle(grid)
                story.append(t)

    # -- exhibits ---------------------------------------------------------------------------
    story.append(P("证据清单 / Exhibit list", h2))
    story.append(P("报告生成时案件中的每个文件。custody.jsonl 与本报告在随后写入的 manifest.json 中列出。/ Every case "
                   "file at report time; custody.jsonl and this report are listed in manifest.json, written right "
                   "after the report.", small))
    rows = [[P("文件 File"), P("字节 Bytes"), P("SHA-256")]]
    if src:
        rows.append([P(f"源视频 source: {_t(src['name'])} (not copied)", small), P(_t(src["size"]), small),
                     P(_t(src["sha256"]), mono)])
    rows += [[P(_t(x["path"]), small), P(str(x["size"]), small), P(x["sha256"], mono)] for x in d["exhibits"]]
    t = LongTable(rows, colWidths=[60 * mm, 18 * mm, width - 78 * mm], repeatRows=1)
    t.setStyle(grid)
    story.append(t)

    # -- environment ------------------------------------------------------------------------
    env = d["environment"]
    story.append(P("运行环境 / Environment", h2))
    model = env.get("model")
    model_txt = "; ".join(f"{k}: {v}" for k, v in model.items()) if isinstance(model, dict) else (model or "—")
    rows = [[P("工具 Tool"), P(f"lsforensics {_t(env['tool']['version'])}, commit {_t(env['tool']['commit'] or 'unknown')}")],
            [P("Python"), P(f"{_t(env['python'])} · {_t(env['platform'])}")],
            [P("ffmpeg"), P(_t(env["ffmpeg"] or "not found"))],
            [P("语音模型 ASR model"), P(_t(model_txt), small)],
            [P("规则 Rules sha256"), P(_t(env.get("rules_sha256")), mono)],
            [P("命令 argv"), P(fit(" ".join(map(str, env["argv"])), "argv"), small)],
            [P("库 Libraries"), P(_t(", ".join(f"{k} {v}" for k, v in env["packages"].items())), small)],
            [P("PDF 字体 font"), P(_t(font_path) + " (embedded subset)", small)]]
    t = LongTable(rows, colWidths=[36 * mm, width - 36 * mm])
    t.setStyle(grid)
    t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.white)]))
    story.append(t)

    # -- custody ----------------------------------------------------------------------------
    story.append(P("保管链记录 / Chain-of-custody log", h2))
    story.append(P("custody.jsonl 在生成本报告时的内容；报告与封存的记录紧随其后。/ custody.jsonl as of this report; the "
                   "report's and the seal's entries follow.", small))
    rows = [[P("#"), P("时间 Time (UTC)"), P("操作人 Operator"), P("动作 Action"), P("输出 Outputs"), P("prev")]]
    for e in d["custody"]:
        outs = "<br/>".join(f"{_t(o.get('path'))} {_t(str(o.get('sha256'))[:12])}…" for o in e.get("outputs") or [])
        rows.append([P(_t(e.get("seq")), small), P(_t(e.get("time")), small), P(_t(e.get("operator")), small),
                     P(_t(e.get("action")), small), P(outs, mono), P(_t(str(e.get("prev"))[:12]), mono)])
    t = LongTable(rows, colWidths=[8 * mm, 30 * mm, 22 * mm, 24 * mm, width - 104 * mm, 20 * mm], repeatRows=1)
    t.setStyle(grid)
    story.append(t)

    # -- limitations and verification -------------------------------------------------------
    story.append(P("局限性 / Limitations", h2))
    for zh, en in d["limitations"]:
        story.append(P(f"• {_t(zh)}<br/>{_t(en)}"))
        story.append(Spacer(1, 3))
    steps = [P("如何核验本报告 / How to verify this report", h2)]
    if d["seal"]["signer"]:
        steps.append(P(f"manifest.json 由 Ed25519 密钥签名 / signed with the Ed25519 key fingerprint "
                       f"{_t(d['seal']['signer'])}", small))
    if d["seal"]["tsa"]:
        steps.append(P(f"RFC 3161 时间戳 / timestamp requested from {_t(d['seal']['tsa'])}: 它证明 manifest.json 在该时间已存在，"
                       "而不是直播的录制时间。The TSA time attests when the manifest existed, not when the stream was "
                       "recorded.", small))
    for n, st in enumerate(d["verification"], 1):
        steps.append(P(f"{n}. {_t(st['zh'])} {_t(st['en'])}"))
        steps.append(P(_t(st["cmd"]), mono))
    story.append(KeepTogether(steps))

    # -- appendix: texts cut in the tables, in full ------------------------------------------
    if appendix:
        story.append(P("附录：全文 / Appendix: texts shortened above, in full", h2))
        left = APPENDIX_CHARS
        for n, (where, full) in enumerate(appendix, 1):
            story.append(P(f"A{n} · {_t(where, 120)} · {len(full):,} 字符 characters", h3))
            shown = full[:max(0, left)]
            left -= len(shown)
            for i in range(0, len(shown), APPENDIX_CHUNK):
                story.append(P(escape(shown[i:i + APPENDIX_CHUNK])))
            if len(shown) < len(full):
                story.append(P(f"… 其余 {len(full) - len(shown):,} 字符见 report.json / the remaining "
                               f"{len(full) - len(shown):,} characters are in report.json", small))

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawString(15 * mm, 8 * mm, f"lsforensics {d['tool_version']} · "
                          f"{display_text(str(d['case']['case_id']))[:80]} · {d['generated']}")
        canvas.drawRightString(A4[0] - 15 * mm, 8 * mm, f"{doc.page}")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=14 * mm,
                            bottomMargin=14 * mm, initialFontName=FONT, lang="zh-Hans", title=f"lsforensics report {d['case']['case_id']}",
                            author="lsforensics", subject="forensic report", creator=f"lsforensics {d['tool_version']}")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
