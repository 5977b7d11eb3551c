"""build_labels, build_training_frame and propose_cutoffs: hand-computed examples, refusals."""

from __future__ import annotations

import pandas as pd
import pytest
from features_testing import make_events, make_orders

from winback.exceptions import ConfigError, DataError, LeakageError
from winback.features import build_features, build_labels, build_training_frame, propose_cutoffs

# cutoff 2024-03-31: customer 1 buys on Apr 1 (day 1 of the window) and Apr 30 (day 30),
# customer 2 refunds on Apr 10, customer 3 buys only before, customer 4 only after (no row).
ROWS = [
    (1, "2024-03-01", 10.0),
    (1, "2024-04-01 00:00", 5.0),
    (1, "2024-04-30 23:59", 7.0),
    (2, "2024-03-31 23:59", 20.0),
    (2, "2024-04-10", -4.0),
    (3, "2024-01-15", 8.0),
    (4, "2024-04-02", 9.0),
    (3, "2024-06-30", 1.0),
]


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return make_orders(ROWS)


def test_labels_count_the_days_after_the_cutoff_up_to_the_horizon(orders):
    labels = build_labels(orders, cutoff="2024-03-31", horizons_days=[1, 30, 29])
    expected = pd.DataFrame(
        {
            "purchased_within_1d": [1, 0, 0],  # (Mar 31, Apr 1]
            "spend_within_1d": [5.0, 0.0, 0.0],
            # (Mar 31, Apr 29]: Apr 30 is out; customer 2's refund is money, not a purchase
            "purchased_within_29d": [1, 0, 0],
            "spend_within_29d": [5.0, -4.0, 0.0],
            "purchased_within_30d": [1, 0, 0],
            "spend_within_30d": [12.0, -4.0, 0.0],
        },
        index=pd.Index([1, 2, 3], name="customer_id"),
    )
    pd.testing.assert_frame_equal(labels, expected)


def test_a_single_horizon_may_be_an_int(orders):
    labels = build_labels(orders, cutoff="2024-03-31", horizons_days=30)
    assert list(labels.columns) == ["purchased_within_30d", "spend_within_30d"]


def test_a_label_window_past_the_data_end_is_refused_with_every_date_named(orders):
    # latest order 2024-06-30; 2024-06-01 + 30 days = 2024-07-01 is one day too late
    with pytest.raises(LeakageError) as info:
        build_labels(orders, cutoff="2024-06-01", horizons_days=[7, 30])
    message = str(info.value)
    assert "the 30-day label window of cutoff 2024-06-01 ends on 2024-07-01" in message
    assert "after the data's last date 2024-06-30 (the latest order date" in message
    assert "Use cutoffs on or before 2024-05-31" in message
    build_labels(orders, cutoff="2024-05-31", horizons_days=[7, 30])  # the last one that fits


def test_an_explicit_data_end_restricts_or_extends_the_admissible_cutoffs(orders):
    with pytest.raises(
        LeakageError,
        match=r"ends on 2024-04-30, after the data's last date 2024-04-29 \(data_end\)",
    ):
        build_labels(orders, cutoff="2024-03-31", horizons_days=30, data_end="2024-04-29")
    labels = build_labels(orders, cutoff="2024-06-30", horizons_days=30, data_end="2024-07-31")
    assert labels["purchased_within_30d"].sum() == 0


def test_training_frame_stacks_features_and_labels_per_cutoff(orders):
    cutoffs = ["2024-03-31", "2024-01-31"]
    frame = build_training_frame(
        orders, cutoffs=cutoffs, horizons_days=[30], config={"windows_days": [30]}
    )
    assert frame.index.names == ["cutoff", "customer_id"]
    assert frame.index.get_level_values("cutoff").dtype == "datetime64[ns]"
    assert frame.index.get_level_values("cutoff").unique().tolist() == [
        pd.Timestamp("2024-01-31"),
        pd.Timestamp("2024-03-31"),
    ]
    for cutoff in cutoffs:
        expected = build_features(orders, cutoff=cutoff, config={"windows_days": [30]}).join(
            build_labels(orders, cutoff=cutoff, horizons_days=[30])
        )
        pd.testing.assert_frame_equal(frame.loc[pd.Timestamp(cutoff)], expected)
    # on 2024-01-31 only customer 3 has bought, and does not buy again within 30 days
    assert frame.loc[pd.Timestamp("2024-01-31")].index.tolist() == [3]


