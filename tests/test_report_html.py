"""report.html in a real headless Chromium (Debian's `chromium`), driven over the DevTools pipe.

Checks that the page renders (height, screenshot), logs no console error or CSP violation, loads
nothing from the network, shows a finding's timecode, and that hostile text from transcripts,
OCR, chat and product pages (`<script>`, `</td>`, `<img onerror>`) stays text.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from test_evidence_helpers import HOSTILE_TITLE, QUOTES, build_case

from lsforensics.report import make_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class DevTools:
    """Minimal Chrome DevTools Protocol client over --remote-debugging-pipe (fd 3 in, fd 4 out)."""

    def __init__(self, profile: Path):
        to_r, self._to_w = os.pipe()
        self._from_r, from_w = os.pipe()
        log = os.open(profile.parent / "chromium.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        devnull = os.open(os.devnull, os.O_RDONLY)
        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--remote-debugging-pipe",
                "--window-size=1280,900", "about:blank"]
        # posix_spawn file actions put the pipe ends exactly on fds 3 and 4 in the child.
        actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, log, 1), (os.POSIX_SPAWN_DUP2, log, 2),
                   (os.POSIX_SPAWN_DUP2, to_r, 3), (os.POSIX_SPAWN_DUP2, from_w, 4)]
        self.pid = os.posix_spawn(CHROMIUM, args, os.environ, file_actions=actions)
        for fd in (to_r, from_w, log, devnull):
            os.close(fd)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def _read_message(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium")
            ready, _, _ = select.select([self._from_r], [], [], left)
            if ready:
                chunk = os.read(self._from_r, 1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the DevTools pipe")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 60) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self._id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, name: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for e in self.events:
            if e.get("method") == name:
                return e
        while True:
            m = self._read_message(deadline)
            self.events.append(m)
            if m.get("method") == name:
                return m

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except Exception:  # noqa: BLE001 - it may close the pipe before answering
            pass
        for _ in range(50):
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.1)
        else:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        os.close(self._to_w)
        os.close(self._from_r)


def open_in_chromium(html: Path, shot: Path, profile: Path) -> dict[str, Any]:
    dt = DevTools(profile)
    try:
        target = dt.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = dt.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            dt.send(f"{domain}.enable", session=sid)
        dt.send("Page.navigate", {"url": html.as_uri()}, session=sid)
        dt.wait_event("Page.loadEventFired", timeout=120)
        probe = ("JSON.stringify({height: document.documentElement.scrollHeight, "
                 "width: document.documentElement.scrollWidth, text: document.body.innerText, "
                 "scripts: document.scripts.length, imgs: document.images.length, "
                 "broken: Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).length, "
                 "svg: document.querySelectorAll('svg.timeline rect').length})")
        res = dt.send("Runtime.evaluate", {"expression": probe, "returnByValue": True}, session=sid)
        info = json.loads(res["result"]["value"])
        full_h = min(int(info["height"]), 16000)
        dt.send("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": full_h, "deviceScaleFactor": 1,
                                                       "mobile": False}, session=sid)
        png = dt.send("Page.captureScreenshot", {"format": "png"}, session=sid, timeout=120)["data"]
        shot.write_bytes(base64.b64decode(png))
        time.sleep(0.3)
        dt.send("Runtime.evaluate", {"expression": "1"}, session=sid)  # flush pending events
        errors = []
        for e in dt.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                errors.append(("console", p))
            elif m == "Runtime.exceptionThrown":
                errors.append(("exception", p))
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                errors.append(("log", p["entry"].get("text")))
        requests = [e["params"]["request"]["url"] for e in dt.events if e.get("method") == "Network.requestWillBeSent"]
        info.update({"errors": errors, "requests": requests})
        return info
    finally:
        dt.close()


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def report_case(tmp_path_factory, test_cache, realdata):
    case = build_case(tmp_path_factory.mktemp("rep") / "case", test_cache, realdata)
    make_report(case.root, formats="html,json")
    return case


def test_html_is_self_contained_and_escapes_untrusted_text(report_case):
    html = (report_case.root / "report" / "report.html").read_text(encoding="utf-8")
    p = _Collector()
    p.feed(html)
    tags = [t for t, _ in p.tags]
    assert "script" not in tags and "iframe" not in tags and "object" not in tags
    for tag, attrs in p.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)  # no event handler attribute anywhere
            if name in ("src", "href", "xlink:href", "action") and value:
                assert value.startswith(("data:image/", "#")), (tag, name, value[:60])
    # no URL that a browser would load: every img is inline data
    assert all(a.get("src", "").startswith("data:image/jpeg;base64,") for t, a in p.tags if t == "img")
    assert sum(1 for t in tags if t == "img") >= 3
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    # the hostile title is shown as text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;" in html
    assert "<script>" not in html and '<img src=x onerror' not in html
    # tables stayed balanced although the text contains </td></tr></table>
    assert html.count("<table") == html.count("</table>")
    assert html.count("<td") == html.count("</td>")


def test_json_report_has_every_section(report_case):
    doc = json.loads((report_case.root / "report" / "report.json").read_text(encoding="utf-8"))
    for key in ("case", "source", "summary", "groups", "excerpts", "exhibits", "environment", "custody",
                "limitations", "verification"):
        assert doc[key], key
    assert doc["summary"]["total"] == 7 and doc["summary"]["by_severity"] == {"high": 4, "medium": 2, "low": 1}
    by_kind = {f["kind"]: f for g in doc["groups"] for f in g["findings"]}
    # severity high, highest confidence first: the counterfeit slang (0.95), then the page mismatch (0.9)
    assert doc["summary"]["top"][:2] == [by_kind["counterfeit_slang"]["id"], by_kind["spec_mismatch"]["id"]]
    assert {e["path"] for e in doc["exhibits"]} >= {"source.json", "findings.json", "transcript.json"}
    assert doc["environment"]["model"]["sha256"] == "ab" * 32 and doc["environment"]["rules_sha256"] == "cd" * 32
    assert any("redecode" in en or "biased" in en for _zh, en in doc["limitations"])
    assert any("not when the" in en for _zh, en in doc["limitations"])
    g = {x["kind"]: x for x in doc["groups"]}
    basis = g["absolute_claim"]["findings"][0]["legal_basis"]
    assert "广告法" in basis


@pytest.mark.slow
def test_html_renders_in_headless_chromium(report_case, tmp_path):
    if CHROMIUM is None:
        # On CI a missing browser is a set-up bug (scripts/bootstrap.sh installs it): fail, don't hide it.
        (pytest.fail if os.environ.get("CI") else pytest.skip)("Debian's chromium is not installed "
                                                              "(apt-get install chromium)")
    shot = tmp_path / "report.png"
    t0 = time.monotonic()
    info = open_in_chromium(report_case.root / "report" / "report.html", shot, tmp_path / "profile")
    elapsed = time.monotonic() - t0
    print(f"chromium: page {info['width']}x{info['height']} px, {info['imgs']} images, "
          f"{info['svg']} timeline rects, {elapsed:.1f} s, screenshot {shot.stat().st_size} bytes")
    assert info["errors"] == [], info["errors"]
    assert [u for u in info["requests"] if not u.startswith(("file:", "data:"))] == []
    assert info["scripts"] == 0 and info["broken"] == 0 and info["imgs"] >= 3
    assert 3000 < info["height"] < 20000 and info["width"] <= 1280
    assert info["svg"] >= 7
    text = info["text"]
    assert "00:00:01.480" in text  # the first finding's timecode
    assert QUOTES["F_slang"] in text and "直播带货取证报告" in text
    assert '<script>alert("x")</script></td></tr></table>' in text  # shown as text
    assert re.search(r"#1 F[0-9a-f]{10}\s+00:00:01\.480", text)  # display number, stable id, timecode
    from PIL import Image

    with Image.open(shot) as im:
        assert im.size[0] == 1280 and im.size[1] >= 3000
        colors = im.convert("RGB").resize((64, 64)).getcolors(64 * 64)
        assert colors is not None and len(colors) > 50  # not a blank page
    assert HOSTILE_TITLE  # fixture sanity


def test_evidence_paths_outside_the_case_are_never_embedded(tmp_path, test_cache, realdata):
    from PIL import Image
    from test_evidence_helpers import FindingsFixtureStage

    from lsforensics.case import Case
    from lsforensics.findings import Finding
    from lsforensics.report.data import build_report_data
    from lsforensics.report.html import render_html
    from lsforensics.stage import run_stage

    outside = tmp_path / "secret.jpg"
    Image.new("RGB", (64, 64), (255, 0, 0)).save(outside)
    root = tmp_path / "case"
    shutil.copytree(case_root_of(test_cache, realdata), root)
    os.symlink(outside, root / "media" / "frames" / "link.jpg")
    bad = ["../secret.jpg", str(outside), "media/frames/link.jpg", "media/../../secret.jpg"]
    findings = [Finding(kind="brand_mention", source="chat", start=1.0, end=1.0, rule="x", severity="low",
                        confidence=0.5, evidence=[b]) for b in bad]
    case = Case(root)
    run_stage(case, FindingsFixtureStage(findings))
    data = build_report_data(case)
    assert all(f["image"] is None for f in data["findings_by_id"].values())
    html = render_html(data, str(root))
    assert "<img" not in html  # nothing was read from outside the case
    for b in bad:
        assert b in html  # the recorded path is still shown, as text


def case_root_of(test_cache, realdata):
    from test_evidence_helpers import extracted_base

    return extracted_base(test_cache, realdata)
