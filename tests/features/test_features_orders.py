"""build_features on orders: every order feature checked on a hand-computed example."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pandas as pd
import pytest
from features_testing import make_orders

from winback.exceptions import ConfigError, DataError
from winback.features import build_features

CUTOFF = "2024-03-31"

# Customer 1 buys on 3 days (Jan 1 twice, Jan 11, Mar 21), has a refund on Feb 10 (not a
# purchase: it only reduces money) and buys once after the cutoff; customer 2 once on Mar 1
# (exactly 30 days before the cutoff); customer 3 on Dec 1 and at 23:59 on the cutoff day;
# customer 4 only after the cutoff (no row).
ROWS = [
    (1, "2024-01-01 10:00", 10.0, "a", 0.0),
    (1, "2024-01-01 15:00", 20.0, "b", 1.0),
    (1, "2024-01-11", 30.0, "a", 0.0),
    (1, "2024-02-10", -5.0, None, np.nan),
    (1, "2024-03-21", 40.0, "c", 2.0),
    (1, "2024-04-05", 100.0, "d", 0.0),
    (2, "2024-03-01", 50.0, "a", 0.0),
    (3, "2023-12-01", 25.0, "b", 0.0),
    (3, "2024-03-31 23:59", 35.0, "b", 3.0),
    (4, "2024-04-02", 9.0, "a", 0.0),
]

NAN = math.nan
# expected values for customers 1, 2, 3, with the arithmetic
EXPECTED = {
    # last purchase Mar 21 / Mar 1 / Mar 31 -> cutoff Mar 31
    "days_since_last_order": (10.0, 30.0, 0.0),
    "n_orders": (4, 1, 2),  # purchases: the Feb 10 refund is not one
    "n_purchase_days": (3, 1, 2),
    "frequency": (2, 0, 1),
    # Jan 1 -> Mar 31 2024 (leap year) = 31 + 29 + 30; Dec 1 -> Mar 31 = 31 + 31 + 29 + 30
    "tenure_days": (90.0, 30.0, 121.0),
    # Jan 1 -> Mar 21 = 31 + 29 + 20
    "active_span_days": (80.0, 0.0, 121.0),
    "repeat_days_per_30d": (30 * 2 / 90, 0.0, 30 * 1 / 121),  # 30 * frequency / tenure
    "recency_share": (10 / 90, 30 / 30, 0 / 121),  # days_since_last_order / tenure
    "monetary_total": (95.0, 50.0, 60.0),  # 10 + 20 + 30 - 5 + 40: refunds subtract
    "monetary_mean": (23.75, 50.0, 30.0),  # 95 / 4 purchases
    "monetary_max": (40.0, 50.0, 35.0),
    "first_purchase_value": (30.0, 50.0, 25.0),  # Jan 1: 10 + 20 merged
    # gaps of customer 1 between purchase days: 10, 70 days; mean 40, sample std sqrt(1800)
    "gap_mean_days": (40.0, NAN, 121.0),
    "gap_std_days": (math.sqrt(((10 - 40) ** 2 + (70 - 40) ** 2) / 1), NAN, NAN),
    "gap_last_days": (70.0, NAN, 121.0),
    "overdue_ratio": (10 / 40, NAN, 0.0),
    # (Mar 1, Mar 31]: only Mar 21 / none (Mar 1 is excluded) / Mar 31
    "orders_last_30d": (1, 0, 1),
    "spend_last_30d": (40.0, 0.0, 35.0),
    # previous (Jan 31, Mar 1]: the -5 refund (money, not a purchase) / the Mar 1 order / none
    "orders_trend_30d": (1, -1, 1),
    "spend_trend_30d": (45.0, -50.0, 35.0),
    # (Jan 1, Mar 31]: Jan 11, Mar 21 and the Feb 10 refund (Jan 1 excluded) / Mar 1 / Mar 31
    "orders_last_90d": (2, 1, 1),
    "spend_last_90d": (65.0, 50.0, 35.0),
    # previous (Oct 3, Jan 1]: the two Jan 1 orders / none / Dec 1
    "orders_trend_90d": (0, 1, 0),
    "spend_trend_90d": (35.0, 50.0, 10.0),
    # 180 and 365 days hold everything; the windows before them are empty
    "orders_last_180d": (4, 1, 2),
    "spend_last_180d": (95.0, 50.0, 60.0),
    "orders_trend_180d": (4, 1, 2),
    "spend_trend_180d": (95.0, 50.0, 60.0),
    "orders_last_365d": (4, 1, 2),
    "spend_last_365d": (95.0, 50.0, 60.0),
    "orders_trend_365d": (4, 1, 2),
    "spend_trend_365d": (95.0, 50.0, 60.0),
    "refund_share": (0.2, 0.0, 0.0),  # 1 of the 5 orders is a refund
    "discount_share": (0.5, 0.0, 0.5),  # of the purchases: 2 of 4 / 0 / 1 of 2
    "n_categories": (3, 1, 1),  # a, b, c (d is after the cutoff; missing not counted) / a / b
}


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return make_orders(ROWS, columns=("category", "discount"))


@pytest.fixture(scope="module")
def features(orders) -> pd.DataFrame:
    return build_features(orders, cutoff=CUTOFF)


@pytest.mark.parametrize("column", list(EXPECTED))
def test_each_order_feature_matches_the_hand_computed_value(features, column):
    np.testing.assert_allclose(features[column].to_numpy(), EXPECTED[column], rtol=1e-12)


def test_produces_exactly_the_hand_checked_columns_in_order(features):
    assert list(features.columns) == list(EXPECTED)


def test_one_sorted_row_per_customer_with_an_order_on_or_before_the_cutoff(features):
    assert features.index.name == "customer_id"
    assert features.index.tolist() == [1, 2, 3]
    assert features.index.dtype == "int64"


def test_counts_are_int64_and_everything_else_float64(features):
    counts = {c for c in features.columns if c.startswith(("n_", "orders_")) or c == "frequency"}
    assert {c for c in features.columns if features[c].dtype == "int64"} == counts
    assert all(features[c].dtype == "float64" for c in features.columns if c not in counts)


def test_windows_come_from_the_config(orders):
    features = build_features(orders, cutoff=CUTOFF, config={"windows_days": [7]})
    windowed = [c for c in features.columns if "_7d" in c]
    assert windowed == ["orders_last_7d", "spend_last_7d", "orders_trend_7d", "spend_trend_7d"]
    # (Mar 24, Mar 31]: nothing / nothing / Mar 31; (Mar 17, Mar 24]: Mar 21 / none / none
    assert features["orders_last_7d"].tolist() == [0, 0, 1]
    assert features["orders_trend_7d"].tolist() == [-1, 0, 1]
    assert features["spend_trend_7d"].tolist() == [-40.0, 0.0, 35.0]


def test_optional_columns_only_with_their_order_columns(orders):
    plain = build_features(orders[["customer_id", "order_ts", "amount"]], cutoff=CUTOFF)
    assert "discount_share" not in plain.columns
    assert "n_categories" not in plain.columns


def test_row_order_does_not_matter(orders, features):
    shuffled = orders.sample(frac=1.0, random_state=3).reset_index(drop=True)
    pd.testing.assert_frame_equal(build_features(shuffled, cutoff=CUTOFF), features)


def test_string_ids_give_the_same_rows(orders, features):
    named = orders.assign(
        customer_id=orders["customer_id"].map({1: "c1", 2: "c2", 3: "c3", 4: "c4"})
    )
    result = build_features(named.astype({"customer_id": "str"}), cutoff=CUTOFF)
    assert result.index.tolist() == ["c1", "c2", "c3"]
    assert str(result.index.dtype) == "str"
    np.testing.assert_array_equal(result.to_numpy(), features.to_numpy())


def test_sparse_integer_ids_give_the_same_rows(orders, features):
    # ids spread over 2**60 cannot be packed as offsets and go through pd.factorize instead
    sparse = orders.assign(customer_id=orders["customer_id"] * (2**60 // 8))
    result = build_features(sparse, cutoff=CUTOFF)
    assert result.index.tolist() == [2**60 // 8 * k for k in (1, 2, 3)]
    np.testing.assert_array_equal(result.to_numpy(), features.to_numpy())


def test_any_datetime_unit_and_timezone_is_read_as_utc_days(orders, features):
    micro = orders.assign(order_ts=orders["order_ts"].astype("M8[us]"))
    pd.testing.assert_frame_equal(build_features(micro, cutoff=CUTOFF), features)
    # 2024-03-31 21:00 in New York is 2024-04-01 01:00 UTC: after the cutoff
    late = make_orders([(1, "2024-03-01", 5.0), (1, "2024-03-31 21:00", 7.0)])
    late["order_ts"] = late["order_ts"].dt.tz_localize("America/New_York")
    result = build_features(late, cutoff=CUTOFF)
    assert result.loc[1, "n_orders"] == 1


def test_a_cutoff_before_every_order_gives_an_empty_table_with_the_same_columns(orders, features):
    empty = build_features(orders, cutoff="2023-01-01")
    assert len(empty) == 0
    pd.testing.assert_series_equal(empty.dtypes, features.dtypes)


def test_the_cutoff_is_required_and_never_defaulted(orders):
    assert inspect.signature(build_features).parameters["cutoff"].default is inspect.Parameter.empty
    with pytest.raises(ConfigError, match="cutoff is required"):
        build_features(orders, cutoff=None)


@pytest.mark.parametrize(
    ("cutoff", "message"),
    [
        ("2024-03-31 12:00", r"calendar date \(midnight UTC\), got 2024-03-31 12:00:00"),
        ("not a date", r"written as YYYY-MM-DD \(ISO 8601\), e.g. '2024-03-31', got 'not a date'"),
    ],
)
def test_a_cutoff_that_is_not_a_calendar_date_is_rejected(orders, cutoff, message):
    with pytest.raises(ConfigError, match=message):
        build_features(orders, cutoff=cutoff)


def test_a_tz_aware_midnight_utc_cutoff_is_accepted(orders, features):
    result = build_features(orders, cutoff=pd.Timestamp("2024-03-31", tz="UTC"))
    pd.testing.assert_frame_equal(result, features)


def test_invalid_config_is_a_config_error(orders):
    with pytest.raises(
        ConfigError,
        match=r"invalid feature config: window_days: unknown key 'window_days' .*"
        r"did you mean 'windows_days'\?",
    ):
        build_features(orders, cutoff=CUTOFF, config={"window_days": [30]})
    with pytest.raises(ConfigError, match="greater than 0"):
        build_features(orders, cutoff=CUTOFF, config={"windows_days": [0]})


def test_missing_columns_are_named(orders):
    with pytest.raises(DataError, match=r"orders lack the column\(s\) \['amount'\]"):
        build_features(orders.drop(columns="amount"), cutoff=CUTOFF)


def test_missing_amounts_are_counted_and_located(orders):
    broken = orders.copy()
    broken.loc[[2, 5], "amount"] = np.nan
    with pytest.raises(
        DataError, match=r"orders.amount has 2 missing or infinite values \(first at row 2\)"
    ):
        build_features(broken, cutoff=CUTOFF)


def test_missing_customer_ids_and_timestamps_are_rejected(orders):
    no_id = orders.astype({"customer_id": "Int64"})
    no_id.loc[3, "customer_id"] = pd.NA
    with pytest.raises(
        DataError, match=r"orders.customer_id has 1 missing values \(first at row 3\)"
    ):
        build_features(no_id, cutoff=CUTOFF)
    no_ts = orders.copy()
    no_ts.loc[4, "order_ts"] = pd.NaT
    with pytest.raises(DataError, match=r"orders.order_ts has 1 missing values \(first at row 4\)"):
        build_features(no_ts, cutoff=CUTOFF)


def test_text_timestamps_are_rejected_with_a_pointer_to_the_data_gate(orders):
    expected = r"orders.order_ts must hold datetimes.*winback.read_orders"
    with pytest.raises(DataError, match=expected):
        build_features(orders.astype({"order_ts": "str"}), cutoff=CUTOFF)
