"""The `winback report` backend: KPIs to ``report.json``, a Markdown summary and PNG charts."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.axes import Axes

from winback.dates import DateLike
from winback.exceptions import ConfigError
from winback.io import write_atomic, write_json
from winback.plotting import save_figure
from winback.report._kpi_plots import (
    plot_churn_histogram,
    plot_monthly_activity,
    plot_risk_tiers,
    plot_value_at_risk,
)
from winback.report._kpis import as_cutoff, monthly_activity, retention_kpis, scored_kpis

__all__ = ["build_report"]

logger = logging.getLogger(__name__)

REPORT_JSON = "report.json"
REPORT_MD = "report.md"

_RETENTION_ROWS: tuple[tuple[str, str, str], ...] = (
    ("Customers with a purchase to date", "customers_to_date", "count"),
    ("Active customers", "active_customers", "count"),
    ("New customers (first purchase in the period)", "new_customers", "count"),
    ("Active in the previous period", "previous_active_customers", "count"),
    ("Retained (active in both periods)", "retained_customers", "count"),
    ("Retention rate", "retention_rate", "rate"),
    ("Churned (active before, not in the period)", "churned_customers", "count"),
    ("Repeat-purchase rate (2+ orders in the period)", "repeat_purchase_rate", "rate"),
    ("Revenue (net of refunds)", "revenue", "money"),
    ("Orders", "orders", "count"),
    ("Average order value", "average_order_value", "money"),
    ("Orders per active customer", "orders_per_customer", "number"),
)

_GROUP_TABLES = (
    ("by_risk_tier", "Risk tier"),
    ("by_segment", "Segment"),
    ("by_action", "Action"),
    ("by_group", "Group"),
)


def build_report(
    *,
    scored: pd.DataFrame | None = None,
    orders: pd.DataFrame | None = None,
    cutoff: DateLike | None = None,
    out_dir: str | os.PathLike[str],
    period_days: int = 90,
) -> Path:
    """Write the KPI report of scored customers and/or of orders up to a cutoff into ``out_dir``.

    Parameters
    ----------
    scored : DataFrame, optional
        Scored customers (``customer_id``, ``p_churn``, ``expected_value``, ``risk_tier``,
        ``segment``, optional ``action``/``group``); see :func:`scored_kpis`.
    orders : DataFrame, optional
        Validated orders; only rows on or before the cutoff day are used. Needs ``cutoff``.
    cutoff : date-like, optional
        Calendar day the report is as of; required with ``orders``, never inferred from them.
    out_dir : path-like
        Folder to write into (created if missing).
    period_days : int, default 90
        Length of the retention period, see :func:`retention_kpis`.

    Returns
    -------
    Path
        The path of ``report.md``. Beside it: ``report.json`` (``cutoff``, ``retention``,
        ``monthly`` and ``scored`` KPIs as available, ``figures``; NaN written as null) and
        the PNG charts it links to: ``risk_tiers.png``, ``value_at_risk_by_segment.png``,
        ``p_churn_histogram.png`` (with ``scored``) and ``monthly_activity.png`` (with
        ``orders``). Every file is written atomically; ``report.md`` is written last. Equal
        inputs give byte-identical files.
    """
    if scored is None and orders is None:
        raise ConfigError("build_report needs scored=, orders= or both; got neither.")
    if orders is not None and cutoff is None:
        raise ConfigError(
            "build_report needs cutoff= with orders=: the report is as of a calendar day and "
            "winback never takes it from the last order date. Pass e.g. cutoff='2024-03-31'."
        )
    day = None if cutoff is None else as_cutoff(cutoff)
    out = Path(out_dir)
    charts: dict[str, Callable[[], Axes]] = {}
    report: dict[str, Any] = {"cutoff": None if day is None else day.date().isoformat()}
    if orders is not None:
        report["retention"] = retention_kpis(orders, cutoff=day, period_days=period_days)
        monthly = monthly_activity(orders, cutoff=day)
        report["monthly"] = _records(monthly)
        charts["monthly_activity.png"] = lambda: plot_monthly_activity(monthly)
    if scored is not None:
        report["scored"] = scored_kpis(scored)
        charts["risk_tiers.png"] = lambda: plot_risk_tiers(scored)
        charts["value_at_risk_by_segment.png"] = lambda: plot_value_at_risk(scored, by="segment")
        charts["p_churn_histogram.png"] = lambda: plot_churn_histogram(scored)
    report["figures"] = list(charts)
    for name, draw in charts.items():
        save_figure(draw(), out / name)
    write_json(_without_nan(report), out / REPORT_JSON)
    markdown = _markdown(report)
    path = write_atomic(out / REPORT_MD, lambda tmp: tmp.write_text(markdown, encoding="utf-8"))
    logger.info("Wrote %s, %s and %d charts to %s", REPORT_MD, REPORT_JSON, len(charts), out)
    return path


def _records(monthly: pd.DataFrame) -> list[dict[str, Any]]:
    """The monthly activity table as JSON-ready rows with ISO months (``"2024-03"``)."""
    return [
        {
            "month": month.strftime("%Y-%m"),
            "active_customers": int(active),
            "orders": int(n_orders),
            "revenue": float(revenue),
        }
        for month, active, n_orders, revenue in monthly.itertuples(index=False)
    ]


def _without_nan(obj: Any) -> Any:
    """``obj`` with every float NaN replaced by None, so that the JSON is standard."""
    if isinstance(obj, dict):
        return {key: _without_nan(value) for key, value in obj.items()}
    if isinstance(obj, list):
        return [_without_nan(value) for value in obj]
    if isinstance(obj, float) and math.isnan(obj):
        return None
    return obj


# ----------------------------------------------------------------------------------- markdown
def _format(value: float | None, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    formats = {"count": "{:,.0f}", "rate": "{:.1%}", "money": "{:,.2f}", "number": "{:,.2f}"}
    return formats[kind].format(value)


def _table(header: list[str], rows: list[list[str]], *, first_left: bool = True) -> str:
    align = [":---" if first_left and i == 0 else "---:" for i in range(len(header))]
    lines = [header, align, *rows]
    return "\n".join(
        "| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in lines
    )


def _retention_section(kpis: dict[str, Any]) -> list[str]:
    rows = [[label, _format(kpis[key], kind)] for label, key, kind in _RETENTION_ROWS]
    return [
        f"## Retention: {kpis['period_days']} days from {kpis['period_start']} to {kpis['cutoff']}",
        "",
        f"Compared with the previous {kpis['period_days']} days, from "
        f"{kpis['previous_period_start']}. A purchase is an order with a non-negative amount; "
        "refunds only reduce revenue.",
        "",
        _table(["KPI", "Value"], rows),
        "",
        "![Monthly active customers and net revenue](monthly_activity.png)",
        "",
    ]


def _scored_section(kpis: dict[str, Any]) -> list[str]:
    lines = [
        "## Churn risk of scored customers",
        "",
        _table(
            ["Customers", "Mean p_churn", "Expected value", "Expected value at risk"],
            [
                [
                    _format(kpis["customers"], "count"),
                    _format(kpis["mean_p_churn"], "rate"),
                    _format(kpis["expected_value"], "money"),
                    _format(kpis["value_at_risk"], "money"),
                ]
            ],
            first_left=False,
        ),
        "",
        "Expected value at risk is the sum of p_churn × expected value: the value expected to be "
        "lost if nothing is done.",
        "",
        "![Churn probability distribution](p_churn_histogram.png)",
        "",
    ]
    figures = {
        "by_risk_tier": "![Customers per risk tier](risk_tiers.png)",
        "by_segment": "![Expected value at risk by segment](value_at_risk_by_segment.png)",
    }
    for key, title in _GROUP_TABLES:
        if key not in kpis:
            continue
        rows = [
            [
                str(label),
                _format(row["customers"], "count"),
                _format(row["share"], "rate"),
                _format(row["mean_p_churn"], "rate"),
                _format(row["expected_value"], "money"),
                _format(row["value_at_risk"], "money"),
            ]
            for label, row in kpis[key].items()
        ]
        header = [title, "Customers", "Share", "Mean p_churn", "Expected value", "Value at risk"]
        lines += [f"### By {title.lower()}", "", _table(header, rows), ""]
        if key in figures:
            lines += [figures[key], ""]
    return lines


def _markdown(report: dict[str, Any]) -> str:
    as_of = report["cutoff"] or "not given"
    lines = ["# winback report", "", f"As of cutoff: **{as_of}**.", ""]
    if "retention" in report:
        lines += _retention_section(report["retention"])
    if "scored" in report:
        lines += _scored_section(report["scored"])
    return "\n".join(lines).rstrip("\n") + "\n"
