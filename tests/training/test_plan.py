"""Temporal plans never let a training or validation label window cross the bound."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from winback.exceptions import DataError
from winback.training._plan import plan_windows

DAY = pd.Timedelta(days=1)


def _plan(first, bound, horizon, *, every=14, history=28, max_cutoffs=None):
    """The plan of ``horizon``-day labels for data from ``first`` with labels up to ``bound``."""
    return plan_windows(
        first_date=pd.Timestamp(first),
        label_bound=pd.Timestamp(bound),
        horizon_days=horizon,
        every_days=every,
        min_history_days=history,
        max_train_cutoffs=max_cutoffs,
    )


def test_cdnow_repurchase_plan_uses_the_full_91_day_window():
    plan = _plan("1997-01-01", "1997-09-30", 91)
    assert plan.label_days == 91
    assert plan.validation_cutoff == pd.Timestamp("1997-07-01")
    assert plan.train_cutoffs[-1] == pd.Timestamp("1997-04-01")
    assert plan.train_cutoffs[0] >= pd.Timestamp("1997-01-29")


def test_long_horizon_is_shortened_and_says_so():
    plan = _plan("1997-01-01", "1997-09-30", 273)
    assert plan.label_days < 273
    assert "trained on" in plan.note and "273-day window does not fit" in plan.note


def test_no_history_raises_a_data_error_naming_the_horizon():
    with pytest.raises(DataError, match="no training cutoff for a 91-day task"):
        _plan("2020-01-01", "2020-01-20", 91, every=7, history=10)


@settings(max_examples=200, deadline=None)
@given(
    span=st.integers(60, 1500),
    horizon=st.integers(7, 400),
    every=st.integers(1, 60),
    history=st.integers(0, 90),
    max_cutoffs=st.one_of(st.none(), st.integers(1, 30)),
)
def test_every_label_window_ends_by_the_bound(span, horizon, every, history, max_cutoffs):
    first = pd.Timestamp("2021-01-01")
    bound = first + span * DAY
    try:
        plan = _plan(first, bound, horizon, every=every, history=history, max_cutoffs=max_cutoffs)
    except DataError:
        return
    assert 7 <= plan.label_days <= horizon
    for cutoff, start, end in plan.label_windows():
        assert start == cutoff + DAY
        assert end <= bound
    # training windows end at or before the validation cutoff: no overlap with validation labels
    assert all(c + plan.label_days * DAY <= plan.validation_cutoff for c in plan.train_cutoffs)
    assert list(plan.train_cutoffs) == sorted(set(plan.train_cutoffs))
    if max_cutoffs is not None:
        assert len(plan.train_cutoffs) <= max_cutoffs
