"""Vectorised parsers: one raw column in, one contract-typed column plus null and bad row masks out.

Every parser returns a :class:`Parsed` whose ``values`` are aligned with the raw positions;
values at null or bad positions are placeholders (those rows are rejected or hold NA). Columns
that already have the contract dtype take a fast path (no text conversion).

Rules shared by all parsers:

- Missing values are NaN/None/NaT/pd.NA, empty or blank text and, except in free-text columns,
  the tokens ``NA``, ``N/A``, ``NaN``, ``NaT``, ``null``, ``None``, ``#N/A``, ``<NA>`` (any case).
- Text is stripped of surrounding spaces before it is parsed (free-text values are kept as given).
- Integral floats are read as integers (``13085.0`` -> ``13085``): a column with missing values
  is float in pandas even when the source is integer.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from pandas.tseries.api import guess_datetime_format

__all__ = [
    "Parsed",
    "as_text",
    "parse_customer_ids",
    "parse_flags",
    "parse_ids",
    "parse_numbers",
    "parse_text",
    "parse_timestamps",
]

logger = logging.getLogger(__name__)

NULL_TOKENS = ("", "na", "n/a", "nan", "nat", "null", "none", "#n/a", "<na>")
TRUE_TOKENS = ("true", "t", "yes", "y", "1")
FALSE_TOKENS = ("false", "f", "no", "n", "0")
_INTEGER_TEXT = r"[+-]?(?:0|[1-9][0-9]*)(?:\.0*)?"
_NS_MIN = np.datetime64(pd.Timestamp.min.ceil("us").to_datetime64(), "us")
_NS_MAX = np.datetime64(pd.Timestamp.max.floor("us").to_datetime64(), "us")
_FORMAT_SAMPLES = 20
_EXACT_FLOAT = 2.0**53


@dataclass(frozen=True)
class Parsed:
    """A parsed column: ``values`` (contract dtype), ``null`` and ``bad`` boolean row masks.

    ``problem`` is a column-level problem found while parsing (e.g. dates that read both day
    first and month first), worded to follow ``"column 'order_ts': "``; None when there is none.
    """

    values: pd.Series
    null: np.ndarray
    bad: np.ndarray
    problem: str | None = None


def _false(n: int) -> np.ndarray:
    return np.zeros(n, dtype=bool)


def as_text(raw: pd.Series, *, strip: bool = True, null_tokens: bool = True) -> pd.Series:
    """Return ``raw`` as ``str`` values with NaN for missing ones (see the module rules)."""
    text = _float_text(raw) if ptypes.is_float_dtype(raw.dtype) else raw.astype("str")
    if strip:
        text = text.str.strip()
        blank = text == ""
    else:
        blank = text.str.strip() == ""
    missing = text.isna() | blank
    if null_tokens:
        missing |= text.str.lower().isin(NULL_TOKENS)
    return text.mask(missing.to_numpy(dtype=bool))


def _float_text(raw: pd.Series) -> pd.Series:
    """Floats as text, integral ones without the ``.0`` (``13085.0`` -> ``'13085'``)."""
    values = raw.to_numpy(dtype="float64", na_value=np.nan)
    text = raw.astype("str")
    integral = np.isfinite(values) & (np.abs(values) < _EXACT_FLOAT)
    integral[integral] = values[integral] == np.round(values[integral])
    if integral.any():
        text[integral] = values[integral].astype("int64").astype(str)
    return text


def parse_ids(raw: pd.Series) -> Parsed:
    """Customer ids: int64 when every id is an integer, otherwise ``str``.

    Integer means an integer dtype, integral floats, or integer text without leading zeros
    (``'13085'``, ``'13085.0'``; ``'00123'`` stays text so it keeps its zeros).
    """
    null = raw.isna().to_numpy(dtype=bool)
    n = len(raw)
    if ptypes.is_integer_dtype(raw.dtype) and _fits_int64(raw):
        values = raw.fillna(0) if null.any() else raw
        return Parsed(values.astype("int64"), null, _false(n))
    if ptypes.is_float_dtype(raw.dtype) and _integral_floats(raw, null):
        return Parsed(raw.fillna(0).astype("int64"), null, _false(n))
    text = as_text(raw)
    null = text.isna().to_numpy(dtype=bool)
    integers = _integer_text(text)
    if integers is not None:
        return Parsed(integers, null, _false(n))
    return Parsed(text, null, _false(n))


def _fits_int64(raw: pd.Series) -> bool:
    return raw.dtype.kind != "u" or raw.dtype.itemsize < 8 or bool((raw < 2**63).all())


def _integral_floats(raw: pd.Series, null: np.ndarray) -> bool:
    values = raw.to_numpy(dtype="float64", na_value=np.nan)[~null]
    return bool(np.all((np.abs(values) < _EXACT_FLOAT) & (values == np.round(values))))


def _integer_text(text: pd.Series) -> pd.Series | None:
    """``text`` as int64 when every non-null value is integer text that fits; else None."""
    if not text.str.fullmatch(_INTEGER_TEXT, na=True).all():
        return None
    digits = text.str.replace(r"\.0*$", "", regex=True).fillna("0")
    try:
        return digits.astype("int64")
    except (ValueError, OverflowError):
        return None


def parse_text(raw: pd.Series, *, strip: bool = False) -> Parsed:
    """Free text as ``str`` (NaN for missing); only empty or blank text counts as missing."""
    text = as_text(raw, strip=strip, null_tokens=False)
    return Parsed(text, text.isna().to_numpy(dtype=bool), _false(len(raw)))


def parse_numbers(raw: pd.Series) -> Parsed:
    """Numbers as float64; text that is not a finite number (``'abc'``, ``'inf'``) is bad."""
    if ptypes.is_numeric_dtype(raw.dtype) and not ptypes.is_bool_dtype(raw.dtype):
        values = raw.to_numpy(dtype="float64", na_value=np.nan)
        null = np.isnan(values)
        bad = np.isinf(values)
    else:
        text = as_text(raw)
        null = text.isna().to_numpy(dtype=bool)
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        bad = ~null & ~np.isfinite(values)
    return Parsed(pd.Series(values, dtype="float64"), null, bad)


def parse_flags(raw: pd.Series) -> Parsed:
    """Booleans from bool, 0/1 or the texts true/false, t/f, yes/no, y/n, 1/0 (any case).

    Missing values are False (no recorded consent is no consent); other values are bad.
    """
    if ptypes.is_bool_dtype(raw.dtype) and not raw.hasnans:
        return Parsed(raw.astype(bool), _false(len(raw)), _false(len(raw)))
    text = as_text(raw).str.lower()
    null = text.isna().to_numpy(dtype=bool)
    true = text.isin(TRUE_TOKENS).to_numpy(dtype=bool)
    bad = ~null & ~true & ~text.isin(FALSE_TOKENS).to_numpy(dtype=bool)
    return Parsed(pd.Series(true, dtype=bool), null, bad)


def parse_timestamps(raw: pd.Series, *, date_format: str | None = None) -> Parsed:
    """Timestamps as naive UTC datetime64[ns].

    Rule: tz-aware values (also mixed offsets within one column) are converted to UTC and made
    naive; naive values are taken as UTC. With ``date_format`` (a strftime format such as
    ``'%d.%m.%Y'``) text is read with that format first and ISO 8601 second. Without it, text is
    parsed as ISO 8601 (date only, date and time, any offset or ``Z``); text that is not ISO
    8601 is parsed with the one format guessed from the data (``'31.12.2023'`` day first,
    ``'12/1/2009 07:45'`` month first when a later value such as ``'12/13/2009'`` shows it).
    When the day and the month cannot be told apart -- every value reads both ways, with
    different dates -- nothing is guessed: :attr:`Parsed.problem` asks for the format.
    Values before 1677-09-22 or after 2262-04-11 (outside datetime64[ns]) are bad.
    """
    if ptypes.is_datetime64_any_dtype(raw.dtype):
        null = raw.isna().to_numpy(dtype=bool)
        values, _ = _naive_ns(raw)
        return Parsed(pd.Series(values, dtype="datetime64[ns]"), null, ~null & np.isnat(values))
    text = as_text(raw)
    null = text.isna().to_numpy(dtype=bool)
    values = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[ns]")
    outside = _false(len(text))
    problem = None
    if date_format is not None:
        parsed = _parse_format(text[~null], date_format)
        values[~null], outside[~null] = _naive_ns(parsed)
    pending = ~null & np.isnat(values) & ~outside
    if pending.any():
        iso = pd.to_datetime(text[pending], utc=True, format="ISO8601", errors="coerce")
        values[pending], outside[pending] = _naive_ns(iso)
    failed = ~null & np.isnat(values) & ~outside
    if failed.any() and date_format is None:
        guessed, problem = _parse_guessed_format(text[failed])
        if guessed is not None:
            values[failed], outside[failed] = _naive_ns(guessed)
    bad = ~null & np.isnat(values)
    return Parsed(pd.Series(values, dtype="datetime64[ns]"), null, bad, problem)


def _parse_format(text: pd.Series, date_format: str) -> pd.Series:
    """``text`` read with ``date_format`` (distinct values only), NaT where it does not fit."""
    codes, distinct = pd.factorize(text)
    parsed = pd.to_datetime(
        pd.Series(distinct, dtype="str"), utc=True, format=date_format, errors="coerce"
    )
    return parsed.take(codes).set_axis(text.index)


def _naive_ns(stamps: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Naive UTC datetime64[ns] values and the mask of values outside its range (set to NaT)."""
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    values = stamps.to_numpy()
    if values.dtype == "datetime64[ns]":
        return values.copy(), _false(len(values))
    micro = values.astype("datetime64[us]")
    outside = (micro < _NS_MIN) | (micro > _NS_MAX)
    micro[outside] = np.datetime64("NaT")
    return micro.astype("datetime64[ns]"), outside


