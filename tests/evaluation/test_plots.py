"""Tests of the evaluation plots: drawn data, and titles and labels naming the task's event."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_curve

from winback.evaluation import (
    plot_calibration,
    plot_feature_importance,
    plot_gains,
    plot_roc,
    task_plots,
    task_title,
)
from winback.exceptions import ConfigError, DataError
from winback.models import TaskSpec


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


# ------------------------------------------------------------------- titles and event labels
@pytest.mark.parametrize(
    ("event", "observed", "predicted", "reached"),
    [
        ("churn", "Observed churn rate", "Mean predicted churn probability", "churners"),
        (
            "repurchase",
            "Observed repurchase rate",
            "Mean predicted repurchase probability",
            "repurchasers",
        ),
    ],
)
def test_calibration_and_gains_name_the_event(classified, event, observed, predicted, reached):
    y, scores = classified
    calibration = plot_calibration(y, {"model": scores["model"]}, event=event, title="T")
    assert (calibration.get_ylabel(), calibration.get_xlabel()) == (observed, predicted)
    assert calibration.get_title() == "T"
    gains = plot_gains(y, scores, event=event)
    assert gains.get_ylabel() == f"Share of {reached} reached"


def test_an_unknown_event_is_refused(classified):
    y, scores = classified
    with pytest.raises(ConfigError, match=r"event must be one of \['churn', 'repurchase'\]"):
        plot_gains(y, scores, event="spend")


def _backtest_scores(y: np.ndarray) -> dict[str, tuple[np.ndarray, bool]]:
    """Scores of every backtest method, as backtest_scores returns them for one task."""
    rng = np.random.default_rng(1)
    noisy = {m: np.clip(0.5 * y + rng.random(y.size) * 0.5, 0, 1) for m in range(8)}
    methods = ("winback", "lightgbm", "hybrid", "blend", "bgnbd", "pareto_nbd", "rfm_logit")
    scores = {m: (noisy[i], True) for i, m in enumerate(methods)}
    scores["pareto_nbd"] = (np.where(np.arange(y.size) == 0, np.nan, noisy[5]), True)
    scores["recency"] = (rng.integers(0, 400, y.size).astype(float), False)
    return scores


def test_task_plots_are_titled_with_the_task_and_include_every_baseline(classified):
    y, _ = classified
    spec = TaskSpec(name="repurchase", horizon_days=91, label_days=91)
    assert task_title(spec) == "repurchase: an order within 91 days"
    axes = task_plots(spec, y, _backtest_scores(y))
    assert axes["roc"].get_title() == "ROC: repurchase: an order within 91 days"
    assert axes["calibration"].get_title() == "Calibration: repurchase: an order within 91 days"
    assert axes["gains"].get_title() == "Cumulative gains: repurchase: an order within 91 days"
    assert axes["calibration"].get_ylabel() == "Observed repurchase rate"
    assert axes["gains"].get_ylabel() == "Share of repurchasers reached"
    names = {
        kind: [line.get_label().split(" (")[0] for line in ax.lines] for kind, ax in axes.items()
    }
    baselines = ["winback", "bgnbd", "pareto_nbd", "rfm_logit"]
    assert names["roc"] == [*baselines, "recency", "chance"]
    assert names["gains"] == [*baselines, "recency", "random", "perfect"]
    assert names["calibration"] == [*baselines, "perfectly calibrated"]  # recency: a rank only


def test_churn_task_plots_name_churn():
    y = np.array([0, 1] * 50)
    spec = TaskSpec(name="churn", horizon_days=273, label_days=182)
    axes = task_plots(spec, y, _backtest_scores(y))
    assert task_title(spec) == "churn: no order within 273 days"
    assert axes["calibration"].get_xlabel() == "Mean predicted churn probability"
    assert axes["gains"].get_ylabel() == "Share of churners reached"
