"""``lsf compare``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..links.compare import Reseal, compare, link_cases
from .common import common_options, emit, opts


def _human(r: dict[str, Any]) -> str:
    link = r["link"]
    lines = [f"{link['case']} <-> {link['other_case']}: "
             + (("linked by " + ", ".join(link["kinds"])) if link["kinds"] else "no link found")]
    for v in link["voice"][:4]:
        lines.append(f"  voice {v['this_speaker']} ~ {v['other_speaker']}: similarity {v['score']:.3f} "
                     f"(threshold {v['threshold']}; {v['this_seconds']:.0f} s / {v['other_seconds']:.0f} s of speech)"
                     + ("  SAME VOICE" if v["same_voice"] else ""))
    lines += [f"  {why}" for why in link["reasons"] if not why.startswith("same voice")]
    lines += [f"  note: {n}" for n in link["notes"]]
    if r.get("written"):
        lines.append("written: links.json (and the report, where there is one) in both cases")
    return "\n".join(lines)


@click.command()
@click.argument("case_a", type=click.Path(path_type=Path, file_okay=False))
@click.argument("case_b", type=click.Path(path_type=Path, file_okay=False))
@click.option("--write/--no-write", default=True, show_default=True,
              help="Record the result in both cases (links.json, custody) and refresh their reports.")
@click.option("--sign-key", type=click.Path(path_type=Path), help="Re-sign refreshed reports with this Ed25519 key.")
@click.option("--tsa", metavar="URL", help="Re-timestamp refreshed reports at this RFC 3161 authority.")
@click.option("--tsa-ca", type=click.Path(path_type=Path), help="PEM root certificate of the TSA.")
@common_options
def compare_cmd(case_a: Path, case_b: Path, write: bool, sign_key: Path | None, tsa: str | None,
                tsa_ca: Path | None) -> None:
    """Compare two analysed cases: the same voice, the same footage, the same product.

    Reads what `lsf analyze` stored in each case (voice.json, footage.json and fingerprints/):
    speaker embeddings (cosine similarity against the same-voice threshold), the audio
    fingerprint and video signature (shared time ranges), and product crops (SIFT/RANSAC
    inliers). With --write (the default) each case's links.json records the result, with the
    other case's files and hashes in its custody log, and its report is rewritten to show it.

    \b
    Example:
      lsf compare cases/shop-a-1f2e3d4c cases/shop-b-9a8b7c6d
      lsf compare cases/a cases/b --no-write --json
    """
    link = compare(case_a, case_b)
    out: dict[str, Any] = {"link": link.to_json("a"), "written": False}
    if write:
        argv = ["lsf", *sys.argv[1:]]
        out["cases"] = link_cases({link.a.root: [link], link.b.root: [link]}, Reseal(sign_key, tsa, tsa_ca),
                                  argv=argv, operator=opts().get("operator"))
        out["written"] = True
    emit(out, _human)
