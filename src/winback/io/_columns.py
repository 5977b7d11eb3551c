"""Column mappings: which source column holds each canonical column of orders, events, customers.

A mapping names, for each canonical column, the column of the user's file that holds it
(``{"customer_id": "Customer ID", "order_ts": "InvoiceDate"}``). Unmapped canonical columns are
looked up under their own name. The same mapping is accepted as a Python ``dict``, as a
``data.columns`` config key (a plain dict validated by the model) and as the CLI text
``"customer_id=Customer ID,order_ts=InvoiceDate"`` (:func:`parse_columns_option`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from winback.exceptions import ConfigError
from winback.validation import short_repr, validated

__all__ = [
    "COLUMNS_OPTIONS",
    "ColumnsArg",
    "CustomersColumns",
    "EventsColumns",
    "OrdersColumns",
    "parse_columns_option",
    "resolve_columns",
]


def _source_name(value: object) -> object:
    if value is not None and not (isinstance(value, str) and value.strip()):
        raise ValueError(
            f"expected the name of a source column (non-empty text), got {short_repr(value)}"
        )
    return value


SourceName = Annotated[str | None, BeforeValidator(_source_name)]
_SourceName = Field(default=None, description="Name of the source column.")


class _Columns(BaseModel):
    """Base of the mappings: every field is the source column name of one canonical column."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def source_of(self, canonical: str) -> str:
        """Return the source column of ``canonical``: the mapped name, else ``canonical`` itself."""
        mapped = getattr(self, canonical)
        return canonical if mapped is None else mapped


class OrdersColumns(_Columns):
    """Source column names of the orders columns (``None``: the column has its canonical name).

    ``price`` is not a canonical column: when it is mapped and ``amount`` is not, the reader
    computes ``amount = price * quantity`` (line-item files such as UCI Online Retail II, which
    have ``Price`` and ``Quantity`` but no line total). Mapping both ``amount`` and ``price`` is
    an error.

    Examples
    --------
    >>> OrdersColumns.model_validate(
    ...     {"customer_id": "Customer ID", "order_ts": "InvoiceDate",
    ...      "price": "Price", "quantity": "Quantity"}
    ... ).source_of("order_ts")
    'InvoiceDate'
    """

    customer_id: SourceName = _SourceName
    order_ts: SourceName = _SourceName
    amount: SourceName = _SourceName
    price: SourceName = _SourceName
    order_id: SourceName = _SourceName
    quantity: SourceName = _SourceName
    discount: SourceName = _SourceName
    category: SourceName = _SourceName
    channel: SourceName = _SourceName

    @model_validator(mode="after")
    def _amount_or_price(self) -> OrdersColumns:
        if self.amount is not None and self.price is not None:
            raise ValueError(
                "map either amount (the order's money) or price (unit price; amount = price x "
                f"quantity), not both: got amount={self.amount!r} and price={self.price!r}"
            )
        return self


class EventsColumns(_Columns):
    """Source column names of the events columns (``None``: the canonical name)."""

    customer_id: SourceName = _SourceName
    event_ts: SourceName = _SourceName
    event_type: SourceName = _SourceName
    value: SourceName = _SourceName


class CustomersColumns(_Columns):
    """Source column names of the customers columns (``None``: the canonical name)."""

    customer_id: SourceName = _SourceName
    email: SourceName = _SourceName
    phone: SourceName = _SourceName
    signup_ts: SourceName = _SourceName
    marketing_opt_in: SourceName = _SourceName
    country: SourceName = _SourceName
    postal_address: SourceName = _SourceName


ColumnsArg = _Columns | Mapping[str, str] | None
_EXAMPLES = {
    "orders": "customer_id=Customer ID,order_ts=InvoiceDate",
    "events": "customer_id=User,event_ts=Time,event_type=Event",
    "customers": "customer_id=Customer ID,marketing_opt_in=Newsletter",
}
#: The command-line option that maps each table's columns (on every command reading that table).
COLUMNS_OPTIONS: Mapping[str, str] = {
    "orders": "--columns",
    "events": "--event-columns",
    "customers": "--customer-columns",
}
_M = TypeVar("_M", bound=_Columns)
_MODELS: dict[str, type[_Columns]] = {
    "orders": OrdersColumns,
    "events": EventsColumns,
    "customers": CustomersColumns,
}


def resolve_columns(columns: ColumnsArg, model: type[_M]) -> _M:
    """Return ``columns`` as a validated ``model``; a bad key or value raises ConfigError."""
    if columns is None:
        return model()
    if isinstance(columns, model):
        return columns
    if isinstance(columns, _Columns):
        raise ConfigError(
            f"columns: expected a {model.__name__} or a dict, got a {type(columns).__name__}."
        )
    if not isinstance(columns, Mapping):
        raise ConfigError(
            f"columns: expected a mapping of canonical column to source column name, "
            f"got {short_repr(columns)}."
        )
    return validated(model, dict(columns), source="columns", what=f"{model.__name__} mapping")


def parse_columns_option(
    text: str, *, table: Literal["orders", "events", "customers"] = "orders"
) -> dict[str, str]:
    """Parse the CLI form ``"customer_id=Customer ID,order_ts=InvoiceDate"`` into a dict.

    Entries are separated by commas; each is ``canonical=source``, split at the first ``=`` and
    stripped of surrounding spaces (so source names may contain spaces and ``=``, not commas).
    The keys are checked against the mapping model of ``table``; messages name the table's
    option (:data:`COLUMNS_OPTIONS`).

    Raises
    ------
    ConfigError
        On an entry without ``=``, an empty name, a key given twice or a key that is not a
        column of ``table``; the message names the entry.

    Examples
    --------
    >>> parse_columns_option("customer_id=Customer ID,order_ts=InvoiceDate,price=Price")
    {'customer_id': 'Customer ID', 'order_ts': 'InvoiceDate', 'price': 'Price'}
    """
    option = COLUMNS_OPTIONS[table]
    form = f'"canonical=source,canonical=source", e.g. "{_EXAMPLES[table]}"'
    mapping: dict[str, str] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        key, sep, value = (piece.strip() for piece in entry.partition("="))
        if not sep or not key or not value:
            raise ConfigError(f"{option}: cannot read entry {entry!r}; expected {form}.")
        if key in mapping:
            raise ConfigError(f"{option}: {key!r} is given twice; give each column once.")
        mapping[key] = value
    if not mapping:
        raise ConfigError(f"{option}: no mapping found in {text!r}; expected {form}.")
    validated(_MODELS[table], mapping, source=option, what=f"{table} column mapping")
    return mapping
