"""The data gate: :func:`read_orders`, :func:`read_events` and :func:`read_customers`.

Each reader takes a CSV path, a Parquet path or a DataFrame, validates it once and returns a
:class:`ReadResult` ``(data, rejects)``. ``data`` follows the data contract (see the readers'
docstrings); downstream code trusts it without checking again.

Rules
-----
- **Nothing is dropped silently**: every input row is either in ``data`` or in ``rejects``
  (``len(data) + len(rejects) == rows in``) and a :class:`~winback.exceptions.RejectedRowsWarning`
  counts the rejected rows by reason.
- **Row-level problems** set the row aside: a null required value, a value that does not parse,
  a negative discount, a timestamp after ``end``, a repeated unique key (the first row is kept;
  duplicates are judged among rows with no other problem).
- **Column-level problems** raise one :class:`~winback.exceptions.DataError` listing every problem
  found: a missing required column, a mapped column that is absent, a required column with no
  values, or a date, number or flag column where more than half (> 50 %) of the non-null values do
  not parse. With 50 % or fewer, those rows are rejected one by one instead.
- **Time zones**: tz-aware values, including mixed offsets within one column
  (``2021-01-01T10:00+02:00`` next to ``2021-01-01T08:00Z``), are converted to UTC and made naive;
  naive values are taken as UTC. All timestamps come out as naive UTC ``datetime64[ns]``. Text is
  read as ISO 8601 (date, date and time, any offset or ``Z``); text that is not ISO 8601 is read
  with the one format guessed from the data (``12/1/2009 07:45``: month first, unless day first
  reads more distinct values). Values outside 1677-09-22..2262-04-11 do not parse.
- **Ids**: ``customer_id`` is int64 when every id is an integer (integer dtype, integral floats
  such as ``13085.0``, or integer text without leading zeros), otherwise ``str`` (``"00123"``
  keeps its zeros). ``order_id`` is always ``str``.
- **Row order**: ``data`` keeps the input order of the kept rows (nothing is sorted) with a fresh
  ``RangeIndex``; ``rejects`` keeps the input order of the rejected rows.
- **Row numbers** are 1-based data rows, the header not counted (row 1 is the first data row of a
  CSV file, the first row of a DataFrame), in rejects and in error messages alike. Blank lines of
  a CSV file are not rows.
- **Values**: CSV cells are read as text exactly as written and parsed by the same rules as
  DataFrame columns, so a CSV file, its Parquet twin and the DataFrame give the same result.
  Missing means NaN/None/NaT/NA, empty or blank text and, outside free-text columns, the tokens
  NA, N/A, NaN, NaT, null, None, #N/A, <NA> (any case); free text (``category``, ``email``,
  ``country``...) keeps "NA" as text. Ids and timestamps are stripped of surrounding spaces.
- **Line items**: orders are one row per order. In a file with one row per line item (UCI Online
  Retail II), do not map ``order_id`` to the invoice number: every line after the first would be
  rejected as a duplicate.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import NamedTuple

import numpy as np
import pandas as pd

from winback.dates import DateLike
from winback.exceptions import ConfigError, DataError
from winback.io._columns import (
    CustomersColumns,
    EventsColumns,
    OrdersColumns,
    _Columns,
    resolve_columns,
)
from winback.io._locate import locate_columns, mapping_fix
from winback.io._parse import (
    Parsed,
)
from winback.io._rejects import Rejections, quoted
from winback.io._source import Source, column_listing, display_name, load_source
from winback.io._tables import (
    CUSTOMERS,
    EVENTS,
    ORDERS,
    PARSE_PROBLEMS,
    Table,
    TableColumn,
    orders_columns,
)

__all__ = ["ReadResult", "read_customers", "read_events", "read_orders"]

logger = logging.getLogger(__name__)

_MAX_SHOWN = 5
_COLUMN_PROBLEM_SHARE = 0.5


class ReadResult(NamedTuple):
    """What a reader returns: the validated rows and the rows set aside.

    Attributes
    ----------
    data : DataFrame
        The valid rows in input order, typed as in the data contract, with a fresh RangeIndex.
    rejects : DataFrame
        One row per rejected input row, in input order: ``row`` (int64, 1-based data row number,
        header not counted), ``reason`` (str, e.g. ``"null customer_id"`` or
        ``"unparseable order_ts: '2021-13-45'"``; several problems joined by ``"; "``), then
        every column of the source with the row's original values. Empty (same columns) when no
        row was rejected.
    """

    data: pd.DataFrame
    rejects: pd.DataFrame


# --- public readers ---------------------------------------------------------------------------


def read_orders(
    source: Source,
    *,
    columns: OrdersColumns | dict[str, str] | None = None,
    end: DateLike | None = None,
    encoding: str = "utf-8",
    name: str | None = None,
) -> ReadResult:
    """Read and validate orders: one row per order (or per refund/return).

    Parameters
    ----------
    source : str, path or DataFrame
        A ``.csv`` file (also ``.csv.gz``/``.bz2``/``.xz``/``.zip``), a ``.parquet`` file or a
        DataFrame.
    columns : OrdersColumns or dict, optional
        Source column of each canonical column, e.g. ``{"customer_id": "Customer ID",
        "order_ts": "InvoiceDate", "price": "Price", "quantity": "Quantity"}``. Unmapped columns
        are looked up under their canonical name. With ``price`` (and not ``amount``) mapped,
        ``amount = price * quantity`` and rows with a null price or quantity are rejected.
    end : date or str, optional
        The data's stated last calendar day (UTC). Rows stamped after that day are rejected;
        rows during it are kept (``order_ts < end + 1 day``).
    encoding : str, default "utf-8"
        Text encoding of a CSV file (a UTF-8 byte-order mark is accepted).
    name : str, optional
        How messages name the source (default: the path, or ``"<DataFrame>"``).

    Returns
    -------
    ReadResult
        ``data`` with columns ``customer_id`` (int64 when every id is an integer, else str),
        ``order_ts`` (datetime64[ns], naive UTC), ``amount`` (float64; negative = refund or
        return) and, when present in the source, ``order_id`` (str), ``quantity`` (float64),
        ``discount`` (float64, >= 0), ``category`` (str), ``channel`` (str); other source columns
        are not carried over. ``rejects`` as described in :class:`ReadResult`.

    Raises
    ------
    DataError
        When the source cannot be used (see the module docstring); the message names the source,
        the column, the first offending rows with their values and the fix.
    ConfigError
        When ``columns``, ``end`` or ``encoding`` is invalid.

    Warns
    -----
    RejectedRowsWarning
        When rows were set aside, with their count by reason.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"Customer ID": [1, 2], "InvoiceDate": ["2021-01-05", "2021-01-06"],
    ...                     "Price": [2.5, 4.0], "Quantity": [2, 1]})
    >>> data, rejects = read_orders(raw, columns={"customer_id": "Customer ID",
    ...     "order_ts": "InvoiceDate", "price": "Price", "quantity": "Quantity"})
    >>> data
       customer_id   order_ts  amount  quantity
    0            1 2021-01-05     5.0       2.0
    1            2 2021-01-06     4.0       1.0
    """
    mapping = resolve_columns(columns, OrdersColumns)
    return _read(source, ORDERS, mapping, end=end, encoding=encoding, name=name)


def read_events(
    source: Source,
    *,
    columns: EventsColumns | dict[str, str] | None = None,
    end: DateLike | None = None,
    encoding: str = "utf-8",
    name: str | None = None,
) -> ReadResult:
    """Read and validate events: one row per customer interaction (email open, visit, NPS, ...).

    Parameters are those of :func:`read_orders` (``columns`` maps ``customer_id``, ``event_ts``,
    ``event_type``, ``value``; ``end`` rejects events after that day).

    Returns
    -------
    ReadResult
        ``data`` with columns ``customer_id`` (int64 or str), ``event_ts`` (datetime64[ns], naive
        UTC), ``event_type`` (str, any text, e.g. ``email_open``, ``nps``) and ``value`` (float64,
        e.g. an NPS score; NaN when missing, all NaN when the source has no value column).
    """
    mapping = resolve_columns(columns, EventsColumns)
    return _read(source, EVENTS, mapping, end=end, encoding=encoding, name=name)


def read_customers(
    source: Source,
    *,
    columns: CustomersColumns | dict[str, str] | None = None,
    end: DateLike | None = None,
    encoding: str = "utf-8",
    name: str | None = None,
) -> ReadResult:
    """Read and validate customers: one row per customer (a repeated customer_id is rejected).

    Parameters are those of :func:`read_orders` (``columns`` maps ``customer_id``, ``email``,
    ``phone``, ``signup_ts``, ``marketing_opt_in``, ``country``; ``end`` rejects customers who
    signed up after that day).

    Returns
    -------
    ReadResult
        ``data`` with columns ``customer_id`` (int64 or str, unique), ``marketing_opt_in`` (bool)
        and, when present in the source, ``email``, ``phone``, ``country`` (str, NaN when
        missing) and ``signup_ts`` (datetime64[ns] naive UTC, NaT when missing).

        ``marketing_opt_in`` is parsed from bool, 0/1 or the texts true/false, yes/no, t/f, y/n
        (any case); a missing value is False. **If the source has no marketing_opt_in column,
        every customer gets False** (not opted in: winback never assumes consent) and a log
        message says so.
    """
    mapping = resolve_columns(columns, CustomersColumns)
    return _read(source, CUSTOMERS, mapping, end=end, encoding=encoding, name=name)


# --- the gate ---------------------------------------------------------------------------------


def _read(
    source: Source,
    table: Table,
    mapping: _Columns,
    *,
    end: DateLike | None,
    encoding: str,
    name: str | None,
) -> ReadResult:
    """Load, locate, parse, check and split ``source`` into ``(data, rejects)``."""
    last_day = _end_day(end)
    label = display_name(source, name)
    raw = load_source(source, encoding=encoding, label=label, reader=table.reader)
    columns = orders_columns(mapping) if isinstance(mapping, OrdersColumns) else table.columns
    located, problems, fixes = locate_columns(raw, columns, mapping, table)
    parsed = {c.name: c.parse(raw[located[c.name]]) for c in columns if c.name in located}
    problems += _column_problems(raw, columns, located, parsed)
    if problems:
        raise _unusable(label, table, raw.columns, problems, fixes)
    rejections = _row_problems(raw, columns, located, parsed, last_day)
    data = _assemble(columns, located, parsed, ~rejections.mask(), label=label)
    rejects = rejections.frame(raw)
    logger.info(
        "%s: read %d rows of %s, kept %d, rejected %d",
        label,
        len(raw),
        table.name,
        len(data),
        len(rejects),
    )
    rejections.warn(label=label, table=table.name, stacklevel=4)  # warn, _read, read_*, caller
    return ReadResult(data, rejects)


def _unusable(
    label: str, table: Table, found: pd.Index, problems: list[str], fixes: dict[str, str]
) -> DataError:
    """One error listing every column-level problem, then the combined mapping fix if any."""
    count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
    together = f"\nFix all at once: {mapping_fix(fixes)}." if len(fixes) > 1 else ""
    return DataError(
        f"Cannot use {label!r} as {table.name} ({count}). Columns found: {column_listing(found)}."
        + "".join(f"\n- {p}" for p in problems)
        + together
    )


def _end_day(end: DateLike | None) -> pd.Timestamp | None:
    """``end`` as a naive midnight Timestamp; anything else raises :class:`ConfigError`."""
    if end is None:
        return None
    try:
        day = pd.Timestamp(end) if isinstance(end, str | dt.date | np.datetime64) else pd.NaT
    except ValueError:
        day = pd.NaT
    if pd.isna(day) or day.tz is not None or day != day.normalize():
        raise ConfigError(
            f"end: expected a calendar date (UTC day) such as '2011-12-09', got {end!r}. "
            "Rows stamped during that day are kept, rows after it are rejected."
        )
    return day


# --- column-level problems --------------------------------------------------------------------


def _shown_rows(raw_column: pd.Series, mask: np.ndarray) -> str:
    """``row 2: 'abc', row 5: 'x'`` for the first five rows in ``mask``."""
    positions = np.flatnonzero(mask)[:_MAX_SHOWN]
    values = quoted(raw_column.iloc[positions]).tolist()
    return ", ".join(f"row {p + 1}: {v}" for p, v in zip(positions, values, strict=True))


def _described(canonical: str, source: str) -> str:
    named = f"column {canonical!r}"
    return named if canonical == source else f"{named} (source column {source!r})"


def _column_problems(
    raw: pd.DataFrame,
    columns: tuple[TableColumn, ...],
    located: dict[str, str],
    parsed: dict[str, Parsed],
) -> list[str]:
    """Empty required columns and columns where more than half the values do not parse."""
    problems = []
    for column in columns:
        if column.name not in located:
            continue
        source, result = located[column.name], parsed[column.name]
        present = int((~result.null).sum())
        bad = int(result.bad.sum())
        if column.required and present == 0:
            problems.append(
                f"{_described(column.name, source)} has no values: all {len(raw)} rows are "
                f"empty. Fix: map {column.name!r} to the column that holds them."
            )
        elif bad > _COLUMN_PROBLEM_SHARE * present:
            what, fix = PARSE_PROBLEMS[column.parse]
            problems.append(
                f"{_described(column.name, source)}: {bad} of {present} non-null values "
                f"({bad / present:.0%}) are not {what}, e.g. "
                f"{_shown_rows(raw[source], result.bad)}. "
                "When more than 50% of the non-null values do not parse the column is unusable "
                "(with 50% or fewer, those rows are set aside as rejects). Fix: check that "
                f"{column.name!r} is mapped to the right column, or {fix}."
            )
    return problems


# --- row-level problems -----------------------------------------------------------------------


def _row_problems(
    raw: pd.DataFrame,
    columns: tuple[TableColumn, ...],
    located: dict[str, str],
    parsed: dict[str, Parsed],
    last_day: pd.Timestamp | None,
) -> Rejections:
    """Every row problem, checked column by column, then unique keys among the remaining rows."""
    rejections = Rejections(len(raw))
    present = [c for c in columns if c.name in located]
    for column in present:
        result, source = parsed[column.name], located[column.name]
        if column.required:
            rejections.add(f"null {column.name}", result.null)
        rejections.add(
            f"unparseable {column.name}",
            result.bad,
            lambda positions, source=source: quoted(raw[source].iloc[positions]),
        )
        if column.nonnegative:
            negative = (result.values.to_numpy() < 0) & ~result.null & ~result.bad
            rejections.add(
                f"negative {column.name}",
                negative,
                lambda positions, values=result.values: values.iloc[positions].astype("str"),
            )
        if column.stamped and last_day is not None:
            _add_after_end(rejections, column.name, result.values, last_day)
    for column in present:
        if column.unique:
            _add_duplicates(rejections, column.name, parsed[column.name])
    return rejections


def _add_after_end(
    rejections: Rejections, name: str, stamps: pd.Series, last_day: pd.Timestamp
) -> None:
    after = stamps.to_numpy() >= (last_day + pd.Timedelta(days=1)).to_datetime64()
    day = last_day.strftime("%Y-%m-%d")

    def detail(positions: np.ndarray) -> pd.Series:
        return stamps.iloc[positions].dt.strftime("%Y-%m-%d %H:%M:%S") + f" > {day}"

    rejections.add(f"{name} after end", after, detail)


def _add_duplicates(rejections: Rejections, name: str, result: Parsed) -> None:
    """Reject repeats of a key among rows with no other problem; the first row is kept."""
    eligible = ~rejections.mask() & ~result.null
    positions = np.flatnonzero(eligible)
    keys = result.values if eligible.all() else result.values.iloc[positions]
    codes, _ = pd.factorize(keys)
    seen_before = np.maximum.accumulate(np.concatenate(([-1], codes[:-1])))
    first = codes > seen_before
    first_position = positions[first][codes]  # codes number keys by first appearance
    repeated = np.zeros(rejections.n, dtype=bool)
    repeated[positions[~first]] = True
    first_row = np.zeros(rejections.n, dtype="int64")
    first_row[positions] = first_position + 1

    def detail(rows: np.ndarray) -> pd.Series:
        return "first seen in row " + pd.Series(first_row[rows]).astype("str")

    rejections.add(f"duplicate {name}", repeated, detail)


# --- output -----------------------------------------------------------------------------------


def _assemble(
    columns: tuple[TableColumn, ...],
    located: dict[str, str],
    parsed: dict[str, Parsed],
    kept: np.ndarray,
    *,
    label: str,
) -> pd.DataFrame:
    """The kept rows in input order, canonical columns in contract order."""
    values: dict[str, pd.Series] = {}
    for column in columns:
        if column.name in located:
            values[column.name] = parsed[column.name].values
        elif column.fill is not None:
            values[column.name] = pd.Series(column.fill, index=range(len(kept)))
            if column.name == "marketing_opt_in":
                logger.warning(
                    "%s: no marketing_opt_in column; every customer is treated as not opted in",
                    label,
                )
    if "price" in values:  # orders with amount = price x quantity
        amount = values.pop("price") * values["quantity"]
        values = {
            "customer_id": values.pop("customer_id"),
            "order_ts": values.pop("order_ts"),
            "amount": amount,
            **values,
        }
    frame = pd.DataFrame(values)
    if kept.all():
        return frame
    return frame[kept].reset_index(drop=True)
