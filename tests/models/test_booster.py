"""Threads sharing one booster (a Dask worker's scoring tasks) get the predictions they would
get alone, while others ask it for per-tree TreeSHAP values."""

from concurrent.futures import ThreadPoolExecutor

import lightgbm as lgb
import numpy as np

from winback.models._booster import booster_predict
from winback.models._treeshap import pattern_shap, split_trees


def test_full_predictions_and_per_tree_shap_in_threads_do_not_mix():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(20_000, 6))
    y = (rng.random(len(X)) < 1 / (1 + np.exp(-X[:, 0] + X[:, 1]))).astype(int)
    params = {"objective": "binary", "num_leaves": 31, "verbosity": -1, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(X, label=y), num_boost_round=150)
    trees = split_trees(booster)
    alone = booster_predict(booster, X)
    shap_alone = pattern_shap(booster, trees, X[:2000])

    def job(i: int) -> bool:
        if i % 2:
            return bool(np.array_equal(pattern_shap(booster, trees, X[:2000]), shap_alone))
        return bool(np.array_equal(booster_predict(booster, X), alone))

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(job, range(24)))
    assert all(results)
