"""Compare a claim with a page's spec of the same category -> a verdict with its reasons.

Verdicts: ``consistent``, ``mismatch`` (certain), ``uncertain`` (an ambiguous word such as 白金
or 皮革 fits only under one reading: reported at low confidence, never as certain) and
``not_comparable`` (the page is silent or less specific than the claim).
"""

from __future__ import annotations

from dataclasses import dataclass

from .extract import Claim, Spec
from .ontology import Ontology, Relation

CONSISTENT, MISMATCH, UNCERTAIN, NOT_COMPARABLE = "consistent", "mismatch", "uncertain", "not_comparable"


@dataclass
class Verdict:
    verdict: str
    reason: str
    spec: Spec | None = None
    severity: str = "high"


def compare(claim: Claim, specs: list[Spec], onto: Ontology) -> Verdict:
    """The verdict of one claim against all specs of its category on one page."""
    if not specs:
        return Verdict(NOT_COMPARABLE, "the page does not state this")
    if claim.category == "fibre":
        return _fibre(claim, specs, onto)
    if claim.category == "metal":
        return _metal(claim, specs, onto)
    if claim.category == "origin":
        return _origin(claim, specs, onto)
    return _plain(claim, specs, onto)


def _best(claim: Claim, spec: Spec, onto: Ontology) -> list[tuple[Relation, tuple]]:
    return [(onto.relation(claim.material, part[0]), part) for part in spec.parts]


def _fmt(spec: Spec) -> str:
    return f"{spec.key}: {spec.value}"


def _plain(claim: Claim, specs: list[Spec], onto: Ontology) -> Verdict:
    """Leather (and any category without amounts): the hierarchy decides."""
    worst: Verdict | None = None
    for spec in specs:
        rels = {r for r, _ in _best(claim, spec, onto)}
        if Relation.SAME in rels:
            return Verdict(CONSISTENT, "page names the claimed material", spec)
        if Relation.BROADER in rels:
            return Verdict(NOT_COMPARABLE, "page is less specific than the claim", spec)
        if Relation.AMBIGUOUS in rels:
            worst = Verdict(UNCERTAIN, f"'{claim.value}' and the page's '{_fmt(spec)}' agree only under one reading", spec, "low")
            continue
        if worst is None or worst.verdict != UNCERTAIN:
            worst = Verdict(MISMATCH, f"claimed {claim.name}, page says {_fmt(spec)}", spec)
    return worst or Verdict(NOT_COMPARABLE, "no comparable spec")


def _fibre(claim: Claim, specs: list[Spec], onto: Ontology) -> Verdict:
    tol = float(onto.setting("blend_tolerance_pct", 5))
    main_min = float(onto.setting("main_fibre_min_pct", 30))
    verdicts: list[Verdict] = []
    for spec in specs:
        rels = _best(claim, spec, onto)
        same = [p for r, p in rels if r is Relation.SAME]
        if not same:
            kinds = {r for r, _ in rels}
            if Relation.BROADER in kinds:
                verdicts.append(Verdict(NOT_COMPARABLE, "page is less specific than the claim", spec))
            elif Relation.AMBIGUOUS in kinds:
                verdicts.append(Verdict(UNCERTAIN, f"'{claim.value}' fits '{_fmt(spec)}' only under one reading", spec, "low"))
            else:
                verdicts.append(Verdict(MISMATCH, f"claimed {claim.value} ({claim.name}); page says {_fmt(spec)}", spec))
            continue
        share = sum(p[1] for p in same if p[1] is not None) if any(p[1] is not None for p in same) else None
        others = [p for r, p in rels if r is not Relation.SAME and (p[1] is None or p[1] > 0)]
        if claim.exact:
            if others or (share is not None and share < 100):
                verdicts.append(Verdict(MISMATCH, f"claimed pure {claim.name} (纯/100%); page says {_fmt(spec)}", spec, "medium"))
            else:
                verdicts.append(Verdict(CONSISTENT, "pure on both sides", spec))
        elif claim.pct is not None and share is not None:
            if abs(claim.pct - share) > tol:
                verdicts.append(Verdict(MISMATCH, f"claimed {claim.pct:g}% {claim.name}; page says {share:g}% "
                                        f"(tolerance ±{tol:g})", spec, "medium"))
            else:
                verdicts.append(Verdict(CONSISTENT, f"within ±{tol:g} points", spec))
        elif share is not None and others:
            largest = max((p[1] or 0) for _, p in rels)
            if share < main_min and share < largest:
                verdicts.append(Verdict(MISMATCH, f"claimed a {claim.name} fabric; page says only {share:g}% "
                                        f"({_fmt(spec)})", spec, "medium"))
            else:
                verdicts.append(Verdict(CONSISTENT, "a main fibre on the page", spec))
        else:
            verdicts.append(Verdict(CONSISTENT, "page names the claimed fibre", spec))
    return _pick(verdicts)


