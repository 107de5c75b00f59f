"""``lsf record``: live capture from a local source on 127.0.0.1 (issue 17).

Real components throughout: ffmpeg writing a live HLS playlist served by http.server (a thread
of this process, taken down and corrupted on demand), ffmpeg serving HTTP-FLV, a real RFC 3161
TSA (`openssl ts`), a websocket chat server, `lsf record` as a process (killed with SIGKILL in
one test). Segments are 1-2 s and recordings short, except one 2-minute recording.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import LSF, run_lsf
from live_source import LiveFlv, LiveHls, LocalNtp, free_port, make_source
from test_evidence_helpers import LocalTsa, closed_port_url

from lsforensics.capture.chain import CaptureChain, verify_chain
from lsforensics.capture.chat import parse_message
from lsforensics.capture.clock import check_clock, parse_duration
from lsforensics.capture.recorder import RecordOptions, record
from lsforensics.capture.sources import classify
from lsforensics.capture.timeline import read_timeline
from lsforensics.errors import InputError
from lsforensics.evidence.sign import generate_keypair
from lsforensics.evidence.verify import verify_case


@pytest.fixture(scope="module")
def source(test_cache: Path) -> Path:
    return make_source(test_cache / "capture" / "live-src-640x360-gop1.ts")


@pytest.fixture(scope="module")
def live(source: Path, tmp_path_factory):
    srv = LiveHls(tmp_path_factory.mktemp("live"), source).start()
    time.sleep(3)  # a few segments in the window
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    t = LocalTsa(tmp_path_factory.mktemp("tsa"))
    t.url = t.start()
    yield t
    t.stop()


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    return generate_keypair(d / "lab.key")


def _entries(case: Path) -> list[dict]:
    return CaptureChain(case / "capture.jsonl").entries()


def _failed(v) -> list[str]:
    return [str(p) for p in v.problems]


class ChatServer:
    """A websocket chat feed: one `{t, user, text}` every `every` seconds to each client."""

    def __init__(self, every: float = 0.5):
        from websockets.sync.server import serve

        self.sent = 0
        self.every = every
        self._stop = threading.Event()
        self.server = serve(self._handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/chat"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handle(self, ws) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            self.sent += 1
            try:
                ws.send(json.dumps({"t": time.time(), "user": f"viewer{n % 7}", "text": f"是正品吗 {n}"},
                                   ensure_ascii=False))
            except Exception:
                return
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()


# -- quick units (no live source) ----------------------------------------------------------
def test_units_duration_url_chat_chain(tmp_path):
    assert parse_duration("90") == 90 and parse_duration("1h30m") == 5400 and parse_duration("2m") == 120
    with pytest.raises(InputError):
        parse_duration("soon")
    assert [classify(u) for u in ("http://h/a.m3u8", "http://h/a.flv", "https://h/a.mpd", "rtmp://h/live/x",
                                  "https://live.douyin.com/123")] == ["hls", "flv", "dash", "rtmp", "page"]
    with pytest.raises(InputError):
        classify("ftp://h/x")
    m = parse_message('{"t": 3, "user": "a", "text": "假的吧"}', 1.0)
    assert m is not None and m.text == "假的吧" and m.user == "a"
    assert parse_message('{"user": "a"}', 1.0) is None and parse_message("x" * 70000, 1.0) is None
    assert parse_message('data: {"text": "sse"}', 1.0).text == "sse"
    ch = CaptureChain(tmp_path / "capture.jsonl")
    ch.append_many([("chat", {"text": str(i)}, None) for i in range(50)])
    ch2 = CaptureChain(tmp_path / "capture.jsonl")  # a second writer picks the head up from the file
    ch2.append("end", {})
    problems, good = verify_chain(tmp_path / "capture.jsonl")
    assert not problems and len(good) == 51
    lines = (tmp_path / "capture.jsonl").read_bytes().split(b"\n")
    lines[9] = lines[9].replace(b'"text":"9"', b'"text":"X"')
    (tmp_path / "capture.jsonl").write_bytes(b"\n".join(lines))
    problems, _ = verify_chain(tmp_path / "capture.jsonl")
    assert [p.line for p in problems] == [11], problems  # the edited line breaks the next line's prev
    # A real SNTP exchange with a local server 2.5 s ahead; and none answering is recorded, not raised.
    ntp = LocalNtp(2.5)
    try:
        c = check_clock(ntp.address)
    finally:
        ntp.stop()
    print("NTP:", c)
    assert c.offset is not None and abs(c.offset - 2.5) < 0.05 and c.stratum == 2
    c = check_clock(f"127.0.0.1:{free_port()}", timeout=1)
    assert c.offset is None and c.error


def test_bad_input_exits_2_before_the_case_is_touched(tmp_path, source):
    case = tmp_path / "c"
    for args, words in ((["ftp://x/y", "-C", case], "expected an http"),
                        (["http://127.0.0.1:1/a.m3u8", "-C", case, "--duration", "soon"], "--duration"),
                        (["http://127.0.0.1:1/a.m3u8", "-C", case, "--tsa", "tsa.example"], "--tsa"),
                        (["http://127.0.0.1:1/a.m3u8", "-C", case, "--chat", tmp_path / "none.jsonl"], "no such file"),
                        (["http://127.0.0.1:1/a.m3u8", "-C", case, "--sign-key", tmp_path / "k"], "signing key"),
                        (["http://127.0.0.1:1/room/1", "-C", case, "--resolver", "streamlink"], "resolver")):
        proc = run_lsf("record", *args, timeout=60)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert words.split()[0].lower() in proc.stderr.lower() or "not a stream url" in proc.stderr.lower(), proc.stderr
        assert not case.exists(), args
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.txt").write_text("x")
    proc = run_lsf("record", "http://127.0.0.1:1/a.m3u8", "-C", other, timeout=60)
    assert proc.returncode == 2 and "not an lsf case" in proc.stderr


# -- live HLS -------------------------------------------------------------------------------
@pytest.mark.slow
def test_two_minute_recording_verifies_stamps_chat_tamper_and_analyze(tmp_path, live, tsa, keys):
    """2 min of live HLS with chat, stamps every 30 s and a signature; then every kind of
    tampering with a segment is caught; then the case runs through analyze."""
    case = tmp_path / "rec"
    chat = ChatServer(every=0.5)
    ntp = LocalNtp(0.8)
    t0 = time.time()
    try:
        proc = run_lsf("record", live.url, "-C", case, "--duration", "120", "--segment-time", "4", "--chat", chat.url,
                       "--tsa", tsa.url, "--tsa-ca", tsa.ca, "--stamp-every", "30s", "--sign-key", keys.private_path,
                       "--ntp", ntp.address, "--json", timeout=400)
    finally:
        chat.stop()
        ntp.stop()
    wall = time.time() - t0
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    s = out["summary"]
    print(f"recorded {s['media_duration']} s media in {wall:.1f} s wall, {s['segments']} segments, "
          f"{s['chat_messages']} chat (server sent {chat.sent}), stamps {s['stamps']}, gaps {s['gaps']}")
    assert 119 <= s["media_duration"] <= 126 and s["gaps"] == [] and s["ended"]
    assert 20 <= s["segments"] <= 40
    # the next step it prints reseals with the recording's key and TSA
    assert f"--sign-key {keys.private_path}" in out["analyze_command"] and f"--tsa {tsa.url}" in out["analyze_command"]
    assert s["chat_messages"] >= 200 and s["chat_messages"] >= chat.sent - 10
    # Checked at the start, with every stamp and at the end, against the local NTP server 0.8 s ahead.
    assert len(s["clock"]["offsets"]) >= 6 and abs(s["clock"]["max_abs_offset"] - 0.8) < 0.1, s["clock"]
    # Stamped at the start, at least every 30 s, and at the end.
    assert s["stamps"]["stamped"] >= 120 / 30 + 1 and s["stamps"]["pending"] == 0
    v = verify_case(case, pubkey=keys.public_path, tsa_ca=tsa.ca)
    print("\n".join(v.passed + v.notes))
    assert v.ok, _failed(v)
    stamped = next(p for p in v.passed if "RFC 3161 timestamps each cover" in p)
    worst = float(stamped.split("at most ")[1].split(" min")[0])
    assert worst <= 0.6, stamped  # at most 30 s (+ one tick) between stamped chain lines
    assert any("packet for packet" in p for p in v.passed)
    assert any("Ed25519 signature over capture.jsonl line" in p for p in v.passed)
    assert any("chat.jsonl is exactly" in p for p in v.passed)
    assert any("Ed25519 signature over manifest.json" in p for p in v.passed)
    # A second, independent check of one stamp: openssl ts -verify over the chain line itself.
    entries = _entries(case)
    st = [e for e in entries if e["kind"] == "stamp"][2]
    line = (case / "capture.jsonl").read_bytes().split(b"\n")[st["of_seq"] - 1]
    (tmp_path / "line").write_bytes(line)
    ok = subprocess.run(["openssl", "ts", "-verify", "-in", case / st["tsr"]["path"], "-data", tmp_path / "line",
                         "-CAfile", tsa.ca], capture_output=True, text=True)
    assert ok.returncode == 0 and "Verification: OK" in ok.stdout, ok.stderr

    tampered = {}

    def check(name: str, mutate) -> None:
        c = tmp_path / f"t-{name}"
        shutil.copytree(case, c)
        mutate(c / "capture" / "segments")
        res = verify_case(c, tsa_ca=tsa.ca)
        caps = [str(p) for p in res.problems if p.check == "capture"]
        tampered[name] = caps
        assert not res.ok and caps, name

    def edit(d: Path) -> None:
        p = d / "000005.ts"
        b = bytearray(p.read_bytes())
        b[5000] ^= 0xFF
        p.write_bytes(bytes(b))

    def delete(d: Path) -> None:
        (d / "000007.ts").unlink()

    def reorder(d: Path) -> None:
        a, b = d / "000003.ts", d / "000004.ts"
        tmp = d / "x"
        os.replace(a, tmp)
        os.replace(b, a)
        os.replace(tmp, b)

    def insert(d: Path) -> None:
        shutil.copy(d / "000002.ts", d / "000002b.ts")

    for name, fn in (("edit", edit), ("delete", delete), ("reorder", reorder), ("insert", insert)):
        check(name, fn)
    print(json.dumps(tampered, indent=1, ensure_ascii=False))
    assert any("000005.ts" in m and "changed" in m for m in tampered["edit"])
    assert any("000007.ts" in m and "missing" in m for m in tampered["delete"])
    assert any("000003.ts" in m for m in tampered["reorder"]) and any("000004.ts" in m for m in tampered["reorder"])
    assert any("000002b.ts" in m and "not in capture.jsonl" in m for m in tampered["insert"])

    # The recorded case through analyze: the remux is the video, the chain's chat a chat file. The
    # recording is signed, so analyze must be given the same key to reseal what it adds.
    refused = run_lsf("analyze", case, "--format", "html,json", "--json", timeout=900)
    assert refused.returncode == 2 and "is signed" in refused.stderr, refused.stderr
    proc = run_lsf(*shlex.split(out["analyze_command"])[1:], "--format", "html,json", "--json", timeout=900)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((case / "report" / "report.json").read_text())
    cap = doc["capture"]
    rows = {en: v for _zh, en, v in cap["rows"]}
    print(rows)
    assert rows["Source URL"] == live.url and f"{s['segments']} closed segments" in rows["Segments"]
    html = (case / "report" / "report.html").read_text()
    assert "/ Capture" in html and live.url in html
    chat_doc = json.loads((case / "chat.json").read_text())
    assert len(chat_doc) == s["chat_messages"] and all(0 <= m["t"] <= s["media_duration"] + 1 for m in chat_doc)
    v = verify_case(case, tsa_ca=tsa.ca)
    assert v.ok, _failed(v)


@pytest.mark.slow
def test_outage_of_20_s_is_a_gap_of_that_length_and_recording_continues(tmp_path, live):
    case = tmp_path / "gap"
    opts = RecordOptions(duration=34, segment_time=2, ntp=None, stall_timeout=6, rw_timeout=3, backoff_max=2,
                         give_up=60)
    stop = threading.Event()
    box: dict = {}
    th = threading.Thread(target=lambda: box.setdefault("r", record(live.url, case, opts, stop=stop)))
    th.start()
    time.sleep(8)
    live.down()
    down_at = time.time()
    time.sleep(20)
    live.up()
    outage = time.time() - down_at
    th.join(120)
    assert not th.is_alive()
    r = box["r"]
    gaps = r.summary["gaps"]
    print(f"server down {outage:.1f} s; gaps {json.dumps(gaps)}; {r.summary['segments']} segments, "
          f"{r.summary['media_duration']} s")
    assert len(gaps) == 1, gaps
    g = gaps[0]
    assert g["cause"] == "reconnect" and outage - 2 <= g["wall_s"] <= outage + 8, g
    # The source's clock ran on: the media missing is the outage less what the server still listed.
    assert g["media_missing_s"] is not None and outage - 10 <= g["media_missing_s"] <= outage + 8, g
    tl = read_timeline(_entries(case))
    after = [s for s in tl.segments if s.index >= g["before_segment"]]
    assert sum(s.duration for s in after) >= 10, "the recording did not continue after the outage"
    v = verify_case(case)
    assert v.ok, _failed(v)
    assert any("gap (reconnect)" in n for n in v.notes)


@pytest.mark.slow
def test_corrupted_segment_on_the_server_is_reported(tmp_path, live):
    case = tmp_path / "bad"
    stop = threading.Event()
    box: dict = {}
    th = threading.Thread(target=lambda: box.setdefault(
        "r", record(live.url, case, RecordOptions(duration=10, segment_time=2, ntp=None), stop=stop)))
    th.start()
    time.sleep(4)
    live.corrupt_next = True
    th.join(60)
    r = box["r"]
    print("corrupted on the server:", live.corrupted, "damaged:", r.summary["damaged_segments"])
    assert live.corrupted
    assert r.summary["damaged_segments"], r.summary
    name = live.corrupted[0].rsplit("/", 1)[1]
    assert any(name in w for d in r.summary["damaged_segments"] for w in d["warnings"])
    v = verify_case(case)
    assert v.ok, _failed(v)  # the case is intact; the stream arrived damaged, and verify says where
    assert any("arrived damaged" in n for n in v.notes)


@pytest.mark.slow
def test_kill_9_loses_no_closed_segment_and_a_rerun_resumes(tmp_path, live):
    case = tmp_path / "k9"
    feed = tmp_path / "chat.jsonl"  # a chat file another tool writes: each line chained once, across the kill
    feed.write_text("".join(json.dumps({"t": i, "user": "u", "text": f"第{i}条"}, ensure_ascii=False) + "\n"
                            for i in range(5)), encoding="utf-8")
    args = ["record", live.url, "-C", case, "--duration", "16", "--segment-time", "2", "--ntp", "none", "-q",
            "--chat", f"file:{feed}"]
    proc = subprocess.Popen([str(LSF), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(9)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    time.sleep(1)
    assert not subprocess.run(["pgrep", "-f", f"segment_list {case}"], capture_output=True).stdout, "ffmpeg outlived lsf"
    entries = _entries(case)
    problems, _ = verify_chain(case / "capture.jsonl")
    assert not problems
    segs = [e for e in entries if e["kind"] == "segment"]
    assert len(segs) >= 2
    for e in segs:  # every chained segment is complete and what the chain says
        from lsforensics.evidence.hashing import sha256_file

        assert sha256_file(case / e["file"]) == e["sha256"]
    before = len(segs)
    assert sum(e["kind"] == "chat" for e in entries) == 5
    with open(feed, "a", encoding="utf-8") as fh:
        fh.write("".join(json.dumps({"t": i, "user": "u", "text": f"第{i}条"}, ensure_ascii=False) + "\n"
                         for i in range(5, 8)))
    proc2 = run_lsf("record", *args[1:], "--json", timeout=120)
    assert proc2.returncode == 0, proc2.stderr
    out = json.loads(proc2.stdout)
    s = out["summary"]
    print(f"killed after {before} segments; rerun: session {out['session']}, {s['segments']} segments, "
          f"{s['media_duration']} s, gaps {s['gaps']}, partial {s['partial_segments']}")
    assert out["session"] == 2 and s["segments"] > before and s["media_duration"] >= 15
    assert [g["cause"] for g in s["gaps"]] == ["recorder stopped and restarted"]
    starts = [e for e in _entries(case) if e["kind"] == "start"]
    assert starts[1]["previous_session_ended"] is False
    texts = [e["text"] for e in _entries(case) if e["kind"] == "chat"]
    assert texts == [f"第{i}条" for i in range(8)], texts
    v = verify_case(case)
    assert v.ok, _failed(v)


@pytest.mark.slow
def test_tsa_down_queues_queries_that_lsf_stamp_finishes(tmp_path, live, tsa):
    case = tmp_path / "offline"
    proc = run_lsf("record", live.url, "-C", case, "--duration", "12", "--segment-time", "2", "--ntp", "none",
                   "--tsa", closed_port_url(), "--stamp-every", "10s", "--json", timeout=120)
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout)["summary"]
    queued = sorted(p.name for p in (case / "capture" / "stamps").glob("*.tsq"))
    print("pending:", s["stamps"], queued)
    assert s["stamps"]["pending"] >= 2 and s["stamps"]["stamped"] == 0 and len(queued) >= 2
    v = verify_case(case)
    assert v.ok and any("pending" in n for n in v.notes), _failed(v)
    proc = run_lsf("stamp", case, "--tsa", tsa.url, "--tsa-ca", tsa.ca, "--json", timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert len(out["capture"]["stamped"]) == len(queued) and not out["capture"]["pending"]
    v = verify_case(case, tsa_ca=tsa.ca)
    print("\n".join(v.passed))
    assert v.ok, _failed(v)
    assert any(f"{len(queued)} RFC 3161 timestamps each cover" in p for p in v.passed)


@pytest.mark.slow
def test_http_flv_source(tmp_path, source):
    flv = LiveFlv(source)
    try:
        r = record(flv.url, tmp_path / "flv", RecordOptions(duration=6, segment_time=2, ntp=None))
    finally:
        flv.stop()
    print(r.summary["kind"], r.summary["segments"], r.summary["media_duration"])
    assert r.summary["kind"] == "flv" and r.summary["media_duration"] >= 5.5
    v = verify_case(tmp_path / "flv")
    assert v.ok, _failed(v)


@pytest.mark.slow
def test_page_url_resolved_by_yt_dlp(tmp_path, live):
    """A page URL (not a stream URL) goes through yt-dlp's generic extractor; the chain says so."""
    pytest.importorskip("yt_dlp")
    (live.www / "room.html").write_text(
        f'<!DOCTYPE html><html><head><title>直播间</title></head><body><video autoplay>'
        f'<source src="{live.url}" type="application/x-mpegURL"></video></body></html>', encoding="utf-8")
    page = live.url.replace("live.m3u8", "room.html")
    r = record(page, tmp_path / "page", RecordOptions(duration=4, segment_time=2, ntp=None, resolver="yt-dlp"))
    start = next(e for e in _entries(tmp_path / "page") if e["kind"] == "start")
    print(start["source"])
    assert start["url"] == page and start["source"]["stream_url"] == live.url
    assert start["source"]["resolver"].startswith("yt-dlp") and r.summary["media_duration"] >= 3.5


@pytest.mark.slow
def test_live_dash_source(tmp_path, source):
    dash = LiveHls(tmp_path / "dash", source, dash=True).start()
    try:
        time.sleep(3)
        r = record(dash.url, tmp_path / "d", RecordOptions(duration=6, segment_time=2, ntp=None))
    finally:
        dash.stop()
    print(r.summary["kind"], r.summary["segments"], r.summary["media_duration"])
    assert r.summary["kind"] == "dash" and r.summary["media_duration"] >= 5.5
    v = verify_case(tmp_path / "d")
    assert v.ok, _failed(v)
