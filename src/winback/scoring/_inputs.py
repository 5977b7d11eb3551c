"""What a scoring run checks before any work: the as-of day, the campaign, the columns."""

from __future__ import annotations

import logging
import os
from typing import Any

import pandas as pd

from winback.actions import (
    ActionsConfig,
    load_actions_config,
    rule_fields,
)
from winback.dates import cutoff_day, day_to_timestamp
from winback.exceptions import DataError

__all__ = [
    "as_of_day",
    "campaign_config",
    "campaign_fields",
    "nobody_message",
    "required_column",
]

logger = logging.getLogger(__name__)


def as_of_day(value: Any) -> pd.Timestamp:
    """The scoring day as a midnight Timestamp (the features' cutoff rules, named ``as_of``)."""
    return day_to_timestamp(cutoff_day(value, name="as_of"))


def nobody_message(orders_ts: pd.Series, day: pd.Timestamp) -> str:
    span = (
        "the orders are empty"
        if orders_ts.empty
        else (f"the orders run from {orders_ts.min().date()} to {orders_ts.max().date()}")
    )
    return (
        f"No customer has an order at or before as-of {day.date()}: {span}. Pass an as-of "
        "date within the orders' span."
    )


def campaign_config(actions: ActionsConfig | str | os.PathLike[str] | None) -> ActionsConfig | None:
    if actions is None or isinstance(actions, ActionsConfig):
        return actions
    return load_actions_config(actions)


def campaign_fields(campaign: ActionsConfig | None) -> set[str]:
    """Columns the campaign's conditions read (none without a campaign)."""
    return set(rule_fields(campaign)) if campaign is not None else set()


def required_column(frame: pd.DataFrame, column: str, table: str) -> pd.Series:
    if column not in frame.columns:
        raise DataError(
            f"{table} lacks the column {column!r}; found {list(frame.columns)}. Read the "
            f"{table} through winback.io (read_{table}) to get the validated columns."
        )
    return frame[column]
