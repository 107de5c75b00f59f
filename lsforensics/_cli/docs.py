"""Generate ``docs/cli.md`` from the commands' own ``--help`` (a test keeps it in sync).

Run ``python -m lsforensics._cli.docs`` after changing a command.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .main import all_commands, cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
HEADER = """# CLI reference

Generated from `lsf --help` by `python -m lsforensics._cli.docs`; `tests/test_cli_docs.py` fails
when this file is stale. Exit codes (all commands): 0 success (findings are not failures),
1 verification failed or `--fail-on` threshold hit, 2 usage or input error, 3 internal error.
"""


def _contexts() -> tuple[click.Context, dict[str, click.Context]]:
    """The group's context and each subcommand's under it, as ``lsf NAME --help`` builds them: a
    subcommand inherits the group's settings (``-h``, the width), whatever ran in this process
    before (click caches a command's help option the first time it is built)."""
    top = click.Context(cli, info_name="lsf", terminal_width=100, **cli.context_settings)
    return top, {name: click.Context(cmd, info_name=name, parent=top) for name, cmd in all_commands().items()}


def render() -> str:
    top, subs = _contexts()
    parts = [HEADER, "## lsf\n", "```text\n" + cli.get_help(top) + "\n```\n"]
    for name in sorted(subs):
        parts.append(f"## lsf {name}\n")
        parts.append("```text\n" + subs[name].command.get_help(subs[name]) + "\n```\n")
    return "\n".join(parts)


def main() -> None:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}", file=sys.stderr)


if __name__ == "__main__":
    main()