def _pick(verdicts: list[Verdict]) -> Verdict:
    """Several attribute rows on one page (材质 and 面料成分): any agreement wins, then
    'less specific', then the certain contradiction, then the uncertain one."""
    for v in (CONSISTENT, NOT_COMPARABLE, MISMATCH, UNCERTAIN):
        for x in verdicts:
            if x.verdict == v:
                return x
    return Verdict(NOT_COMPARABLE, "no comparable spec")


def _metal(claim: Claim, specs: list[Spec], onto: Ontology) -> Verdict:
    cm = onto.materials[claim.material]
    verdicts: list[Verdict] = []
    for spec in specs:
        solid = []  # (metal, fineness, text) of solid precious parts
        plated = base = False
        for mid, _pct, fineness, text in spec.parts:
            pm = onto.materials[mid]
            if pm.plated:
                plated = True
            elif pm.metal == "base":
                base = True
            elif pm.metal == "ambiguous":
                solid.append(("ambiguous", fineness, text))
            else:
                solid.append((pm.metal, fineness, text))
        if cm.metal == "ambiguous":  # 白金: platinum, or colloquially white K gold
            readings = {onto.materials[r].metal for r in cm.may_be}
            if any(m == "platinum" for m, _, _ in solid) or (solid and all(m == "ambiguous" for m, _, _ in solid)):
                verdicts.append(Verdict(CONSISTENT, "page states platinum (or uses the same word)", spec))
            elif any(m in readings for m, _, _ in solid):
                verdicts.append(Verdict(UNCERTAIN, f"'白金' may mean platinum or white K gold; page says {_fmt(spec)}",
                                        spec, "low"))
            else:
                verdicts.append(Verdict(MISMATCH, f"claimed {claim.value} (platinum or white gold); page says {_fmt(spec)}", spec))
            continue
        same = [(m, f) for m, f, _ in solid if m == cm.metal]
        if not same:
            what = "plated" if plated else ("base metal" if base else "another metal")
            if solid and all(m == "ambiguous" for m, _, _ in solid):
                verdicts.append(Verdict(UNCERTAIN, f"page word is ambiguous: {_fmt(spec)}", spec, "low"))
            else:
                verdicts.append(Verdict(MISMATCH, f"claimed solid {claim.value}; page says {_fmt(spec)} ({what})", spec))
            continue
        page_f = max((f for _, f in same if f is not None), default=None)
        if claim.fineness and page_f and page_f < claim.fineness:
            verdicts.append(Verdict(MISMATCH, f"claimed {claim.value} (‰{claim.fineness}); page says {_fmt(spec)} "
                                    f"(‰{page_f})", spec))
        elif claim.fineness and page_f is None:
            verdicts.append(Verdict(NOT_COMPARABLE, "page does not state the fineness", spec))
        else:
            verdicts.append(Verdict(CONSISTENT, "page states the claimed metal", spec))
    return _pick(verdicts)


def _origin(claim: Claim, specs: list[Spec], onto: Ontology) -> Verdict:
    domestic = str(onto.setting("domestic_country", "cn"))
    claimed = onto.materials[claim.material].country
    verdicts = []
    for spec in specs:
        countries = {onto.materials[p[0]].country for p in spec.parts}
        if claimed == "imported":
            ok = bool(countries - {domestic})
        else:
            ok = claimed in countries
        if ok:
            verdicts.append(Verdict(CONSISTENT, "same origin", spec))
        else:
            said = "imported" if claimed == "imported" else claim.name
            verdicts.append(Verdict(MISMATCH, f"claimed {said} ({claim.value}); page says {_fmt(spec)}", spec))
    return _pick(verdicts)
