"""Business plots of the report: risk tiers, value at risk, churn probabilities, monthly activity.

Each function draws on ``ax`` (a new Agg-backed Axes when ``None``) and returns that Axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import StrMethodFormatter

from winback.exceptions import ConfigError, DataError
from winback.plotting import new_axes
from winback.report._kpis import group_summary

__all__ = [
    "plot_churn_histogram",
    "plot_monthly_activity",
    "plot_risk_tiers",
    "plot_value_at_risk",
]


def plot_risk_tiers(scored: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Bar chart of the number of scored customers per risk tier, riskiest tier first.

    Tiers follow :func:`group_summary` with ``sort_by="mean_p_churn"`` (category order when
    ``risk_tier`` is categorical). One bar per tier; the x tick labels are the tier names.
    """
    table = group_summary(scored, "risk_tier", sort_by="mean_p_churn")
    ax = new_axes() if ax is None else ax
    positions = np.arange(len(table))
    ax.bar(positions, table["customers"].to_numpy(dtype=float))
    ax.set_xticks(positions, labels=list(table.index))
    ax.set(xlabel="Risk tier", ylabel="Customers", title="Customers per risk tier")
    return ax


def plot_value_at_risk(
    scored: pd.DataFrame, *, by: str = "segment", ax: Axes | None = None, top: int = 15
) -> Axes:
    """Horizontal bars of value at risk (sum of :func:`value_at_risk`) per group.

    Parameters
    ----------
    scored : DataFrame
        Scored customers with ``customer_id``, ``p_churn``, ``expected_value`` and ``by``.
    by : str, default "segment"
        Grouping column.
    ax : Axes, optional
        Where to draw; a new figure when omitted.
    top : int, default 15
        Number of groups shown (largest value at risk, on top).
    """
    if not isinstance(top, int) or top < 1:
        raise ConfigError(f"top must be a positive integer, got {top!r}.")
    table = group_summary(scored, by).sort_values("value_at_risk", ascending=False, kind="stable")
    shown = table.head(top).iloc[::-1]
    ax = new_axes(figsize=(6.4, max(2.0, 0.35 * len(shown) + 1.2))) if ax is None else ax
    positions = np.arange(len(shown))
    ax.barh(positions, shown["value_at_risk"].to_numpy(dtype=float))
    ax.set_yticks(positions, labels=list(shown.index))
    ax.set(
        xlabel="Value at risk (value if retained × p_churn)",
        title=f"Value at risk by {by.replace('_', ' ')}",
    )
    return ax


def plot_churn_histogram(scored: pd.DataFrame, *, ax: Axes | None = None, bins: int = 20) -> Axes:
    """Histogram of ``p_churn`` over ``bins`` equal-width bins of [0, 1]."""
    if not isinstance(bins, int) or bins < 1:
        raise ConfigError(f"bins must be a positive integer, got {bins!r}.")
    if "p_churn" not in scored.columns:
        raise DataError(f"scored needs a 'p_churn' column, found {list(scored.columns)}.")
    ax = new_axes() if ax is None else ax
    ax.hist(scored["p_churn"].to_numpy(dtype=float), bins=np.linspace(0.0, 1.0, bins + 1))
    ax.set(
        xlim=(0, 1),
        xlabel="Churn probability (p_churn)",
        ylabel="Customers",
        title="Distribution of churn probability",
    )
    return ax


def plot_monthly_activity(monthly: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Active customers per month (line on ``ax``) and net revenue (bars on a twin y axis).

    Parameters
    ----------
    monthly : DataFrame
        The output of :func:`monthly_activity`: ``month``, ``active_customers``, ``revenue``.
    ax : Axes, optional
        Where to draw; a new figure when omitted.

    Returns
    -------
    Axes
        The Axes of the active-customers line (label ``"active customers"``); the revenue bars
        are on ``ax``'s twin, the Axes created with it that shares its x axis.
    """
    missing = [c for c in ("month", "active_customers", "revenue") if c not in monthly.columns]
    if missing:
        raise DataError(
            f"monthly is missing the column(s) {missing}; pass the output of monthly_activity."
        )
    ax = new_axes(figsize=(8.0, 4.0)) if ax is None else ax
    months = pd.to_datetime(monthly["month"]).to_numpy()
    revenue_ax = ax.twinx()
    revenue_ax.bar(
        months,
        monthly["revenue"].to_numpy(dtype=float),
        width=np.timedelta64(20, "D"),
        color="0.85",
        label="revenue",
    )
    revenue_ax.set_ylabel("Net revenue")
    ax.plot(
        months,
        monthly["active_customers"].to_numpy(dtype=float),
        marker=".",
        label="active customers",
    )
    ax.set_zorder(revenue_ax.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.set(xlabel="Month", ylabel="Active customers", title="Monthly active customers and revenue")
    for axis in (ax, revenue_ax):
        axis.set_ylim(bottom=0)
        axis.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.legend(
        [*ax.get_lines(), *revenue_ax.containers], ["active customers", "net revenue"], loc="best"
    )
    return ax
