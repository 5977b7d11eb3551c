"""Progress bars: tqdm's notebook widget where Jupyter can draw it, tqdm's text bar elsewhere.

``tqdm.auto`` warns ("IProgress not found") inside a Jupyter kernel without ipywidgets, even when
the bar is disabled; :func:`progress_bar` picks the text bar there instead, so nothing warns.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib.util import find_spec
from typing import Any, TypeVar

__all__ = ["progress_bar"]

T = TypeVar("T")


@cache
def _tqdm_class() -> type:
    if find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm


def progress_bar(iterable: Iterable[T], **options: Any) -> Iterable[T]:
    """Wrap ``iterable`` in a tqdm progress bar (``options`` as for ``tqdm``: desc, total...).

    >>> list(progress_bar(range(3), disable=True))
    [0, 1, 2]
    """
    return _tqdm_class()(iterable, **options)
