"""The `winback report` backend: ``report.html`` (self-contained), ``report.md``, ``report.json``.

The HTML page holds the model's evaluation (with a bundle), retention KPIs per period, at-risk
segments, the top at-risk customers with their reasons, the campaign plan and a place for the
campaign's measured results; ``report.json`` holds the same numbers, ``report.md`` a summary
linking to the PNG charts written beside it.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.axes import Axes

from winback.dates import DateLike
from winback.exceptions import ConfigError, DataError
from winback.io import check_replaceable, read_json_object, write_atomic, write_json
from winback.plotting import png_bytes
from winback.report._evaluation import model_evaluation
from winback.report._html import format_value, render_html
from winback.report._kpi_plots import (
    plot_churn_histogram,
    plot_monthly_activity,
    plot_risk_tiers,
    plot_value_at_risk,
)
from winback.report._kpis import (
    RETENTION_KPIS,
    as_cutoff,
    monthly_activity,
    retention_kpis,
    scored_kpis,
)
from winback.report._sections import (
    campaign_results_section,
    campaign_section,
    clv_section,
    retention_section,
    segments_section,
    top_customers_section,
)

__all__ = ["build_report", "read_summary"]

logger = logging.getLogger(__name__)

REPORT_HTML = "report.html"
REPORT_JSON = "report.json"
REPORT_MD = "report.md"
TITLE = "winback report"

_GROUP_TABLES = (
    ("by_risk_tier", "Risk tier"),
    ("by_segment", "Segment"),
    ("by_action", "Action"),
    ("by_group", "Group"),
)
#: Chart file stem -> title; the PNG is written beside report.md and inlined in report.html.
CHART_TITLES = {
    "monthly_activity": "Monthly active customers and net revenue",
    "risk_tiers": "Customers per risk tier",
    "value_at_risk_by_segment": "Value at risk by segment",
    "p_churn_histogram": "Distribution of churn probability",
}


def build_report(
    *,
    scored: pd.DataFrame | None = None,
    orders: pd.DataFrame | None = None,
    cutoff: DateLike | None = None,
    out_dir: str | os.PathLike[str],
    period_days: int = 90,
    n_periods: int = 8,
    model: str | os.PathLike[str] | None = None,
    scores_summary: Mapping[str, Any] | None = None,
    export_summary: Mapping[str, Any] | None = None,
    campaign_results: Mapping[str, Any] | None = None,
    measurement: str | os.PathLike[str] | None = None,
    top: int = 50,
    sources: Mapping[str, str] | None = None,
) -> Path:
    """Write the report of a model, scored customers and/or orders up to a cutoff into ``out_dir``.

    Parameters
    ----------
    scored : DataFrame, optional
        Scored customers (``customer_id``, ``p_churn``, ``expected_value``, ``risk_tier``,
        ``segment``, optional ``reasons``, ``action``/``offer``/``channel``/``cost``/
        ``expected_gain``/``group``, ``value_if_retained``, ``value_at_risk``, ``p_alive``,
        ``expected_next_order_date``, ``days_to_next_order``, ``clv``); see :func:`scored_kpis`.
    orders : DataFrame, optional
        Validated orders; only rows on or before the cutoff day are used. Needs ``cutoff``.
    cutoff : date-like, optional
        Calendar day the report is as of; required with ``orders``, never inferred from them.
    out_dir : path-like
        Folder to write into (created if missing).
    period_days : int, default 90
        Length of a retention period, see :func:`retention_by_period`.
    n_periods : int, default 8
        Retention periods shown in report.html (the latest last).
    model : path-like, optional
        A model bundle: its backtest evaluation (every baseline, CIs, ROC, calibration and gains
        plots per task) is reported, after its hashes are checked.
    scores_summary, export_summary : dict, optional
        The scores' ``<stem>.summary.json`` and an export's ``summary.json``: campaign id,
        budget, and who was excluded from the campaign and why.
    campaign_results : dict, optional
        A campaign's measured results, shown in the "Campaign results" section
        (see :func:`campaign_results_section`).
    measurement : path-like, optional
        A measurement JSON written by `winback measure`; shown in the "Campaign results"
        section per action, overall, per risk tier and segment (instead of ``campaign_results``).
    top : int, default 50
        At-risk customers listed by value at risk.
    sources : dict, optional
        Label -> file name of the inputs, named in the page's footer.

    Returns
    -------
    Path
        The path of ``report.html``, a self-contained page (inline styles, PNG images as data
        URIs, no script, no external URL). Beside it: ``report.md``, ``report.json``
        (``cutoff``, ``retention``, ``retention_by_period``, ``monthly``, ``scored``,
        ``segments``, ``top_at_risk``, ``campaign``, ``evaluation``, ``campaign_results`` as
        available, ``figures``; NaN written as null) and the PNG charts report.md links to.
        Every file is written atomically, report.html last; equal inputs give byte-identical
        files.
    """
    if scored is None and orders is None and model is None:
        raise ConfigError("build_report needs scored=, orders=, model= or several; got none.")
    if orders is not None and cutoff is None:
        raise ConfigError(
            "build_report needs cutoff= with orders=: the report is as of a calendar day and "
            "winback never takes it from the last order date. Pass e.g. cutoff='2024-03-31'."
        )
    if not isinstance(top, int) or top < 1:
        raise ConfigError(f"top must be a positive integer, got {top!r}.")
    day = None if cutoff is None else as_cutoff(cutoff)
    out = Path(out_dir)
    evaluation = None if model is None else model_evaluation(model)
    draws: dict[str, Callable[[], Axes]] = {}
    report: dict[str, Any] = {"cutoff": None if day is None else day.date().isoformat()}
    if orders is not None:
        report["retention"] = retention_kpis(orders, cutoff=day, period_days=period_days)
        report["retention_by_period"] = retention_section(
            orders, cutoff=day, period_days=period_days, n_periods=n_periods
        )
        monthly = monthly_activity(orders, cutoff=day)
        report["monthly"] = _records(monthly)
        draws["monthly_activity"] = lambda: plot_monthly_activity(monthly)
    if scored is not None:
        report["scored"] = scored_kpis(scored)
        report["segments"] = segments_section(scored)
        report["top_at_risk"] = top_customers_section(scored, top=top)
        report["campaign"] = campaign_section(
            scored, scores_summary=scores_summary, export_summary=export_summary
        )
        draws["risk_tiers"] = lambda: plot_risk_tiers(scored)
        draws["value_at_risk_by_segment"] = lambda: plot_value_at_risk(scored, by="segment")
        draws["p_churn_histogram"] = lambda: plot_churn_histogram(scored)
    clv = clv_section(
        report.get("retention"), report.get("scored"), (scores_summary or {}).get("values")
    )
    if clv is not None:
        report["clv"] = clv
    if evaluation is not None:
        report["evaluation"] = _without_png(evaluation)
    if measurement is not None:
        campaign_results = _measurement(measurement)
    results = campaign_results_section(campaign_results)
    report["campaign_results"] = results
    charts = {
        name: {"title": CHART_TITLES[name], "png": png_bytes(draw())}
        for name, draw in draws.items()
    }
    report["figures"] = [f"{name}.png" for name in charts]
    for name in (*report["figures"], REPORT_JSON, REPORT_MD, REPORT_HTML):  # all, before any
        check_replaceable(out / name)
    for name, chart in charts.items():
        _write_bytes(out / f"{name}.png", chart["png"])
    write_json(_without_nan(report), out / REPORT_JSON)
    _write_text(out / REPORT_MD, _markdown(report))
    html = render_html(
        {
            "title": TITLE,
            "cutoff": report["cutoff"],
            "evaluation": evaluation,
            "retention": report.get("retention_by_period"),
            "clv": report.get("clv"),
            "scored": report.get("scored"),
            "segments": report.get("segments"),
            "top": report.get("top_at_risk"),
            "campaign": report.get("campaign"),
            "results": results,
            "charts": charts,
            "sources": dict(sources or {}),
        }
    )
    path = _write_text(out / REPORT_HTML, html)
    logger.info(
        "Wrote %s, %s, %s and %d charts to %s",
        REPORT_HTML,
        REPORT_MD,
        REPORT_JSON,
        len(charts),
        out,
    )
    return path


def read_summary(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a run's JSON summary (a scores' ``<stem>.summary.json``, an export's
    ``summary.json``) for :func:`build_report`.

    Raises
    ------
    DataError
        If the file is missing or is not a JSON object.
    """
    return read_json_object(
        path,
        what="Summary",
        fix="pass the folder `winback export` wrote (it holds summary.json)",
    )