def _parse_guessed_format(pending: pd.Series) -> tuple[pd.Series | None, str | None]:
    """``pending`` parsed with the guessed format that parses most distinct values, and a problem.

    Formats are tried on the distinct values only (timestamps repeat across the lines of an
    invoice), then the parsed distinct values are spread back to the rows. When two formats that
    differ in the order of day and month parse equally many values into different dates, the
    column is ambiguous: no values are returned and the problem names both readings.
    """
    codes, distinct = pd.factorize(pending)
    distinct = pd.Series(distinct, dtype="str")
    results = []
    for fmt in _candidate_formats(distinct):
        parsed = pd.to_datetime(distinct, utc=True, format=fmt, errors="coerce", cache=False)
        count = int(parsed.notna().sum())
        if count:
            results.append((count, fmt, parsed))
    if not results:
        return None, None
    best = max(count for count, _, _ in results)
    tied = [(fmt, parsed) for count, fmt, parsed in results if count == best]
    (fmt, parsed), others = tied[0], tied[1:]
    for other_fmt, other in others:
        differ = (parsed != other).to_numpy(dtype=bool, na_value=True)
        if differ.any():
            example = distinct[np.flatnonzero(differ)[0]]
            return None, _ambiguous(example, fmt, other_fmt)
    logger.info("parsed %d distinct non-ISO timestamps with the format %r", best, fmt)
    return parsed.take(codes).set_axis(pending.index), None


