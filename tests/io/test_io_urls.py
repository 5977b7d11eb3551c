"""Source URLs: the forms winback reads, their errors, and passwords masked or removed."""

from __future__ import annotations

import pytest

from winback.exceptions import ConfigError
from winback.io import DuckDBSource, PostgresSource, is_url, open_source, redact, without_password
from winback.io._urls import parse_url, scrub


@pytest.mark.parametrize(
    ("url", "target", "table", "query"),
    [
        (
            "postgresql://ann:pw@db:5433/shop?table=orders",
            "postgresql://ann:pw@db:5433/shop",
            "orders",
            None,
        ),
        (
            "postgres://db/shop?sslmode=require&table=s.o",
            "postgresql://db/shop?sslmode=require",
            "s.o",
            None,
        ),
        ("postgresql:///shop?query=SELECT%201+2", "postgresql:///shop", None, "SELECT 1+2"),
        ("duckdb:///data/shop.duckdb?table=orders", "/data/shop.duckdb", "orders", None),
        ("duckdb://data/my%20shop.duckdb?query=FROM%20t", "data/my shop.duckdb", None, "FROM t"),
    ],
)
def test_url_forms(url: str, target: str, table: str | None, query: str | None) -> None:
    parsed = parse_url(url)
    assert (parsed.target, parsed.table, parsed.query) == (target, table, query)
    assert is_url(url)


def test_open_source_returns_the_source_objects() -> None:
    assert open_source("postgresql://ann:pw@db/shop?table=orders") == PostgresSource(
        "postgresql://ann:pw@db/shop",
        table="orders",
        name="postgresql://ann:***@db/shop?table=orders",
    )
    assert open_source("duckdb:///x.duckdb?query=FROM%20t") == DuckDBSource(
        "/x.duckdb", query="FROM t", name="duckdb:///x.duckdb?query=FROM%20t"
    )
    assert not is_url("data/orders.csv") and not is_url("C:\\data\\orders.csv")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            "mysql://ann:pw@db/shop?table=t",
            "'mysql://ann:***@db/shop?table=t': unsupported URL scheme",
        ),
        ("postgresql://db/shop", "'postgresql://db/shop': no table or query is given"),
        ("postgresql://db/shop?table=a&query=b", "both a table and a query are given"),
        ("postgresql://db/shop?table=a&table=b", "table= is given twice"),
        ("postgresql://db/shop?query=SELECT 1 # x", "'#' would start a URL fragment"),
        ("duckdb://?table=t", "no database file"),
    ],
)
def test_malformed_urls_are_config_errors(url: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        open_source(url)
    assert problem in str(caught.value)
    assert "pw" not in str(caught.value).replace("pw@", "")


@pytest.mark.parametrize(
    ("text", "masked", "removed"),
    [
        (
            "postgresql://ann:hunter2@db/shop?table=o",
            "postgresql://ann:***@db/shop?table=o",
            "postgresql://ann@db/shop?table=o",
        ),
        (
            "postgresql://ann@db/shop?table=o",
            "postgresql://ann@db/shop?table=o",
            "postgresql://ann@db/shop?table=o",
        ),
        (
            "postgresql://db/shop?password=hunter2&table=o",
            "postgresql://db/shop?password=***&table=o",
            "postgresql://db/shop?table=o",
        ),
        (
            "postgresql://db/shop?table=o&sslpassword=k",
            "postgresql://db/shop?table=o&sslpassword=***",
            "postgresql://db/shop?table=o",
        ),
        (
            "postgresql://ann:hu/n#t@er@db/shop",
            "postgresql://ann:***@db/shop",
            "postgresql://ann@db/shop",
        ),
        ("data/orders.csv", "data/orders.csv", "data/orders.csv"),
    ],
)
def test_passwords_masked_or_removed(text: str, masked: str, removed: str) -> None:
    assert redact(text) == masked
    assert without_password(text) == removed


def test_redact_masks_every_url_in_a_text_and_scrub_the_password_anywhere() -> None:
    text = "from postgresql://a:pw1@h/d to postgres://b:pw2@h/d"
    assert redact(text) == "from postgresql://a:***@h/d to postgres://b:***@h/d"
    url = "postgresql://ann:hunter2@db/shop"
    assert scrub('invalid input syntax: "hunter2"', url) == 'invalid input syntax: "***"'