def _measurement(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a `winback measure` JSON, or raise a DataError saying what the file should be."""
    if not Path(path).is_file():
        raise DataError(f"Measurement {path} does not exist; write it with `winback measure`.")
    data = read_summary(path)
    if not str(data.get("format", "")).startswith("winback-campaign-measurement/"):
        raise DataError(
            f"{path} is not a campaign measurement; pass the JSON written by `winback measure "
            "--results <file>.json`."
        )
    return data


def _write_bytes(path: Path, data: bytes) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_bytes(data))


def _write_text(path: Path, text: str) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _without_png(evaluation: dict[str, Any]) -> dict[str, Any]:
    """The evaluation for report.json: each task's plots as their titles, without the PNG bytes."""
    tasks = [
        {**task, "plots": {kind: plot["title"] for kind, plot in task["plots"].items()}}
        for task in evaluation["tasks"]
    ]
    return {**evaluation, "tasks": tasks}


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
    if isinstance(obj, list | tuple):
        return [_without_nan(value) for value in obj]
    if isinstance(obj, float) and math.isnan(obj):
        return None
    return obj


# ----------------------------------------------------------------------------------- markdown
def _table(header: list[str], rows: list[list[str]], *, first_left: bool = True) -> str:
    align = [":---" if first_left and i == 0 else "---:" for i in range(len(header))]
    lines = [header, align, *rows]
    return "\n".join(
        "| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in lines
    )


def _retention_section(kpis: dict[str, Any]) -> list[str]:
    rows = [["Customers with a purchase to date", format_value(kpis["customers_to_date"], "count")]]
    rows += [
        [label, format_value(kpis[key], kind)] for key, (label, kind, _) in RETENTION_KPIS.items()
    ]
    definitions = [f"- **{label}**: {text}." for label, _, text in RETENTION_KPIS.values()]
    return [
        f"## Retention: {kpis['period_days']} days from {kpis['period_start']} to {kpis['cutoff']}",
        "",
        f"Compared with the previous {kpis['period_days']} days, from "
        f"{kpis['previous_period_start']}. A purchase is an order with a non-negative amount; "
        "refunds only reduce revenue. KPIs of earlier periods are in report.html and report.json.",
        "",
        _table(["KPI", "Value"], rows),
        "",
        *definitions,
        "",
        "![Monthly active customers and net revenue](monthly_activity.png)",
        "",
    ]


def _clv_section(clv: dict[str, Any]) -> list[str]:
    rows = [[row["label"], format_value(row["value"], row["kind"])] for row in clv["rows"]]
    definitions = [f"- **{row['label']}**: {row['definition']}." for row in clv["rows"]]
    return ["## Customer lifetime value", "", _table(["CLV", "Value"], rows), "", *definitions, ""]


def _scored_section(kpis: dict[str, Any]) -> list[str]:
    lines = [
        "## Churn risk of scored customers",
        "",
        _table(
            ["Customers", "Mean p_churn", "Expected value", "Value at risk"],
            [
                [
                    format_value(kpis["customers"], "count"),
                    format_value(kpis["mean_p_churn"], "rate"),
                    format_value(kpis["expected_value"], "money"),
                    format_value(kpis["value_at_risk"], "money"),
                ]
            ],
            first_left=False,
        ),
        "",
        f"The value expected to be lost if nothing is done: {kpis['value_at_risk_definition']}",
        "",
        "![Churn probability distribution](p_churn_histogram.png)",
        "",
    ]
    figures = {
        "by_risk_tier": "![Customers per risk tier](risk_tiers.png)",
        "by_segment": "![Value at risk by segment](value_at_risk_by_segment.png)",
    }
    for key, title in _GROUP_TABLES:
        if key not in kpis:
            continue
        rows = [
            [
                str(label),
                format_value(row["customers"], "count"),
                format_value(row["share"], "rate"),
                format_value(row["mean_p_churn"], "rate"),
                format_value(row["expected_value"], "money"),
                format_value(row["value_at_risk"], "money"),
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
    lines = [
        "# winback report",
        "",
        f"As of cutoff: **{as_of}**. The full report, with the model's evaluation, the top "
        "at-risk customers and the campaign plan, is report.html.",
        "",
    ]
    if "retention" in report:
        lines += _retention_section(report["retention"])
    if "clv" in report:
        lines += _clv_section(report["clv"])
    if "scored" in report:
        lines += _scored_section(report["scored"])
    return "\n".join(lines).rstrip("\n") + "\n"
