"""Reporting: retention and churn-risk KPIs, their plots, and the `winback report` backend.

Plots take ``ax=None`` and return the matplotlib ``Axes`` they drew on; new figures are plain
Agg-backed :class:`matplotlib.figure.Figure` objects that pyplot never tracks.
"""

from winback.report._build import build_report
from winback.report._kpi_plots import (
    plot_churn_histogram,
    plot_monthly_activity,
    plot_risk_tiers,
    plot_value_at_risk,
)
from winback.report._kpis import group_summary, monthly_activity, retention_kpis, scored_kpis

__all__ = [
    "build_report",
    "group_summary",
    "monthly_activity",
    "plot_churn_histogram",
    "plot_monthly_activity",
    "plot_risk_tiers",
    "plot_value_at_risk",
    "retention_kpis",
    "scored_kpis",
]
