"""BTYD predictions against Monte-Carlo simulation, and parameter recovery from simulated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from winback.models.btyd import BetaGeo, GammaGamma, ParetoNBD
from winback.models.btyd._beta_geo import _log_likelihood as bgnbd_log_likelihood
from winback.models.btyd._pareto_nbd import _Histories
from winback.models.btyd._simulate import (
    simulate_bg_nbd,
    simulate_gamma_gamma,
    simulate_pareto_nbd,
)

BGNBD_TRUTH = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}
PARETO_TRUTH = {"r": 0.6, "alpha": 8.0, "s": 0.7, "beta": 12.0}
GAMMA_GAMMA_TRUTH = {"p": 6.0, "q": 3.5, "gamma": 15.0}
HORIZON = 20.0
CASES = [
    pytest.param((BetaGeo, simulate_bg_nbd, BGNBD_TRUTH), id="bgnbd"),
    pytest.param((ParetoNBD, simulate_pareto_nbd, PARETO_TRUTH), id="pareto"),
]


def with_truth(cls, params):
    model = cls()
    model.params_ = dict(params)
    return model


def assert_group_means_agree(predicted, outcome, groups, *, z=4.0):
    """Each group's mean prediction lies within z standard errors of its mean outcome."""
    frame = pd.DataFrame({"predicted": predicted, "outcome": outcome, "group": groups})
    summary = frame.groupby("group").agg(
        predicted=("predicted", "mean"), observed=("outcome", "mean"),
        spread=("outcome", "std"), n=("outcome", "size"),
    )  # fmt: skip
    error = (summary["predicted"] - summary["observed"]).abs()
    assert (error <= z * summary["spread"] / np.sqrt(summary["n"]) + 1e-9).all(), summary


@pytest.fixture(scope="module", params=CASES)
def simulated_base(request):
    cls, simulate, truth = request.param
    rng = np.random.default_rng(20240601)
    base = simulate(truth, rng.uniform(5.0, 40.0, 150_000), horizon=HORIZON, rng=rng)
    return with_truth(cls, truth), base


def test_probability_of_purchase_matches_simulated_share_of_buyers(simulated_base):
    model, base = simulated_base
    predicted = model.probability_of_purchase(HORIZON, base)
    deciles = pd.qcut(predicted, 10, labels=False, duplicates="drop")
    assert_group_means_agree(predicted, (base["future_purchases"] > 0).astype(float), deciles)


def test_probability_alive_matches_simulated_share_alive(simulated_base):
    model, base = simulated_base
    predicted = model.probability_alive(base)
    deciles = pd.qcut(predicted.round(12), 10, labels=False, duplicates="drop")
    assert_group_means_agree(predicted, base["alive"].astype(float), deciles)


def test_expected_purchases_matches_simulated_mean_purchases(simulated_base):
    model, base = simulated_base
    predicted = model.expected_purchases(HORIZON, base)
    deciles = pd.qcut(predicted, 10, labels=False, duplicates="drop")
    assert_group_means_agree(predicted, base["future_purchases"], deciles)


def test_new_customer_expectation_matches_simulated_mean(simulated_base):
    model, _ = simulated_base
    cls, simulate = type(model), {BetaGeo: simulate_bg_nbd, ParetoNBD: simulate_pareto_nbd}
    rng = np.random.default_rng(7)
    fresh = simulate[cls](model.params_, np.zeros(200_000), horizon=HORIZON, rng=rng)
    purchases = fresh["future_purchases"]
    expected = model.expected_purchases_new_customer(HORIZON)
    assert abs(purchases.mean() - expected) < 4 * purchases.std() / np.sqrt(len(purchases))


def test_gamma_gamma_conditional_value_matches_simulated_next_transaction():
    rng = np.random.default_rng(11)
    base = simulate_gamma_gamma(GAMMA_GAMMA_TRUTH, rng.integers(0, 12, 200_000), rng=rng)
    predicted = with_truth(GammaGamma, GAMMA_GAMMA_TRUTH).conditional_expected_average_profit(base)
    deciles = pd.qcut(predicted, 10, labels=False, duplicates="drop")
    assert_group_means_agree(predicted, base["next_value"], deciles)


