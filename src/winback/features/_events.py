"""Event features (per-type counts, days since, last NPS/review value) and profile features.

Events and customers are read once into arrays keyed by the order log's customer codes
(:func:`prepare_events`, :func:`prepare_customers`); the features at a cutoff are then
vectorised selections of the rows dated at or before it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from winback.dates import MISSING_DAY, datetime_values, day_numbers
from winback.exceptions import DataError
from winback.features._log import OrderLog, rows_of
from winback.io import check_frame

__all__ = [
    "CustomerTable",
    "EventLog",
    "customer_features",
    "event_column_token",
    "event_features",
    "prepare_customers",
    "prepare_events",
    "seen_event_types",
]


def event_column_token(event_type: str) -> str:
    """The part of a column name that stands for an event type (runs of other chars -> ``_``).

    >>> event_column_token("email open")
    'email_open'
    """
    token = re.sub(r"[^0-9A-Za-z]+", "_", event_type).strip("_")
    if not token:
        raise DataError(
            f"event type {event_type!r} has no letter or digit to name a feature column after; "
            "rename it in the events data or leave it out of FeatureConfig.event_types."
        )
    return token


def _tokens(types: list[str]) -> list[str]:
    tokens = [event_column_token(t) for t in types]
    clashes = sorted({t for t in tokens if tokens.count(t) > 1})
    if clashes:
        groups = [[types[i] for i, tok in enumerate(tokens) if tok == c] for c in clashes]
        raise DataError(
            f"event types {groups} map to the same feature column names {clashes}; rename them "
            "in the events data or pin FeatureConfig.event_types to one of each."
        )
    return tokens


def seen_event_types(events: pd.DataFrame, *, last_day: int) -> list[str]:
    """Distinct event types of the events dated at or before ``last_day``, sorted."""
    check_frame(events, "events", where="winback.features")
    days = day_numbers(events["event_ts"], column="event_ts")
    types = events["event_type"][days <= last_day].dropna()
    return sorted(str(t) for t in types.unique())


@dataclass(frozen=True)
class EventLog:
    """Events as arrays: the customer's code in the order log (-1: no orders), day, instant,
    index into ``types`` and into ``value_types`` (-1: other), value."""

    codes: np.ndarray
    day: np.ndarray
    instant: np.ndarray
    type_index: np.ndarray
    value_type_index: np.ndarray
    value: np.ndarray
    types: list[str]
    value_types: list[str]


def prepare_events(
    events: pd.DataFrame, log: OrderLog, *, types: list[str], value_types: list[str]
) -> EventLog:
    """Read validated ``events`` (customer_id, event_ts, event_type, optional value)."""
    check_frame(events, "events", where="winback.features")
    _tokens(types)
    _tokens(value_types)
    instants = datetime_values(events["event_ts"], column="event_ts")
    days = day_numbers(events["event_ts"], column="event_ts")
    index_in = _type_indexer(events["event_type"])
    if "value" in events.columns:
        value = events["value"].to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        value = np.full(len(events), np.nan)
    return EventLog(
        codes=log.codes_of(events["customer_id"], frame="events"),
        day=days,
        instant=instants.view("int64"),
        type_index=index_in(types),
        value_type_index=index_in(value_types),
        value=value,
        types=list(types),
        value_types=list(value_types),
    )


def _type_indexer(kinds: pd.Series) -> Callable[[list[str]], np.ndarray]:
    """Return ``index_in(types)``: each event's position in ``types``, -1 if other or missing."""
    codes, distinct = pd.factorize(kinds)  # -1 for missing types

    def index_in(types: list[str]) -> np.ndarray:
        lookup = pd.Index(types, dtype=object).get_indexer(np.asarray(distinct, dtype=object))
        return np.append(lookup, -1).astype(np.int64)[codes]

    return index_in


def _last_values(ev: EventLog, row: np.ndarray, past: np.ndarray, j: int, size: int) -> np.ndarray:
    """Per population row: value of the latest event of value type ``j`` (NaN if none)."""
    out = np.full(size, np.nan)
    sel = past & (ev.value_type_index == j) & ~np.isnan(ev.value)
    r, instant, value = row[sel], ev.instant[sel], ev.value[sel]
    if len(r):
        order = np.lexsort((value, instant, r))  # ties at one instant: the larger value
        r, value = r[order], value[order]
        last = np.append(r[1:] != r[:-1], True)
        out[r[last]] = value[last]
    return out


