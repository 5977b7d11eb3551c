"""The self-contained ``report.html``: a Jinja2 template with autoescaping, images as data URIs.

The page loads nothing: its styles are inline, its images are base64 PNG ``data:`` URIs, it has
no script, and its Content-Security-Policy forbids every other source. Every value from the data
(customer ids, reasons, segment and action names) is HTML-escaped by the template engine.
"""

from __future__ import annotations

import base64
import functools
import math
from typing import Any

import jinja2

__all__ = ["format_value", "png_data_uri", "render_html"]

TEMPLATE = "report.html.j2"
_FORMATS = {
    "count": "{:,.0f}",
    "rate": "{:.1%}",
    "money": "{:,.2f}",
    "number": "{:,.2f}",
    "metric": "{:.4f}",
    "signed": "{:+.4f}",
}


def format_value(value: Any, kind: str = "text") -> str:
    """``value`` as report text: ``kind`` is ``"count"``, ``"rate"`` (a percentage),
    ``"money"``, ``"number"``, ``"metric"`` (4 decimals), ``"signed"`` or ``"text"``;
    None and NaN read ``"n/a"``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if kind == "text" or isinstance(value, str):
        return str(value)
    return _FORMATS[kind].format(value)


def png_data_uri(png: bytes) -> str:
    """A PNG as a ``data:image/png;base64,...`` URI, for an ``<img src>`` inside the page."""
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError("png_data_uri expects the bytes of a PNG file.")
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("winback.report", "templates"),
        autoescape=True,  # every {{ value }} is HTML-escaped; the template never marks one safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fmt"] = format_value
    env.filters["png"] = png_data_uri
    return env


def render_html(context: dict[str, Any]) -> str:
    """Render ``report.html`` from the report's sections (see :func:`build_report`)."""
    return _environment().get_template(TEMPLATE).render(**context)
