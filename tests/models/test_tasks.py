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


def test_churn_is_multiplied_by_the_conditional_survival(caplog):
    spec = TaskSpec(name="churn", horizon_days=250, label_days=100)
    p = np.array([0.4, 0.9, 0.3, 0.6])
    # q = (1 - 0.8) / (1 - 0.5) = 0.4; (1 - 0.2) / (1 - 0.2) = 1; 1; no BTYD value: constant
    # hazard, q = 0.6 ** (150 / 100) (no longer a silent q = 1), and a WARNING says so
    expected = [0.16, 0.9, 0.3, 0.6 * 0.6**1.5]
    with caplog.at_level("WARNING"):
        np.testing.assert_allclose(extend_horizon(p, FRAME, spec, "bgnbd"), expected)
    assert "1 of 4 customers have no bgnbd estimate" in caplog.text
    assert "constant hazard" in caplog.text


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


# --------------------------------------------------------------------------- probability tasks

from scipy.special import expit, logit  # noqa: E402

from winback.models._tasks import ProbabilityTask, choose_candidate  # noqa: E402

LGBM = {"n_estimators": 80, "min_child_samples": 20, "early_stopping_rounds": 10}
REPURCHASE = TaskSpec(name="repurchase", horizon_days=30, label_days=30)


def _prob_frame(rng, n, *, extra_signal=0.0, level=1.0, btyd_level=None):
    """Customers whose 30-day purchase probability BG/NBD's column knows, up to ``x``.

    ``extra_signal`` weighs a feature ``x`` BTYD does not see; ``level`` multiplies the odds of
    the realised outcome; ``btyd_level`` (default ``level``) those of the BTYD columns.
    """
    x = rng.normal(size=n)
    base = rng.normal(-1.2, 1.0, n)
    z_btyd = base + np.log(level if btyd_level is None else btyd_level)
    p = expit(base + extra_signal * x + np.log(level))
    frame = pd.DataFrame(
        {
            "x": x,
            "noise": rng.normal(size=n),
            "bgnbd_p_purchase_30d": expit(z_btyd),
            "pareto_nbd_p_purchase_30d": expit(z_btyd + rng.normal(0, 0.8, n)),
            "bgnbd_p_alive": expit(z_btyd + 1),
            "rfm_days_since_last": rng.exponential(60, n),
            "rfm_frequency": rng.poisson(2, n).astype(float),
            "rfm_monetary_value": rng.gamma(2, 20, n),
            "rfm_T": rng.uniform(100, 300, n),
        }
    )
    frame["purchased_within_30d"] = (rng.random(n) < p).astype(int)
    return frame


def _task(**kwargs) -> ProbabilityTask:
    hybrid = ["x", "noise", "bgnbd_p_purchase_30d", "pareto_nbd_p_purchase_30d"]
    return ProbabilityTask(spec=REPURCHASE, base_features=["x", "noise"], hybrid_features=hybrid)


def test_a_small_base_ships_the_simple_model_and_says_so():
    rng = np.random.default_rng(1)
    train, val = _prob_frame(rng, 900), _prob_frame(rng, 400)
    task = _task().fit(train, val, lgbm_params=LGBM, seed=0)
    assert task.method == "bgnbd_uncalibrated"  # the truth, read from one column
    assert set(task.selection["cv_log_loss"]) == {  # only the better BTYD model is a candidate
        "lightgbm",
        "hybrid",
        "blend",
        "rfm_logit_calibrated",
        "bgnbd_calibrated",
        "bgnbd_uncalibrated",
    }
    steps = task.selection["steps"]
    assert [s["against"] for s in steps] == ["bgnbd_uncalibrated"] * 3
    assert all(g["upper_95"] >= 0 for s in steps for g in s["gains"].values())
    assert "significant" in task.selection["criterion"]
    assert task.selection["chosen"] == task.method