def _ambiguous(example: str, *formats: str) -> str:
    """The problem text of a column whose dates read both day first and month first."""
    shown = " or ".join(f"{_reading(example, fmt)} ({fmt!r})" for fmt in formats)
    fmt = next((f for f in formats if -1 < f.find("%d") < f.find("%m")), formats[0])
    return (
        f"the dates are ambiguous: every value reads both day first and month first (no day is "
        f"above 12), e.g. {example!r} is {shown}. Fix: give the format, e.g. "
        f"date_format={fmt!r} in Python, --date-format {fmt!r} on the command line or "
        f"data.date_format: {fmt!r} in the training config"
    )


def _reading(example: str, fmt: str) -> str:
    """How ``example`` reads with ``fmt``, as a date in words: ``'1 February 2023'``."""
    stamp = pd.to_datetime(example, format=fmt, utc=True)
    return f"{stamp.day} {stamp.strftime('%B %Y')}"


def _candidate_formats(distinct: pd.Series) -> list[str]:
    """Formats pandas guesses (month first, then day first) from the first distinct values.

    Year-day-month formats (``'%Y/%d/%m'``) are left out: year-first dates are year-month-day.
    """
    formats: list[str] = []
    for value in distinct.head(_FORMAT_SAMPLES):
        for dayfirst in (False, True):
            with warnings.catch_warnings():  # "Parsing dates in %d/%m/%Y format when ..."
                warnings.simplefilter("ignore", UserWarning)
                fmt = guess_datetime_format(value, dayfirst=dayfirst)
            if fmt is not None and fmt not in formats and not _year_day_month(fmt):
                formats.append(fmt)
    return formats


def _year_day_month(fmt: str) -> bool:
    positions = [fmt.find(d) for d in ("%Y", "%d", "%m")]
    return -1 not in positions and positions[0] < positions[1] < positions[2]


def parse_customer_ids(values: pd.Series) -> pd.Series:
    """Customer ids by the readers' rule: int64 when every id is an integer, else ``str``.

    ``'000001'`` stays text (its zeros are part of the id), ``'13085'`` and ``13085.0`` are the
    integer 13085; missing ids (``NaN``, ``n/a``, blank...) are NA.

    Examples
    --------
    >>> parse_customer_ids(pd.Series(["000001", "000002"])).tolist()
    ['000001', '000002']
    >>> parse_customer_ids(pd.Series(["1", "2.0"])).tolist()
    [1, 2]
    """
    parsed = parse_ids(values)
    if not parsed.null.any():
        return parsed.values.set_axis(values.index)
    return parsed.values.astype(object).mask(parsed.null).set_axis(values.index)
