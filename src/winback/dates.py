"""The date rules: cutoffs as calendar days, day numbers, and how datetimes become days.

Shared by features, labels, scoring and reports. Every duration is a whole number of calendar
(UTC) days between floored dates. Dates are handled as int64 *day numbers* (days since
1970-01-01), so that "at or before cutoff ``c``" is ``day <= c`` and a label window of ``h`` days
is ``c < day <= c + h``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import TypeAlias

import numpy as np
import pandas as pd

from winback.exceptions import ConfigError, DataError

__all__ = [
    "MISSING_DAY",
    "DateLike",
    "check_date_format",
    "check_day_in_data",
    "cutoff_day",
    "cutoff_days",
    "datetime_values",
    "day_numbers",
    "day_to_timestamp",
    "horizon_list",
    "last_covered_day",
    "parse_date",
]

DateLike: TypeAlias = str | dt.date | dt.datetime | np.datetime64 | pd.Timestamp

_EPOCH = pd.Timestamp("1970-01-01")
MISSING_DAY = np.iinfo(np.int64).min
_UNITS_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


#: Text dates accepted without a format: ISO 8601 calendar dates, optionally with a time and an
#: offset (``2024-03-31``, ``2024-03-31T00:00``, ``2024-03-31 00:00:00+01:00``).
_ISO_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"
)
_FORMAT_PROBE = dt.datetime(2001, 2, 3, 4, 5, 6)


def check_date_format(date_format: object, *, name: str = "date_format") -> str:
    """Return ``date_format`` if it is a strftime format that reads back what it writes.

    Raises
    ------
    ConfigError
        If it is not text with at least one ``%`` directive, or a directive is unknown.
    """
    example = "'%d.%m.%Y' (31.12.2023), '%d/%m/%Y %H:%M' or '%m/%d/%Y'"
    if not isinstance(date_format, str) or "%" not in date_format:
        raise ConfigError(
            f"{name} must be a strftime format such as {example}, got {date_format!r}."
        )
    try:
        dt.datetime.strptime(_FORMAT_PROBE.strftime(date_format), date_format)
    except ValueError as exc:
        raise ConfigError(
            f"{name} {date_format!r} is not a usable strftime format ({exc}); use one such as "
            f"{example}."
        ) from exc
    return date_format


def parse_date(value: object, *, name: str, date_format: str | None = None) -> pd.Timestamp:
    """Return ``value`` as a tz-naive UTC Timestamp; text must be ISO 8601 or ``date_format``.

    Text such as ``06/07/1998`` is never guessed (day first or month first?), nor is a bare
    year (``1998``): without ``date_format`` text must be an ISO 8601 date (``1998-07-06``,
    optionally with a time and an offset). Dates, datetimes, numpy datetimes and Timestamps are
    taken as they are (tz-aware ones converted to UTC).

    Raises
    ------
    ConfigError
        If ``value`` is missing or is not such a date; the message names ``name``.
    """
    if value is None:
        raise ConfigError(
            f"{name} is required: pass the calendar date features are computed at, e.g. "
            f"{name}='2024-03-31'. winback never defaults it to the data's last date."
        )
    if isinstance(value, str):
        ts = _text_date(value.strip(), name=name, date_format=date_format)
    elif isinstance(value, dt.date | np.datetime64):
        try:
            ts = pd.Timestamp(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"{name} must be a calendar date such as '2024-03-31', got {value!r}."
            ) from exc
    else:
        raise ConfigError(
            f"{name} must be a calendar date such as '2024-03-31' (text, date or Timestamp), "
            f"got {type(value).__name__} {value!r}."
        )
    if ts is pd.NaT:
        raise ConfigError(f"{name} must be a calendar date such as '2024-03-31', got NaT.")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def _text_date(text: str, *, name: str, date_format: str | None) -> pd.Timestamp:
    if date_format is not None:
        try:
            return pd.Timestamp(dt.datetime.strptime(text, check_date_format(date_format)))
        except ValueError:
            pass  # ISO 8601 is accepted too
    if _ISO_DATE.fullmatch(text):
        try:
            return pd.Timestamp(text)
        except ValueError:
            pass
    given = f" or in the given format {date_format!r}" if date_format else ""
    raise ConfigError(
        f"{name} must be a calendar date written as YYYY-MM-DD (ISO 8601){given}, e.g. "
        f"'2024-03-31', got {text!r}. Dates like 06/07/1998 are not guessed (day or month "
        "first?): write the ISO date, or give the format (date_format= in Python, "
        "--date-format on the command line)."
    )


def check_day_in_data(
    day: pd.Timestamp,
    *,
    name: str,
    first: DateLike,
    last: DateLike,
    after_days: int,
    before_ok: bool = False,
    what: str = "the orders",
) -> None:
    """Refuse a day more than ``after_days`` after the data's last day, or before its first
    (unless ``before_ok``). An as-of date far past the data (``9999-12-31``) is a typo, not a
    question the data can answer.

    Raises
    ------
    ConfigError
        Naming ``name``, the day, the data's date range and the days that are accepted.
    """
    first_day, last_day = pd.Timestamp(first).normalize(), pd.Timestamp(last).normalize()
    latest = last_day + pd.Timedelta(days=after_days)
    early = not before_ok and day < first_day
    if early or day > latest:
        accepted = f"from {first_day.date()} to" if not before_ok else "on or before"
        raise ConfigError(
            f"{name} {day.date()} is {'before' if early else 'too far after'} the data: "
            f"{what} run from {first_day.date()} to {last_day.date()}. Pass a day {accepted} "
            f"{latest.date()} (at most {after_days} days after the last one), as YYYY-MM-DD."
        )


def _timestamp(value: object, *, name: str) -> pd.Timestamp:
    """Return ``value`` as a tz-naive UTC Timestamp, or raise ConfigError naming ``name``."""
    return parse_date(value, name=name)


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
