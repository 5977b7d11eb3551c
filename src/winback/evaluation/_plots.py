"""Model-evaluation plots: ROC curves, calibration, cumulative gains and feature importance.

Each function draws on ``ax`` (a new Agg-backed Axes when ``None``) and returns that Axes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score, roc_curve

from winback.evaluation._backtest import Scores
from winback.evaluation._metrics import (
    BinStrategy,
    binary_labels,
    calibration_bins,
    cumulative_gains,
    expected_calibration_error,
    finite_values,
)
from winback.exceptions import ConfigError, DataError
from winback.models import WinbackModel
from winback.plotting import new_axes, png_bytes

__all__ = [
    "evaluation_plots",
    "plot_calibration",
    "plot_feature_importance",
    "plot_gains",
    "plot_roc",
]

_REFERENCE_STYLE = {"color": "0.6", "linestyle": "--", "linewidth": 1}


def _check_named(scores: Mapping[str, ArrayLike], what: str) -> None:
    if not isinstance(scores, Mapping) or len(scores) == 0:
        raise ConfigError(
            f"{what} must be a non-empty dict of model name to array, got {type(scores).__name__}."
        )


def _unit_square(ax: Axes, *, xlabel: str, ylabel: str, title: str) -> Axes:
    ax.set(xlim=(0, 1), ylim=(0, 1.0), xlabel=xlabel, ylabel=ylabel, title=title)
    ax.set_aspect("equal")
    ax.legend(loc="lower right")
    return ax


def plot_roc(y: ArrayLike, scores: Mapping[str, ArrayLike], *, ax: Axes | None = None) -> Axes:
    """ROC curve of each score, labelled with its AUC, over the chance diagonal.

    Parameters
    ----------
    y : array-like of shape (n,)
        1 = churned, 0 = retained.
    scores : dict of str to array-like of shape (n,)
        Model name to score (higher = more likely to churn).
    ax : Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    Axes
        One line per model (in ``scores`` order, data from :func:`sklearn.metrics.roc_curve`,
        label ``"name (AUC = 0.812)"``), then the line ``"chance"``.
    """
    _check_named(scores, "scores")
    y = binary_labels(y)
    ax = new_axes() if ax is None else ax
    for name, score in scores.items():
        score = finite_values(score, n=y.size, name=f"scores[{name!r}]")
        fpr, tpr, _ = roc_curve(y, score)
        ax.plot(fpr, tpr, label=f"{name} (AUC = {roc_auc_score(y, score):.3f})")
    ax.plot([0, 1], [0, 1], label="chance", **_REFERENCE_STYLE)
    return _unit_square(
        ax, xlabel="False positive rate", ylabel="True positive rate", title="ROC curve"
    )


def plot_calibration(
    y: ArrayLike,
    probs: Mapping[str, ArrayLike],
    *,
    ax: Axes | None = None,
    n_bins: int = 10,
    strategy: BinStrategy = "quantile",
) -> Axes:
    """Reliability diagram: observed churn rate against mean predicted probability per bin.

    Bins are those of :func:`winback.evaluation.calibration_bins` (equal-count by default),
    the same that the ``ece`` in each label is computed on.

    Returns
    -------
    Axes
        One line with markers per model (label ``"name (ECE = 0.031)"``), x = mean predicted
        probability and y = observed rate of each non-empty bin, then ``"perfectly calibrated"``.
    """
    _check_named(probs, "probs")
    ax = new_axes() if ax is None else ax
    for name, prob in probs.items():
        mean_pred, observed, _ = calibration_bins(y, prob, n_bins=n_bins, strategy=strategy)
        ece = expected_calibration_error(y, prob, n_bins=n_bins, strategy=strategy)
        ax.plot(mean_pred, observed, marker="o", label=f"{name} (ECE = {ece:.3f})")
    ax.plot([0, 1], [0, 1], label="perfectly calibrated", **_REFERENCE_STYLE)
    return _unit_square(
        ax,
        xlabel="Mean predicted churn probability",
        ylabel="Observed churn rate",
        title="Calibration",
    )


def plot_gains(y: ArrayLike, scores: Mapping[str, ArrayLike], *, ax: Axes | None = None) -> Axes:
    """Cumulative gains: share of churners reached when targeting the top share by each score.

    Returns
    -------
    Axes
        One line per model (data from :func:`winback.evaluation.cumulative_gains`), then
        ``"random"`` (the diagonal) and ``"perfect"`` (every churner first).
    """
    _check_named(scores, "scores")
    ax = new_axes() if ax is None else ax
    for name, score in scores.items():
        targeted, reached = cumulative_gains(y, score)
        ax.plot(targeted, reached, label=name)
    ax.plot([0, 1], [0, 1], label="random", **_REFERENCE_STYLE)
    base_rate = float(np.mean(np.asarray(y, dtype=float)))
    ax.plot([0, base_rate, 1], [0, 1, 1], label="perfect", color="0.3", linestyle=":", linewidth=1)
    return _unit_square(
        ax,
        xlabel="Share of customers targeted (highest score first)",
        ylabel="Share of churners reached",
        title="Cumulative gains",
    )


def plot_feature_importance(
    importance: pd.Series, *, ax: Axes | None = None, top: int = 20
) -> Axes:
    """Horizontal bars of the ``top`` most important features, the most important on top.

    Parameters
    ----------
    importance : pandas Series
        Feature name (index) to importance (e.g. LightGBM gain). Ties keep the Series' order.
    ax : Axes, optional
        Where to draw; a new figure when omitted.
    top : int, default 20
        Number of features shown.

    Returns
    -------
    Axes
        One bar per feature shown; the y tick labels are the feature names, bottom to top in
        increasing importance.
    """
    if not isinstance(top, int) or top < 1:
        raise ConfigError(f"top must be a positive integer, got {top!r}.")
    if not isinstance(importance, pd.Series) or importance.empty:
        raise DataError("importance must be a non-empty pandas Series of feature name to value.")
    if not pd.api.types.is_numeric_dtype(importance) or importance.isna().any():
        raise DataError(
            f"importance must hold numbers without NaN, got dtype {importance.dtype} with "
            f"{int(importance.isna().sum())} missing values."
        )
    shown = importance.sort_values(ascending=False, kind="stable").head(top).iloc[::-1]
    ax = new_axes(figsize=(6.4, max(2.0, 0.3 * len(shown) + 1.0))) if ax is None else ax
    positions = np.arange(len(shown))
    ax.barh(positions, shown.to_numpy(dtype=float))
    ax.set_yticks(positions, labels=[str(name) for name in shown.index])
    ax.set(xlabel="Importance", title=f"Feature importance (top {len(shown)})")
    return ax


def evaluation_plots(
    model: WinbackModel, frames: dict[str, dict[str, pd.DataFrame]], scores: dict[str, Scores]
) -> dict[str, bytes]:
    """Return ``plots/<kind>_<task>.png`` -> PNG bytes: ROC, calibration, gains and importance.

    ``scores`` are the backtest scores of ``model`` on the ``"test"`` frames of ``frames``.
    """
    plots = {}
    for name, task_scores in scores.items():
        task = model.tasks[name]
        y = task.spec.target(frames[name]["test"], days=task.spec.horizon_days)
        shown = {
            m: np.nan_to_num(s)
            for m, (s, _) in task_scores.items()
            if m in ("winback", "bgnbd", "pareto_nbd", "recency")
        }
        probs = {
            m: np.nan_to_num(s)
            for m, (s, p) in task_scores.items()
            if p and m in ("winback", "bgnbd", "pareto_nbd")
        }
        key = f"{name}_{task.spec.horizon_days}d"
        plots[f"plots/roc_{key}.png"] = png_bytes(plot_roc(y, shown))
        plots[f"plots/calibration_{key}.png"] = png_bytes(plot_calibration(y, probs))
        plots[f"plots/gains_{key}.png"] = png_bytes(plot_gains(y, shown))
        importance = task.feature_importance()  # None: no model of its own (a BTYD extension)
        if importance is not None:
            plots[f"plots/importance_{name}.png"] = png_bytes(plot_feature_importance(importance))
    return plots
