"""Progress bars: tqdm's text bar unless Jupyter's widgets are installed (then tqdm.auto)."""

from __future__ import annotations

import warnings

import tqdm.std

from winback import progress


def test_text_bar_without_ipywidgets_and_no_iprogress_warning(monkeypatch):
    monkeypatch.setattr(progress, "find_spec", lambda name: None)
    progress._tqdm_class.cache_clear()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            bar = progress.progress_bar(range(4), disable=True)
            assert type(bar) is tqdm.std.tqdm
            assert list(bar) == [0, 1, 2, 3]
    finally:
        progress._tqdm_class.cache_clear()


def test_auto_bar_with_ipywidgets(monkeypatch):
    import tqdm.auto

    monkeypatch.setattr(progress, "find_spec", lambda name: object())
    progress._tqdm_class.cache_clear()
    try:
        assert progress._tqdm_class() is tqdm.auto.tqdm
    finally:
        progress._tqdm_class.cache_clear()
