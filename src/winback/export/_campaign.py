"""Writing a campaign: one list file per action (treated customers), the control list, a summary.

Only customers who may be contacted are exported: a customer row must exist, its
``marketing_opt_in`` must be True (False or missing means no), and it must hold an address for the
action's channel (:data:`ADDRESS_COLUMNS`). Everyone else assigned an action is left out and
counted by reason. The same rule applies to the control group, so that treated and control
customers stay comparable; the control file carries no contact details.

The files are written to a staging folder next to ``out_dir`` (each file atomically) and the
folder is then renamed into place, so ``out_dir`` holds either the previous export or the new
one, never a mix or a partial file. Rows are sorted by ``customer_id`` and numbers have fixed
decimals, so the same inputs give byte-identical files.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from winback.exceptions import ConfigError, DataError
from winback.export._layouts import CONTROL_FIELDS, LAYOUTS, Layout, render, select_fields
from winback.io import write_frame, write_json
from winback.validation import SAFE_NAME

__all__ = ["ADDRESS_COLUMNS", "EXPORT_FORMAT", "CampaignExport", "export_campaign"]

logger = logging.getLogger(__name__)

#: The customers column holding the address each channel needs. ``postal_address`` is not part
#: of the customers contract: unless the column is present, mail actions reach nobody.
ADDRESS_COLUMNS: Mapping[str, str] = {
    "email": "email",
    "sms": "phone",
    "call": "phone",
    "mail": "postal_address",
}
EXPORT_FORMAT = "winback-campaign-export/1"
SUMMARY = "summary.json"
CONTROL = "control.csv"
_REQUIRED = (
    "customer_id",
    "action",
    "offer",
    "channel",
    "group",
    "cost",
    "expected_gain",
    "p_churn",
    "expected_value",
    "segment",
    "risk_tier",
    "value_tier",
)
_MICROS = 1_000_000


@dataclass(frozen=True)
class CampaignExport:
    """What :func:`export_campaign` wrote: the folder, its files and the summary."""

    out_dir: Path
    files: tuple[Path, ...]
    summary: Mapping[str, Any]


def export_campaign(
    scored_with_actions: pd.DataFrame,
    customers: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    *,
    campaign_id: str,
    layout: Literal["generic", "mailchimp"] | Layout = "generic",
    budget: float | None = None,
    address_columns: Mapping[str, str] | None = None,
) -> CampaignExport:
    """Write the campaign's list files, control list and ``summary.json`` to ``out_dir``.

    Parameters
    ----------
    scored_with_actions : DataFrame
        The output of :func:`winback.actions.allocate_actions`: one row per customer with
        ``customer_id``, ``action``, ``offer``, ``channel``, ``group``, ``cost``,
        ``expected_gain``, ``p_churn``, ``expected_value``, ``segment``, ``risk_tier`` and
        ``value_tier``.
    customers : DataFrame
        The customers table: unique ``customer_id``, ``marketing_opt_in`` and the address
        columns (``email``, ``phone``; ``postal_address`` if mail is used).
    out_dir : path
        Folder to write; it must not exist, be empty, or hold a previous winback export
        (which is replaced whole).
    campaign_id : str
        Written into every row and the summary.
    layout : {"generic", "mailchimp"} or Layout
        Column layout of the per-action files: a name from :data:`LAYOUTS` or your own
        :class:`Layout`.
    budget : float, optional
        The campaign budget, reported in the summary next to the spend.
    address_columns : mapping, optional
        Channel -> customers column of its address; defaults to :data:`ADDRESS_COLUMNS`.

    Returns
    -------
    CampaignExport
        ``treatment_<action>.csv`` for each assigned action (treated, contactable customers),
        ``control.csv`` and ``summary.json``: counts per action and segment, spend, control
        size and the customers left out per action, group and reason.

    Raises
    ------
    DataError
        If a required column is missing, ids repeat, or the two frames' ids cannot match.
    ConfigError
        If ``layout`` is unknown, a channel has no address column, or ``out_dir`` holds
        other files.
    """
    layout = _layout(layout)
    mapping = dict(ADDRESS_COLUMNS if address_columns is None else address_columns)
    rows = _contactability(_assigned(scored_with_actions, mapping), customers, mapping)
    rows = rows.assign(campaign_id=campaign_id, tags=campaign_id + "," + rows["action"])
    tables = _tables(rows, layout, mapping)
    summary = _summary(scored_with_actions, rows, mapping, tables, campaign_id, layout, budget)
    out = _publish(tables, summary, Path(out_dir))
    logger.info("Exported campaign %s to %s: %d files.", campaign_id, out, len(tables) + 1)
    return CampaignExport(out, tuple(out / name for name in (*tables, SUMMARY)), summary)


def _layout(layout: str | Layout) -> Layout:
    if isinstance(layout, Layout):
        return layout
    if layout not in LAYOUTS:
        raise ConfigError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}.")
    return LAYOUTS[layout]


def _assigned(frame: pd.DataFrame, mapping: Mapping[str, str]) -> pd.DataFrame:
    """Return the rows with an action (treatment or control), sorted by customer_id."""
    missing = [col for col in _REQUIRED if col not in frame.columns]
    if missing:
        raise DataError(
            f"export_campaign: scored_with_actions lacks {missing} (run allocate_actions "
            f"first); available columns: {', '.join(map(str, frame.columns))}."
        )
    if frame["customer_id"].duplicated().any():
        raise DataError("export_campaign: customer_id repeats in scored_with_actions.")
    rows = frame.loc[frame["group"].isin(["treatment", "control"])]
    unsafe = sorted(set(rows["action"].loc[~rows["action"].str.fullmatch(SAFE_NAME)]))
    if unsafe:
        raise DataError(
            f"export_campaign: action names {unsafe} cannot name files; use letters, digits, "
            "'_', '-' and '.', starting with a letter or digit."
        )
    unknown = sorted(set(rows["channel"].dropna()) - set(mapping))
    if unknown or rows["channel"].isna().any():
        raise ConfigError(
            f"export_campaign: no address column for channel(s) {unknown or ['<missing>']}; "
            f"known: {dict(mapping)}. Pass address_columns={{channel: column}}."
        )
    return rows.sort_values("customer_id", kind="stable").reset_index(drop=True)


def _contactability(
    rows: pd.DataFrame, customers: pd.DataFrame, mapping: Mapping[str, str]
) -> pd.DataFrame:
    """Return ``rows`` plus ``address`` and ``left_out`` (the reason, or "" if contactable)."""
    info = _customer_info(rows, customers)
    has_record = rows["customer_id"].isin(customers["customer_id"]).to_numpy()
    opted_in = _opted_in(info["marketing_opt_in"])
    address = pd.Series(pd.NA, index=rows.index, dtype="str")
    for channel in rows["channel"].unique():  # per channel, not per customer
        column = mapping[channel]
        if column in info.columns:
            use = (rows["channel"] == channel).to_numpy()
            address.loc[use] = info.loc[use, column].astype("str").str.strip()
    has_address = (address.notna() & address.ne("")).to_numpy(dtype=bool, na_value=False)
    no_address = ("no_" + rows["channel"].map(mapping)).to_numpy(dtype=object)
    reason = np.select(
        [~has_record, ~opted_in, ~has_address],
        ["no_customer_record", "not_opted_in", no_address],
        default="",
    )
    return rows.assign(address=address, left_out=reason)


def _customer_info(rows: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """Return ``customers`` aligned to ``rows`` by customer_id (all-NA where there is none)."""
    missing = [c for c in ("customer_id", "marketing_opt_in") if c not in customers.columns]
    if missing:
        raise DataError(
            f"export_campaign: the customers table lacks {missing}; without consent nobody "
            f"can be exported. Available columns: {', '.join(map(str, customers.columns))}."
        )
    if customers["customer_id"].duplicated().any():
        dupes = customers.loc[customers["customer_id"].duplicated(), "customer_id"]
        raise DataError(
            f"export_campaign: customer_id repeats in customers: {dupes.head(5).tolist()}; "
            "keep one row per customer."
        )
    numeric = [pd.api.types.is_numeric_dtype(f["customer_id"]) for f in (rows, customers)]
    if numeric[0] != numeric[1]:
        raise DataError(
            f"export_campaign: customer_id is {rows['customer_id'].dtype} in the scored frame "
            f"but {customers['customer_id'].dtype} in customers; convert one so they match."
        )
    info = customers.set_index("customer_id").reindex(rows["customer_id"])
    return info.reset_index(drop=True).set_axis(rows.index)


def _opted_in(flags: pd.Series) -> np.ndarray:
    try:
        return flags.astype("boolean").fillna(False).to_numpy(dtype=bool)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"export_campaign: customers.marketing_opt_in must be boolean (True/False/missing), "
            f"got values like {flags.dropna().unique()[:5].tolist()}."
        ) from exc


def _tables(
    rows: pd.DataFrame, layout: Layout, mapping: Mapping[str, str]
) -> dict[str, pd.DataFrame]:
    """Return file name -> text frame: one per assigned action, then the control list."""
    sendable = rows.loc[rows["left_out"] == ""]
    treated = sendable.loc[sendable["group"] == "treatment"]
    tables = {}
    for action in sorted(rows["action"].unique()):
        part = treated.loc[treated["action"] == action]
        channel = rows.loc[rows["action"] == action, "channel"].iloc[0]
        tables[f"treatment_{action}.csv"] = render(
            part, layout, channel=channel, address_column=mapping[channel]
        )
    control = sendable.loc[sendable["group"] == "control"]
    tables[CONTROL] = select_fields(control, CONTROL_FIELDS)
    return tables


def _summary(
    scored: pd.DataFrame,
    rows: pd.DataFrame,
    mapping: Mapping[str, str],
    tables: Mapping[str, pd.DataFrame],
    campaign_id: str,
    layout: Layout,
    budget: float | None,
) -> dict[str, Any]:
    """Return the JSON-ready summary: counts, money and who was left out and why."""
    reasons = ["no_customer_record", "not_opted_in", *sorted({f"no_{c}" for c in mapping.values()})]
    sent = rows.loc[(rows["left_out"] == "") & (rows["group"] == "treatment")]
    return {
        "format": EXPORT_FORMAT,
        "campaign_id": campaign_id,
        "layout": layout.name,
        "customers": {"scored": len(scored), "assigned": len(rows)},
        "actions": {a: _action_summary(rows, a, reasons) for a in sorted(rows["action"].unique())},
        "segments": _segment_counts(rows.loc[rows["left_out"] == ""]),
        "left_out": {g: _reason_counts(rows.loc[rows["group"] == g], reasons) for g in _GROUPS},
        "control_size": int(((rows["left_out"] == "") & (rows["group"] == "control")).sum()),
        "budget": {
            "limit": budget,
            "planned": _money(rows["cost"]),
            "spent": _money(sent["cost"]),
        },
        "expected_gain": round(float(sent["expected_gain"].sum()), 2),
        "files": sorted([*tables, SUMMARY]),
    }


_GROUPS = ("treatment", "control")


def _action_summary(rows: pd.DataFrame, action: str, reasons: list[str]) -> dict[str, Any]:
    mine = rows.loc[rows["action"] == action]
    out: dict[str, Any] = {
        "channel": str(mine["channel"].iloc[0]),
        "offer": str(mine["offer"].iloc[0]),
        "file": f"treatment_{action}.csv",
    }
    for group in _GROUPS:
        part = mine.loc[mine["group"] == group]
        out[group] = {
            "assigned": len(part),
            "exported": int((part["left_out"] == "").sum()),
            "left_out": _reason_counts(part, reasons),
        }
    out["spent"] = _money(
        mine.loc[(mine["group"] == "treatment") & (mine["left_out"] == ""), "cost"]
    )
    return out


def _reason_counts(rows: pd.DataFrame, reasons: list[str]) -> dict[str, int]:
    counts = rows["left_out"].value_counts()
    return {reason: int(counts.get(reason, 0)) for reason in reasons}


def _segment_counts(rows: pd.DataFrame) -> dict[str, dict[str, int]]:
    table = pd.crosstab(rows["segment"], rows["group"]).reindex(columns=list(_GROUPS), fill_value=0)
    return {str(seg): {g: int(n) for g, n in counts.items()} for seg, counts in table.iterrows()}


def _money(values: pd.Series) -> float:
    """Sum money exactly in millionths so totals print without float noise."""
    return int(np.round(values.to_numpy(dtype=float) * _MICROS).sum()) / _MICROS


def _publish(tables: Mapping[str, pd.DataFrame], summary: dict[str, Any], out_dir: Path) -> Path:
    """Write every file into a staging folder, then swap it into ``out_dir`` in one rename."""
    _check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(f".{out_dir.name}.{uuid.uuid4().hex}.tmp")
    staging.mkdir()  # unlike mkdtemp, honours the umask: the folder ends up as out_dir
    try:
        for name, table in tables.items():
            write_frame(table, staging / name)
        write_json(summary, staging / SUMMARY)
        _swap_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def _check_replaceable(out_dir: Path) -> None:
    """Refuse to replace a folder that holds anything but a previous winback export."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise ConfigError(f"export_campaign: {out_dir} exists and is not a folder.")
    if not any(out_dir.iterdir()) or _is_export(out_dir / SUMMARY):
        return
    raise ConfigError(
        f"export_campaign: {out_dir} holds files that are not a winback export; "
        "pass a new or empty folder so nothing of yours is replaced."
    )


def _is_export(summary: Path) -> bool:
    try:
        return json.loads(summary.read_text(encoding="utf-8")).get("format") == EXPORT_FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _swap_into_place(staging: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    old = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex}")
    os.replace(out_dir, old)
    try:
        os.replace(staging, out_dir)
    except BaseException:
        os.replace(old, out_dir)
        raise
    shutil.rmtree(old)
