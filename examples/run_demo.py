"""The README's demo: build the bundled example stream (if needed) and run lsf on it.

The example is a synthetic shopping stream made by ``tests/synth.py`` from the real Mandarin TTS
lines in ``../shared/fixtures/tts_zh/`` (generated, never committed as a binary).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests"))

from synth import build_livestream  # noqa: E402


def main() -> int:
    stream = build_livestream(HERE / "generated")
    lsf = Path(sys.executable).with_name("lsf")
    case = REPO / "cases" / "demo"
    print(f"example video: {stream.video}")
    steps = [[str(lsf), "extract", str(stream.video), "-C", str(case)]]
    for cmd in steps:
        print("$ " + " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd)), flush=True)
        rc = subprocess.call(cmd)
        if rc != 0:
            return rc
    print(f"\ncase folder: {case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
