"""rfm_summary: lifetimes' definitions, by hand and against the published CDNOW summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from features_testing import make_orders

from winback.datasets import load_cdnow
from winback.exceptions import ConfigError
from winback.features import build_features, rfm_summary

# Customer 1: Jan 1 (10 + 20 same day), Jan 11 (30), Feb 10 (-5), Mar 21 (40), Apr 5 (after).
# Customer 2: Mar 1 only. Customer 3: Dec 1 2023 and Mar 31 23:59. Customer 4: after the cutoff.
ROWS = [
    (1, "2024-01-01 10:00", 10.0),
    (1, "2024-01-01 15:00", 20.0),
    (1, "2024-01-11", 30.0),
    (1, "2024-02-10", -5.0),
    (1, "2024-03-21", 40.0),
    (1, "2024-04-05", 100.0),
    (2, "2024-03-01", 50.0),
    (3, "2023-12-01", 25.0),
    (3, "2024-03-31 23:59", 35.0),
    (4, "2024-04-02", 9.0),
]


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return make_orders(ROWS)


def test_days_match_the_hand_computed_summary(orders):
    rfm = rfm_summary(orders, cutoff="2024-03-31")
    expected = pd.DataFrame(
        {
            "frequency": [2.0, 0.0, 1.0],  # repeat purchase days (the refund is not one)
            "recency": [80.0, 0.0, 121.0],  # Jan 1 -> Mar 21; -; Dec 1 -> Mar 31
            "T": [90.0, 30.0, 121.0],  # first purchase -> Mar 31
            "monetary_value": [(30 + 40) / 2, 0.0, 35.0],  # mean of repeat purchase-day totals
        },
        index=pd.Index([1, 2, 3], name="customer_id"),
    )
    pd.testing.assert_frame_equal(rfm, expected)


def test_weeks_are_days_over_seven(orders):
    days = rfm_summary(orders, cutoff="2024-03-31")
    weeks = rfm_summary(orders, cutoff="2024-03-31", time_unit="W")
    pd.testing.assert_series_equal(weeks["T"], days["T"] / 7)
    pd.testing.assert_series_equal(weeks["recency"], days["recency"] / 7)
    pd.testing.assert_series_equal(weeks["frequency"], days["frequency"])
    pd.testing.assert_series_equal(weeks["monetary_value"], days["monetary_value"])


def test_same_day_orders_merge_into_one_repeat_purchase():
    orders = make_orders(
        [(7, "2024-01-01", 5.0), (7, "2024-01-09 08:00", 3.0), (7, "2024-01-09 20:00", 4.0)]
    )
    rfm = rfm_summary(orders, cutoff="2024-01-10")
    assert rfm.loc[7].tolist() == [1.0, 8.0, 9.0, 7.0]


def test_agrees_with_the_feature_table(orders):
    rfm = rfm_summary(orders, cutoff="2024-03-31")
    features = build_features(orders, cutoff="2024-03-31")
    np.testing.assert_array_equal(rfm["frequency"], features["frequency"])
    np.testing.assert_array_equal(rfm["recency"], features["active_span_days"])
    np.testing.assert_array_equal(rfm["T"], features["tenure_days"])


def test_unknown_time_unit_is_rejected(orders):
    with pytest.raises(
        ConfigError, match="time_unit must be 'D' \\(days\\) or 'W' \\(weeks\\), got 'M'"
    ):
        rfm_summary(orders, cutoff="2024-03-31", time_unit="M")


def test_cutoff_is_required(orders):
    with pytest.raises(ConfigError, match="cutoff is required"):
        rfm_summary(orders, cutoff=None)


# The BTYD literature's CDNOW sample summary (Fader, Hardie & Lee; shipped with the BTYD R
# package and lifetimes as cdnow_customers.csv): same-day orders merged, calibration period
# ending 1997-09-30, weeks. Keys are the master-file ids of sample customers 1, 3, 6, 17, 59,
# 157, 1516, 1901 and 2357; values (x, t_x, T) as published, rounded to 2 decimals.
CDNOW_PUBLISHED = {
    4: (2, 30.43, 38.86),
    50: (0, 0.00, 38.86),
    111: (7, 29.43, 38.86),
    228: (10, 34.14, 38.86),
    645: (1, 38.43, 38.43),
    1760: (29, 37.71, 38.00),
    15562: (26, 30.86, 31.00),
    19339: (21, 4.71, 29.29),
    23569: (0, 0.00, 27.00),
}


@pytest.fixture(scope="module")
def cdnow_rfm() -> pd.DataFrame:
    return rfm_summary(load_cdnow(sample=True), cutoff="1997-09-30", time_unit="W")


def test_cdnow_sample_matches_the_published_calibration_summary(cdnow_rfm):
    published = pd.DataFrame.from_dict(CDNOW_PUBLISHED, orient="index", columns=["x", "t_x", "T"])
    mine = cdnow_rfm.loc[published.index]
    np.testing.assert_array_equal(mine["frequency"], published["x"])
    np.testing.assert_allclose(mine["recency"].round(2), published["t_x"])
    np.testing.assert_allclose(mine["T"].round(2), published["T"])


def test_cdnow_sample_covers_every_customer_with_published_t_range(cdnow_rfm):
    # all 2357 sample customers first bought in Q1 1997: T runs from 27.00 to 38.86 weeks
    assert len(cdnow_rfm) == 2357
    assert round(cdnow_rfm["T"].min(), 2) == 27.00
    assert round(cdnow_rfm["T"].max(), 2) == 38.86


def test_cdnow_monetary_value_of_the_first_sample_customer(cdnow_rfm):
    # customer 4 bought 1997-01-01 (29.33), 01-18 (29.73), 08-02 (14.96), 12-12 (after cutoff)
    assert cdnow_rfm.loc[4, "monetary_value"] == pytest.approx((29.73 + 14.96) / 2)
