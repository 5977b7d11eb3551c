"""The population-wide steps on per-customer scores: value, tiers, RFM segments, allocation."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from winback.actions import (
    ALLOCATION_COLUMNS,
    ActionsConfig,
    SegmentTable,
    allocate_actions,
    assign_tiers,
    retention_values,
    rfm_segments,
)
from winback.models import WinbackModel
from winback.scoring._columns import SCORE_COLUMNS, TIERS
from winback.scoring._config import ScoringConfig

__all__ = ["RFM_INPUTS", "allocate", "assemble", "model_version"]

logger = logging.getLogger(__name__)


# days after the as-of date beyond which no next-order date is given (pandas ends in 2262)
_MAX_DAYS_AHEAD = 36_500

# the RFM inputs of the segment, as named in the scores (rfm_segments' defaults) <- feature
RFM_INPUTS = {
    "recency_days": "days_since_last_order",
    "n_orders": "n_orders",
    "monetary_total": "monetary_total",
}


def assemble(
    parts: list[pd.DataFrame],
    population: pd.Index,
    keep: list[str],
    model: WinbackModel,
    day: pd.Timestamp,
    config: ScoringConfig,
    segment_table: SegmentTable | None,
) -> pd.DataFrame:
    frame = pd.concat(parts)
    frame.index = population
    frame = frame.rename_axis("customer_id").reset_index()
    for name, feature in RFM_INPUTS.items():
        frame[name] = frame[feature]
    margin = 1.0 if config.margin is None else config.margin
    frame["expected_value"] = frame["expected_spend"].astype(float) * margin
    values = retention_values(frame)
    frame["value_if_retained"] = values["value_if_retained"]
    frame["value_at_risk"] = values["value_at_risk"]
    frame["clv"] = frame.pop("clv_spend").astype(float) * margin
    frame["expected_next_order_date"] = next_order_dates(frame["days_to_next_order"], day)
    frame["risk_tier"] = assign_tiers(
        frame["p_churn"].astype(float), cuts=config.risk_cuts, labels=TIERS, by="value"
    )
    frame["value_tier"] = assign_tiers(
        frame["expected_value"], cuts=config.value_cuts, labels=TIERS, by=config.value_tiers_by
    )
    segmented = rfm_segments(frame[list(RFM_INPUTS)].astype(float), table=segment_table)
    frame["segment"] = segmented["segment"]
    frame["reasons"] = frame["reasons"].astype("str")
    frame["model"] = model.name
    frame["model_version"] = model_version(model)
    frame["as_of"] = day.date().isoformat()
    extra = [c for c in keep if c not in SCORE_COLUMNS]
    return frame[[*SCORE_COLUMNS, *extra]]


def next_order_dates(days: pd.Series, day: pd.Timestamp) -> pd.Series:
    """ISO date ``days`` after the as-of ``day``; missing where ``days`` is NaN or the date would
    fall beyond the calendar pandas can hold (a median wait of centuries)."""
    values = pd.to_numeric(days, errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(values) & (values <= _MAX_DAYS_AHEAD)
    out = pd.Series(pd.NA, index=days.index, dtype="string")
    if ok.any():
        dates = day + pd.to_timedelta(values[ok], unit="D")
        out[ok] = dates.strftime("%Y-%m-%d")
    return out


def model_version(model: WinbackModel) -> str:
    """The model's version: ``metadata["version"]`` when the bundle records one, else
    ``<date the BTYD part was fitted>-<first 8 hex digits of the training data's fingerprint>``."""
    meta = model.metadata
    if meta.get("version"):
        return str(meta["version"])
    fitted = meta.get("btyd_fitted_at", "unknown")
    data = str(meta.get("data", {}).get("fingerprint", ""))[:8] or "unknown"
    return f"{fitted}-{data}"


def allocate(scored: pd.DataFrame, campaign: ActionsConfig, keep: list[str]) -> pd.DataFrame:
    allocated = allocate_actions(scored, campaign)
    return allocated[
        [*SCORE_COLUMNS, *ALLOCATION_COLUMNS, *(c for c in keep if c not in SCORE_COLUMNS)]
    ]
