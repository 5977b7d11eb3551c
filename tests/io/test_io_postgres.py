"""PostgreSQL sources against a real server: names looked up (never run), queries read-only,
credentials from the URL or libpq's environment and never shown, buckets of whole customers."""

from __future__ import annotations

import dataclasses
import logging
import pickle
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest

from every_source import postgres_table, read_data, read_error
from postgres_server import PostgresServer
from winback.exceptions import ConfigError, DataError, RejectedRowsWarning
from winback.io import PostgresSource, read_orders

pytestmark = pytest.mark.xdist_group("postgres")

ORDERS = pd.DataFrame(
    {
        "customer_id": [1.0, 2.0, None, 1.0, 3.0, 4.0, 2.0, 5.0],
        "order_ts": pd.to_datetime([f"2021-01-0{d} 10:00" for d in range(1, 9)]),
        "amount": [10.0, 20.0, 5.0, 15.0, -3.0, 8.5, 1.25, 4.0],
        "order_id": [f"A{i}" for i in range(8)],
    }
)
HOSTILE = "we\"ird'; DROP TABLE victim; -- \u00fcn\u00ef"


@pytest.fixture(scope="module")
def shop(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> PostgresServer:
    """The server, connecting to a database of its own with tables ``orders``, ``sales.orders``
    (first 3 rows), ``victim`` and a table named :data:`HOSTILE` (last 2 rows)."""
    postgres.psql("-c", "DROP DATABASE IF EXISTS names", "-c", "CREATE DATABASE names")
    postgres = dataclasses.replace(postgres, database="names")
    folder = tmp_path_factory.mktemp("shop")
    csv = folder / "orders.csv"
    ORDERS.to_csv(csv, index=False)
    postgres_table(postgres, ORDERS, "orders", csv)
    ORDERS.head(3).to_csv(folder / "head.csv", index=False)
    ORDERS.tail(2).to_csv(folder / "tail.csv", index=False)
    postgres.psql("-c", "CREATE SCHEMA IF NOT EXISTS sales")
    postgres_table(postgres, ORDERS, "orders", folder / "head.csv", schema="sales")
    postgres_table(postgres, ORDERS, HOSTILE, folder / "tail.csv")
    postgres.psql("-c", "CREATE TABLE IF NOT EXISTS victim (a int)")
    return postgres


def _victim_exists(server: PostgresServer) -> bool:
    return server.psql("-c", "SELECT to_regclass('public.victim') IS NOT NULL") == "t\n"


def test_table_by_url_reads_through_the_gate(shop: PostgresServer) -> None:
    pd.testing.assert_frame_equal(read_data(f"{shop.url()}?table=orders"), read_data(ORDERS))
    pd.testing.assert_frame_equal(read_data(f"{shop.url()}?table=public.orders"), read_data(ORDERS))


def test_schema_qualified_table(shop: PostgresServer) -> None:
    pd.testing.assert_frame_equal(
        read_data(f"{shop.url()}?table=sales.orders"), read_data(ORDERS.head(3))
    )
    message = read_error(f"{shop.url()}?table=sales.nosuch")
    assert message == (
        f"Cannot read '{shop.url(password=False).replace('winback@', 'winback:***@')}"
        "?table=sales.nosuch': no table or view named 'nosuch' in schema 'sales'. "
        f"Tables found: 'public.orders', 'public.victim', {'public.' + HOSTILE!r}, "
        "'sales.orders'. Fix: name one of them, as schema.table when it is outside the search "
        "path."
    )


@pytest.mark.parametrize(
    "name",
    [
        "orders; DROP TABLE victim",
        'orders"; DROP TABLE victim; --',
        "orders' OR '1'='1",
        "public.orders; DROP TABLE victim",
        "victim\u037e DROP TABLE victim",  # a Greek question mark looks like ';'
    ],
)
def test_hostile_table_names_are_looked_up_never_run(shop: PostgresServer, name: str) -> None:
    source = PostgresSource(shop.url(), table=name)
    assert "no table or view named" in read_error(source)
    assert _victim_exists(shop)


def test_a_table_with_a_hostile_name_isread_data(shop: PostgresServer) -> None:
    url = f"{shop.url()}?table={quote(HOSTILE, safe='')}"
    pd.testing.assert_frame_equal(read_data(url), read_data(ORDERS.tail(2)))
    pd.testing.assert_frame_equal(
        read_data(PostgresSource(shop.url(), table=HOSTILE)), read_data(url)
    )
    assert _victim_exists(shop)


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ("", "table: expected a non-empty name without NUL characters, got ''."),
        ("a\x00b", "table: expected a non-empty name without NUL characters"),
        (".orders", "schema: expected a non-empty name"),
        ("x" * 64, "is longer than 63 bytes, the longest name PostgreSQL keeps"),
    ],
)
def test_invalid_table_names_are_config_errors(table: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem.replace("(", r"\(").replace(".", r"\.")):
        PostgresSource("postgresql://127.0.0.1/shop", table=table)


def test_query_by_url_and_in_python(shop: PostgresServer) -> None:
    sql = "SELECT * FROM orders WHERE amount > $$2$$::numeric AND order_id <> 'A3' ORDER BY amount"
    expected = read_data(
        ORDERS[(ORDERS["amount"] > 2) & (ORDERS["order_id"] != "A3")].sort_values("amount")
    )
    pd.testing.assert_frame_equal(read_data(f"{shop.url()}?query={quote(sql, safe='')}"), expected)
    pd.testing.assert_frame_equal(read_data(PostgresSource(shop.url(), query=sql + " ;")), expected)


