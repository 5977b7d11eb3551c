"""Tasks: horizon extension through BTYD survival, and the spend candidates and their choice."""

import re

import numpy as np
import pandas as pd
import pytest

from winback.exceptions import ModelError
from winback.models._tasks import SpendTask, TaskSpec, extend_horizon

FRAME = pd.DataFrame(
    {
        "bgnbd_p_purchase_100d": [0.5, 0.2, 0.0, np.nan],
        "bgnbd_p_purchase_250d": [0.8, 0.2, 0.0, np.nan],
    }
)


def test_churn_is_multiplied_by_the_conditional_survival():
    spec = TaskSpec(name="churn", horizon_days=250, label_days=100)
    p = np.array([0.4, 0.9, 0.3, 0.6])
    # q = (1 - 0.8) / (1 - 0.5) = 0.4; (1 - 0.2) / (1 - 0.2) = 1; 1; NaN -> 1
    np.testing.assert_allclose(extend_horizon(p, FRAME, spec, "bgnbd"), [0.16, 0.9, 0.3, 0.6])


def test_repurchase_is_the_complement_and_never_leaves_the_unit_interval():
    spec = TaskSpec(name="repurchase", horizon_days=250, label_days=100)
    p = np.array([0.99, 0.1, 0.0, 1.0])
    out = extend_horizon(p, FRAME, spec, "bgnbd")
    np.testing.assert_allclose(out, [1 - 0.01 * 0.4, 0.1, 0.0, 1.0])
    assert np.all((out >= 0) & (out <= 1))


@pytest.mark.parametrize("name", ["churn", "repurchase"])
def test_a_frequent_buyer_keeps_a_positive_churn_probability(name):
    spec = TaskSpec(name=name, horizon_days=250, label_days=100)
    frame = pd.DataFrame({"bgnbd_p_purchase_100d": [0.97], "bgnbd_p_purchase_250d": [0.999]})
    p = np.array([0.02 if name == "churn" else 0.98])
    out = extend_horizon(p, frame, spec, "bgnbd")[0]
    churn = out if name == "churn" else 1 - out
    assert 0 < churn < 0.02


# --------------------------------------------------------------------------- spend candidates

SPEND = TaskSpec(name="spend", horizon_days=30, label_days=30)


def _spend_frame(rng: np.random.Generator, n: int, *, btyd_known: bool) -> pd.DataFrame:
    """Spend = expected purchases x order value x noise; the BTYD columns carry the rate."""
    rate = rng.gamma(2.0, 0.5, n)
    value = rng.gamma(5.0, 10.0, n)
    purchases = rng.poisson(rate)
    frame = pd.DataFrame(
        {
            "noise": rng.normal(size=n),
            "bgnbd_expected_purchases_30d": rate if btyd_known else np.nan,
            "pareto_nbd_expected_purchases_30d": 0.5 * rate + 0.5 if btyd_known else np.nan,
            "gg_expected_value": value if btyd_known else np.nan,
        }
    )
    frame["spend_within_30d"] = purchases * value
    return frame


def _fitted_spend(*, btyd_known: bool):
    rng = np.random.default_rng(5)
    train, val = (_spend_frame(rng, n, btyd_known=btyd_known) for n in (4000, 3000))
    hybrid = ["noise", "bgnbd_expected_purchases_30d", "pareto_nbd_expected_purchases_30d"]
    task = SpendTask(spec=SPEND, base_features=["noise"], hybrid_features=hybrid)
    params = {"n_estimators": 60, "min_child_samples": 50}
    return task.fit(train, val, lgbm_params=params, seed=0), val


def test_spend_ships_the_candidate_with_the_lowest_validation_rmse():
    task, _ = _fitted_spend(btyd_known=True)
    rmse = task.selection["rmse"]
    # the true rate times the true value is BG/NBD's column here: it wins the BTYD pick
    assert set(rmse) == {"lightgbm", "hybrid", "bgnbd_gg", "blend"}
    assert task.method == min(rmse, key=rmse.get)
    assert rmse["bgnbd_gg"] < rmse["lightgbm"]  # noise alone cannot say who spends
    assert task.blend["btyd"] == "bgnbd"


def test_the_blend_is_its_non_negative_weights_times_its_two_parts():
    task, val = _fitted_spend(btyd_known=True)
    w_model, w_btyd = task.blend["weights"]
    assert w_model >= 0 and w_btyd > 0.5  # the informative part carries the blend
    parts = w_model * task.predict_method(val, task.blend["model"]) + w_btyd * (
        val["bgnbd_expected_purchases_30d"] * val["gg_expected_value"]
    )
    np.testing.assert_allclose(task.predict_method(val, "blend"), parts)


def test_without_btyd_estimates_spend_ships_lightgbm_and_explains_itself():
    task, _ = _fitted_spend(btyd_known=False)
    assert set(task.selection["rmse"]) == {"lightgbm", "hybrid"}
    assert task.blend is None
    assert task.shipped_model is task.models[task.method]


def test_a_btyd_only_spend_has_no_contributions_to_give():
    task, _ = _fitted_spend(btyd_known=True)
    task.method = "bgnbd_gg"
    with pytest.raises(ModelError, match=re.escape("ships bgnbd_gg (BTYD x Gamma-Gamma), which")):
        _ = task.shipped_model
