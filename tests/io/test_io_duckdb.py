"""DuckDB sources: tables by name (never run as SQL), queries on a read-only file, buckets."""

from __future__ import annotations

import pickle
from pathlib import Path
from urllib.parse import quote

import duckdb
import pandas as pd
import pytest

from every_source import duckdb_table, read_data, read_error
from winback.exceptions import ConfigError, DataError
from winback.io import DuckDBSource, open_source

ORDERS = pd.DataFrame(
    {
        "customer_id": [1.0, 2.0, None, 1.0, 3.0, 4.0],
        "order_ts": pd.to_datetime([f"2021-01-0{d}" for d in range(1, 7)]),
        "amount": [10.0, 20.0, 5.0, 15.0, -3.0, 8.5],
        "order_id": [f"A{i}" for i in range(6)],
    }
)
HOSTILE = "we\"ird'; DROP TABLE victim; -- \u00fcn\u00ef"


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.duckdb"
    duckdb_table(path, ORDERS, "orders")
    duckdb_table(path, ORDERS.tail(2), HOSTILE)
    duckdb_table(path, ORDERS.head(1), "victim")
    return path


def _tables(path: Path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return sorted(row[0] for row in connection.execute("SHOW TABLES").fetchall())


def test_table_by_url_and_in_python(shop: Path) -> None:
    expected = read_data(ORDERS)
    pd.testing.assert_frame_equal(read_data(f"duckdb://{shop}?table=orders"), expected)
    pd.testing.assert_frame_equal(read_data(f"duckdb://{shop}?table=main.orders"), expected)
    pd.testing.assert_frame_equal(read_data(DuckDBSource(shop, table="orders")), expected)


def test_relative_paths_follow_the_base_folder(shop: Path) -> None:
    source = open_source("duckdb://shop.duckdb?table=orders", base=shop.parent)
    assert source == DuckDBSource(shop, table="orders", name="duckdb://shop.duckdb?table=orders")
    pd.testing.assert_frame_equal(read_data(source), read_data(ORDERS))


def test_hostile_names_are_names(shop: Path) -> None:
    message = read_error(DuckDBSource(shop, table="orders; DROP TABLE victim"))
    assert message == (
        f"Cannot read 'duckdb://{shop}?table=orders; DROP TABLE victim': no table or view named "
        "'orders; DROP TABLE victim' in the database. Tables found: 'main.orders', "
        f"'main.victim', {'main.' + HOSTILE!r}. Fix: name one of them."
    )
    url = f"duckdb://{shop}?table={quote(HOSTILE, safe='')}"
    pd.testing.assert_frame_equal(read_data(url), read_data(ORDERS.tail(2)))
    assert _tables(shop) == sorted(["orders", "victim", HOSTILE])


def test_queries_run_on_a_read_only_file(shop: Path) -> None:
    sql = "SELECT * FROM orders WHERE amount > 9 ORDER BY amount DESC;"
    expected = read_data(ORDERS[ORDERS["amount"] > 9].sort_values("amount", ascending=False))
    pd.testing.assert_frame_equal(read_data(DuckDBSource(shop, query=sql)), expected)
    message = read_error(DuckDBSource(shop, query="DROP TABLE victim"))
    assert "attached in read-only mode" in message
    assert message.endswith(
        "Fix: winback runs queries read-only: select the rows, do not change them."
    )
    assert "victim" in _tables(shop)


def test_file_errors(shop: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.duckdb"
    assert read_error(f"duckdb://{missing}?table=orders").startswith(
        f"Cannot read 'duckdb://{missing}?table=orders': database file not found"
    )
    not_duckdb = tmp_path / "orders.duckdb"
    not_duckdb.write_text("customer_id,order_ts,amount\n")
    message = read_error(f"duckdb://{not_duckdb}?table=orders")
    assert message.startswith(
        f"Cannot read 'duckdb://{not_duckdb}?table=orders': reading the table failed:"
    )
    with pytest.raises(ConfigError, match="no table or query is given"):
        open_source(f"duckdb://{shop}")


def test_buckets_hold_whole_customers(shop: Path) -> None:
    source = DuckDBSource(shop, table="orders")
    parts = [pickle.loads(pickle.dumps(bucket)).read() for bucket in source.buckets(3)]
    together = pd.concat(parts, ignore_index=True).sort_values("order_id", ignore_index=True)
    pd.testing.assert_frame_equal(together, source.read())
    ids = [set(part["customer_id"].dropna()) for part in parts]
    assert sum(len(i) for i in ids) == len(set().union(*ids)) == 4
    assert repr(source.buckets(3)[2]) == (
        f"DuckDBSource('duckdb://{shop}?table=orders (bucket 2 of 3 by customer_id)')"
    )
    with pytest.raises(DataError, match="it has no column 'client'"):
        source.buckets(2, column="client")[0].read()
