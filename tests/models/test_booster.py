"""Threads sharing one booster (a Dask worker's scoring tasks) predict one at a time with it.

LightGBM keeps a prediction's tree range on the booster, so a per-tree TreeSHAP call next to a
full prediction in another thread can make the latter use one tree (``test_bucketed.py`` caught
it). The LightGBM test below fails without the guard; the stand-in tests check the guard itself.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import lightgbm as lgb
import numpy as np

from winback.models._booster import booster_predict
from winback.models._treeshap import pattern_shap, split_trees


class _Recording:
    """A stand-in booster that records how many predictions run on it at once."""

    def __init__(self) -> None:
        self.active = self.most = 0
        self._count = threading.Lock()

    def predict(self, data, **options):
        with self._count:
            self.active += 1
            self.most = max(self.most, self.active)
        time.sleep(0.005)  # holds the call open so that calls without the lock would overlap
        with self._count:
            self.active -= 1
        return data, options


def test_predictions_on_one_booster_never_overlap():
    booster = _Recording()
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda i: booster_predict(booster, i, pred_leaf=True), range(24)))
    assert booster.most == 1
    assert results == [(i, {"pred_leaf": True}) for i in range(24)]


def test_different_boosters_predict_at_the_same_time():
    boosters = [_Recording(), _Recording()]
    start = threading.Barrier(2)

    def job(booster):
        start.wait()
        return [booster_predict(booster, i) for i in range(5)]

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(job, boosters))
    assert [b.most for b in boosters] == [1, 1]


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