def event_features(
    ev: EventLog, codes: np.ndarray, *, cutoff: int, windows: list[int]
) -> dict[str, np.ndarray]:
    """Return the event features at ``cutoff`` of the customers with ``codes`` (sorted).

    Per type ``t`` of ``ev.types``: ``event_{t}_last_{w}d`` (int64 counts in ``(c - w, c]``)
    and ``event_{t}_days_since_last``; per value type: ``event_{t}_last_value``; over all
    those types together: ``events_all_last_{w}d``, ``events_all_days_since_last`` and
    ``events_all_rate_ratio_{w}d`` (see :func:`_pooled_features`).
    """
    c, m, n_types = cutoff, len(codes), len(ev.types)
    row = rows_of(codes, ev.codes)
    past = (ev.day <= c) & (row >= 0)
    counted = past & (ev.type_index >= 0)
    cell = row[counted] * n_types + ev.type_index[counted]
    day = ev.day[counted]
    counts = {
        w: np.bincount(cell[day > c - w], minlength=m * n_types).reshape(m, n_types)
        for w in windows
    }
    last_day = np.full(m * n_types, MISSING_DAY, dtype=np.int64)
    np.maximum.at(last_day, cell, day)
    last_day = last_day.reshape(m, n_types)
    since = np.where(last_day == MISSING_DAY, np.nan, c - last_day.astype(np.float64))
    out: dict[str, np.ndarray] = {}
    for j, token in enumerate(_tokens(ev.types)):
        for w in windows:
            out[f"event_{token}_last_{w}d"] = counts[w][:, j].astype(np.int64)
        out[f"event_{token}_days_since_last"] = since[:, j]
    for j, token in enumerate(_tokens(ev.value_types)):
        out[f"event_{token}_last_value"] = _last_values(ev, row, past, j, m)
    out.update(_pooled_features(counts, since, row[counted], day, cutoff=c, size=m))
    return out


def _pooled_features(
    counts: dict[int, np.ndarray],
    since: np.ndarray,
    row: np.ndarray,
    day: np.ndarray,
    *,
    cutoff: int,
    size: int,
) -> dict[str, np.ndarray]:
    """Engagement over all event types: counts, recency, and recent rate over own usual rate.

    Pooling matters when types share one underlying engagement (a fading customer opens, clicks
    and visits less): the total is a steadier signal than any one type. The rate ratio compares
    events per day in ``(c - w, c]`` with events per day since the customer's first event
    (``max(days on record, w)``), so it reads the same for light and heavy engagers.
    """
    total = np.bincount(row, minlength=size)
    first = np.full(size, cutoff + 1, dtype=np.int64)
    np.minimum.at(first, row, day)
    days_on_record = cutoff - first + 1
    seen = ~np.isnan(since)
    last = np.where(seen, since, np.inf).min(axis=1, initial=np.inf)
    out: dict[str, np.ndarray] = {
        "events_all_days_since_last": np.where(np.isinf(last), np.nan, last)
    }
    for w, by_type in counts.items():
        recent = by_type.sum(axis=1, dtype=np.int64)
        out[f"events_all_last_{w}d"] = recent
        with np.errstate(divide="ignore", invalid="ignore"):
            usual = total / np.maximum(days_on_record, w)
            out[f"events_all_rate_ratio_{w}d"] = np.where(total > 0, (recent / w) / usual, np.nan)
    return out


@dataclass(frozen=True)
class CustomerTable:
    """Customer profiles as arrays keyed by order-log codes (-1: customer without orders)."""

    codes: np.ndarray
    signup_day: np.ndarray | None
    opt_in: np.ndarray | None


def prepare_customers(customers: pd.DataFrame, log: OrderLog) -> CustomerTable:
    """Read validated ``customers`` (customer_id, optional signup_ts and marketing_opt_in)."""
    check_frame(customers, "customers", where="winback.features")
    ids = customers["customer_id"]
    signup = None
    if "signup_ts" in customers.columns:
        signup = day_numbers(customers["signup_ts"], column="signup_ts", allow_missing=True)
    opt_in = None
    if "marketing_opt_in" in customers.columns:
        try:
            flags = customers["marketing_opt_in"].astype("boolean")
        except (TypeError, ValueError) as exc:
            raise DataError(
                "customers.marketing_opt_in must hold booleans (True/False/missing), got dtype "
                f"{customers['marketing_opt_in'].dtype}. Read the customers through winback.io."
            ) from exc
        opt_in = flags.to_numpy(dtype=np.float64, na_value=np.nan)
    return CustomerTable(
        codes=log.codes_of(ids, frame="customers"), signup_day=signup, opt_in=opt_in
    )


def customer_features(
    table: CustomerTable, codes: np.ndarray, *, cutoff: int
) -> dict[str, np.ndarray]:
    """Return ``days_since_signup``, ``marketing_opt_in`` (when given) for ``codes`` (sorted)."""
    c, m = cutoff, len(codes)
    row = rows_of(codes, table.codes)
    known = row >= 0
    out: dict[str, np.ndarray] = {}
    if table.signup_day is not None:
        since = np.full(m, np.nan)
        day = table.signup_day[known]
        dated = (day != MISSING_DAY) & (day <= c)  # a signup after the cutoff is not known yet
        since[row[known][dated]] = c - day[dated]
        out["days_since_signup"] = since
    if table.opt_in is not None:
        flag = np.full(m, np.nan)
        flag[row[known]] = table.opt_in[known]
        out["marketing_opt_in"] = flag
    return out
