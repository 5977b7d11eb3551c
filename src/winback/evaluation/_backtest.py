"""Backtest evaluation: the shipped score and every baseline on the window after the cutoff.

Methods per probability task: ``winback`` (the shipped score), ``lightgbm``, ``hybrid``,
``blend``, ``bgnbd``, ``pareto_nbd``, ``recency`` (days since last order; rank only) and
``rfm_logit`` (logistic regression on log RFM). Spend: ``winback``, the task's candidates
(``lightgbm``, ``hybrid``, ``<btyd>_gg``, ``blend``) and the baseline ``bgnbd_gg`` (BG/NBD
expected purchases x Gamma-Gamma expected value).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from winback.evaluation._metrics import (
    bootstrap_auc_difference,
    classification_metrics,
    regression_metrics,
)
from winback.models import (
    ProbabilityTask,
    SpendTask,
    WinbackModel,
    btyd_probability,
    btyd_spend,
    extend_horizon,
)

__all__ = [
    "RFM_LOGIT_COLUMNS",
    "Scores",
    "backtest_scores",
    "evaluate_backtest",
    "format_table",
]

RFM_LOGIT_COLUMNS = ["rfm_days_since_last", "rfm_frequency", "rfm_monetary_value", "rfm_T"]
BASELINES = ("bgnbd", "pareto_nbd")


def _rfm_matrix(frame: pd.DataFrame) -> np.ndarray:
    return np.log1p(frame[RFM_LOGIT_COLUMNS].clip(lower=0).fillna(0).to_numpy(dtype=float))


def rfm_logit_scores(task: ProbabilityTask, train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """Fit the RFM logistic baseline on ``train``, score ``test`` (horizon-extended as winback)."""
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0))
    model.fit(_rfm_matrix(train), task.spec.target(train))
    score = model.predict_proba(_rfm_matrix(test))[:, 1]
    if task.horizon_btyd is not None:
        score = extend_horizon(score, test, task.spec, task.horizon_btyd)
    return score


Scores = dict[str, tuple[np.ndarray, bool]]


def probability_scores(task: ProbabilityTask, train: pd.DataFrame, test: pd.DataFrame) -> Scores:
    """Return method -> (score, is_probability) on ``test`` for one probability task."""
    h = task.spec.horizon_days
    scores = {"winback": (task.predict(test), True)}
    for method in task.selection["cv_log_loss"]:
        scores[method] = (task.predict_method(test, method), True)
    for model in BASELINES:
        scores[model] = (btyd_probability(test, model, task.spec, h), True)
    days = test["rfm_days_since_last"].to_numpy(dtype=float)
    scores["recency"] = (days if task.spec.name == "churn" else -days, False)
    scores["rfm_logit"] = (rfm_logit_scores(task, train, test), True)
    return scores


def backtest_scores(
    model: WinbackModel, frames: dict[str, dict[str, pd.DataFrame]]
) -> dict[str, Scores]:
    """Return task name -> method -> (score, is_probability) on each probability task's test frame.

    Computed once and shared by the evaluation and its plots.
    """
    return {
        name: probability_scores(task, frames[name]["train"], frames[name]["test"])
        for name, task in model.tasks.items()
        if isinstance(task, ProbabilityTask)
    }


def spend_predictions(task: SpendTask, test: pd.DataFrame) -> dict[str, np.ndarray]:
    """Return method -> expected spend over the horizon on ``test``."""
    h = task.spec.horizon_days
    preds = {"winback": task.predict(test)}
    for method in task.selection["rmse"]:
        preds[method] = task.predict_method(test, method)
    preds["bgnbd_gg"] = btyd_spend(test, "bgnbd", h)
    return preds


def _regression_or_nan(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Regression metrics on the finite predictions; all NaN when a baseline could not be fitted."""
    y_ok, pred_ok = _finite(y, pred)
    if len(pred_ok) == 0:
        return dict.fromkeys(("mae", "rmse", "spearman", "total_relative_error"), float("nan"))
    return regression_metrics(y_ok, pred_ok)


