"""What to record: a stream URL as given, or a page URL resolved by streamlink or yt-dlp.

ffmpeg reads HLS (``.m3u8``), HTTP-FLV (``.flv``), DASH (``.mpd``) and RTMP(S) directly. Any
other http(s) URL is taken for a platform page and handed to a resolver library when one is
installed (``pip install 'lsforensics[record]'``): streamlink first, then yt-dlp. The chain
records which resolver turned which page into which stream URL.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlparse

from ..errors import InputError

KINDS = ("hls", "flv", "dash", "rtmp", "page")


@dataclass
class StreamSource:
    url: str  # what the operator gave
    stream_url: str  # what ffmpeg reads
    kind: str  # hls | flv | dash | rtmp | ts
    resolver: str | None = None  # streamlink X / yt-dlp X when a page was resolved
    headers: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def classify(url: str) -> str:
    """The stream kind of a URL by its scheme and path, or ``page`` for anything else."""
    u = urlparse(url)
    scheme = u.scheme.lower()
    if scheme in ("rtmp", "rtmps", "rtmpt", "rtmpe"):
        return "rtmp"
    if scheme not in ("http", "https"):
        raise InputError(f"{url!r}: expected an http(s):// or rtmp(s):// URL")
    if not u.hostname:
        raise InputError(f"{url!r}: no host in the URL")
    path = u.path.lower()
    if path.endswith(".m3u8") or path.endswith(".m3u"):
        return "hls"
    if path.endswith(".flv"):
        return "flv"
    if path.endswith(".mpd"):
        return "dash"
    if path.endswith(".ts"):
        return "ts"
    return "page"


def _kind_of(stream_url: str) -> str:
    k = classify(stream_url)
    return "hls" if k == "page" else k  # resolvers mostly hand back HLS without an extension


def _streamlink(url: str) -> StreamSource | None:
    try:
        import streamlink
    except ImportError:
        return None
    try:
        streams = streamlink.Streamlink().streams(url)
    except Exception as exc:  # noqa: BLE001 - plugin errors are the site's, reported in one line
        raise InputError(f"streamlink could not resolve {url}: {exc}") from None
    if not streams:
        raise InputError(f"streamlink found no live stream at {url} (offline, or the page needs a login)")
    best = streams.get("best") or next(iter(streams.values()))
    target = getattr(best, "url", None)
    if not target:
        raise InputError(f"streamlink's best stream at {url} has no direct URL ffmpeg can read")
    session = getattr(best, "session", None)
    headers = dict(session.http.headers) if session is not None and hasattr(session, "http") else {}
    return StreamSource(url, target, _kind_of(target), f"streamlink {streamlink.__version__}",
                        {k: v for k, v in headers.items() if k.lower() in ("user-agent", "referer", "cookie")})


def _ytdlp(url: str) -> StreamSource | None:
    try:
        import yt_dlp
    except ImportError:
        return None
    opts = {"quiet": True, "no_warnings": True, "skip_download": True, "noplaylist": True}
    try:
        with yt_dlp.YoutubeDL(opts) as ydl:
            info = ydl.extract_info(url, download=False)
    except Exception as exc:  # noqa: BLE001
        msg = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
        raise InputError(f"yt-dlp could not resolve {url}: {msg}") from None
    target = (info or {}).get("url")
    if not target and info and info.get("formats"):
        target = info["formats"][-1].get("url")
    if not target:
        raise InputError(f"yt-dlp found no stream URL at {url}")
    headers = (info or {}).get("http_headers") or {}
    from yt_dlp.version import __version__ as v

    return StreamSource(url, target, _kind_of(target), f"yt-dlp {v}",
                        {k: v for k, v in headers.items() if k.lower() in ("user-agent", "referer", "cookie")})


def resolve(url: str, resolver: str = "auto") -> StreamSource:
    """A stream URL is used as it is; a page URL goes to streamlink / yt-dlp (``resolver``)."""
    kind = classify(url)
    if kind != "page" and resolver == "auto":
        return StreamSource(url, url, kind)
    if resolver not in ("auto", "streamlink", "yt-dlp", "none"):
        raise InputError(f"--resolver {resolver!r}: choose auto, streamlink, yt-dlp or none")
    if resolver == "none":
        return StreamSource(url, url, "hls" if kind == "page" else kind)
    order = {"auto": (_streamlink, _ytdlp), "streamlink": (_streamlink,), "yt-dlp": (_ytdlp,)}[resolver]
    for fn in order:
        got = fn(url)
        if got is not None:
            return got
    raise InputError(f"{url} is not a stream URL (.m3u8, .flv, .mpd, rtmp://) and no resolver is installed: "
                     "pip install 'lsforensics[record]' (streamlink, yt-dlp), or give the stream URL")
