"""Every command's --json validates against the one JSON Schema shipped in the package (issue 16).

One scripted session runs every registered command on real inputs (a real clip, a local TSA, a
local live stream) with --json and keeps what each printed; the tests then check that no
registered command was left out (a new command must be added here, and so go through the
envelope) and that every output validates against lsforensics/schemas/lsf.result-1.schema.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import run_lsf

from lsforensics._cli.common import RESULT_SCHEMA, result_schema
from lsforensics._cli.main import all_commands

pytestmark = pytest.mark.slow
ENV = {"LSF_CONFIG": "none"}
PAGE = Path(__file__).resolve().parent / "data" / "claims" / "taobao_shorts.html"


def _json(proc, *, codes=(0,)) -> dict:
    assert proc.returncode in codes, proc.stderr[-2000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def session(realdata: Path, test_cache: Path, tmp_path_factory) -> dict[str, list[dict]]:
    from live_source import LiveFlv, make_source
    from test_evidence_helpers import LocalTsa

    tmp = tmp_path_factory.mktemp("envelope")
    video = realdata / "video_phone_room_dog_fire2.mp4"  # 2.4 s with sound
    case = tmp / "case"
    out: dict[str, list[dict]] = {}

    def run(name: str, *args, codes=(0,), timeout=900) -> dict:
        doc = _json(run_lsf(name, *args, "--json", env=ENV, timeout=timeout), codes=codes)
        out.setdefault(name, []).append(doc)
        return doc

    run("config")
    run("keygen", "-o", tmp / "lab")
    run("extract", video, "-C", case)
    run("transcribe", "-C", case)
    run("ocr", "-C", case)
    chat = tmp / "chat.jsonl"
    chat.write_text('{"t": 1.0, "user": "u", "text": "是正品吗"}\n', encoding="utf-8")
    run("detect", "-C", case, "--chat", chat)
    run("claims", "-C", case, "--page", PAGE)
    run("report", "-C", case, "--format", "json", "--sign-key", tmp / "lab.key")
    run("verify", case, "--pubkey", tmp / "lab.pub")
    run("verify", case, codes=(4,))  # intact but unanchored: still the envelope
    run("reproduce", case)
    listed = run("findings", case)
    lines = tmp / "ad.txt"
    lines.write_text("这款小香的包包，一比一复刻\n", encoding="utf-8")
    run("scan", lines)  # no case: the text detectors on a file (issue 13)
    run("scan", lines, "-o", tmp / "ad-findings.jsonl")
    assert listed["findings"], "the clip, its chat and page gave no finding to review"
    run("review", case, "--set", f"{listed['findings'][0]['id']}=confirmed", "--no-clips")
    run("analyze", video, "-C", case, "--sign-key", tmp / "lab.key")  # a rerun: every stage up to date
    tsa = LocalTsa(tmp / "tsa")
    url = tsa.start()
    try:
        run("stamp", case, "--tsa", url)
    finally:
        tsa.stop()
    listing = tmp / "list.txt"
    listing.write_text(f"{video}\n", encoding="utf-8")
    run("batch", listing, "-o", tmp / "batch", "--format", "json", timeout=1200)
    other = next(p for p in (tmp / "batch" / "cases").iterdir() if p.is_dir())
    run("compare", case, other, "--no-write")  # the same clip: the same voice/footage (issue 18's links)
    flv = LiveFlv(make_source(test_cache / "capture" / "live-src-640x360-gop1.ts"))
    try:
        run("record", flv.url, "-C", tmp / "rec", "--duration", "4", "--segment-time", "2", "--ntp", "none",
            timeout=300)
    finally:
        flv.stop()
    return out


def test_every_registered_command_is_run_with_json(session) -> None:
    missing = sorted(set(all_commands()) - set(session))
    assert not missing, (f"lsf {', '.join(missing)}: not covered by the --json envelope test; add a run to "
                         "tests/test_json_envelope.py (and print through lsforensics._cli.common.emit)")


def test_every_json_output_validates_against_the_shipped_schema(session) -> None:
    schema = result_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    checked = 0
    for name, docs in session.items():
        for doc in docs:
            errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
            assert not errors, f"lsf {name} --json: " + "; ".join(
                f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
            assert doc["schema"] == RESULT_SCHEMA and doc["command"] == name
            checked += 1
    print(f"{checked} --json outputs of {len(session)} commands validate against {RESULT_SCHEMA}")


def test_the_schema_rejects_what_it_should(session) -> None:
    validator = jsonschema.Draft202012Validator(result_schema())
    good = session["detect"][0]
    bad_stage = {**good, "stages": [{"stage": "detect", "skipped": True}]}  # the old shape
    assert list(validator.iter_errors(bad_stage))
    no_case = {k: v for k, v in good.items() if k != "case"}
    assert list(validator.iter_errors(no_case))
    verify = {**session["verify"][0], "status": "fine"}
    assert list(validator.iter_errors(verify))
