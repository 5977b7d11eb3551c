"""Tests of the report's KPI plots, PNG saving, and that plotting leaves no pyplot state."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from winback.evaluation import plot_calibration, plot_feature_importance, plot_gains, plot_roc
from winback.exceptions import ConfigError
from winback.io import LEDGER
from winback.plotting import save_figure
from winback.report import (
    monthly_activity,
    plot_churn_histogram,
    plot_monthly_activity,
    plot_risk_tiers,
    plot_value_at_risk,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def classified() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Labels and two scores for the saving tests (the plots' own tests are in evaluation/)."""
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.3).astype(int)
    return y, {"model": np.clip(0.3 * y + rng.random(300) * 0.7, 0, 1), "other": rng.random(300)}


# ------------------------------------------------------------------------------- KPI plots
def test_plot_risk_tiers_counts_customers_riskiest_first(scored: pd.DataFrame) -> None:
    ax = plot_risk_tiers(scored.assign(risk_tier=["high", "mid", "low", "low"]))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["high", "mid", "low"]
    assert [bar.get_height() for bar in ax.patches] == [1, 1, 2]


def test_plot_value_at_risk_by_segment(scored: pd.DataFrame) -> None:
    ax = plot_value_at_risk(scored, by="segment")
    # Largest on top: champions 400 + 50, loyal 75, (missing) 10/9 (see value_at_risk).
    assert [t.get_text() for t in ax.get_yticklabels()] == ["(missing)", "loyal", "champions"]
    np.testing.assert_allclose([bar.get_width() for bar in ax.patches], [10 / 9, 75.0, 450.0])


def test_plot_churn_histogram_counts(scored: pd.DataFrame) -> None:
    ax = plot_churn_histogram(scored, bins=2)  # [0, 0.5): 0.2, 0.1 | [0.5, 1]: 0.8, 0.6
    assert [bar.get_height() for bar in ax.patches] == [2, 2]


def test_plot_monthly_activity(orders: pd.DataFrame) -> None:
    monthly = monthly_activity(orders, cutoff="2024-03-31")
    ax = plot_monthly_activity(monthly)
    assert ax.lines[0].get_label() == "active customers"
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [1, 2, 4])
    revenue_ax = next(other for other in ax.figure.axes if other is not ax)
    np.testing.assert_allclose([bar.get_height() for bar in revenue_ax.patches], [10, 90, 190])


# ------------------------------------------------------------------------------- saving
def test_save_figure_writes_a_png_from_axes_or_figure(tmp_path: Path, classified) -> None:
    y, scores = classified
    ax = plot_roc(y, scores)
    from_ax = save_figure(ax, tmp_path / "sub" / "roc.png")
    from_fig = save_figure(ax.figure, tmp_path / "roc_fig.png")
    assert from_ax == tmp_path / "sub" / "roc.png"
    assert from_ax.read_bytes().startswith(PNG_SIGNATURE)
    assert from_ax.stat().st_size > 5_000
    assert from_fig.read_bytes() == from_ax.read_bytes()  # same figure, deterministic bytes
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.png"))
    assert [p for p in written if LEDGER not in p] == ["roc_fig.png", "sub/roc.png"]


def test_save_figure_refuses_other_formats(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"expected a path ending in .png, got '.*roc.pdf'"):
        save_figure(Figure(), tmp_path / "roc.pdf")
    assert not list(tmp_path.iterdir())


def test_no_pyplot_figure_is_left_open(tmp_path: Path, classified, scored, orders) -> None:
    y, scores = classified
    before = plt.get_fignums()
    for ax in (
        plot_roc(y, scores),
        plot_calibration(y, {"model": scores["model"]}),
        plot_gains(y, scores),
        plot_feature_importance(pd.Series({"a": 1.0, "b": 2.0})),
        plot_risk_tiers(scored),
        plot_value_at_risk(scored),
        plot_churn_histogram(scored),
        plot_monthly_activity(monthly_activity(orders, cutoff="2024-03-31")),
    ):
        save_figure(ax, tmp_path / "plot.png")
    assert plt.get_fignums() == before


def test_import_and_plotting_leave_matplotlib_global_state_alone(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, matplotlib
        def settings():  # every rcParam but "backend", whose reading would pick a backend
            return {{k: matplotlib.rcParams[k] for k in matplotlib.rcParams if k != "backend"}}
        params = settings()
        import winback.evaluation as e, winback.plotting as p, winback.report
        ax = e.plot_roc([0, 1, 0, 1], {{"m": [0.1, 0.9, 0.4, 0.6]}})
        p.save_figure(ax, {str(tmp_path / "x.png")!r})
        assert "matplotlib.pyplot" not in sys.modules, "pyplot imported"
        assert settings() == params, "rcParams changed"
        print("ok")
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


def test_plots_drawn_in_threads_match_plots_drawn_serially(tmp_path: Path, classified) -> None:
    y, scores = classified

    def draw(i: int) -> bytes:
        return save_figure(plot_roc(y, scores), tmp_path / f"roc_{i}.png").read_bytes()

    serial = draw(-1)
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(draw, range(8))) == [serial] * 8
