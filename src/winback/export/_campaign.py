"""Writing a campaign: one list file per action (treated customers), the control list, the
excluded list and a summary.

Only customers who may be contacted are exported: a customer row must exist, its
``marketing_opt_in`` must be an unambiguous True (False, missing, or rows of the same customer
that disagree all mean no), and it must hold an address for the action's channel
(:data:`ADDRESS_COLUMNS`); an e-mail address must also be valid (:func:`valid_emails`). Everyone
else assigned an action is left out, listed in ``excluded.csv`` with the reason and counted by
reason in the summary. The same rule applies to the control group, so that treated and control
customers stay comparable; the control file carries no contact details.

Every cell of every CSV file is made inert for spreadsheets (``=cmd``, ``+1``, ``@SUM``... get a
leading ``'``; see :func:`winback.io.escape_formulas`): names, offers, segments, ids and
addresses come from data and configs and reach marketing tools as they are.

The files are written to a staging folder next to ``out_dir`` and the folder is then renamed into
place, so ``out_dir`` holds either the previous export or the new one, never a mix or a partial
file. ``out_dir`` must not exist, be empty, or hold exactly the files of a previous winback
export (listed in its ``summary.json``): a folder holding anything else is refused, so no file of
the user's is ever replaced. One export at a time may write a folder; staging left by a killed
run is removed by the next one. Rows are sorted by ``customer_id`` and numbers have fixed
decimals, so the same inputs give byte-identical files.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from winback.exceptions import ConfigError, DataError
from winback.export._layouts import CONTROL_FIELDS, LAYOUTS, Layout, render, select_fields
from winback.io import output_lock, sha256_file, staging_path, write_frame, write_json
from winback.validation import SAFE_NAME

__all__ = [
    "ADDRESS_COLUMNS",
    "EXPORT_FORMAT",
    "LEFT_OUT_REASONS",
    "CampaignExport",
    "export_campaign",
    "valid_emails",
]

logger = logging.getLogger(__name__)

#: The customers column holding the address each channel needs (all optional columns of the
#: customers contract: without ``postal_address``, mail actions reach nobody).
ADDRESS_COLUMNS: Mapping[str, str] = {
    "email": "email",
    "sms": "phone",
    "call": "phone",
    "mail": "postal_address",
}
EXPORT_FORMAT = "winback-campaign-export/1"
SUMMARY = "summary.json"
CONTROL = "control.csv"
EXCLUDED = "excluded.csv"
#: Why an assigned customer is left out, in the order they are checked (``no_<column>`` per
#: address column follow).
LEFT_OUT_REASONS = ("no_customer_record", "conflicting_opt_in", "not_opted_in", "invalid_email")
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
_MONEY_DECIMALS = 6
#: The WHATWG ("HTML living standard") syntax of a valid e-mail address, with a dotted domain,
#: and a first character a spreadsheet does not run as a formula.
_EMAIL = re.compile(
    r"(?![=+\-@])[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
_MAX_EMAIL = 254
_EXCLUDED_FIELDS = (
    ("customer_id", "customer_id"),
    ("action", "action"),
    ("channel", "channel"),
    ("group", "group"),
    ("reason", "left_out"),
)


@dataclass(frozen=True)
class CampaignExport:
    """What :func:`export_campaign` wrote: the folder, its files and the summary."""

    out_dir: Path
    files: tuple[Path, ...]
    summary: Mapping[str, Any]

    @property
    def lines(self) -> list[str]:
        """Per action, who is in the lists and who was left out and why (what `winback export`
        prints), e.g. ``"discount_15: 180 of 200 treated ..., left out: 20 not opted in"``."""
        return [_action_line(name, a) for name, a in self.summary["actions"].items()]


def _action_line(name: str, action: Mapping[str, Any]) -> str:
    treated, control = action["treatment"], action["control"]
    left = {
        reason: treated["left_out"].get(reason, 0) + control["left_out"].get(reason, 0)
        for reason in {**treated["left_out"], **control["left_out"]}
    }
    shown = ", ".join(f"{n:,} {reason.replace('_', ' ')}" for reason, n in left.items() if n)
    return (
        f"{name}: {treated['exported']:,} of {treated['assigned']:,} treated customers in "
        f"{action['file']}, {control['exported']:,} of {control['assigned']:,} control; "
        + (f"left out: {shown}" if shown else "nobody left out")
    )


def valid_emails(addresses: pd.Series) -> np.ndarray:
    """Boolean per address: valid by the WHATWG e-mail syntax, with a dotted domain, at most 254
    characters, not starting with ``=``, ``+``, ``-`` or ``@`` (a spreadsheet would run it).

    Examples
    --------
    >>> valid_emails(pd.Series(["ann@shop.example", "=HYPERLINK()@x.com", "bob@", None])).tolist()
    [True, False, False, False]
    """
    text = addresses.astype("str")
    ok = addresses.notna() & text.str.fullmatch(_EMAIL) & (text.str.len() <= _MAX_EMAIL)
    return ok.to_numpy(dtype=bool, na_value=False)


def export_campaign(
    scored_with_actions: pd.DataFrame,
    customers: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    *,
    campaign_id: str,
    layout: Literal["generic", "mailchimp"] | Layout = "generic",
    budget: float | None = None,
    address_columns: Mapping[str, str] | None = None,
    consent_conflicts: Collection[Any] = (),
) -> CampaignExport:
    """Write the campaign's list files, control list, excluded list and ``summary.json``.

    Parameters
    ----------
    scored_with_actions : DataFrame
        The output of :func:`winback.actions.allocate_actions`: one row per customer with
        ``customer_id``, ``action``, ``offer``, ``channel``, ``group``, ``cost``,
        ``expected_gain``, ``p_churn``, ``expected_value``, ``segment``, ``risk_tier`` and
        ``value_tier``.
    customers : DataFrame
        The customers table: ``customer_id``, ``marketing_opt_in`` and the address columns
        (``email``, ``phone``; ``postal_address`` if mail is used). A customer on several rows
        is opted in only if every row says so (the first row's addresses are used).
    out_dir : path
        Folder to write; it must not exist, be empty, or hold exactly a previous winback export
        (which is replaced whole). Not the working folder or one above it.
    campaign_id : str
        Written into every row and the summary: letters, digits, ``_``, ``-``, ``.``, starting
        with a letter or digit (as in the actions config).
    layout : {"generic", "mailchimp"} or Layout
        Column layout of the per-action files: a name from :data:`LAYOUTS` or your own
        :class:`Layout`.
    budget : float, optional
        The campaign budget, reported in the summary next to the spend.
    address_columns : mapping, optional
        Channel -> customers column of its address; defaults to :data:`ADDRESS_COLUMNS`.
    consent_conflicts : collection, optional
        Customers whose rows disagreed on consent (``ReadResult.consent_conflicts`` of
        :func:`winback.io.read_customers`): left out as ``conflicting_opt_in``.

    Returns
    -------
    CampaignExport
        ``treatment_<action>.csv`` for each assigned action (treated, contactable customers),
        ``control.csv``, ``excluded.csv`` (``customer_id``, ``action``, ``channel``, ``group``,
        ``reason`` of every assigned customer left out) and ``summary.json``: counts per action
        and segment, spend, control size, consent conflicts and the customers left out per
        action, group and reason (:data:`LEFT_OUT_REASONS`, then ``no_<address column>``).

    Raises
    ------
    DataError
        If a required column is missing, ids repeat in the scored frame, or the two frames' ids
        cannot match.
    ConfigError
        If ``campaign_id`` or ``layout`` is invalid, a channel has no address column, or
        ``out_dir`` holds other files, is the working folder, or is being written by another
        export.
    """
    _check_campaign_id(campaign_id)
    layout = _layout(layout)
    mapping = dict(ADDRESS_COLUMNS if address_columns is None else address_columns)
    out = _output_folder(out_dir)
    rows, conflicts = _contactability(
        _assigned(scored_with_actions, mapping), customers, mapping, consent_conflicts
    )
    rows = rows.assign(campaign_id=campaign_id, tags=campaign_id + "," + rows["action"])
    tables = _tables(rows, layout, mapping)
    summary = _summary(scored_with_actions, rows, mapping, tables, campaign_id, layout, budget)
    summary["consent"] = {"conflicting_customers": conflicts}
    with output_lock(out, what="export folder"):
        _publish(tables, summary, out)
    logger.info("Exported campaign %s to %s: %d files.", campaign_id, out, len(tables) + 1)
    return CampaignExport(out, tuple(out / name for name in (*tables, SUMMARY)), summary)


def _check_campaign_id(campaign_id: object) -> None:
    if not isinstance(campaign_id, str) or not re.fullmatch(SAFE_NAME, campaign_id):
        raise ConfigError(
            f"campaign id {campaign_id!r} (--campaign-id) is not allowed: use letters, digits, "
            "'_', '-' and '.', starting with a letter or digit, as in the actions config's "
            "campaign_id."
        )


def _output_folder(out_dir: str | os.PathLike[str]) -> Path:
    """``out_dir`` as an absolute path; the working folder or one above it is refused."""
    out = Path(out_dir).absolute()
    resolved = out.resolve()
    if Path.cwd().resolve().is_relative_to(resolved):
        raise ConfigError(
            f"export --out {os.fspath(out_dir)}: that is the working folder or one above it. An "
            "export is a folder of its own, replaced whole when exported again: pass a new "
            "folder, e.g. --out exports/spring."
        )
    return out


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
    rows: pd.DataFrame,
    customers: pd.DataFrame,
    mapping: Mapping[str, str],
    consent_conflicts: Collection[Any],
) -> tuple[pd.DataFrame, int]:
    """Return ``rows`` plus ``address`` and ``left_out`` (the reason, or "" if contactable), and
    the number of customers whose rows disagree on consent."""
    info, conflicting = _customer_info(rows, customers, consent_conflicts)
    has_record = info["_has_record"].to_numpy(dtype=bool)
    opted_in = _opted_in(info["marketing_opt_in"]) & ~info["_conflict"].to_numpy(dtype=bool)
    address = pd.Series(pd.NA, index=rows.index, dtype="str")
    for channel in rows["channel"].unique():  # per channel, not per customer
        column = mapping[channel]
        if column in info.columns:
            use = (rows["channel"] == channel).to_numpy()
            address.loc[use] = info.loc[use, column].astype("str").str.strip()
    has_address = (address.notna() & address.ne("")).to_numpy(dtype=bool, na_value=False)
    is_email = (rows["channel"].map(mapping) == "email").to_numpy(dtype=bool)
    bad_email = is_email & has_address & ~valid_emails(address)
    no_address = ("no_" + rows["channel"].map(mapping)).to_numpy(dtype=object)
    reason = np.select(
        [~has_record, info["_conflict"].to_numpy(dtype=bool), ~opted_in, bad_email, ~has_address],
        [*LEFT_OUT_REASONS, no_address],
        default="",
    )
    return rows.assign(address=address, left_out=reason), conflicting


def _customer_info(
    rows: pd.DataFrame, customers: pd.DataFrame, consent_conflicts: Collection[Any]
) -> tuple[pd.DataFrame, int]:
    """``customers`` aligned to ``rows`` by customer_id, one row per customer (the first),
    ``marketing_opt_in`` True only where every row of the customer says True, ``_conflict``
    where they disagree (or the reader found they did) and ``_has_record``; and the number of
    customers in conflict."""
    missing = [c for c in ("customer_id", "marketing_opt_in") if c not in customers.columns]
    if missing:
        raise DataError(
            f"export_campaign: the customers table lacks {missing}; without consent nobody "
            f"can be exported. Available columns: {', '.join(map(str, customers.columns))}."
        )
    customers = _matching_ids(rows, customers)
    flags = pd.Series(_opted_in(customers["marketing_opt_in"]), index=customers.index)
    ids = customers["customer_id"]
    every = flags.groupby(ids, sort=False).transform("all")
    some = flags.groupby(ids, sort=False).transform("any")
    conflict = some & ~every
    listed = pd.Series(list(consent_conflicts), dtype=object)
    conflict |= ids.isin(listed.astype("str") if ids.dtype == "str" else listed)
    table = customers.assign(marketing_opt_in=every, _conflict=conflict, _has_record=True)
    table = table.drop_duplicates("customer_id", keep="first").set_index("customer_id")
    info = table.reindex(rows["customer_id"]).reset_index(drop=True).set_axis(rows.index)
    info["_has_record"] = info["_has_record"].fillna(False).astype(bool)
    info["_conflict"] = info["_conflict"].fillna(False).astype(bool)
    return info, int(table["_conflict"].sum())


def _matching_ids(rows: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """``customers`` with ids of the scored frame's kind: integer ids become text when the
    scored ids are text (``"000001"`` never matches 1; ``"17"`` matches 17)."""
    numeric = [pd.api.types.is_numeric_dtype(f["customer_id"]) for f in (rows, customers)]
    if numeric[0] == numeric[1]:
        return customers
    if numeric[0]:
        raise DataError(
            f"export_campaign: customer_id is {rows['customer_id'].dtype} in the scored frame "
            f"but {customers['customer_id'].dtype} in customers; convert one so they match."
        )
    return customers.assign(customer_id=customers["customer_id"].astype("str"))


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
    tables[EXCLUDED] = select_fields(rows.loc[rows["left_out"] != ""], _EXCLUDED_FIELDS)
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
    reasons = [*LEFT_OUT_REASONS, *sorted({f"no_{c}" for c in mapping.values()})]
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
    """Sum money correctly rounded (any size, no int64 overflow), printed without float noise."""
    return round(math.fsum(values.to_numpy(dtype=float)), _MONEY_DECIMALS)


def _publish(tables: Mapping[str, pd.DataFrame], summary: dict[str, Any], out_dir: Path) -> Path:
    """Write every file into a staging folder, then swap it into ``out_dir`` in one rename."""
    _check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_path(out_dir)
    staging.mkdir()  # unlike mkdtemp, honours the umask: the folder ends up as out_dir
    try:
        for name, table in tables.items():
            write_frame(table, staging / name)
        summary["sha256"] = {name: sha256_file(staging / name) for name in sorted(tables)}
        write_json(summary, staging / SUMMARY)
        _swap_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def _check_replaceable(out_dir: Path) -> None:
    """Refuse to replace a folder that holds anything but exactly a previous winback export."""
    if not out_dir.exists() and not out_dir.is_symlink():
        return
    if out_dir.is_symlink() or not out_dir.is_dir():
        raise ConfigError(
            f"export_campaign: {out_dir} exists and is not a folder (or is a link); pass a new "
            "folder."
        )
    present = {entry.name for entry in out_dir.iterdir()}
    foreign = sorted(present - _export_files(out_dir / SUMMARY))
    if present and foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise ConfigError(
            f"export_campaign: {out_dir} holds files that are not a winback export, or that "
            f"changed since it was written ({shown}); "
            "winback replaces an export folder whole, so it only writes to a new folder, an "
            "empty one, or one holding exactly a previous export. Pass another folder."
        )


def _export_files(summary: Path) -> set[str]:
    """The files of a previous export that are as it wrote them: those its summary lists with
    their sha256, unchanged (empty if the folder is not an export)."""
    try:
        written = json.loads(summary.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    if not isinstance(written, dict) or written.get("format") != EXPORT_FORMAT:
        return set()
    digests = written.get("sha256")
    if not isinstance(digests, dict):
        return set()
    folder = summary.parent
    unchanged = {
        name
        for name, digest in digests.items()
        if isinstance(name, str)
        and (folder / name).is_file()
        and not (folder / name).is_symlink()
        and sha256_file(folder / name) == digest
    }
    return {*unchanged, SUMMARY}


def _swap_into_place(staging: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    old = staging_path(out_dir)
    os.replace(out_dir, old)
    try:
        os.replace(staging, out_dir)
    except BaseException:
        os.replace(old, out_dir)
        raise
    shutil.rmtree(old)
