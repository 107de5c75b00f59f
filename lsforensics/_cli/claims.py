"""``lsf claims``: the product page(s) into the case, then the detect stage (with the claims detector)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..case_run import SealOptions, Step, run_on_case
from ..findings import FindingsDoc
from .common import argv as cli_argv
from .common import common_options, emit, opts, progress, require_case, rules_plan, seal_options


def _human(r: dict[str, Any]) -> str:
    lines = [f"case: {r['case']}"]
    for p in r["pages"]:
        lines.append(f"  page {p['file']}: {len(p['attributes'])} attributes, brand={p['brand']!r}, "
                     f"price={p['price']} {p['currency'] or ''}".rstrip())
        lines += [f"    warning: {w}" for w in p["warnings"]]
    lines.append(f"  spec_mismatch: {r['spec_mismatch']}, price_anomaly: {r['price_anomaly']} "
                 f"(findings.json: {r['findings']} findings in all)")
    return "\n".join(lines)


@click.command()
@click.option("-C", "--case", "case_dir", required=True, type=click.Path(path_type=Path), help="Case folder.")
@click.option("--page", "pages", multiple=True, required=True, type=click.Path(path_type=Path),
              help="Product page: YAML/JSON ({title, brand, price, currency, attributes}) or a saved HTML page. Repeatable.")
@click.option("--rules", "rules_dirs", multiple=True, type=click.Path(path_type=Path),
              help="Extra rules folder (adds to/overrides the shipped rules): replaces the case's archived rules. "
                   "Repeatable.")
@click.option("--force", is_flag=True, help="Redo the stages even if up to date.")
@seal_options
@common_options
def claims(case_dir: Path, pages: tuple[Path, ...], rules_dirs: tuple[Path, ...], force: bool,
           sign_key: Path | None) -> None:
    """Compare what the stream says and shows with the product page(s), and check prices.

    Each page is copied into CASE/pages/ (hashed into the evidence) and parsed into
    CASE/pages.json; the detect stage then adds spec_mismatch and price_anomaly findings to
    findings.json.

    \b
    Example:
      lsf claims -C cases/0612 --page saved/item.html
      lsf claims -C cases/0612 --page item.yaml --page item2.html --json
    """
    from ..claims.stage import PagesStage
    from ..detect.stage import DetectStage  # noqa: PLC0415 - heavy imports only when used

    case = require_case(case_dir)
    plan = rules_plan(case, force=force)  # bad rules exit 2 before the pages are copied in
    steps = [Step(PagesStage(list(pages))), Step(DetectStage(rules=plan.rules))]
    with progress() as prog:
        run = run_on_case(case, steps, rules=plan, seal=SealOptions(sign_key), force=force, argv=cli_argv(),
                          operator=opts().get("operator"), progress=prog)
    doc = case.read_json(case.root / "pages.json")
    findings = FindingsDoc.load(case.findings_json).findings
    emit({
        "pages": doc["pages"],
        "findings": len(findings),
        "spec_mismatch": sum(1 for f in findings if f.kind == "spec_mismatch"),
        "price_anomaly": sum(1 for f in findings if f.kind == "price_anomaly"),
        "notes": run.notes, "resealed": run.report,
    }, _human, case=case, stages=run.stages)
