"""The next-order backtest: actual next orders, the mean-gap baseline, and the model against it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from simulated import btyd_truth
from winback.datasets import alive_at
from winback.evaluation._next_order import mean_gap_days, next_order_days
from winback.models import btyd_outlook

CUTOFF = pd.Timestamp("2024-03-31")
METRICS = {
    "ordered",
    "median_abs_error_days",
    "share_ordered_by_date",
    "known",
    "share_ordered_by_date_where_known",
}


def test_next_order_is_the_first_purchase_day_in_the_holdout():
    orders = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3, 5],
            "order_ts": pd.to_datetime(
                [
                    "2024-03-31 23:59",  # the cutoff day itself: before the holdout
                    "2024-04-03 08:00",
                    "2024-04-02 18:00",
                    "2024-04-02 10:00",  # a refund is no order
                    "2024-04-10 00:00",
                    "2024-05-15 12:00",  # after a 30-day holdout
                    "2024-04-30 23:00",  # the holdout's last day
                ]
            ).astype("M8[ns]"),
            "amount": [10.0, 5.0, 7.0, -3.0, 8.0, 4.0, 1.0],
        }
    )
    days = next_order_days(orders, pd.Index([1, 2, 3, 4, 5]), cutoff=CUTOFF, holdout_days=30)
    np.testing.assert_array_equal(days, [2.0, 10.0, np.nan, np.nan, 30.0])


def test_mean_gap_baseline_adds_the_own_mean_gap_or_the_repeat_buyers_median():
    features = pd.DataFrame(
        {"gap_mean_days": [10.0, np.nan, 30.0, 5.0], "days_since_last_order": [3, 7, 50, 2.5]}
    )
    # the one-time buyer gets the median gap 10 of the repeat buyers; a date already past moves
    # to the day after the cutoff; a fraction of a day rounds up
    np.testing.assert_array_equal(mean_gap_days(features), [7.0, 3.0, 1.0, 3.0])


def test_the_model_beats_the_mean_gap_baseline_on_active_customers():
    # The simulator runs the BG/NBD process: for a customer active at the cutoff, the wait for the
    # next order given the history is the Lomax whose median the model predicts, and a median
    # minimises the expected absolute error, so no predictor from the history (the baseline is
    # one) can beat it on average. Three years of follow-up observe ~90% of these next orders.
    base = btyd_truth()
    alive = alive_at(base.truth, base.cutoff + pd.Timedelta(days=1))
    alive = alive.reindex(base.features.index).to_numpy()
    actual = next_order_days(
        base.orders, base.features.index, cutoff=base.cutoff, holdout_days=base.follow_up_days
    )
    model = btyd_outlook(base.features, base.fitted.bgnbd, "bgnbd")["days_to_next_order"]
    baseline = mean_gap_days(base.features)
    seen = alive & np.isfinite(actual)
    assert seen.sum() > 0.85 * alive.sum()
    model_error = np.abs(model.to_numpy()[seen] - actual[seen])
    baseline_error = np.abs(baseline[seen] - actual[seen])
    assert np.median(model_error) <= np.median(baseline_error)
    assert model_error.mean() <= baseline_error.mean()


def test_evaluation_json_reports_the_next_order_next_to_the_baseline(sim_trained):
    evaluation = json.loads((sim_trained.bundle / "evaluation.json").read_text())
    result = evaluation["next_order"]
    model = sim_trained.result.backtest_model
    assert result["btyd_model"] == model.btyd_model
    assert result["holdout_days"] == max(model.horizons.values())
    assert {"winback", "mean_gap"} <= set(result["methods"])
    assert set(result["method_descriptions"]) == set(result["methods"])
    for method, metrics in result["methods"].items():
        assert set(metrics) == METRICS, method
        assert 0 < metrics["ordered"] <= result["customers"]
        assert metrics["median_abs_error_days"] >= 0
        assert 0 <= metrics["share_ordered_by_date"] <= 1
    # every method is judged on the same customers: those who ordered in the holdout
    assert len({m["ordered"] for m in result["methods"].values()}) == 1
    assert result["methods"]["winback"] == result["methods"][model.btyd_model]
    assert "next_order" in sim_trained.result.table


@pytest.mark.parametrize("holdout", [1, 365])
def test_nobody_orders_in_an_empty_holdout(holdout):
    orders = pd.DataFrame(
        {
            "customer_id": [1],
            "order_ts": pd.to_datetime(["2024-01-01"]).astype("M8[ns]"),
            "amount": [10.0],
        }
    )
    days = next_order_days(orders, pd.Index([1]), cutoff=CUTOFF, holdout_days=holdout)
    assert np.isnan(days).all()
