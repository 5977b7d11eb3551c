"""Model-evaluation plots: ROC curves, calibration, cumulative gains and feature importance.

Each function draws on ``ax`` (a new Agg-backed Axes when ``None``) and returns that Axes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

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
from winback.models import TaskSpec, WinbackModel
from winback.plotting import new_axes, png_bytes

__all__ = [
    "evaluation_plots",
    "plot_calibration",
    "plot_feature_importance",
    "plot_gains",
    "plot_roc",
    "task_plots",
    "task_title",
]

_REFERENCE_STYLE = {"color": "0.6", "linestyle": "--", "linewidth": 1}

#: The event a probability task predicts: ``"churn"`` (no order within the horizon) or
#: ``"repurchase"`` (an order within it).
Event = Literal["churn", "repurchase"]
#: Event -> (the event as a noun, the customers it happens to), for axis labels.
_EVENT_WORDS: dict[str, tuple[str, str]] = {
    "churn": ("churn", "churners"),
    "repurchase": ("repurchase", "repurchasers"),
}
#: Methods drawn in the evaluation plots: the shipped score and every baseline.
PLOTTED_METHODS = ("winback", "bgnbd", "pareto_nbd", "rfm_logit", "recency")


def _event_words(event: str) -> tuple[str, str]:
    if event not in _EVENT_WORDS:
        raise ConfigError(f"event must be one of {sorted(_EVENT_WORDS)}, got {event!r}.")
    return _EVENT_WORDS[event]


def task_title(spec: TaskSpec) -> str:
    """The task in words, e.g. ``"repurchase: an order within 91 days"`` (titles of its plots)."""
    if spec.name == "churn":
        return f"churn: no order within {spec.horizon_days} days"
    if spec.name == "repurchase":
        return f"repurchase: an order within {spec.horizon_days} days"
    return f"spend within {spec.horizon_days} days"


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


def plot_roc(
    y: ArrayLike,
    scores: Mapping[str, ArrayLike],
    *,
    ax: Axes | None = None,
    title: str = "ROC curve",
) -> Axes:
    """ROC curve of each score, labelled with its AUC, over the chance diagonal.

    Parameters
    ----------
    y : array-like of shape (n,)
        1 = the event happened (e.g. churned), 0 = it did not.
    scores : dict of str to array-like of shape (n,)
        Model name to score (higher = event more likely).
    ax : Axes, optional
        Where to draw; a new figure when omitted.
    title : str, default "ROC curve"
        The Axes title, e.g. naming the task.

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
    return _unit_square(ax, xlabel="False positive rate", ylabel="True positive rate", title=title)


def plot_calibration(
    y: ArrayLike,
    probs: Mapping[str, ArrayLike],
    *,
    event: Event = "churn",
    ax: Axes | None = None,
    n_bins: int = 10,
    strategy: BinStrategy = "quantile",
    title: str = "Calibration",
) -> Axes:
    """Reliability diagram: observed event rate against mean predicted probability per bin.

    Bins are those of :func:`winback.evaluation.calibration_bins` (equal-count by default),
    the same that the ``ece`` in each label is computed on. ``event`` (``"churn"`` or
    ``"repurchase"``) names what ``y`` = 1 means in the axis labels, e.g. "Observed repurchase
    rate"; ``title`` is the Axes title.

    Returns
    -------
    Axes
        One line with markers per model (label ``"name (ECE = 0.031)"``), x = mean predicted
        probability and y = observed rate of each non-empty bin, then ``"perfectly calibrated"``.
    """
    _check_named(probs, "probs")
    noun, _ = _event_words(event)
    ax = new_axes() if ax is None else ax
    for name, prob in probs.items():
        mean_pred, observed, _ = calibration_bins(y, prob, n_bins=n_bins, strategy=strategy)
        ece = expected_calibration_error(y, prob, n_bins=n_bins, strategy=strategy)
        ax.plot(mean_pred, observed, marker="o", label=f"{name} (ECE = {ece:.3f})")
    ax.plot([0, 1], [0, 1], label="perfectly calibrated", **_REFERENCE_STYLE)
    return _unit_square(
        ax,
        xlabel=f"Mean predicted {noun} probability",
        ylabel=f"Observed {noun} rate",
        title=title,
    )


