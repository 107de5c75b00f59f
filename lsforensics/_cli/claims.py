"""``lsf claims``: the product page(s) into the case, then the detect stage (with the claims detector)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..case import Case
from ..claims.stage import run_pages
from ..findings import FindingsDoc
from ..stage import run_stage
from .common import common_options, emit, opts, progress


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
              help="Extra rules folder (adds to/overrides the shipped rules). Repeatable.")
@click.option("--force", is_flag=True, help="Redo the stages even if up to date.")
@common_options
def claims(case_dir: Path, pages: tuple[Path, ...], rules_dirs: tuple[Path, ...], force: bool) -> None:
    """Compare what the stream says and shows with the product page(s), and check prices.

    Each page is copied into CASE/pages/ (hashed into the evidence) and parsed into
    CASE/pages.json; the detect stage then adds spec_mismatch and price_anomaly findings to
    findings.json.

    \b
    Example:
      lsf claims -C cases/0612 --page saved/item.html
      lsf claims -C cases/0612 --page item.yaml --page item2.html --json
    """
    from ..detect.stage import DetectStage  # noqa: PLC0415 - heavy imports only when used

    case = Case(case_dir)
    argv = ["lsf", *sys.argv[1:]]
    detect = DetectStage(list(rules_dirs))  # bad rules exit 2 before the pages are copied in
    with progress() as prog:
        pages_result = run_pages(case, list(pages), progress=prog, argv=argv, force=force,
                                 operator=opts().get("operator"))
        detect_result = run_stage(case, detect, progress=prog, argv=argv, force=force,
                                  operator=opts().get("operator"))
    doc = case.read_json(case.root / "pages.json")
    findings = FindingsDoc.load(case.findings_json).findings
    emit({
        "case": str(case.root),
        "pages": doc["pages"],
        "stages": [{"stage": r.name, "skipped": r.skipped, "result": r.result} for r in (pages_result, detect_result)],
        "findings": len(findings),
        "spec_mismatch": sum(1 for f in findings if f.kind == "spec_mismatch"),
        "price_anomaly": sum(1 for f in findings if f.kind == "price_anomaly"),
    }, _human)
