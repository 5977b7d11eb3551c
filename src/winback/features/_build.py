"""The feature builders: :func:`build_features` (the feature table) and :func:`rfm_summary`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from winback.dates import DateLike, cutoff_day
from winback.exceptions import ConfigError
from winback.features._config import FeatureConfig
from winback.features._events import (
    CustomerTable,
    EventLog,
    customer_features,
    event_features,
    prepare_customers,
    prepare_events,
    seen_event_types,
)
from winback.features._log import OrderLog, prepare_orders
from winback.features._orders import order_features, purchase_days
from winback.validation import validated

__all__ = [
    "build_features",
    "feature_frame",
    "prepare_side_tables",
    "resolve_config",
    "rfm_summary",
]

logger = logging.getLogger(__name__)


def resolve_config(
    config: FeatureConfig | Mapping[str, Any] | None, *, source: str = "config"
) -> FeatureConfig:
    """Return ``config`` as a FeatureConfig (``None``: defaults); invalid ones raise ConfigError."""
    if config is None:
        return FeatureConfig()
    if isinstance(config, FeatureConfig):
        return config
    return validated(FeatureConfig, config, source=source, what="feature config")


def prepare_side_tables(
    log: OrderLog,
    *,
    events: pd.DataFrame | None,
    customers: pd.DataFrame | None,
    config: FeatureConfig,
    last_cutoff: int,
) -> tuple[EventLog | None, CustomerTable | None]:
    """Read events and customers once; unpinned event types are those seen by ``last_cutoff``."""
    ev = None
    if events is not None:
        types = config.event_types
        if types is None:
            types = seen_event_types(events, last_day=last_cutoff)
        ev = prepare_events(events, log, types=types, value_types=config.value_event_types)
    table = prepare_customers(customers, log) if customers is not None else None
    return ev, table


def feature_frame(
    log: OrderLog,
    *,
    cutoff: int,
    config: FeatureConfig,
    events: EventLog | None,
    customers: CustomerTable | None,
) -> pd.DataFrame:
    """The feature table at ``cutoff`` of the customers of ``log`` (rows dated <= cutoff)."""
    windows = config.windows_days
    columns = order_features(log, cutoff=cutoff, windows=windows)
    if events is not None:
        columns.update(event_features(events, log.codes, cutoff=cutoff, windows=windows))
    if customers is not None:
        columns.update(customer_features(customers, log.codes, cutoff=cutoff))
    return pd.DataFrame(columns, index=log.ids_of(log.codes), copy=False)


def build_features(
    orders: pd.DataFrame,
    *,
    cutoff: DateLike,
    events: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    config: FeatureConfig | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Return one row of features per customer, from the data at or before ``cutoff``.

    Parameters
    ----------
    orders
        Validated orders (``customer_id``, ``order_ts``, ``amount``; optional ``discount``,
        ``category``), rows in any order.
    cutoff
        Calendar date (midnight) the features are computed at; orders and events on that day
        count. Required: it is never defaulted from the data.
    events
        Optional validated events (``customer_id``, ``event_ts``, ``event_type``, ``value``).
    customers
        Optional validated profiles (``customer_id``, ``signup_ts``, ``marketing_opt_in``).
    config
        :class:`FeatureConfig` (or a dict of its fields); ``None`` uses the defaults.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (sorted), one row per customer with at least one order at
        or before the cutoff. Columns and their definitions: :data:`FEATURE_DEFINITIONS`
        (:func:`describe_columns` resolves the windowed and per-event-type names). Counts are
        int64, the rest float64. NaN means "not defined": gap statistics with too few purchase
        days, "days since" a never-seen event, an unknown profile field. LightGBM handles NaN.

    Raises
    ------
    ConfigError
        If the cutoff is missing or not a calendar date, or the config is invalid.
    DataError
        If a frame lacks a required column or has unusable values.

    Examples
    --------
    >>> orders = pd.DataFrame({
    ...     "customer_id": [1, 1, 2],
    ...     "order_ts": pd.to_datetime(["2024-01-01", "2024-01-21", "2024-01-25"]),
    ...     "amount": [10.0, 30.0, 5.0],
    ... })
    >>> features = build_features(orders, cutoff="2024-01-31")
    >>> features[["days_since_last_order", "frequency", "monetary_total"]]
                 days_since_last_order  frequency  monetary_total
    customer_id
    1                             10.0          1            40.0
    2                              6.0          0             5.0
    """
    cfg = resolve_config(config)
    c = cutoff_day(cutoff)
    log = prepare_orders(orders, last_day=c)
    ev, table = prepare_side_tables(
        log, events=events, customers=customers, config=cfg, last_cutoff=c
    )
    frame = feature_frame(log, cutoff=c, config=cfg, events=ev, customers=table)
    logger.debug("built %d features of %d customers at %s", frame.shape[1], len(frame), cutoff)
    return frame


def rfm_summary(
    orders: pd.DataFrame, *, cutoff: DateLike, time_unit: Literal["D", "W"] = "D"
) -> pd.DataFrame:
    """Return the lifetimes-style RFM summary of each customer at ``cutoff``.

    Orders on one calendar day are merged into one purchase (as in lifetimes and the BTYD
    literature's CDNOW summaries); orders after the cutoff are ignored.

    Parameters
    ----------
    orders
        Validated orders (``customer_id``, ``order_ts``, ``amount``), rows in any order.
    cutoff
        Calendar date (midnight) ending the calibration period; orders on that day count.
    time_unit
        ``"D"`` for days, ``"W"`` for weeks (days / 7).

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (sorted), one row per customer with an order at or before
        the cutoff, float64 columns: ``frequency`` (repeat purchase days), ``recency`` (first
        to last purchase day), ``T`` (first purchase day to the cutoff) and
        ``monetary_value`` (mean total of the repeat purchase days; 0 without repeats).

    Examples
    --------
    >>> orders = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2],
    ...     "order_ts": pd.to_datetime(["2024-01-01", "2024-01-15", "2024-01-15", "2024-01-22"]),
    ...     "amount": [10.0, 20.0, 4.0, 7.0],
    ... })
    >>> rfm_summary(orders, cutoff="2024-01-29", time_unit="W")
                 frequency  recency    T  monetary_value
    customer_id
    1                  1.0      2.0  4.0            24.0
    2                  0.0      0.0  1.0             0.0
    """
    if time_unit not in ("D", "W"):
        raise ConfigError(f"time_unit must be 'D' (days) or 'W' (weeks), got {time_unit!r}.")
    c = cutoff_day(cutoff)
    log = prepare_orders(orders, last_day=c, optional_columns=False)
    days = purchase_days(log)
    frequency = days["n_days"] - 1
    scale = 7.0 if time_unit == "W" else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        monetary = np.where(frequency > 0, days["repeat_total"] / frequency, 0.0)
    columns = {
        "frequency": frequency.astype(np.float64),
        "recency": (days["last_day"] - days["first_day"]) / scale,
        "T": (c - days["first_day"]) / scale,
        "monetary_value": monetary,
    }
    return pd.DataFrame(columns, index=log.ids_of(log.codes), copy=False)
