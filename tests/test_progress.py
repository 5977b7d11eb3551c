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


def test_every_progress_bar_goes_through_winback_progress():
    """tqdm imported anywhere else (tqdm.auto) warns in a Jupyter kernel without ipywidgets."""
    import ast
    from pathlib import Path

    src = Path(progress.__file__).parent
    importing = []
    for path in sorted(src.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(n == "tqdm" or n.startswith("tqdm.") for n in names):
                importing.append(path.relative_to(src).as_posix())
    assert sorted(set(importing)) == ["progress.py"]
