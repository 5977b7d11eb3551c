"""How the BTYD fits are computed: analytic gradients, the 2F1 they rest on, the choice between a
warm and the default start, determinism, and the diagnostics of degenerate fits."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from winback.exceptions import ConfigError
from winback.models.btyd import BetaGeo, ParetoNBD, _beta_geo, _pareto_nbd
from winback.models.btyd._base import Histories, collapse_rows
from winback.models.btyd._hypergeometric import hyp2f1_one, log_hyp2f1_one_derivatives
from winback.models.btyd._simulate import simulate_pareto_nbd

COLUMNS = ("frequency", "recency", "T")


@pytest.fixture(scope="module")
def histories(cdnow_sample_summary):
    """The CDNOW histories plus heavy buyers, a long silence and a purchase on the last day."""
    extra = {"frequency": [300, 150, 1, 60], "recency": [38.0, 5.0, 20.0, 0.5],
             "T": [38.5, 38.0, 20.0, 38.0]}  # fmt: skip
    columns = [np.concatenate([cdnow_sample_summary[c], extra[c]]) for c in COLUMNS]
    (x, t_x, T), counts = collapse_rows(*columns)
    return Histories(x, t_x, T, counts, rate=1.0), columns


def five_point_gradient(objective, theta, step=1e-3):
    """Central differences of order 4: truncation ~step^4, rounding ~1e-16 / step."""
    out = []
    for e in np.eye(theta.size) * step:
        values = [objective(theta + k * e)[0] for k in (-2, -1, 1, 2)]
        out.append((values[0] - 8 * values[1] + 8 * values[2] - values[3]) / (12 * step))
    return np.array(out)


# ---- analytic gradients ----------------------------------------------------------------------

BGNBD_POINTS = [
    (0.243, 4.414, 0.793, 2.426),  # the published CDNOW fit
    (0.3, 5.0, 1e-5, 786.0),  # dropout vanishing (a -> 0, b large)
    (0.24, 4.4, 2e3, 6e3),  # nearly homogeneous dropout probability
    (20.0, 300.0, 0.5, 10.0),  # nearly homogeneous purchase rate
    (0.01, 0.01, 30.0, 0.01),
]
PARETO_POINTS = [
    (0.553, 10.578, 0.606, 11.669),  # the published CDNOW fit
    (1.0, 5.0, 0.5, 5.0),  # alpha == beta: z = 0, and differences cross the alpha/beta swap
    (0.553, 10.578, 0.606, 1.0578e5),  # beta / alpha = 1e4: z within 1e-4 of 1, deep fractions
    (0.553, 1e3, 0.606, 0.1),  # alpha / beta = 1e4
    (0.5, 10.0, 1e-4, 100.0),  # dropout vanishing (s -> 0)
    (30.0, 300.0, 2.0, 20.0),
    (0.05, 0.5, 20.0, 0.4),
]


@pytest.mark.parametrize(
    ("module", "params"),
    [(_beta_geo, p) for p in BGNBD_POINTS] + [(_pareto_nbd, p) for p in PARETO_POINTS],
)
def test_fit_objective_gradient_matches_finite_differences(histories, module, params):
    objective = module._Likelihood(histories[0])
    theta = np.log(params)
    value, gradient = objective(theta)
    assert np.isfinite(value)
    np.testing.assert_allclose(
        gradient, five_point_gradient(objective, theta), rtol=1e-6, atol=1e-9
    )


@pytest.mark.parametrize("params", BGNBD_POINTS)
def test_bgnbd_fit_objective_is_the_mean_per_customer_log_likelihood(histories, params):
    h, columns = histories
    per_customer = _beta_geo._log_likelihood(np.array(params), *columns)[0]
    value, _ = _beta_geo._Likelihood(h)(np.log(params))
    assert -value == pytest.approx(per_customer.mean(), rel=1e-12)


@pytest.mark.parametrize("params", PARETO_POINTS)
def test_pareto_fit_objective_is_the_mean_per_customer_log_likelihood(histories, params):
    # _Histories evaluates J through hyp2f1_one, independently of the fit's fraction.
    h, columns = histories
    per_customer = _pareto_nbd._Histories(*columns).log_likelihood(np.log(params))
    value, _ = _pareto_nbd._Likelihood(h)(np.log(params))
    assert -value == pytest.approx(per_customer.mean(), rel=1e-12)


@pytest.mark.parametrize(
    "rows",
    [
        {"frequency": [1, 2, 5], "recency": [3.0, 10.0, 10.0], "T": [10.0, 12.0, 10.0]},
        {"frequency": [0, 0, 0, 2, 2, 2, 2], "recency": [0, 0, 0, 5.0, 5.0, 8.0, 8.0],
         "T": [0.0, 0.0, 7.0, 8.0, 9.0, 8.0, 12.0]},
    ],
    ids=["no one-time buyers", "acquired at the cutoff, shared points, last-day purchase"],
)  # fmt: skip
def test_pareto_fit_objective_on_edge_histories(rows):
    columns = [np.asarray(rows[c], dtype=np.float64) for c in COLUMNS]
    (x, t_x, T), counts = collapse_rows(*columns)
    objective = _pareto_nbd._Likelihood(Histories(x, t_x, T, counts, rate=1.0))
    theta = np.log(PARETO_POINTS[0])
    per_customer = _pareto_nbd._Histories(*columns).log_likelihood(theta)
    value, gradient = objective(theta)
    assert -value == pytest.approx(per_customer.mean(), rel=1e-12)
    np.testing.assert_allclose(
        gradient, five_point_gradient(objective, theta), rtol=1e-6, atol=1e-9
    )


# ---- the Gaussian hypergeometric function ----------------------------------------------------

HARD_CASES = [
    (300.5, 2.0, 0.95),
    (1000.2, 40.0, 0.99),
    (1.6, 3.0, 0.999),
    (50.0, 1.0 + 1e-9, 0.999),
    (0.553, 1.606, 0.1),
    (10.3, 500.0, 0.5),
    (1.0001, 0.01, 0.3),
    (0.6, 0.7, 0.0),
]


def power_series(P, Q, z, n=400_000):
    """ln F, d ln F/dP, d ln F/dQ and (F-1)/(zF) summed term by term (positive terms)."""
    k = np.arange(n)
    terms = np.exp(np.cumsum(np.log((P + k) / (P + Q + k))) + np.log(z) * (k + 1))
    f = 1.0 + np.sort(terms).sum()
    d_p = (terms * np.cumsum(1 / (P + k) - 1 / (P + Q + k))).sum() / f
    d_q = -(terms * np.cumsum(1 / (P + Q + k))).sum() / f
    ratio = P / (P + Q) if z == 0 else (f - 1.0) / (z * f)
    return np.log(f), d_p, d_q, ratio


@pytest.mark.parametrize(("P", "Q", "z"), [*HARD_CASES, (2.0, 0.001, 0.9999)])
def test_hyp2f1_one_matches_its_power_series(P, Q, z):
    with np.errstate(divide="ignore"):
        log_f = power_series(P, Q, z)[0]
    assert hyp2f1_one(P, Q, z) == pytest.approx(np.exp(log_f), rel=1e-11)


@pytest.mark.parametrize(("P", "Q", "z"), HARD_CASES)
def test_fraction_derivatives_match_the_power_series(P, Q, z):
    with np.errstate(divide="ignore"):
        expected = power_series(P, Q, z)
    got = log_hyp2f1_one_derivatives(P, Q, np.array([z]))
    for value, reference in zip(got, expected, strict=True):
        assert value[0] == pytest.approx(reference, rel=1e-12, abs=1e-15)


def test_fraction_gives_the_same_numbers_for_scalar_elementwise_and_grouped_inputs():
    rng = np.random.default_rng(0)
    z = np.sort(rng.uniform(0.0, 0.999, 500))[::-1]
    values = np.array([0.3, 1.7, 12.0, 250.0])
    group = rng.integers(0, values.size, z.size)
    grouped = log_hyp2f1_one_derivatives(values, 1.6, z, group=group)
    elementwise = log_hyp2f1_one_derivatives(values[group], np.full(z.size, 1.6), z)
    for a, b in zip(grouped, elementwise, strict=True):
        np.testing.assert_array_equal(a, b)
    scalar = log_hyp2f1_one_derivatives(1.7, 1.6, z)
    np.testing.assert_array_equal(scalar.log_value, log_hyp2f1_one_derivatives(
        np.full(z.size, 1.7), 1.6, z).log_value)  # fmt: skip
    # Order only decides how much work is shared: unsorted z gives the same numbers.
    shuffled = rng.permutation(z.size)
    again = log_hyp2f1_one_derivatives(values[group][shuffled], 1.6, z[shuffled])
    for a, b in zip(again, elementwise, strict=True):
        np.testing.assert_allclose(a, b[shuffled], rtol=1e-14, atol=1e-300)


def test_fraction_agrees_with_hyp2f1_one_and_its_contiguous_ratio():
    P, Q = np.array([0.4, 3.0, 80.0]), np.array([1.2, 0.05, 7.0])
    z = np.array([0.2, 0.9, 0.9999])
    got = log_hyp2f1_one_derivatives(P, Q, z)
    np.testing.assert_allclose(np.exp(got.log_value), hyp2f1_one(P, Q, z), rtol=1e-12)
    # (F - 1) / (z F) = P F(P+1, Q) / ((P+Q) F(P, Q)), the contiguous function behind d/dA.
    expected = P / (P + Q) * hyp2f1_one(P + 1.0, Q, z) / hyp2f1_one(P, Q, z)
    np.testing.assert_allclose(got.ratio, expected, rtol=1e-12)


def test_hand_written_2f1_agrees_with_scipy_where_scipy_is_accurate():
    # SciPy's hyp2f1 is accurate here (z <= 0.9); it returns NaN or loses digits nearer 1 for
    # large P, which is why the fits evaluate the continued fraction instead.
    P = np.array([0.3, 0.553, 1.0, 1.606, 2.5, 7.0, 20.5, 60.2, 150.0, 300.5])
    Q = np.array([0.01, 0.5, 1.0 + 1e-9, 1.606, 2.0, 5.3, 40.0])
    z = np.array([0.0, 1e-6, 0.1, 0.3, 0.5, 0.7, 0.9])
    PP, QQ, ZZ = np.meshgrid(P, Q, z, indexing="ij")
    reference = hyp2f1(1.0, PP, PP + QQ, ZZ)
    np.testing.assert_allclose(hyp2f1_one(PP, QQ, ZZ), reference, rtol=1e-13)
    values = log_hyp2f1_one_derivatives(PP.ravel(), QQ.ravel(), ZZ.ravel()).log_value
    np.testing.assert_allclose(np.exp(values), reference.ravel(), rtol=1e-13)


# ---- warm and default starts -----------------------------------------------------------------

# Starts far out where the dropout heterogeneity collapses (BG/NBD: a, b -> infinity with a/(a+b)
# fixed; Pareto/NBD: s, beta -> infinity, clipped to beta/alpha = 1e3): the likelihood is almost
# flat there and L-BFGS-B stops (on a ridge, or where the dropout process vanished), as a warm
# start chained from an earlier fit can, missing the optimum by 20 and 170 log-likelihood units.
RIDGE_STARTS = [
    (BetaGeo, {"r": 0.24, "alpha": 4.4, "a": 1e8, "b": 3e8}),
    (ParetoNBD, {"r": 0.5, "alpha": 10.0, "s": 1e6, "beta": 1e7}),
]


@pytest.mark.parametrize(("cls", "ridge"), RIDGE_STARTS)
def test_a_stuck_warm_start_is_rescued_by_the_default_start(cdnow_sample_summary, cls, ridge):
    data = cdnow_sample_summary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm_only = cls(initial_params=ridge, try_default_start=False).fit(data)
    default_only = cls().fit(data)
    both = cls(initial_params=ridge).fit(data)
    assert warm_only.start_ == "warm"
    assert warm_only.log_likelihood_ < default_only.log_likelihood_ - 5.0  # stuck on the ridge
    assert both.start_ == "default"
    assert both.log_likelihood_ >= warm_only.log_likelihood_
    assert both.log_likelihood_ == default_only.log_likelihood_
    assert both.params_ == default_only.params_
    runs = both.diagnostics_["starts"]
    assert set(runs) == {"warm", "default"}
    assert runs["warm"]["log_likelihood"] == pytest.approx(warm_only.log_likelihood_, abs=1e-6)


def test_a_better_warm_start_wins_and_a_tie_keeps_the_default(cdnow_sample_summary):
    data = cdnow_sample_summary
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        truncated = BetaGeo(max_iter=3).fit(data)
        near_optimum = dict(BetaGeo().fit(data).params_)
        warm_wins = BetaGeo(max_iter=3, initial_params=near_optimum).fit(data)
    assert warm_wins.start_ == "warm"
    assert warm_wins.log_likelihood_ > truncated.log_likelihood_
    # Started at the optimum, the warm run ends at the same optimum: the fit is the default's.
    tie = BetaGeo(initial_params=near_optimum).fit(data)
    assert tie.start_ == "default"
    assert tie.params_ == BetaGeo().fit(data).params_


def test_a_warm_start_with_a_tiny_iteration_budget_is_rescued(cdnow_sample_summary):
    data = cdnow_sample_summary
    poor = {"r": 5.0, "alpha": 0.5, "s": 5.0, "beta": 0.5}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm_only = ParetoNBD(initial_params=poor, max_iter=4, try_default_start=False).fit(data)
        default_only = ParetoNBD(max_iter=4).fit(data)
        both = ParetoNBD(initial_params=poor, max_iter=4).fit(data)
    assert not warm_only.converged_
    assert both.start_ == "default"
    assert both.log_likelihood_ >= warm_only.log_likelihood_
    assert both.params_ == default_only.params_


# ---- determinism -----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [BetaGeo, ParetoNBD])
def test_fits_are_bitwise_reproducible_and_independent_of_row_order(cdnow_sample_summary, cls):
    data = cdnow_sample_summary
    first, second = cls().fit(data), cls().fit(data)
    shuffled = cls().fit(data.sample(frac=1.0, random_state=11))
    as_mapping = cls().fit({c: data[c].to_numpy()[::-1] for c in COLUMNS})
    for other in (second, shuffled, as_mapping):
        assert other.params_ == first.params_
        assert other.log_likelihood_ == first.log_likelihood_
        assert other.diagnostics_ == first.diagnostics_


@pytest.mark.parametrize("cls", [BetaGeo, ParetoNBD])
def test_continuous_histories_fit_reproducibly(cls):
    rng = np.random.default_rng(21)
    truth = {"r": 0.6, "alpha": 8.0, "s": 0.7, "beta": 12.0}
    data = simulate_pareto_nbd(truth, rng.uniform(5.0, 60.0, 20_000), horizon=0.0, rng=rng)
    first = cls().fit(data)
    again = cls().fit(data.iloc[rng.permutation(len(data))])
    assert again.params_ == first.params_ and first.converged_ and not first.degenerate_


# ---- diagnostics -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bgnbd", "pareto"])
def test_a_healthy_fit_reports_convergence_and_no_problem(cdnow_fits, name):
    model = cdnow_fits[name]
    diagnostics = model.diagnostics_
    assert model.converged_ and not model.degenerate_ and model.start_ == "default"
    assert diagnostics["problems"] == [] and diagnostics["on_bound"] == []
    assert json.loads(json.dumps(diagnostics)) == diagnostics  # JSON-ready as it is
    assert diagnostics["starts"]["default"]["log_likelihood"] == model.log_likelihood_
    assert diagnostics["longest_history"] == pytest.approx(272 / 7)


def test_gamma_gamma_records_the_same_diagnostics_without_a_dropout_process(cdnow_fits):
    model = cdnow_fits["gamma_gamma"]
    assert model.converged_ and not model.degenerate_ and model.start_ == "default"
    assert json.loads(json.dumps(model.diagnostics_)) == model.diagnostics_
    assert "dropout_share" not in model.diagnostics_ and model.diagnostics_["problems"] == []


@pytest.fixture(scope="module")
def no_dropout_base():
    """Pareto/NBD customers whose mean lifetime is 1e9 weeks: nobody drops out."""
    rng = np.random.default_rng(1)
    truth = {"r": 0.6, "alpha": 8.0, "s": 1.0, "beta": 1e9}
    return simulate_pareto_nbd(truth, rng.uniform(5.0, 78.0, 5_000), horizon=0.0, rng=rng)


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (BetaGeo, r"BetaGeo.fit: the dropout component vanished: a = \S+, b = \S+ .*at most"),
        (ParetoNBD, r"ParetoNBD.fit: the dropout component vanished: s = \S+, beta = \S+ "),
    ],
)
def test_a_fit_without_dropout_is_flagged_degenerate(no_dropout_base, cls, message):
    with pytest.warns(ConvergenceWarning) as caught:
        model = cls().fit(no_dropout_base)
    vanished = [str(w.message) for w in caught if re.match(message, str(w.message))]
    assert len(vanished) == 1 and "customers are modelled as never dropping out" in vanished[0]
    assert model.degenerate_ and model.diagnostics_["degenerate"]
    assert f"{cls.__name__}.fit: {model.diagnostics_['problems'][-1]}" == vanished[0]
    assert np.all(model.probability_alive(no_dropout_base) > 0.99)
    share = model.diagnostics_.get("dropout_share", model.diagnostics_.get("dropout_share_at_most"))
    assert share < 0.01
    json.dumps(model.diagnostics_)


def test_a_healthy_fit_emits_no_warning(cdnow_sample_summary):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BetaGeo().fit(cdnow_sample_summary)
        ParetoNBD().fit(cdnow_sample_summary)


def test_a_fit_that_ends_on_a_bound_names_the_coordinate():
    # Every customer bought 10 times, the last time today: nothing in the data shows dropout, and
    # a runs to its lower bound.
    n = 400
    data = pd.DataFrame({"frequency": np.full(n, 10.0), "recency": np.full(n, 50.0),
                         "T": np.full(n, 50.0)})  # fmt: skip
    with pytest.warns(ConvergenceWarning) as caught:
        model = BetaGeo().fit(data)
    messages = [str(w.message) for w in caught]
    assert messages[0].startswith("BetaGeo.fit: the fit ran to the edge of the parameter space")
    assert messages[1].startswith("BetaGeo.fit: the dropout component vanished: a = 1.03e-10")
    assert model.degenerate_ and model.diagnostics_["problems"] == [m[13:] for m in messages]
    assert model.diagnostics_["on_bound"] == ["a at its lower bound 1.03e-10"]


def test_non_convergence_is_reported_in_the_diagnostics(cdnow_sample_summary):
    with pytest.warns(ConvergenceWarning, match=r"stopped before converging \(.*\) after 2 it"):
        model = ParetoNBD(max_iter=2).fit(cdnow_sample_summary)
    assert not model.converged_ and not model.diagnostics_["converged"]
    assert model.diagnostics_["iterations"] == 2
    assert "ITERATIONS REACHED LIMIT" in model.diagnostics_["message"]


# ---- the scikit-learn contract of the new option ---------------------------------------------


def test_try_default_start_round_trips_through_get_params_set_params_and_clone():
    model = ParetoNBD(initial_params={"r": 1.0, "alpha": 2.0, "s": 1.0, "beta": 2.0},
                      try_default_start=False)  # fmt: skip
    assert model.get_params()["try_default_start"] is False
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    copy.set_params(try_default_start=True)
    assert copy.try_default_start is True and model.try_default_start is False
    assert not hasattr(copy, "start_") and not hasattr(copy, "diagnostics_")


def test_try_default_start_must_be_a_bool(cdnow_sample_summary):
    with pytest.raises(ConfigError, match="expected try_default_start True or False, got 'yes'"):
        BetaGeo(try_default_start="yes").fit(cdnow_sample_summary)
