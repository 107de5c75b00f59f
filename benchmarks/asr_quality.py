"""Transcript faithfulness and cost per decoding setting, on the same material as the ASR tests.

    .venv/bin/python benchmarks/asr_quality.py                      # the default settings
    .venv/bin/python benchmarks/asr_quality.py --set beam_size=1 --set batch_size=0

Prints, for one setting of ``TranscribeOptions``:

* CER of the record on the 6 real Mandarin clips of ``tests/test_asr_real.py`` (t2s, punctuation
  removed), and any key term in the record or accepted that was not said (fabrication);
* CER on the 16 natural TTS lines, and key-term recall of the record alone and with corroborated
  recovery (the planted terms of the test), fabrications;
* CER of the realistic 3-minute stream (``tests/realistic.py``, seed 4: continuous speech over music,
  two speakers) against its script, candidates proposed/accepted, and the CPU seconds per audio minute
  of the whole transcription (decoder workers included).

The same figures before and after a change of the decoder are what docs/asr.md reports.
"""

from __future__ import annotations

import argparse
import ast
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import fields, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))


def _value(raw: str) -> object:
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return raw


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    help="a TranscribeOptions field, e.g. beam_size=1 (repeatable)")
    ap.add_argument("--skip", default="", help="comma list of parts to skip: real,tts,stream")
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per TTS line (record, accepted, refused)")
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--no-context", action="store_true",
                    help="judge recovered terms by sound alone (without the lexicon's context test lsf analyze uses)")
    ap.add_argument("--dump", type=Path, help="write the stream's transcript (JSON) here, to diff two settings")
    a = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from rapidfuzz.distance import Levenshtein
    from test_asr_real import PLANTED, TTS, ZH_CLIPS, key_terms, norm, said, term_context

    from lsforensics.asr.audio import load_audio
    from lsforensics.asr.transcribe import TranscribeOptions, Transcriber

    known = {f.name for f in fields(TranscribeOptions)}
    over = {}
    for kv in a.set:
        k, _, v = kv.partition("=")
        if k not in known:
            raise SystemExit(f"--set {k}: not a TranscribeOptions field ({', '.join(sorted(known))})")
        over[k] = _value(v)
    opts = replace(TranscribeOptions(language="zh"), **over)
    skip = set(a.skip.split(",")) - {""}
    terms = key_terms()
    context = None if a.no_context else term_context()
    tr = Transcriber(None, replace(opts, workers=1), terms, context)
    print(f"settings: {over or 'defaults'}; {len(terms)} key terms; context test {'off' if a.no_context else 'on'}; load average {os.getloadavg()[0]:.1f}")
    realdata = HERE.parent.parent / "shared" / "realdata"

    def cpu() -> float:
        s, k = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return s.ru_utime + s.ru_stime + k.ru_utime + k.ru_stime

    if "real" not in skip:
        errs = total = 0
        fabricated: list[str] = []
        c0 = cpu()
        for name, ref in ZH_CLIPS.items():
            t = tr.transcribe_array(load_audio(realdata / name))
            hyp = norm(t.text)
            e = Levenshtein.distance(norm(ref), hyp)
            errs, total = errs + e, total + len(norm(ref))
            fabricated += [f"{name}:{x}" for x in terms if norm(x) in hyp and not said(x, ref)]
            fabricated += [f"{name}:{c.term}(accepted)" for c in t.candidates if c.accepted and not said(c.term, ref)]
            print(f"  real {name[:40]:<40} CER {e / len(norm(ref)):.3f}  {hyp}")
        print(f"real Mandarin clips: CER {errs / total:.3f} over {total} characters; fabricated {fabricated}; "
              f"{cpu() - c0:.1f} CPU-s")
    if "tts" not in skip:
        lines = dict(ln.split("\t", 1) for ln in (TTS / "lines.txt").read_text(encoding="utf-8").splitlines()
                     if "\t" in ln)
        errs = total = planted = plain = found = 0
        fabricated = []
        c0 = cpu()
        for name, ref in lines.items():
            t = tr.transcribe_array(load_audio(TTS / name))
            text = norm(t.text)
            errs, total = errs + Levenshtein.distance(norm(ref), text), total + len(norm(ref))
            accepted = {c.term for c in t.candidates if c.accepted}
            for x in PLANTED.get(name, []):
                planted += 1
                plain += x in text
                found += x in text or any(x in y for y in accepted)  # 一比一 inside an accepted 一比一复刻 counts
            if a.verbose:
                print(f"  tts {name}: {text} | accepted {sorted(accepted)} "
                      f"refused {sorted({c.term for c in t.candidates if not c.accepted})}")
            fabricated += [f"{name}:{x}" for x in accepted if not said(x, ref)]
            fabricated += [f"{name}:{x}(record)" for x in terms if norm(x) in text and not said(x, ref)]
        print(f"TTS lines: CER {errs / total:.3f} over {total} characters; key-term recall record {plain}/{planted}, "
              f"with recovery {found}/{planted}; fabricated {fabricated}; {cpu() - c0:.1f} CPU-s")
    if "stream" not in skip:
        from realistic import StreamSpec, build_stream

        st = build_stream(HERE / ".cache" / "realistic", StreamSpec(a.seed, a.minutes, True))
        wav = Path(tempfile.mkdtemp()) / "audio.wav"
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(st.video), "-vn", "-ac", "1", "-ar", "16000",
                        "-c:a", "pcm_s16le", str(wav)], check=True, capture_output=True)
        ref = norm("".join(ln["text"] for ln in st.truth["lines"]))
        full = Transcriber(None, opts, terms, context)
        c0, w0 = cpu(), time.monotonic()
        t = full.transcribe_file(wav)
        c1, w1 = cpu() - c0, time.monotonic() - w0
        hyp = norm(t.text)
        if a.dump:
            import json

            a.dump.write_text(json.dumps(t.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        minutes = t.duration / 60
        acc = [c for c in t.candidates if c.accepted]
        print(f"realistic stream s{a.seed} {a.minutes:g} min: CER {Levenshtein.distance(ref, hyp) / len(ref):.3f} "
              f"over {len(ref)} characters; {len(t.segments)} segments; candidates {len(t.candidates)}, accepted "
              f"{len(acc)} {sorted(c.term for c in acc)}; {c1 / minutes:.1f} CPU-s and {w1 / minutes:.1f} wall-s "
              f"per audio minute (load average {os.getloadavg()[0]:.1f})")
        per = ", ".join(f"{k} {v / minutes:.1f}" if k.endswith("_cpu_s") else f"{k} {v:g}" for k, v in full.cpu.items())
        print(f"  per phase (CPU-s per audio minute, decoder processes; counts): {per}")


if __name__ == "__main__":
    main()
