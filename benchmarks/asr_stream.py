"""Transcription of a realistic stream's sound track alone: CPU-s per phase and terms invented.

    .venv/bin/python benchmarks/asr_stream.py --seed 2 --minutes 10
    .venv/bin/python benchmarks/asr_stream.py --seed 4 --minutes 3 --no-context

The sound of ``tests/realistic.py`` (continuous speech over music, two speakers, a room), without
rendering the video: the generator's track, through AAC 56 kb/s at 48 kHz and back to 16 kHz mono
as the stream carries it and ``lsf extract`` reads it (cached under ``benchmarks/.cache/asr_stream``).
Transcribed as ``lsf analyze`` does (two decoder processes, the rules' key terms and the lexicon's
context test for recovered terms). Prints the CPU seconds per audio minute of each phase (the
decoder processes' own) and every accepted re-decoded term that no line said at its time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))


def sound(seed: int, minutes: float, cache: Path) -> tuple[Path, list[dict]]:
    import realistic as R

    wav, lines_json = cache / f"s{seed}-{minutes:g}.wav", cache / f"s{seed}-{minutes:g}.lines.json"
    if wav.exists() and lines_json.exists():
        return wav, json.loads(lines_json.read_text(encoding="utf-8"))
    (cache / "espeak").mkdir(parents=True, exist_ok=True)
    spec = R.StreamSpec(seed, minutes)
    pcm, lines = R._speech_plan(spec, R.plan_episodes(spec), cache / "espeak")  # noqa: SLF001 - the generator's own track
    raw, aac = cache / f".raw-{os.getpid()}.wav", cache / f".s{seed}-{os.getpid()}.m4a"
    with wave.open(str(raw), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm.tobytes())
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(raw), "-c:a", "aac", "-b:a", "56k", "-ar", "48000",
                    str(aac)], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(aac), "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le",
                    str(wav)], check=True)
    raw.unlink()
    aac.unlink()
    lines_json.write_text(json.dumps(lines, ensure_ascii=False), encoding="utf-8")
    return wav, lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--no-context", action="store_true", help="judge recovered terms by sound and time alone")
    ap.add_argument("--beam-size", type=int, help="beam width of the record decode (default: TranscribeOptions')")
    ap.add_argument("--dump", type=Path, help="write the transcript (JSON) here")
    a = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from lsforensics.asr.transcribe import TranscribeOptions, Transcriber
    from lsforensics.pipeline import key_terms, requested_rules, term_context

    wav, lines = sound(a.seed, a.minutes, HERE / ".cache" / "asr_stream")
    rules = requested_rules(())
    opts = TranscribeOptions() if a.beam_size is None else TranscribeOptions(beam_size=a.beam_size)
    t = Transcriber(None, opts, key_terms(rules)[0], None if a.no_context else term_context(rules))
    w0 = time.monotonic()
    tr = t.transcribe_file(wav)
    wall = time.monotonic() - w0
    minutes = tr.duration / 60
    invented, accepted = [], 0
    for c in tr.candidates:
        if not c.accepted:
            continue
        accepted += 1
        near = [ln["text"] for ln in lines if ln["start"] - 1 <= c.start <= ln["end"] + 1]
        if not any(c.term in x for x in near):
            invented.append(f"{c.term} for {c.unbiased} ({c.acoustic_llr}) in {near}")
    cpu = sum(v for k, v in t.cpu.items() if k.endswith("_cpu_s"))
    print(f"realistic sound s{a.seed} {a.minutes:g} min, beam {opts.beam_size}, context test {'off' if a.no_context else 'on'}: "
          f"{cpu / minutes:.2f} CPU-s per audio minute in the decoders, {wall / minutes:.1f} wall-s "
          f"(load average {os.getloadavg()[0]:.1f}); {len(tr.segments)} segments, {len(tr.candidates)} candidates, "
          f"{accepted} accepted, invented {invented or 'none'}")
    print("  per phase: " + ", ".join(f"{k} {v / minutes:.2f}/min" if k.endswith("_cpu_s") else f"{k} {v:g}"
                                      for k, v in t.cpu.items()))
    if a.dump:
        a.dump.write_text(json.dumps(tr.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
