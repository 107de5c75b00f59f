"""``lsf config``: the effective settings and where each came from."""

from __future__ import annotations

from typing import Any

import click
from click.core import ParameterSource

from .. import config as cfg
from .common import common_options, emit


def _human(r: dict[str, Any]) -> str:
    lines = ["config files read: " + (", ".join(r["files"]) or "none")]
    width = max(len(s["name"]) for s in r["settings"])
    for s in r["settings"]:
        v = s["value"]
        shown = "(not set)" if v in (None, [], "") else ", ".join(v) if isinstance(v, list) else str(v)
        lines.append(f"  {s['name']:<{width}}  {shown}  [{s['source']}]")
    lines.append("flags > environment (LSF_*) > config files > defaults; an existing case keeps its own rules "
                 "and recorded options (docs/options.md)")
    return "\n".join(lines)


@click.command()
@common_options
def config() -> None:
    """Print the effective settings (operator, signing key, TSA, rules, language, …) and their source.

    Settings come from a flag, else an LSF_* environment variable, else lsf.toml in the working
    folder (which overrides the one in the user's config folder), else the default. An existing
    case keeps the rules archived in it and the options recorded in its case.json; these settings
    apply to new cases, and a flag changes a case explicitly. docs/options.md lists every option.

    \b
    Example:
      lsf config
      LSF_LANGUAGE=en lsf config --json
    """
    ctx = click.get_current_context()
    values = cfg.effective()
    operator = ctx.parent.params.get("operator") if ctx.parent is not None else None
    if operator and ctx.parent is not None and ctx.parent.get_parameter_source("operator") == ParameterSource.COMMANDLINE:
        values["operator"] = cfg.Value(cfg.BY_NAME["operator"], operator, "flag --operator")
    elif values["operator"].value is None:
        from ..case import default_operator

        values["operator"] = cfg.Value(cfg.BY_NAME["operator"], default_operator(), "default (login name)")
    emit({"files": [str(p) for p in cfg.config_files()], "settings": [v.to_json() for v in values.values()]}, _human)
