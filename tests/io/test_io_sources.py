"""The same rows give the same result whether they come as CSV, Parquet or a DataFrame."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from every_source import MESSY_COLUMNS, MESSY_ORDERS, assert_same_results
from winback.exceptions import RejectedRowsWarning
from winback.io import ReadResult, read_customers, read_events, read_orders


def _read_all_three(
    reader: Callable[..., ReadResult], frame: pd.DataFrame, tmp_path: Path, **kwargs: object
) -> list[ReadResult]:
    csv, parquet = tmp_path / "data.csv", tmp_path / "data.parquet"
    frame.to_csv(csv, index=False)
    frame.to_parquet(parquet, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedRowsWarning)
        return [reader(source, **kwargs) for source in (frame, csv, parquet)]


def _assert_same(results: list[ReadResult]) -> None:
    assert_same_results(zip(("frame", "csv", "parquet"), results, strict=True))


def test_orders_from_csv_parquet_and_frame_are_identical(tmp_path: Path) -> None:
    results = _read_all_three(
        read_orders, MESSY_ORDERS, tmp_path, columns=MESSY_COLUMNS, end="2021-02-01"
    )
    _assert_same(results)
    data, rejects = results[0]
    assert data.to_dict("list") == {
        "customer_id": [13085, 17001],
        "order_ts": [pd.Timestamp("2021-01-01 09:00"), pd.Timestamp("2021-01-05 07:15")],
        "amount": [5.0, -8.5],
        "order_id": ["A1", "A6"],
        "quantity": [2.0, -2.0],
        "category": ["books", "Caf\u00e9, bar"],
    }
    assert rejects[["row", "reason"]].to_dict("list") == {
        "row": [2, 3, 4, 5],
        "reason": [
            "null customer_id",
            "null price",
            "duplicate order_id: first seen in row 1",
            "order_ts after end: 2021-02-28 23:00:00 > 2021-02-01",  # 03-01 00:00 in Paris
        ],
    }


def test_events_and_customers_from_all_three_sources_are_identical(tmp_path: Path) -> None:
    events = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", None],
            "event_ts": ["2021-01-01T10:00+02:00", "2021-01-02T08:00Z", "2021-01-03"],
            "event_type": ["email_open", "nps", "site_visit"],
            "value": [np.nan, 9.0, np.nan],
        }
    )
    _assert_same(_read_all_three(read_events, events, tmp_path))
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 2],
            "email": ["a@x.org", None, "b@x.org"],
            "signup_ts": pd.to_datetime(["2020-01-01", None, "2020-03-01"]),
            "marketing_opt_in": [True, False, True],
            "country": ["NA", "GB", None],
        }
    )
    results = _read_all_three(read_customers, customers, tmp_path)
    _assert_same(results)
    assert results[0].data["country"].tolist() == ["NA", "GB"]  # Namibia is not missing


def test_csv_values_are_kept_as_written_in_rejects(write_file: Callable[..., Path]) -> None:
    path = write_file("orders.csv", "customer_id,order_ts,amount\n007,2021-01-01,1\n,x,NA\n")
    with pytest.warns(RejectedRowsWarning):
        data, rejects = read_orders(path)
    assert data["customer_id"].tolist() == ["007"]
    assert rejects.to_dict("list") == {
        "row": [2],
        "reason": ["null customer_id; unparseable order_ts: 'x'; null amount"],
        "customer_id": [""],
        "order_ts": ["x"],
        "amount": ["NA"],
    }


@pytest.mark.parametrize("suffix", [".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip"])
def test_compressed_csv(tmp_path: Path, suffix: str) -> None:
    frame = pd.DataFrame({"customer_id": [1], "order_ts": ["2021-01-01"], "amount": [2.0]})
    path = tmp_path / f"orders{suffix}"
    frame.to_csv(path, index=False)
    assert read_orders(str(path)).data["amount"].tolist() == [2.0]


def test_utf8_byte_order_mark_is_accepted(write_file: Callable[..., Path]) -> None:
    path = write_file("orders.csv", "\ufeffcustomer_id,order_ts,amount\n1,2021-01-01,2\n")
    assert read_orders(path).data.columns.tolist() == ["customer_id", "order_ts", "amount"]


def test_quoted_newlines_in_csv_values(write_file: Callable[..., Path]) -> None:
    path = write_file(
        "orders.csv", 'customer_id,order_ts,amount,category\n1,2021-01-01,2,"two\nlines"\n'
    )
    assert read_orders(path).data["category"].tolist() == ["two\nlines"]


def test_encoded_csv_with_cp1252(write_file: Callable[..., Path]) -> None:
    path = write_file(
        "orders.csv",
        "customer_id,order_ts,amount,channel\n1,2021-01-01,2,caf\u00e9 \u20ac\n",
        encoding="cp1252",
    )
    assert read_orders(path, encoding="cp1252").data["channel"].tolist() == ["caf\u00e9 \u20ac"]
