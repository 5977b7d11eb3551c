"""TreeSHAP by decision pattern: LightGBM's own ``pred_contrib`` values, for every split kind."""

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from simulated import AS_OF
from winback.models import load_model
from winback.models._treeshap import pattern_shap, split_trees

# one thread, as winback's own models (LightGBMConfig.n_jobs): LightGBM's default, a thread per
# core, competes with the other test worker and makes a 0.2 s test take seconds
ONE_THREAD = {"num_threads": 1}


def _booster(X: np.ndarray, y: np.ndarray, **params) -> lgb.Booster:
    base = {"objective": "binary", "num_leaves": 15, "min_data_in_leaf": 20, "verbosity": -1}
    base |= ONE_THREAD
    return lgb.train({**base, **params}, lgb.Dataset(X, label=y), num_boost_round=40)


def _data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Four features with NaNs, exact zeros and ties; the label depends on three of them."""
    X = rng.normal(size=(n, 4)).round(1)
    X[rng.random(n) < 0.15, 0] = np.nan
    X[rng.random(n) < 0.2, 1] = 0.0
    X[rng.random(n) < 0.1, 2] = np.nan
    logit = np.nan_to_num(X[:, 0]) - X[:, 1] + 0.5 * np.nan_to_num(X[:, 2], nan=-1.0)
    return X, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


@pytest.mark.parametrize(
    "params",
    [
        {},  # missing type NaN (default left or right, as learned) and None (no NaN seen)
        {"zero_as_missing": True},  # missing type Zero
        {"use_missing": False},  # missing type None everywhere: NaN counts as 0
    ],
    ids=["nan", "zero", "none"],
)
def test_pattern_shap_equals_lightgbm_treeshap(params):
    rng = np.random.default_rng(3)
    X, y = _data(rng, 4000)
    booster = _booster(X, y, **params)
    test, _ = _data(rng, 3000)
    trees = split_trees(booster)
    assert trees is not None and len(trees) == booster.num_trees()
    exact = booster.predict(test, pred_contrib=True)
    np.testing.assert_allclose(pattern_shap(booster, trees, test), exact, atol=1e-12)
    # kept across batches, the patterns' values give the very same numbers as without
    tables = [None] * len(trees)
    halves = [pattern_shap(booster, trees, half, tables) for half in (test[:1000], test[1000:])]
    np.testing.assert_array_equal(np.vstack(halves), pattern_shap(booster, trees, test))
    np.testing.assert_array_equal(
        pattern_shap(booster, trees, test, tables), pattern_shap(booster, trees, test)
    )


def test_categorical_splits_are_left_to_lightgbm():
    rng = np.random.default_rng(4)
    codes = pd.Categorical(rng.integers(0, 6, 2000))
    frame = pd.DataFrame({"x": rng.normal(size=2000), "c": codes})
    y = (frame["x"] + (frame["c"].cat.codes % 2) > 0.5).astype(int)
    booster = lgb.train(
        {"objective": "binary", "verbosity": -1, "min_data_per_group": 5, "cat_smooth": 1}
        | ONE_THREAD,
        lgb.Dataset(frame, label=y),
        num_boost_round=10,
    )
    assert split_trees(booster) is None


def test_model_contributions_are_lightgbm_treeshap_and_give_the_same_reasons(sim_trained):
    model = load_model(sim_trained.bundle)
    tables = {n: pd.read_parquet(p) for n, p in sim_trained.paths.items()}
    features = model.build_features(
        tables["orders"], cutoff=AS_OF, events=tables["events"], customers=tables["customers"]
    )
    for task in ("repurchase", "churn"):
        for estimator in model.tasks[task].models.values():
            X = features[list(estimator.feature_names_in_)]
            exact = estimator.booster_.predict(X, pred_contrib=True)
            ours = estimator.contributions(X, method="shap").to_numpy()
            np.testing.assert_allclose(ours, exact, atol=1e-12)
            # the top driver of every customer is the same feature
            assert (ours[:, :-1].argmax(1) == exact[:, :-1].argmax(1)).all()
