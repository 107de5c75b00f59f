"""What every command shares (SPEC.md): --json, -q/--quiet, -v/--verbose, --operator, the JSON
result envelope, the config file and ``LSF_*`` variables, and settling options against a case.

**The envelope.** Every command prints its ``--json`` result through :func:`emit`, which wraps the
command's own fields in one envelope (``schema: lsf.result/1``)::

    {"schema": "lsf.result/1", "command": "detect", "case": "/abs/CASE" | null,
     "stages": [{"name", "skipped", "reason", "outputs", "result"}], ...the command's own fields}

``lsforensics/schemas/lsf.result-1.schema.json`` (package data) is its JSON Schema; a test runs
every registered command with --json and validates its output against it.

**Settings.** :data:`PARAM_SETTINGS` ties option names to settings of :mod:`lsforensics.config`:
each such option of every registered command reads its ``LSF_*`` variable (click ``envvar``) and,
below that, the config files (click ``default_map``), so flag > environment > file > default holds
for every command, including ones added later.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from .. import case_options
from ..case import Case
from ..progress import Progress
from .progress import RichProgress, make_progress

RESULT_SCHEMA = "lsf.result/1"

# click parameter name -> lsforensics.config setting
PARAM_SETTINGS = {"operator": "operator", "sign_key": "sign_key", "tsa": "tsa", "tsa_ca": "tsa_ca",
                  "rules_dirs": "rules", "language": "language", "threads": "threads"}
# A verifier's trust anchors are given on its command line, never taken from a config (a tsa_ca
# there must not make `lsf verify` demand a timestamp of a case that has none).
NOT_FROM_SETTINGS = {("verify", "tsa_ca")}


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


def argv() -> list[str]:
    return ["lsf", *sys.argv[1:]]


@contextlib.contextmanager
def progress() -> Iterator[Progress]:
    o = opts()
    p = make_progress(o.get("quiet", False), o.get("verbose", 0))
    if isinstance(p, RichProgress):
        with p:
            yield p
    else:
        yield p


# -- the JSON envelope ------------------------------------------------------------------------
def result_schema() -> dict[str, Any]:
    """The JSON Schema of every --json result (package data: lsforensics/schemas/)."""
    from importlib import resources

    text = (resources.files("lsforensics") / "schemas" / "lsf.result-1.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def stage_json(s: Any) -> dict[str, Any]:
    """A :class:`~lsforensics.stage.StageResult` (or a dict of one) as an envelope stage entry."""
    if isinstance(s, dict):
        return {"name": s.get("name") or s.get("stage"), "skipped": bool(s.get("skipped")),
                "reason": s.get("reason") or ("up to date" if s.get("skipped") else "ran"),
                "outputs": list(s.get("outputs") or []), "result": dict(s.get("result") or {})}
    return {"name": s.name, "skipped": s.skipped, "reason": s.reason, "outputs": list(s.outputs or []),
            "result": dict(s.result or {})}


def envelope(fields: dict[str, Any], *, case: Any = None, stages: list[Any] | None = None,
             command: str | None = None) -> dict[str, Any]:
    """``fields`` wrapped in the ``lsf.result/1`` envelope (keys of the envelope come first)."""
    ctx = click.get_current_context(silent=True)
    name = command or (ctx.info_name if ctx is not None else None) or "lsf"
    root = case if case is not None else fields.get("case")
    own = {k: v for k, v in fields.items() if k not in ("schema", "command", "case", "stages")}
    return {"schema": RESULT_SCHEMA, "command": name,
            "case": str(root.root if isinstance(root, Case) else root) if root is not None else None,
            "stages": [stage_json(s) for s in (stages if stages is not None else fields.get("stages") or [])],
            **own}


def emit(result: dict[str, Any], human: Callable[[dict[str, Any]], str], *, case: Any = None,
         stages: list[Any] | None = None, always: bool = False) -> dict[str, Any]:
    """--json: the result in the envelope on stdout; otherwise a short human summary (unless -q, or
    ``always``: verify's account is printed even with -q). ``human`` gets the enveloped result."""
    doc = envelope(result, case=case, stages=stages)
    o = opts()
    if o.get("as_json"):
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")
    elif always or not o.get("quiet"):
        click.echo(human(doc))
    return doc


def stage_lines(doc: dict[str, Any]) -> list[str]:
    return [f"{s['name']}: {'up to date' if s['skipped'] else 'done'}" for s in doc["stages"]]


# -- options against a case ---------------------------------------------------------------------
def settle(case: Case | None, group: str, *, force: bool = False) -> case_options.Settled:
    """The effective options of ``group`` for this command on ``case``: a flag, else the case's
    record, else ``LSF_*``/lsf.toml, else the default (:mod:`lsforensics.case_options`)."""
    ctx = click.get_current_context()
    defaults = case_options.defaults()
    given: dict[str, Any] = {}
    ambient: dict[str, tuple[Any, str]] = {}
    for name in case_options.GROUPS[group]:
        if name not in ctx.params:
            continue
        src = ctx.get_parameter_source(name)
        if src == ParameterSource.COMMANDLINE:
            given[name] = ctx.params[name]
        elif src == ParameterSource.ENVIRONMENT:
            ambient[name] = (ctx.params[name], "environment")
        elif src == ParameterSource.DEFAULT_MAP:
            ambient[name] = (ctx.params[name], "config file")
    return case_options.settle(case, group, given=given, ambient=ambient, defaults=defaults, force=force)


def given_names() -> frozenset[str]:
    """The options of this command typed on the command line."""
    ctx = click.get_current_context()
    return frozenset(n for n in ctx.params if ctx.get_parameter_source(n) == ParameterSource.COMMANDLINE)


def ambient_values() -> dict[str, tuple[Any, str]]:
    ctx = click.get_current_context()
    out = {}
    for n in ctx.params:
        src = ctx.get_parameter_source(n)
        if src in (ParameterSource.ENVIRONMENT, ParameterSource.DEFAULT_MAP):
            out[n] = (ctx.params[n], "environment" if src == ParameterSource.ENVIRONMENT else "config file")
    return out


def rules_folders() -> tuple[list[Path], list[Path]]:
    """``(explicit, ambient)`` rules folders of this command: typed --rules, or LSF_RULES/lsf.toml."""
    ctx = click.get_current_context()
    dirs = list(ctx.params.get("rules_dirs") or ())
    if ctx.get_parameter_source("rules_dirs") == ParameterSource.COMMANDLINE:
        return dirs, []
    return [], dirs


def rules_plan(case: Case | None, *, force: bool = False) -> Any:
    """The rules this command uses on ``case`` (:func:`lsforensics.case_rules.plan_rules`)."""
    from ..case_rules import plan_rules

    explicit, ambient = rules_folders()
    return plan_rules(case, explicit, ambient_dirs=ambient, force=force)


def require_case(case_dir: Path) -> Case:
    from ..errors import InputError

    case = Case(case_dir)
    if not case.exists():
        raise InputError(f"{case_dir} is not a case folder (no case.json): run `lsf extract VIDEO -C {case_dir}` first")
    return case


def seal_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--sign-key``: a command that changes a sealed case reseals it (a signed one needs the key)."""
    return click.option("--sign-key", type=click.Path(path_type=Path),
                        help="Signing key for the reseal when this run changes a sealed, signed case.")(fn)


# -- settings: LSF_* variables and lsf.toml -----------------------------------------------------
def wire_settings(cmd: click.Command, name: str | None = None) -> None:
    """Give each option of ``cmd`` tied to a setting its ``LSF_*`` variable (shown in --help); the
    group calls it as it loads each command."""
    from .. import config

    for p in cmd.params:
        setting = PARAM_SETTINGS.get(p.name or "")
        if isinstance(p, click.Option) and setting and ((name or cmd.name), p.name) not in NOT_FROM_SETTINGS:
            p.envvar = config.BY_NAME[setting].env
            p.show_envvar = True


def default_map(group: click.Group) -> dict[str, Any]:
    """click defaults from the config files (only what a file sets: the environment is click's)."""
    import os

    from .. import config

    values = config.effective()
    for v in values.values():  # settings without an option (font, cache) reach the library by env
        if v.source not in ("default",) and not v.source.startswith("environment") and \
                v.setting.name not in PARAM_SETTINGS.values():
            os.environ.setdefault(v.setting.env, str(v.value))
    from_file = {PARAM: values[s].value for PARAM, s in PARAM_SETTINGS.items()
                 if values[s].source not in ("default",) and not values[s].source.startswith("environment")}
    out: dict[str, Any] = {k: v for k, v in from_file.items() if any(p.name == k for p in group.params)}
    # Commands are loaded when run (lsforensics._cli.main): each gets every file value; click uses
    # only those naming one of its options.
    for name in group.list_commands(click.Context(group)):
        sub = {k: v for k, v in from_file.items() if (name, k) not in NOT_FROM_SETTINGS}
        if sub:
            out[name] = sub
    return out
