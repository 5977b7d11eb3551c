"""The data contract checked on a frame that did not come through a reader just now.

The readers (:func:`~winback.io.read_orders` ...) are the data gate: they parse, type and split
raw rows. A public function that takes a frame (``build_features``, ``score``, the report's KPIs)
calls :func:`check_frame` once, so a hand-made frame gets the same one-line error wherever it
enters; the code downstream of that call trusts the frame and checks nothing again. What it
checks comes from the table specs (:mod:`winback.io._tables`): the required columns are present,
have no missing values and have the contract's types (ids: integer or text; timestamps:
datetime64; money: finite numbers), and a unique key (customers' ``customer_id``) is unique.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from winback.exceptions import DataError
from winback.io._parse import parse_ids, parse_numbers, parse_timestamps
from winback.io._tables import CUSTOMERS, EVENTS, ORDERS, Table, TableColumn

__all__ = ["check_frame"]

TableName = Literal["orders", "events", "customers"]
_TABLES: dict[str, Table] = {"orders": ORDERS, "events": EVENTS, "customers": CUSTOMERS}


def check_frame(frame: object, table: TableName, *, where: str) -> None:
    """Raise :class:`DataError` unless ``frame`` follows the data contract of ``table``.

    Parameters
    ----------
    frame : DataFrame
        Orders, events or customers as the readers return them.
    table : {"orders", "events", "customers"}
        Which contract.
    where : str
        The function the frame was passed to, for the message.

    Examples
    --------
    >>> check_frame(pd.DataFrame({"customer_id": [1]}), "orders", where="build_features")
    Traceback (most recent call last):
    ...
    winback.exceptions.DataError: build_features: orders lack the column(s) ['order_ts', ...
    """
    spec = _TABLES[table]
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{where}: {table} must be a pandas DataFrame, got {type(frame).__name__}.")
    required = [c for c in spec.columns if c.required]
    missing = [c.name for c in required if c.name not in frame.columns]
    if missing:
        raise DataError(
            f"{where}: {table} lack the column(s) {missing}; expected at least "
            f"{[c.name for c in required]}, found {list(map(str, frame.columns))}. "
            f"Read them with winback.{spec.reader}, which validates and types them."
        )
    for column in required:
        _check_column(frame, table, column, spec, where=where)
    for column in spec.columns:
        if column.unique and column.name in frame.columns:
            _check_unique(frame[column.name], table, column.name, where=where)


def _check_column(
    frame: pd.DataFrame, table: str, column: TableColumn, spec: Table, *, where: str
) -> None:
    values = frame[column.name]
    name = f"{table}.{column.name}"
    fix = f"Read the {table} with winback.{spec.reader}, which validates and types them."
    if column.parse is parse_timestamps and not pd.api.types.is_datetime64_any_dtype(values):
        raise DataError(f"{where}: {name} must hold datetimes, got dtype {values.dtype}. {fix}")
    if column.parse is parse_numbers and not pd.api.types.is_numeric_dtype(values):
        raise DataError(f"{where}: {name} must be numeric, got dtype {values.dtype}. {fix}")
    if column.parse is parse_ids and not (
        pd.api.types.is_integer_dtype(values) or pd.api.types.is_string_dtype(values)
    ):
        raise DataError(
            f"{where}: {name} must hold integers or text, got dtype {values.dtype}. {fix}"
        )
    bad = _missing(values)
    if bad.any():
        first = values.index[np.flatnonzero(bad)[0]]
        raise DataError(
            f"{where}: {name} has {int(bad.sum())} missing"
            f"{' or infinite' if column.parse is parse_numbers else ''} values (first at row "
            f"{first!r}); every row needs one. {fix}"
        )


def _missing(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return ~np.isfinite(values.to_numpy(dtype=np.float64, na_value=np.nan))
    return values.isna().to_numpy()


def _check_unique(ids: pd.Series, table: str, name: str, *, where: str) -> None:
    repeated = ids[ids.duplicated()]
    if len(repeated):
        raise DataError(
            f"{where}: {table}.{name} must be unique, but {repeated.nunique()} ids repeat "
            f"(first: {repeated.iloc[0]!r} at row {repeated.index[0]!r}). Keep one row per "
            "customer; winback.read_customers resolves repeated rows."
        )
