"""Generate ``docs/cli.md`` from the commands' own ``--help`` (a test keeps it in sync).

Run ``python -m lsforensics._cli.docs`` after changing a command.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .main import cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
HEADER = """# CLI reference

Generated from `lsf --help` by `python -m lsforensics._cli.docs`; `tests/test_cli_docs.py` fails
when this file is stale. Exit codes (all commands): 0 success (findings are not failures),
1 verification failed or `--fail-on` threshold hit, 2 usage or input error, 3 internal error.
"""


def _help(cmd: click.Command, path: list[str]) -> str:
    ctx = click.Context(cmd, info_name=" ".join(path), terminal_width=100, max_content_width=100)
    return cmd.get_help(ctx)


def render() -> str:
    parts = [HEADER, "## lsf\n", "```text\n" + _help(cli, ["lsf"]) + "\n```\n"]
    for name in sorted(cli.commands):
        cmd = cli.commands[name]
        parts.append(f"## lsf {name}\n")
        parts.append("```text\n" + _help(cmd, ["lsf", name]) + "\n```\n")
    return "\n".join(parts)


def main() -> None:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}", file=sys.stderr)


if __name__ == "__main__":
    main()
