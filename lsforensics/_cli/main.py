"""``lsf`` entry point: the click group and the mapping of errors to exit codes (SPEC.md).

0 success, 1 verification failed / threshold hit, 2 usage or input error, 3 internal error. Errors
are one line on stderr; a traceback only with -vv or LSF_DEBUG=1.
"""

from __future__ import annotations

import errno
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
        """Like click's, but a usage error is one line too (SPEC.md: one clear line, exit 2), and the
        config files (lsf.toml) fill in the defaults of the options tied to settings."""
        try:
            if "default_map" not in extra:
                from .common import default_map

                extra["default_map"] = default_map(self)
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
        except LsfError as exc:  # a bad config file, before any command runs
            click.echo(f"lsf: {exc.label}: {_one_line(str(exc))}", err=True)
            code = exc.exit_code
        if standalone_mode:
            sys.exit(code)
        return code

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
@click.option("--operator", help="Name recorded as operator in the case and custody log.")
@click.pass_context
def cli(ctx: click.Context, operator: str | None) -> None:
    """lsforensics: forensic analysis of recorded livestream-shopping videos.

    \b
    Example:
      lsf extract stream.mp4 -C cases/stream1
      lsf analyze stream.mp4 --page product.html
    """
    ctx.ensure_object(dict)["operator"] = operator


def _register() -> None:
    from . import analyze, extract

    cli.add_command(extract.extract)
    cli.add_command(analyze.analyze)
    cli.add_command(analyze.batch)
    from .transcribe import transcribe; cli.add_command(transcribe)  # noqa: E702, I001
    from .claims import claims; cli.add_command(claims)  # noqa: E702, I001
    from .report import report; cli.add_command(report)  # noqa: E702, I001
    from .verify import verify; cli.add_command(verify)  # noqa: E702, I001
    from .keygen import keygen; cli.add_command(keygen)  # noqa: E702, I001
    from .stamp import stamp; cli.add_command(stamp)  # noqa: E702, I001
    from .detect import detect; cli.add_command(detect)  # noqa: E702, I001
    from .ocr import ocr; cli.add_command(ocr)  # noqa: E702, I001
    from .compare import compare_cmd; cli.add_command(compare_cmd, "compare")  # noqa: E702, I001
    from .record import record; cli.add_command(record)  # noqa: E702, I001
    from .review import review; cli.add_command(review)  # noqa: E702, I001
    from .config import config; cli.add_command(config)  # noqa: E702, I001
    from .reproduce import reproduce; cli.add_command(reproduce)  # noqa: E702, I001
    from .findings import findings; cli.add_command(findings)  # noqa: E702, I001
    from .common import wire_settings

    wire_settings(cli)  # LSF_* variables for every option tied to a setting, also of commands added above


_register()


def main(argv: list[str] | None = None) -> None:
    # File names that are not UTF-8 (GBK copies) reach messages as surrogates: print them escaped.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    cli.main(args=argv, prog_name="lsf")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
