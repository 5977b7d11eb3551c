"""Business KPIs: retention KPIs from orders at a cutoff, and churn-risk KPIs of a scored frame.

Definitions used throughout (orders follow winback's data contract):

- A *purchase* is an order that :func:`winback.io.purchase_mask` calls one: a positive net
  amount (or a free order, amount 0 with a positive quantity); the others are cancellations,
  refunds and returns and only reduce revenue. Rows sharing ``(customer_id, order_id)`` are one
  order (at its earliest row, amount netted; the reader has aggregated them already); without an
  ``order_id`` (or where it is missing) each row is one order.
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

from winback.actions import (
    MIN_STAY_PROBABILITY,
    VALUE_AT_RISK_DEFINITION,
    value_if_retained,
)
from winback.actions import value_at_risk as value_at_risk_of
from winback.dates import DateLike, cutoff_day, day_to_timestamp
from winback.exceptions import ConfigError, DataError
from winback.io import check_frame, purchase_mask

__all__ = [
    "MIN_STAY_PROBABILITY",
    "RETENTION_KPIS",
    "VALUE_AT_RISK_DEFINITIONS",
    "group_summary",
    "monthly_activity",
    "retention_by_period",
    "retention_kpis",
    "scored_kpis",
    "value_at_risk",
]

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
    check_frame(orders, "orders", where="winback.report")
    return orders.loc[orders["order_ts"] < cutoff + _DAY]


def _purchase_orders(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per purchase order: ``customer_id``, ``order_ts`` (earliest row), ``amount``."""
    columns = [c for c in ("customer_id", "order_ts", "amount", "quantity") if c in rows.columns]
    if "order_id" in rows.columns and rows["order_id"].notna().any():
        with_id = rows.loc[rows["order_id"].notna(), [*columns, "order_id"]]
        grouped = with_id.groupby(["customer_id", "order_id"], sort=False, observed=True).agg(
            order_ts=("order_ts", "min"),
            amount=("amount", "sum"),
            **({"quantity": ("quantity", "sum")} if "quantity" in columns else {}),
        )
        rows = pd.concat([grouped.reset_index(level=0), rows.loc[rows["order_id"].isna(), columns]])
    return rows.loc[purchase_mask(rows), ["customer_id", "order_ts", "amount"]]


