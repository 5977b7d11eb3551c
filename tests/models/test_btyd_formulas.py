"""BTYD formulas against hand-derived values, independent quadrature and shape properties."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from winback.models.btyd import BetaGeo, GammaGamma, ParetoNBD, _beta_geo, _gamma_gamma
from winback.models.btyd._pareto_nbd import _log_tail_integral

CDNOW_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}


def fitted(cls, params):
    model = cls()
    model.params_ = dict(params)
    return model


def history(frequency, recency, T):
    return {
        "frequency": np.atleast_1d(frequency),
        "recency": np.atleast_1d(recency),
        "T": np.atleast_1d(T),
    }


# ---- hand examples ---------------------------------------------------------------------------


def test_bgnbd_new_customer_expectation_hand_example():
    # r = 2, alpha = 1, a = 2, b = 1, t = 1: E = int_0^1 2p (1/p)(1 - (1+p)^-2) dp = 1 exactly.
    model = fitted(BetaGeo, {"r": 2.0, "alpha": 1.0, "a": 2.0, "b": 1.0})
    assert model.expected_purchases_new_customer(1.0) == pytest.approx(1.0, rel=1e-12)


def test_pareto_new_customer_expectation_hand_example():
    # r = 1, alpha = 1, s = 2, beta = 1, t = 1: E[lambda] E[(1 - e^-mu)/mu] = 1 * (1 - 1/2).
    model = fitted(ParetoNBD, {"r": 1.0, "alpha": 1.0, "s": 2.0, "beta": 1.0})
    assert model.expected_purchases_new_customer(1.0) == pytest.approx(0.5, rel=1e-12)


def test_pareto_new_customer_expectation_is_continuous_at_s_equal_one():
    at_one = fitted(ParetoNBD, {"r": 1.0, "alpha": 2.0, "s": 1.0, "beta": 3.0})
    near_one = fitted(ParetoNBD, {"r": 1.0, "alpha": 2.0, "s": 1.0 + 1e-6, "beta": 3.0})
    # s = 1: E = r beta / alpha * ln(1 + t / beta)
    assert at_one.expected_purchases_new_customer(6.0) == pytest.approx(1.5 * np.log(3.0))
    assert near_one.expected_purchases_new_customer(6.0) == pytest.approx(1.5 * np.log(3.0))


def test_bgnbd_probability_alive_after_a_purchase_today_is_b_over_a_plus_b():
    # x = 1 and t_x = T: alive iff the one repeat purchase did not end the relationship.
    model = fitted(BetaGeo, {"r": 0.7, "alpha": 3.0, "a": 1.5, "b": 4.5})
    assert model.probability_alive(history(1, 20.0, 20.0))[0] == pytest.approx(0.75, rel=1e-12)


def test_customers_without_repeat_purchases_are_alive_under_bgnbd():
    model = fitted(BetaGeo, CDNOW_BGNBD)
    np.testing.assert_array_equal(model.probability_alive(history([0, 0], [0, 0], [1, 50])), 1.0)


def test_conditional_expectation_of_a_brand_new_customer_is_the_unconditional_one():
    for cls, params in ((BetaGeo, CDNOW_BGNBD), (ParetoNBD, CDNOW_PARETO)):
        model = fitted(cls, params)
        t = np.array([1.0, 13.0, 52.0])
        conditional = model.expected_purchases(t, history([0] * 3, [0] * 3, [0] * 3))
        np.testing.assert_allclose(
            conditional, model.expected_purchases_new_customer(t), rtol=1e-10
        )


def test_gamma_gamma_conditional_value_hand_example():
    # p (gamma + x m) / (p x + q - 1) = 2 (10 + 3 * 20) / (6 + 3 - 1) = 17.5; x = 0: p gamma/(q-1).
    model = fitted(GammaGamma, {"p": 2.0, "q": 3.0, "gamma": 10.0})
    data = {"frequency": [3, 0], "monetary_value": [20.0, np.nan]}
    np.testing.assert_allclose(model.conditional_expected_average_profit(data), [17.5, 10.0])


def test_customer_lifetime_value_discounts_each_period():
    value = fitted(GammaGamma, {"p": 2.0, "q": 3.0, "gamma": 10.0})
    purchases = fitted(BetaGeo, CDNOW_BGNBD)
    data = {**history([2, 0], [10.0, 0.0], [20.0, 15.0]), "monetary_value": [30.0, 0.0]}
    clv = value.customer_lifetime_value(purchases, data, time=8.0, discount_rate=0.1, periods=2)
    first = purchases.expected_purchases(4.0, data)
    second = purchases.expected_purchases(8.0, data) - first
    expected = value.conditional_expected_average_profit(data) * (first / 1.1 + second / 1.21)
    np.testing.assert_allclose(clv, expected, rtol=1e-12)


# ---- independent numerical checks ------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "t_x", "T", "t"), [(0, 0.0, 30.0, 10.0), (3, 20.0, 35.0, 39.0), (25, 38.0, 38.5, 5.0)]
)
def test_bgnbd_expected_purchases_matches_quadrature_over_the_posterior(x, t_x, T, t):
    # Given alive: lambda ~ Gamma(r+x, alpha+T), p ~ Beta(a, b+x);
    # E[Y] = E_p[(1 - E_lambda[exp(-lambda p t)]) / p].
    r, alpha, a, b = CDNOW_BGNBD.values()
    model = fitted(BetaGeo, CDNOW_BGNBD)

    def integrand(p):
        return (
            (1 - ((alpha + T) / (alpha + T + p * t)) ** (r + x)) / p * stats.beta.pdf(p, a, b + x)
        )

    if_alive, _ = integrate.quad(integrand, 0, 1, epsabs=0, epsrel=1e-11, limit=200)
    alive = model.probability_alive(history(x, t_x, T))[0]
    assert model.expected_purchases(t, history(x, t_x, T))[0] == pytest.approx(alive * if_alive)


@pytest.mark.parametrize(
    ("x", "t_x", "T", "t"), [(0, 0.0, 30.0, 10.0), (4, 10.0, 35.0, 39.0), (60, 30.0, 31.0, 2.0)]
)
def test_pareto_probability_of_purchase_matches_quadrature(x, t_x, T, t):
    # Given alive: the first purchase after T comes at u <= t with density
    # E[lambda e^-lambda u] E[e^-mu u] over lambda ~ Gamma(r+x, alpha+T), mu ~ Gamma(s, beta+T).
    r, alpha, s, beta = CDNOW_PARETO.values()
    model = fitted(ParetoNBD, CDNOW_PARETO)
    a_T, b_T, rx = alpha + T, beta + T, r + x

    def density(u):
        return rx / a_T * (a_T / (a_T + u)) ** (rx + 1) * (b_T / (b_T + u)) ** s

    if_alive, _ = integrate.quad(density, 0, t, epsabs=0, epsrel=1e-11)
    alive = model.probability_alive(history(x, t_x, T))[0]
    got = model.probability_of_purchase(t, history(x, t_x, T))[0]
    assert got == pytest.approx(alive * if_alive, rel=1e-9)


@pytest.mark.parametrize(
    ("y", "a", "p", "b", "q"),
    [
        (0.0, 10.0, 1.5, 11.0, 1.6),
        (3.0, 11.0, 50.0, 1.0, 1.6),
        (0.0, 1.0, 50.0, 100.0, 1.6),
        (0.0, 1.0, 300.0, 100.0, 1.6),
        (0.0, 100.0, 300.0, 1.0, 1.0),
        (2.0, 5.0, 0.6, 5.0, 0.5),
    ],
)
def test_pareto_tail_integral_matches_quadrature(y, a, p, b, q):
    # int_y^inf (a+u)^-p (b+u)^-q du, scaled by its value at y so quad sees numbers near 1.
    log_scale = -p * np.log(a + y) - q * np.log(b + y)
    scaled, _ = integrate.quad(
        lambda u: np.exp(-p * np.log(a + u) - q * np.log(b + u) - log_scale),
        y,
        np.inf,
        epsabs=0,
        epsrel=1e-12,
        limit=500,
    )
    assert _log_tail_integral(y, a, p, b, q) == pytest.approx(np.log(scaled) + log_scale, abs=1e-9)


# ---- shape properties ------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "params"), [(BetaGeo, CDNOW_BGNBD), (ParetoNBD, CDNOW_PARETO)])
def test_probability_alive_falls_with_T_and_rises_with_recency(cls, params):
    model = fitted(cls, params)
    T = np.linspace(20.0, 80.0, 25)
    older = model.probability_alive(history(np.full(25, 4), np.full(25, 15.0), T))
    assert np.all(np.diff(older) < 0)
    recency = np.linspace(1.0, 40.0, 25)
    fresher = model.probability_alive(history(np.full(25, 4), recency, np.full(25, 40.0)))
    assert np.all(np.diff(fresher) > 0)
    assert np.all((older > 0) & (older < 1) & (fresher > 0) & (fresher <= 1))


def test_pareto_probability_alive_of_one_time_buyers_falls_with_T():
    model = fitted(ParetoNBD, CDNOW_PARETO)
    alive = model.probability_alive(history(np.zeros(10), np.zeros(10), np.linspace(1, 60, 10)))
    assert np.all(np.diff(alive) < 0)


@pytest.mark.parametrize(("cls", "params"), [(BetaGeo, CDNOW_BGNBD), (ParetoNBD, CDNOW_PARETO)])
def test_purchase_probability_grows_with_horizon_up_to_probability_alive(cls, params):
    model = fitted(cls, params)
    data = history([0, 1, 3, 12], [0.0, 5.0, 20.0, 37.0], [38.0, 30.0, 38.0, 38.0])
    horizons = [0.5, 4.0, 13.0, 52.0, 520.0]
    curves = np.array([model.probability_of_purchase(t, data) for t in horizons])
    assert np.all(np.diff(curves, axis=0) > 0)
    assert np.all(curves[-1] <= model.probability_alive(data))
    np.testing.assert_array_equal(model.probability_of_purchase(0.0, data), 0.0)
    expected = np.array([model.expected_purchases(t, data) for t in horizons])
    assert np.all(np.diff(expected, axis=0) > 0) and np.all(expected >= curves)


def test_bgnbd_active_customers_buy_eventually():
    model = fitted(BetaGeo, CDNOW_BGNBD)
    data = history([2, 7], [10.0, 30.0], [38.0, 38.0])
    np.testing.assert_allclose(
        model.probability_of_purchase(1e9, data), model.probability_alive(data), rtol=1e-6
    )


def test_bgnbd_expected_purchases_is_continuous_at_a_equal_one():
    data = history([0, 5], [0.0, 20.0], [30.0, 30.0])
    at_one = fitted(BetaGeo, {**CDNOW_BGNBD, "a": 1.0}).expected_purchases(26.0, data)
    around = [
        fitted(BetaGeo, {**CDNOW_BGNBD, "a": 1.0 + d}).expected_purchases(26.0, data)
        for d in (-1e-4, 1e-4)
    ]
    np.testing.assert_allclose(at_one, np.mean(around, axis=0), rtol=1e-6)


def test_predictions_stay_finite_for_heavy_buyers():
    data = history([500, 2000], [51.0, 51.9], [52.0, 52.0])
    for model in (
        fitted(BetaGeo, CDNOW_BGNBD),
        fitted(ParetoNBD, CDNOW_PARETO),
        fitted(ParetoNBD, {"r": 0.5, "alpha": 100.0, "s": 0.3, "beta": 0.5}),
    ):
        for values in (
            model.probability_alive(data),
            model.expected_purchases(4.0, data),
            model.probability_of_purchase(4.0, data),
        ):
            assert np.all(np.isfinite(values)) and np.all(values > 0)


# ---- analytic gradients ----------------------------------------------------------------------


def test_bgnbd_and_gamma_gamma_analytic_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 12, 60).astype(float)
    T = rng.uniform(10.0, 40.0, 60)
    t_x = np.where(x > 0, T * rng.uniform(0.0, 1.0, 60), 0.0)
    m = rng.gamma(4.0, 10.0, 60)
    cases = [
        (_beta_geo._log_likelihood, np.log([0.5, 4.0, 0.8, 2.5]), (x, t_x, T)),
        (_gamma_gamma._log_likelihood, np.log([6.0, 3.5, 15.0]), (np.maximum(x, 1.0), m)),
    ]
    for log_likelihood, theta, columns in cases:
        analytic = log_likelihood(np.exp(theta), *columns)[1].sum(axis=1)
        numeric = optimize.approx_fprime(
            theta, lambda th, f=log_likelihood, c=columns: f(np.exp(th), *c)[0].sum(), 1e-7
        )
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-5)
