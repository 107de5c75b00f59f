"""Bilingual (Chinese / English) labels of the report.

Only presentation words live here: section titles, the names of finding kinds, sources,
severities and match methods. No brand, code-word or slang term is ever hard-coded (those are
rule data and reach the report only through findings).
"""

from __future__ import annotations

SECTIONS: dict[str, tuple[str, str]] = {
    "title": ("直播带货取证报告", "Livestream-shopping forensic report"),
    "case": ("案件与操作人", "Case and operator"),
    "summary": ("摘要", "Summary"),
    "timeline": ("时间轴", "Timeline of findings"),
    "top": ("最重要的发现", "Strongest findings"),
    "findings": ("全部发现（按类型分组）", "All findings, grouped by kind"),
    "transcript": ("转写摘录", "Transcript excerpts"),
    "exhibits": ("证据清单", "Exhibit list"),
    "environment": ("运行环境", "Environment"),
    "custody": ("保管链记录", "Chain-of-custody log"),
    "limitations": ("局限性", "Limitations"),
    "verification": ("如何核验本报告", "How to verify this report"),
    "id": ("编号", "ID"),
    "time": ("时间码", "Timecode"),
    "kind": ("类型", "Kind"),
    "severity": ("严重程度", "Severity"),
    "confidence": ("置信度", "Confidence"),
    "quote": ("原话/原文", "Quote"),
    "rule": ("规则与法律依据", "Rule and legal basis"),
    "match": ("匹配方式", "How it was matched"),
    "evidence": ("截图", "Frame"),
    "source": ("来源", "Source"),
    "count": ("数量", "Count"),
    "total": ("合计", "Total"),
    "path": ("文件", "File"),
    "size": ("大小（字节）", "Size (bytes)"),
    "operator": ("操作人", "Operator"),
}

KINDS: dict[str, tuple[str, str]] = {
    "brand_codeword": ("品牌暗语", "Brand code-word"),
    "brand_mention": ("品牌名称", "Brand name mentioned or shown"),
    "counterfeit_slang": ("假货行话", "Counterfeit slang"),
    "absolute_claim": ("绝对化用语（广告法）", "Absolute claim (Advertising Law)"),
    "health_claim": ("功效/医疗宣称", "Health or efficacy claim"),
    "masked_logo": ("遮挡商标", "Masked logo (tape, sticker, blur, mosaic)"),
    "logo_match": ("商标/商品比对", "Reference logo or product visible"),
    "spec_mismatch": ("宣称与商品页不符", "Claim contradicts the product page"),
    "price_anomaly": ("价格异常", "Price anomaly"),
    "viewer_doubt": ("观众质疑真伪", "Viewer doubts authenticity (chat)"),
}

SOURCES: dict[str, tuple[str, str]] = {
    "speech": ("语音", "speech"),
    "screen": ("画面文字", "on-screen text (OCR)"),
    "frame": ("画面", "picture"),
    "chat": ("弹幕/评论", "chat"),
    "screen_chat": ("画面中的观众评论", "viewers' comments on screen (OCR)"),
    "page": ("商品页", "product page"),
}

SEVERITIES: dict[str, tuple[str, str]] = {
    "high": ("高", "high"),
    "medium": ("中", "medium"),
    "low": ("低", "low"),
}

MATCHES: dict[str, tuple[str, str]] = {
    "exact": ("文字完全一致", "exact text match of the rule's term"),
    "pinyin": ("拼音相同、字不同", "same pronunciation (pinyin), different characters: a likely mis-transcription"),
    "fuzzy": ("近似文字匹配", "approximate text match"),
    "evasion": ("规避写法（插字、叠字、形近或同音字），还原后与规则词一致",
                "a deliberate disguise (a character inserted, repeated or replaced by a look-alike or "
                "sound-alike), which undone gives the rule's term"),
    "redecode": ("仅在有偏重解码中听到，已由无偏转写的拼音佐证",
                 "heard only by a biased re-decoding of the audio, corroborated by the pinyin of the unbiased "
                 "transcript at the same time; weaker than a direct transcript match"),
    "visual": ("图像分析", "image analysis of the frame"),
    "rule": ("规则计算", "computed by a rule (e.g. price ratio, claim versus page)"),
}


def kind_label(kind: str) -> tuple[str, str]:
    return KINDS.get(kind, (kind, kind.replace("_", " ")))


def pair(table: dict[str, tuple[str, str]], key: str) -> tuple[str, str]:
    return table.get(key, (key, key))
