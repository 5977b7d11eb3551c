"""Labels, training frames and cutoff schedules: :func:`build_labels`,
:func:`build_training_frame` and :func:`propose_cutoffs`.

A label of horizon ``h`` at cutoff ``c`` looks at the orders dated in ``(c, c + h]``. Those
days must all lie within the data, or a customer who bought on a day the data does not cover
would be labelled a non-buyer; so the builders refuse (:class:`~winback.exceptions.LeakageError`)
any cutoff whose label window ends after ``data_end``, the last date the data covers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from winback.dates import (
    DateLike,
    cutoff_day,
    cutoff_days,
    day_to_timestamp,
    horizon_list,
    last_covered_day,
)
from winback.exceptions import ConfigError, DataError, LeakageError
from winback.features._build import feature_frame, prepare_side_tables, resolve_config
from winback.features._config import FeatureConfig
from winback.features._log import OrderLog, prepare_orders, segment_reduce

__all__ = ["build_labels", "build_training_frame", "propose_cutoffs"]


def _date(day: int) -> str:
    return str(day_to_timestamp(day).date())


def _data_end_day(orders: pd.DataFrame, data_end: DateLike | None) -> int:
    """Day number of ``data_end``, by default the calendar day of the latest order."""
    if data_end is not None:
        return last_covered_day(data_end, name="data_end")
    if "order_ts" not in orders.columns or orders["order_ts"].isna().all():
        raise DataError(
            "orders have no order_ts values to take the data's last date from; pass data_end= "
            "or read non-empty orders through winback.io."
        )
    return last_covered_day(orders["order_ts"].max(), name="data_end")


def _refuse_open_windows(
    cutoffs: list[int], horizon: int, data_end: int, *, explicit: bool
) -> None:
    """Raise LeakageError if a cutoff's label window ends after ``data_end``."""
    late = [c for c in cutoffs if c + horizon > data_end]
    if not late:
        return
    c = late[0]
    source = "data_end" if explicit else "the latest order date; pass data_end= if it covers more"
    others = "" if len(late) == 1 else f" {len(late)} of {len(cutoffs)} cutoffs are affected."
    raise LeakageError(
        f"the {horizon}-day label window of cutoff {_date(c)} ends on {_date(c + horizon)}, "
        f"after the data's last date {_date(data_end)} ({source}), so its labels would miss "
        f"purchases. Use cutoffs on or before {_date(data_end - horizon)}, a shorter horizon, "
        f"or propose_cutoffs().{others}"
    )


def label_frame(log: OrderLog, codes: np.ndarray, cutoff: int, horizons: list[int]) -> pd.DataFrame:
    """Labels of the customers with ``codes`` (sorted) from the rows of ``log`` after ``cutoff``.

    Per horizon: ``purchased_within_{h}d`` (int64 0/1: a purchase, an order with amount > 0,
    in the window; a refund alone is not one) and ``spend_within_{h}d`` (float64, net of the
    window's refunds).
    """
    start = log.positions(codes, cutoff)
    refund_start = log.refund_positions(codes, cutoff)
    out: dict[str, np.ndarray] = {}
    for h in horizons:
        end = log.positions(codes, cutoff + h)
        refund_end = log.refund_positions(codes, cutoff + h)
        spend = segment_reduce(np.add, log.amount, np.column_stack([start, end]), empty=0.0)
        refunded = segment_reduce(
            np.add, log.refund_amount, np.column_stack([refund_start, refund_end]), empty=0.0
        )
        out[f"purchased_within_{h}d"] = (end > start).astype(np.int64)
        out[f"spend_within_{h}d"] = spend[:, 0] + refunded[:, 0]
    return pd.DataFrame(out, index=log.ids_of(codes), copy=False)


def build_labels(
    orders: pd.DataFrame,
    *,
    cutoff: DateLike,
    horizons_days: int | Iterable[int],
    data_end: DateLike | None = None,
) -> pd.DataFrame:
    """Return the labels of each customer with an order at or before ``cutoff``.

    Parameters
    ----------
    orders
        Validated orders (``customer_id``, ``order_ts``, ``amount``).
    cutoff
        Calendar date (midnight); the population is the customers who bought on or before it.
    horizons_days
        One or more label horizons ``h`` in days; labels look at ``(cutoff, cutoff + h]``.
    data_end
        Last calendar date the data covers. Default: the date of the latest order, which is
        safe because it can only refuse more cutoffs, never let an unobserved day in.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (sorted), the customers with a purchase (an order with
        amount > 0) at or before ``cutoff``; per horizon ``purchased_within_{h}d`` (int64, 1 if
        at least one purchase in the window: cancellations and refunds, amount <= 0, are not
        purchases) and ``spend_within_{h}d`` (float64, the sum of the window's amounts;
        refunds subtract).

    Raises
    ------
    LeakageError
        If ``cutoff + max(horizons_days)`` is after ``data_end``.
    """
    c = cutoff_day(cutoff)
    horizons = horizon_list(horizons_days)
    _refuse_open_windows(
        [c], horizons[-1], _data_end_day(orders, data_end), explicit=data_end is not None
    )
    log = prepare_orders(orders, last_day=c + horizons[-1], optional_columns=False)
    return label_frame(log, log.upto(c).codes, c, horizons)


