"""The public namespace of winback.io and the examples in its docstrings."""

from __future__ import annotations

import doctest

import pytest

import winback.io
from winback.io import _columns, _database, _parquet, _read, _urls


def test_public_names_are_exported() -> None:
    assert sorted(winback.io.__all__) == [
        "Bucket",
        "CustomersColumns",
        "DataSource",
        "DuckDBSource",
        "EventsColumns",
        "OrdersColumns",
        "ParquetDataset",
        "PostgresSource",
        "ReadResult",
        "gate_rejects",
        "is_url",
        "open_source",
        "parse_columns_option",
        "read_customers",
        "read_events",
        "read_orders",
        "redact",
        "without_password",
        "write_atomic",
        "write_frame",
        "write_json",
    ]
    for name in winback.io.__all__:
        assert getattr(winback.io, name).__module__.startswith("winback.io.")


@pytest.mark.parametrize(
    "module", [_columns, _database, _parquet, _read, _urls], ids=lambda m: m.__name__
)
def test_docstring_examples_run(module: object) -> None:
    failed, attempted = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert attempted > 0
    assert failed == 0
