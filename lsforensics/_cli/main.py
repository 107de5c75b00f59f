"""``lsf`` entry point: the click group and the mapping of errors to exit codes (SPEC.md).

0 success, 1 verification failed / threshold hit, 2 usage or input error, 3 internal error. Errors
are one line on stderr; a traceback only with -vv or LSF_DEBUG=1.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
import traceback
from typing import Any

import click

from .. import __version__
from ..errors import LsfError

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a model hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


MAX_ERROR_LINE = 1000  # an error quoting hostile input stays one readable line


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= MAX_ERROR_LINE else line[:MAX_ERROR_LINE] + f"… ({len(line)} characters)"


# The machine refused a write or a read: the user can fix it and rerun (exit 2), not a bug (3).
_ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EMFILE,
                       errno.ENAMETOOLONG}


class LsfGroup(click.Group):
    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """Like click's, but a usage error is one line too (SPEC.md: one clear line, exit 2)."""
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            code = rv if isinstance(rv, int) else 0
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            click.echo(f"lsf: error: {_one_line(exc.format_message())}{hint}", err=True)
            code = exc.exit_code
        except click.exceptions.Abort:
            click.echo("lsf: aborted", err=True)
            code = 130
        if standalone_mode:
            sys.exit(code)
        return code

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMANDS:
            module, attr = _COMMANDS[cmd_name]
            self.add_command(getattr(importlib.import_module(f".{module}", __package__), attr), cmd_name)
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LsfError as exc:
            click.echo(f"lsf: {exc.label}: {_one_line(str(exc))}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("lsf: interrupted; rerun the same command to resume", err=True)
            ctx.exit(130)
        except Exception as exc:  # internal error: one line, traceback only on request
            if isinstance(exc, OSError) and exc.errno in _ENVIRONMENT_ERRNOS:
                where = f": {exc.filename}" if exc.filename else ""
                click.echo(f"lsf: error: {_one_line(exc.strerror or str(exc))}{where} (fix it and rerun the same "
                           "command: finished stages are kept)", err=True)
                ctx.exit(2)
            verbose = (ctx.obj or {}).get("verbose", 0) if isinstance(ctx.obj, dict) else 0
            if verbose >= 2 or os.environ.get("LSF_DEBUG"):
                traceback.print_exc()
            click.echo(
                f"lsf: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
                "(rerun with -vv for the traceback)",
                err=True,
            )
            ctx.exit(3)


@click.group(cls=LsfGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="lsf")
@click.option("--operator", envvar="LSF_OPERATOR", help="Name recorded as operator in the case and custody log.")
@click.pass_context
def cli(ctx: click.Context, operator: str | None) -> None:
    """lsforensics: forensic analysis of recorded livestream-shopping videos.

    \b
    Example:
      lsf extract stream.mp4 -C cases/stream1
      lsf analyze stream.mp4 --page product.html
    """
    ctx.ensure_object(dict)["operator"] = operator


# Each command's module is imported only when the command is run (or listed by --help): a command
# pays for its own imports (lsf scan does not load pandas, the capture or the link stages).
_COMMANDS: dict[str, tuple[str, str]] = {
    "extract": ("extract", "extract"), "analyze": ("analyze", "analyze"), "batch": ("analyze", "batch"),
    "transcribe": ("transcribe", "transcribe"), "claims": ("claims", "claims"), "report": ("report", "report"),
    "verify": ("verify", "verify"), "keygen": ("keygen", "keygen"), "stamp": ("stamp", "stamp"),
    "detect": ("detect", "detect"), "ocr": ("ocr", "ocr"), "compare": ("compare", "compare_cmd"),
    "record": ("record", "record"), "review": ("review", "review"), "scan": ("scan", "scan"),
}


def all_commands() -> dict[str, click.Command]:
    """Every command, loaded (for the generated reference and its test)."""
    for name in _COMMANDS:
        cli.get_command(click.Context(cli), name)
    return dict(sorted(cli.commands.items()))


def main(argv: list[str] | None = None) -> None:
    # File names that are not UTF-8 (GBK copies) reach messages as surrogates: print them escaped.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    cli.main(args=argv, prog_name="lsf")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
