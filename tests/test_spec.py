"""docs/spec.md is the project's contract: it extends ../shared/SPEC.md (never renames or removes a
line of it), lists every command the CLI registers and names every finding kind lsf can emit.

Fast and media-free: it reads text, the CLI's command registry (no command module is imported)
and the source tree's syntax (ast), and builds the lexicon of the shipped rules.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest

from lsforensics._cli.main import cli
from lsforensics.rules import load_rules
from lsforensics.text.lexicon import build_lexicon

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "docs" / "spec.md"
BASE = ROOT.parent / "shared" / "SPEC.md"  # the base contract, provisioned beside the checkout
PACKAGE = ROOT / "lsforensics"

# Calls that build a finding (``Finding``) or a lexicon entry that becomes one (``Entry``) and do
# not name their kind as a literal. Each is listed with why its kinds are covered elsewhere; a new
# call of this sort fails the test until it is understood and listed here.
PASS_THROUGH = {
    ("detect/text.py", "e.kind"): "a lexicon entry's kind: enumerated from the shipped rules' lexicon",
    ("text/lexicon.py", "**"): "entries built from rule items (finding: or the kind's default): same lexicon",
    ("findings.py", "d['kind']"): "reads findings.json back (the one findings reader)",
    ("report/data.py", "v['kind']"): "re-reads a finding of findings.json for the report",
}


def spec_text() -> str:
    assert SPEC.is_file(), "docs/spec.md missing"
    return SPEC.read_text(encoding="utf-8")


def commands_block(text: str) -> str:
    m = re.search(r"^## Commands\n```\n(.*?)^```", text, re.S | re.M)
    assert m, "docs/spec.md has no ## Commands code block"
    return m.group(1)


def test_spec_extends_the_base_line_by_line() -> None:
    if not BASE.is_file():
        pytest.skip(f"{BASE} not provisioned here")
    base = [line.rstrip() for line in BASE.read_text(encoding="utf-8").splitlines() if line.strip()]
    ours = [line.rstrip() for line in spec_text().splitlines()]
    i = 0
    for n, line in enumerate(base, 1):
        try:
            i = ours.index(line, i) + 1
        except ValueError:
            in_spec = line in ours
            pytest.fail(f"base SPEC.md line {n} {'is out of order' if in_spec else 'is missing'} in "
                        f"docs/spec.md (extend, never rename or remove): {line!r}")
    print(f"\n{len(base)} non-empty base lines of {BASE} found in order among the {len(ours)} lines of docs/spec.md "
          f"({len([x for x in ours if x.strip()]) - len(base)} non-empty lines added)")


def test_commands_block_lists_every_registered_command() -> None:
    names = cli.list_commands(click.Context(cli))  # the lazy group's registry: nothing imported
    assert len(names) >= 10, names
    block = commands_block(spec_text())
    listed = set(re.findall(r"^lsf (\w+)\s", block, re.M))
    missing = [n for n in names if n not in listed]
    assert not missing, f"commands lsf registers but docs/spec.md's Commands block does not list: {missing}"
    unknown = sorted(listed - set(names))
    assert not unknown, f"docs/spec.md lists commands lsf does not register: {unknown}"
    print(f"\n{len(names)} registered commands, all in the Commands block: {', '.join(names)}")


def code_built_kinds() -> tuple[set[str], list[str]]:
    """Kinds written as literals in ``Finding(kind=…)`` / ``Entry(kind=…)`` calls of the package, and
    the calls that pass a kind through (each must be in PASS_THROUGH)."""
    kinds: set[str] = set()
    unexplained: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), rel)):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if name not in ("Finding", "Entry"):
                continue
            kw = {k.arg: k.value for k in node.keywords}
            value = kw.get("kind")
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                kinds.add(value.value)
                continue
            key = ast.unparse(value) if value is not None else ("**" if not node.args else "positional")
            if (rel, key) not in PASS_THROUGH:
                unexplained.append(f"{rel}:{node.lineno} kind={key}")
    return kinds, unexplained


def test_spec_names_every_finding_kind() -> None:
    code, unexplained = code_built_kinds()
    assert not unexplained, ("findings built with a kind the test cannot enumerate; name its kinds or add the "
                             f"call to PASS_THROUGH with why it is covered: {unexplained}")
    rules = {e.kind for e in build_lexicon(load_rules()).entries}
    assert {"brand_codeword", "counterfeit_slang", "masked_logo", "spec_mismatch"} <= code | rules
    text = spec_text()
    missing = sorted(k for k in code | rules if f"`{k}`" not in text)
    assert not missing, f"finding kinds lsf can emit that docs/spec.md does not name: {missing}"
    print(f"\nkinds from the shipped rules ({len(rules)}): {', '.join(sorted(rules))}\n"
          f"kinds built in code ({len(code)}): {', '.join(sorted(code))}\n"
          f"pass-through calls accepted: {len(PASS_THROUGH)}; all {len(code | rules)} kinds named in docs/spec.md")
