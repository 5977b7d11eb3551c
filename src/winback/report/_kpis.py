"""Business KPIs: retention KPIs from orders at a cutoff, and churn-risk KPIs of a scored frame.

Definitions used throughout (orders follow winback's data contract):

- A *purchase* is an order row with ``amount >= 0``; rows with ``amount < 0`` are refunds/returns
  and only reduce revenue. Purchase rows sharing ``(customer_id, order_id)`` are one order (at its
  earliest row); without an ``order_id`` (or where it is missing) each row is one order.
- *Revenue* is the net sum of ``amount`` (refunds included) of the rows in a window.
- The *latest period* is the ``period_days`` calendar days ending on the cutoff day:
  ``cutoff + 1 day - period_days <= order_ts < cutoff + 1 day``; the *previous period* is the
  ``period_days`` days before it. Nothing after the cutoff day is read.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd

from winback.dates import DateLike, cutoff_day, day_to_timestamp
from winback.exceptions import ConfigError, DataError

__all__ = ["group_summary", "monthly_activity", "retention_kpis", "scored_kpis"]

_ORDER_COLUMNS = ("customer_id", "order_ts", "amount")
_SCORED_COLUMNS = ("customer_id", "p_churn", "expected_value", "risk_tier", "segment")
_OPTIONAL_GROUPINGS = ("action", "group")
_MISSING_LABEL = "(missing)"
_DAY = pd.Timedelta(days=1)


# ------------------------------------------------------------------------------------ inputs
def as_cutoff(cutoff: DateLike) -> pd.Timestamp:
    """The cutoff as a midnight, tz-naive UTC Timestamp; refuses a time of day other than 00:00."""
    return day_to_timestamp(cutoff_day(cutoff))


def _check_columns(frame: pd.DataFrame, required: tuple[str, ...], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}.")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(
            f"{name} is missing the column(s) {missing}; expected at least {list(required)}, "
            f"found {list(frame.columns)}."
        )


def _orders_up_to(orders: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    _check_columns(orders, _ORDER_COLUMNS, "orders")
    if not pd.api.types.is_datetime64_any_dtype(orders["order_ts"]):
        raise DataError(
            f"orders column 'order_ts' must be datetime64, got {orders['order_ts'].dtype}; "
            "read orders through winback.io so they are validated."
        )
    return orders.loc[orders["order_ts"] < cutoff + _DAY]


def _purchase_orders(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per purchase order: ``customer_id``, ``order_ts`` (earliest row), ``amount``."""
    purchases = rows.loc[rows["amount"] >= 0, ["customer_id", "order_ts", "amount"]]
    if "order_id" not in rows.columns:
        return purchases
    order_id = rows.loc[purchases.index, "order_id"]
    with_id = purchases.assign(order_id=order_id).loc[order_id.notna()]
    grouped = with_id.groupby(["customer_id", "order_id"], sort=False, observed=True).agg(
        order_ts=("order_ts", "min"), amount=("amount", "sum")
    )
    return pd.concat([grouped.reset_index(level=0), purchases.loc[order_id.isna()]])


