"""``lsf analyze`` and ``lsf batch``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..batch.runner import BatchOptions, run_batch
from ..extract import FrameParams
from ..findings import timecode
from ..pipeline import AnalyzeOptions, fail_on_hit
from ..pipeline import analyze as run_analyze
from ..report.display import display_text
from .common import ambient_values, common_options, emit, given_names, opts, progress, rules_folders
from .common import argv as cli_argv


def _human(r: dict[str, Any]) -> str:
    s = r["summary"]
    lines = [f"case: {r['case']}"]
    ran = [st["name"] for st in r["stages"] if not st["skipped"]]
    lines.append(f"stages run: {', '.join(ran) if ran else 'none (all up to date)'}")
    sev = s.get("by_severity", {})
    lines.append(f"findings: {s['findings']} (high {sev.get('high', 0)}, medium {sev.get('medium', 0)}, "
                 f"low {sev.get('low', 0)})")
    for kind, n in s.get("by_kind", {}).items():
        lines.append(f"  {kind:<18} {n}")
    if s.get("brands"):
        lines.append(f"brands implied: {', '.join(s['brands'])}")
    if s.get("strongest"):
        lines.append("strongest findings:")
        for f in s["strongest"]:
            what = " ".join(str(x) for x in (f.get("brand"), f.get("term")) if x)
            quote = display_text((f.get("quote") or "").replace("\n", " ")[:60])
            lines.append(f"  {timecode(f.get('start'))}  {f['severity']:<6} {f['kind']:<17} {what}  {quote}")
    rep = r.get("report") or {}
    outs = [o["path"] for o in (rep.get("report") or {}).get("outputs", [])]
    if outs:
        lines.append("report: " + ", ".join(str(Path(r["case"]) / o) for o in outs))
    seal = rep.get("seal") or {}
    anchors = (" --pubkey SIGNER.pub" if seal.get("signer") else "") + (" --tsa-ca TSA-ROOT.pem" if seal.get("timestamp") else "")
    lines.append(f"verify: lsf verify {r['case']}{anchors}")
    return "\n".join(lines)


def _analyze_options(f):  # noqa: ANN001, ANN202 - shared by analyze and batch
    f = click.option("--page", "pages", multiple=True, type=click.Path(path_type=Path),
                     help="Product page (YAML/JSON/saved HTML); repeatable.")(f)
    f = click.option("--chat", "chats", multiple=True, type=click.Path(path_type=Path),
                     help="Live-chat log (Bilibili XML, YouTube replay JSON, JSONL/CSV); repeatable.")(f)
    f = click.option("--rules", "rules_dirs", multiple=True, type=click.Path(path_type=Path),
                     help="Extra rules folder (adds to/overrides the shipped rules); repeatable. Archived in "
                          "the case: on an existing case it replaces the archived rules (recorded).")(f)
    f = click.option("--model", type=click.Path(path_type=Path),
                     help="Speech model folder (CTranslate2, openai .pt or Hugging Face) instead of the shipped one.")(f)
    f = click.option("--language", type=click.Choice(["zh", "en", "auto"]), default="zh", show_default=True,
                     help="Spoken language.")(f)
    f = click.option("--backend", help="ASR backend (default: faster-whisper).")(f)
    return f


@click.command()
@click.argument("video", type=click.Path(path_type=Path, readable=False))
@click.option("-C", "--case", "case_dir", type=click.Path(path_type=Path),
              help="Case folder [default: ./cases/<video stem>-<first 8 hex of sha256>/].")
@_analyze_options
@click.option("--interval", type=float, default=2.0, show_default=True, help="Seconds between sampled frames.")
@click.option("--sign-key", type=click.Path(path_type=Path), help="Ed25519 private key: sign the manifest.")
@click.option("--tsa", metavar="URL", help="RFC 3161 timestamp authority for the manifest.")
@click.option("--tsa-ca", type=click.Path(path_type=Path), help="PEM root certificate of the TSA.")
@click.option("--format", "formats", default="html,pdf,json", show_default=True, help="Report formats.")
@click.option("--fail-on", type=click.Choice(["high", "medium", "low"]),
              help="Exit 1 when a finding of this severity or higher exists (for scripts and CI).")
@click.option("--stream", "stream_info", multiple=True, metavar="KEY=VALUE",
              help="A fact about the stream, kept in case.json and shown in the report: platform, room, "
                   "streamer, captured_at (ISO 8601) or url; repeatable.")
@click.option("--threads", type=click.IntRange(0, 1024), default=0, show_default=True,
              help="Cores this analysis may use (0: all).")
@click.option("--force", is_flag=True, help="Accept options or stream facts that differ from the ones an "
              "existing case records (the change is recorded and the case resealed).")
@common_options
def analyze(video: Path, case_dir: Path | None, pages: tuple[Path, ...], chats: tuple[Path, ...],
            rules_dirs: tuple[Path, ...], model: Path | None, language: str, backend: str | None,
            interval: float, sign_key: Path | None, tsa: str | None, tsa_ca: Path | None, formats: str,
            fail_on: str | None, stream_info: tuple[str, ...], threads: int, force: bool) -> None:
    """Run every stage on VIDEO: extract, transcribe, OCR, detect, claims, report.

    Resumable: rerun the same command after an interruption and it continues from the first
    unfinished stage; a finished case reruns as a no-op. Ends with a short summary and the
    report's location. VIDEO may also be a case recorded by `lsf record`: its
    capture/recording.ts is analysed in place, with the chat it recorded.

    \b
    Example:
      lsf analyze stream.mp4
      lsf analyze stream.mp4 -C cases/0612 --page product.html --chat danmaku.xml --sign-key lab.key
      lsf analyze cases/room12 --sign-key lab.key   # recorded by lsf record with that key
    """
    stream = parse_stream(stream_info)
    explicit_rules, ambient_rules = rules_folders()
    given = given_names() | (set(stream) if stream_info else set())
    aopts = AnalyzeOptions(pages=list(pages), chats=list(chats), rules_dirs=explicit_rules, model=model,
                           language=language, backend=backend, frames=FrameParams(interval=interval),
                           sign_key=sign_key, tsa=tsa, tsa_ca=tsa_ca, formats=formats, fail_on=fail_on,
                           threads=threads, stream=stream, force=force, given=frozenset(given),
                           ambient=ambient_values(), ambient_rules=ambient_rules)
    with progress() as prog:
        result = run_analyze(video, case_dir, aopts, operator=opts().get("operator"), progress=prog,
                             argv=cli_argv())
    out = result.to_json()
    emit(out, _human, stages=result.stages)
    if fail_on_hit(out["summary"], fail_on):
        click.get_current_context().exit(1)


def parse_stream(items: tuple[str, ...]) -> dict[str, str]:
    from ..case_options import check_stream
    from ..errors import InputError

    out: dict[str, str] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq:
            raise InputError(f"--stream {item!r}: expected KEY=VALUE (platform, room, streamer, captured_at, url)")
        out[key.strip()] = value.strip()
    check_stream(out)
    return out


def _batch_human(r: dict[str, Any]) -> str:
    c = r["counts"]
    lines = [f"batch: {r['out']} in {r['wall_s']} s",
             "  " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))]
    for f in r["failed"]:
        lines.append(f"  failed: {f['path']}: {f['error']}")
    net = r["network"]
    lines.append(f"network: {net['nodes']} streams, {net['edges']} links, {len(net['clusters'])} clusters "
                 f"({r['out']}/network.graphml, network.png)")
    for i, cl in enumerate(net["clusters"], 1):
        lines.append(f"  C{i}: {', '.join(cl)}")
    lines.append(f"summary: {r['summary'][0]}")
    ft = r.get("findings_table") or {}
    if ft:
        lines.append(f"findings table: {ft['files'][1]} ({ft['rows']} findings, one per row)")
    if r.get("overview"):
        lines.append(f"overview: {r['overview']}")
    return "\n".join(lines)


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), required=True, help="Output folder.")
@click.option("--workers", type=int, default=1, show_default=True, help="Cases processed in parallel.")
@click.option("--resume", is_flag=True, help="Continue the batch in OUT; finished videos are not redone.")
@click.option("--retry-failed", is_flag=True, help="With --resume: try failed videos again.")
@click.option("--cluster", metavar="ADDRESS", help="Run cases on a Dask cluster, e.g. tcp://10.0.0.5:8786.")
@click.option("--job-timeout", type=float, help="Give up on one video after this many seconds.")
@click.option("--format", "formats", default="html,pdf,json", show_default=True, help="Report formats per case.")
@click.option("--sign-key", type=click.Path(path_type=Path), help="Ed25519 private key: sign every case's manifest.")
@click.option("--tsa", metavar="URL", help="RFC 3161 timestamp authority for every case's manifest.")
@click.option("--tsa-ca", type=click.Path(path_type=Path), help="PEM root certificate of the TSA.")
@_analyze_options
@common_options
def batch(source: Path, out: Path, workers: int, resume: bool, retry_failed: bool, cluster: str | None,
          job_timeout: float | None, formats: str, sign_key: Path | None, tsa: str | None, tsa_ca: Path | None,
          pages: tuple[Path, ...], chats: tuple[Path, ...], rules_dirs: tuple[Path, ...], model: Path | None,
          language: str, backend: str | None) -> None:
    """Analyze every video under SOURCE (a folder, a text file listing paths, or a manifest) into OUT.

    A manifest (MANIFEST.csv with a header row, or MANIFEST.jsonl) gives one stream per row:
    video, page, chat, platform, room, streamer, captured_at (ISO 8601) and url; each row's page
    and chat go into its own case, its facts into that case's case.json, report and the batch
    summary. Videos are found by probing, not by extension; identical rows (same video bytes,
    pages, chats and facts) are analyzed once; a corrupt file is recorded and the batch goes on.
    OUT gets cases/, index.sqlite, summary.csv/.parquet, findings.csv/.parquet (one row per
    finding, the same columns in every batch), index.html (every case's report, sortable),
    network.graphml and network.png.

    \b
    Example:
      lsf batch /archive/2026-06 -o out/june --workers 2
      lsf batch streams.csv -o out/june --sign-key lab.key --tsa http://tsa.example/tsr
      lsf batch /archive/2026-06 -o out/june --resume
      lsf batch list.txt -o out/x --cluster tcp://10.0.0.5:8786
    """
    from ..report.stage import check_report_options

    check_report_options(formats, sign_key, tsa, tsa_ca)  # a bad key or TSA fails before any case
    # What was set (typed, or from LSF_*/lsf.toml: a Dask worker has neither) is passed on; a default
    # is not, so each case's `lsf analyze` falls back to what an existing case records.
    typed = given_names() | set(ambient_values())
    passthrough: list[str] = []
    for name, flag in (("language", "--language"), ("formats", "--format"), ("backend", "--backend"),
                       ("tsa", "--tsa")):
        value = {"language": language, "formats": formats, "backend": backend, "tsa": tsa}[name]
        if name in typed and value:
            passthrough += [flag, str(value)]
    # Rules folders only when typed: from LSF_RULES/lsf.toml they apply to new cases only, which each
    # case's own analyze decides (it reads the same settings).
    explicit_rules = rules_dirs if "rules_dirs" in given_names() else ()
    for flag, vals in (("--page", pages), ("--chat", chats), ("--rules", explicit_rules)):
        for v in vals:
            passthrough += [flag, str(Path(v).absolute())]
    for name, flag, val in (("model", "--model", model), ("sign_key", "--sign-key", sign_key),
                            ("tsa_ca", "--tsa-ca", tsa_ca)):
        if val and name in typed:
            passthrough += [flag, str(Path(val).absolute())]
    bopts = BatchOptions(workers=workers, resume=resume, retry_failed=retry_failed, cluster=cluster,
                         analyze_args=passthrough, job_timeout=job_timeout)
    with progress() as prog:
        result = run_batch(source, out, bopts, prog)
    emit(result.to_json(), _batch_human)
