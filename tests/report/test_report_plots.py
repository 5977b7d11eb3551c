"""Tests of the report plots: drawn data, labels, PNG saving and no pyplot state."""

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
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_curve

from winback.evaluation import plot_calibration, plot_feature_importance, plot_gains, plot_roc
from winback.exceptions import ConfigError, DataError
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
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.3).astype(int)
    model = 1 / (1 + np.exp(-(2 * y - 1 + rng.normal(0, 1.5, 300))))
    return y, {"model": model, "recency": np.round(rng.random(300) + 0.3 * y, 1)}


def _legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_plot_roc_draws_sklearn_roc_curves(classified) -> None:
    y, scores = classified
    ax = plot_roc(y, scores)
    for line, (name, score) in zip(ax.lines, scores.items(), strict=False):
        fpr, tpr, _ = roc_curve(y, score)
        np.testing.assert_array_equal(line.get_xdata(), fpr)
        np.testing.assert_array_equal(line.get_ydata(), tpr)
        assert line.get_label().startswith(f"{name} (AUC = 0.")
    assert [line.get_label() for line in ax.lines][-1] == "chance"
    assert _legend_texts(ax)[-1] == "chance"
    assert ax.get_xlabel() == "False positive rate"


def test_plot_roc_label_has_the_auc() -> None:
    ax = plot_roc([0, 0, 1, 1], {"perfect": np.array([0.1, 0.2, 0.8, 0.9])})
    assert ax.lines[0].get_label() == "perfect (AUC = 1.000)"


def test_plot_calibration_draws_the_sklearn_bins(classified) -> None:
    y, scores = classified
    ax = plot_calibration(y, {"model": scores["model"]}, n_bins=5)
    prob_true, prob_pred = calibration_curve(y, scores["model"], n_bins=5, strategy="quantile")
    np.testing.assert_allclose(ax.lines[0].get_xdata(), prob_pred)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), prob_true)
    assert ax.lines[0].get_label().startswith("model (ECE = 0.")
    assert ax.lines[1].get_label() == "perfectly calibrated"


def test_plot_gains_by_hand() -> None:
    ax = plot_gains([1, 1, 0, 0], {"m": np.array([0.9, 0.5, 0.5, 0.1])})
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0, 0.25, 0.75, 1])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0, 0.5, 1, 1])
    assert [line.get_label() for line in ax.lines] == ["m", "random", "perfect"]
    np.testing.assert_allclose(ax.lines[2].get_xdata(), [0, 0.5, 1])  # churn rate 1/2


def test_plot_feature_importance_shows_the_top_features_largest_on_top() -> None:
    importance = pd.Series({"recency": 1.0, "frequency": 3.0, "monetary": 2.0, "tenure": 0.5})
    ax = plot_feature_importance(importance, top=2)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["monetary", "frequency"]
    assert [bar.get_width() for bar in ax.patches] == [2.0, 3.0]


def test_plot_feature_importance_refuses_bad_input() -> None:
    with pytest.raises(DataError, match="non-empty pandas Series"):
        plot_feature_importance(pd.Series(dtype=float))
    with pytest.raises(ConfigError, match="top must be a positive integer, got 0"):
        plot_feature_importance(pd.Series({"a": 1.0}), top=0)


def test_plots_draw_on_a_given_axes(classified) -> None:
    y, scores = classified
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_gains(y, scores, ax=ax) is ax
    assert len(ax.lines) == 4


def test_unusable_inputs_are_refused() -> None:
    with pytest.raises(ConfigError, match="scores must be a non-empty dict"):
        plot_roc([0, 1], {})
    with pytest.raises(DataError, match="only the class 1"):
        plot_roc([1, 1], {"m": [0.2, 0.4]})
    with pytest.raises(DataError, match=r"scores\['m'\] must be finite; found nan at position 0"):
        plot_roc([0, 1], {"m": [np.nan, 0.4]})


# ------------------------------------------------------------------------------- KPI plots
def test_plot_risk_tiers_counts_customers_riskiest_first(scored: pd.DataFrame) -> None:
    ax = plot_risk_tiers(scored.assign(risk_tier=["high", "mid", "low", "low"]))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["high", "mid", "low"]
    assert [bar.get_height() for bar in ax.patches] == [1, 1, 2]


def test_plot_value_at_risk_by_segment(scored: pd.DataFrame) -> None:
    ax = plot_value_at_risk(scored, by="segment")
    # Largest on top: champions 120, loyal 30, (missing) 1.
    assert [t.get_text() for t in ax.get_yticklabels()] == ["(missing)", "loyal", "champions"]
    np.testing.assert_allclose([bar.get_width() for bar in ax.patches], [1.0, 30.0, 120.0])


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
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["roc.png", "roc_fig.png", "sub"]


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