def _between(frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    return frame.loc[(frame["order_ts"] >= start) & (frame["order_ts"] < end)]


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else math.nan


# ------------------------------------------------------------------------------ retention KPIs
def retention_kpis(
    orders: pd.DataFrame,
    *,
    cutoff: DateLike,
    period_days: int = 90,
) -> dict[str, Any]:
    """Retention KPIs of the ``period_days`` days ending on ``cutoff``, from orders up to it.

    Parameters
    ----------
    orders : DataFrame
        Validated orders with at least ``customer_id``, ``order_ts``, ``amount`` (optional
        ``order_id``). Rows after the cutoff day are ignored.
    cutoff : date-like
        Last calendar day (UTC) of the latest period; required, never inferred from the data.
    period_days : int, default 90
        Length of the latest and of the previous period in days.

    Returns
    -------
    dict
        - ``cutoff``, ``period_start`` (first day of the latest period), ``previous_period_start``
          (ISO dates) and ``period_days``;
        - ``customers_to_date``: customers with a purchase on or before the cutoff;
        - ``active_customers``: customers with a purchase in the latest period;
        - ``new_customers``: active customers whose first purchase ever is in the latest period;
        - ``previous_active_customers``: customers with a purchase in the previous period;
        - ``retained_customers``: of those, the ones who purchased again in the latest period;
        - ``retention_rate`` = retained / previous active;
        - ``churned_customers`` = previous active - retained;
        - ``repeat_purchase_rate``: share of active customers with 2+ orders in the latest period;
        - ``revenue`` (net of refunds), ``orders``, ``average_order_value`` = revenue / orders and
          ``orders_per_customer`` = orders / active customers, all for the latest period.

        Counts are ints, the rest floats; a ratio with a zero denominator is NaN.
    """
    if not isinstance(period_days, int) or period_days < 1:
        raise ConfigError(f"period_days must be a positive integer, got {period_days!r}.")
    day = as_cutoff(cutoff)
    end = day + _DAY
    start, previous_start = end - period_days * _DAY, end - 2 * period_days * _DAY
    rows = _orders_up_to(orders, day)
    purchases = _purchase_orders(rows)
    latest = _between(purchases, start, end)
    active = pd.Index(latest["customer_id"].unique())
    previous = pd.Index(_between(purchases, previous_start, start)["customer_id"].unique())
    earlier = pd.Index(purchases.loc[purchases["order_ts"] < start, "customer_id"].unique())
    retained = previous.intersection(active)
    orders_per_active = latest.groupby("customer_id", observed=True).size()
    revenue = float(_between(rows, start, end)["amount"].sum())
    return {
        "cutoff": day.date().isoformat(),
        "period_days": period_days,
        "period_start": start.date().isoformat(),
        "previous_period_start": previous_start.date().isoformat(),
        "customers_to_date": int(purchases["customer_id"].nunique()),
        "active_customers": len(active),
        "new_customers": len(active.difference(earlier)),
        "previous_active_customers": len(previous),
        "retained_customers": len(retained),
        "retention_rate": _ratio(len(retained), len(previous)),
        "churned_customers": len(previous) - len(retained),
        "repeat_purchase_rate": _ratio(int((orders_per_active >= 2).sum()), len(active)),
        "revenue": revenue,
        "orders": len(latest),
        "average_order_value": _ratio(revenue, len(latest)),
        "orders_per_customer": _ratio(len(latest), len(active)),
    }


def monthly_activity(orders: pd.DataFrame, *, cutoff: DateLike) -> pd.DataFrame:
    """Active customers, orders and net revenue per calendar month, up to the cutoff day.

    Returns
    -------
    DataFrame
        One row per month from the first order's month to the cutoff's month (months without
        orders included, with zeros); columns ``month`` (datetime64, first day of the month),
        ``active_customers`` and ``orders`` (int64: customers with a purchase / purchase orders)
        and ``revenue`` (float64, net of refunds). The cutoff's month is partial: it stops at
        the cutoff day.
    """
    day = as_cutoff(cutoff)
    rows = _orders_up_to(orders, day)
    if rows.empty:
        return pd.DataFrame(
            {
                "month": pd.Series(dtype="datetime64[ns]"),
                "active_customers": pd.Series(dtype="int64"),
                "orders": pd.Series(dtype="int64"),
                "revenue": pd.Series(dtype="float64"),
            }
        )
    months = pd.period_range(rows["order_ts"].min(), day, freq="M")
    purchases = _purchase_orders(rows)
    by_month = purchases.groupby(purchases["order_ts"].dt.to_period("M"))["customer_id"]
    revenue = rows.groupby(rows["order_ts"].dt.to_period("M"))["amount"].sum()
    table = pd.DataFrame(
        {
            "active_customers": by_month.nunique(),
            "orders": by_month.size(),
            "revenue": revenue,
        }
    ).reindex(months)
    return pd.DataFrame(
        {
            "month": months.to_timestamp().astype("datetime64[ns]"),
            "active_customers": table["active_customers"].fillna(0).to_numpy(dtype="int64"),
            "orders": table["orders"].fillna(0).to_numpy(dtype="int64"),
            "revenue": table["revenue"].fillna(0.0).to_numpy(dtype="float64"),
        }
    )


# ---------------------------------------------------------------------------------- scored KPIs
def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds, for readable error messages."""
    return value.item() if isinstance(value, np.generic) else value


def _check_scored(scored: pd.DataFrame) -> None:
    _check_columns(scored, _SCORED_COLUMNS, "scored")
    for column in ("p_churn", "expected_value"):
        values = pd.to_numeric(scored[column], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if column == "p_churn":
            bad |= (values < 0) | (values > 1)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            expected = "finite numbers in [0, 1]" if column == "p_churn" else "finite numbers"
            found = _plain(scored[column].iloc[first])
            raise DataError(
                f"scored column {column!r} must hold {expected}; found {found!r} at row {first} "
                f"({int(bad.sum())} bad rows)."
            )
    duplicated = scored["customer_id"].duplicated()
    if duplicated.any():
        raise DataError(
            f"scored must hold one row per customer; customer_id "
            f"{_plain(scored.loc[duplicated, 'customer_id'].iloc[0])!r} appears more than once "
            f"({int(duplicated.sum())} duplicate rows)."
        )


def group_summary(
    scored: pd.DataFrame,
    by: str,
    *,
    sort_by: Literal["value_at_risk", "mean_p_churn"] = "value_at_risk",
) -> pd.DataFrame:
    """Customers, mean churn probability, expected value and value at risk per value of ``by``.

    Parameters
    ----------
    scored : DataFrame
        Scored customers: ``customer_id``, ``p_churn``, ``expected_value`` and the column ``by``.
    by : str
        Grouping column, e.g. ``"risk_tier"``, ``"segment"``, ``"action"``, ``"group"``. Missing
        labels form the group ``"(missing)"``.
    sort_by : {"value_at_risk", "mean_p_churn"}, default "value_at_risk"
        Row order when ``by`` is not categorical: decreasing ``sort_by``, ties by label.

    Returns
    -------
    DataFrame
        Indexed by the group label (str); columns ``customers`` (int), ``share`` (of all scored
        customers), ``mean_p_churn``, ``expected_value`` (sum) and ``value_at_risk`` (sum of
        ``p_churn * expected_value``: the value expected to be lost without action). Rows follow
        the column's category order when it is categorical, else ``sort_by``.
    """
    if sort_by not in ("value_at_risk", "mean_p_churn"):
        raise ConfigError(f"sort_by must be 'value_at_risk' or 'mean_p_churn', got {sort_by!r}.")
    _check_columns(scored, ("customer_id", "p_churn", "expected_value", by), "scored")
    column = scored[by]
    ordered = isinstance(column.dtype, pd.CategoricalDtype)
    labels = column.astype(str).where(column.notna(), _MISSING_LABEL)
    frame = pd.DataFrame(
        {
            "label": labels.to_numpy(dtype=object),
            "p_churn": scored["p_churn"].to_numpy(dtype=float),
            "expected_value": scored["expected_value"].to_numpy(dtype=float),
        }
    )
    frame["value_at_risk"] = frame["p_churn"] * frame["expected_value"]
    table = frame.groupby("label", sort=True).agg(
        customers=("p_churn", "size"),
        mean_p_churn=("p_churn", "mean"),
        expected_value=("expected_value", "sum"),
        value_at_risk=("value_at_risk", "sum"),
    )
    table.insert(1, "share", table["customers"] / len(frame))
    table.index = table.index.astype(object)
    table.index.name = by
    if ordered:
        order = [str(c) for c in column.cat.categories if str(c) in table.index]
        return table.reindex(order + [x for x in table.index if x not in order])
    return table.sort_values(sort_by, ascending=False, kind="stable")


def scored_kpis(scored: pd.DataFrame) -> dict[str, Any]:
    """Counts and expected value at risk of scored customers, overall and per group.

    Parameters
    ----------
    scored : DataFrame
        One row per customer: ``customer_id``, ``p_churn`` (in [0, 1]), ``expected_value``
        (the customer's expected value if retained), ``risk_tier``, ``segment`` and optionally
        ``action`` and ``group`` (e.g. treatment/control).

    Returns
    -------
    dict
        ``customers``, ``mean_p_churn``, ``expected_value`` (sum), ``value_at_risk`` (sum of
        ``p_churn * expected_value``) and ``by_risk_tier``, ``by_segment`` (and ``by_action``,
        ``by_group`` when those columns exist): dicts of label to the row of
        :func:`group_summary` (``customers``, ``share``, ``mean_p_churn``, ``expected_value``,
        ``value_at_risk``), in its row order: risk tiers by decreasing mean ``p_churn``, the
        others by decreasing value at risk (category order for categorical columns).
    """
    _check_scored(scored)
    p = scored["p_churn"].to_numpy(dtype=float)
    value = scored["expected_value"].to_numpy(dtype=float)
    kpis: dict[str, Any] = {
        "customers": len(scored),
        "mean_p_churn": float(p.mean()) if len(p) else math.nan,
        "expected_value": float(value.sum()),
        "value_at_risk": float(np.sum(p * value)),
    }
    kpis["by_risk_tier"] = _summary_records(
        group_summary(scored, "risk_tier", sort_by="mean_p_churn")
    )
    for by in ("segment", *_OPTIONAL_GROUPINGS):
        if by in scored.columns:
            kpis[f"by_{by}"] = _summary_records(group_summary(scored, by))
    return kpis


def _summary_records(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {
        str(label): {
            "customers": int(row.customers),
            "share": float(row.share),
            "mean_p_churn": float(row.mean_p_churn),
            "expected_value": float(row.expected_value),
            "value_at_risk": float(row.value_at_risk),
        }
        for label, row in table.iterrows()
    }
