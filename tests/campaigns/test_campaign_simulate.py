"""Simulated campaigns: known heterogeneous effects, and the intervals covering them."""

from __future__ import annotations

import numpy as np
import pytest
from campaign_testing import ACTIONS, CAMPAIGN_DATE, trained_bundle

from winback.actions import parse_actions_config
from winback.campaigns import (
    allocation_profit,
    measure_campaign,
    oracle_allocation,
    simulate_campaign,
    true_effects,
)
from winback.models import load_model

WINDOW = 90


# one worker trains the shared churn model and runs the loop once
pytestmark = pytest.mark.xdist_group("campaigns")


@pytest.fixture(scope="module")
def simulations(tmp_path_factory):
    churn_model = load_model(trained_bundle(tmp_path_factory.getbasetemp() / "winback_campaigns"))
    actions = parse_actions_config(ACTIONS, source="test")
    # each campaign its own id, hence its own control group: the simulated bases reuse the ids
    return [
        simulate_campaign(
            churn_model,
            actions.model_copy(update={"campaign_id": f"sim-test-{seed}"}),
            n_customers=2500,
            campaign_date=CAMPAIGN_DATE,
            window_days=WINDOW,
            seed=seed,
        )
        for seed in range(8)
    ]


def test_effects_are_larger_for_at_risk_high_value_customers_and_negative_for_loyal(
    simulations,
) -> None:
    truth = simulations[0].truth
    q = truth["baseline_response"]
    value = truth["mean_order_value"]
    at_risk_high_value = (q < 0.3) & truth["alive"] & (value > value.median())
    loyal = q > 0.9
    effect = truth["effect_discount"]
    assert effect[at_risk_high_value].mean() > 0.1
    assert effect[loyal].max() < 0 < effect.max()  # sleeping dogs
    assert effect[at_risk_high_value].mean() > effect[(q < 0.3) & (value < value.median())].mean()


def test_the_window_orders_respond_to_the_treatment(simulations) -> None:
    sim = simulations[0]
    orders = sim.orders
    after = orders.loc[orders["order_ts"] > CAMPAIGN_DATE]
    assert after["order_ts"].max() < np.datetime64("2024-09-29")  # inside the 90-day window
    assert set(sim.scores["group"]) == {"treatment", "control", "none"}
    # the campaign is winback's own allocation with its hash control group
    assigned = sim.scores.loc[sim.scores["group"] != "none"]
    assert 0.25 < (assigned["group"] == "control").mean() < 0.35


def test_the_95_percent_intervals_cover_the_true_effects(simulations) -> None:
    covered = []
    for sim in simulations:
        truth = true_effects(sim)
        result = measure_campaign(
            sim.scores, sim.orders, campaign_date=CAMPAIGN_DATE, window_days=WINDOW
        )
        for row in result.results["actions"]:
            low, high = row["response"]["ci_low"], row["response"]["ci_high"]
            covered.append(low <= truth[row["label"]] <= high)
    assert len(covered) == 16
    # nominal 95%: at most 3 misses of 16 happen with probability 0.99
    assert sum(covered) >= 13


def test_the_oracle_allocation_gains_more_than_the_constant_uplift_one(simulations) -> None:
    sim = simulations[0]
    oracle = allocation_profit(oracle_allocation(sim), sim)
    assert oracle > 0
    assert oracle > allocation_profit(sim.scores, sim)


def test_the_oracle_gain_is_the_true_incremental_revenue_less_cost(simulations) -> None:
    sim = simulations[0]
    oracle = oracle_allocation(sim)
    truth = sim.truth.set_index("customer_id").reindex(oracle["customer_id"].astype(str))
    costs = {a.name: a.unit_cost for a in sim.config.actions}
    assigned = oracle.loc[oracle["group"] != "none"]
    assert len(assigned) > 0
    true_gain = [
        truth.at[str(c), f"revenue_effect_{a}"] - costs[a]
        for c, a in zip(assigned["customer_id"], assigned["action"], strict=True)
    ]
    np.testing.assert_allclose(assigned["expected_gain"], true_gain, rtol=1e-12, atol=1e-9)
    # the oracle's frame is an allocation input only: the scored expected value is given back
    np.testing.assert_array_equal(oracle["expected_value"], sim.scores["expected_value"])
