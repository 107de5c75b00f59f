"""``report.html``: one self-contained file (inline CSS, SVG and images; no script, no URL).

Jinja2 with autoescape on, so transcript, OCR, chat and page text is shown as text whatever it
contains; a Content-Security-Policy that forbids scripts and any network load is a second wall
should a future template change forget to escape something.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, select_autoescape
from markupsafe import Markup, escape

from . import timeline
from .data import EXCERPT_REFS
from .display import display_text
from .images import data_uri, thumbnail
from .template_html import TEMPLATE

IMAGE_CAP = 80  # findings shown with an inline picture (strongest first); the rest name the frame


def highlight(text: str | None, needle: str | None) -> Markup:
    """Escape ``text`` and mark the first occurrence of ``needle`` (both untrusted)."""
    text = text or ""
    if needle and needle in text:
        a = text.index(needle)
        return Markup("{}<mark>{}</mark>{}").format(text[:a], needle, text[a + len(needle):])
    return Markup(escape(text))


def _visible(value: Any) -> Any:
    """Every ``{{ }}`` output: bidi controls, NUL and undecodable bytes shown as markers (display.py)."""
    if isinstance(value, Markup):
        return Markup(display_text(str(value)))  # markers hold no <, > or &: still safe markup
    return display_text(value) if isinstance(value, str) else value


def _env() -> Environment:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True), trim_blocks=True,
                      lstrip_blocks=True, finalize=_visible)
    env.filters["highlight"] = highlight
    return env


def render_html(data: dict[str, Any], root: str) -> str:
    # Pictures for the strongest findings first, then in display order, up to IMAGE_CAP.
    order = list(data["summary"]["top"]) + [f["id"] for g in data["groups"] for f in g["findings"]]
    images: dict[str, str] = {}
    for fid in order:
        if len(images) >= IMAGE_CAP:
            break
        f = data["findings_by_id"].get(fid)
        if f is None or fid in images or not f["image"]:
            continue
        jpeg = thumbnail(root, f["image"], tuple(f["bbox"]) if f["bbox"] else None)
        if jpeg:
            images[fid] = data_uri(jpeg)
    many = data["summary"]["total"] > 200
    svg = Markup(timeline.svg(data["groups"], data["duration"]))  # built from escaped parts
    return _env().from_string(TEMPLATE).render(d=data, images=images, many=many, timeline_svg=svg,
                                                   refs=EXCERPT_REFS)