def plot_gains(
    y: ArrayLike,
    scores: Mapping[str, ArrayLike],
    *,
    event: Event = "churn",
    ax: Axes | None = None,
    title: str = "Cumulative gains",
) -> Axes:
    """Cumulative gains: share of the event's customers reached targeting the top share by score.

    ``event`` (``"churn"`` or ``"repurchase"``) names the customers with ``y`` = 1 in the y
    label ("Share of churners reached", "Share of repurchasers reached"); ``title`` is the Axes
    title.

    Returns
    -------
    Axes
        One line per model (data from :func:`winback.evaluation.cumulative_gains`), then
        ``"random"`` (the diagonal) and ``"perfect"`` (every customer with the event first).
    """
    _check_named(scores, "scores")
    _, who = _event_words(event)
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
        ylabel=f"Share of {who} reached",
        title=title,
    )


def plot_feature_importance(
    importance: pd.Series, *, ax: Axes | None = None, top: int = 20, title: str | None = None
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
    title : str, optional
        The Axes title; default ``"Feature importance (top N)"``.

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
    default = f"Feature importance (top {len(shown)})"
    ax.set(xlabel="Importance", title=default if title is None else title)
    return ax


def task_plots(spec: TaskSpec, y: ArrayLike, task_scores: Scores) -> dict[str, Axes]:
    """ROC, calibration and gains of one probability task, titled and labelled with its event.

    Parameters
    ----------
    spec : TaskSpec
        The task (``"repurchase"`` or ``"churn"``); its :func:`task_title` ends every title.
    y : array-like of shape (n,)
        The task's target on the test frame (1 = the event happened).
    task_scores : dict
        Method -> (score of shape (n,), is_probability), as :func:`backtest_scores` gives.

    Returns
    -------
    dict of str to Axes
        ``"roc"`` and ``"gains"`` draw :data:`PLOTTED_METHODS` present in ``task_scores`` (the
        shipped score and every baseline, the RFM logit included; NaN scores as 0);
        ``"calibration"`` draws those of them that are probabilities (not ``recency``).
    """
    shown = {m: np.nan_to_num(task_scores[m][0]) for m in PLOTTED_METHODS if m in task_scores}
    probs = {m: score for m, score in shown.items() if task_scores[m][1]}
    title = task_title(spec)
    event = spec.name
    return {
        "roc": plot_roc(y, shown, title=f"ROC: {title}"),
        "calibration": plot_calibration(y, probs, event=event, title=f"Calibration: {title}"),
        "gains": plot_gains(y, shown, event=event, title=f"Cumulative gains: {title}"),
    }


def evaluation_plots(
    model: WinbackModel, frames: dict[str, dict[str, pd.DataFrame]], scores: dict[str, Scores]
) -> dict[str, bytes]:
    """Return ``plots/<kind>_<task>.png`` -> PNG bytes: ROC, calibration, gains and importance.

    ``scores`` are the backtest scores of ``model`` on the ``"test"`` frames of ``frames``;
    the ROC, calibration and gains plots of each task are those of :func:`task_plots`.
    """
    plots = {}
    for name, task_scores in scores.items():
        task = model.tasks[name]
        y = task.spec.target(frames[name]["test"], days=task.spec.horizon_days)
        key = f"{name}_{task.spec.horizon_days}d"
        for kind, ax in task_plots(task.spec, y, task_scores).items():
            plots[f"plots/{kind}_{key}.png"] = png_bytes(ax)
        importance = task.feature_importance()  # None: no model of its own (a BTYD extension)
        if importance is not None:
            plots[f"plots/importance_{name}.png"] = png_bytes(
                plot_feature_importance(importance, title=f"Feature importance: {name} model")
            )
    return plots
