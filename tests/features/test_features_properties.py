"""Property tests on random order logs: point-in-time correctness, locality, an oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
from features_testing import (
    BASE,
    N_DAYS,
    event_rows,
    oracle_labels,
    oracle_order_features,
    order_rows,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from winback.features import build_features, build_labels, build_training_frame

WINDOWS = [7, 30]
CONFIG = {"windows_days": WINDOWS}
PINNED = {"windows_days": WINDOWS, "event_types": ["email_open", "nps", "site_visit"]}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

cutoff_days = st.integers(0, N_DAYS)


def _cutoff(day: int) -> pd.Timestamp:
    return BASE + pd.Timedelta(days=day)


def _after(frame: pd.DataFrame, column: str, cutoff: pd.Timestamp) -> np.ndarray:
    return (frame[column] >= cutoff + pd.Timedelta(days=1)).to_numpy()


@SETTINGS
@given(orders=order_rows(), day=cutoff_days)
def test_order_features_match_the_definitions_computed_one_customer_at_a_time(orders, day):
    features = build_features(orders, cutoff=_cutoff(day), config=CONFIG)
    expected = oracle_order_features(orders, _cutoff(day), WINDOWS)
    assert features.index.tolist() == expected.index.tolist()
    if len(expected):
        pd.testing.assert_frame_equal(features, expected, check_dtype=False, rtol=1e-9)


@SETTINGS
@given(
    orders=order_rows(),
    day=st.integers(0, N_DAYS - 20),
    horizons=st.sets(st.integers(1, 20), min_size=1),
)
def test_labels_match_the_definitions(orders, day, horizons):
    labels = build_labels(
        orders, cutoff=_cutoff(day), horizons_days=horizons, data_end=_cutoff(N_DAYS)
    )
    expected = oracle_labels(orders, _cutoff(day), sorted(horizons))
    assert labels.index.tolist() == expected.index.tolist()
    if len(expected):
        pd.testing.assert_frame_equal(labels, expected, check_dtype=False, rtol=1e-9)


@SETTINGS
@given(
    orders=order_rows(),
    events=event_rows(),
    day=cutoff_days,
    later_orders=order_rows(customers=8, first_day=N_DAYS + 1, last_day=N_DAYS + 60),
    later_events=event_rows(customers=8, first_day=N_DAYS + 1, last_day=N_DAYS + 60),
    data=st.data(),
)
def test_nothing_after_the_cutoff_changes_any_feature(
    orders, events, day, later_orders, later_events, data
):
    cutoff = _cutoff(day)
    before = build_features(orders, cutoff=cutoff, events=events, config=CONFIG)

    # remove some of the orders and events after the cutoff, change the others' values and
    # types, and add new ones (also of new customers and new event types) at later dates
    def rewrite(frame, column, later, change):
        after = _after(frame, column, cutoff)
        dropped = np.array(
            data.draw(st.lists(st.booleans(), min_size=len(frame), max_size=len(frame))), dtype=bool
        )
        kept = frame[~(after & dropped)].copy()
        kept.loc[_after(kept, column, cutoff), change] = (
            kept.loc[_after(kept, column, cutoff), change] * -3 + 1
        )
        return pd.concat([kept, later], ignore_index=True)

    changed_orders = rewrite(orders, "order_ts", later_orders, "amount")
    changed_events = rewrite(
        events, "event_ts", later_events.assign(event_type="brand_new"), "value"
    )
    after = build_features(changed_orders, cutoff=cutoff, events=changed_events, config=CONFIG)
    pd.testing.assert_frame_equal(after, before, check_exact=True)


@SETTINGS
@given(orders=order_rows(), day=st.integers(0, N_DAYS - 30), data=st.data())
def test_nothing_on_or_before_the_cutoff_changes_any_label(orders, day, data):
    cutoff = _cutoff(day)
    data_end = _cutoff(N_DAYS)
    labels = build_labels(orders, cutoff=cutoff, horizons_days=[7, 30], data_end=data_end)
    past = ~_after(orders, "order_ts", cutoff)
    n_past = int(past.sum())
    # move every past order to another time on or before the cutoff and change its amount,
    # drop some, and add past orders for customers already in the population
    days = data.draw(st.lists(st.integers(0, day), min_size=n_past, max_size=n_past))
    changed = orders.copy()
    changed.loc[past, "order_ts"] = [_cutoff(d) + pd.Timedelta(hours=23) for d in days]
    changed.loc[past, "amount"] = changed.loc[past, "amount"] * 2 - 7
    dropped = np.array(
        data.draw(st.lists(st.booleans(), min_size=len(orders), max_size=len(orders))), dtype=bool
    )
    changed = changed[~(past & dropped)]
    extra = orders[past & orders["customer_id"].isin(labels.index)]
    extra = extra.assign(amount=1.0, order_ts=cutoff)
    changed = pd.concat([changed, extra], ignore_index=True)
    relabelled = build_labels(changed, cutoff=cutoff, horizons_days=[7, 30], data_end=data_end)
    pd.testing.assert_frame_equal(relabelled, labels.loc[relabelled.index], check_exact=True)
    assert set(labels.index) == set(relabelled.index)  # the population is kept by `extra`


@SETTINGS
@given(
    orders=order_rows(customers=8), events=event_rows(customers=10), day=cutoff_days, data=st.data()
)
def test_each_row_depends_on_its_own_customer_only(orders, events, day, data):
    customers = pd.DataFrame(
        {
            "customer_id": np.arange(1, 11, dtype=np.int64),
            "signup_ts": (BASE + pd.to_timedelta(np.arange(10) * 17 - 30, unit="D")).astype(
                "M8[ns]"
            ),
            "marketing_opt_in": np.arange(10) % 3 == 0,
        }
    )
    group = data.draw(st.lists(st.booleans(), min_size=10, max_size=10))
    in_first = {cid for cid, first in zip(range(1, 11), group, strict=True) if first}

    def build(part):
        pick = lambda frame: frame[frame["customer_id"].isin(in_first) == part]  # noqa: E731
        return build_features(
            pick(orders),
            cutoff=_cutoff(day),
            events=pick(events),
            customers=pick(customers),
            config=PINNED,
        )

    whole = build_features(
        orders, cutoff=_cutoff(day), events=events, customers=customers, config=PINNED
    )
    stacked = pd.concat([build(True), build(False)]).sort_index()
    pd.testing.assert_frame_equal(stacked, whole, check_exact=True, check_index_type=False)


@settings(max_examples=25, deadline=None)
@given(orders=order_rows(), days=st.sets(st.integers(0, N_DAYS - 10), min_size=1, max_size=4))
def test_training_frame_rows_equal_the_single_cutoff_builders(orders, days):
    cutoffs = [_cutoff(d) for d in sorted(days)]
    data_end = _cutoff(N_DAYS)
    frame = build_training_frame(
        orders, cutoffs=cutoffs, horizons_days=[3, 10], config=CONFIG, data_end=data_end
    )
    for cutoff in cutoffs:
        features = build_features(orders, cutoff=cutoff, config=CONFIG)
        labels = build_labels(orders, cutoff=cutoff, horizons_days=[3, 10], data_end=data_end)
        if len(features):
            pd.testing.assert_frame_equal(
                frame.xs(cutoff, level="cutoff"), features.join(labels), check_exact=True
            )
        else:
            assert cutoff not in frame.index.get_level_values("cutoff")


@SETTINGS
@given(orders=order_rows(), day=cutoff_days, data=st.data())
def test_category_and_discount_features_match_pandas(orders, day, data):
    n = len(orders)
    categories = data.draw(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n, max_size=n))
    discounts = data.draw(st.lists(st.sampled_from([0.0, 1.5, np.nan]), min_size=n, max_size=n))
    orders = orders.assign(category=pd.array(categories, dtype="str"), discount=discounts)
    features = build_features(orders, cutoff=_cutoff(day), config=CONFIG)
    bought = ~_after(orders, "order_ts", _cutoff(day)) & (orders["amount"] > 0)
    past = orders[bought].groupby("customer_id")  # of purchases
    if len(features):
        pd.testing.assert_series_equal(
            features["n_categories"], past["category"].nunique(), check_names=False
        )
        pd.testing.assert_series_equal(
            features["discount_share"],
            past["discount"].agg(lambda d: float((d > 0).mean())),
            check_names=False,
        )
