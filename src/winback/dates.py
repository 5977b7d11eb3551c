"""The date rules: cutoffs as calendar days, day numbers, and how datetimes become days.

Shared by features, labels, scoring and reports. Every duration is a whole number of calendar
(UTC) days between floored dates. Dates are handled as int64 *day numbers* (days since
1970-01-01), so that "at or before cutoff ``c``" is ``day <= c`` and a label window of ``h`` days
is ``c < day <= c + h``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TypeAlias

import numpy as np
import pandas as pd

from winback.exceptions import ConfigError, DataError

__all__ = [
    "MISSING_DAY",
    "DateLike",
    "cutoff_day",
    "cutoff_days",
    "datetime_values",
    "day_numbers",
    "day_to_timestamp",
    "horizon_list",
    "last_covered_day",
]

DateLike: TypeAlias = str | dt.date | dt.datetime | np.datetime64 | pd.Timestamp

_EPOCH = pd.Timestamp("1970-01-01")
MISSING_DAY = np.iinfo(np.int64).min
_UNITS_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


def _timestamp(value: object, *, name: str) -> pd.Timestamp:
    """Return ``value`` as a tz-naive UTC Timestamp, or raise ConfigError naming ``name``."""
    if value is None:
        raise ConfigError(
            f"{name} is required: pass the calendar date features are computed at, e.g. "
            f"{name}='2024-03-31'. winback never defaults it to the data's last date."
        )
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{name} must be a calendar date such as '2024-03-31', got {value!r}."
        ) from exc
    if ts is pd.NaT:
        raise ConfigError(f"{name} must be a calendar date such as '2024-03-31', got NaT.")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def cutoff_day(cutoff: object, *, name: str = "cutoff") -> int:
    """Return the day number of a cutoff, which must be a calendar date (midnight UTC).

    Raises
    ------
    ConfigError
        If the cutoff is missing, not a date, or has a time of day other than midnight.
    """
    ts = _timestamp(cutoff, name=name)
    if ts != ts.normalize():
        raise ConfigError(
            f"{name} must be a calendar date (midnight UTC), got {ts}. A cutoff covers its whole "
            f"day (orders with order_ts < cutoff + 1 day); pass {name}='{ts.date()}'."
        )
    return int((ts - _EPOCH) // pd.Timedelta(days=1))


def last_covered_day(value: object, *, name: str = "data_end") -> int:
    """Return the day number of the calendar day of ``value`` (its time of day is dropped)."""
    ts = _timestamp(value, name=name)
    return int((ts.normalize() - _EPOCH) // pd.Timedelta(days=1))


def cutoff_days(cutoffs: Iterable[object]) -> list[int]:
    """Return the day numbers of several cutoffs, ascending; duplicates are a ConfigError."""
    if isinstance(cutoffs, str | dt.date | np.datetime64):
        cutoffs = [cutoffs]
    days = [cutoff_day(c, name="cutoffs") for c in cutoffs]
    if not days:
        raise ConfigError("cutoffs must hold at least one calendar date, got an empty list.")
    if len(set(days)) != len(days):
        repeated = sorted({d for d in days if days.count(d) > 1})
        raise ConfigError(
            "cutoffs must be distinct, got repeated "
            + ", ".join(str(day_to_timestamp(d).date()) for d in repeated)
            + "."
        )
    return sorted(days)


def horizon_list(horizons_days: int | Iterable[int], *, name: str = "horizons_days") -> list[int]:
    """Return horizons (positive whole days) sorted and deduplicated, or raise ConfigError."""
    values = [horizons_days] if isinstance(horizons_days, int | np.integer) else list(horizons_days)
    if not values:
        raise ConfigError(f"{name} must hold at least one horizon in days, got an empty list.")
    bad = [h for h in values if isinstance(h, bool) or not isinstance(h, int | np.integer) or h < 1]
    if bad:
        raise ConfigError(f"{name} must be positive whole numbers of days, got {bad!r}.")
    return sorted({int(h) for h in values})


def day_to_timestamp(day: int) -> pd.Timestamp:
    """Return the midnight Timestamp of a day number."""
    return _EPOCH + pd.Timedelta(days=int(day))


def datetime_values(values: pd.Series, *, column: str) -> np.ndarray:
    """Return a datetime column as a naive-UTC numpy ``datetime64`` array (s/ms/us/ns unit).

    Tz-aware values are converted to UTC first; naive values are taken as UTC.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    if not (isinstance(values.dtype, np.dtype) and values.dtype.kind == "M"):
        raise DataError(
            f"column {column!r} must hold datetimes (datetime64), got dtype {values.dtype}. "
            "Read the data through winback.io, which parses and validates it."
        )
    raw = values.to_numpy()
    unit, count = np.datetime_data(raw.dtype)
    if unit not in _UNITS_PER_DAY or count != 1:
        raw = raw.astype("datetime64[ns]")
    return raw


def day_numbers(values: pd.Series, *, column: str, allow_missing: bool = False) -> np.ndarray:
    """Return the calendar day numbers (int64, floored) of a datetime column.

    Missing values raise :class:`DataError` unless ``allow_missing``, in which case they map to
    the int64 minimum (:data:`MISSING_DAY`).
    """
    raw = datetime_values(values, column=column)
    missing = np.isnat(raw)
    if missing.any() and not allow_missing:
        first = values.index[np.flatnonzero(missing)[0]]
        raise DataError(
            f"column {column!r} has {int(missing.sum())} missing timestamps (first at row "
            f"{first!r}); every row needs one. Validate the data with winback.io first."
        )
    days = raw.view("int64") // _UNITS_PER_DAY[np.datetime_data(raw.dtype)[0]]
    if missing.any():
        days[missing] = MISSING_DAY
    return days
