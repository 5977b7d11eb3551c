"""Measuring a campaign on hand-made frames: counts, window edges, rows, and bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from winback.campaigns import MIN_CONTROL, measure_campaign, read_campaign
from winback.exceptions import DataError

DAY = "2024-06-30"


def campaign() -> pd.DataFrame:
    """Eight customers: action a (4 treated, 2 control), action b (1 treated, 1 control)."""
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7, 8, 9],
            "action": ["a", "a", "a", "a", "a", "a", "b", "b", "no_action"],
            "group": ["treatment"] * 4 + ["control"] * 2 + ["treatment", "control", "none"],
            "cost": [2.0] * 6 + [1.0, 1.0, 0.0],
            "p_churn": [0.5] * 9,
            "risk_tier": ["high"] * 3 + ["low"] * 6,
            "segment": ["At Risk"] * 9,
            "as_of": [DAY] * 9,
        }
    )


def orders() -> pd.DataFrame:
    rows = [
        (1, "2024-06-30 23:00", 50.0),  # on the campaign day: before the window
        (1, "2024-07-01 00:00", 10.0),  # first day of the window
        (2, "2024-07-30 12:00", 20.0),  # last day of a 30-day window
        (2, "2024-07-30 13:00", -5.0),  # a refund counts in revenue only
        (3, "2024-07-31 00:00", 99.0),  # the day after the window
        (5, "2024-07-10 00:00", 30.0),
        (7, "2024-07-02 00:00", 8.0),
        (9, "2024-08-15 00:00", 1.0),  # the orders run past the window's end
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "order_ts", "amount"])
    return frame.assign(order_ts=pd.to_datetime(frame["order_ts"]))


def test_counts_rates_and_window_edges() -> None:
    result = measure_campaign(campaign(), orders(), campaign_date=DAY, window_days=30)
    out = result.outcomes.set_index("customer_id")
    assert out["responded"].to_dict() == {
        "1": True, "2": True, "3": False, "4": False, "5": True, "6": False, "7": True, "8": False
    }  # fmt: skip
    assert out.loc["2", "revenue"] == 15.0 and out.loc["1", "revenue"] == 10.0
    a = result.results["actions"][0]
    assert (a["label"], a["n_treatment"], a["n_control"]) == ("a", 4, 2)
    assert a["response"]["rate_treatment"] == 0.5 and a["response"]["rate_control"] == 0.5
    assert a["revenue"]["mean_treatment"] == pytest.approx(25 / 4)
    assert a["revenue"]["mean_control"] == 15.0
    # profit = treated x (margin x incremental revenue per customer - unit cost)
    assert a["incremental_profit"] == pytest.approx(4 * (25 / 4 - 15 - 2))
    assert a["roi"] == pytest.approx(4 * (25 / 4 - 15 - 2) / 8, abs=1e-4)
    assert a["mean_p_churn"] == 0.5 and a["uplift_estimate"]["estimate"] == 0.0
    assert result.results["window_end"] == "2024-07-30"


def test_overall_compares_each_action_with_its_own_control() -> None:
    result = measure_campaign(campaign(), orders(), campaign_date=DAY, window_days=30)
    overall = result.results["overall"]
    assert (overall["n_treatment"], overall["n_control"]) == (5, 3)
    # action b has one customer per group: no variance, so only action a enters the strata
    assert overall["response"]["diff"] == pytest.approx(0.0)
    tiers = {row["label"]: row["n_treatment"] for row in result.results["by_risk_tier"]}
    assert tiers == {"high": 3, "low": 2}
    assert [row["label"] for row in result.results["by_segment"]] == ["At Risk"]


def test_small_control_groups_and_intervals_spanning_zero_warn() -> None:
    result = measure_campaign(campaign(), orders(), campaign_date=DAY, window_days=30)
    text = " ".join(result.warnings)
    assert f"action 'a' has 2 customers, below {MIN_CONTROL:,}" in text
    assert "spans zero" in text


def test_a_campaign_without_group_is_a_clear_error() -> None:
    with pytest.raises(DataError, match=r"lacks the column\(s\) \['group'\] a campaign needs"):
        measure_campaign(
            campaign().drop(columns="group"), orders(), campaign_date=DAY, window_days=30
        )


def test_a_customer_in_both_groups_is_a_clear_error() -> None:
    frame = pd.concat([campaign(), campaign().iloc[[0]].assign(group="control")])
    with pytest.raises(
        DataError, match=r"1 customer\(s\) are in both the treatment and the control"
    ):
        measure_campaign(frame, orders(), campaign_date=DAY, window_days=30)


def test_orders_that_end_before_the_window_closes_are_a_clear_error() -> None:
    with pytest.raises(DataError, match="The orders end on 2024-08-15, before the 60-day response"):
        measure_campaign(campaign(), orders(), campaign_date=DAY, window_days=60)
    # stating that the orders are complete through a later day is accepted
    measure_campaign(
        campaign(), orders(), campaign_date=DAY, window_days=60, orders_end="2024-08-31"
    )


def test_a_campaign_date_after_the_orders_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="is after the last order"):
        measure_campaign(campaign(), orders(), campaign_date="2024-09-01", window_days=7)


def test_a_campaign_date_before_the_scores_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="before the scores' as-of date 2024-06-30"):
        measure_campaign(campaign(), orders(), campaign_date="2024-06-01", window_days=7)


def test_a_campaign_read_from_an_export_folder(tmp_path) -> None:
    from winback.export import export_campaign

    scored = campaign().assign(
        offer="x", channel="email", expected_gain=1.0, expected_value=10.0, value_tier="low"
    )
    customers = pd.DataFrame(
        {
            "customer_id": range(1, 10),
            "email": [f"c{i}@x.org" for i in range(1, 10)],
            "marketing_opt_in": [True] * 8 + [False],
        }
    )
    export_campaign(
        scored, customers, tmp_path / "export", campaign_id="spring", layout="mailchimp"
    )
    read = read_campaign(tmp_path / "export")
    assert read.campaign_id == "spring"
    frame = read.frame.set_index("customer_id")
    assert (
        frame["group"].to_dict()
        == campaign()
        .iloc[:8]
        .set_index(campaign()["customer_id"].astype(str).iloc[:8])["group"]
        .to_dict()
    )
    assert frame.loc["1", "cost"] == 2.0 and frame.loc["6", "cost"] == 2.0
    result = measure_campaign(read, orders(), campaign_date=DAY, window_days=30)
    assert result.results["campaign_id"] == "spring"
    assert json.loads(json.dumps(result.results)) == result.results  # JSON-ready
