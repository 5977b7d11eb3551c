"""Backtest of the predicted next-order date against the next order that actually came.

Per method, on the customers at the evaluation cutoff (days counted from the cutoff day; the
next order is the first purchase in the ``holdout_days`` days after it):

- ``median_abs_error_days``: median of |predicted days - actual days| over the customers who
  ordered in the holdout (``ordered``);
- ``share_ordered_by_date``: the share of those whose order came on or before the predicted day;
- ``share_ordered_by_date_where_known``: over the customers whose predicted day falls within
  the holdout (so that whether they ordered by it is known), the share who did (``known``).

Methods: ``winback`` (the shipped BTYD model's ``days_to_next_order``: the median wait if the
customer is active and stays so, see :mod:`winback.models`), ``bgnbd`` and ``pareto_nbd`` (the
same from each model), and the baseline ``mean_gap``: the customer's last purchase day plus
their mean gap between purchase days (``gap_mean_days``); for one-time buyers the median of
``gap_mean_days`` over the repeat buyers at the cutoff. A baseline date already past is moved to
the day after the cutoff (the earliest a next order can come); days are rounded up to whole days.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from winback.features import BTYD_MODELS
from winback.io import purchase_mask
from winback.models import FittedBTYD, WinbackModel, btyd_outlook

__all__ = ["mean_gap_days", "next_order_days", "next_order_evaluation"]

_DAY = pd.Timedelta(days=1)

#: What the methods of the next-order backtest are, as evaluation.json records them.
NEXT_ORDER_METHODS = {
    "winback": "the shipped BTYD model's median days to the next order if the customer stays",
    "bgnbd": "BG/NBD's median days to the next order if the customer stays",
    "pareto_nbd": "Pareto/NBD's median days to the next order if the customer stays",
    "mean_gap": (
        "baseline: last purchase day + the customer's mean gap between purchase days (one-time "
        "buyers: the median gap of the repeat buyers), at least the day after the cutoff"
    ),
}


def next_order_days(
    orders: pd.DataFrame, customers: pd.Index, *, cutoff: pd.Timestamp, holdout_days: int
) -> np.ndarray:
    """Days from the cutoff day to each customer's first purchase day in the holdout; NaN if none.

    ``orders`` are validated orders; the holdout is ``(cutoff, cutoff + holdout_days]`` in
    calendar days, so the result lies in ``1..holdout_days``.
    """
    start, end = cutoff + _DAY, cutoff + (holdout_days + 1) * _DAY
    stamps = orders["order_ts"]
    rows = orders.loc[purchase_mask(orders) & (stamps >= start).to_numpy() & (stamps < end)]
    first = rows.groupby("customer_id", observed=True)["order_ts"].min().dt.floor("D")
    days = (first - cutoff) / _DAY
    return days.reindex(customers).to_numpy(dtype=float)


def mean_gap_days(features: pd.DataFrame) -> np.ndarray:
    """The baseline's days from the cutoff to the next order (see the module docstring)."""
    gap = features["gap_mean_days"].to_numpy(dtype=float)
    known = np.isfinite(gap)
    fill = float(np.median(gap[known])) if known.any() else np.nan
    since = features["days_since_last_order"].to_numpy(dtype=float)
    return np.maximum(np.ceil(np.where(known, gap, fill) - since), 1.0)


def _metrics(predicted: np.ndarray, actual: np.ndarray, holdout_days: int) -> dict[str, Any]:
    ordered = np.isfinite(actual) & np.isfinite(predicted)
    known = np.isfinite(predicted) & (predicted <= holdout_days)
    by_date = np.isfinite(actual) & (actual <= predicted)
    error = np.abs(predicted[ordered] - actual[ordered])
    return {
        "ordered": int(ordered.sum()),
        "median_abs_error_days": float(np.median(error)) if len(error) else float("nan"),
        "share_ordered_by_date": float(by_date[ordered].mean()) if ordered.any() else float("nan"),
        "known": int(known.sum()),
        "share_ordered_by_date_where_known": (
            float(by_date[known].mean()) if known.any() else float("nan")
        ),
    }


def next_order_evaluation(
    model: WinbackModel,
    test: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    cutoff: pd.Timestamp,
    holdout_days: int,
    btyd: FittedBTYD | None = None,
) -> dict[str, Any]:
    """Evaluate the predicted next-order days on the holdout after ``cutoff``.

    Parameters
    ----------
    model : WinbackModel
        The backtest model (its :attr:`~WinbackModel.btyd_model` is ``winback``'s).
    test : DataFrame
        Its features at ``cutoff``, indexed by ``customer_id``.
    orders : DataFrame
        Validated orders covering the holdout.
    holdout_days : int
        Length of the holdout window in days.
    btyd : FittedBTYD, optional
        The BTYD models to evaluate (default: the model's own, fitted at ``cutoff``).

    Returns
    -------
    dict
        ``definition``, ``holdout_days``, ``customers``, ``btyd_model`` (winback's),
        ``method_descriptions`` and ``methods``: method -> the metrics of the module docstring.
    """
    btyd = model.btyd if btyd is None else btyd
    actual = next_order_days(orders, test.index, cutoff=cutoff, holdout_days=holdout_days)
    predicted = {}
    chosen = model.btyd_model
    for name in BTYD_MODELS:
        if getattr(btyd, name) is not None:
            outlook = btyd_outlook(test, getattr(btyd, name), name)
            predicted[name] = outlook["days_to_next_order"].to_numpy(dtype=float)
    if chosen in predicted:
        predicted = {"winback": predicted[chosen], **predicted}
    predicted["mean_gap"] = mean_gap_days(test)
    return {
        "definition": (
            "days from the cutoff to the next purchase day; errors over the customers who "
            f"ordered within {holdout_days} days"
        ),
        "holdout_days": holdout_days,
        "customers": len(test),
        "btyd_model": chosen,
        "method_descriptions": {m: NEXT_ORDER_METHODS[m] for m in predicted},
        "methods": {m: _metrics(p, actual, holdout_days) for m, p in predicted.items()},
    }
