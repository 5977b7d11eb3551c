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
  duplicates are judged among rows with no other problem), an exact repeat of an order line
  (every column equal; orders with an ``order_id``), the lines of an order id shared by several
  customers.
- **Column-level problems** raise one :class:`~winback.exceptions.DataError` listing every problem
  found: a missing required column, a mapped column that is absent, a required column with no
  values, or a date, number or flag column where more than half (> 50 %) of the non-null values do
  not parse. With 50 % or fewer, those rows are rejected one by one instead.
- **Time zones**: tz-aware values, including mixed offsets within one column
  (``2021-01-01T10:00+02:00`` next to ``2021-01-01T08:00Z``), are converted to UTC and made naive;
  naive values are taken as UTC. All timestamps come out as naive UTC ``datetime64[ns]``. Text is
  read as ISO 8601 (date, date and time, any offset or ``Z``); text that is not ISO 8601 is read
  with the one format guessed from the data (``31.12.2023`` day first, ``12/13/2009 07:45``
  month first). A column whose every value reads both day first and month first
  (``01/02/2023``) is a column-level problem asking for ``date_format``; with ``date_format``
  text is read with that format, then as ISO 8601. Values outside 1677-09-22..2262-04-11 do
  not parse.
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
- **Line items**: rows sharing an ``order_id`` are the lines of one order (UCI Online Retail II:
  one row per product line, map ``order_id`` to the invoice number) and become one row of
  ``data``: amount = the sum of the lines' amounts (or of price x quantity), quantity and
  discount summed, order_ts the earliest, category and channel the first line's. Rows without
  an order id are orders of their own. An order whose net amount is < 0, or 0 without a
  positive quantity, is a cancellation or refund (a "C" invoice of negative quantities): it
  stays in ``data`` (it reduces revenue) but is not a purchase anywhere downstream
  (:func:`~winback.io.purchase_mask`; a free order, amount 0 and quantity > 0, is one).
  :attr:`ReadResult.line_items` says how many lines made how many orders; rows in = lines
  kept + rejected.
- **Consent**: a customer listed on several rows is opted in only if every row says so; rows
  that disagree leave the customer *not* opted in, in either order
  (:attr:`ReadResult.consent_conflicts` lists them).
- **Encodings**: a byte-order mark (UTF-8, UTF-16, UTF-32) decides the encoding; UTF-16 without
  one is recognised by its NUL bytes; otherwise ``encoding`` is used and bytes it cannot decode
  are a :class:`~winback.exceptions.DataError` recommending an encoding that decodes them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from winback.dates import DateLike, check_date_format, parse_date
from winback.exceptions import ConfigError, DataError
from winback.io._columns import (
    COLUMNS_OPTIONS,
    CustomersColumns,
    EventsColumns,
    OrdersColumns,
    _Columns,
    resolve_columns,
)
from winback.io._encoding import (
    check_encoding,
    decodes_as,
    encoding_fix,
    file_encoding,
    printable,
)
from winback.io._locate import locate_columns, mapping_fix, suggest_column
from winback.io._parse import Parsed, as_text, parse_timestamps
from winback.io._rejects import Rejections, quoted
from winback.io._source import (
    Source,
    _file_bytes,
    _undecodable_rows,
    column_listing,
    display_name,
    load_source,
)
from winback.io._tables import (
    CUSTOMERS,
    EVENTS,
    ORDERS,
    PARSE_PROBLEMS,
    Table,
    TableColumn,
    orders_columns,
    purchase_mask,
)

__all__ = ["LineItems", "ReadResult", "read_customers", "read_events", "read_orders"]

logger = logging.getLogger(__name__)

_MAX_SHOWN = 5
_COLUMN_PROBLEM_SHARE = 0.5


@dataclass(frozen=True)
class LineItems:
    """How the lines of an orders file became orders.

    Attributes
    ----------
    lines : int
        Input rows kept (lines of orders, or orders of one line).
    orders : int
        Orders they made (rows of ``data``).
    cancellations : int
        Orders among them that are not purchases (net amount < 0, or 0 without a positive
        quantity): cancellations, refunds, returns.
    """

    lines: int
    orders: int
    cancellations: int

    def __str__(self) -> str:
        return (
            f"aggregated {self.lines:,} lines into {self.orders:,} orders "
            f"({self.cancellations:,} cancellations)"
        )


