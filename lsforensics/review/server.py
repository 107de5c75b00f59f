"""The review page's web server: the standard library's ``http.server``, loopback only.

What it accepts, and why:

* **Loopback only.** It binds ``127.0.0.1`` on a random free port, and every request's peer
  address is checked again (``is_loopback``) so the check holds even if the bind were widened.
* **Its token only.** ``lsf review`` prints (and opens) ``http://127.0.0.1:PORT/?token=T`` with
  a fresh 256-bit token per session. The first request with the token gets it back as an
  ``HttpOnly; SameSite=Strict`` cookie and is redirected to ``/``, so the token leaves the
  address bar and history; every later request must carry the cookie (or the token parameter).
  Tokens are compared in constant time. A request without it gets 403 and nothing else.
* **No other site can drive it.** The ``Host`` header must name this server (a DNS-rebinding
  page cannot), and a ``POST`` must be ``application/json`` with no foreign ``Origin``.
* **Only case files the page needs.** ``/file/PATH`` serves a frame, crop or clip that a finding
  or ``exhibits.json`` names, inside the case, without following symlinks; nothing else.
* **Case text is data.** It reaches the page only as JSON that the page's script puts into the
  DOM with ``textContent``; a strict Content-Security-Policy (scripts, styles, media only from
  this server, no inline script) is the second wall.
"""

from __future__ import annotations

import hmac
import http.server
import ipaddress
import json
import mimetypes
import os
import re
import secrets
import threading
import urllib.parse
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..evidence import manifest as mf

COOKIE = "lsf_review"
MAX_BODY = 64 * 1024
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
STATIC = {"/static/review.js": ("review.js", "text/javascript; charset=utf-8"),
          "/static/review.css": ("review.css", "text/css; charset=utf-8")}
_TYPES = {".mp4": "video/mp4", ".m4a": "audio/mp4", ".mp3": "audio/mpeg", ".webm": "video/webm",
          ".mkv": "video/x-matroska", ".mka": "audio/x-matroska", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
          ".png": "image/png"}


def static_text(name: str) -> bytes:
    return resources.files("lsforensics.review").joinpath("static", name).read_bytes()


class ReviewApp:
    """What the server serves; the HTTP layer (``_Handler``) only checks and routes."""

    def __init__(self, *, case_root: Path, payload: Callable[[], dict[str, Any]],
                 context: Callable[[str], dict[str, Any] | None], decide: Callable[[dict[str, Any]], dict[str, Any]],
                 files: Callable[[], set[str]], finish: Callable[[], None]):
        self.case_root, self.payload, self.context, self.decide, self.files, self.finish = (
            case_root, payload, context, decide, files, finish)


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):  # a closed tab or cancelled range: normal
            super().handle_error(request, client_address)


class ReviewServer:
    def __init__(self, app: ReviewApp, *, host: str = "127.0.0.1", port: int = 0, token: str | None = None):
        # ``host`` other than loopback exists only so a test can prove the per-request address
        # check; the CLI never passes one.
        self.app = app
        self.token = token or secrets.token_urlsafe(32)
        self.finished = threading.Event()
        handler = type("Handler", (_Handler,), {"server_ref": self})
        try:
            self.httpd = _QuietServer((host, port), handler)
        except OSError as exc:
            raise InputError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
        self.host, self.port = self.httpd.server_address[:2]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?token={self.token}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="lsf-review", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def wait(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)

    def allowed_hosts(self) -> set[str]:
        return {f"127.0.0.1:{self.port}", f"localhost:{self.port}", f"[::1]:{self.port}"}


