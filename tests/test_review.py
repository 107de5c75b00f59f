"""`lsf review` end to end in a real browser (Debian chromium + chromium-driver, driven by selenium).

The case is made the real way (extract on real footage, chat through the chat stage, findings
through a stage so custody is the real chain) and holds hostile text in the transcript, the chat
and a product page. The test plays a clip, confirms one finding by keyboard, rejects another
with a note by mouse, reloads, checks what the page and the case say, then builds the reviewed
report. Separate tests prove what the server refuses and how fast a 500-finding case loads.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import LSF
from test_evidence_helpers import FindingsFixtureStage, extracted_base, many_findings, realistic_findings

from lsforensics.case import Case, atomic_write_json
from lsforensics.chat import ChatStage
from lsforensics.custody import CustodyLog
from lsforensics.evidence.hashing import sha256_file
from lsforensics.findings import Finding
from lsforensics.review.decisions import ReviewLog
from lsforensics.stage import run_stage

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
SHOT = Path(__file__).resolve().parents[1] / "docs" / "images" / "review-page.png"
PAYLOADS = ['<script>window.__pwned=1</script>', '<img src=x onerror="window.__pwned=2">',
            '<a href="javascript:window.__pwned=3">点这里 click</a>']
HOSTILE = " ".join(PAYLOADS)

pytestmark = pytest.mark.slow


def _need_browser() -> None:
    if CHROMIUM is None or CHROMEDRIVER is None:
        # scripts/bootstrap.sh installs both: on CI a missing browser is a set-up bug.
        (pytest.fail if os.environ.get("CI") else pytest.skip)("needs Debian's chromium and chromium-driver")


class HostileStage(FindingsFixtureStage):
    """The shared report fixture plus hostile text in the transcript and in two findings."""

    name = "test.findings"

    def run(self, case, progress) -> dict[str, Any]:  # noqa: ANN001
        out = super().run(case, progress)
        tr = json.loads(case.transcript_json.read_text(encoding="utf-8"))
        tr["segments"].append({"start": 5.2, "end": 6.2, "text": f"主播说 {HOSTILE}", "words": []})
        atomic_write_json(case.transcript_json, tr)
        return out


def _hostile_findings(case: Case) -> list[Finding]:
    fs = realistic_findings(case)
    fs.append(Finding(kind="absolute_claim", source="speech", start=5.4, end=5.9, rule="adlaw/zuihao",
                      severity="medium", confidence=0.61, term="最好", matched="最好", quote=f"最好 {HOSTILE}",
                      explanation=PAYLOADS[2], extra={"page_note": HOSTILE}))
    return fs


def _build(dest: Path, cache: Path, realdata: Path, n: int | None = None) -> Case:
    shutil.copytree(extracted_base(cache, realdata), dest)
    case = Case(dest)
    chat = dest.parent / f"{dest.name}-chat.jsonl"
    chat.write_text("\n".join(json.dumps({"t": t, "user": u, "text": x}, ensure_ascii=False) for t, u, x in [
        (5.0, "观众<b>A</b>", f"是正品吗 {PAYLOADS[0]}"), (5.6, "viewer2", f"假的吧 {PAYLOADS[1]} {PAYLOADS[2]}"),
        (9.4, "viewer3", "小香多少钱")]) + "\n", encoding="utf-8")
    if n is None:
        run_stage(case, ChatStage([chat]), argv=["pytest", "chat"])
    findings = _hostile_findings(case) if n is None else many_findings(case, n)
    run_stage(case, HostileStage(findings), argv=["pytest", "fixture"])
    return case


class Review:
    """`lsf review CASE --no-browser` as a real process; the page address read from its output."""

    def __init__(self, case: Path, *extra: str):
        env = {**os.environ, "LSF_OPERATOR": "reviewer-a"}
        self.proc = subprocess.Popen([str(LSF), "review", str(case), "--no-browser", *extra], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.url = ""
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not self.url:
            ready, _, _ = select.select([self.proc.stdout], [], [], 1.0)
            if ready:
                line = self.proc.stdout.readline()
                if not line:
                    break
                if line.startswith("review page: "):
                    self.url = line.split(": ", 1)[1].strip()
        assert self.url, f"no review page address; stderr: {self.proc.stderr.read() if self.proc.poll() is not None else ''}"
        self.port = int(self.url.split(":")[2].split("/")[0])
        self.token = self.url.split("token=")[1]

    def finish(self, timeout: float = 30) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _driver(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opt = webdriver.ChromeOptions()
    opt.binary_location = CHROMIUM
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
              "--mute-audio", "--window-size=1280,860", f"--user-data-dir={profile}"):
        opt.add_argument(a)
    opt.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opt)


def _wait(drv, js: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = drv.execute_script(js)
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {js}")


def _status_badge(drv, fid: str) -> str:
    return drv.execute_script(f"return document.getElementById('item-{fid}').querySelector('.badge[class*=st-]').className")


def _request(port: int, path: str, *, host: str = "127.0.0.1", method: str = "GET", headers: dict | None = None,
             body: bytes | None = None, connect: str = "127.0.0.1") -> int:
    c = http.client.HTTPConnection(connect, port, timeout=10)
    try:
        c.request(method, path, body=body, headers={"Host": f"{host}:{port}", **(headers or {})})
        return c.getresponse().status
    finally:
        c.close()


@pytest.fixture(scope="module")
def review_case(tmp_path_factory, test_cache, realdata) -> Case:
    return _build(tmp_path_factory.mktemp("review") / "case", test_cache, realdata)


def test_review_in_a_real_browser(review_case: Case, tmp_path: Path) -> None:
    _need_browser()
    from selenium.webdriver.common.by import By

    case = review_case
    rv = Review(case.root)
    drv = None
    try:
        drv = _driver(tmp_path / "profile")
        t0 = time.monotonic()
        drv.get(rv.url)
        _wait(drv, "return document.body.dataset.ready")
        print(f"page ready in {time.monotonic() - t0:.2f} s (clips: {len(list((case.root / 'exhibits' / 'clips').iterdir()))})")
        assert drv.current_url.rstrip("/") == f"http://127.0.0.1:{rv.port}", "the token must leave the address bar"
        doc = json.loads(case.findings_json.read_text(encoding="utf-8"))["findings"]
        ids = [f["id"] for f in doc]
        assert drv.execute_script("return document.querySelectorAll('#list .item').length") == len(ids)

        # 1) play the clip of the first finding from the finding's moment
        drv.find_element(By.ID, "play-finding").click()
        _wait(drv, "const v = document.getElementById('clip'); return v && !v.paused && v.currentTime > 0.4", 30)
        played = drv.execute_script("const v = document.getElementById('clip'); return [v.currentTime, v.videoWidth, v.duration]")
        label = drv.find_element(By.CSS_SELECTOR, ".media .tc").text
        print(f"clip playing at {played[0]:.2f} s of {played[2]:.2f} s, {played[1]} px wide; '{label}'")
        assert played[1] == 640 and "original time 00:00:0" in label

        # 2) confirm it by keyboard (c), which moves on to the next finding
        drv.find_element(By.TAG_NAME, "body").send_keys("c")
        _wait(drv, f"return document.getElementById('item-{ids[0]}').textContent.includes('confirmed')")
        assert drv.find_element(By.CSS_SELECTOR, "#detail h2").text.startswith("#2 ")
        # 3) reject the second with a note, by mouse
        note = "顾客转述，不是卖家说的 <b>not</b> the seller's words"
        drv.find_element(By.ID, "note").send_keys(note)
        drv.find_element(By.ID, "do-rejected").click()
        _wait(drv, f"return document.getElementById('item-{ids[1]}').textContent.includes('rejected')")
        assert "已复核 2 / " in drv.find_element(By.ID, "progress").text

        # 4) reload: the decisions are still there (from review.jsonl, via the server)
        drv.refresh()
        _wait(drv, "return document.body.dataset.ready")
        assert "st-confirmed" in _status_badge(drv, ids[0]) and "st-rejected" in _status_badge(drv, ids[1])
        drv.find_element(By.ID, f"item-{ids[1]}").click()
        _wait(drv, "return document.querySelector('.note-text')")
        assert drv.find_element(By.CSS_SELECTOR, ".note-text").text == note
        # filters: status confirmed leaves one finding; kind filter narrows by kind
        drv.execute_script("const s = document.getElementById('f-status'); s.value = 'confirmed';"
                           "s.dispatchEvent(new Event('change'))")
        assert drv.execute_script("return document.querySelectorAll('#list .item').length") == 1
        drv.execute_script("const s = document.getElementById('f-status'); s.value = '';"
                           "s.dispatchEvent(new Event('change'))")

        # 5) hostile text renders as text: chat, product page, transcript, quote, explanation
        hostile = [f["id"] for f in doc if f["kind"] in ("spec_mismatch", "brand_mention", "absolute_claim")]
        for fid in hostile:
            drv.find_element(By.ID, f"item-{fid}").click()
            _wait(drv, "return !document.querySelector('.context p.muted') || "
                       "!document.querySelector('.context').textContent.includes('loading')")
            time.sleep(0.2)
            probe = drv.execute_script(
                "return {pwned: window.__pwned === undefined ? null : window.__pwned, scripts: document.scripts.length,"
                " js_links: document.querySelectorAll('[href^=\"javascript:\" i], [src^=\"javascript:\" i]').length,"
                " foreign_imgs: Array.from(document.images).filter(i => !i.src.startsWith(location.origin + '/file/')).length,"
                " handlers: Array.from(document.querySelectorAll('*')).filter(e => Array.from(e.attributes)"
                "   .some(a => a.name.startsWith('on'))).length, text: document.body.innerText}")
            assert probe["pwned"] is None and probe["scripts"] == 1 and probe["js_links"] == 0, probe
            assert probe["foreign_imgs"] == 0 and probe["handlers"] == 0, probe
        text = probe["text"]  # the absolute-claim finding: quote, explanation, transcript and chat context
        assert PAYLOADS[0] in text and 'onerror="window.__pwned=2"' in text and "javascript:window.__pwned=3" in text
        assert "观众<b>A</b>" in text  # a chat user name with markup, as text
        logs = [e for e in drv.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]]
        assert logs == [], logs  # no CSP violation, no script error

        # 6) a screenshot of the page for the docs (LSF_UPDATE_SCREENSHOTS=1 writes docs/images/)
        drv.find_element(By.ID, f"item-{ids[0]}").click()
        _wait(drv, "const v = document.getElementById('clip'); return v && v.readyState >= 2")
        drv.execute_script("document.getElementById('clip').currentTime = 1.55")
        time.sleep(0.8)
        assert "original time 00:00:01.4" in drv.find_element(By.CSS_SELECTOR, ".media .tc").text
        shot = tmp_path / "review.png"
        drv.save_screenshot(str(shot))
        if os.environ.get("LSF_UPDATE_SCREENSHOTS"):
            from PIL import Image

            with Image.open(shot) as im:
                im.convert("RGB").resize((im.width * 3 // 4, im.height * 3 // 4)).quantize(96).save(SHOT, optimize=True)
        # 7) finish: the session ends and is recorded
        drv.find_element(By.ID, "finish").click()
        rc, out, err = rv.finish()
    finally:
        if drv is not None:
            drv.quit()
        rv.kill()
    assert rc == 0, err
    print(out)
    assert "2 decision(s) recorded" in out

    log = ReviewLog(case.root / "review.jsonl")
    assert log.verify_chain() == []
    lines = log.entries()
    assert [(e["finding"], e["decision"], e["note"], e["reviewer"]) for e in lines] == [
        (ids[0], "confirmed", "", "reviewer-a"), (ids[1], "rejected", note, "reviewer-a")]
    assert lines[0]["finding_sha256"] == __import__("lsforensics.findings", fromlist=["x"]).finding_digest(doc[0])
    entry = CustodyLog(case.custody).last("review")
    assert entry["params"]["session"] == lines[0]["session"] and entry["params"]["via"] == "browser"
    assert entry["outputs"] == [{"path": "review.jsonl", "sha256": sha256_file(case.root / "review.jsonl")}]
    assert entry["result"]["by_decision"] == {"confirmed": 1, "rejected": 1}

    # 8) the reviewed report: the full one, then the exhibit report a lawyer attaches
    full = subprocess.run([str(LSF), "report", "-C", str(case.root), "--json"], capture_output=True, text=True)
    assert full.returncode == 0, full.stderr
    html = (case.root / "report" / "report.html").read_text(encoding="utf-8")
    assert "顾客转述，不是卖家说的 &lt;b&gt;not&lt;/b&gt;" in html and "reviewer-a" in html
    only = subprocess.run([str(LSF), "report", "-C", str(case.root), "--only", "confirmed", "--json"],
                          capture_output=True, text=True)
    assert only.returncode == 0, only.stderr
    rep = json.loads((case.root / "report" / "report.json").read_text(encoding="utf-8"))
    shown = [f for g in rep["groups"] for f in g["findings"]]
    assert [f["id"] for f in shown] == [ids[0]] and shown[0]["review"]["status"] == "confirmed"
    assert shown[0]["review"]["reviewer"] == "reviewer-a" and shown[0]["clip"]["file"].startswith("exhibits/clips/")
    assert rep["review"]["only"] == ["confirmed"] and rep["summary"]["all_findings"] == len(ids)
    csv_text = (case.root / "report" / "findings.csv").read_bytes().decode("utf-8")
    assert csv_text.count("\r\n") == 2 and ",confirmed,reviewer-a," in csv_text
    vtt = (case.root / "report" / "findings.vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT") and "00:00:01.480 --> 00:00:04.480" in vtt
    # An unsigned case: every check passes, nothing anchors it to a key or TSA root (exit 4).
    verify = subprocess.run([str(LSF), "verify", str(case.root)], capture_output=True, text=True)
    assert verify.returncode == 4 and "INTACT BUT UNANCHORED" in verify.stdout, verify.stdout[-1500:]
    assert "review.jsonl hash chain intact (2 decisions)" in verify.stdout, verify.stdout[-1500:]


@pytest.fixture(scope="module")
def small_review(tmp_path_factory, test_cache, realdata):
    """An in-process page over a copy of the case, for the refusal tests (no browser needed)."""
    from lsforensics.findings import FindingsDoc
    from lsforensics.review.session import ReviewSession
    from lsforensics.review.web import ReviewPage

    root = tmp_path_factory.mktemp("refuse") / "case"
    case = _build(root, test_cache, realdata)
    doc = FindingsDoc.load(case.findings_json)
    return ReviewPage(case, doc, ReviewSession(case, doc, reviewer="t", via="browser"))


def _non_loopback_ipv4() -> str | None:
    import ipaddress

    import psutil

    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family.name == "AF_INET" and not ipaddress.ip_address(a.address).is_loopback:
                return a.address
    return None


def test_server_refuses_without_token_and_from_elsewhere(small_review) -> None:
    from lsforensics.review.web import make_server

    srv = make_server(small_review)
    srv.start()
    try:
        p, tok = srv.port, srv.token
        assert srv.httpd.server_address[0] == "127.0.0.1"  # bound to loopback only
        assert _request(p, "/api/case") == 403  # no token
        assert _request(p, "/api/case?token=" + "x" * len(tok)) == 403  # forged token
        wrong_last = "B" if tok.endswith("A") else "A"  # one character off (a token may end in "A" itself)
        assert _request(p, "/api/case", headers={"Cookie": "lsf_review=" + tok[:-1] + wrong_last}) == 403
        assert _request(p, f"/?token={tok}") == 303  # the real one: traded for a cookie
        assert _request(p, "/api/case", headers={"Cookie": f"lsf_review={tok}"}) == 200
        # a DNS-rebinding page names another host; a foreign page posts with its Origin
        assert _request(p, "/api/case", host="evil.example", headers={"Cookie": f"lsf_review={tok}"}) == 403
        body = json.dumps({"id": small_review.views[0]["id"], "decision": "confirmed"}).encode()
        assert _request(p, "/api/decision", method="POST", body=body, headers={
            "Cookie": f"lsf_review={tok}", "Content-Type": "application/json", "Origin": "http://evil.example"}) == 403
        assert _request(p, "/api/decision", method="POST", body=body, headers={
            "Cookie": f"lsf_review={tok}", "Content-Type": "text/plain"}) == 415
        # a file the page does not need, or outside the case, is not served even with the token
        for path in ("/file/case.json", "/file/../../etc/passwd", "/file/custody.jsonl"):
            assert _request(p, path, headers={"Cookie": f"lsf_review={tok}"}) == 404, path
        ip = _non_loopback_ipv4()
        print(f"non-loopback address of this machine: {ip}")
        if ip:
            with pytest.raises(OSError):  # nothing listens there: the bind is loopback only
                _request(p, "/api/case", connect=ip)
    finally:
        srv.stop()
    if not ip:
        pytest.skip("no non-loopback address on this machine for the address check")
    # The per-request address check, proven with a real non-loopback peer: bind wide on purpose.
    wide = make_server(small_review, host="0.0.0.0")
    wide.start()
    try:
        assert _request(wide.port, f"/api/case?token={wide.token}", connect=ip, host="127.0.0.1") == 403
        assert _request(wide.port, f"/api/case?token={wide.token}", connect="127.0.0.1") == 200
    finally:
        wide.stop()


def test_a_500_finding_case_loads_in_under_2_s(tmp_path_factory, test_cache, realdata, tmp_path: Path) -> None:
    _need_browser()
    case = _build(tmp_path_factory.mktemp("big") / "case", test_cache, realdata, n=500)
    rv = Review(case.root, "--no-clips")
    drv = None
    try:
        drv = _driver(tmp_path / "profile")
        drv.get("about:blank")
        t0 = time.monotonic()
        drv.get(rv.url)
        _wait(drv, "return document.body.dataset.ready", 30)
        wall = time.monotonic() - t0
        n = drv.execute_script("return document.querySelectorAll('#list .item').length")
        nav = drv.execute_script("const t = performance.timing; return t.domContentLoadedEventEnd - t.navigationStart")
        print(f"500 findings: page ready {wall:.2f} s after navigation (DOMContentLoaded {nav} ms, "
              f"script {drv.execute_script('return document.body.dataset.ready')} ms); machine shared, so inflated")
        assert n == 500 and wall < 2.0
        drv.find_element("id", "finish").click()
        rc, _out, err = rv.finish()
        assert rc == 0, err
    finally:
        if drv is not None:
            drv.quit()
        rv.kill()