def test_a_large_base_with_signal_btyd_misses_climbs_to_a_lightgbm_candidate():
    rng = np.random.default_rng(2)
    train, val = (_prob_frame(rng, n, extra_signal=1.5) for n in (8000, 6000))
    task = _task().fit(train, val, lgbm_params=LGBM, seed=0)
    assert task.method in {"lightgbm", "hybrid", "blend"}
    gains = task.selection["steps"][-1]["gains"]
    assert gains[task.method]["upper_95"] < 0


def test_choose_candidate_needs_a_significant_gain_not_just_a_lower_loss():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.6, 200)
    y = (rng.random(200) < p).astype(int)
    helps = np.arange(200) < 120  # 60% of the customers gain, the others lose nearly as much
    slightly_better = np.clip(p + np.where(helps, 0.1, -0.09) * (y - p), 0, 1)
    chosen, evidence = choose_candidate(
        y, {"simple": p, "complex": slightly_better}, [["simple"], ["complex"]]
    )
    assert evidence["cv_log_loss"]["complex"] < evidence["cv_log_loss"]["simple"]
    assert chosen == "simple"
    much_better = np.clip(p + 0.5 * (y - p), 0, 1)
    chosen, _ = choose_candidate(
        y, {"simple": p, "complex": much_better}, [["simple"], ["complex"]]
    )
    assert chosen == "complex"


def test_a_btyd_model_without_estimates_is_no_candidate_and_the_selection_says_so(caplog):
    rng = np.random.default_rng(4)
    train, val = _prob_frame(rng, 900), _prob_frame(rng, 400)
    for frame in (train, val):
        frame["pareto_nbd_p_purchase_30d"] = np.nan  # the fit failed
    with caplog.at_level("WARNING"):
        task = _task().fit(train, val, lgbm_params=LGBM, seed=0)
    assert "pareto_nbd_calibrated" not in task.selection["cv_log_loss"]
    assert task.selection["btyd_unavailable"] == [
        "pareto_nbd has no estimate for 400 of 400 validation customers"
    ]
    assert "it is not a candidate" in caplog.text


def _cutoff_frames(rng, levels, n=1500):
    """Training frames at cutoffs 30 days apart whose purchase level follows ``levels``;
    BTYD's columns know each cutoff's level."""
    cutoffs = pd.date_range("2023-01-31", periods=len(levels), freq="30D")
    parts = {c: _prob_frame(rng, n, level=lv) for c, lv in zip(cutoffs, levels, strict=True)}
    stacked = pd.concat(parts, names=["cutoff", "customer_id"])
    return stacked, cutoffs


def test_the_level_follows_btyd_when_btyd_tracked_the_rate_and_the_validation_window_did_not():
    rng = np.random.default_rng(5)
    levels = [1.0, 1.6, 0.7, 1.5, 0.8, 1.4]  # the rate moves from window to window
    train, _ = _cutoff_frames(rng, levels)
    val = _prob_frame(rng, 3000, level=0.8)
    task = _task().fit(train, val, lgbm_params=LGBM, seed=0)
    level = task.selection["level"]
    assert level["source"] == "btyd"
    assert level["pairs"] >= 3
    assert level["mean_abs_log_error"]["btyd"] < level["mean_abs_log_error"]["validation"]
    # the cutoff scored: the rate moved up by 1.6x since the validation window; BTYD knows it
    test = _prob_frame(rng, 20_000, level=0.8 * 1.6)
    before = task.predict(test, method="lightgbm").mean()  # its features do not show the level
    task.anchor_level(test)
    target = test["bgnbd_p_purchase_30d"].mean()
    for method in task.candidates:
        assert task.predict(test, method=method).mean() == pytest.approx(target, abs=1e-6)
    observed = test["purchased_within_30d"].mean()
    after = task.predict(test, method="lightgbm").mean()
    assert abs(after - observed) < abs(before - observed) / 3


