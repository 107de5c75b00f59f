"""Options every command shares (SPEC.md): --json, -q/--quiet, -v/--verbose, --operator."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from ..progress import Progress
from .progress import RichProgress, make_progress


def common_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    @click.option("--json", "as_json", is_flag=True, help="Print a machine-readable JSON result on stdout.")
    @click.option("-q", "--quiet", is_flag=True, help="No progress, only errors.")
    @click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv: tracebacks on internal errors).")
    @functools.wraps(fn)
    def wrapper(*args: Any, as_json: bool, quiet: bool, verbose: int, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        obj = ctx.ensure_object(dict)
        obj["as_json"] = as_json or obj.get("as_json", False)
        obj["quiet"] = quiet or obj.get("quiet", False)
        obj["verbose"] = verbose + obj.get("verbose", 0)
        return fn(*args, **kwargs)

    return wrapper


def opts() -> dict[str, Any]:
    return click.get_current_context().ensure_object(dict)


@contextlib.contextmanager
def progress() -> Iterator[Progress]:
    o = opts()
    p = make_progress(o.get("quiet", False), o.get("verbose", 0))
    if isinstance(p, RichProgress):
        with p:
            yield p
    else:
        yield p


def emit(result: dict[str, Any], human: Callable[[dict[str, Any]], str]) -> None:
    """--json: the result as JSON on stdout; otherwise a short human summary (unless -q)."""
    o = opts()
    if o.get("as_json"):
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    elif not o.get("quiet"):
        click.echo(human(result))
