"""Every public estimator keeps the scikit-learn contract: params in, equal clones, fit guards."""

from __future__ import annotations

import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import (
    check_do_not_raise_errors_in_init_or_set_params,
    check_estimator_cloneable,
    check_estimator_repr,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from winback.models import (
    BetaGeo,
    BTYDScore,
    Calibrator,
    GammaGamma,
    LGBMProbability,
    LGBMSpend,
    ParetoNBD,
    RFMLogit,
)

# one non-default value per estimator, to see it survive get_params / set_params / clone
NON_DEFAULT = {
    LGBMProbability: {"n_estimators": 7, "num_leaves": 5, "random_state": 3},
    LGBMSpend: {"n_estimators": 7, "tweedie_variance_power": 1.2, "reg_lambda": 2.0},
    BetaGeo: {"penalizer": 0.1, "max_iter": 9},
    ParetoNBD: {"penalizer": 0.1, "tol": 1e-5},
    GammaGamma: {"penalizer": 0.1, "max_iter": 9},
    RFMLogit: {"C": 0.5},
    Calibrator: {"method": "sigmoid"},
    BTYDScore: {"model": "bgnbd"},
}
# BTYDScore names the BTYD model it calibrates: it has no default, so it is built with one
REQUIRED = {BTYDScore: {"model": "pareto_nbd"}}
ESTIMATORS = list(NON_DEFAULT)
SKLEARN_CHECKS = [
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_get_params_invariance,
    check_set_params,
    check_estimator_cloneable,
    check_estimator_repr,
    check_do_not_raise_errors_in_init_or_set_params,
]
CHECKS_THAT_APPLY = [
    (cls, check)
    for cls in ESTIMATORS
    for check in SKLEARN_CHECKS
    if not (cls in REQUIRED and check is check_parameters_default_constructible)
]


def _plain(cls):
    """The estimator with its defaults (and its required arguments, where it has any)."""
    return cls(**REQUIRED.get(cls, {}))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_get_params_returns_every_argument_as_given(cls) -> None:
    estimator = cls(**NON_DEFAULT[cls])
    params = estimator.get_params()
    assert set(params) == set(_plain(cls).get_params())
    for name, value in NON_DEFAULT[cls].items():
        assert params[name] == value


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_clone_and_set_params_round_trip(cls) -> None:
    estimator = cls(**NON_DEFAULT[cls])
    assert clone(estimator).get_params() == estimator.get_params()
    other = _plain(cls).set_params(**NON_DEFAULT[cls])
    assert other.get_params() == estimator.get_params()


@pytest.mark.parametrize(
    ("cls", "check"), CHECKS_THAT_APPLY, ids=lambda x: getattr(x, "__name__", str(x))
)
def test_scikit_learn_estimator_checks_that_apply(cls, check) -> None:
    check(cls.__name__, _plain(cls))


@pytest.mark.parametrize("cls", [LGBMProbability, LGBMSpend], ids=lambda c: c.__name__)
def test_unfitted_lightgbm_estimators_refuse_to_predict(cls) -> None:
    import pandas as pd

    with pytest.raises(NotFittedError):
        cls().predict(pd.DataFrame({"x": [1.0]}))
