"""What a campaign really did: treatment against control, per action, overall, per tier, segment.

Definitions (also written into every measurement under ``definitions``):

- the *response window* is the ``window_days`` calendar days after the campaign date:
  orders dated ``campaign_date < day <= campaign_date + window_days``;
- a customer *responds* when they place at least one purchase (an order row with ``amount >= 0``)
  in the window; *revenue* is the net sum of their order amounts in the window (refunds count);
- *incremental response* = response rate of treatment - of control (Newcombe interval, z-test);
  *incremental revenue* = revenue per customer of treatment - of control (Welch interval);
- *incremental profit* = treated customers x (margin x incremental revenue per customer -
  unit cost); its interval is the revenue interval carried through the same formula;
  *ROI* = incremental profit / treatment spend;
- the *uplift among would-be churners* (what an action's ``uplift`` means in ``actions.yaml``:
  gain = ``uplift * value_at_risk - unit_cost``) = incremental response / the mean
  scored ``p_churn`` of the action's customers (both groups), interval scaled the same way:
  the share of the customers the model expected to churn that the action retained, so that the
  allocation's expected incremental response, ``sum(p_churn) * uplift``, matches the measured
  one on the customers the action reached. It is exact when the window equals the model's churn
  horizon; with another window it is the uplift *for that window*.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from winback.campaigns._io import MEASUREMENT_FORMAT, Campaign, campaign_frame
from winback.campaigns._stats import (
    ALPHA,
    as_json,
    mean_difference,
    minimum_detectable_effect,
    proportion_difference,
    stratified_difference,
    wald_variance,
)
from winback.dates import DateLike, cutoff_day, datetime_values, day_to_timestamp
from winback.exceptions import ConfigError, DataError

__all__ = [
    "MIN_CONTROL",
    "CampaignMeasurement",
    "campaign_outcomes",
    "measure_campaign",
]

logger = logging.getLogger(__name__)

#: Smallest control group that common practice accepts (1-15 % held out, at least 1,000).
MIN_CONTROL = 1000
OVERALL = "all actions"
DEFINITIONS = {
    "window": "orders dated after the campaign date, up to campaign date + window_days",
    "response": "at least one purchase (an order with amount >= 0) in the window",
    "revenue": "net sum of order amounts in the window, refunds included, per customer",
    "incremental_response": "treatment response rate - control response rate; 95% CI: "
    "Newcombe hybrid score interval; p-value: pooled two-proportion z-test",
    "incremental_revenue": "treatment revenue per customer - control revenue per customer; "
    "95% CI and p-value: Welch t",
    "stratified": "rows over several actions (all actions, a risk tier, a segment) compare each "
    "action's treatment with its own control and weight the differences by treated customers; "
    "their interval and p-value are normal (Wald); the rates shown are the groups' own, so "
    "their difference can differ from the increment when the actions' mix differs",
    "incremental_profit": "treated customers x (margin x incremental revenue - unit cost)",
    "roi": "incremental profit / treatment spend",
    "mde": "minimum detectable effect at 80% power, two-sided 5% level, for the group sizes",
    "uplift_estimate": "incremental response / mean scored p_churn of the action's customers: "
    "the share of would-be churners the action retained (actions.yaml's uplift)",
}


@dataclass(frozen=True)
class CampaignMeasurement:
    """A measured campaign.

    Attributes
    ----------
    results : dict
        JSON-ready: ``format``, ``campaign_id``, ``campaign_date``, ``window_days``,
        ``window_end``, ``orders_end``, ``margin``, ``alpha``, ``source``, ``overall`` (one row),
        ``actions`` (one row per action, sorted), ``by_risk_tier`` and ``by_segment`` (rows over
        all actions), ``warnings`` (list of str) and ``definitions``. A row holds ``label``,
        ``n_treatment``, ``n_control``, ``response`` and ``revenue`` (rates or means per group,
        ``diff``, ``ci_low``, ``ci_high``, ``p_value``, ``mde``), ``unit_cost``, ``spend``,
        ``incremental_responders``, ``incremental_revenue``, ``incremental_profit`` (with
        ``_ci_low``/``_ci_high``), ``roi``, ``mean_p_churn`` and ``uplift_estimate``
        (``estimate``, ``ci_low``, ``ci_high``).
    outcomes : DataFrame
        One row per campaign customer: the campaign columns plus ``responded`` (bool) and
        ``revenue`` (float) in the window.
    """

    results: dict[str, Any]
    outcomes: pd.DataFrame = field(repr=False)

    @property
    def warnings(self) -> list[str]:
        """The measurement's warnings (small control groups, intervals spanning zero)."""
        return list(self.results["warnings"])


