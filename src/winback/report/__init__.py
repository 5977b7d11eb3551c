"""Reporting: retention and churn-risk KPIs, their plots, and the `winback report` backend.

- :func:`build_report`: the self-contained ``report.html`` (model evaluation, retention KPIs per
  period, at-risk segments, top at-risk customers, campaign plan, campaign results), with
  ``report.md`` and ``report.json``; :func:`read_summary` reads the summaries it shows.
- :func:`retention_by_period`, :func:`retention_kpis` (defined in :data:`RETENTION_KPIS`),
  :func:`monthly_activity`, :func:`scored_kpis`, :func:`group_summary`, :func:`value_at_risk`.

Plots take ``ax=None`` and return the matplotlib ``Axes`` they drew on; new figures are plain
Agg-backed :class:`matplotlib.figure.Figure` objects that pyplot never tracks.
"""

from winback.report._build import build_report, read_summary
from winback.report._kpi_plots import (
    plot_churn_histogram,
    plot_monthly_activity,
    plot_risk_tiers,
    plot_value_at_risk,
)
from winback.report._kpis import (
    RETENTION_KPIS,
    group_summary,
    monthly_activity,
    retention_by_period,
    retention_kpis,
    scored_kpis,
    value_at_risk,
)

__all__ = [
    "RETENTION_KPIS",
    "build_report",
    "group_summary",
    "monthly_activity",
    "plot_churn_histogram",
    "plot_monthly_activity",
    "plot_risk_tiers",
    "plot_value_at_risk",
    "read_summary",
    "retention_by_period",
    "retention_kpis",
    "scored_kpis",
    "value_at_risk",
]
