"""``lsf review``: confirm, reject or mark unsure each finding (browser page or scripted)."""

from __future__ import annotations

import signal
import sys
import webbrowser
from pathlib import Path
from typing import Any

import click

from ..case import Case, atomic_write_text, default_operator
from ..errors import InputError
from ..findings import FindingsDoc
from ..review import prepare_exhibits
from ..review.decisions import review_state
from ..review.session import (
    ReviewSession,
    apply_scripted,
    check_rows,
    export_csv,
    parse_set,
    read_decisions_csv,
    record_unclosed_sessions,
)
from .common import common_options, emit, opts, progress


def _human(r: dict[str, Any]) -> str:
    lines = [f"case: {r['case']}"]
    ex = r.get("exhibits")
    if ex:
        lines.append(f"exhibits: {ex['clips']} clips ({ex['method']}) in exhibits/"
                     + (" (up to date)" if ex.get("skipped") else ""))
    elif r.get("no_clips"):
        lines.append(f"exhibits: none: {r['no_clips']}")
    s = r.get("session")
    if s:
        lines.append(f"session {s['session']}: {s['recorded']} decision(s) recorded"
                     + (f", {s['unchanged']} unchanged" if s.get("unchanged") else "")
                     + (f"; custody entry {s['custody_seq']}" if s.get("custody_seq") else ""))
    st = r["review"]
    by = st["by_status"]
    lines.append(f"reviewed: {st['reviewed']} of {st['findings']} (confirmed {by['confirmed']}, rejected "
                 f"{by['rejected']}, unsure {by['unsure']}, changed since review {by['changed']}, "
                 f"not reviewed {by['unreviewed']})")
    if st.get("orphans"):
        lines.append(f"note: {len(st['orphans'])} decision(s) name findings that findings.json no longer has")
    if r.get("export"):
        lines.append(f"exported: {r['export']}")
    lines.append(f"next: lsf report -C {r['case']} --only confirmed")
    return "\n".join(lines)


def _serve(case: Case, doc: FindingsDoc, reviewer: str, argv: list[str], no_clips: str | None, open_browser: bool,
           port: int) -> dict[str, Any]:
    from ..review.web import ReviewPage, make_server

    session = ReviewSession(case, doc, reviewer=reviewer, via="browser", argv=argv)
    page = ReviewPage(case, doc, session, no_clips=no_clips)
    server = make_server(page, port=port)
    server.start()
    to = sys.stderr if opts().get("as_json") else sys.stdout
    print(f"review page: {server.url}", file=to, flush=True)
    print("  (this address and its token work only on this computer, for this session; "
          "press Ctrl-C or 'Finish review' on the page to end it)", file=to, flush=True)
    if open_browser:
        try:
            webbrowser.get()
            webbrowser.open(server.url)
        except webbrowser.Error:
            pass  # no browser here: the printed address is the way in
    def stop(*_: Any) -> None:
        raise KeyboardInterrupt  # `kill` ends the session like Ctrl-C: decisions kept, session recorded

    old = signal.signal(signal.SIGTERM, stop)
    try:
        while not server.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, old)
        server.stop()
        entry = session.close()
    return {"session": session.session, "recorded": sum(session.counts.values()),
            "by_decision": dict(session.counts), "custody_seq": entry["seq"] if entry else None}


@click.command()
@click.argument("case_dir", metavar="CASE", type=click.Path(path_type=Path))
@click.option("--reviewer", help="Name recorded with each decision (default: --operator / LSF_OPERATOR / user).")
@click.option("--set", "sets", multiple=True, metavar="ID=DECISION",
              help="Record a decision without the page: confirmed, rejected or unsure (repeatable).")
@click.option("--note", help="Note recorded with the --set decisions.")
@click.option("--import", "import_file", type=click.Path(path_type=Path),
              help="CSV with columns id, decision[, note][, reviewer] (e.g. a filled-in --export).")
@click.option("--export", "export_file", type=click.Path(path_type=Path),
              help="Write every finding with its review status as CSV ('-' for stdout).")
@click.option("--source", type=click.Path(path_type=Path),
              help="The source video, if it is no longer where source.json says (needed for exhibit clips).")
@click.option("--no-clips", is_flag=True, help="Do not cut exhibit clips.")
@click.option("--no-browser", is_flag=True, help="Print the page's address but do not open a browser.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0: a random free port).")
@common_options
def review(case_dir: Path, reviewer: str | None, sets: tuple[str, ...], note: str | None, import_file: Path | None,
           export_file: Path | None, source: Path | None, no_clips: bool, no_browser: bool, port: int) -> None:
    """Review the findings: confirm, reject or mark each one unsure, with a note.

    Opens a local page (127.0.0.1 only, a one-time token in its address) showing each finding with
    its frame, crop, a playable clip of the original video, the transcript around it and the rule
    and legal basis. Keys: j/k next/previous, c confirm, r reject, u unsure, n note. Decisions go to
    review.jsonl (hash-chained) as they are made; each session is recorded in custody.jsonl.
    Exhibit clips (exhibits/) are stream copies of the original around each finding.

    \b
    Example:
      lsf review cases/0612
      lsf review cases/0612 --set F3c09a1d2e4=confirmed --note "logo visible at 00:12:03"
      lsf review cases/0612 --export decisions.csv      # fill in 'decision', then:
      lsf review cases/0612 --import decisions.csv
    """
    case = Case(case_dir)
    if not case.exists():
        raise InputError(f"{case_dir} is not a case folder (no case.json): run `lsf analyze` or `lsf extract` first")
    if note is not None and not sets:
        raise InputError("--note goes with --set ID=DECISION")
    set_rows = parse_set(sets)  # options are checked before the case is touched
    imported = read_decisions_csv(import_file) if import_file else []
    if source is not None and not source.is_file():
        raise InputError(f"--source {source}: no such file")
    who = reviewer or opts().get("operator") or default_operator()
    argv = ["lsf", *sys.argv[1:]]
    result: dict[str, Any] = {"case": str(case.root)}
    with case.locked():
        doc = FindingsDoc.load(case.require(case.findings_json, "detect -C CASE"))
        rows = [{"id": i, "decision": d, "note": note or "", "reviewer": ""} for i, d in set_rows] + imported
        check_rows(doc, rows)  # a wrong id fails before clips are cut or anything is written
        recovered = record_unclosed_sessions(case, argv)
        if recovered:
            result["recovered_sessions"] = recovered
        scripted = bool(rows)
        reason = "--no-clips" if no_clips else None
        if (scripted or export_file is None) and not no_clips:
            # The exhibits a reviewed report lists, however the review is done.
            with progress() as prog:
                ex, reason = prepare_exhibits(case, source, progress=prog, argv=argv, operator=who)
            if ex is not None:
                result["exhibits"] = {**ex.result, "skipped": ex.skipped}
            else:
                click.echo(f"lsf: warning: no exhibit clips: {reason}", err=True)
        result["no_clips"] = reason
        if scripted:
            result["session"] = apply_scripted(case, doc, rows, reviewer=who, via="set" if set_rows else "import",
                                               argv=argv)
        elif export_file is None:
            result["session"] = _serve(case, doc, who, argv, reason, not no_browser and sys.stdout.isatty(), port)
        state = review_state(case, doc)
        if export_file is not None:
            text = export_csv(doc, state)
            if str(export_file) == "-":
                sys.stdout.write(text)
                return
            atomic_write_text(export_file, text)
            result["export"] = str(export_file)
        result["review"] = state.summary()
    emit(result, _human)