def test_reads_run_in_a_read_only_transaction(shop: PostgresServer) -> None:
    settings = PostgresSource(
        shop.url(),
        query="SELECT current_setting('transaction_read_only') AS read_only, "
        "current_setting('synchronize_seqscans') AS synchronized",
    ).read()
    assert settings.to_dict("records") == [{"read_only": "on", "synchronized": "off"}]
    deleting = "WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone"
    message = read_error(PostgresSource(shop.url(), query=deleting))
    assert message.endswith(  # PostgreSQL names the statement: SELECT, for a writing CTE
        "the query failed: cannot execute SELECT in a read-only transaction (SQLSTATE 25006). "
        "Fix: winback runs queries read-only: select the rows, do not change them."
    )
    assert len(read_data(f"{shop.url()}?table=orders")) == 7  # nothing deleted
    message = read_error(
        PostgresSource(shop.url(), query="SELECT * FROM orders; DROP TABLE victim")
    )
    assert "the query failed: cannot insert multiple commands into a prepared statement" in message
    assert _victim_exists(shop)


def test_password_from_pgpassword(shop: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSWORD", shop.password)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")
    assert len(read_data(f"{shop.url(password=False)}?table=orders")) == 7


def test_password_from_a_pgpass_file(
    shop: PostgresServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{shop.port}:{shop.database}:{shop.role}:{shop.password}\n")
    pgpass.chmod(0o600)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    assert len(read_data(f"{shop.url(password=False)}?table=orders")) == 7


def test_no_password_anywhere(shop: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")
    url = f"{shop.url(password=False)}?table=orders"
    assert read_error(url) == (
        f"Cannot read '{url}': cannot connect to PostgreSQL (connection to server at "
        f'"127.0.0.1", port {shop.port} failed: fe_sendauth: no password supplied). Fix: check '
        "the host, port and database in the URL; the password comes from the URL, PGPASSWORD "
        "or ~/.pgpass."
    )


@pytest.mark.parametrize(
    ("table", "query", "expected"),
    [
        ("nosuch", None, "no table or view named 'nosuch' in the search path"),
        (None, "SELECT nope FROM orders", 'column "nope" does not exist (SQLSTATE 42703)'),
        (  # the server echoes the value: the driver's message holds the password
            None,
            "SELECT 's3cret-Pa55'::int AS customer_id",
            'invalid input syntax for type integer: "***" (SQLSTATE 22P02)',
        ),
    ],
)
def test_password_never_in_error_messages(
    shop: PostgresServer, table: str | None, query: str | None, expected: str
) -> None:
    assert shop.password == "s3cret-Pa55"
    message = read_error(PostgresSource(shop.url(), table=table, query=query))
    assert shop.password not in message
    assert message.startswith(f"Cannot read 'postgresql://winback:***@127.0.0.1:{shop.port}/names")
    assert expected in message


def test_password_never_in_connection_errors(shop: PostgresServer) -> None:
    for url in (
        shop.url(database="nodb") + "?table=orders",
        shop.url().replace(shop.password, "wrong-Pa55") + "?table=orders",
        shop.url().replace(f":{shop.port}/", ":1/") + "?table=orders",
    ):
        message = read_error(url)
        assert "Pa55" not in message
        assert message.startswith("Cannot read 'postgresql://winback:***@127.0.0.1:")
        assert "cannot connect to PostgreSQL (connection to server at" in message


def test_password_never_in_logs_warnings_or_repr(
    shop: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"{shop.url()}?table=orders"
    with caplog.at_level(logging.DEBUG, logger="winback"), pytest.warns(RejectedRowsWarning) as w:
        read_orders(url)
    shown = [caplog.text, *(str(x.message) for x in w)]
    assert all(shop.password not in text for text in shown)
    assert f"winback:***@127.0.0.1:{shop.port}/names?table=orders: read 8 rows" in caplog.text
    source = PostgresSource(shop.url(), table="orders")
    assert shop.password not in repr(source) + source.label + repr(source.buckets(2))


def test_permission_denied_names_the_grant(shop: PostgresServer) -> None:
    shop.psql("-c", "DROP ROLE IF EXISTS reader", "-c", "CREATE ROLE reader LOGIN PASSWORD 'r-pw'")
    url = f"postgresql://reader:r-pw@127.0.0.1:{shop.port}/names?table=orders"
    assert read_error(url).endswith(
        "reading the table failed: permission denied for table orders (SQLSTATE 42501). "
        "Fix: ask for SELECT permission on the table (GRANT SELECT ON ... TO <user>)."
    )


def test_buckets_hold_whole_customers(shop: PostgresServer) -> None:
    source = PostgresSource(shop.url(), table="orders")
    whole = source.read()
    parts = [pickle.loads(pickle.dumps(bucket)).read() for bucket in source.buckets(3)]
    together = pd.concat(parts, ignore_index=True)
    key = ["order_id"]
    pd.testing.assert_frame_equal(
        together.sort_values(key, ignore_index=True), whole.sort_values(key, ignore_index=True)
    )
    ids = [set(part["customer_id"].dropna()) for part in parts]
    assert sum(len(i) for i in ids) == len(set().union(*ids)) == 5  # no customer in two buckets
    assert parts[0]["customer_id"].isna().sum() == 1  # the NULL id is in bucket 0
    query = PostgresSource(shop.url(), query="SELECT * FROM orders WHERE amount > 0")
    assert sum(len(b.read()) for b in query.buckets(2)) == 7
    with pytest.raises(DataError, match="has no column 'client'"):
        source.buckets(2, column="client")[0].read()
    with pytest.raises(ConfigError, match=r"Bucket count must be a positive integer, got 0"):
        source.buckets(0)
