"""Each customer's BTYD outlook: p_alive, the median wait for the next order, discounted CLV.

Checked against the simulator's latent truth (it simulates the BG/NBD process: who is alive at
the cutoff and when the next order actually came, with three years of follow-up), against an
independent Monte-Carlo draw of the posterior, and against GammaGamma.customer_lifetime_value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from simulated import btyd_truth
from winback.datasets import alive_at
from winback.evaluation._next_order import next_order_days
from winback.exceptions import ConfigError
from winback.models import DAYS_PER_MONTH, btyd_outlook, discounted_purchases
from winback.models.btyd import BetaGeo, GammaGamma, ParetoNBD

CDNOW_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
HISTORIES = pd.DataFrame(
    {
        "frequency": [0, 1, 2, 7, 20],
        "recency": [0.0, 5, 30.43, 20, 38],
        "T": [38.86, 30, 38.86, 39, 39],
    }
)


def with_params(cls, params):
    model = cls()
    model.params_ = dict(params)
    return model


@pytest.fixture(scope="module")
def truth():
    base = btyd_truth()
    alive = alive_at(base.truth, base.cutoff + pd.Timedelta(days=1)).reindex(base.features.index)
    outlook = btyd_outlook(base.features, base.fitted.bgnbd, "bgnbd")
    return base, alive.to_numpy(), outlook


@pytest.mark.parametrize(
    ("cls", "params"), [(BetaGeo, CDNOW_BGNBD), (ParetoNBD, CDNOW_PARETO)], ids=["bgnbd", "pareto"]
)
@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_wait_quantile_matches_a_monte_carlo_draw_of_the_posterior(cls, params, q):
    # Given activity, lambda ~ Gamma(r + x, rate alpha + T) and the wait ~ Exp(lambda): draw both.
    model = with_params(cls, params)
    predicted = model.time_to_next_purchase(HISTORIES, quantile=q)
    rng = np.random.default_rng(7)
    x, T = HISTORIES["frequency"].to_numpy(), HISTORIES["T"].to_numpy()
    lam = rng.gamma(params["r"] + x, 1.0 / (params["alpha"] + T), size=(400_000, len(x)))
    waits = rng.exponential(1.0 / lam)
    share_by = (waits <= predicted).mean(axis=0)
    # 400,000 draws: the share's standard error is at most 0.0008; 0.004 is five of them
    np.testing.assert_allclose(share_by, q, atol=0.004)


def test_median_wait_is_the_lomax_median_in_closed_form():
    model = with_params(BetaGeo, CDNOW_BGNBD)
    x, T = HISTORIES["frequency"].to_numpy(), HISTORIES["T"].to_numpy()
    expected = (4.414 + T) * (2 ** (1 / (0.243 + x)) - 1)
    np.testing.assert_allclose(model.time_to_next_purchase(HISTORIES), expected, rtol=1e-12)
    with pytest.raises(ConfigError, match=r"expected 0 < quantile < 1, got 1\.0"):
        model.time_to_next_purchase(HISTORIES, quantile=1.0)


def test_p_alive_ranks_and_matches_the_simulated_share_alive(truth):
    _, alive, outlook = truth
    p = outlook["p_alive"].to_numpy()
    # chance ranks at 0.5; the BG/NBD fit on the BG/NBD process reaches about 0.95
    assert roc_auc_score(alive, p) > 0.9
    # 3,000 customers: the standard error of mean(alive - p) is below 0.01 (sum of p(1 - p)
    # over n^2); 0.03 leaves room for the parameters' estimation error
    assert abs(p.mean() - alive.mean()) < 0.03
    deciles = pd.qcut(p, 10, labels=False, duplicates="drop")
    table = pd.DataFrame({"p": p, "alive": alive}).groupby(deciles).mean()
    # each decile holds ~300 customers: a standard error of at most 0.029 on its share alive
    assert (table["p"] - table["alive"]).abs().max() < 0.09, table


def test_active_customers_order_by_the_predicted_median_half_the_time(truth):
    base, alive, outlook = truth
    days = outlook["days_to_next_order"].to_numpy()
    actual = next_order_days(
        base.orders, base.features.index, cutoff=base.cutoff, holdout_days=base.follow_up_days
    )
    known = alive & (days <= base.follow_up_days)  # whether they ordered by then is observed
    share = float((actual[known] <= days[known]).mean())
    # ~1,500 active customers: the share's standard error is 0.013; +-0.05 allows for the fit
    assert known.sum() > 1000
    assert share == pytest.approx(0.5, abs=0.05)


def test_days_to_next_order_are_whole_days_of_at_least_one(truth):
    _, _, outlook = truth
    days = outlook["days_to_next_order"].to_numpy()
    assert (days >= 1).all()
    np.testing.assert_array_equal(days, np.round(days))


def test_undiscounted_purchases_are_the_expected_purchases_over_the_horizon():
    model = with_params(BetaGeo, CDNOW_BGNBD)
    months = 12
    expected = model.expected_purchases(months * DAYS_PER_MONTH / 7, HISTORIES)
    np.testing.assert_allclose(
        discounted_purchases(model, HISTORIES, months=months), expected, rtol=1e-9
    )


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_discounted_purchases_agree_with_gamma_gammas_monthly_clv(rate):
    transactions = with_params(ParetoNBD, CDNOW_PARETO)
    spend = with_params(GammaGamma, {"p": 6.25, "q": 3.74, "gamma": 15.44})
    data = HISTORIES.assign(monetary_value=[0.0, 20.0, 35.0, 40.0, 50.0])
    clv = spend.customer_lifetime_value(
        transactions,
        data,
        time=12 * DAYS_PER_MONTH / 7,
        discount_rate=(1 + rate) ** (1 / 12) - 1,
        periods=12,
    )
    ours = discounted_purchases(transactions, data, months=12, annual_discount_rate=rate)
    np.testing.assert_allclose(
        ours * spend.conditional_expected_average_profit(data), clv, rtol=1e-9
    )
    assert (ours < discounted_purchases(transactions, data, months=12)).all()


def test_discounted_purchases_refuse_a_bad_horizon_or_rate():
    model = with_params(BetaGeo, CDNOW_BGNBD)
    with pytest.raises(ConfigError, match="months: expected a whole number >= 1, got 0"):
        discounted_purchases(model, HISTORIES, months=0)
    with pytest.raises(ConfigError, match=r"annual_discount_rate: expected >= 0, got -0\.1"):
        discounted_purchases(model, HISTORIES, months=3, annual_discount_rate=-0.1)


def test_clv_spend_is_discounted_purchases_times_gamma_gamma_value(truth):
    base, _, outlook = truth
    features = base.features
    rfm = pd.DataFrame(
        {
            "frequency": features["rfm_frequency"],
            "recency": features["rfm_recency"] / 7,
            "T": features["rfm_T"] / 7,
        }
    )
    purchases = discounted_purchases(base.fitted.bgnbd, rfm, months=12)
    np.testing.assert_allclose(
        outlook["clv_spend"], purchases * features["gg_expected_value"], rtol=1e-9
    )
    discounted = btyd_outlook(features, base.fitted.bgnbd, "bgnbd", annual_discount_rate=0.2)
    assert (discounted["clv_spend"] <= outlook["clv_spend"]).all()
    assert discounted["clv_spend"].sum() < outlook["clv_spend"].sum()


def test_outlook_without_a_fitted_model_is_missing(truth):
    base, _, _ = truth
    empty = btyd_outlook(base.features, None, None)
    assert list(empty.columns) == ["p_alive", "days_to_next_order", "clv_spend"]
    assert empty.isna().all().all()


def test_the_model_uses_the_btyd_model_training_chose_for_churn(sim_trained):
    model = sim_trained.result.model
    churn = model.tasks["churn"]
    assert model.btyd_model == churn.btyd_score.model
    frame = model.build_features(
        pd.read_parquet(sim_trained.paths["orders"]),
        cutoff="2023-06-30",
        events=pd.read_parquet(sim_trained.paths["events"]),
        customers=pd.read_parquet(sim_trained.paths["customers"]),
    )
    outlook = model.outlook(frame)
    np.testing.assert_array_equal(outlook["p_alive"], frame[f"{model.btyd_model}_p_alive"])
