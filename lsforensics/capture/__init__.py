"""Recording a live stream as evidence (``lsf record``).

ffmpeg copies the stream (no re-encode) into closed segments; each segment is hashed the moment
it closes and appended to the hash chain ``capture.jsonl`` with its receive time, media timing
and the host clock's offset to NTP. Gaps, reconnects and damaged input are chained as they
happen, chat arrives in the same chain, the chain head is RFC 3161-stamped every few minutes
and signed at the end. ``capture.verify`` re-checks all of it; ``capture.remux`` makes the one
file ``lsf analyze`` reads.
"""

from .layout import CaptureLayout, is_capture_case

__all__ = ["CaptureLayout", "is_capture_case"]
