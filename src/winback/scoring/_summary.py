"""The JSON summary of a scoring run: reconciliation, data-gate rejects, tiers, segments, drift."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from winback.exceptions import DriftWarning
from winback.models import WinbackModel
from winback.monitoring import drifted, stability_from_counts
from winback.scoring._population import model_version
from winback.scoring._rejects import reconcile

__all__ = ["drift_summary", "run_summary", "summary_lines"]

logger = logging.getLogger(__name__)


def drift_summary(
    profile: Mapping[str, Any] | None, counts: dict[str, np.ndarray] | None, threshold: float
) -> dict[str, Any]:
    if not profile:
        return {
            "computed": False,
            "reason": "the model bundle has no feature_profile in its metadata (it was trained "
            "before winback recorded one); retrain the model to enable drift checks",
        }
    if counts is None:
        return {"computed": False, "reason": "no customer was scored"}
    psi = stability_from_counts(profile, counts)
    names = drifted(psi, threshold=threshold)
    summary = {
        "computed": True,
        "threshold": threshold,
        "drifted": names,
        "psi": {name: round(float(v), 6) for name, v in psi.items()},
    }
    if names:
        shown = ", ".join(f"{n} (PSI {psi[n]:.2f})" for n in names)
        summary["message"] = (
            f"{len(names)} features drifted beyond PSI {threshold} from the training "
            f"population: {shown}. Check the input data; retrain if the shift is real."
        )
        warnings.warn(summary["message"], DriftWarning, stacklevel=3)
    return summary


def _counts(series: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in series.value_counts(sort=False).sort_index().items()}


def run_summary(
    scored: pd.DataFrame,
    rejects: pd.DataFrame,
    inputs: pd.Index,
    data_rejects: pd.DataFrame | None,
    drift: dict[str, Any],
    model: WinbackModel,
    day: pd.Timestamp,
) -> dict[str, Any]:
    """The run's summary; ``inputs`` are the input customers (see ``input_customers``)."""
    reconcile(inputs, scored["customer_id"], rejects["customer_id"])
    summary: dict[str, Any] = {
        "as_of": day.date().isoformat(),
        "model": {
            "name": model.name,
            "version": model_version(model),
            "horizons_days": dict(sorted(model.horizons.items())),
        },
        "customers": {
            "input": len(inputs),
            "scored": len(scored),
            "rejected": len(rejects),
            "rejected_by_reason": _counts(rejects["reason"].str.split(" \\(", regex=True).str[0]),
        },
        "data_gate": _gate_summary(data_rejects),
        "risk_tiers": _counts(scored["risk_tier"]),
        "value_tiers": _counts(scored["value_tier"]),
        "segments": _counts(scored["segment"]),
        "expected_value_total": round(float(scored["expected_value"].sum()), 2),
        "drift": drift,
    }
    if "action" in scored.columns:
        summary["actions"] = {
            "by_action": _counts(scored["action"]),
            "by_group": _counts(scored["group"]),
            "planned_cost": round(float(scored["cost"].sum()), 2),
        }
    return summary


def _gate_summary(data_rejects: pd.DataFrame | None) -> dict[str, Any]:
    if data_rejects is None or not len(data_rejects):
        return {}
    out = {}
    for table, rows in data_rejects.groupby("table", sort=True):
        kinds = rows["reason"].astype("str").str.split(":").str[0].str.split(";").str[0]
        out[str(table)] = {
            "rows_rejected": len(rows),
            "rows_without_customer_id": int(rows["customer_id"].isna().sum()),
            "by_reason": _counts(kinds),
        }
    return out


def summary_lines(summary: Mapping[str, Any]) -> list[str]:
    """What a scoring run did, as lines for a person: the orders' line items, the
    reconciliation, tables scored without, drift, and the campaign (each action's customers, and
    why an action reached nobody)."""
    lines = []
    items = summary.get("line_items")
    if items and items["lines"] > items["orders"]:
        lines.append(
            f"orders: aggregated {items['lines']:,} lines into {items['orders']:,} orders "
            f"({items['cancellations']:,} cancellations)"
        )
    counts = summary["customers"]
    lines.append(
        f"{counts['input']} input customers = {counts['scored']} scored + "
        f"{counts['rejected']} rejected"
    )
    if summary.get("allowed_missing"):
        lines.append(f"scored without: {', '.join(summary['allowed_missing'])}")
    drift = summary["drift"]
    if not drift["computed"]:
        lines.append(f"drift not computed: {drift['reason']}")
    elif drift["drifted"]:
        lines.append(f"drift: {drift['message']}")
    if "actions" in summary:
        lines += _campaign_lines(summary["actions"])
    return lines


def _campaign_lines(actions: Mapping[str, Any]) -> list[str]:
    by_action = actions["by_action"]
    nobody = actions.get("no_customers", {})
    budget = actions.get("budget")
    of_budget = "" if budget is None else f" of the budget {budget:,.2f}"
    lines = [
        f"campaign {actions.get('campaign_id', '')}: planned cost "
        f"{actions['planned_cost']:,.2f}{of_budget}"
    ]
    lines += [f"  {name}: {n:,} customer{'' if n == 1 else 's'}" for name, n in by_action.items()]
    lines += [f"  {name}: nobody, {why}" for name, why in nobody.items()]
    return lines