# ---- parameter recovery ----------------------------------------------------------------------

# Twice the log-likelihood ratio of the MLE over the truth is asymptotically chi-square(k).
LR_BOUND_4 = stats.chi2.ppf(0.999, df=4)
LR_BOUND_3 = stats.chi2.ppf(0.999, df=3)


def test_bgnbd_recovers_simulated_parameters():
    rng = np.random.default_rng(3)
    data = simulate_bg_nbd(BGNBD_TRUTH, rng.uniform(30.0, 120.0, 10_000), horizon=0.0, rng=rng)
    model = BetaGeo().fit(data)
    assert model.params_ == pytest.approx(BGNBD_TRUTH, rel=0.1)
    columns = [data[c].to_numpy() for c in ("frequency", "recency", "T")]
    at_truth = bgnbd_log_likelihood(np.array(list(BGNBD_TRUTH.values())), *columns)[0].sum()
    assert 0 <= 2 * (model.log_likelihood_ - at_truth) < LR_BOUND_4


def test_pareto_recovers_simulated_parameters():
    rng = np.random.default_rng(3)
    data = simulate_pareto_nbd(PARETO_TRUTH, rng.uniform(30.0, 120.0, 10_000), horizon=0, rng=rng)
    model = ParetoNBD().fit(data)
    fitted, truth = model.params_, PARETO_TRUTH
    assert fitted["r"] == pytest.approx(truth["r"], rel=0.1)
    assert fitted["r"] / fitted["alpha"] == pytest.approx(truth["r"] / truth["alpha"], rel=0.05)

    # The share still active a year after acquisition, (beta / (beta + 52)) ** s, is what the
    # dropout process identifies best (s and beta separately are strongly correlated).
    def active_after_a_year(p):
        return (p["beta"] / (p["beta"] + 52.0)) ** p["s"]

    assert active_after_a_year(fitted) == pytest.approx(active_after_a_year(truth), rel=0.05)
    columns = [data[c].to_numpy() for c in ("frequency", "recency", "T")]
    at_truth = _Histories(*columns).log_likelihood(np.log(list(truth.values()))).sum()
    assert 0 <= 2 * (model.log_likelihood_ - at_truth) < LR_BOUND_4


def test_gamma_gamma_recovers_simulated_parameters():
    rng = np.random.default_rng(5)
    data = simulate_gamma_gamma(GAMMA_GAMMA_TRUTH, rng.integers(1, 10, 20_000), rng=rng)
    model = GammaGamma().fit(data)
    assert model.params_ == pytest.approx(GAMMA_GAMMA_TRUTH, rel=0.1)
    assert model.n_customers_ == 20_000


def test_penalizer_shrinks_parameters():
    rng = np.random.default_rng(3)
    data = simulate_bg_nbd(BGNBD_TRUTH, rng.uniform(30.0, 120.0, 3_000), horizon=0.0, rng=rng)
    plain, shrunk = BetaGeo().fit(data), BetaGeo(penalizer=0.1).fit(data)
    assert sum(v**2 for v in shrunk.params_.values()) < sum(v**2 for v in plain.params_.values())
    assert shrunk.log_likelihood_ < plain.log_likelihood_


def test_initial_params_do_not_change_the_optimum():
    rng = np.random.default_rng(4)
    data = simulate_pareto_nbd(PARETO_TRUTH, rng.uniform(30.0, 120.0, 3_000), horizon=0, rng=rng)
    default = ParetoNBD().fit(data).params_
    started = ParetoNBD(initial_params={"r": 3.0, "alpha": 1.0, "s": 0.2, "beta": 50.0}).fit(data)
    assert started.params_ == pytest.approx(default, rel=1e-3)