@dataclass(frozen=True, eq=False)
class ReadResult:
    """What a reader returns: the validated rows and the rows set aside.

    Unpacks as ``data, rejects = read_orders(...)``.

    Attributes
    ----------
    data : DataFrame
        The valid rows in input order, typed as in the data contract, with a fresh RangeIndex.
        For orders with an ``order_id``, one row per order (its lines aggregated).
    rejects : DataFrame
        One row per rejected input row, in input order: ``row`` (int64, 1-based data row number,
        header not counted), ``reason`` (str, e.g. ``"null customer_id"`` or
        ``"unparseable order_ts: '2021-13-45'"``; several problems joined by ``"; "``), then
        every column of the source with the row's original values. Empty (same columns) when no
        row was rejected.
    source : str
        How messages name the source (its path, or ``"<DataFrame>"``).
    table : str
        ``"orders"``, ``"events"`` or ``"customers"``.
    rows : int
        Input rows read: ``rows == line_items.lines + len(rejects)`` for orders with an
        ``order_id``, else ``rows == len(data) + len(rejects)``.
    rejected_by_reason : dict
        Rejected rows per kind of problem, most frequent first (a row can have several).
    line_items : LineItems or None
        For orders with an ``order_id``: lines kept, orders made, cancellations.
    consent_conflicts : Index
        Customers (``read_customers``) listed on several rows that disagree on
        ``marketing_opt_in``; each is kept as not opted in. Empty otherwise.
    """

    data: pd.DataFrame
    rejects: pd.DataFrame
    source: str = "<DataFrame>"
    table: str = "orders"
    rows: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    line_items: LineItems | None = None
    consent_conflicts: pd.Index = field(default_factory=lambda: pd.Index([], name="customer_id"))

    def __iter__(self) -> Iterator[pd.DataFrame]:
        return iter((self.data, self.rejects))

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> pd.DataFrame:
        return (self.data, self.rejects)[index]

    def require_rows(self, *, rejects_file: str | os.PathLike[str] | None = None) -> None:
        """Raise :class:`DataError` if every row was rejected, naming the reasons.

        ``rejects_file`` is where the caller wrote the rejects (named in the message).
        """
        if len(self.data) or not len(self.rejects):
            return
        reasons = ", ".join(f"{n} {kind}" for kind, n in self.rejected_by_reason.items())
        where = (
            f"Every row and its reason is in {os.fspath(rejects_file)}"
            if rejects_file is not None
            else "The rejects frame lists every row with its reason"
        )
        shown = "; ".join(
            f"row {row}: {printable(str(reason))}"
            for row, reason in zip(self.rejects["row"][:3], self.rejects["reason"][:3], strict=True)
        )
        raise DataError(
            f"Cannot use {self.source!r}: all {self.rows} rows of {self.table} were rejected "
            f"({reasons}), e.g. {shown}. {where}. Fix: correct those rows or the column mapping "
            f"({COLUMNS_OPTIONS[self.table]} / columns=), then rerun."
        )


# --- public readers ---------------------------------------------------------------------------


