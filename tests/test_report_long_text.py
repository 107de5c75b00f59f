"""Issue 12, items 6 and 14a: text any viewer or seller controls must not block or distort the report.

A real chat file with one 100,000-character message and a real product page with a
100,000-character attribute go through the chat and pages stages; the findings quoting them (and a
quote carrying bidi controls and NUL) go through `lsf report` with a signature. Before, one such
paragraph made reportlab raise LayoutError: no PDF, no seal. Now the report and seal succeed, the
PDF is readable with pdftotext and carries the whole text (cut in the tables, in full in the
appendix), and controls that reorder what is displayed are shown as visible markers.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time

import pytest
from conftest import run_lsf
from test_evidence_helpers import FindingsFixtureStage, build_case

from lsforensics.chat import ChatStage
from lsforensics.claims.stage import PagesStage
from lsforensics.evidence.sign import generate_keypair
from lsforensics.findings import Finding
from lsforensics.stage import run_stage

pytestmark = pytest.mark.slow

N = 100_000
BIDI_QUOTE = "原价\u202e9999\u202c元 今天只要\u0000三百九"  # displays "原价9999元" reordered without markers


def _long(seed: str) -> str:
    """100,000 characters of varied CJK text with a marker every 10,000, so cut points are checkable."""
    base = "正品一比一原单高仿小香驴牌包包专柜同款今天福利价家人们" + seed
    text = (base * (N // len(base) + 1))[:N]
    return "".join(f"〔{i // 10_000}〕" + text[i + 3:i + 10_000] for i in range(0, N, 10_000))[:N]


@pytest.fixture(scope="module")
def long_case(tmp_path_factory, test_cache, realdata):
    base = tmp_path_factory.mktemp("longtext")
    case = build_case(base / "case", test_cache, realdata)
    chat_text, page_value = _long("弹幕"), _long("面料")
    chat_file = base / "chat.jsonl"
    chat_file.write_text(json.dumps({"t": 9.5, "user": "viewer", "text": chat_text}, ensure_ascii=False) + "\n"
                         + json.dumps({"t": 10.0, "user": "v2", "text": BIDI_QUOTE}, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    page = base / "page.json"
    page.write_text(json.dumps({"title": "小香 经典款", "price": 390, "attributes": {"面料成分": page_value}},
                               ensure_ascii=False), encoding="utf-8")
    run_stage(case, ChatStage([chat_file]))
    run_stage(case, PagesStage([page]))
    findings = [
        Finding(kind="brand_codeword", source="chat", start=9.5, end=9.5, rule="brands/chanel.codewords",
                severity="high", confidence=0.8, match="exact", term="小香", matched="小香", brand="Chanel",
                quote=chat_text),
        Finding(kind="spec_mismatch", source="page", start=6.5, end=7.4, rule="claims.specs.material",
                severity="high", confidence=0.9, match="rule", quote="百分百真皮",
                extra={"claim": {"attribute": "材质", "value": "真皮", "quote": "百分百真皮", "start": 6.5},
                       "spec": {"attribute": "面料成分", "value": page_value, "page": "page.json",
                                "locator": "attributes.面料成分"}}),
        Finding(kind="price_anomaly", source="chat", start=10.0, end=10.0, rule="prices.luxury", severity="medium",
                confidence=0.6, match="rule", quote=BIDI_QUOTE, extra={"price": 390, "reference": 20000}),
    ]
    run_stage(case, FindingsFixtureStage(findings), force=True)
    kp = generate_keypair(base / "lab.key", base / "lab.pub")
    t0 = time.perf_counter()
    proc = run_lsf("report", "-C", case.root, "--sign-key", kp.private_path)
    wall = time.perf_counter() - t0
    print(f"lsf report with two 100,000-character texts: {wall:.1f} s wall (shared machine)")
    return {"case": case, "proc": proc, "key": kp, "chat": chat_text, "page": page_value}


def _pdf_text(path) -> str:
    """The PDF's text with each page's footer (tool, case, time, page number) taken out, so text
    that runs across a page break reads on."""
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext missing (apt-get install poppler-utils; scripts/bootstrap.sh does)")
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = [re.sub(r"\n\s*lsforensics \S+ · .* · \S+Z\s*\n\s*\d+\s*$", "", p) for p in text.split("\f")]
    return "".join(pages)


def test_report_and_seal_succeed_and_verify(long_case, lsf):
    proc = long_case["proc"]
    assert proc.returncode == 0, proc.stderr
    assert "signed: manifest.sig" in proc.stdout
    root = long_case["case"].root
    for name in ("report.html", "report.pdf", "report.json"):
        assert (root / "report" / name).stat().st_size > 1000
    chat = json.loads((root / "chat.json").read_text(encoding="utf-8"))
    assert max(len(m["text"]) for m in chat) == N
    page = json.loads((root / "pages.json").read_text(encoding="utf-8"))["pages"][0]
    assert len(page["attributes"]["面料成分"]) == N
    v = lsf("verify", root, "--pubkey", long_case["key"].public_path)
    assert v.returncode == 0, v.stdout[-1000:]


def test_pdf_is_readable_and_holds_both_texts_in_full(long_case):
    pdf = long_case["case"].root / "report" / "report.pdf"
    text = _pdf_text(pdf)
    flat = re.sub(r"\s+", "", text)
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    n_pages = int(re.search(r"Pages:\s+(\d+)", pages).group(1))
    print(f"PDF: {n_pages} pages, {pdf.stat().st_size:,} bytes, {len(flat):,} characters of text")
    assert "附录：全文/Appendix:textsshortenedabove,infull" in flat
    assert "100,000字符characters" in flat
    assert "共100,000字，全文见附录A" in flat  # the note where a table cell was cut
    for full in (long_case["chat"], long_case["page"]):
        # every 10,000-character stretch of both texts is in the PDF (the appendix has them whole)
        for i in range(0, N, 10_000):
            assert full[i:i + 300] in flat, i
        assert full[-300:] in flat
    assert 20 <= n_pages <= 200


def test_bidi_controls_and_nul_are_shown_not_obeyed(long_case):
    root = long_case["case"].root
    html = (root / "report" / "report.html").read_text(encoding="utf-8")
    assert "\u202e" not in html and "\u0000" not in html and "\u202c" not in html
    assert "原价[U+202E]9999[U+202C]元 今天只要[U+0000]三百九" in html
    flat = re.sub(r"\s+", "", _pdf_text(root / "report" / "report.pdf"))
    assert "原价[U+202E]9999[U+202C]元今天只要[U+0000]三百九" in flat
    # the data itself is kept exactly as it was said/written
    rep = json.loads((root / "report" / "report.json").read_text(encoding="utf-8"))
    quotes = [f["quote"] for g in rep["groups"] for f in g["findings"]]
    assert BIDI_QUOTE in quotes
