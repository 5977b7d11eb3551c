"""The report's sections as plain data: what each table shows, ready for JSON and the HTML page.

Each ``*_section`` function returns JSON-ready values (str, int, float, None, lists and dicts)
and no markup: the HTML template escapes every value it prints.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from winback.actions import AT_RISK_SEGMENTS, allocation_summary
from winback.report._kpis import RETENTION_KPIS, group_summary, retention_by_period, value_at_risk
from winback.scoring import REASON_SEPARATOR

__all__ = [
    "CUSTOMER_COLUMNS",
    "campaign_results_section",
    "campaign_section",
    "clv_section",
    "retention_section",
    "segments_section",
    "top_customers_section",
]

#: Every column the report's customer, segment and plan tables show: key -> (header, format
#: kind). One header per key, whichever table shows it.
_HEADERS: dict[str, tuple[str, str]] = {
    "customer_id": ("Customer", "text"),
    "segment": ("Segment", "text"),
    "risk_tier": ("Risk tier", "text"),
    "p_churn": ("p_churn", "rate"),
    "p_alive": ("p_alive", "rate"),
    "expected_value": ("Expected value", "money"),
    "value_if_retained": ("Value if retained", "money"),
    "value_at_risk": ("Value at risk", "money"),
    "clv": ("CLV", "money"),
    "expected_next_order_date": ("Expected next order", "text"),
    "days_to_next_order": ("Days to next order", "number"),
    "action": ("Action", "text"),
    "customers": ("Customers", "count"),
    "share": ("Share", "rate"),
    "mean_p_churn": ("Mean p_churn", "rate"),
    "treatment": ("Treatment", "count"),
    "control": ("Control", "count"),
    "planned_cost": ("Planned cost", "money"),
    "spend": ("Spend (treatment)", "money"),
    "expected_gain": ("Expected gain (treatment)", "money"),
}


def _headed(*keys: str) -> dict[str, tuple[str, str]]:
    return {key: _HEADERS[key] for key in keys}


#: Columns of the top at-risk customers table: column -> (header, format kind). Optional columns
#: (``p_alive``, ``expected_next_order_date``, ``days_to_next_order``, ``clv``, ``action``)
#: appear when the scores have them.
CUSTOMER_COLUMNS = _headed(
    "customer_id",
    "segment",
    "risk_tier",
    "p_churn",
    "p_alive",
    "expected_value",
    "value_if_retained",
    "value_at_risk",
    "clv",
    "expected_next_order_date",
    "days_to_next_order",
    "action",
)
_SUMMARY_COLUMNS = _headed("customers", "share", "mean_p_churn", "expected_value", "value_at_risk")
_PLAN_COLUMNS = _headed(
    "customers", "treatment", "control", "planned_cost", "spend", "expected_gain"
)
_ALLOCATION_NEEDED = ("action", "group", "cost", "expected_gain")
_LEFT_OUT_WORDS = {
    "no_customer_record": "no row in the customers table",
    "not_opted_in": "not opted in to marketing",
}


def _columns(columns: dict[str, tuple[str, str]]) -> list[dict[str, str]]:
    """Table columns as ``{"key", "header", "kind"}`` dicts, in order (JSON keeps lists' order)."""
    return [{"key": k, "header": header, "kind": kind} for k, (header, kind) in columns.items()]


def _value(value: Any) -> Any:
    """A table cell as a JSON-ready value: numpy scalars unwrapped, NaN/NA as None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


# ------------------------------------------------------------------------------- retention
def retention_section(
    orders: pd.DataFrame, *, cutoff: pd.Timestamp, period_days: int, n_periods: int
) -> dict[str, Any]:
    """Retention KPIs of the last ``n_periods`` periods (fewer when the orders start later).

    Returns
    -------
    dict
        ``period_days``; ``periods``: one dict per period, oldest first, with ``period_start``,
        ``period_end`` and every key of :data:`RETENTION_KPIS`; ``rows``: one per KPI with
        ``key``, ``label``, ``kind``, ``definition`` and ``values`` (one per period).
    """
    table = retention_by_period(orders, cutoff=cutoff, period_days=period_days)
    table = table.tail(n_periods).reset_index(drop=True)
    periods = [{k: _value(v) for k, v in row.items()} for row in table.to_dict("records")]
    rows = [
        {
            "key": key,
            "label": label,
            "kind": kind,
            "definition": definition,
            "values": [period[key] for period in periods],
        }
        for key, (label, kind, definition) in RETENTION_KPIS.items()
    ]
    return {"period_days": period_days, "periods": periods, "rows": rows}


# ------------------------------------------------------------------------------------- CLV
def clv_section(
    retention: Mapping[str, Any] | None,
    scored: Mapping[str, Any] | None,
    values: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The textbook CLV of the latest period next to the model's mean CLV per scored customer.

    Parameters
    ----------
    retention : dict, optional
        :func:`retention_kpis` (its ``textbook_clv``, ``period_start``, ``cutoff``).
    scored : dict, optional
        :func:`scored_kpis` (its ``mean_clv`` and ``clv`` when the scores have ``clv``).
    values : dict, optional
        The ``values`` of the scores summary (``clv_months``, ``annual_discount_rate``,
        ``margin``, ``btyd_model``), which say how the scores' CLV was computed.

    Returns
    -------
    dict or None
        ``rows``: ``key``, ``label``, ``value`` (None when unknown), ``kind`` and
        ``definition`` for ``textbook_clv`` and ``model_clv``; None when neither is known.
    """
    textbook = None if retention is None else _value(retention.get("textbook_clv"))
    model = None if scored is None else _value(scored.get("mean_clv"))
    if textbook is None and model is None:
        return None
    values = dict(values or {})
    period = (
        f"the {retention['period_days']} days from {retention['period_start']} to "
        f"{retention['cutoff']}"
        if retention is not None
        else "the latest period"
    )
    months = values.get("clv_months")
    horizon = f"the next {months} months" if months else "the scores' CLV horizon"
    rate = values.get("annual_discount_rate")
    discount = ""
    if rate is not None:
        discount = f", discounted at {rate:.0%} a year" if rate else ", undiscounted"
    margin = values.get("margin")
    money = f"margin at {margin:.0%} of revenue" if margin else "revenue (no margin set)"
    rows = [
        {
            "key": "textbook_clv",
            "label": "Textbook CLV",
            "value": textbook,
            "kind": "money",
            "definition": (
                f"{RETENTION_KPIS['textbook_clv'][2]}; rates of {period}. One number for an "
                "average customer, revenue over an expected lifespan"
            ),
        },
        {
            "key": "model_clv",
            "label": "Model CLV (mean per scored customer)",
            "value": model,
            "kind": "money",
            "definition": (
                f"each customer's expected {money} over {horizon}{discount}: the BTYD model's "
                "expected orders per month times Gamma-Gamma's expected order value (the scores' "
                "clv column), averaged"
            ),
        },
    ]
    return {"rows": rows}


# -------------------------------------------------------------------------------- segments
def _summary_rows(scored: pd.DataFrame, by: str, **kwargs: Any) -> list[dict[str, Any]]:
    table = group_summary(scored, by, **kwargs)
    return [
        {"label": str(label), **{k: _value(row[k]) for k in _SUMMARY_COLUMNS}}
        for label, row in table.iterrows()
    ]


def segments_section(scored: pd.DataFrame) -> dict[str, Any]:
    """Customers, churn risk and value at risk per segment and per risk tier.

    Returns
    -------
    dict
        ``columns`` (``key``, ``header``, ``kind`` dicts); ``segments``: one row per segment,
        the most value at risk first, with ``label``, ``at_risk`` (one of
        :data:`AT_RISK_SEGMENTS`) and the columns of :func:`group_summary`; ``at_risk_total``:
        the sum of those columns over the at-risk segments; ``risk_tiers``: the same rows per
        risk tier, riskiest first.
    """
    segments = _summary_rows(scored, "segment")
    for row in segments:
        row["at_risk"] = row["label"] in AT_RISK_SEGMENTS
    chosen = [row for row in segments if row["at_risk"]]
    total = {
        "customers": sum(row["customers"] for row in chosen),
        "share": sum(row["share"] for row in chosen),
        "expected_value": sum(row["expected_value"] for row in chosen),
        "value_at_risk": sum(row["value_at_risk"] for row in chosen),
    }
    return {
        "columns": _columns(_SUMMARY_COLUMNS),
        "segments": segments,
        "at_risk_segments": list(AT_RISK_SEGMENTS),
        "at_risk_total": total,
        "risk_tiers": _summary_rows(scored, "risk_tier", sort_by="mean_p_churn"),
    }


# ----------------------------------------------------------------------- top customers
def top_customers_section(scored: pd.DataFrame, *, top: int = 50) -> dict[str, Any]:
    """The ``top`` at-risk customers by value at risk, with their reasons.

    A customer is at risk when their ``risk_tier`` is ``"high"`` or their ``segment`` is one of
    :data:`AT_RISK_SEGMENTS`. Ties in value at risk are broken by ``customer_id``.

    Returns
    -------
    dict
        ``definition`` (how value at risk was obtained, see :func:`value_at_risk`),
        ``at_risk_customers`` (how many are at risk), ``columns`` (the keys of
        :data:`CUSTOMER_COLUMNS` present, as ``key``, ``header``, ``kind`` dicts) and
        ``customers``: up to ``top`` dicts with those columns (``customer_id`` as text) and
        ``reasons`` (a list of str).
    """
    values, definition = value_at_risk(scored)
    frame = scored.assign(**values)
    chosen = frame["risk_tier"].astype("str").eq("high") | frame["segment"].isin(AT_RISK_SEGMENTS)
    at_risk = frame.loc[chosen].assign(_id=frame.loc[chosen, "customer_id"].astype("str"))
    at_risk = at_risk.sort_values(["value_at_risk", "_id"], ascending=[False, True], kind="stable")
    columns = {k: v for k, v in CUSTOMER_COLUMNS.items() if k in frame.columns}
    customers = []
    for _, row in at_risk.head(top).iterrows():
        record = {k: _value(row[k]) for k in columns}
        record["customer_id"] = row["_id"]
        record["reasons"] = _reasons(row.get("reasons"))
        customers.append(record)
    return {
        "definition": definition,
        "at_risk_customers": len(at_risk),
        "top": top,
        "columns": _columns(columns),
        "customers": customers,
    }


def _reasons(text: Any) -> list[str]:
    if not isinstance(text, str) or not text.strip():
        return []
    return [part.strip() for part in text.split(REASON_SEPARATOR.strip()) if part.strip()]


# ------------------------------------------------------------------------------- campaign
def campaign_section(
    scored: pd.DataFrame,
    *,
    scores_summary: Mapping[str, Any] | None = None,
    export_summary: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The campaign plan of scores with actions: per action counts, cost, gain; who was left out.

    Parameters
    ----------
    scored : DataFrame
        Scores with the allocation columns (``action``, ``offer``, ``channel``,
        ``expected_gain``, ``cost``, ``group``); without them there is no plan (None).
    scores_summary : dict, optional
        The scores' ``<stem>.summary.json``: campaign id, budget, customers not scored.
    export_summary : dict, optional
        The ``summary.json`` of ``winback export``: customers left out of the lists and why.

    Returns
    -------
    dict or None
        ``campaign_id``, ``budget``, ``columns``, ``actions`` (one row per assigned action, from
        :func:`winback.actions.allocation_summary`, with ``offer`` and ``channel``), ``total``,
        ``no_action`` (customers given no action) and ``exclusions``: rows of ``stage``,
        ``reason`` and ``customers``.
    """
    if not set(_ALLOCATION_NEEDED) <= set(scored.columns):
        return None
    plan = allocation_summary(scored)
    first = scored.drop_duplicates("action").set_index("action")
    actions = [
        {
            "action": str(action),
            "offer": _value(first.at[action, "offer"]) if "offer" in first else None,
            "channel": _value(first.at[action, "channel"]) if "channel" in first else None,
            **{k: _value(row[k]) for k in _PLAN_COLUMNS},
        }
        for action, row in plan.iterrows()
    ]
    actions_summary = (scores_summary or {}).get("actions", {})
    no_action = int((scored["group"].astype("str") == "none").sum())
    return {
        "campaign_id": actions_summary.get("campaign_id"),
        "budget": actions_summary.get("budget"),
        "columns": _columns(_PLAN_COLUMNS),
        "actions": actions,
        "total": {k: _value(plan[k].sum()) for k in _PLAN_COLUMNS},
        "no_action": no_action,
        "exclusions": _exclusions(no_action, scores_summary, export_summary),
    }


def _exclusions(
    no_action: int,
    scores_summary: Mapping[str, Any] | None,
    export_summary: Mapping[str, Any] | None,
) -> list[dict[str, Any]]:
    rows = []
    rejected = (scores_summary or {}).get("customers", {}).get("rejected_by_reason", {})
    for reason, count in sorted(rejected.items()):
        rows.append({"stage": "not scored", "reason": str(reason), "customers": int(count)})
    rows.append(
        {
            "stage": "no action",
            "reason": "no eligible action with a positive expected gain within the budget and "
            "the actions' caps",
            "customers": no_action,
        }
    )
    left_out = (export_summary or {}).get("left_out", {})
    for group, reasons in sorted(left_out.items()):
        for reason, count in reasons.items():
            if count:
                words = _LEFT_OUT_WORDS.get(reason, str(reason).replace("_", " "))
                rows.append(
                    {"stage": f"left out of the {group} list", "reason": words, "customers": count}
                )
    return rows


# ----------------------------------------------------------------------- campaign results
def campaign_results_section(results: Mapping[str, Any] | None) -> dict[str, Any]:
    """The "Campaign results" section: what a finished campaign returned, treatment vs control.

    ``results`` is either a measurement written by `winback measure`
    (:attr:`winback.campaigns.CampaignMeasurement.results`, recognised by its ``format``) or a
    flat dict of measure -> value, each shown on its own row; without results the section says
    none were given.

    Returns
    -------
    dict
        ``given`` (bool), ``measured`` (bool) and ``rows``: for a measurement, one row per action
        then the overall row (:func:`_measured_row`), with ``campaign_id``, ``campaign_date``,
        ``window_days``, ``by_risk_tier``, ``by_segment`` and ``warnings``; for a flat dict,
        ``{"measure", "value"}`` dicts in ``results`` order.
    """
    if not results:
        return {"given": False, "rows": []}
    if str(results.get("format", "")).startswith("winback-campaign-measurement/"):
        return {
            "given": True,
            "measured": True,
            "campaign_id": results.get("campaign_id"),
            "campaign_date": results.get("campaign_date"),
            "window_days": results.get("window_days"),
            "rows": [_measured_row(r) for r in [*results["actions"], results["overall"]]],
            "by_risk_tier": [_measured_row(r) for r in results.get("by_risk_tier", [])],
            "by_segment": [_measured_row(r) for r in results.get("by_segment", [])],
            "warnings": [str(w) for w in results.get("warnings", [])],
        }
    return {
        "given": True,
        "measured": False,
        "rows": [{"measure": str(k), "value": _value(v)} for k, v in results.items()],
    }


def _measured_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """One table row of a measurement: counts, rates, increments with their 95% CIs, profit."""
    response, revenue = row["response"], row["revenue"]
    return {
        "label": str(row["label"]),
        "n_treatment": row["n_treatment"],
        "n_control": row["n_control"],
        "rate_treatment": response.get("rate_treatment"),
        "rate_control": response.get("rate_control"),
        "response": [response.get(k) for k in ("diff", "ci_low", "ci_high")],
        "p_value": response.get("p_value"),
        "revenue": [revenue.get(k) for k in ("diff", "ci_low", "ci_high")],
        "incremental_profit": row.get("incremental_profit"),
        "roi": row.get("roi"),
    }
