"""build_features with events and customer profiles: hand-computed examples and errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from features_testing import make_events, make_orders

from winback.exceptions import DataError
from winback.features import build_features

CUTOFF = "2024-03-31"
NAN = math.nan

ORDERS = make_orders(
    [("a", "2024-01-01", 10.0), ("a", "2024-03-01", 20.0), ("b", "2024-03-10", 30.0)]
)
# a: two "email open" in the last 30 days (Mar 5, Mar 30), one after the cutoff window start;
#    nps 7 on Feb 1 and nps 1 on Apr 1 (after the cutoff: ignored).
# b: two nps at the same instant on the cutoff day (9 and 3: the larger wins the tie).
# c: no orders, so no row.
EVENTS = make_events(
    [
        ("a", "2024-03-05", "email open", NAN),
        ("a", "2024-03-30 12:00", "email open", NAN),
        ("a", "2024-02-01", "nps", 7.0),
        ("b", "2024-03-31 23:00", "nps", 9.0),
        ("b", "2024-03-31 23:00", "nps", 3.0),
        ("c", "2024-03-01", "email open", NAN),
        ("a", "2024-04-01", "nps", 1.0),
        ("a", "2024-04-01", "support ticket", NAN),
    ]
)
CUSTOMERS = pd.DataFrame(
    {
        "customer_id": pd.array(["a", "b", "c"], dtype="str"),
        "signup_ts": pd.to_datetime(["2023-12-01", "2024-04-05", None]).astype("M8[ns]"),
        "marketing_opt_in": pd.array([True, False, None], dtype="boolean"),
    }
)

EXPECTED = {
    "event_email_open_last_30d": (2, 0),  # (Mar 1, Mar 31]: Mar 5 and Mar 30 / none
    "event_email_open_last_90d": (2, 0),
    "event_email_open_days_since_last": (1.0, NAN),  # Mar 30 -> Mar 31
    "event_nps_last_30d": (0, 2),
    "event_nps_last_90d": (1, 2),  # Feb 1 is within (Jan 1, Mar 31]
    "event_nps_days_since_last": (59.0, 0.0),  # Feb 1 -> Mar 31 = 28 + 31
    "event_nps_last_value": (7.0, 9.0),  # Apr 1's 1 is after the cutoff; tie -> larger
    "event_review_last_value": (NAN, NAN),  # a default value type without events
    # every counted type together; a: Feb 1 nps, Mar 5 and Mar 30 opens; b: two nps on Mar 31
    "events_all_days_since_last": (1.0, 0.0),
    "events_all_last_30d": (2, 2),
    # per day in the window over per day on record: a's record is Feb 1..Mar 31 (60 days);
    # b's is one day, so the window's 30 days stand in
    "events_all_rate_ratio_30d": ((2 / 30) / (3 / 60), (2 / 30) / (2 / 30)),
    "events_all_last_90d": (3, 2),
    "events_all_rate_ratio_90d": ((3 / 90) / (3 / 90), (2 / 90) / (2 / 90)),
    "days_since_signup": (121.0, NAN),  # Dec 1 -> Mar 31; b signs up after the cutoff
    "marketing_opt_in": (1.0, 0.0),
}


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    return build_features(
        ORDERS,
        cutoff=CUTOFF,
        events=EVENTS,
        customers=CUSTOMERS,
        config={"windows_days": [30, 90]},
    )


@pytest.mark.parametrize("column", list(EXPECTED))
def test_each_event_and_profile_feature_matches_the_hand_computed_value(features, column):
    np.testing.assert_array_equal(features[column].to_numpy(), EXPECTED[column])


def test_event_columns_follow_the_order_columns_types_seen_by_the_cutoff_only(features):
    # "support ticket" only happens after the cutoff: no column, so later data adds none
    extra = [
        c
        for c in features.columns
        if c.startswith(("event_", "events_all_")) or "signup" in c or "opt_in" in c
    ]
    assert extra == list(EXPECTED)
    assert features.index.tolist() == ["a", "b"]


def test_event_counts_are_int64_and_times_and_values_float64(features):
    assert features["event_nps_last_30d"].dtype == "int64"
    assert features["event_nps_days_since_last"].dtype == "float64"
    assert features["event_nps_last_value"].dtype == "float64"


def test_pinned_event_types_fix_the_columns():
    config = {"windows_days": [30], "event_types": ["site_visit", "nps"], "value_event_types": []}
    features = build_features(ORDERS, cutoff=CUTOFF, events=EVENTS, config=config)
    events_columns = [c for c in features.columns if c.startswith("event_")]
    assert events_columns == [
        "event_site_visit_last_30d",
        "event_site_visit_days_since_last",
        "event_nps_last_30d",
        "event_nps_days_since_last",
    ]
    assert features["event_site_visit_last_30d"].tolist() == [0, 0]  # pinned but never seen
    assert features["event_site_visit_days_since_last"].isna().all()
    assert features["event_nps_last_30d"].tolist() == [0, 2]


def test_events_without_a_value_column_give_nan_last_values():
    features = build_features(ORDERS, cutoff=CUTOFF, events=EVENTS.drop(columns="value"))
    assert features["event_nps_last_value"].isna().all()
    assert features["event_nps_last_30d"].tolist() == [0, 2]


def test_customers_missing_from_the_profile_table_get_nan():
    features = build_features(ORDERS, cutoff=CUTOFF, customers=CUSTOMERS.iloc[[1]])
    assert features["days_since_signup"].isna().all()
    np.testing.assert_array_equal(features["marketing_opt_in"], [NAN, 0.0])


def test_unknown_opt_in_is_nan():
    customers = CUSTOMERS.assign(customer_id=pd.array(["c", "b", "a"], dtype="str"))
    features = build_features(ORDERS, cutoff=CUTOFF, customers=customers)
    assert np.isnan(features.loc["a", "marketing_opt_in"])


def test_event_types_that_map_to_one_column_name_are_rejected():
    events = make_events(
        [("a", "2024-03-01", "email open", NAN), ("a", "2024-03-02", "email-open", NAN)]
    )
    with pytest.raises(
        DataError, match=r"event types \[\['email open', 'email-open'\]\] map to the same"
    ):
        build_features(ORDERS, cutoff=CUTOFF, events=events)


def test_an_event_type_without_letters_or_digits_is_rejected():
    events = make_events([("a", "2024-03-01", "!!", NAN)])
    with pytest.raises(DataError, match="event type '!!' has no letter or digit"):
        build_features(ORDERS, cutoff=CUTOFF, events=events)


def test_ids_of_another_kind_than_the_orders_are_rejected():
    events = EVENTS.assign(customer_id=np.arange(len(EVENTS), dtype="int64"))
    with pytest.raises(
        DataError, match=r"events\.customer_id holds integers but orders\.customer_id holds strings"
    ):
        build_features(ORDERS, cutoff=CUTOFF, events=events)


def test_duplicate_customers_are_rejected():
    customers = pd.concat([CUSTOMERS, CUSTOMERS.iloc[[1]]], ignore_index=True)
    with pytest.raises(
        DataError,
        match=r"customers.customer_id must be unique, but 1 ids repeat \(first: 'b' at row 3\)",
    ):
        build_features(ORDERS, cutoff=CUTOFF, customers=customers)


def test_events_lacking_columns_are_named():
    with pytest.raises(DataError, match=r"events lack the column\(s\) \['event_type'\]"):
        build_features(ORDERS, cutoff=CUTOFF, events=EVENTS.drop(columns="event_type"))
