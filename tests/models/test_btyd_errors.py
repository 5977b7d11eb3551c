"""The BTYD models reject unusable input with domain-worded errors, and guard predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from winback.exceptions import ConfigError, DataError
from winback.models.btyd import BetaGeo, GammaGamma, ParetoNBD

TRANSACTION_MODELS = [BetaGeo, ParetoNBD]


def summary(**overrides):
    frame = pd.DataFrame(
        {"frequency": [0.0, 2.0, 5.0, 1.0], "recency": [0.0, 10.0, 30.0, 4.0],
         "T": [38.0, 35.0, 32.0, 30.0]},
        index=["c1", "c2", "c3", "c4"],
    )  # fmt: skip
    for column, values in overrides.items():
        frame[column] = values
    return frame


@pytest.mark.parametrize("cls", TRANSACTION_MODELS)
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"recency": [3.0, 10.0, 30.0, 4.0]},
         r"1 customer\(s\) have non-zero recency values when frequency is zero; rows \['c1'\]"),
        ({"recency": [0.0, 10.0, 40.0, 4.0]},
         r"1 customer\(s\) have recency greater than T .*rows \['c3'\]"),
        ({"T": [38.0, -1.0, 32.0, 30.0]}, r"column 'T' has 1 negative value\(s\); rows \['c2'\]"),
        ({"frequency": [0.0, 2.5, 5.0, 1.0]}, r"column 'frequency' has 1 non-whole value"),
        ({"recency": [0.0, np.nan, 30.0, 4.0]},
         r"column 'recency' has 1 missing or infinite value\(s\); rows \['c2'\]"),
        ({"T": ["38", "x", "32", "30"]}, r"column 'T' must be numeric"),
    ],
)  # fmt: skip
def test_fit_rejects_summaries_that_break_the_definitions(cls, overrides, message):
    with pytest.raises(DataError, match=f"{cls.__name__}.fit: {message}"):
        cls().fit(summary(**overrides))


@pytest.mark.parametrize("cls", TRANSACTION_MODELS)
def test_fit_names_missing_columns(cls):
    with pytest.raises(DataError, match=r"data is missing column\(s\) \['T'\]"):
        cls().fit(summary().drop(columns="T"))


@pytest.mark.parametrize("cls", TRANSACTION_MODELS)
def test_fit_refuses_data_without_repeat_buyers(cls):
    one_timers = summary(frequency=0.0, recency=0.0)
    with pytest.raises(DataError, match=r"no customer has a repeat purchase .* all 4 customers"):
        cls().fit(one_timers)


@pytest.mark.parametrize("cls", TRANSACTION_MODELS)
def test_fit_refuses_empty_data_and_non_tables(cls):
    with pytest.raises(DataError, match="data has no rows"):
        cls().fit(summary().iloc[:0])
    with pytest.raises(DataError, match=r"expected a DataFrame .* got list"):
        cls().fit([[0, 0, 38]])


@pytest.mark.parametrize("cls", [BetaGeo, ParetoNBD, GammaGamma])
def test_predictions_before_fit_raise_not_fitted(cls):
    model = cls()
    method = (
        model.conditional_expected_average_profit if cls is GammaGamma else model.probability_alive
    )
    with pytest.raises(NotFittedError, match=f"This {cls.__name__} instance is not fitted yet"):
        method(summary(monetary_value=[0.0, 10.0, 12.0, 9.0]))


@pytest.mark.parametrize("cls", TRANSACTION_MODELS)
@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"penalizer": -1.0}, "expected penalizer >= 0, got -1.0"),
        ({"tol": 0.0}, "expected tol > 0, got 0.0"),
        ({"max_iter": 0}, "expected a whole max_iter >= 1, got 0"),
        ({"initial_params": {"r": 1.0}}, "initial_params must have exactly the keys"),
    ],
)
def test_invalid_options_raise_config_error_at_fit(cls, options, message):
    model = cls(**options)  # __init__ only stores
    with pytest.raises(ConfigError, match=message):
        model.fit(summary())


@pytest.mark.parametrize("cls", TRANSACTION_MODELS)
def test_negative_horizon_is_rejected(cls):
    model = cls()
    model.params_ = dict.fromkeys(cls.param_names, 1.0)
    with pytest.raises(ConfigError, match=r"expected a finite horizon t >= 0 .* got -1"):
        model.expected_purchases(-1, summary())
    with pytest.raises(ConfigError, match=r"probability_of_purchase: expected a finite horizon"):
        model.probability_of_purchase(np.nan, summary())


def test_prediction_checks_its_input_too():
    model = BetaGeo().fit(summary())
    with pytest.raises(DataError, match=r"BetaGeo.probability_alive: 1 customer\(s\) have recency"):
        model.probability_alive(summary(recency=[0.0, 10.0, 40.0, 4.0]))


def spend_summary(monetary_value):
    """Seven customers whose repeat transactions vary enough for Gamma-Gamma to be identified."""
    return pd.DataFrame(
        {
            "frequency": [0.0, 1.0, 3.0, 2.0, 6.0, 1.0, 4.0],
            "recency": [0.0, 5.0, 20.0, 12.0, 30.0, 2.0, 25.0],
            "T": [38.0, 35.0, 32.0, 30.0, 36.0, 20.0, 33.0],
            "monetary_value": monetary_value,
        }
    )


VALUES = [np.nan, 20.0, 35.0, 15.0, 28.0, 60.0, 22.0]


def test_gamma_gamma_rejects_non_positive_values_of_repeat_buyers_only():
    with pytest.raises(DataError, match=r"'monetary_value' is zero or negative for 1 customer"):
        GammaGamma().fit(spend_summary([np.nan, 20.0, 0.0, 15.0, 28.0, 60.0, 22.0]))
    fitted = GammaGamma().fit(spend_summary(VALUES))
    assert fitted.n_customers_ == 6  # the one-time buyer's missing value is ignored
    zero = fitted.conditional_expected_average_profit(spend_summary([0.0, 0.0, *VALUES[2:]]))
    assert np.all(np.isfinite(zero)) and np.all(zero > 0)  # zero is allowed when predicting
    with pytest.raises(DataError, match=r"'monetary_value' is negative for 1 customer"):
        fitted.conditional_expected_average_profit(spend_summary([0.0, -5.0, *VALUES[2:]]))
    with pytest.raises(DataError, match=r"missing or infinite for 1 customer\(s\) with repeat"):
        fitted.conditional_expected_average_profit(spend_summary([0.0, np.nan, *VALUES[2:]]))


def test_customer_lifetime_value_checks_its_arguments():
    data = spend_summary(VALUES)
    value, purchases = GammaGamma().fit(data), BetaGeo().fit(data)
    with pytest.raises(ConfigError, match=r"expected time > 0, got 0"):
        value.customer_lifetime_value(purchases, data, time=0)
    with pytest.raises(ConfigError, match=r"expected discount_rate >= 0, got -0\.1"):
        value.customer_lifetime_value(purchases, data, time=4, discount_rate=-0.1)
    with pytest.raises(ConfigError, match=r"expected a whole number of periods >= 1, got 1\.5"):
        value.customer_lifetime_value(purchases, data, time=4, periods=1.5)
    with pytest.raises(NotFittedError):
        value.customer_lifetime_value(BetaGeo(), data, time=4)


def test_non_convergence_warns():
    with pytest.warns(ConvergenceWarning, match="stopped before converging"):
        BetaGeo(max_iter=1).fit(summary())


def test_models_are_scikit_learn_estimators():
    model = BetaGeo(penalizer=0.01, initial_params={"r": 1, "alpha": 2, "a": 1, "b": 1})
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "params_")
    fresh = BetaGeo()
    assert fresh.fit(summary()) is fresh  # fit returns self
    with pytest.raises(TypeError):
        BetaGeo(0.1)  # options are keyword-only
