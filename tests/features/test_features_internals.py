"""The sorted order log's building blocks against naive implementations."""

from __future__ import annotations

import numpy as np
import pandas as pd
from features_testing import make_orders, order_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from winback.features._log import _sorted_keys, prepare_orders, segment_reduce


@st.composite
def runs(draw):
    """Values and a (m, k + 1) bounds matrix whose flattened rows never decrease."""
    n = draw(st.integers(0, 30))
    values = np.array(draw(st.lists(st.integers(-50, 50), min_size=n, max_size=n)), dtype=float)
    m = draw(st.integers(1, 6))
    width = draw(st.integers(2, 4))
    flat = sorted(draw(st.lists(st.integers(0, n), min_size=m * width, max_size=m * width)))
    return values, np.array(flat, dtype=np.int64).reshape(m, width)


@settings(max_examples=200, deadline=None)
@given(case=runs())
def test_segment_reduce_equals_reducing_each_run_alone(case):
    values, bounds = case
    summed = segment_reduce(np.add, values, bounds, empty=0.0)
    largest = segment_reduce(np.maximum, values, bounds, empty=np.nan)
    for i, row in enumerate(bounds):
        for j in range(len(row) - 1):
            part = values[row[j] : row[j + 1]]
            assert summed[i, j] == part.sum()
            assert (np.isnan(largest[i, j]) and len(part) == 0) or largest[i, j] == part.max()


@settings(max_examples=100, deadline=None)
@given(
    codes=st.lists(st.integers(0, 20), max_size=40),
    data=st.data(),
)
def test_packed_sort_equals_the_lexsort_fallback(codes, data):
    days = data.draw(st.lists(st.integers(0, 30), min_size=len(codes), max_size=len(codes)))
    codes_a, days_a = np.array(codes, dtype=np.int64), np.array(days, dtype=np.int64)
    packed_key, packed_order = _sorted_keys(codes_a.copy(), days_a, 5, 6, 21)
    # 62 row bits leave no room to pack: np.lexsort is used
    lex_key, lex_order = _sorted_keys(codes_a.copy(), days_a, 5, 62, 21)
    np.testing.assert_array_equal(packed_order, lex_order)
    np.testing.assert_array_equal(packed_key, lex_key)
    np.testing.assert_array_equal(lex_order, np.lexsort((days_a, codes_a)))


@settings(max_examples=50, deadline=None)
@given(orders=order_rows(customers=4))
def test_the_log_is_sorted_by_customer_then_day_and_keeps_every_row(orders):
    log = prepare_orders(orders)
    assert np.all(np.diff(log.key) >= 0) and np.all(np.diff(log.refund_key) >= 0)
    purchase = orders["amount"] > 0
    assert sorted(log.amount.tolist()) == sorted(orders.loc[purchase, "amount"].tolist())
    assert sorted(log.refund_amount.tolist()) == sorted(orders.loc[~purchase, "amount"].tolist())
    for code, start, stop in zip(log.codes, log.starts, log.stops, strict=True):
        customer = log.ids_of(np.array([code]))[0]
        mine = orders.loc[(orders["customer_id"] == customer) & purchase, "order_ts"]
        epoch_days = sorted((mine.dt.floor("D") - pd.Timestamp(0)).dt.days.tolist())
        assert log.days_at(np.arange(start, stop)).tolist() == epoch_days
    buyers = set(orders.loc[purchase, "customer_id"])
    assert set(log.ids_of(log.codes)) == buyers  # only customers with a purchase


def test_positions_split_a_customers_rows_by_day():
    orders = make_orders(
        [
            (5, "2024-01-02", 1.0),
            (5, "2024-01-04", 2.0),
            (5, "2024-01-04", 3.0),
            (6, "2024-01-01", 4.0),
        ]
    )
    log = prepare_orders(orders)
    day = (pd.Timestamp("2024-01-03") - pd.Timestamp(0)).days
    codes = log.codes  # customers 5 and 6
    assert log.positions(codes, day).tolist() == [1, 4]  # 5: only Jan 2 is <= Jan 3
    assert log.positions(codes, day - 10).tolist() == [0, 3]  # nothing that early
    assert log.positions(codes, day + 10_000).tolist() == [3, 4]  # everything