def read_orders(
    source: Source,
    *,
    columns: OrdersColumns | dict[str, str] | None = None,
    end: DateLike | None = None,
    encoding: str = "utf-8",
    date_format: str | None = None,
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
        Text encoding of a CSV file, e.g. ``"cp1252"`` (Excel on Windows) or ``"latin-1"``. A
        byte-order mark (UTF-8, UTF-16, UTF-32) overrides it; UTF-16 without a mark is
        recognised by its NUL bytes.
    date_format : str, optional
        strftime format of text dates, e.g. ``"%d.%m.%Y"`` or ``"%d/%m/%Y %H:%M"``; values that
        do not fit it are read as ISO 8601. Needed when dates read both day first and month
        first (no day above 12); otherwise the format is recognised from the data.
    name : str, optional
        How messages name the source (default: the path, or ``"<DataFrame>"``).

    Returns
    -------
    ReadResult
        ``data`` with columns ``customer_id`` (int64 when every id is an integer, else str),
        ``order_ts`` (datetime64[ns], naive UTC), ``amount`` (float64; <= 0 = cancellation,
        refund or return, not a purchase) and, when present in the source, ``order_id`` (str,
        unique where present: the lines of an order are aggregated, see the module docstring),
        ``quantity`` (float64), ``discount`` (float64, >= 0), ``category`` (str), ``channel``
        (str); other source columns are not carried over. ``rejects`` as described in
        :class:`ReadResult`; ``line_items`` says how many lines made how many orders.

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
    return _read(
        source, ORDERS, mapping, end=end, encoding=encoding, date_format=date_format, name=name
    )


def read_events(
    source: Source,
    *,
    columns: EventsColumns | dict[str, str] | None = None,
    end: DateLike | None = None,
    encoding: str = "utf-8",
    date_format: str | None = None,
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
    return _read(
        source, EVENTS, mapping, end=end, encoding=encoding, date_format=date_format, name=name
    )


def read_customers(
    source: Source,
    *,
    columns: CustomersColumns | dict[str, str] | None = None,
    end: DateLike | None = None,
    encoding: str = "utf-8",
    date_format: str | None = None,
    name: str | None = None,
) -> ReadResult:
    """Read and validate customers: one row per customer (a repeated customer_id is rejected).

    Parameters are those of :func:`read_orders` (``columns`` maps ``customer_id``, ``email``,
    ``phone``, ``signup_ts``, ``marketing_opt_in``, ``country``, ``postal_address``; ``end``
    rejects customers who signed up after that day).

    Returns
    -------
    ReadResult
        ``data`` with columns ``customer_id`` (int64 or str, unique), ``marketing_opt_in`` (bool)
        and, when present in the source, ``email``, ``phone``, ``country``, ``postal_address``
        (str, NaN when missing) and ``signup_ts`` (datetime64[ns] naive UTC, NaT when missing).

        ``marketing_opt_in`` is parsed from bool, 0/1 or the texts true/false, yes/no, t/f, y/n
        (any case); a missing value is False. **If the source has no marketing_opt_in column,
        every customer gets False** (not opted in: winback never assumes consent) and a log
        message says so. A customer on several rows keeps the first row's other values and is
        opted in only if every one of its rows (rejected ones included) says so:
        ``consent_conflicts`` lists the customers whose rows disagree.
    """
    mapping = resolve_columns(columns, CustomersColumns)
    return _read(
        source, CUSTOMERS, mapping, end=end, encoding=encoding, date_format=date_format, name=name
    )


# --- the gate ---------------------------------------------------------------------------------


def _read(
    source: Source,
    table: Table,
    mapping: _Columns,
    *,
    end: DateLike | None,
    encoding: str,
    date_format: str | None,
    name: str | None,
) -> ReadResult:
    """Load, locate, parse, check and split ``source`` into ``(data, rejects)``."""
    last_day = _end_day(end)
    if date_format is not None:
        check_date_format(date_format)
    label = display_name(source, name)
    raw = _load(source, encoding=check_encoding(encoding), label=label, table=table)
    columns = orders_columns(mapping) if isinstance(mapping, OrdersColumns) else table.columns
    located, problems, fixes = locate_columns(raw, columns, mapping, table)
    parsed = {
        c.name: _parse(c, raw[located[c.name]], date_format) for c in columns if c.name in located
    }
    problems += _column_problems(raw, columns, located, parsed)
    if problems:
        raise _unusable(label, table, raw.columns, problems, fixes)
    lines = table is ORDERS and "order_id" in located
    if table is ORDERS and not lines:
        _hint_order_id(raw, mapping, label)
    conflicts = split = None
    if table is CUSTOMERS:
        conflicting_rows, conflicts = _resolve_consent(parsed)
        split = (conflicting_rows, _CONFLICTING_CONSENT)
    rejections = _row_problems(raw, columns, located, parsed, last_day, split=split)
    if lines:
        order_codes = _order_codes(parsed["order_id"])
        _add_repeated_lines(rejections, raw, located, parsed, order_codes)
        _add_shared_orders(rejections, parsed, order_codes)
    data = _assemble(columns, located, parsed, ~rejections.mask(), label=label)
    line_items = None
    if lines:
        data, line_items = _orders_of_lines(data, order_codes[~rejections.mask()])
        if line_items.lines > line_items.orders:
            logger.info("%s: %s", label, line_items)
    rejects = rejections.frame(raw)
    logger.info(
        "%s: read %d rows of %s, kept %d, rejected %d",
        label,
        len(raw),
        table.name,
        len(data) if line_items is None else line_items.lines,
        len(rejects),
    )
    rejections.warn(label=label, table=table.name, stacklevel=4)  # warn, _read, read_*, caller
    return ReadResult(
        data,
        rejects,
        source=label,
        table=table.name,
        rows=len(raw),
        rejected_by_reason=rejections.counts(),
        line_items=line_items,
        consent_conflicts=pd.Index([], name="customer_id") if conflicts is None else conflicts,
    )


def _parse(column: TableColumn, values: pd.Series, date_format: str | None) -> Parsed:
    if column.parse is parse_timestamps:
        return parse_timestamps(values, date_format=date_format)
    return column.parse(values)


def _load(source: Source, *, encoding: str, label: str, table: Table) -> pd.DataFrame:
    """The raw rows; a CSV file is read in the encoding its byte-order mark names, if any."""
    if isinstance(source, str | os.PathLike) and os.path.isfile(source):
        encoding = file_encoding(source, encoding, label=label)
    try:
        return load_source(source, encoding=encoding, label=label, reader=table.reader)
    except DataError as exc:
        if isinstance(exc.__cause__, UnicodeDecodeError) and isinstance(source, str | os.PathLike):
            raise DataError(_encoding_message(source, encoding, label)) from exc.__cause__
        raise


def _encoding_message(path: str | os.PathLike[str], encoding: str, label: str) -> str:
    """Which rows do not decode (shown escaped) and the encoding that decodes them."""
    rows = _undecodable_rows(Path(path), encoding)
    shown = ", ".join(
        ("header" if row == 0 else f"row {row}")
        + f": '{printable(line.decode(encoding, errors='backslashreplace'))}'"
        for row, line in rows
    )
    fits = decodes_as(_file_bytes(Path(path)))
    why = "Excel on Windows writes it" if fits == "cp1252" else "it decodes any bytes"
    return (
        f"Cannot read {label!r}: its bytes are not valid {encoding} text, e.g. {shown}. "
        f"Fix: {encoding_fix(fits)} ({fits} decodes this file; {why})."
    )


def _hint_order_id(raw: pd.DataFrame, mapping: _Columns, label: str) -> None:
    """Warn when a line-item file (price x quantity) has an unmapped column like an order id."""
    if getattr(mapping, "price", None) is None:
        return
    invoice = suggest_column("order_id", raw.columns)
    if invoice is not None:
        logger.warning(
            "%s: amount = price x quantity suggests one row per line item, but order_id is not "
            "mapped, so every line counts as an order. If %r is the order (invoice) number, map "
            "it (columns={'order_id': %r}, CLI %s order_id=%s) to aggregate the lines.",
            label,
            invoice,
            invoice,
            COLUMNS_OPTIONS["orders"],
            invoice,
        )


def _unusable(
    label: str, table: Table, found: pd.Index, problems: list[str], fixes: dict[str, str]
) -> DataError:
    """One error, on one line, listing every column-level problem, then the combined mapping fix
    if any."""
    count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
    together = f" Fix all at once: {mapping_fix(fixes, table)}." if len(fixes) > 1 else ""
    return DataError(
        f"Cannot use {label!r} as {table.name} ({count}). Columns found: {column_listing(found)}."
        + "".join(f" - {p}" for p in problems)
        + together
    )


def _end_day(end: DateLike | None) -> pd.Timestamp | None:
    """``end`` as a naive midnight Timestamp; anything else raises :class:`ConfigError`."""
    if end is None:
        return None
    day = parse_date(end, name="end")
    if day != day.normalize():
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
    """Empty required columns, problems found while parsing, and columns where more than half
    the values do not parse."""
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
        elif result.problem is not None:
            problems.append(f"{_described(column.name, source)}: {result.problem}.")
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
    *,
    split: tuple[np.ndarray, str] | None = None,
) -> Rejections:
    """Every row problem, checked column by column, then unique keys among the remaining rows
    (repeats in ``split``'s mask are filed under its kind)."""
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
            result = parsed[column.name]
            eligible = ~rejections.mask() & ~result.null
            _add_repeats(
                rejections, f"duplicate {column.name}", result.values, eligible, split=split
            )
    return rejections


def _add_after_end(
    rejections: Rejections, name: str, stamps: pd.Series, last_day: pd.Timestamp
) -> None:
    after = stamps.to_numpy() >= (last_day + pd.Timedelta(days=1)).to_datetime64()
    day = last_day.strftime("%Y-%m-%d")

    def detail(positions: np.ndarray) -> pd.Series:
        return stamps.iloc[positions].dt.strftime("%Y-%m-%d %H:%M:%S") + f" > {day}"

    rejections.add(f"{name} after end", after, detail)


def _first_rows(keys: pd.Series | np.ndarray, eligible: np.ndarray) -> tuple[np.ndarray, ...]:
    """Among the ``eligible`` rows: (repeated mask, 1-based row of each key's first row)."""
    n = len(eligible)
    positions = np.flatnonzero(eligible)
    values = keys if eligible.all() else keys[positions]
    codes, _ = pd.factorize(values)
    seen_before = np.maximum.accumulate(np.concatenate(([-1], codes[:-1])))
    first = codes > seen_before
    first_position = positions[first][codes]  # codes number keys by first appearance
    repeated = np.zeros(n, dtype=bool)
    repeated[positions[~first]] = True
    first_row = np.zeros(n, dtype="int64")
    first_row[positions] = first_position + 1
    return repeated, first_row


def _add_repeats(
    rejections: Rejections,
    kind: str,
    keys: pd.Series | np.ndarray,
    eligible: np.ndarray,
    *,
    split: tuple[np.ndarray, str] | None = None,
) -> np.ndarray:
    """Reject repeats of a key among the ``eligible`` rows (the first row is kept).

    ``split = (mask, other kind)`` files the repeats in ``mask`` under the other kind. Returns
    the 1-based first row of each eligible row's key.
    """
    repeated, first_row = _first_rows(keys, eligible)

    def detail(rows: np.ndarray) -> pd.Series:
        return "first seen in row " + pd.Series(first_row[rows]).astype("str")

    if split is not None:
        mask, other = split
        rejections.add(other, repeated & mask, detail)
        repeated &= ~mask
    rejections.add(kind, repeated, detail)
    return first_row


def _order_codes(order: Parsed) -> np.ndarray:
    """An int64 code per row for its order id (first appearance order), -1 without one."""
    codes, _ = pd.factorize(order.values)
    codes = codes.astype(np.int64, copy=False)
    codes[order.null] = -1
    return codes


def _in_repeated_orders(codes: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Eligible rows whose order id other eligible rows share (only they can be repeats)."""
    size = max(int(codes.max(initial=-1)) + 1, 1)
    counts = np.bincount(codes[eligible & (codes >= 0)], minlength=size)
    return eligible & (codes >= 0) & (counts[np.maximum(codes, 0)] > 1)


def _add_repeated_lines(
    rejections: Rejections,
    raw: pd.DataFrame,
    located: dict[str, str],
    parsed: dict[str, Parsed],
    order_codes: np.ndarray,
) -> None:
    """Reject exact repeats of an order line: every source column equal (parsed values for the
    canonical columns, the text of the others), among rows with no other problem.

    Only lines whose order id repeats, or that have none, are compared: a repeat has the same
    order id, so a file of one line per order costs nothing here.
    """
    eligible = ~rejections.mask()
    candidates = _in_repeated_orders(order_codes, eligible) | (eligible & (order_codes < 0))
    positions = np.flatnonzero(candidates)
    if len(positions) < 2:
        return
    canonical = {source: name for name, source in located.items()}
    keys = {}
    for index, column in enumerate(raw.columns):
        name = canonical.get(column)
        if name is None:
            keys[index] = as_text(raw[column].iloc[positions], strip=False, null_tokens=False)
        else:
            result = parsed[name]
            keys[index] = result.values.iloc[positions].mask(result.null[positions])
    frame = pd.DataFrame({k: v.reset_index(drop=True) for k, v in keys.items()})
    codes = np.full(rejections.n, -1, dtype=np.int64)
    codes[positions] = frame.groupby(list(frame.columns), dropna=False, sort=False).ngroup()
    _add_repeats(rejections, "duplicate row", codes, candidates)


def _add_shared_orders(
    rejections: Rejections, parsed: dict[str, Parsed], order_codes: np.ndarray
) -> None:
    """Reject every line of an order id that lines of several customers share."""
    order, customer = parsed["order_id"], parsed["customer_id"]
    positions = np.flatnonzero(_in_repeated_orders(order_codes, ~rejections.mask()))
    frame = pd.DataFrame(
        {"order": order_codes[positions], "customer": customer.values.iloc[positions].to_numpy()}
    )
    shared = frame.groupby("order", sort=False)["customer"].transform("nunique") > 1
    mask = np.zeros(rejections.n, dtype=bool)
    mask[positions[shared.to_numpy()]] = True

    def detail(rows: np.ndarray) -> pd.Series:
        return "order_id " + quoted(order.values.iloc[rows]).set_axis(range(len(rows)))

    rejections.add("order_id of several customers", mask, detail)


_CONFLICTING_CONSENT = "duplicate customer_id with conflicting marketing_opt_in (not opted in)"


def _resolve_consent(parsed: dict[str, Parsed]) -> tuple[np.ndarray, pd.Index]:
    """Keep a customer listed on several rows opted in only if every row says so.

    Judged over every row with the id (rejected ones too): a row that says no, says nothing or
    says something unreadable withdraws consent; the parsed flags are set to False on every row
    of such a customer. Returns the mask of those rows and the ids whose rows disagree.
    """
    ids, flags = parsed["customer_id"], parsed.get("marketing_opt_in")
    if flags is None:
        return np.zeros(len(ids.null), dtype=bool), pd.Index([], name="customer_id")
    has_id = ~ids.null
    yes = flags.values.to_numpy(dtype=bool) & ~flags.null & ~flags.bad
    codes = np.full(len(yes), -1, dtype=np.int64)
    codes[has_id], distinct = pd.factorize(ids.values[has_id])
    counts = np.bincount(codes[has_id], minlength=len(distinct))
    agree = np.bincount(codes[has_id], weights=yes[has_id], minlength=len(distinct))
    conflict = (agree > 0) & (agree < counts)
    row_conflict = has_id & conflict[np.maximum(codes, 0)]
    flags.values[row_conflict] = False
    if conflict.any():
        logger.warning(
            "%d customers are listed on several rows that disagree on marketing_opt_in; each "
            "is kept as not opted in",
            int(conflict.sum()),
        )
    return row_conflict, pd.Index(pd.Series(distinct[conflict]), name="customer_id")


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
                    "%s: no marketing_opt_in column; every customer is treated as not opted in "
                    "(map your consent column: `%s marketing_opt_in=<column>`, or columns= in "
                    "Python)",
                    label,
                    COLUMNS_OPTIONS["customers"],
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


_SUMMED = ("amount", "quantity", "discount")


def _orders_of_lines(
    lines: pd.DataFrame, order_codes: np.ndarray
) -> tuple[pd.DataFrame, LineItems]:
    """One row per order id (lines without one are orders of their own), in input order.

    ``order_codes`` are the lines' order id codes (-1 without one). Amount, quantity and
    discount are summed (NaN only when every line's is NaN), order_ts is the earliest line's,
    the other columns are the first line's (first non-missing value).
    """
    alone = order_codes < 0
    keys = order_codes.copy()
    keys[alone] = -1 - np.arange(int(alone.sum()))  # an order of its own each
    codes, distinct = pd.factorize(keys)  # numbered by first appearance in the lines
    if len(distinct) == len(lines):
        orders = lines
    else:
        groups = lines.groupby(codes, sort=True)  # codes follow first appearance
        parts = {}
        for column in lines.columns:
            if column in _SUMMED:
                parts[column] = groups[column].sum(min_count=1)
            elif column == "order_ts":
                parts[column] = groups[column].min()
            else:
                parts[column] = groups[column].first()
        orders = pd.DataFrame(parts).reset_index(drop=True)
        orders = orders.astype({c: lines[c].dtype for c in lines.columns if c != "order_ts"})
    cancelled = int((~purchase_mask(orders)).sum())
    return orders, LineItems(lines=len(lines), orders=len(orders), cancellations=cancelled)
