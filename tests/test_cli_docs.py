"""The CLI reference in docs/ is generated from --help and must not be stale; every command has help."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from lsforensics._cli.docs import DOC, render
from lsforensics._cli.main import all_commands, cli


def test_cli_reference_is_current() -> None:
    assert DOC.is_file(), "docs/cli.md missing: run `python -m lsforensics._cli.docs`"
    assert DOC.read_text(encoding="utf-8") == render(), "docs/cli.md is stale: run `python -m lsforensics._cli.docs`"


def test_every_command_has_help_with_example() -> None:
    runner = CliRunner()
    assert all_commands(), "no commands registered"
    for name, cmd in all_commands().items():
        assert cmd.help and len(cmd.help.strip()) > 40, f"lsf {name} has no real help text"
        assert "Example" in cmd.help, f"lsf {name} help shows no example"
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, result.output
        assert f"lsf {name}" in result.output
        for opt in ("--json", "--quiet", "--verbose"):
            assert opt in result.output, f"lsf {name} lacks {opt} (SPEC.md: every command)"
        for param in cmd.params:
            if param.param_type_name == "option" and not getattr(param, "hidden", False):
                assert param.help, f"lsf {name} option {param.name} has no help"


def test_docs_mention_every_command() -> None:
    text = Path(DOC).read_text(encoding="utf-8")
    for name in all_commands():
        assert f"## lsf {name}" in text