def measure_campaign(
    campaign: Campaign | pd.DataFrame,
    orders: pd.DataFrame,
    *,
    campaign_date: DateLike,
    window_days: int,
    orders_end: DateLike | None = None,
    margin: float = 1.0,
    campaign_id: str | None = None,
    alpha: float = ALPHA,
) -> CampaignMeasurement:
    """Measure a campaign against its control group with the orders that followed it.

    Parameters
    ----------
    campaign : Campaign or DataFrame
        :func:`read_campaign`'s result, or scores with ``customer_id``, ``action``, ``group``
        (and optionally ``cost``, ``p_churn``, ``risk_tier``, ``segment``, ``as_of``).
    orders : DataFrame
        Validated orders (``customer_id``, ``order_ts``, ``amount``) including those after the
        campaign date.
    campaign_date : date-like
        The calendar day the campaign went out; the window starts the day after.
    window_days : int
        Length of the response window in days (> 0).
    orders_end : date-like, optional
        The last day the orders are complete through; default the day of the last order.
    margin : float
        Share of revenue that is profit (1.0: revenue counts as profit).
    campaign_id : str, optional
        Overrides the campaign's own id.

    Returns
    -------
    CampaignMeasurement

    Raises
    ------
    DataError
        If the campaign lacks ``group``, a customer is in both groups, the orders end before
        the window closes, the campaign date is after the last order, or is before the
        scores' as-of date.
    ConfigError
        If ``window_days`` or ``margin`` is out of range.
    """
    if not isinstance(campaign, Campaign):
        campaign = Campaign(campaign_frame(campaign), None, "the campaign")
    frame = campaign.frame
    _check_arguments(window_days, margin)
    day = cutoff_day(campaign_date, name="campaign_date")
    last = _orders_end_day(orders, orders_end)
    _check_dates(frame, day, window_days, last, campaign.source)
    outcomes = campaign_outcomes(frame, orders, day=day, window_days=window_days)
    rows = {
        "overall": _row(OVERALL, outcomes, margin, alpha),
        "actions": [_row(a, part, margin, alpha) for a, part in _groups(outcomes, "action")],
        "by_risk_tier": [_row(t, p, margin, alpha) for t, p in _groups(outcomes, "risk_tier")],
        "by_segment": [_row(s, p, margin, alpha) for s, p in _groups(outcomes, "segment")],
    }
    results = {
        "format": MEASUREMENT_FORMAT,
        "campaign_id": campaign_id or campaign.campaign_id,
        "campaign_date": day_to_timestamp(day).date().isoformat(),
        "window_days": int(window_days),
        "window_end": day_to_timestamp(day + window_days).date().isoformat(),
        "orders_end": day_to_timestamp(last).date().isoformat(),
        "margin": float(margin),
        "alpha": float(alpha),
        "source": campaign.source,
        **rows,
        "warnings": _warnings(rows),
        "definitions": DEFINITIONS,
    }
    for message in results["warnings"]:
        logger.info("%s", message)
    return CampaignMeasurement(results, outcomes)


def _check_arguments(window_days: object, margin: object) -> None:
    if isinstance(window_days, bool) or not isinstance(window_days, int | np.integer):
        raise ConfigError(f"window_days must be a whole number of days, got {window_days!r}.")
    if window_days < 1:
        raise ConfigError(f"window_days must be at least 1 day, got {window_days}.")
    if not isinstance(margin, int | float) or not 0 < margin <= 1:
        raise ConfigError(f"margin must be a share of revenue in (0, 1], got {margin!r}.")


def _orders_end_day(orders: pd.DataFrame, orders_end: DateLike | None) -> int:
    missing = [c for c in ("customer_id", "order_ts", "amount") if c not in orders.columns]
    if missing:
        raise DataError(
            f"orders lack the column(s) {missing}; found {list(map(str, orders.columns))}. "
            "Read them with winback.io.read_orders."
        )
    if orders_end is not None:
        return cutoff_day(orders_end, name="orders_end")
    if orders.empty:
        raise DataError("The orders are empty: a campaign is measured on the orders after it.")
    stamps = datetime_values(orders["order_ts"], column="order_ts")
    return int(stamps.max().astype("datetime64[D]").astype(np.int64))


