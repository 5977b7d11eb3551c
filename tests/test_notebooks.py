"""The notebooks in notebooks/ run top to bottom in a Jupyter kernel, cleanly, as stored.

Each notebook is executed by nbclient (as Jupyter would), and fails the test on an error or a
warning in any output (a ``stderr`` stream: warnings, log lines, tqdm's "IProgress not found").
A notebook is stored with its outputs; the lines its verdict cell prints (who wins the backtest,
which the notebook's text comments on) must be those the execution prints now.
"""

from __future__ import annotations

import functools
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
QUICKSTART = Path(__file__).parent.parent / "notebooks" / "quickstart.ipynb"
VERDICT = "significant"  # the verdict lines contain this word

# one worker executes each notebook once (``_execute`` caches per test process), for all these
# tests: ungrouped, each test is its own unit under ``--dist loadgroup`` and both workers may
# execute the notebook
pytestmark = pytest.mark.xdist_group("notebooks")


def _streams(notebook, name: str) -> list[str]:
    return [
        output["text"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output["output_type"] == "stream" and output["name"] == name
    ]


def _verdicts(notebook) -> list[str]:
    text = "".join(_streams(notebook, "stdout"))
    return [line for line in text.splitlines() if VERDICT in line]


@functools.cache
def _execute(path: Path) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    """The notebook as stored and as executed now (once per test process)."""
    stored = nbformat.read(path, as_version=4)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": path.parent}}
    )
    client.execute()  # raises CellExecutionError on the first cell that fails
    return stored, notebook


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.name)
def executed(request) -> tuple[Path, nbformat.NotebookNode, nbformat.NotebookNode]:
    return (request.param, *_execute(request.param))


@pytest.mark.slow
def test_notebook_runs_without_errors_or_warnings(executed):
    _, _, notebook = executed
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output["output_type"] == "error"
    ]
    assert not errors
    assert _streams(notebook, "stderr") == []
    everything = str([cell.get("outputs", []) for cell in notebook.cells])
    assert "Warning" not in everything and "IProgress" not in everything


@pytest.mark.slow
def test_notebook_is_stored_with_the_outputs_it_produces(executed):
    path, stored, notebook = executed
    code = [cell for cell in stored.cells if cell.cell_type == "code"]
    assert all(cell.outputs for cell in code), f"{path.name}: run it and store its outputs"
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name}: the stored notebook has no figure"
    assert _verdicts(stored) == _verdicts(notebook)


@pytest.mark.slow
def test_quickstart_scores_every_customer_and_comments_on_who_wins():
    stored, notebook = _execute(QUICKSTART)
    assert "{'input': 2357, 'scored': 2357, 'rejected': 0" in "".join(_streams(notebook, "stdout"))
    verdicts = _verdicts(notebook)
    assert len(verdicts) == 2
    text = "".join(cell.source for cell in stored.cells if cell.cell_type == "markdown")
    for line in verdicts:
        if "baseline" in line and "better than winback" in line:
            assert "a baseline wins" in text
        if "no significant" in line:
            assert "no baseline wins" in text


def test_there_is_a_notebook():
    assert QUICKSTART in NOTEBOOKS
