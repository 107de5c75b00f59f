"""Evidence report: ``report.html`` (self-contained), ``report.pdf`` (embedded CJK font), ``report.json``.

Built from ``findings.json`` and the rest of the case by :class:`~lsforensics.report.stage.ReportStage`;
:func:`~lsforensics.report.stage.make_report` then seals the case (manifest, signature, timestamp).
"""

from .stage import FORMATS, ReportResult, ReportStage, make_report, parse_formats

__all__ = ["FORMATS", "ReportResult", "ReportStage", "make_report", "parse_formats"]