def _check_dates(frame: pd.DataFrame, day: int, window_days: int, last: int, source: str) -> None:
    date = day_to_timestamp(day).date()
    end = day_to_timestamp(last).date()
    if day > last:
        raise DataError(
            f"The campaign date {date} is after the last order ({end}): there is nothing to "
            "measure yet. Pass the orders that followed the campaign, or the right "
            "--campaign-date."
        )
    if day + window_days > last:
        closes = day_to_timestamp(day + window_days).date()
        raise DataError(
            f"The orders end on {end}, before the {window_days}-day response window closes on "
            f"{closes}: responses after {end} would be missed. Wait for (or pass) orders up to "
            f"{closes}, or shorten the window to at most {last - day} days."
        )
    if "as_of" in frame.columns and frame["as_of"].notna().any():
        as_of = cutoff_day(str(frame["as_of"].dropna().max()), name="as_of")
        if day < as_of:
            raise DataError(
                f"The campaign date {date} is before the scores' as-of date "
                f"{day_to_timestamp(as_of).date()} in {source}: a campaign goes out after "
                "its customers are scored. Pass the day it was sent as --campaign-date."
            )


def campaign_outcomes(
    frame: pd.DataFrame, orders: pd.DataFrame, *, day: int, window_days: int
) -> pd.DataFrame:
    """Return ``frame`` plus ``responded`` and ``revenue`` of each customer in the window.

    The window is the days ``day < d <= day + window_days`` (day numbers, see
    :mod:`winback.dates`); customers without an order in it have ``responded=False`` and
    ``revenue=0``.
    """
    stamps = datetime_values(orders["order_ts"], column="order_ts")
    days = stamps.astype("datetime64[D]").astype(np.int64)
    inside = (days > day) & (days <= day + window_days)
    window = pd.DataFrame(
        {
            "customer_id": orders["customer_id"].to_numpy()[inside].astype(str),
            "amount": orders["amount"].to_numpy(dtype=float)[inside],
        }
    )
    window = window.loc[window["customer_id"].isin(frame["customer_id"])]
    revenue = window.groupby("customer_id")["amount"].sum()
    buyers = window.loc[window["amount"] >= 0, "customer_id"].unique()
    out = frame.copy()
    out["responded"] = out["customer_id"].isin(buyers).to_numpy()
    out["revenue"] = out["customer_id"].map(revenue).fillna(0.0).to_numpy(dtype=float)
    return out


def _groups(outcomes: pd.DataFrame, column: str) -> Iterator[tuple[str, pd.DataFrame]]:
    if column not in outcomes.columns:
        return
    labels = outcomes[column].astype("str").fillna("(missing)")
    for label in sorted(labels.unique()):
        yield label, outcomes.loc[(labels == label).to_numpy()]


