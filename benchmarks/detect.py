"""Benchmark the text matcher: a 20,000-character transcript against the full shipped rule set.

Usage: ``python benchmarks/detect.py [--chars 20000] [--repeat 5] [--json]``
Target (issue 4): < 1 s per 20,000 characters. The text is built from the labelled sentences of
tests/data/text/ (positives with ASR errors and clean livestream talk) in a shuffled order, so the
pinyin/fuzzy paths do real work. The phrase-pinyin cache is cleared before every timed run, so
repeated sentences do not flatter the number; the one-off cost of building the matcher (jieba
dictionary, automata) is reported separately.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from lsforensics.rules import load_rules  # noqa: E402
from lsforensics.text.lexicon import build_lexicon  # noqa: E402
from lsforensics.text.match import Matcher  # noqa: E402
from lsforensics.text.pinyin import _to_pinyin  # noqa: E402

DATA = HERE.parent / "tests" / "data" / "text"


def corpus(chars: int, seed: int = 4) -> str:
    sentences = [r.split("\t")[0] for r in (DATA / "positives.tsv").read_text(encoding="utf-8").splitlines()
                 if r.strip() and not r.startswith("#")]
    sentences += [s for s in (DATA / "clean.txt").read_text(encoding="utf-8").splitlines()
                  if s.strip() and not s.startswith("#")]
    rng = random.Random(seed)
    out: list[str] = []
    n = 0
    while n < chars:
        s = rng.choice(sentences) + rng.choice("，。！？")
        out.append(s)
        n += len(s)
    return "".join(out)[:chars]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chars", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    t0 = time.perf_counter()
    rules = load_rules()
    lex = build_lexicon(rules)
    t1 = time.perf_counter()
    matcher = Matcher(lex)
    t2 = time.perf_counter()
    text = corpus(a.chars)
    matcher.find("家人们晚上好，欢迎来到我们的直播间")  # first call loads jieba's segmenter state
    times, cpu, found = [], [], 0
    for _ in range(a.repeat):
        _to_pinyin.cache_clear()
        c0, w0 = time.process_time(), time.perf_counter()
        matches = matcher.find(text, "speech")
        times.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
        found = len(matches)
    by_method: dict[str, int] = {}
    for m in matches:
        by_method[m.method] = by_method.get(m.method, 0) + 1
    result = {
        "chars": len(text), "entries": len(lex.entries), "rules_load_s": round(t1 - t0, 3),
        "matcher_build_s": round(t2 - t1, 3), "match_wall_s_median": round(statistics.median(times), 3),
        "match_wall_s_max": round(max(times), 3), "match_cpu_s_median": round(statistics.median(cpu), 3),
        "matches": found, "by_method": by_method, "target_s": 1.0,
        "ok": max(times) < 1.0,
    }
    if a.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for k, v in result.items():
            print(f"{k:>22}: {v}")


if __name__ == "__main__":
    main()
