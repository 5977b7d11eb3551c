"""The tables of the data contract as data: each column, how it parses, which checks apply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from winback.io._columns import (
    CustomersColumns,
    EventsColumns,
    OrdersColumns,
    _Columns,
)
from winback.io._parse import (
    Parsed,
    parse_flags,
    parse_ids,
    parse_numbers,
    parse_text,
    parse_timestamps,
)

__all__ = [
    "CUSTOMERS",
    "EVENTS",
    "ORDERS",
    "PARSE_PROBLEMS",
    "Table",
    "TableColumn",
    "orders_columns",
    "purchase_mask",
]


@dataclass(frozen=True)
class TableColumn:
    """One canonical column: how to parse it and which row checks apply."""

    name: str
    parse: Callable[[pd.Series], Parsed]
    required: bool = False
    unique: bool = False
    nonnegative: bool = False
    stamped: bool = False  # compared with ``end``
    fill: object = None  # value of every row when the column is absent (None: leave it out)


PARSE_PROBLEMS = {
    parse_timestamps: (
        "dates",
        "write the values as ISO 8601, e.g. '2021-03-01' or '2021-03-01T14:30:00+01:00', or "
        "give their format (date_format='%d.%m.%Y', CLI --date-format, config "
        "data.date_format)",
    ),
    parse_numbers: (
        "numbers",
        "write plain numbers with a '.' decimal point, no currency sign or thousands "
        "separator, e.g. 1234.5",
    ),
    parse_flags: ("true/false flags", "write true/false, yes/no or 1/0"),
}


def _key(raw: pd.Series) -> Parsed:
    return parse_text(raw, strip=True)


@dataclass(frozen=True)
class Table:
    """A table of the data contract: its name, reader, mapping model and columns."""

    name: str
    reader: str
    model: type[_Columns]
    columns: tuple[TableColumn, ...]


ORDERS = Table(
    "orders",
    "read_orders",
    OrdersColumns,
    (
        TableColumn("customer_id", parse_ids, required=True),
        TableColumn("order_ts", parse_timestamps, required=True, stamped=True),
        TableColumn("amount", parse_numbers, required=True),
        TableColumn("order_id", _key),  # lines sharing one are aggregated
        TableColumn("quantity", parse_numbers),
        TableColumn("discount", parse_numbers, nonnegative=True),
        TableColumn("category", parse_text),
        TableColumn("channel", parse_text),
    ),
)
EVENTS = Table(
    "events",
    "read_events",
    EventsColumns,
    (
        TableColumn("customer_id", parse_ids, required=True),
        TableColumn("event_ts", parse_timestamps, required=True, stamped=True),
        TableColumn("event_type", parse_text, required=True),
        TableColumn("value", parse_numbers, fill=np.nan),
    ),
)
CUSTOMERS = Table(
    "customers",
    "read_customers",
    CustomersColumns,
    (
        TableColumn("customer_id", parse_ids, required=True, unique=True),
        TableColumn("email", parse_text),
        TableColumn("phone", parse_text),
        TableColumn("signup_ts", parse_timestamps, stamped=True),
        TableColumn("marketing_opt_in", parse_flags, fill=False),
        TableColumn("country", parse_text),
        TableColumn("postal_address", parse_text),  # the mail channel's address
    ),
)


def orders_columns(mapping: OrdersColumns) -> tuple[TableColumn, ...]:
    """Orders columns; with ``price`` mapped, price and quantity replace amount (computed later)."""
    if mapping.price is None:
        return ORDERS.columns
    price = TableColumn("price", parse_numbers, required=True)
    quantity = TableColumn("quantity", parse_numbers, required=True)
    swap = {"amount": price, "quantity": quantity}
    return tuple(swap.get(c.name, c) for c in ORDERS.columns)


def purchase_mask(orders: pd.DataFrame) -> np.ndarray:
    """Boolean per row of validated orders: is the order a purchase?

    A purchase is an order with a positive amount, or a free one: amount 0 and a positive
    ``quantity`` (CDNOW's free CDs). Any other order -- a negative amount, or 0 with no positive
    quantity (lines that cancel out) -- is a cancellation, refund or return: it reduces money
    but never counts as an order, a purchase day, for recency or for a label.
    """
    amount = _floats(orders["amount"])
    mask = amount > 0
    if "quantity" in orders.columns:
        mask |= (amount == 0) & (_floats(orders["quantity"]) > 0)
    return mask


def _floats(values: pd.Series) -> np.ndarray:
    """The values as float64, without a copy when they already are (NA as NaN)."""
    if values.dtype == np.float64:
        return values.to_numpy(copy=False)
    return values.to_numpy(dtype=np.float64, na_value=np.nan)
