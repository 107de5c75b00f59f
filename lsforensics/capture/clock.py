"""The host clock against NTP, and durations as people write them.

Receive times in the chain are the host's UTC clock. A court will ask how right that clock was,
so the recorder asks an NTP server for the offset at the start, with every timestamp and at the
end, and chains the answer, or that no server answered (which is also worth knowing).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import InputError

DEFAULT_NTP = "pool.ntp.org"


@dataclass
class ClockCheck:
    server: str | None
    offset: float | None  # seconds to add to the host clock to get the server's time
    delay: float | None  # round trip, seconds
    stratum: int | None
    error: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def check_clock(server: str | None, *, timeout: float = 2.0) -> ClockCheck:
    """One NTP exchange (ntplib); never raises: an unreachable server is a recorded fact."""
    if not server:
        return ClockCheck(None, None, None, None, "NTP check disabled (--ntp none)")
    try:
        import ntplib
    except ImportError:
        return ClockCheck(server, None, None, None, "ntplib is not installed")
    host, _, port = server.partition(":")
    try:
        r = ntplib.NTPClient().request(host, version=3, port=int(port or 123), timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - DNS, timeout, refused: all mean "no offset known"
        return ClockCheck(server, None, None, None, f"no answer: {type(exc).__name__}: {exc}"[:200])
    return ClockCheck(server, round(r.offset, 6), round(r.delay, 6), int(r.stratum), None)


_DUR = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*$")


def parse_duration(text: str | float | int | None, what: str = "--duration") -> float | None:
    """``90``, ``90s``, ``2m``, ``1h30m`` -> seconds; None stays None."""
    if text is None:
        return None
    if isinstance(text, int | float):
        value = float(text)
    else:
        m = _DUR.match(str(text).lower())
        if not m or not any(m.groups()):
            raise InputError(f"{what} {text!r}: expected seconds or a duration like 90s, 20m, 1h30m")
        h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        value = h * 3600 + mi * 60 + s
    if not 0 < value <= 31 * 86400:
        raise InputError(f"{what} {text!r}: must be more than 0 and at most 31 days")
    return value
