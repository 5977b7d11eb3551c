"""Tests of winback.datasets.load_cdnow against the bundled CDNOW files."""

from __future__ import annotations

import gzip
from datetime import datetime
from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from winback.datasets import load_cdnow


def _parse_by_hand(name: str, *, has_sample_id: bool) -> pd.DataFrame:
    """An independent line-by-line parse of a CDNOW file (customer, date, CDs, dollars)."""
    rows = []
    with gzip.open(files("winback.datasets") / "data" / name, "rt") as fh:
        for line in fh:
            fields = line.split()
            if not fields or not fields[0].isdigit():
                continue  # the master file's header
            if has_sample_id:
                fields = [fields[0], *fields[2:]]
            customer, day, cds, dollars = fields
            when = datetime(int(day[:4]), int(day[4:6]), int(day[6:]))
            rows.append((int(customer), when, float(cds), float(dollars)))
    frame = pd.DataFrame(rows, columns=["customer_id", "order_ts", "quantity", "amount"])
    return frame[["customer_id", "order_ts", "amount", "quantity"]].astype(
        {"order_ts": "datetime64[ns]"}
    )


@pytest.fixture(scope="module")
def master() -> pd.DataFrame:
    return load_cdnow()


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return load_cdnow(sample=True)


@pytest.mark.parametrize(
    ("sample_flag", "rows", "customers"), [(False, 69_659, 23_570), (True, 6_919, 2_357)]
)
def test_sizes_and_period_match_the_published_dataset(sample_flag, rows, customers):
    orders = load_cdnow(sample=sample_flag)
    assert len(orders) == rows
    assert orders["customer_id"].nunique() == customers
    assert orders["order_ts"].min() == pd.Timestamp("1997-01-01")
    assert orders["order_ts"].max() == pd.Timestamp("1998-06-30")


@pytest.mark.parametrize("sample_flag", [False, True])
def test_columns_and_dtypes_follow_the_data_contract(sample_flag):
    orders = load_cdnow(sample=sample_flag)
    assert orders.dtypes.to_dict() == {
        "customer_id": np.dtype("int64"),
        "order_ts": np.dtype("datetime64[ns]"),
        "amount": np.dtype("float64"),
        "quantity": np.dtype("float64"),
    }
    assert orders["order_ts"].dt.tz is None
    assert (orders["order_ts"] == orders["order_ts"].dt.normalize()).all()


@pytest.mark.parametrize(
    ("name", "sample_flag", "has_sample_id"),
    [("CDNOW_master.txt.gz", False, False), ("CDNOW_sample.txt.gz", True, True)],
)
def test_rows_equal_an_independent_parse_of_the_file(name, sample_flag, has_sample_id):
    expected = _parse_by_hand(name, has_sample_id=has_sample_id)
    pd.testing.assert_frame_equal(load_cdnow(sample=sample_flag), expected)


def test_known_first_orders_are_read_as_in_the_file(master):
    # First lines of CDNOW_master: 00001 19970101 1 11.77 / 00002 19970112 1 12.00 / ... 5 77.00
    first_three = master.head(3)
    assert first_three["customer_id"].tolist() == [1, 2, 2]
    assert first_three["order_ts"].tolist() == [pd.Timestamp("1997-01-01")] + 2 * [
        pd.Timestamp("1997-01-12")
    ]
    assert first_three["quantity"].tolist() == [1.0, 1.0, 5.0]
    assert first_three["amount"].tolist() == [11.77, 12.00, 77.00]


def test_amounts_are_dollars_and_quantities_are_whole_cds(master):
    assert (master["amount"] >= 0).all()
    assert master["amount"].between(0, 1_300).all()  # the largest CDNOW order is $1,286.01
    assert master["amount"].max() == 1286.01
    assert (master["quantity"] >= 1).all()
    assert (master["quantity"] == master["quantity"].round()).all()


def test_sample_customers_are_a_subset_of_the_masters_with_the_same_orders(master, sample):
    sample_ids = set(sample["customer_id"])
    assert sample_ids <= set(master["customer_id"])
    same_customers = master[master["customer_id"].isin(sample_ids)]
    # the sample file is ordered by its own sample id, not the customer id: compare sorted rows
    columns = ["customer_id", "order_ts", "amount", "quantity"]
    pd.testing.assert_frame_equal(
        sample.sort_values(columns, ignore_index=True),
        same_customers.sort_values(columns, ignore_index=True),
    )


def test_each_call_returns_an_independent_copy():
    first = load_cdnow(sample=True)
    first.loc[0, "amount"] = -1.0
    del first["quantity"]
    again = load_cdnow(sample=True)
    assert again.loc[0, "amount"] == 29.33
    assert "quantity" in again.columns


def test_sample_is_keyword_only():
    with pytest.raises(TypeError):
        load_cdnow(True)  # type: ignore[misc]
