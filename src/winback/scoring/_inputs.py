"""What a scoring run checks before any work: the as-of day, the inputs the model needs, the
campaign's fields and values, and that no output would overwrite an input."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from winback.actions import (
    DEFAULT_SEGMENT_TABLE,
    ActionsConfig,
    SegmentTable,
    check_rule_fields,
    load_actions_config,
    rule_fields,
)
from winback.dates import check_day_in_data, cutoff_day, day_to_timestamp, parse_date
from winback.exceptions import ConfigError
from winback.models import WinbackModel
from winback.scoring._columns import SCORE_COLUMNS, TIERS

__all__ = [
    "OPTIONAL_TABLES",
    "as_of_day",
    "campaign_config",
    "campaign_fields",
    "check_allow_missing",
    "check_campaign",
    "check_outputs",
    "missing_tables",
    "nobody_message",
    "orders_span",
]

logger = logging.getLogger(__name__)

#: The tables a model may have been trained with besides orders, and the features that read
#: them: a model whose features include these needs the table to score.
OPTIONAL_TABLES: Mapping[str, tuple[str, ...]] = {
    "events": ("event_", "events_all_"),
    "customers": ("days_since_signup", "marketing_opt_in"),
}


def orders_span(orders_ts: pd.Series) -> str:
    """``the orders run from 2022-01-01 to 2023-12-31`` (or ``the orders are empty``)."""
    if orders_ts.empty or orders_ts.isna().all():
        return "the orders are empty"
    return f"the orders run from {orders_ts.min().date()} to {orders_ts.max().date()}"


def as_of_day(
    value: Any,
    *,
    orders_ts: pd.Series | None = None,
    horizon_days: int = 0,
    date_format: str | None = None,
) -> pd.Timestamp:
    """The scoring day as a midnight Timestamp (the features' cutoff rules, named ``as_of``).

    Text must be an ISO 8601 date (or follow ``date_format``). With ``orders_ts``, an as-of more
    than ``horizon_days`` (the model's longest horizon) after the last order is refused: scores
    that far past the data describe nobody; every message gives the data's date range.

    Raises
    ------
    ConfigError
        If ``value`` is not a calendar date, or is implausibly late for the data.
    """
    span = "" if orders_ts is None else f" ({orders_span(orders_ts)})"
    try:
        stamp = parse_date(value, name="as_of", date_format=date_format)
    except ConfigError as exc:
        raise ConfigError(f"{exc}{span}") from exc
    if orders_ts is not None and not orders_ts.empty and orders_ts.notna().any():
        check_day_in_data(  # a day before the data is answered by nobody_message
            stamp,
            name="as_of",
            first=orders_ts.min(),
            last=orders_ts.max(),
            after_days=horizon_days,
            before_ok=True,
        )
    try:
        return day_to_timestamp(cutoff_day(stamp, name="as_of"))
    except ConfigError as exc:
        raise ConfigError(f"{exc}{span}") from exc


def nobody_message(orders_ts: pd.Series, day: pd.Timestamp) -> str:
    return (
        f"No customer has a purchase at or before as-of {day.date()}: {orders_span(orders_ts)}. "
        "Pass an as-of date within the orders' span."
    )


def missing_tables(
    model: WinbackModel,
    *,
    events: pd.DataFrame | None,
    customers: pd.DataFrame | None,
    allow_missing: Iterable[str] = (),
) -> list[str]:
    """The tables the model was trained with that are absent and allowed to be, sorted.

    Raises
    ------
    ConfigError
        If ``allow_missing`` names an unknown table, or a table the model reads is absent and
        not allowed to be (the message names the table, the features that read it and the fix).
    """
    allowed = check_allow_missing(allow_missing)
    given = {"events": events is not None, "customers": customers is not None}
    missing = []
    for table, prefixes in OPTIONAL_TABLES.items():
        reading = [name for name in model.feature_names if name.startswith(prefixes)]
        if not reading or given[table]:
            continue
        if table not in allowed:
            shown = ", ".join(reading[:3]) + (", ..." if len(reading) > 3 else "")
            raise ConfigError(
                f"The model {model.name!r} was trained with {table} (its features {shown} read "
                f"them), but no {table} were given. Pass them (--{table} on the command line, "
                f"{table}= in Python), or score without them with --allow-missing {table} "
                f"(allow_missing=['{table}']): those features are then missing, the scores "
                "shift, and the summary records it."
            )
        missing.append(table)
    return missing


def check_allow_missing(allow_missing: Iterable[str]) -> set[str]:
    """The tables ``allow_missing`` names; ConfigError for a name that is no optional table."""
    allowed = set(allow_missing)
    unknown = sorted(allowed - set(OPTIONAL_TABLES))
    if unknown:
        raise ConfigError(
            f"--allow-missing: unknown table(s) {unknown}; expected any of "
            f"{', '.join(OPTIONAL_TABLES)}."
        )
    return allowed


def campaign_config(actions: ActionsConfig | str | os.PathLike[str] | None) -> ActionsConfig | None:
    if actions is None or isinstance(actions, ActionsConfig):
        return actions
    return load_actions_config(actions)


def campaign_fields(campaign: ActionsConfig | None) -> set[str]:
    """Columns the campaign's conditions read (none without a campaign)."""
    return set(rule_fields(campaign)) if campaign is not None else set()


def check_campaign(
    campaign: ActionsConfig,
    feature_columns: Iterable[str],
    segment_table: SegmentTable | None,
) -> None:
    """Check the campaign's fields against the columns scoring will produce and its segment and
    tier values against the segment table and the tiers, before any work (ConfigError)."""
    table = DEFAULT_SEGMENT_TABLE if segment_table is None else segment_table
    segments = [rule.name for rule in table.segments] + [table.default]
    check_rule_fields(
        campaign,
        {*SCORE_COLUMNS, *feature_columns},
        values={"segment": segments, "risk_tier": TIERS, "value_tier": TIERS},
        where="the scores (score columns and the model's features)",
    )


def check_outputs(outputs: Iterable[Path], inputs: Mapping[str, Any]) -> None:
    """Refuse outputs that are an input or lie inside the model bundle (after resolving paths).

    ``inputs`` maps a name (``"orders"``, ``"model"``...) to a path (or a frame, ignored).
    """
    paths = {
        name: Path(value).resolve()
        for name, value in inputs.items()
        if isinstance(value, str | os.PathLike)
    }
    for output in outputs:
        out = output.resolve()
        for name, path in paths.items():
            if out == path or (out.exists() and path.exists() and os.path.samefile(out, path)):
                raise ConfigError(
                    f"--out {output} would overwrite the {name} input {path}; write the scores "
                    "to another file (winback never overwrites its inputs)."
                )
            if path.is_dir() and out.is_relative_to(path):
                raise ConfigError(
                    f"--out {output} lies inside the {name} folder {path}; write the scores "
                    "elsewhere (a model bundle holds only the files it was sealed with)."
                )
