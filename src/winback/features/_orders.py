"""Order-history features of each customer at a cutoff, computed on an :class:`OrderLog`.

The functions take a log holding only rows dated on or before the cutoff (``log.upto``) and
return numpy arrays aligned with ``log.codes``; the column definitions are in
:mod:`winback.features._definitions`. Counts, days and gaps are of purchases (amount > 0);
money nets the refunds in (see :mod:`winback.features._log`).
"""

from __future__ import annotations

import numpy as np

from winback.features._log import OrderLog, rows_of, segment_reduce

__all__ = ["order_features", "purchase_days"]


def _per_customer(ufunc: np.ufunc, log: OrderLog, values: np.ndarray, dtype=None) -> np.ndarray:
    """``ufunc`` reduced over each customer's rows (every customer has at least one)."""
    if len(values) == 0:
        return np.zeros(0, dtype=dtype or values.dtype)
    return ufunc.reduceat(values, log.starts, dtype=dtype)


def purchase_days(log: OrderLog) -> dict[str, np.ndarray]:
    """Per customer: distinct purchase days, first/last day, first-day and repeat-day spend.

    Orders on one calendar day form one purchase day (lifetimes' convention);
    ``repeat_total`` is the spend of the purchase days after the first.
    """
    first_day_end = np.searchsorted(log.key, log.key[log.starts], side="right")
    bounds = np.column_stack([log.starts, first_day_end, log.stops])
    spend = segment_reduce(np.add, log.amount, bounds, empty=0.0)
    return {
        "n_days": _per_customer(np.add, log, log.new_day, dtype=np.int64),
        "first_day": log.days_at(log.starts),
        "last_day": log.days_at(log.stops - 1),
        "first_total": spend[:, 0],
        "repeat_total": spend[:, 1],
    }


def _squared_gap_sums(log: OrderLog) -> np.ndarray:
    """Per customer: sum of squared days between consecutive purchase days (exact int64)."""
    gap = np.empty(len(log.key), dtype=np.int64)
    gap[:1] = 0
    np.subtract(log.key[1:], log.key[:-1], out=gap[1:])  # 0 within a day
    gap[log.starts] = 0  # a customer's first row has no previous purchase day
    gap *= gap
    return _per_customer(np.add, log, gap)


