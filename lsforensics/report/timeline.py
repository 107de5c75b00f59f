"""The timeline picture: one row per finding kind, one mark per finding, over the stream's length.

One layout, two renderers: an inline SVG for the HTML report (vector, no external file) and a
reportlab Drawing for the PDF. Colours encode severity; a legend says so in both languages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from .data import timecode

COLORS = {"high": "#c62828", "medium": "#ef8f00", "low": "#5b7fa6"}
OTHER = "#777777"
ROW_H = 22
LEFT = 190
RIGHT = 20
TOP = 10
AXIS_H = 40


@dataclass
class Mark:
    x0: float
    x1: float
    row: int
    color: str
    fid: str
    title: str


@dataclass
class Layout:
    width: float
    height: float
    rows: list[str]  # labels, top to bottom
    marks: list[Mark]
    ticks: list[tuple[float, str]]
    plot_x0: float
    plot_x1: float


def _tick_step(duration: float) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200):
        if duration / step <= 10:
            return float(step)
    return 14400.0


def layout(groups: list[dict[str, Any]], duration: float, width: float = 900, left: float = LEFT) -> Layout:
    rows = [f"{g['label'][1]} ({g['count']})" for g in groups]
    x0, x1 = left, width - RIGHT
    scale = (x1 - x0) / max(duration, 1e-6)
    marks = []
    for r, g in enumerate(groups):
        for f in g["findings"]:
            if f["start"] is None:
                continue
            a = x0 + f["start"] * scale
            b = x0 + (f["end"] if f["end"] is not None else f["start"]) * scale
            marks.append(Mark(a, max(b, a + 2.5), r, COLORS.get(f["severity"], OTHER), f["id"],
                              f"{f['id']} {f['timecode']} {f['kind']} {f['severity']}"))
    # Draw low first and high last, so dense rows never hide a high-severity mark under a low one.
    rank = {COLORS["high"]: 2, COLORS["medium"]: 1}
    marks.sort(key=lambda m: rank.get(m.color, 0))
    step = _tick_step(duration)
    ticks = []
    t = 0.0
    while t <= duration + 1e-9:
        ticks.append((x0 + t * scale, timecode(t)[:8]))
        t += step
    height = TOP + max(len(rows), 1) * ROW_H + AXIS_H
    return Layout(width, height, rows, marks, ticks, x0, x1)


def svg(groups: list[dict[str, Any]], duration: float, width: float = 1000) -> str:
    lay = layout(groups, duration, width, left=300)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {lay.width:.0f} {lay.height:.0f}" '
           f'width="100%" role="img" aria-label="timeline of findings / 发现时间轴" class="timeline">']
    axis_y = TOP + len(lay.rows) * ROW_H
    for r, label in enumerate(lay.rows):
        y = TOP + r * ROW_H
        if r % 2 == 0:
            out.append(f'<rect x="{lay.plot_x0}" y="{y}" width="{lay.plot_x1 - lay.plot_x0}" height="{ROW_H}" fill="#f3f3f3"/>')
        out.append(f'<text x="{lay.plot_x0 - 6}" y="{y + ROW_H * 0.68:.1f}" text-anchor="end" font-size="12">{escape(label)}</text>')
    for m in lay.marks:
        y = TOP + m.row * ROW_H + 3
        # Internal anchors only (#F0007): the report never references an external URL.
        out.append(f'<a href="#{escape(m.fid)}"><rect x="{m.x0:.1f}" y="{y}" width="{m.x1 - m.x0:.1f}" '
                   f'height="{ROW_H - 6}" fill="{m.color}" fill-opacity="0.85"><title>{escape(m.title)}</title></rect></a>')
    out.append(f'<line x1="{lay.plot_x0}" y1="{axis_y}" x2="{lay.plot_x1}" y2="{axis_y}" stroke="#333"/>')
    for x, label in lay.ticks:
        out.append(f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 5}" stroke="#333"/>')
        out.append(f'<text x="{x:.1f}" y="{axis_y + 18}" text-anchor="middle" font-size="11">{escape(label)}</text>')
    lx = lay.plot_x0
    for sev, color in COLORS.items():
        out.append(f'<rect x="{lx}" y="{axis_y + 26}" width="10" height="10" fill="{color}"/>'
                   f'<text x="{lx + 14}" y="{axis_y + 35}" font-size="11">{sev}</text>')
        lx += 80
    out.append("</svg>")
    return "".join(out)


def flowable(groups: list[dict[str, Any]], duration: float, width: float, font: str) -> Any:
    """The same picture as a reportlab Flowable drawn with canvas primitives (PDF).

    Drawn directly on the canvas rather than through reportlab.graphics, whose renderer sets its
    default Helvetica font and so leaves a non-embedded font reference in the PDF.
    """
    from reportlab.lib import colors
    from reportlab.platypus import Flowable

    lay = layout(groups, duration, width)

    class Timeline(Flowable):
        def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
            return lay.width, lay.height

        def draw(self) -> None:
            c = self.canv
            h = lay.height
            axis_y = TOP + len(lay.rows) * ROW_H
            c.saveState()
            for r, label in enumerate(lay.rows):
                y = TOP + r * ROW_H
                if r % 2 == 0:
                    c.setFillColor(colors.HexColor("#f3f3f3"))
                    c.rect(lay.plot_x0, h - y - ROW_H, lay.plot_x1 - lay.plot_x0, ROW_H, stroke=0, fill=1)
                c.setFillColor(colors.black)
                c.setFont(font, 8)
                c.drawRightString(lay.plot_x0 - 6, h - y - ROW_H * 0.68, label)
            for m in lay.marks:
                y = TOP + m.row * ROW_H + 3
                c.setFillColor(colors.HexColor(m.color))
                c.rect(m.x0, h - y - (ROW_H - 6), m.x1 - m.x0, ROW_H - 6, stroke=0, fill=1)
            c.setFillColor(colors.black)
            c.setStrokeColor(colors.black)
            c.line(lay.plot_x0, h - axis_y, lay.plot_x1, h - axis_y)
            c.setFont(font, 7)
            for x, label in lay.ticks:
                c.line(x, h - axis_y, x, h - axis_y - 5)
                c.drawCentredString(x, h - axis_y - 16, label)
            lx = lay.plot_x0
            for sev, color in COLORS.items():
                c.setFillColor(colors.HexColor(color))
                c.rect(lx, h - axis_y - 36, 8, 8, stroke=0, fill=1)
                c.setFillColor(colors.black)
                c.drawString(lx + 12, h - axis_y - 35, sev)
                lx += 60
            c.restoreState()

    return Timeline()
