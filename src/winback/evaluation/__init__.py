"""Evaluation: metrics, the backtest of the shipped score against every baseline, and its plots.

- :func:`classification_metrics`, :func:`regression_metrics`, :func:`expected_calibration_error`,
  :func:`calibration_bins`, :func:`cumulative_gains`, :func:`lift_at`,
  :func:`bootstrap_auc_difference`: pure functions on arrays.
- :func:`backtest_scores`, :func:`evaluate_backtest`, :func:`format_table`: every method's scores
  on the window after the evaluation cutoff, their metrics, and the printed comparison.
- :func:`next_order_evaluation`: the predicted next-order days against the next order that came,
  next to the customer's-own-mean-gap baseline.
- :func:`plot_roc`, :func:`plot_calibration`, :func:`plot_gains`, :func:`plot_feature_importance`,
  :func:`evaluation_plots`: the evaluation's figures (``ax=None`` in, the ``Axes`` out), each
  titled with :func:`task_title` (:func:`task_plots`) and labelled with its task's event.
"""

from winback.evaluation._backtest import backtest_scores, evaluate_backtest, format_table
from winback.evaluation._metrics import (
    bootstrap_auc_difference,
    calibration_bins,
    classification_metrics,
    cumulative_gains,
    expected_calibration_error,
    lift_at,
    regression_metrics,
)
from winback.evaluation._next_order import next_order_evaluation
from winback.evaluation._plots import (
    evaluation_plots,
    plot_calibration,
    plot_feature_importance,
    plot_gains,
    plot_roc,
    task_plots,
    task_title,
)

__all__ = [
    "backtest_scores",
    "bootstrap_auc_difference",
    "calibration_bins",
    "classification_metrics",
    "cumulative_gains",
    "evaluate_backtest",
    "evaluation_plots",
    "expected_calibration_error",
    "format_table",
    "lift_at",
    "next_order_evaluation",
    "plot_calibration",
    "plot_feature_importance",
    "plot_gains",
    "plot_roc",
    "regression_metrics",
    "task_plots",
    "task_title",
]
