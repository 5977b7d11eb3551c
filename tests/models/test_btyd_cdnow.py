"""The BTYD fits reproduce the published CDNOW results on the 1/10 sample.

Fader, Hardie & Lee (2005), "Counting your customers the easy way" (BG/NBD, and Pareto/NBD for
comparison) and "RFM and CLV" (Gamma-Gamma): 2,357 customers, 39-week calibration period ending
1997-09-30, time in weeks, same-day orders merged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from winback.models.btyd import BetaGeo, GammaGamma, ParetoNBD, _beta_geo, _pareto_nbd

PUBLISHED = {
    "bgnbd": ({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, -9582.4),
    "pareto": ({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, -9595.0),
}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def test_calibration_summary_has_the_published_customer_counts(cdnow_sample_summary):
    assert len(cdnow_sample_summary) == 2357
    assert int((cdnow_sample_summary["frequency"] > 0).sum()) == 946
    assert cdnow_sample_summary["T"].max() == pytest.approx(272 / 7)  # bought on 1997-01-01


@pytest.mark.parametrize("name", ["bgnbd", "pareto"])
def test_transaction_models_reproduce_published_parameters_and_log_likelihood(cdnow_fits, name):
    params, log_likelihood = PUBLISHED[name]
    model = cdnow_fits[name]
    assert model.params_ == pytest.approx(params, rel=5e-3)
    assert model.log_likelihood_ == pytest.approx(log_likelihood, abs=0.1)
    assert model.n_customers_ == 2357


def test_gamma_gamma_reproduces_published_parameters_on_the_946_repeat_buyers(cdnow_fits):
    model = cdnow_fits["gamma_gamma"]
    assert model.params_ == pytest.approx(PUBLISHED_GAMMA_GAMMA, rel=5e-3)
    assert model.n_customers_ == 946


def test_gamma_gamma_ignores_customers_without_repeat_purchases(cdnow_sample_summary, cdnow_fits):
    everyone = GammaGamma().fit(cdnow_sample_summary)
    assert everyone.params_ == pytest.approx(cdnow_fits["gamma_gamma"].params_, rel=1e-9)
    assert everyone.n_customers_ == 946


def test_bgnbd_conditional_expectation_matches_the_published_example():
    # FHL (2005), section 5: x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in 39 weeks.
    model = BetaGeo()
    model.params_ = dict(PUBLISHED["bgnbd"][0])
    history = {"frequency": [2], "recency": [30.43], "T": [38.86]}
    assert model.expected_purchases(39, history)[0] == pytest.approx(1.226, abs=5e-4)


def test_fit_is_invariant_to_the_time_unit(cdnow_sample_summary, cdnow_fits):
    in_days = cdnow_sample_summary.assign(
        recency=cdnow_sample_summary["recency"] * 7, T=cdnow_sample_summary["T"] * 7
    )
    for name, cls, scaled in (
        ("bgnbd", BetaGeo, {"alpha"}),
        ("pareto", ParetoNBD, {"alpha", "beta"}),
    ):
        weekly = cdnow_fits[name].params_
        daily = cls().fit(in_days).params_
        expected = {k: v * 7 if k in scaled else v for k, v in weekly.items()}
        assert daily == pytest.approx(expected, rel=1e-4)


def test_log_likelihood_of_collapsed_histories_equals_the_per_customer_sum(
    cdnow_sample_summary, cdnow_fits
):
    columns = [cdnow_sample_summary[c].to_numpy() for c in ("frequency", "recency", "T")]
    bgnbd, pareto = cdnow_fits["bgnbd"], cdnow_fits["pareto"]
    bgnbd_ll, _ = _beta_geo._log_likelihood(np.array(list(bgnbd.params_.values())), *columns)
    log_params = np.log(list(pareto.params_.values()))
    pareto_ll = _pareto_nbd._Histories(*columns).log_likelihood(log_params)
    assert bgnbd_ll.sum() == pytest.approx(bgnbd.log_likelihood_, rel=1e-12)
    assert pareto_ll.sum() == pytest.approx(pareto.log_likelihood_, rel=1e-12)


def test_refitting_gives_identical_parameters(cdnow_sample_summary, cdnow_fits):
    again = ParetoNBD().fit(cdnow_sample_summary)
    assert again.params_ == cdnow_fits["pareto"].params_
    shuffled = cdnow_sample_summary.sample(frac=1.0, random_state=3)
    assert BetaGeo().fit(shuffled).params_ == cdnow_fits["bgnbd"].params_


def test_predictions_follow_row_order_and_accept_mappings(cdnow_sample_summary, cdnow_fits):
    model = cdnow_fits["bgnbd"]
    frame = cdnow_sample_summary.iloc[:50]
    as_mapping = {c: frame[c].to_list() for c in ("frequency", "recency", "T")}
    reversed_frame = frame.iloc[::-1]
    expected = model.probability_of_purchase(13.0, frame)
    assert np.array_equal(model.probability_of_purchase(13.0, as_mapping), expected)
    assert np.array_equal(model.probability_of_purchase(13.0, reversed_frame), expected[::-1])
    assert isinstance(expected, np.ndarray) and expected.dtype == np.float64


def test_clv_of_cdnow_customers_is_expected_purchases_times_expected_value(
    cdnow_sample_summary, cdnow_fits
):
    summary = cdnow_sample_summary
    spend = cdnow_fits["gamma_gamma"].customer_lifetime_value(cdnow_fits["bgnbd"], summary, time=39)
    expected = cdnow_fits["bgnbd"].expected_purchases(39, summary) * cdnow_fits[
        "gamma_gamma"
    ].conditional_expected_average_profit(summary)
    np.testing.assert_allclose(spend, expected, rtol=1e-12)
    assert isinstance(summary, pd.DataFrame) and np.all(spend > 0)