def _gap_features(log: OrderLog, days: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Mean, sample std (ddof=1) and last of the gaps between consecutive purchase days."""
    k = days["n_days"] - 1
    span = days["last_day"] - days["first_day"]
    # variance from exact integer sums: (k * S2 - S1^2) / (k (k - 1)), with S1 = span
    numerator = k * _squared_gap_sums(log) - span * span
    with np.errstate(divide="ignore", invalid="ignore"):
        gap_mean = np.where(k > 0, span / k, np.nan)
        gap_var = np.where(k > 1, numerator / (k * (k - 1.0)), np.nan)
    last_day_start = np.searchsorted(log.key, log.key[log.stops - 1], side="left")
    previous_day = log.days_at(np.maximum(last_day_start - 1, 0))
    return {
        "gap_mean_days": gap_mean,
        "gap_std_days": np.sqrt(np.maximum(gap_var, 0.0)),  # NaN stays NaN
        "gap_last_days": np.where(k > 0, days["last_day"] - previous_day, np.nan),
    }


def _window_features(log: OrderLog, cutoff: int, windows: list[int]) -> dict[str, np.ndarray]:
    """Orders and spend in (c - w, c] and their change from (c - 2w, c - w], per window w.

    Each row falls in one interval between consecutive window bounds; one ``bincount`` of
    (customer, interval) gives every window's counts and another its spend.
    """
    bounds = np.array(sorted({cutoff - f * w for w in windows for f in (1, 2)} | {cutoff}))
    n_cells = len(bounds)
    day_of_offset = np.arange(1 << log.day_bits) + log.day0
    interval = np.searchsorted(bounds, day_of_offset, side="left")
    interval = interval.astype(np.min_scalar_type(n_cells))  # a small lookup table per day
    cell = np.repeat(np.arange(len(log.starts), dtype=np.int64) * n_cells, log.stops - log.starts)
    cell += interval[log.key & ((1 << log.day_bits) - 1)]
    size = len(log.starts) * n_cells
    counts = np.bincount(cell, minlength=size).reshape(-1, n_cells)
    spend = np.bincount(cell, weights=log.amount, minlength=size).astype(np.float64, copy=False)
    del cell
    owner = rows_of(log.codes, log.refund_key >> log.day_bits)  # refunds of the population
    known = owner >= 0
    refund_cell = (
        owner[known] * n_cells + interval[log.refund_key[known] & ((1 << log.day_bits) - 1)]
    )
    spend += np.bincount(refund_cell, weights=log.refund_amount[known], minlength=size)
    spend = spend.reshape(-1, n_cells)
    # cell j >= 1 holds the rows dated in (bounds[j - 1], bounds[j]]; cell 0 the older ones
    column = {day: j + 1 for j, day in enumerate(bounds)}
    out: dict[str, np.ndarray] = {}
    for w in windows:
        recent, previous = column[cutoff - w], column[cutoff - 2 * w]
        orders_recent = counts[:, recent:].sum(axis=1)
        spend_recent = spend[:, recent:].sum(axis=1)
        out[f"orders_last_{w}d"] = orders_recent
        out[f"spend_last_{w}d"] = spend_recent
        out[f"orders_trend_{w}d"] = orders_recent - counts[:, previous:recent].sum(axis=1)
        out[f"spend_trend_{w}d"] = spend_recent - spend[:, previous:recent].sum(axis=1)
    return out


def _share(log: OrderLog, flags: np.ndarray) -> np.ndarray:
    return _per_customer(np.add, log, flags, dtype=np.int64) / (log.stops - log.starts)


def _refund_share(n_orders: np.ndarray, n_refunds: np.ndarray) -> np.ndarray:
    """Share of a customer's orders that are cancellations or refunds (amount <= 0)."""
    return n_refunds / (n_orders + n_refunds)


def _distinct_categories(log: OrderLog) -> np.ndarray:
    """Per customer: number of distinct non-missing categories."""
    n_categories = max(int(log.category.max(initial=-1)) + 1, 1)
    owner = np.repeat(np.arange(len(log.starts), dtype=np.int64), log.stops - log.starts)
    has = log.category >= 0
    pairs = np.unique(owner[has] * n_categories + log.category[has])
    return np.bincount(pairs // n_categories, minlength=len(log.starts))


def order_features(log: OrderLog, *, cutoff: int, windows: list[int]) -> dict[str, np.ndarray]:
    """Return the order features of every customer of ``log`` at ``cutoff``.

    ``log`` must hold only rows dated on or before ``cutoff``. Counts are int64, the rest
    float64; ``discount_share`` and ``n_categories`` (of purchases) appear only when the log has
    discounts or categories.
    """
    windowed = _window_features(log, cutoff, windows)  # first: its temporaries are the largest
    days = purchase_days(log)
    n_orders = log.stops - log.starts
    n_refunds, refunded = log.refund_totals(log.codes)
    total = _per_customer(np.add, log, log.amount) + refunded
    gaps = _gap_features(log, days)
    since_last = (cutoff - days["last_day"]).astype(np.float64)
    tenure = (cutoff - days["first_day"]).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        overdue = since_last / gaps["gap_mean_days"]
        per_tenure = np.where(tenure > 0, 1.0 / tenure, np.nan)
    out: dict[str, np.ndarray] = {
        "days_since_last_order": since_last,
        "n_orders": n_orders,
        "n_purchase_days": days["n_days"],
        "frequency": days["n_days"] - 1,
        "tenure_days": tenure,
        "active_span_days": (days["last_day"] - days["first_day"]).astype(np.float64),
        # rates over tenure keep their range as a customer base ages, where counts and
        # tenure itself leave the range trees were trained on
        "repeat_days_per_30d": 30.0 * (days["n_days"] - 1) * per_tenure,
        "recency_share": since_last * per_tenure,
        "monetary_total": total,
        "monetary_mean": total / n_orders,
        "monetary_max": _per_customer(np.maximum, log, log.amount),
        "first_purchase_value": days["first_total"],
        **gaps,
        "overdue_ratio": overdue,
        **windowed,
        "refund_share": _refund_share(n_orders, n_refunds),
    }
    if log.discount is not None:
        out["discount_share"] = _share(log, log.discount > 0)
    if log.category is not None:
        out["n_categories"] = _distinct_categories(log)
    return out
