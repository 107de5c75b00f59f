"""``lsf scan FILE``: the text detectors on a transcript export, an ad or a chat dump."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..case import atomic_write_text
from ..errors import VerificationError
from ..findings import SEVERITY_ORDER
from .common import common_options, opts


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--source", type=click.Choice(["speech", "screen", "chat"]), default="speech", show_default=True,
              help="Where the text comes from, for lines without a 'source' column (chat: viewers' messages; "
                   "advertising and health rules apply to speech and screen only).")
@click.option("--format", "fmt", type=click.Choice(["txt", "tsv", "csv", "jsonl"]),
              help="Input format (default: from the file name; TXT = one message per line).")
@click.option("--rules", "rules_dirs", multiple=True, type=click.Path(path_type=Path),
              help="Extra rules folder (repeatable); its rules add to or replace the shipped ones by id.")
@click.option("--output", "out_format", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True,
              help="How findings are written.")
@click.option("-o", "--out", "out_file", type=click.Path(path_type=Path),
              help="Write the findings to this file (atomically) instead of stdout; a summary goes to stdout.")
@click.option("--each-line", is_flag=True,
              help="Match every line on its own (by default consecutive speech/screen lines are one running "
                   "text, so context and the product in play carry across lines).")
@click.option("--fail-on", type=click.Choice(["high", "medium", "low"]),
              help="Exit 1 when a finding of this severity or higher exists.")
@common_options
def scan(file: Path, source: str, fmt: str | None, rules_dirs: tuple[Path, ...], out_format: str,
         out_file: Path | None, each_line: bool, fail_on: str | None) -> None:
    """Run the text detectors on text from elsewhere; print findings as JSONL or CSV.

    FILE is TXT (one message per line), TSV or CSV with a header naming 'text' and optionally
    'source', 't', 'user', 'id', 'stream', or JSONL with the same keys. Each finding names the
    line it was found on and quotes it.

    \b
    Example:
      lsf scan transcript_export.txt
      lsf scan danmaku.tsv --source chat --output csv -o findings.csv
      lsf scan ads.jsonl --source screen --rules my_rules/ --fail-on high
    """
    from ..rules import load_rules  # noqa: PLC0415 - heavy imports only when used
    from ..scan import scan_file, to_csv, to_jsonl  # noqa: PLC0415

    rules = load_rules(list(rules_dirs))  # bad rules: one line, exit 2, before the file is read
    res = scan_file(file, rules, source=source, fmt=fmt, each_line=each_line)
    body = to_csv(res.findings) if out_format == "csv" else to_jsonl(res.findings)
    o = opts()
    summary: dict[str, Any] = res.summary()
    if out_file is not None:
        atomic_write_text(out_file, body)
        summary["out"] = str(out_file)
        if o.get("as_json"):
            sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        elif not o.get("quiet"):
            kinds = ", ".join(f"{k} {n}" for k, n in summary["by_kind"].items()) or "none"
            click.echo(f"{res.lines} lines, {len(res.findings)} findings ({kinds}) -> {out_file}")
    elif o.get("as_json"):
        summary["findings"] = [json.loads(x) for x in to_jsonl(res.findings).splitlines()]
        sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(body)
    if fail_on:
        limit = SEVERITY_ORDER[fail_on]
        hit = [f for f in res.findings if SEVERITY_ORDER.get(f.severity, 9) <= limit]
        if hit:
            raise VerificationError(f"{len(hit)} finding(s) of severity {fail_on} or higher (--fail-on {fail_on})")