def _comparison(part: pd.DataFrame, alpha: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """Response and revenue of treatment against control: one action exactly (Newcombe,
    Welch), several actions stratified by action (see :func:`stratified_difference`)."""
    if part["action"].nunique() > 1:
        return _stratified(part, alpha)
    treated = (part["group"] == "treatment").to_numpy()
    control = ~treated
    n_t, n_c = int(treated.sum()), int(control.sum())
    responded = part["responded"].to_numpy(dtype=bool)
    revenue = part["revenue"].to_numpy(dtype=float)
    response = proportion_difference(
        int(responded[treated].sum()), n_t, int(responded[control].sum()), n_c, alpha=alpha
    )
    response["mde"] = (
        minimum_detectable_effect(n_t, n_c, rate_control=response["rate_control"], alpha=alpha)
        if response["rate_control"] is not None
        else None
    )
    money = mean_difference(revenue[treated], revenue[control], alpha=alpha)
    money["mde"] = (
        minimum_detectable_effect(n_t, n_c, sd=_pooled_sd(revenue[treated], revenue[control]))
        if n_t > 1 and n_c > 1
        else None
    )
    return response, money


def _stratified(part: pd.DataFrame, alpha: float) -> tuple[dict[str, Any], dict[str, Any]]:
    strata: dict[str, list[tuple[float, float, int]]] = {"responded": [], "revenue": []}
    for _, rows in part.groupby("action", sort=True):
        treated = (rows["group"] == "treatment").to_numpy()
        for column, values in strata.items():
            y = rows[column].to_numpy(dtype=float)
            if treated.sum() >= 2 and (~treated).sum() >= 2:
                diff = y[treated].mean() - y[~treated].mean()
                values.append((diff, wald_variance(y[treated], y[~treated]), int(treated.sum())))
    treated = (part["group"] == "treatment").to_numpy()
    out = []
    for column, name in (("responded", "rate"), ("revenue", "mean")):
        values = part[column].to_numpy(dtype=float)
        out.append(
            {
                f"{name}_treatment": float(values[treated].mean()) if treated.any() else None,
                f"{name}_control": float(values[~treated].mean()) if (~treated).any() else None,
                **stratified_difference(strata[column], alpha=alpha),
            }
        )
    return out[0], out[1]


def _row(label: str, part: pd.DataFrame, margin: float, alpha: float) -> dict[str, Any]:
    treated = (part["group"] == "treatment").to_numpy()
    control = (part["group"] == "control").to_numpy()
    n_t, n_c = int(treated.sum()), int(control.sum())
    response, money = _comparison(part, alpha)
    unit_cost = _unit_cost(part.loc[treated | control, "cost"])
    spend = unit_cost * n_t if unit_cost is not None else None
    row: dict[str, Any] = {
        "label": label,
        "n_treatment": n_t,
        "n_control": n_c,
        "control_share": n_c / (n_t + n_c) if n_t + n_c else None,
        "response": as_json(response),
        "revenue": as_json(money),
        "unit_cost": unit_cost,
        "spend": _round(spend),
        "incremental_responders": _round(_times(response["diff"], n_t)),
        "incremental_revenue": _round(_times(money["diff"], n_t)),
    }
    row.update(_profit(money, n_t, unit_cost, margin))
    row["mean_p_churn"], row["uplift_estimate"] = _uplift_estimate(part, response)
    return row


def _pooled_sd(a: np.ndarray, b: np.ndarray) -> float:
    return float(
        np.sqrt(
            (np.var(a, ddof=1) * (len(a) - 1) + np.var(b, ddof=1) * (len(b) - 1))
            / (len(a) + len(b) - 2)
        )
    )


def _unit_cost(costs: pd.Series) -> float | None:
    """The unit cost of a row's customers: their mean cost (one action: its unit cost)."""
    values = pd.to_numeric(costs, errors="coerce").dropna()
    return round(float(values.mean()), 6) if len(values) else None


def _times(value: float | None, n: int) -> float | None:
    return None if value is None else value * n


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)


def _profit(
    money: dict[str, float | None], n_t: int, unit_cost: float | None, margin: float
) -> dict[str, float | None]:
    if money["diff"] is None or unit_cost is None:
        return dict.fromkeys(
            ("incremental_profit", "incremental_profit_ci_low", "incremental_profit_ci_high", "roi")
        )

    def profit(per_customer: float | None) -> float | None:
        return None if per_customer is None else n_t * (margin * per_customer - unit_cost)

    value = profit(money["diff"])
    spend = unit_cost * n_t
    return {
        "incremental_profit": _round(value),
        "incremental_profit_ci_low": _round(profit(money["ci_low"])),
        "incremental_profit_ci_high": _round(profit(money["ci_high"])),
        "roi": _round(value / spend, 4) if spend > 0 and value is not None else None,
    }


def _uplift_estimate(
    part: pd.DataFrame, response: dict[str, float | None]
) -> tuple[float | None, dict[str, float | None] | None]:
    if "p_churn" not in part.columns or response["diff"] is None:
        return None, None
    mean_p = float(pd.to_numeric(part["p_churn"], errors="coerce").mean())
    if not math.isfinite(mean_p) or mean_p <= 0:
        return None, None
    estimate = {
        k: round(response[k] / mean_p, 6)  # type: ignore[operator]
        for k in ("diff", "ci_low", "ci_high")
    }
    return round(mean_p, 6), {
        "estimate": estimate["diff"],
        "ci_low": estimate["ci_low"],
        "ci_high": estimate["ci_high"],
    }


def _warnings(rows: dict[str, Any]) -> list[str]:
    out = []
    for row in [rows["overall"], *rows["actions"]]:
        name = "the campaign" if row["label"] == OVERALL else f"action {row['label']!r}"
        if row["n_control"] < MIN_CONTROL:
            mde = row["response"]["mde"]
            out.append(
                f"The control group of {name} has {row['n_control']:,} customers, below "
                f"{MIN_CONTROL:,}: its intervals are wide"
                + (f" (smallest detectable response effect {mde:+.1%})" if mde else "")
                + ". Common practice holds out 1-15% with at least 1,000 customers."
            )
        low, high = row["response"]["ci_low"], row["response"]["ci_high"]
        if low is not None and low <= 0 <= high:
            out.append(
                f"The 95% CI of the incremental response of {name} spans zero "
                f"[{low:+.2%}, {high:+.2%}]: no effect cannot be ruled out."
            )
    return out