def _classification_or_nan(y: np.ndarray, score: np.ndarray, *, probabilistic: bool) -> dict:
    """Classification metrics on the finite scores; all NaN when a baseline could not be fitted."""
    y_ok, score_ok = _finite(y, score)
    if len(np.unique(y_ok)) < 2:
        keys = ("auc", "pr_auc", "brier", "log_loss", "ece", "lift_top_decile")
        return dict.fromkeys(keys, float("nan"))
    return classification_metrics(y_ok, score_ok, probabilistic=probabilistic)


def _finite(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ok = np.isfinite(score)
    return y[ok], score[ok]


def evaluate_task(
    task: ProbabilityTask | SpendTask,
    frames: dict[str, pd.DataFrame],
    *,
    scores: Scores | None,
    n_boot: int,
    seed: int,
) -> dict[str, Any]:
    """Return method -> metric -> value (plus a bootstrap comparison) for one task.

    ``scores`` are the probability task's :func:`probability_scores` (None for spend).
    """
    test = frames["test"]
    y = task.spec.target(test, days=task.spec.horizon_days)
    if isinstance(task, SpendTask):
        preds = spend_predictions(task, test)
        return {"methods": {m: _regression_or_nan(y, p) for m, p in preds.items()}}
    methods = {
        m: _classification_or_nan(y, s, probabilistic=prob) for m, (s, prob) in scores.items()
    }
    best = max(
        (
            m
            for m in ("bgnbd", "pareto_nbd", "recency", "rfm_logit")
            if np.isfinite(methods[m]["auc"])
        ),
        key=lambda m: methods[m]["auc"],
    )
    diff = bootstrap_auc_difference(
        y, scores["winback"][0], np.nan_to_num(scores[best][0], nan=0.0), n_boot=n_boot, seed=seed
    )
    return {"methods": methods, "auc_difference_vs_best_baseline": {"baseline": best, **diff}}


def evaluate_backtest(
    model: WinbackModel,
    frames: dict[str, dict[str, pd.DataFrame]],
    *,
    scores: dict[str, Scores] | None = None,
    n_boot: int = 500,
    seed: int = 0,
) -> dict[str, Any]:
    """Evaluate every task of a backtest model.

    Parameters
    ----------
    model : WinbackModel
        Fitted on windows ending at or before the evaluation cutoff.
    frames : dict
        task name -> {"train", "validation", "test"} frames; "test" holds the features at the
        evaluation cutoff and labels for the task's full horizon after it.
    scores : dict, optional
        :func:`backtest_scores` of ``model`` on ``frames``, if already computed.

    Returns
    -------
    dict
        ``{task_key: {"methods": {method: {metric: value}}, ...}}`` with task keys like
        ``repurchase_91d``.
    """
    scores = backtest_scores(model, frames) if scores is None else scores
    out = {}
    for name, task in model.tasks.items():
        key = f"{name}_{task.spec.horizon_days}d"
        out[key] = evaluate_task(
            task, frames[name], scores=scores.get(name), n_boot=n_boot, seed=seed
        )
        out[key]["label_days_trained"] = task.spec.label_days
        out[key]["selection"] = task.selection
    return out


def format_table(evaluation: dict[str, Any]) -> str:
    """Return the evaluation as a plain-text table: one block per task, one row per method."""
    lines = []
    for key, result in evaluation.items():
        methods = result["methods"]
        metrics = list(next(iter(methods.values())))
        lines.append(f"\n{key}")
        widths = {m: max(16, len(m) + 2) for m in metrics}
        first = max(12, *(len(m) + 1 for m in methods))
        lines.append(f"  {'method':<{first}}" + "".join(f"{m:>{widths[m]}}" for m in metrics))
        for method, values in methods.items():
            cells = "".join(f"{values[m]:>{widths[m]}.4f}" for m in metrics)
            lines.append(f"  {method:<{first}}{cells}")
        comp = result.get("auc_difference_vs_best_baseline")
        if comp:
            lines.append(
                f"  AUC(winback) - AUC({comp['baseline']}) = {comp['diff']:+.4f} "
                f"[95% CI {comp['ci_low']:+.4f}, {comp['ci_high']:+.4f}]"
            )
    return "\n".join(lines)
