"""The README's demo: build the bundled example stream (if needed) and run `lsf analyze` on it.

The example is a synthetic shopping stream made by ``tests/synth.py`` from the real Mandarin TTS
lines in ``../shared/fixtures/tts_zh/`` (generated, never committed as a binary), with the
product pages in ``tests/data/claims/``, a chat log, and a brand-protection firm's own rules
folder holding a reference logo and product photo of the made-up brand "LUXE".
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))

from synth import build_livestream, make_brand_rules  # noqa: E402

# Product pages written for the example stream (shared with the claims tests).
PAGES = [REPO / "tests" / "data" / "claims" / name for name in ("douyin_belt.html", "jd_necklace.html", "taobao_shorts.html")]


def main() -> int:
    stream = build_livestream(HERE / "generated")
    rules = make_brand_rules(HERE / "generated" / "brand-rules")
    lsf = Path(sys.executable).with_name("lsf")
    case = REPO / "cases" / "demo"
    print(f"example video: {stream.video}")
    # A lab key for the demo (a real lab keeps its key elsewhere and hands out the .pub): the
    # signed case then verifies as INTACT against it (an unsigned one is intact but unanchored).
    key = HERE / "generated" / "demo-lab.key"
    if not key.exists():
        subprocess.run([str(lsf), "keygen", "-o", str(key.with_suffix(""))], check=True)
    analyze = [str(lsf), "analyze", str(stream.video), "-C", str(case), "--rules", str(rules),
               "--chat", str(HERE / "chat.jsonl"), "--sign-key", str(key)]
    for page in PAGES:
        analyze += ["--page", str(page)]
    for cmd in (analyze, [str(lsf), "verify", str(case), "--pubkey", str(key.with_suffix(".pub"))]):
        print("\n$ lsf " + " ".join(c if " " not in c else repr(c) for c in cmd[1:]), flush=True)
        rc = subprocess.call(cmd)
        if rc != 0:
            return rc
    print(f"\ncase folder: {case}\nreport: {case / 'report' / 'report.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
