"""Backtest evaluation: the shipped score and every baseline on the window after the cutoff.

Methods per probability task: ``winback`` (the shipped score), its candidates (``lightgbm``,
``hybrid``, ``blend``, ``rfm_logit_calibrated``, ``<btyd>_calibrated``; a conditional task's
candidates are chained to the shipped score of the task it is built on), and the baselines
``bgnbd``, ``pareto_nbd``, ``recency`` (days since last order; rank only) and ``rfm_logit``
(logistic regression on log RFM fitted on the training cutoffs, uncalibrated). Spend:
``winback``, the task's candidates (``lightgbm``, ``hybrid``, ``<btyd>_gg``, ``blend``) and
the baseline ``bgnbd_gg`` (BG/NBD expected purchases x Gamma-Gamma expected value).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from winback.evaluation._metrics import (
    bootstrap_auc_difference,
    classification_metrics,
    regression_metrics,
)
from winback.models import (
    RFM_LOGIT_COLUMNS,
    ProbabilityTask,
    RFMLogit,
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

BASELINES = ("bgnbd", "pareto_nbd")


def rfm_logit_scores(task: ProbabilityTask, train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """Fit the RFM logistic baseline on ``train``, score ``test`` (horizon-extended as winback).

    The baseline is fitted on every training row (not conditional on a shorter task) at the
    task's label window, uncalibrated, and extended to the horizon like the task's own score.
    """
    model = RFMLogit().fit(train, task.spec.target(train))
    return extend_horizon(model.raw_proba(test), test, task.spec, task.horizon_btyd)


Scores = dict[str, tuple[np.ndarray, bool]]


def probability_scores(
    task: ProbabilityTask,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    given: np.ndarray | None = None,
) -> Scores:
    """Return method -> (score, is_probability) on ``test`` for one probability task.

    ``given``: for a conditional task, the shipped survival of the task it is built on.
    """
    h = task.spec.horizon_days
    scores = {"winback": (task.predict(test, given=given), True)}
    for method in task.candidates:
        scores[method] = (task.predict(test, given=given, method=method), True)
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
    out = {}
    for name, task in model.tasks.items():
        if isinstance(task, ProbabilityTask):
            test = frames[name]["test"]
            given = None
            if task.condition_task is not None:
                given = model.survivals(test)[task.condition_task]
            out[name] = probability_scores(task, frames[name]["train"], test, given=given)
    return out


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
    return {
        "methods": methods,
        "auc_difference_vs_best_baseline": {"baseline": best, **diff},
        "goals": goals(methods, diff),
    }


def goals(methods: dict[str, dict[str, float]], diff: dict[str, float]) -> dict[str, Any]:
    """The shipped score's goals against the baselines it reports.

    ``auc``: the upper end of the 95% CI of AUC(winback) - AUC(best baseline) is >= 0;
    ``brier``: winback's Brier score <= the best BTYD model's; ``ece``: winback's ECE <= the
    best BTYD model's + 0.005. Each with the margin (>= 0 when met; a margin of float rounding,
    1e-12, counts as met: shipping the BTYD model itself gives its own Brier score).
    """
    w = methods["winback"]
    best = {k: np.nanmin([methods[m][k] for m in BASELINES]) for k in ("brier", "ece")}
    margins = {
        "auc": diff["ci_high"],
        "brier": float(best["brier"] - w["brier"]),
        "ece": float(best["ece"] + 0.005 - w["ece"]),
    }
    return {"margins": margins, "met": {k: bool(v >= -1e-12) for k, v in margins.items()}}


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
        if not isinstance(result, dict) or "methods" not in result:
            continue  # run-level records (BTYD fits, production selection)
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
