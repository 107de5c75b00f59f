"""A live source on 127.0.0.1 for the recorder tests and benchmark (nothing else is contacted).

``LiveHls``: ffmpeg copies a pre-encoded file in real time (``-re``, stream copy, so it costs
little CPU) into a live HLS playlist with a sliding window, served by Python's http.server in a
thread this process controls: it can be taken down and brought back on the same port (an
outage), and made to corrupt the next segment it serves (a damaged CDN segment).
``LiveFlv``: ffmpeg serving HTTP-FLV itself (``-listen 1``), one client.
"""

from __future__ import annotations

import http.server
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any


def make_source(path: Path, *, seconds: int = 30, size: str = "640x360", rate: int = 25, bitrate: str = "800k",
                gop_s: float = 1.0) -> Path:
    """Encode the source once (cached by name): test pattern with a running clock + a tone."""
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.ts")
    gop = int(rate * gop_s)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}",
                    "-f", "lavfi", "-i", "sine=f=440:sample_rate=44100", "-t", str(seconds),
                    "-c:v", "libx264", "-preset", "veryfast", "-b:v", bitrate, "-maxrate", bitrate,
                    "-bufsize", bitrate.replace("k", "") + "k", "-g", str(gop), "-keyint_min", str(gop),
                    "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-shortest",
                    str(tmp)], check=True, timeout=900)
    os.replace(tmp, path)
    return path


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class LiveHls:
    def __init__(self, folder: Path, source: Path, *, hls_time: float = 1.0, list_size: int = 6, dash: bool = False):
        self.folder = folder
        self.www = folder / "www"
        shutil.rmtree(self.www, ignore_errors=True)
        self.www.mkdir(parents=True)
        self.source, self.hls_time, self.list_size = source, hls_time, list_size
        self.port = free_port()
        self.dash = dash  # a live DASH manifest (live.mpd, fMP4 segments) instead of HLS
        self.url = f"http://127.0.0.1:{self.port}/live.{'mpd' if dash else 'm3u8'}"
        self.encoder: subprocess.Popen[bytes] | None = None
        self.server: http.server.ThreadingHTTPServer | None = None
        self.corrupt_next = False
        self.corrupted: list[str] = []
        self.served = 0

    def start(self) -> LiveHls:
        out = (["-map", "0", "-tag:v", "avc1", "-tag:a", "mp4a", "-f", "dash", "-seg_duration", f"{self.hls_time:g}",
                "-window_size", str(self.list_size), "-use_template", "1", "-use_timeline", "1",
                str(self.www / "live.mpd")] if self.dash else
               ["-f", "hls", "-hls_time", f"{self.hls_time:g}", "-hls_list_size", str(self.list_size),
                "-hls_flags", "delete_segments+temp_file", str(self.www / "live.m3u8")])
        self.encoder = subprocess.Popen(
            ["ffmpeg", "-v", "error", "-nostdin", "-re", "-stream_loop", "-1", "-i", str(self.source), "-c", "copy",
             *out], stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 20
        while not (self.www / self.url.rsplit("/", 1)[1]).is_file():
            if time.time() > deadline:
                raise RuntimeError("the HLS encoder wrote no playlist in 20 s")
            time.sleep(0.1)
        self.up()
        return self

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        live = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a: Any, **kw: Any) -> None:
                super().__init__(*a, directory=str(live.www), **kw)

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                if self.path.endswith(".ts"):
                    live.served += 1
                    if live.corrupt_next:
                        live.corrupt_next = False
                        p = live.www / self.path.lstrip("/").split("?")[0]
                        try:
                            data = bytearray(p.read_bytes())
                        except OSError:
                            self.send_error(404)
                            return
                        # Overwrite a run of TS packets in the middle with noise (sync bytes kept
                        # off): what a broken CDN edge or a bad disk hands out.
                        a = len(data) // 3
                        data[a:a + 188 * 40] = os.urandom(188 * 40)
                        live.corrupted.append(self.path)
                        self.send_response(200)
                        self.send_header("Content-Type", "video/mp2t")
                        self.send_header("Content-Length", str(len(data)))
                        self.end_headers()
                        self.wfile.write(bytes(data))
                        return
                super().do_GET()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def up(self) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def stop(self) -> None:
        self.down()
        if self.encoder is not None and self.encoder.poll() is None:
            os.killpg(self.encoder.pid, signal.SIGTERM)
            self.encoder.wait(10)


class LiveFlv:
    """ffmpeg as an HTTP-FLV server (``-listen 1``): serves one client, then exits."""

    def __init__(self, source: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/live.flv"
        self.proc = subprocess.Popen(
            ["ffmpeg", "-v", "error", "-nostdin", "-re", "-stream_loop", "-1", "-i", str(source), "-c", "copy",
             "-f", "flv", "-listen", "1", self.url], stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        time.sleep(0.7)  # listening by then; the recorder retries with backoff anyway

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


class LocalNtp:
    """An SNTP server on 127.0.0.1 whose clock runs ``offset`` seconds ahead of this host's."""

    def __init__(self, offset: float):
        import ntplib

        self.offset = offset
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.answered = 0
        self._stop = threading.Event()
        self._ntplib = ntplib
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        ntplib = self._ntplib
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(1024)
            except (TimeoutError, OSError):
                continue
            now = ntplib.system_to_ntp_time(time.time() + self.offset)
            req = ntplib.NTPPacket()
            req.from_data(data)
            resp = ntplib.NTPPacket(version=3, mode=4, tx_timestamp=now)
            resp.stratum, resp.ref_timestamp, resp.recv_timestamp = 2, now, now
            resp.orig_timestamp = req.tx_timestamp
            self.sock.sendto(resp.to_data(), peer)
            self.answered += 1

    def stop(self) -> None:
        self._stop.set()
        self.sock.close()