class _Handler(http.server.BaseHTTPRequestHandler):
    server_ref: ReviewServer
    server_version = "lsf-review"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server API
        pass  # the page's requests are not evidence; decisions go to review.jsonl

    # -- checks ---------------------------------------------------------------------------
    def _refuse(self, code: int, why: str) -> None:
        body = f"{code} {why}\n".encode()
        self.send_response(code)
        self._common_headers("text/plain; charset=utf-8", len(body))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _common_headers(self, ctype: str, length: int) -> None:
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length))
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")

    def _query(self) -> dict[str, list[str]]:
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)

    def _authorised(self) -> tuple[bool, str]:
        srv = self.server_ref
        try:
            peer = ipaddress.ip_address(self.client_address[0])
        except ValueError:
            return False, "not a loopback address"
        if not (peer.is_loopback or getattr(peer, "ipv4_mapped", None) and peer.ipv4_mapped.is_loopback):
            return False, "only loopback clients"
        if self.headers.get("Host", "") not in srv.allowed_hosts():
            return False, "wrong Host"
        given = (self._query().get("token") or [""])[0]
        cookie = self._cookie()
        ok = any(t and hmac.compare_digest(t.encode(), srv.token.encode()) for t in (given, cookie))
        return (True, "") if ok else (False, "token required")

    def _cookie(self) -> str:
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == COOKIE:
                return v
        return ""

    # -- responses ------------------------------------------------------------------------
    def _send(self, body: bytes, ctype: str, code: int = 200, extra: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self._common_headers(ctype, len(body))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj: Any, code: int = 200) -> None:
        self._send(json.dumps(obj, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8", code)

    def do_HEAD(self) -> None:  # noqa: N802 - http.server API
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        ok, why = self._authorised()
        if not ok:
            return self._refuse(403, why)
        path = urllib.parse.urlsplit(self.path).path
        srv, app = self.server_ref, self.server_ref.app
        if path == "/" and "token" in self._query():
            # Trade the URL token for a cookie and drop it from the address bar.
            self.send_response(303)
            self.send_header("Location", "/")
            self.send_header("Set-Cookie", f"{COOKIE}={srv.token}; HttpOnly; SameSite=Strict; Path=/")
            self.send_header("Content-Length", "0")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            return None
        if path == "/":
            return self._send(static_text("review.html"), "text/html; charset=utf-8")
        if path in STATIC:
            name, ctype = STATIC[path]
            return self._send(static_text(name), ctype)
        if path == "/api/case":
            return self._json(app.payload())
        m = re.fullmatch(r"/api/context/([A-Za-z0-9%_-]{1,80})", path)
        if m:
            ctx = app.context(urllib.parse.unquote(m.group(1)))
            return self._json(ctx) if ctx is not None else self._refuse(404, "no such finding")
        if path.startswith("/file/"):
            return self._file(urllib.parse.unquote(path[len("/file/"):]))
        return self._refuse(404, "not found")

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        ok, why = self._authorised()
        if not ok:
            return self._refuse(403, why)
        origin = self.headers.get("Origin")
        if origin is not None and origin.rstrip("/") not in {f"http://{h}" for h in self.server_ref.allowed_hosts()}:
            return self._refuse(403, "foreign Origin")
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            return self._refuse(415, "application/json only")
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            return self._refuse(413, "body too large")
        try:
            body = json.loads(self.rfile.read(n) or b"{}")
        except (ValueError, UnicodeDecodeError):
            return self._refuse(400, "not JSON")
        path = urllib.parse.urlsplit(self.path).path
        app = self.server_ref.app
        if path == "/api/decision" and isinstance(body, dict):
            try:
                return self._json(app.decide(body))
            except InputError as exc:
                return self._json({"error": str(exc)}, 400)
        if path == "/api/finish":
            self._json({"finished": True})
            app.finish()
            self.server_ref.finished.set()
            return None
        return self._refuse(404, "not found")

    def _file(self, rel: str) -> None:
        app = self.server_ref.app
        if mf.unsafe_path_reason(rel) or rel not in app.files():
            return self._refuse(404, "not a file of this review")
        try:
            fd = mf.open_inside(app.case_root, rel)
        except OSError:
            return self._refuse(404, "missing")
        with os.fdopen(fd, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            ctype = _TYPES.get(Path(rel).suffix.lower()) or mimetypes.guess_type(rel)[0] or "application/octet-stream"
            start, end, code = 0, size - 1, 200
            rng = self.headers.get("Range")
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip()) if rng else None
            if m and (m.group(1) or m.group(2)):
                if m.group(1):
                    start = int(m.group(1))
                    end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
                else:
                    start = max(0, size - int(m.group(2)))
                if start > end or start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                code = 206
            length = end - start + 1 if size else 0
            self.send_response(code)
            self._common_headers(ctype, length)
            self.send_header("Accept-Ranges", "bytes")
            if code == 206:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if self.command == "HEAD":
                return None
            fh.seek(start)
            left = length
            try:
                while left > 0:
                    chunk = fh.read(min(1 << 16, left))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the player cancelled a range request: normal while seeking
        return None
