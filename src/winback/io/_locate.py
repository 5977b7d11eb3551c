"""Finding each canonical column in a source: the mapping, and what to suggest when it is absent.

A missing or misnamed column gets a concrete fix: the likely source column (by synonym or close
spelling), the mapping to write in Python and on the CLI, or the separator the header suggests.
"""

from __future__ import annotations

import difflib
import re

import pandas as pd

from winback.io._columns import (
    COLUMNS_OPTIONS,
    _Columns,
)
from winback.io._tables import Table, TableColumn

__all__ = ["locate_columns", "mapping_fix", "suggest_column"]

_SYNONYMS = {
    "customer_id": {"customer", "customerid", "custid", "clientid", "userid", "memberid"},
    "order_ts": {
        "invoicedate",
        "orderdate",
        "date",
        "timestamp",
        "orderts",
        "purchasedate",
        "datetime",
        "createdat",
        "ordertime",
    },
    "amount": {"total", "revenue", "sales", "ordervalue", "totalamount", "amount", "linetotal"},
    "price": {"price", "unitprice"},
    "quantity": {"quantity", "qty", "units"},
    "order_id": {"invoice", "invoiceno", "orderid", "ordernumber", "transactionid"},
    "event_ts": {"timestamp", "eventtime", "eventdate", "date", "datetime", "createdat"},
    "event_type": {"event", "type", "eventname", "action"},
    "signup_ts": {"signupdate", "createdat", "registrationdate", "registered", "signup"},
    "marketing_opt_in": {
        "optin",
        "marketingoptin",
        "consent",
        "emailoptin",
        "subscribed",
        "acceptsmarketing",
    },
}


def _normal(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def suggest_column(canonical: str, found: pd.Index) -> str | None:
    """The source column that most likely holds ``canonical`` (by name), if any."""
    wanted = {_normal(canonical)} | _SYNONYMS.get(canonical, set())
    for exact in (True, False):
        for column in found:
            normal = _normal(column)
            if (normal in wanted) if exact else any(w in normal for w in wanted if len(w) > 3):
                return str(column)
    return None


def mapping_fix(pairs: dict[str, str], table: Table) -> str:
    """The mapping ``pairs`` as written in Python and with the CLI option that maps ``table``."""
    python = "{" + ", ".join(f"{k!r}: {v!r}" for k, v in pairs.items()) + "}"
    cli = ",".join(f"{k}={v}" for k, v in pairs.items())
    return f'columns={python} (CLI: {COLUMNS_OPTIONS[table.name]} "{cli}")'


def locate_columns(
    raw: pd.DataFrame, columns: tuple[TableColumn, ...], mapping: _Columns, table: Table
) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """Source column of each canonical column present, the problems, the suggested mapping."""
    located: dict[str, str] = {}
    problems: list[str] = []
    fixes: dict[str, str] = {}
    found = raw.columns
    separator = _separator(found)
    if separator is not None:
        return located, [_wrong_separator(separator, table)], fixes
    for column in columns:
        source = mapping.source_of(column.name)
        count = int((found == source).sum())
        if count == 1:
            located[column.name] = source
        elif count > 1:
            problems.append(
                f"column {source!r} appears {count} times. Fix: give the columns unique names."
            )
        elif getattr(mapping, column.name) is not None:
            problems.append(_absent_mapped(column.name, source, found))
        elif column.required:
            problems.append(_missing_required(column.name, found, table))
            fixes.update(_suggested_mapping(column.name, found))
    return located, problems, fixes


def _separator(found: pd.Index) -> str | None:
    """The separator of a header read as one column, e.g. ``'a;b;c'`` gives ``';'``."""
    if len(found) != 1:
        return None
    return next((s for s in (";", "\t", "|") if s in str(found[0])), None)


def _wrong_separator(separator: str, table: Table) -> str:
    return (
        f"the header was read as one column: it looks {separator!r}-separated, and winback reads "
        f"comma-separated files. Fix: save the file comma-separated, or pass a DataFrame, e.g. "
        f"{table.reader}(pd.read_csv(path, sep={separator!r}))."
    )


def _absent_mapped(canonical: str, source: str, found: pd.Index) -> str:
    same = [c for c in found if _normal(c) == _normal(source)]
    close = same or difflib.get_close_matches(source, [str(c) for c in found], n=1)
    hint = f"Did you mean {str(close[0])!r}? " if close else ""
    return (
        f"columns maps {canonical!r} to {source!r}, which is not a column of the source. "
        f"{hint}Fix: correct the mapping (column names are case- and space-sensitive)."
    )


def _suggested_mapping(canonical: str, found: pd.Index) -> dict[str, str]:
    """The mapping that would most likely supply ``canonical`` (empty when nothing fits)."""
    guess = suggest_column(canonical, found)
    if guess is not None:
        return {canonical: guess}
    price, quantity = suggest_column("price", found), suggest_column("quantity", found)
    if canonical == "amount" and price and quantity:
        return {"price": price, "quantity": quantity}
    return {}


def _missing_required(canonical: str, found: pd.Index, table: Table) -> str:
    suggested = _suggested_mapping(canonical, found)
    if "price" in suggested:
        fix = f"Fix: compute amount = price x quantity by mapping {mapping_fix(suggested, table)}"
    else:
        fix = f"Fix: map it, e.g. {mapping_fix(suggested or {canonical: '<your column>'}, table)}"
        if canonical == "amount":
            fix += ", or map price and quantity to compute amount = price x quantity"
    return f"required column {canonical!r} is missing. {fix}."
