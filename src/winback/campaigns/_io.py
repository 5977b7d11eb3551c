"""Reading a campaign (a scored file or an export folder) and writing a measurement as JSON.

A *campaign frame* has one row per customer the campaign assigned an action: ``customer_id``,
``action``, ``group`` (``treatment`` or ``control``), ``cost`` (the action's unit cost, NaN
when unknown) and, when the source has them, ``p_churn``, ``expected_value``, ``risk_tier``,
``segment``, ``as_of`` and ``uplift_<action>`` columns. Customers with group ``none`` (no action)
are not part of it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from winback.exceptions import DataError
from winback.export import LAYOUTS
from winback.io import read_json_object, write_json
from winback.scoring import read_score_summary, read_scores

__all__ = [
    "GROUPS",
    "MEASUREMENT_FORMAT",
    "Campaign",
    "campaign_frame",
    "read_campaign",
    "read_measurement",
    "write_measurement",
]

logger = logging.getLogger(__name__)

GROUPS = ("treatment", "control")
MEASUREMENT_FORMAT = "winback-campaign-measurement/1"
_EXPORT_SUMMARY = "summary.json"
_CONTROL_FILE = "control.csv"


@dataclass(frozen=True)
class Campaign:
    """A campaign read from disk: its customers, its id and where it came from."""

    frame: pd.DataFrame
    campaign_id: str | None
    source: str


def read_campaign(path: str | os.PathLike[str]) -> Campaign:
    """Read a campaign from the scores `winback score --actions` wrote, or an export folder.

    Parameters
    ----------
    path : path-like
        A scores file (``.parquet``/``.csv`` with ``action`` and ``group``; the campaign id is
        read from its ``<stem>.summary.json``) or a folder written by `winback export`
        (``summary.json``, ``treatment_<action>.csv``, ``control.csv``; only the customers that
        were exported, in both groups, and the unit cost as spend / treated customers).

    Returns
    -------
    Campaign
        ``frame``: see :func:`campaign_frame`.

    Raises
    ------
    DataError
        If the file or folder is missing or lacks the columns a campaign needs.
    """
    path = Path(path)
    if path.is_dir():
        return _read_export(path)
    scored = read_scores(path)
    summary = read_score_summary(path)
    campaign_id = (summary.get("actions") or {}).get("campaign_id")
    return Campaign(campaign_frame(scored, source=str(path)), campaign_id, str(path))


def campaign_frame(scored: pd.DataFrame, *, source: str = "the campaign") -> pd.DataFrame:
    """Return the campaign's assigned customers (group treatment or control) from scores.

    Raises
    ------
    DataError
        If ``action`` or ``group`` is missing, a group is not treatment/control/none, or a
        customer appears more than once (e.g. in both groups).
    """
    missing = [c for c in ("customer_id", "action", "group") if c not in scored.columns]
    if missing:
        raise DataError(
            f"{source} lacks the column(s) {missing} a campaign needs; found "
            f"{list(map(str, scored.columns))}. Measure the scores written by `winback score "
            "--actions ...` (they hold action and group) or the folder `winback export` wrote."
        )
    groups = scored["group"].astype("str")
    bad = ~groups.isin([*GROUPS, "none"])
    if bad.any():
        raise DataError(
            f"{source}: column 'group' must be treatment, control or none; rows "
            f"{scored.index[bad][:5].tolist()} hold {sorted(groups[bad].unique())[:5]}."
        )
    frame = scored.loc[groups.isin(GROUPS).to_numpy()].copy()
    frame["group"] = groups[groups.isin(GROUPS)].to_numpy()
    frame["customer_id"] = frame["customer_id"].astype("str")
    _check_unique(frame, source)
    if "cost" not in frame.columns:
        frame["cost"] = np.nan
    frame["action"] = frame["action"].astype("str")
    return frame.reset_index(drop=True)


def _check_unique(frame: pd.DataFrame, source: str) -> None:
    repeated = frame["customer_id"].duplicated(keep=False)
    if not repeated.any():
        return
    rows = frame.loc[repeated]
    both = rows.groupby("customer_id")["group"].nunique()
    both = both[both > 1].index.tolist()
    if both:
        raise DataError(
            f"{source}: {len(both)} customer(s) are in both the treatment and the control "
            f"group (e.g. customer_id {sorted(both)[:5]}); a customer belongs to one group. "
            "Measure the file of one campaign, as `winback score`/`winback export` wrote it."
        )
    raise DataError(
        f"{source}: customer_id must be unique; repeated: "
        f"{sorted(rows['customer_id'].unique().tolist())[:5]}."
    )


def _read_export(folder: Path) -> Campaign:
    summary_path = folder / _EXPORT_SUMMARY
    summary = read_json_object(
        summary_path,
        what="Export summary",
        fix=f"{folder} is not a campaign export: pass the folder `winback export` wrote, or "
        "the scores file",
    )
    try:
        actions = dict(summary["actions"])
        layout = LAYOUTS[summary.get("layout", "generic")]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{summary_path} is not an export summary: {exc!r}.") from exc
    rename = {header: field for header, field in (*layout.leading, *layout.fields)}
    parts = []
    for action, info in sorted(actions.items()):
        treated = _read_list(folder / str(info.get("file", f"treatment_{action}.csv")), rename)
        treated = treated.assign(action=action, group="treatment")
        sent = int(info.get("treatment", {}).get("exported", len(treated)))
        treated["cost"] = float(info.get("spent", np.nan)) / sent if sent else np.nan
        parts.append(treated)
    control = _read_list(folder / _CONTROL_FILE, {})
    unit = {
        a: p["cost"].iloc[0] if len(p) else np.nan
        for a, p in zip(sorted(actions), parts, strict=True)
    }
    control = control.assign(group="control", cost=control["action"].map(unit))
    frame = pd.concat([*parts, control], ignore_index=True)
    return Campaign(
        campaign_frame(frame, source=str(folder)), summary.get("campaign_id"), str(folder)
    )


def _read_list(path: Path, rename: dict[str, str]) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path} is missing from the export; re-run `winback export`.")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path} cannot be read as CSV: {exc}") from exc
    frame = frame.rename(columns=rename)
    for column in ("p_churn", "expected_value"):
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    if "customer_id" not in frame.columns:
        raise DataError(f"{path} lacks a customer id column; found {list(frame.columns)}.")
    return frame


def write_measurement(measurement: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write a measurement (``CampaignMeasurement.results``) atomically as JSON."""
    return write_json(measurement, path)


def read_measurement(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a measurement JSON written by :func:`write_measurement`.

    Raises
    ------
    DataError
        If the file is missing, not JSON, or not a winback campaign measurement.
    """
    fix = "write it with `winback measure --results <file>.json`"
    data = read_json_object(path, what="Measurement", fix=fix)
    if data.get("format") != MEASUREMENT_FORMAT:
        raise DataError(
            f"{path} is not a campaign measurement (expected format {MEASUREMENT_FORMAT!r}); {fix}."
        )
    return data
