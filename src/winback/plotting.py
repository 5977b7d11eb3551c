"""Figure plumbing for every winback plot: new Agg-backed axes and atomic PNG saving.

Figures are plain :class:`matplotlib.figure.Figure` objects with their own Agg canvas, never
pyplot's global figure registry, so plotting is safe in threads and servers and leaves nothing open.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure, SubFigure

from winback.exceptions import ConfigError
from winback.io import write_atomic

__all__ = ["new_axes", "png_bytes", "save_figure"]


def new_axes(figsize: tuple[float, float] = (6.4, 4.8)) -> Axes:
    """One Axes on a new Agg-backed Figure that pyplot does not track."""
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig.add_subplot()


def save_figure(fig_or_ax: Figure | Axes, path: str | os.PathLike[str], *, dpi: int = 100) -> Path:
    """Write the figure (or the figure holding an Axes) to ``path`` as PNG, atomically.

    Parameters
    ----------
    fig_or_ax : Figure or Axes
        What to save; for an Axes, its whole figure is saved.
    path : path-like
        Destination ending in ``.png``; missing parent folders are created. The file is written to a
        temporary name beside it and renamed, so ``path`` is never left half-written.
    dpi : int, default 100
        Resolution.

    Returns
    -------
    Path
        ``path``.
    """
    if Path(path).suffix.lower() != ".png":
        raise ConfigError(
            f"save_figure writes PNG files: expected a path ending in .png, got {str(path)!r}."
        )
    fig = _figure(fig_or_ax, what="save_figure")
    return write_atomic(path, lambda tmp: _save_png(fig, tmp, dpi=dpi))


def png_bytes(fig_or_ax: Figure | Axes, *, dpi: int = 100) -> bytes:
    """Return the figure (or the figure holding an Axes) as PNG bytes, as :func:`save_figure`."""
    buffer = io.BytesIO()
    _save_png(_figure(fig_or_ax, what="png_bytes"), buffer, dpi=dpi)
    return buffer.getvalue()


def _figure(fig_or_ax: Figure | Axes, *, what: str) -> Figure:
    fig = fig_or_ax.figure if isinstance(fig_or_ax, Axes) else fig_or_ax
    while isinstance(fig, SubFigure):
        fig = fig.figure
    if not isinstance(fig, Figure):
        raise ConfigError(
            f"{what} expects a matplotlib Figure or Axes, got {type(fig_or_ax).__name__}."
        )
    return fig


def _save_png(fig: Figure, target: Any, *, dpi: int) -> None:
    # No "Software" metadata: the PNG bytes then depend on the figure only.
    fig.savefig(target, format="png", dpi=dpi, metadata={"Software": None})
