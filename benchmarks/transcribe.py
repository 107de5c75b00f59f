"""Transcription speed per backend and setting: CPU-s and wall-s per audio minute, peak RSS.

    .venv/bin/python benchmarks/transcribe.py                 # all configurations
    .venv/bin/python benchmarks/transcribe.py --configs fw-default,fw-novad --audio my.wav

The default audio is built from the shared data so the numbers are reproducible: the 16 TTS
livestream lines with 1 s pauses, three times over (a worst case: a slang term in nearly every
sentence), then 30 s of Big Buck Bunny music/effects and 9.6 s of the Chaplin music track (what
VAD should skip): 301 s, three chunks of at most 120 s. Each configuration runs in its own process; CPU
seconds include the decoder worker processes, peak RSS is the largest process. Target for the
default (fw-default): <= 10 wall-s per audio minute on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

CONFIGS = {
    # name: (backend, options overrides, recover)
    "fw-default": ("faster-whisper", {}, True),  # what `lsf transcribe` does: beam 5, VAD, recovery, 2 workers
    "fw-default-1proc": ("faster-whisper", {"workers": 1}, True),  # the same in one process on both cores
    "fw-norecover": ("faster-whisper", {}, False),
    "fw-novad": ("faster-whisper", {"vad": False}, False),
    "fw-batched8": ("faster-whisper", {"batch_size": 8}, False),
    "fw-beam1": ("faster-whisper", {"beam_size": 1}, False),
    "openai-whisper": ("openai-whisper", {}, False),
    "transformers": ("transformers", {}, False),
}


def build_audio(dest: Path, short: bool = False) -> Path:
    sys.path.insert(0, str(REPO))
    from lsforensics.asr.audio import load_audio

    sr = 16000
    parts = []
    tts = SHARED / "fixtures" / "tts_zh"
    for _ in range(1 if short else 3):
        for i in range(1, 5 if short else 17):
            parts += [load_audio(tts / f"zh_{i:02d}.flac"), np.zeros(sr, np.float32)]
    for name in ("video_bw_film_chaplin.mp4",) if short else ("video_webm_big_buck_bunny_0_30.webm",
                                                               "video_bw_film_chaplin.mp4"):
        parts.append(load_audio(SHARED / "realdata" / name))
    x = np.concatenate(parts)
    with wave.open(str(dest), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    return dest


def child(config: str, audio: str) -> None:
    from dataclasses import replace

    from lsforensics.asr.transcribe import TranscribeOptions, Transcriber
    from lsforensics.pipeline import key_terms, requested_rules, term_context

    backend, over, recover = CONFIGS[config]
    terms = key_terms()[0] if recover else []
    t_load = time.monotonic()
    context = term_context(requested_rules(())) if recover else None  # as lsf transcribe/analyze hand it to asr
    tr = Transcriber(None, replace(TranscribeOptions(), backend=backend, recover=recover, **over), terms, context)
    load_s = time.monotonic() - t_load
    c0, w0 = time.process_time(), time.monotonic()
    out = tr.transcribe_file(audio)
    wall = time.monotonic() - w0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # the decoder workers, reaped by now
    cpu = time.process_time() - c0 + kids.ru_utime + kids.ru_stime
    rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, kids.ru_maxrss) / 1024
    print(json.dumps({"config": config, "audio_s": out.duration, "speech_s": out.speech_duration, "wall_s": wall,
                      "cpu_s": cpu, "load_s": load_s, "rss_mb": rss, "segments": len(out.segments),
                      "candidates": len(out.candidates), "accepted": sum(c.accepted for c in out.candidates),
                      "phases": {k: round(v, 1) for k, v in tr.cpu.items()},
                      "text": out.text[:60]}, ensure_ascii=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--audio", type=Path, help="16 kHz mono WAV (default: built from ../shared)")
    ap.add_argument("--configs", default=",".join(CONFIGS), help=f"comma list of {', '.join(CONFIGS)}")
    ap.add_argument("--short", action="store_true", help="30.6 s audio (4 TTS lines + Chaplin music) for slow backends")
    ap.add_argument("--phases", action="store_true", help="also print the CPU-s per audio minute of each decoding phase")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.child, str(a.audio))
        return
    audio = a.audio or build_audio(Path(tempfile.mkdtemp()) / "bench.wav", a.short)
    print(f"audio: {audio}  cores: {os.cpu_count()}  load average: {os.getloadavg()[0]:.2f}")
    print(f"{'config':<16}{'audio s':>8}{'speech s':>9}{'wall s/min':>11}{'CPU s/min':>10}{'load s':>7}"
          f"{'RSS MB':>8}{'segs':>6}{'accepted':>9}")
    for cfg in a.configs.split(","):
        proc = subprocess.run([sys.executable, __file__, "--child", cfg, "--audio", str(audio)],
                              capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        line = proc.stdout.strip().splitlines()[-1:] if proc.returncode == 0 else []
        if not line:
            err = (proc.stderr.strip().splitlines() or ["?"])[-1]
            print(f"{cfg:<16} failed: {err}")
            continue
        r = json.loads(line[0])
        m = r["audio_s"] / 60
        print(f"{cfg:<16}{r['audio_s']:>8.1f}{r['speech_s'] or 0:>9.1f}{r['wall_s'] / m:>11.1f}{r['cpu_s'] / m:>10.1f}"
              f"{r['load_s']:>7.1f}{r['rss_mb']:>8.0f}{r['segments']:>6}{r['accepted']:>5}/{r['candidates']:<3}")
        if a.phases and r.get("phases"):
            print("    " + ", ".join(f"{k} {v / m:.2f}/min" if k.endswith("_cpu_s") else f"{k} {v:g}"
                                     for k, v in r["phases"].items()))


if __name__ == "__main__":
    main()