def test_a_steady_rate_keeps_the_validation_level():
    rng = np.random.default_rng(6)
    train, _ = _cutoff_frames(rng, [1.0] * 6)
    val = _prob_frame(rng, 3000, level=1.0, btyd_level=1.6)  # BTYD's level is biased
    for c in train.index.get_level_values("cutoff").unique():
        train.loc[c, "bgnbd_p_purchase_30d"] = expit(
            logit(train.loc[c, "bgnbd_p_purchase_30d"]) + 0.5
        )
    task = _task().fit(train, val, lgbm_params=LGBM, seed=0)
    assert task.selection["level"]["source"] == "validation"
    test = _prob_frame(rng, 5000)
    before = task.predict(test)
    task.anchor_level(test)
    np.testing.assert_array_equal(task.predict(test), before)
    assert task.level_offsets == {}


def test_a_conditional_task_never_exceeds_the_task_it_is_built_on():
    rng = np.random.default_rng(7)
    frames = []
    for n in (4000, 3000, 2000):
        f = _prob_frame(rng, n)
        f["bgnbd_p_purchase_60d"] = 1 - (1 - f["bgnbd_p_purchase_30d"]) ** 1.8
        f["pareto_nbd_p_purchase_60d"] = 1 - (1 - f["pareto_nbd_p_purchase_30d"]) ** 1.8
        for model in ("bgnbd", "pareto_nbd"):
            f[f"{model}_p_purchase_90d"] = 1 - (1 - f[f"{model}_p_purchase_30d"]) ** 2.5
        later = rng.random(n) < 0.5 * f["bgnbd_p_purchase_30d"]
        f["purchased_within_60d"] = (f["purchased_within_30d"].astype(bool) | later).astype(int)
        frames.append(f)
    train, val, test = frames
    short = _task().fit(train, val, lgbm_params=LGBM, seed=0)
    long = ProbabilityTask(
        spec=TaskSpec(name="churn", horizon_days=90, label_days=60),
        base_features=["x", "noise"],
        hybrid_features=["x", "noise", "bgnbd_p_purchase_60d"],
        condition_task="repurchase",
        condition_days=30,
    ).fit(train, val, lgbm_params=LGBM, seed=0)
    assert "no order within 30 days" in long.selection["conditional_on"]
    none_30 = short.survival(test)
    with pytest.raises(ModelError, match="conditional on repurchase"):
        long.predict(test)
    for method in long.candidates:
        p_churn = long.predict(test, given=none_30, method=method)
        assert np.all(1 - none_30 + p_churn <= 1 + 1e-12)  # p_repurchase + p_churn <= 1


def test_without_a_window_beyond_the_shorter_horizon_the_increment_is_btyd_alone():
    rng = np.random.default_rng(8)
    train, val, test = (_prob_frame(rng, n) for n in (2000, 1000, 500))
    for f in (train, val, test):
        f["bgnbd_p_purchase_90d"] = 1 - (1 - f["bgnbd_p_purchase_30d"]) ** 2.5
        f["pareto_nbd_p_purchase_90d"] = 1 - (1 - f["pareto_nbd_p_purchase_30d"]) ** 2.5
    long = ProbabilityTask(
        spec=TaskSpec(name="churn", horizon_days=90, label_days=30),
        base_features=["x"],
        hybrid_features=["x"],
        condition_task="repurchase",
        condition_days=30,
    ).fit(train, val, lgbm_params=LGBM, seed=0)
    assert long.method == "extension" and "no label window beyond" in long.selection["criterion"]
    assert long.contributions(test) is None and long.feature_importance() is None
    given = np.full(len(test), 0.8)
    ratio = (1 - test[f"{long.horizon_btyd}_p_purchase_90d"]) / (
        1 - test[f"{long.horizon_btyd}_p_purchase_30d"]
    )
    np.testing.assert_allclose(long.predict(test, given=given), 0.8 * ratio)