def test_training_frame_pins_event_columns_to_the_types_seen_by_the_latest_cutoff(orders):
    events = make_events(
        [
            (3, "2024-02-01", "nps", 8.0),
            (2, "2024-03-15", "email_open", None),
            (1, "2024-05-01", "late", None),
        ]
    )
    frame = build_training_frame(
        orders,
        cutoffs=["2024-02-15", "2024-03-31"],
        horizons_days=7,
        events=events,
        config={"windows_days": [30], "value_event_types": []},
    )
    event_columns = [c for c in frame.columns if c.startswith("event_")]
    assert event_columns == [
        "event_email_open_last_30d",
        "event_email_open_days_since_last",
        "event_nps_last_30d",
        "event_nps_days_since_last",
    ]
    early = frame.loc[pd.Timestamp("2024-02-15")]  # only customer 3 has bought by then
    assert early["event_email_open_last_30d"].tolist() == [0]  # no email yet, same column
    assert early["event_nps_days_since_last"].tolist() == [14.0]
    late = frame.loc[pd.Timestamp("2024-03-31")]
    assert late["event_email_open_last_30d"].tolist() == [0, 1, 0]
    assert late["event_nps_days_since_last"].fillna(-1).tolist() == [-1, -1, 59.0]


def test_training_frame_refuses_any_cutoff_whose_window_is_open(orders):
    with pytest.raises(
        LeakageError,
        match=r"90-day label window of cutoff 2024-04-15 ends on 2024-07-14.*2 of 3 cutoffs",
    ):
        build_training_frame(
            orders, cutoffs=["2024-03-01", "2024-04-15", "2024-05-01"], horizons_days=[30, 90]
        )


def test_training_frame_rejects_repeated_cutoffs_and_bad_horizons(orders):
    with pytest.raises(ConfigError, match="cutoffs must be distinct, got repeated 2024-03-01"):
        build_training_frame(orders, cutoffs=["2024-03-01", "2024-03-01"], horizons_days=7)
    with pytest.raises(
        ConfigError, match=r"horizons_days must be positive whole numbers of days, got \[0\]"
    ):
        build_training_frame(orders, cutoffs=["2024-03-01"], horizons_days=[0, 7])
    with pytest.raises(ConfigError, match="cutoffs must hold at least one"):
        build_training_frame(orders, cutoffs=[], horizons_days=7)


def test_propose_cutoffs_steps_back_from_the_latest_admissible_date(orders):
    # orders from 2024-01-15 to 2024-06-30; horizon 30 -> latest 2024-05-31;
    # history 30 days -> earliest 2024-02-14; every 35 days back from May 31
    cutoffs = propose_cutoffs(orders, every_days=35, horizon_days=30, min_history_days=30)
    assert [str(c.date()) for c in cutoffs] == [
        "2024-02-16",
        "2024-03-22",
        "2024-04-26",
        "2024-05-31",
    ]
    assert all(c == c.normalize() for c in cutoffs)
    build_training_frame(orders, cutoffs=cutoffs, horizons_days=30)  # every one is admissible


def test_propose_cutoffs_honours_data_end(orders):
    cutoffs = propose_cutoffs(
        orders, every_days=7, horizon_days=30, min_history_days=0, data_end="2024-03-01"
    )
    assert [str(c.date()) for c in cutoffs] == ["2024-01-17", "2024-01-24", "2024-01-31"]


def test_propose_cutoffs_explains_when_the_data_are_too_short(orders):
    with pytest.raises(
        DataError, match="2024-01-15 to 2024-06-30, too short for 120 days of history plus a 90-day"
    ):
        propose_cutoffs(orders, every_days=7, horizon_days=90, min_history_days=120)


@pytest.mark.parametrize("name", ["every_days", "horizon_days"])
def test_propose_cutoffs_needs_positive_days(orders, name):
    arguments = {"every_days": 7, "horizon_days": 30, "min_history_days": 0, name: 0}
    with pytest.raises(ConfigError, match=f"{name} must be a whole number of days >= 1, got 0"):
        propose_cutoffs(orders, **arguments)
