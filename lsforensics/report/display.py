"""Text as a reader of the report may see it: controls that change what is displayed made visible.

A quote can carry Unicode bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE …) that make it
*display* in another order than it was said or written, NUL and other control characters that
viewers drop or choke on, and (from file names that were not UTF-8) lone surrogates. In the HTML
and PDF report each is shown as a visible marker (``[U+202E]``, ``[\\xc4]``), so the page shows
exactly which characters are there; ``report.json`` and the case files keep the text as it was.
A name that is not UTF-8 but reads as GB18030 (GBK, from a Chinese Windows copy) is shown decoded,
saying so.
"""

from __future__ import annotations

import re

# C0/C1 controls except tab/newline/CR, the bidi embedding/override/isolate controls and marks,
# and the surrogates that ``surrogateescape`` uses for undecodable bytes.
_HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                     "\udc80-\udcff]")


def _marker(m: re.Match[str]) -> str:
    c = ord(m.group(0))
    return f"[\\x{c - 0xDC00:02x}]" if 0xDC80 <= c <= 0xDCFF else f"[U+{c:04X}]"


_SURROGATE = re.compile("[\udc80-\udcff]")
GBK_NOTE = " [not UTF-8; shown decoded as GB18030/GBK]"


def display_text(text: str) -> str:
    """``text`` with every display-changing control replaced by a visible marker."""
    if _SURROGATE.search(text):
        try:
            text = text.encode("utf-8", "surrogateescape").decode("gb18030") + GBK_NOTE
        except UnicodeError:
            pass
    return _HIDDEN.sub(_marker, text)
