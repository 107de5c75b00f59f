"""``lsf report``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..report import make_report
from .common import argv as cli_argv
from .common import common_options, emit, opts, progress, require_case, settle


def _human(r: dict[str, Any]) -> str:
    rep, seal = r["report"], r["seal"]
    lines = [f"case: {r['case']}",
             f"report: {'up to date' if rep['skipped'] else 'written'}: "
             + ", ".join(o["path"] for o in rep["outputs"])]
    res = rep.get("result") or {}
    if "findings" in res:
        sev = res.get("by_severity") or {}
        lines.append(f"findings: {res['findings']} (high {sev.get('high', 0)}, medium {sev.get('medium', 0)}, "
                     f"low {sev.get('low', 0)})" + (f" of {res['all_findings']}, only {','.join(res['only'])}"
                                                     if res.get("only") else ""))
    if res.get("by_status"):
        by = res["by_status"]
        lines.append(f"review: {res.get('reviewed', 0)} reviewed (confirmed {by['confirmed']}, rejected {by['rejected']}, "
                     f"unsure {by['unsure']}, changed {by['changed']}, not reviewed {by['unreviewed']})")
    lines.append(f"manifest.json sha256 {seal['manifest_sha256']} ({seal['file_count']} files)"
                 + (" unchanged" if seal["skipped"] else ""))
    if seal.get("signer"):
        lines.append(f"signed: manifest.sig, key fingerprint {seal['signer']}")
    ts = seal.get("timestamp")
    if ts:
        lines.append(f"timestamp ({ts['status']}): {ts['message']}")
        if ts["status"] != "pending":
            lines.append("  note: the TSA time attests when manifest.json existed, not when the stream was recorded")
    anchors = (" --pubkey SIGNER.pub" if seal.get("signer") else "") + (" --tsa-ca TSA-ROOT.pem" if ts else "")
    lines.append(f"check it: lsf verify {r['case']}{anchors}"
                 + ("" if anchors else "   (unsigned: verify can only say it is intact but unanchored, exit 4)"))
    return "\n".join(lines)


@click.command()
@click.option("-C", "--case", "case_dir", type=click.Path(path_type=Path), required=True, help="Case folder.")
@click.option("--sign-key", type=click.Path(path_type=Path),
              help="Ed25519 private key (from `lsf keygen`): writes manifest.sig over manifest.json.")
@click.option("--tsa", metavar="URL", help="RFC 3161 timestamp authority; offline, manifest.tsq is kept for `lsf stamp`.")
@click.option("--tsa-ca", type=click.Path(path_type=Path),
              help="PEM root certificate of the TSA: the response must chain to it (a copy is kept in the case).")
@click.option("--format", "formats", default="html,pdf,json", show_default=True,
              help="Comma-separated report formats: html, pdf, json.")
@click.option("--only", metavar="STATUS[,STATUS]",
              help="List only findings with this review status: confirmed, rejected, unsure, changed, unreviewed "
                   "(e.g. --only confirmed for the exhibit report a lawyer attaches).")
@click.option("--matter", type=click.Path(path_type=Path),
              help="YAML with court, proceeding, matter, client, examiner, examiner_role, date, statement: shown on "
                   "the first page (copied into the case as matter.yaml).")
@click.option("--force", is_flag=True, help="Rewrite the report and reseal even if nothing changed; accept a "
              "--format or --tsa other than the case records.")
@common_options
def report(case_dir: Path, sign_key: Path | None, tsa: str | None, tsa_ca: Path | None, formats: str,
           only: str | None, matter: Path | None, force: bool) -> None:
    """Write the evidence report (report/report.html, .pdf, .json) and seal the case.

    Sealing appends a custody entry, then writes manifest.json and manifest.sha256 listing every
    file of the case; with --sign-key it signs manifest.json, with --tsa it gets an RFC 3161
    timestamp over it. Rerunning with unchanged findings does nothing. After `lsf review`, each
    finding shows its review status, reviewer and note; report/ also holds findings.csv and the
    subtitle tracks findings.srt/.vtt. Sealing a case that was sealed before keeps the earlier
    seal (and its report) under seals/N/, and `lsf verify` checks them all.

    \b
    Example:
      lsf keygen -o ~/keys/lab
      lsf report -C cases/0612 --sign-key ~/keys/lab.key --tsa http://tsa.example/tsr
      lsf report -C cases/0612 --format html
      lsf report -C cases/0612 --only confirmed --matter matter.yaml
    """
    case = require_case(case_dir)
    settled = settle(case, "report", force=force)  # the case's formats and TSA unless typed here
    with progress() as prog:
        result = make_report(case_dir, formats=settled.values["formats"], sign_key=sign_key,
                             tsa=settled.values["tsa"], tsa_ca=tsa_ca, argv=cli_argv(),
                             operator=opts().get("operator"), progress=prog, force=force, options=settled,
                             only=only, matter=matter)
    out = result.to_json()
    ts = out["seal"].get("timestamp")
    if ts and ts["status"] == "pending" and not opts().get("quiet"):
        click.echo(f"lsf: warning: {ts['message']}", err=True)
    emit(out, _human, stages=[result.stage])