def build_training_frame(
    orders: pd.DataFrame,
    *,
    cutoffs: Iterable[DateLike],
    horizons_days: int | Iterable[int],
    events: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    config: FeatureConfig | Mapping[str, Any] | None = None,
    data_end: DateLike | None = None,
) -> pd.DataFrame:
    """Return features and labels of every customer at every cutoff, stacked.

    Each row is a (cutoff, customer) pair for the customers with an order at or before that
    cutoff: the :func:`~winback.features.build_features` columns at the cutoff followed by the
    :func:`build_labels` columns of the window after it. The orders are sorted once for all
    cutoffs. Unpinned event types (``config.event_types=None``) are those seen at or before the
    latest cutoff, so every cutoff has the same columns.

    Parameters
    ----------
    orders, events, customers, config
        As for :func:`~winback.features.build_features`.
    cutoffs
        Calendar dates (midnight), distinct; output is sorted by cutoff.
    horizons_days
        One or more label horizons in days.
    data_end
        Last calendar date the data covers (default: the date of the latest order). Every
        cutoff must leave a full label window: ``cutoff + max(horizons_days) <= data_end``.

    Returns
    -------
    DataFrame
        MultiIndex (``cutoff``, ``customer_id``), feature columns then label columns.

    Raises
    ------
    LeakageError
        If a cutoff's label window ends after ``data_end``; the message names the cutoff, the
        horizon, the window's end and the data's last date.
    """
    cfg = resolve_config(config)
    days = cutoff_days(cutoffs)
    horizons = horizon_list(horizons_days)
    _refuse_open_windows(
        days, horizons[-1], _data_end_day(orders, data_end), explicit=data_end is not None
    )
    log = prepare_orders(orders, last_day=days[-1] + horizons[-1])
    ev, table = prepare_side_tables(
        log, events=events, customers=customers, config=cfg, last_cutoff=days[-1]
    )
    frames = []
    for c in days:
        past = log.upto(c)
        features = feature_frame(past, cutoff=c, config=cfg, events=ev, customers=table)
        frames.append(features.join(label_frame(log, past.codes, c, horizons)))
    keys = pd.DatetimeIndex([day_to_timestamp(c) for c in days]).as_unit("ns")
    return pd.concat(frames, keys=keys, names=["cutoff", "customer_id"])


def _positive_days(value: object, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"{name} must be a whole number of days >= {minimum}, got {value!r}.")
    return int(value)


def propose_cutoffs(
    orders: pd.DataFrame,
    *,
    every_days: int,
    horizon_days: int,
    min_history_days: int,
    data_end: DateLike | None = None,
) -> list[pd.Timestamp]:
    """Return training cutoffs spaced ``every_days`` apart, ascending.

    The latest is the last date that leaves a full label window (``data_end - horizon_days``);
    the others step back from it by ``every_days`` while at least ``min_history_days`` days of
    history precede them (counted from the date of the first order).

    Parameters
    ----------
    orders
        Validated orders; only ``order_ts`` is read.
    every_days, horizon_days, min_history_days
        Spacing, label horizon and minimum history, in days.
    data_end
        Last calendar date the data covers (default: the date of the latest order).

    Returns
    -------
    list of Timestamp
        Midnight timestamps, ascending (oldest first, latest admissible cutoff last).

    Raises
    ------
    DataError
        If the data are too short for a single cutoff.

    Examples
    --------
    >>> orders = pd.DataFrame({"order_ts": pd.to_datetime(["2024-01-01", "2024-06-30"])})
    >>> [str(c.date()) for c in propose_cutoffs(
    ...     orders, every_days=30, horizon_days=90, min_history_days=30)]
    ['2024-02-01', '2024-03-02', '2024-04-01']
    """
    every = _positive_days(every_days, "every_days")
    horizon = _positive_days(horizon_days, "horizon_days")
    history = _positive_days(min_history_days, "min_history_days", minimum=0)
    end = _data_end_day(orders, data_end)
    first = last_covered_day(orders["order_ts"].min(), name="first order date")
    earliest, latest = first + history, end - horizon
    if latest < earliest:
        raise DataError(
            f"the data run from {_date(first)} to {_date(end)}, too short for "
            f"{history} days of history plus a {horizon}-day label window; lower "
            "min_history_days or horizon_days, or use more data."
        )
    return [day_to_timestamp(d) for d in range(latest, earliest - 1, -every)][::-1]
