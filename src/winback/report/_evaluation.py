"""The model's backtest evaluation for the report, read from a model bundle after its hashes."""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any

from winback.evaluation import task_title
from winback.exceptions import ModelError
from winback.models import load_model
from winback.scoring import model_version

__all__ = ["METHOD_DESCRIPTIONS", "model_evaluation"]

logger = logging.getLogger(__name__)

#: Method of ``evaluation.json`` -> what it is, in the report's words; the report lists the
#: methods in this order (the shipped score, the candidates, the baselines), others last.
METHOD_DESCRIPTIONS = {
    "winback": "the shipped score",
    "lightgbm": "candidate: LightGBM on the order features",
    "hybrid": "candidate: LightGBM on the order features plus BTYD predictions",
    "blend": "candidate: calibrated blend of the better LightGBM and the best BTYD model",
    "bgnbd": "baseline: BG/NBD",
    "pareto_nbd": "baseline: Pareto/NBD",
    "recency": "baseline: days since the last order (a ranking, not a probability)",
    "rfm_logit": "baseline: logistic regression on log recency, frequency, monetary, tenure",
    "bgnbd_gg": "baseline: BG/NBD expected orders × Gamma-Gamma order value",
    "pareto_nbd_gg": "candidate: Pareto/NBD expected orders × Gamma-Gamma order value",
}

#: Metric key -> column header, per kind of task, in display order.
METRICS = {
    "probability": {
        "auc": "ROC AUC",
        "pr_auc": "PR AUC",
        "brier": "Brier",
        "log_loss": "Log loss",
        "ece": "ECE",
        "lift_top_decile": "Lift, top 10%",
    },
    "spend": {
        "mae": "MAE",
        "rmse": "RMSE",
        "spearman": "Spearman",
        "total_relative_error": "Total rel. error",
    },
}
#: Metric key of the next-order backtest -> (column header, format kind), in display order.
_NEXT_ORDER = {
    "ordered": ("Ordered in the holdout", "count"),
    "median_abs_error_days": ("Median abs. error (days)", "number"),
    "share_ordered_by_date": ("Ordered by the date", "rate"),
    "known": ("Date within the holdout", "count"),
    "share_ordered_by_date_where_known": ("Ordered by the date, where known", "rate"),
}
_PLOT_KINDS = {"roc": "ROC curve", "calibration": "Calibration", "gains": "Cumulative gains"}


def model_evaluation(bundle: str | os.PathLike[str]) -> dict[str, Any]:
    """The backtest evaluation of a model bundle, checked by :func:`winback.models.load_model`.

    Parameters
    ----------
    bundle : path-like
        A folder written by ``winback train``: its files are loaded only after every sha256 in
        its manifest matches.

    Returns
    -------
    dict
        ``name``, ``version``, ``evaluation_cutoff`` and ``tasks``: one dict per task of
        ``evaluation.json`` in the model's task order, with ``key`` (e.g. ``"churn_273d"``),
        ``title`` (:func:`winback.evaluation.task_title`), ``kind`` (``"probability"`` or
        ``"spend"``), ``chosen`` (the shipped method), ``metrics`` (``key`` and ``header``
        dicts, in order), ``methods`` (rows: ``method``, ``description``, ``values`` as
        metric -> float or None),
        ``comparison`` (``baseline``, ``diff``, ``ci_low``, ``ci_high`` and ``verdict`` in
        words; None for spend) and ``plots`` (kind -> ``{"title", "png"}`` for the ROC,
        calibration and gains PNG files the bundle holds); ``next_order``: the next-order
        backtest (``holdout_days``, ``btyd_model``, ``definition``, ``metrics`` and
        ``methods`` rows), None for a bundle trained before it existed.

    Raises
    ------
    ModelError
        If the bundle fails its checks or has no ``evaluation.json``.
    """
    path = Path(bundle)
    model = load_model(path)
    evaluation_file = path / "evaluation.json"
    if not evaluation_file.is_file():
        raise ModelError(
            f"Bundle {path} has no evaluation.json; retrain it with `winback train` to report "
            "its evaluation, or leave out --model."
        )
    evaluation = json.loads(evaluation_file.read_text(encoding="utf-8"))
    tasks = []
    for name, task in model.tasks.items():
        key = f"{name}_{task.spec.horizon_days}d"
        if key in evaluation:
            tasks.append(_task(path, key, task.spec, evaluation[key]))
    return {
        "name": model.name,
        "version": model_version(model),
        "evaluation_cutoff": model.metadata.get("backtest", {}).get("evaluation_cutoff"),
        "tasks": tasks,
        "next_order": _next_order(evaluation.get("next_order")),
    }


def _next_order(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """The next-order backtest as a table: one row per method, the baseline last."""
    if not result:
        return None
    descriptions = result.get("method_descriptions", {})
    return {
        "holdout_days": result["holdout_days"],
        "btyd_model": result.get("btyd_model"),
        "definition": result.get("definition"),
        "metrics": [{"key": k, "header": h, "kind": kind} for k, (h, kind) in _NEXT_ORDER.items()],
        "methods": [
            {
                "method": method,
                "description": descriptions.get(method, method),
                "values": {m: _number(values.get(m)) for m in _NEXT_ORDER},
            }
            for method, values in sorted(result["methods"].items(), key=_next_order_rank)
        ],
    }


def _next_order_rank(item: tuple[str, Any]) -> tuple[int, str]:
    """The shipped model first, then the BTYD models, the baseline last (evaluation.json is
    written with sorted keys)."""
    method = item[0]
    rank = {"winback": 0, "mean_gap": 2}.get(method, 1)
    return (rank, method)


def _task(path: Path, key: str, spec: Any, result: dict[str, Any]) -> dict[str, Any]:
    kind = "spend" if spec.name == "spend" else "probability"
    metrics = METRICS[kind]
    methods = [
        {
            "method": method,
            "description": METHOD_DESCRIPTIONS.get(method, method),
            "values": {m: _number(values.get(m)) for m in metrics},
        }
        for method, values in sorted(result["methods"].items(), key=_method_rank)
    ]
    comparison = result.get("auc_difference_vs_best_baseline")
    plots = {}
    for kind_key, label in _PLOT_KINDS.items():
        file = path / "plots" / f"{kind_key}_{key}.png"
        if file.is_file():
            plots[kind_key] = {"title": label, "png": file.read_bytes()}
    return {
        "key": key,
        "title": task_title(spec),
        "kind": kind,
        "chosen": result.get("selection", {}).get("chosen"),
        "metrics": [{"key": k, "header": header} for k, header in metrics.items()],
        "methods": methods,
        "comparison": None if comparison is None else _comparison(comparison),
        "plots": plots,
    }


def _method_rank(item: tuple[str, Any]) -> tuple[int, str]:
    order = list(METHOD_DESCRIPTIONS)
    method = item[0]
    return (order.index(method) if method in order else len(order), method)


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _comparison(comparison: dict[str, Any]) -> dict[str, Any]:
    """The bootstrap AUC difference with a verdict: significantly better/worse, or not."""
    low, high = float(comparison["ci_low"]), float(comparison["ci_high"])
    baseline = str(comparison["baseline"])
    if low > 0:
        verdict = f"winback ranks significantly better than the best baseline, {baseline}"
    elif high < 0:
        verdict = f"the best baseline, {baseline}, ranks significantly better than winback"
    else:
        verdict = f"winback and the best baseline, {baseline}, are not significantly different"
    return {
        "baseline": baseline,
        "diff": float(comparison["diff"]),
        "ci_low": low,
        "ci_high": high,
        "verdict": verdict,
    }
