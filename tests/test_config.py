"""lsf.toml and LSF_* settings (issue 16): flag > environment > file > default, `lsf config` says
where each value came from, a bad file is one line (exit 2), and an existing case keeps its own
recorded options while a new case takes the configured ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_lsf
from test_evidence_helpers import build_case, closed_port_url


@pytest.fixture
def home(tmp_path, monkeypatch) -> dict[str, str]:
    """A working folder and an empty user config folder, so the machine's own files play no part."""
    work = tmp_path / "work"
    work.mkdir()
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "LSF_CONFIG": "", "LSF_LANGUAGE": "", "LSF_OPERATOR": "",
            "cwd": str(work)}


def lsf(home, *args, env=None):
    cwd = home["cwd"]
    return run_lsf(*args, cwd=cwd, env={**{k: v for k, v in home.items() if k != "cwd"}, **(env or {})})


def settings(proc) -> dict[str, dict]:
    assert proc.returncode == 0, proc.stderr
    return {s["name"]: s for s in json.loads(proc.stdout)["settings"]}


def test_precedence_flag_environment_file_default(home) -> None:
    work = Path(home["cwd"])
    (work / "my-rules").mkdir()
    (work / "lsf.toml").write_text('language = "en"\noperator = "File Person"\nrules = ["my-rules"]\nthreads = 3\n',
                                   encoding="utf-8")
    user = Path(home["XDG_CONFIG_HOME"]) / "lsforensics"
    user.mkdir(parents=True)
    (user / "lsf.toml").write_text('language = "auto"\ntsa = "http://tsa.example/tsr"\n', encoding="utf-8")
    s = settings(lsf(home, "config", "--json"))
    assert s["language"]["value"] == "en" and s["language"]["source"] == str(work / "lsf.toml")  # cwd file wins
    assert s["tsa"]["value"] == "http://tsa.example/tsr" and s["tsa"]["source"] == str(user / "lsf.toml")
    assert s["rules"]["value"] == [str(work / "my-rules")]  # relative to the file's folder
    assert s["threads"]["value"] == 3 and s["sign_key"]["source"] == "default"
    s = settings(lsf(home, "config", "--json", env={"LSF_LANGUAGE": "zh"}))
    assert s["language"]["value"] == "zh" and s["language"]["source"] == "environment LSF_LANGUAGE"
    s = settings(lsf(home, "--operator", "Flag Person", "config", "--json", env={"LSF_OPERATOR": "Env Person"}))
    assert s["operator"]["value"] == "Flag Person" and s["operator"]["source"] == "flag --operator"
    human = lsf(home, "config")
    assert "File Person" in human.stdout and str(work / "lsf.toml") in human.stdout
    print(human.stdout)


@pytest.mark.parametrize("text, message", [
    ('colour = "red"\n', "unknown setting 'colour'"),
    ('threads = "many"\n', "threads must be a whole number"),
    ('language = "fr"\n', "language must be one of zh, en, auto"),
    ('language = \n', "lsf.toml"),
])
def test_a_bad_config_file_is_one_line(home, text: str, message: str) -> None:
    (Path(home["cwd"]) / "lsf.toml").write_text(text, encoding="utf-8")
    proc = lsf(home, "config")
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], proc.stderr


def test_configured_tsa_applies_to_a_new_case_not_to_an_existing_one(home, test_cache, realdata, tmp_path) -> None:
    tsa = closed_port_url()
    (Path(home["cwd"]) / "lsf.toml").write_text(f'tsa = "{tsa}"\n', encoding="utf-8")
    old = build_case(tmp_path / "old", test_cache, realdata)
    first = run_lsf("report", "-C", old.root, "--format", "json", env={"LSF_CONFIG": "none"})
    assert first.returncode == 0, first.stderr  # sealed with no TSA: the case records tsa = none
    again = lsf(home, "report", "-C", old.root, "--format", "json", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["seal"]["skipped"], again.stderr
    assert not (old.root / "manifest.tsq").exists(), "the config's TSA changed an existing case"
    new = build_case(tmp_path / "new", test_cache, realdata)
    made = lsf(home, "report", "-C", new.root, "--format", "json", "--json")
    assert made.returncode == 0, made.stderr
    assert (new.root / "manifest.tsq").is_file()  # the TSA was asked (offline here: the query waits)
    options = json.loads((new.root / "case.json").read_text(encoding="utf-8"))["options"]["report"]
    assert options["tsa"] == tsa


def test_the_given_environment_alone_decides_which_file_is_read(tmp_path, monkeypatch) -> None:
    """``effective(environ=…)`` (the library's entry) reads LSF_CONFIG from the mapping it is given,
    not from the process: a caller's own settings are not mixed with the shell's."""
    from lsforensics import config

    mine = tmp_path / "mine.toml"
    mine.write_text('operator = "Library Caller"\n', encoding="utf-8")
    monkeypatch.setenv("LSF_CONFIG", str(tmp_path / "missing.toml"))  # the shell's: would be an error
    values = config.effective(cwd=tmp_path, environ={"LSF_CONFIG": str(mine)})
    assert values["operator"].value == "Library Caller" and values["operator"].source == str(mine)
    assert config.effective(cwd=tmp_path, environ={"LSF_CONFIG": "none"})["operator"].source == "default"