def _between(frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    return frame.loc[(frame["order_ts"] >= start) & (frame["order_ts"] < end)]


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else math.nan


# ------------------------------------------------------------------------------ retention KPIs
#: KPI key -> (label, kind, definition): the retention KPIs of a period, in report order. The
#: definitions are printed in the report; ``kind`` picks the number format.
RETENTION_KPIS: dict[str, tuple[str, str, str]] = {
    "previous_active_customers": (
        "Customers at the start (S)",
        "count",
        "customers with a purchase in the previous period",
    ),
    "active_customers": (
        "Customers at the end (E)",
        "count",
        "customers with a purchase in the period",
    ),
    "new_customers": (
        "New customers (N)",
        "count",
        "customers whose first purchase ever is in the period",
    ),
    "retained_customers": (
        "Retained customers",
        "count",
        "customers with a purchase in both the previous period and the period",
    ),
    "retention_rate": (
        "Customer retention rate",
        "rate",
        "(E − N) / S: customers of the period who had bought before it, over the customers at "
        "the start; it counts customers reactivated from before the previous period too, so it "
        "can exceed 100%",
    ),
    "churned_customers": (
        "Churned customers",
        "count",
        "S − retained: customers of the previous period without a purchase in the period",
    ),
    "churn_rate": ("Churn rate", "rate", "churned customers / S"),
    "repeat_purchase_rate": (
        "Repeat-purchase rate",
        "rate",
        "share of the period's customers (E) with two or more orders in the period",
    ),
    "revenue": ("Revenue", "money", "net sum of the period's order amounts, refunds included"),
    "orders": ("Orders", "count", "purchase orders in the period"),
    "average_order_value": ("Average order value", "money", "revenue / orders"),
    "purchase_frequency": ("Purchase frequency", "number", "orders / customers of the period (E)"),
    "time_between_purchases_days": (
        "Time between purchases (days)",
        "number",
        "mean number of calendar days between a customer's purchase order in the period and "
        "their previous purchase order (which may be before the period)",
    ),
    "lifespan_periods": (
        "Customer lifespan (periods)",
        "number",
        "1 / churn rate: the expected number of periods a customer stays if the period's churn "
        "rate held",
    ),
    "textbook_clv": (
        "Textbook CLV",
        "money",
        "average order value × purchase frequency × lifespan: the revenue of a customer over "
        "their expected lifespan at the period's rates, undiscounted",
    ),
}


def retention_by_period(
    orders: pd.DataFrame,
    *,
    cutoff: DateLike,
    period_days: int = 90,
    n_periods: int | None = None,
) -> pd.DataFrame:
    """Retention KPIs of consecutive ``period_days`` periods, the last one ending on ``cutoff``.

    Parameters
    ----------
    orders : DataFrame
        Validated orders with at least ``customer_id``, ``order_ts``, ``amount`` (optional
        ``order_id``). Rows after the cutoff day are ignored.
    cutoff : date-like
        Last calendar day (UTC) of the latest period; required, never inferred from the data.
    period_days : int, default 90
        Length of each period in days.
    n_periods : int, optional
        Number of periods, the latest last; default: every period back to the one holding the
        first order (at least one).

    Returns
    -------
    DataFrame
        One row per period, oldest first: ``period_start`` and ``period_end`` (ISO dates, both
        days included), then the keys of :data:`RETENTION_KPIS` (counts int64, the rest
        float64). A period's *previous period* is the ``period_days`` days before it, even when
        that is before the first order. A ratio with a zero denominator is NaN.
    """
    if not isinstance(period_days, int) or period_days < 1:
        raise ConfigError(f"period_days must be a positive integer, got {period_days!r}.")
    if n_periods is not None and (not isinstance(n_periods, int) or n_periods < 1):
        raise ConfigError(f"n_periods must be a positive integer, got {n_periods!r}.")
    day = as_cutoff(cutoff)
    rows = _orders_up_to(orders, day)
    purchases = _with_gaps(_purchase_orders(rows))
    end = day + _DAY
    if n_periods is None:
        first = rows["order_ts"].min() if len(rows) else day
        n_periods = max(1, int((end - first) // (period_days * _DAY)) + 1)
    first_purchase = purchases.groupby("customer_id", observed=True)["order_ts"].min()
    starts = [end - (k + 1) * period_days * _DAY for k in reversed(range(n_periods))]
    table = [
        _period_kpis(rows, purchases, first_purchase, start, start + period_days * _DAY)
        for start in starts
    ]
    return pd.DataFrame(table, columns=["period_start", "period_end", *RETENTION_KPIS])


def _with_gaps(purchases: pd.DataFrame) -> pd.DataFrame:
    """Purchase orders with ``gap_days``: calendar days since the customer's previous order."""
    ordered = purchases.sort_values(["customer_id", "order_ts"], kind="stable")
    days = ordered["order_ts"].dt.floor("D")
    gap = days.groupby(ordered["customer_id"], observed=True).diff()
    return ordered.assign(gap_days=gap.dt.days.astype("float64"))


def _period_kpis(
    rows: pd.DataFrame,
    purchases: pd.DataFrame,
    first_purchase: pd.Series,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> dict[str, Any]:
    """The :data:`RETENTION_KPIS` of the period ``[start, end)`` (:func:`retention_by_period`)."""
    latest = _between(purchases, start, end)
    active = pd.Index(latest["customer_id"].unique())
    previous_start = start - (end - start)
    previous = pd.Index(_between(purchases, previous_start, start)["customer_id"].unique())
    new = int(first_purchase.reindex(active).ge(start).sum())
    retained = len(previous.intersection(active))
    churned = len(previous) - retained
    orders_per_active = latest.groupby("customer_id", observed=True).size()
    revenue = float(_between(rows, start, end)["amount"].sum())
    aov = _ratio(revenue, len(latest))
    frequency = _ratio(len(latest), len(active))
    churn_rate = _ratio(churned, len(previous))
    lifespan = _ratio(1.0, churn_rate)  # NaN when nobody churned (or S = 0)
    gaps = latest["gap_days"].dropna()
    return {
        "period_start": start.date().isoformat(),
        "period_end": (end - _DAY).date().isoformat(),
        "previous_active_customers": len(previous),
        "active_customers": len(active),
        "new_customers": new,
        "retained_customers": retained,
        "retention_rate": _ratio(len(active) - new, len(previous)),
        "churned_customers": churned,
        "churn_rate": churn_rate,
        "repeat_purchase_rate": _ratio(int((orders_per_active >= 2).sum()), len(active)),
        "revenue": revenue,
        "orders": len(latest),
        "average_order_value": aov,
        "purchase_frequency": frequency,
        "time_between_purchases_days": float(gaps.mean()) if len(gaps) else math.nan,
        "lifespan_periods": lifespan,
        "textbook_clv": aov * frequency * lifespan,
    }


def retention_kpis(
    orders: pd.DataFrame,
    *,
    cutoff: DateLike,
    period_days: int = 90,
) -> dict[str, Any]:
    """Retention KPIs of the ``period_days`` days ending on ``cutoff``, from orders up to it.

    ``orders``, ``cutoff`` and ``period_days`` are those of :func:`retention_by_period`; the
    previous period is the ``period_days`` days before the latest one.

    Returns
    -------
    dict
        ``cutoff``, ``period_days``, ``period_start`` (first day of the latest period),
        ``previous_period_start`` (ISO dates), ``customers_to_date`` (customers with a purchase
        on or before the cutoff) and every KPI of :data:`RETENTION_KPIS` for the latest period
        (the last row of :func:`retention_by_period`): customers at the start S and end E, new
        customers N, retained and churned customers, the retention rate (E − N) / S, the churn
        rate, the repeat-purchase rate, revenue, orders, average order value, purchase
        frequency, time between purchases, lifespan and the textbook CLV. Counts are ints, the
        rest floats; a ratio with a zero denominator is NaN.
    """
    day = as_cutoff(cutoff)
    latest = retention_by_period(orders, cutoff=day, period_days=period_days, n_periods=1)
    row = latest.iloc[0].to_dict()
    start = pd.Timestamp(row.pop("period_start"))
    row.pop("period_end")
    purchases = _purchase_orders(_orders_up_to(orders, day))
    return {
        "cutoff": day.date().isoformat(),
        "period_days": period_days,
        "period_start": start.date().isoformat(),
        "previous_period_start": (start - period_days * _DAY).date().isoformat(),
        "customers_to_date": int(purchases["customer_id"].nunique()),
        **{key: _plain(value) for key, value in row.items()},
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


#: How value at risk is obtained, by the columns the scored frame has (see :func:`value_at_risk`).
VALUE_AT_RISK_DEFINITIONS = {
    "value_at_risk": "value at risk as scored: the value if retained × p_churn",
    "value_if_retained": "value at risk = value if retained (as scored) × p_churn",
    "expected_value": VALUE_AT_RISK_DEFINITION,
}


def value_at_risk(scored: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Each customer's value if retained and value at risk, and the definition used.

    Value at risk is the value a customer brings if retained times their churn probability.
    It is taken from the first of these that the scored frame has (the key of
    :data:`VALUE_AT_RISK_DEFINITIONS` names which):

    - ``value_at_risk``: used as scored (``value_if_retained`` as scored, or NaN);
    - ``value_if_retained``: ``value_at_risk = p_churn * value_if_retained``;
    - otherwise, from ``expected_value`` (which already counts churn) by
      :func:`winback.actions.value_if_retained` and :func:`winback.actions.value_at_risk`, the
      one definition scoring and the at-risk list use too.

    Parameters
    ----------
    scored : DataFrame
        Scored customers with ``p_churn`` and ``expected_value`` (and optionally
        ``value_if_retained`` / ``value_at_risk``).

    Returns
    -------
    (DataFrame, str)
        Columns ``value_if_retained`` and ``value_at_risk`` (float64, ``scored``'s index), and
        the definition, one of the values of :data:`VALUE_AT_RISK_DEFINITIONS`.
    """
    p = scored["p_churn"].to_numpy(dtype=float)
    if "value_at_risk" in scored.columns:
        source = "value_at_risk"
        at_risk = _finite_column(scored, "value_at_risk")
        retained = (
            _finite_column(scored, "value_if_retained")
            if "value_if_retained" in scored.columns
            else np.full(len(scored), np.nan)
        )
    else:
        if "value_if_retained" in scored.columns:
            source = "value_if_retained"
            retained = _finite_column(scored, "value_if_retained")
        else:
            source = "expected_value"
            retained = value_if_retained(scored["expected_value"].to_numpy(dtype=float), p)
        at_risk = value_at_risk_of(retained, p)
    frame = pd.DataFrame(
        {"value_if_retained": retained, "value_at_risk": at_risk}, index=scored.index
    )
    return frame, VALUE_AT_RISK_DEFINITIONS[source]


def _finite_column(scored: pd.DataFrame, column: str) -> np.ndarray:
    values = pd.to_numeric(scored[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"scored column {column!r} must hold finite numbers; found "
            f"{_plain(scored[column].iloc[first])!r} at row {first} ({int(bad.sum())} bad rows)."
        )
    return values


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
        :func:`value_at_risk`: the value expected to be lost without action). Rows follow the
        column's category order when it is categorical, else ``sort_by``.
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
            "value_at_risk": value_at_risk(scored)[0]["value_at_risk"].to_numpy(),
        }
    )
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
        :func:`value_at_risk`), ``value_at_risk_definition`` (how it was obtained), ``clv``
        (sum) and ``mean_clv`` (per customer with one) when the scores have ``clv``, and
        ``by_risk_tier``, ``by_segment`` (and ``by_action``,
        ``by_group`` when those columns exist): dicts of label to the row of
        :func:`group_summary` (``customers``, ``share``, ``mean_p_churn``, ``expected_value``,
        ``value_at_risk``), in its row order: risk tiers by decreasing mean ``p_churn``, the
        others by decreasing value at risk (category order for categorical columns).
    """
    _check_scored(scored)
    p = scored["p_churn"].to_numpy(dtype=float)
    at_risk, definition = value_at_risk(scored)
    kpis: dict[str, Any] = {
        "customers": len(scored),
        "mean_p_churn": float(p.mean()) if len(p) else math.nan,
        "expected_value": float(scored["expected_value"].to_numpy(dtype=float).sum()),
        "value_at_risk": float(at_risk["value_at_risk"].sum()),
        "value_at_risk_definition": definition,
    }
    if "clv" in scored.columns:
        clv = pd.to_numeric(scored["clv"], errors="coerce").to_numpy(dtype=float)
        known = np.isfinite(clv)
        kpis["clv"] = float(clv[known].sum())
        kpis["mean_clv"] = float(clv[known].mean()) if known.any() else math.nan
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
