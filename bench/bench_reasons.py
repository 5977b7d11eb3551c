"""Reasons: exact TreeSHAP vs decision-path attribution (speed, and agreement on the top driver).

Trains the same model as ``bench_score.py`` (5,000 simulated customers), scores 30,000 other
simulated customers' features and writes ``bench/results/reasons.json``: seconds of each method,
the largest |row sum - raw score| of each, and the share of customers whose top churn driver
(largest positive contribution) is the same feature under both.
"""

from __future__ import annotations

import json
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import bench_score as base
from winback.datasets import simulate
from winback.io import write_json
from winback.models import load_model

RESULTS = Path(__file__).parent / "results" / "reasons.json"


def main() -> None:
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory(prefix="bench_reasons_") as tmp:
        bundle, _ = base._train(Path(tmp), 5_000)
        model = load_model(bundle)
    sim = simulate(30_000, start=base.START, end=base.END, seed=5)
    features = model.build_features(
        sim.orders, cutoff=base.AS_OF, events=sim.events, customers=sim.customers
    )
    lgbm = model.tasks["churn"].shipped_model
    raw = lgbm.booster_.predict(features[list(lgbm.feature_names_in_)], raw_score=True)
    result: dict = {"customers": len(features), "trees": lgbm.booster_.num_trees()}
    tops = {}
    for method in ("shap", "path"):
        model.contributions(features.head(10), method=method)  # warm-up (path: builds tables)
        start = time.perf_counter()
        contrib = model.contributions(features, method=method)
        result[f"{method}_seconds"] = round(time.perf_counter() - start, 3)
        result[f"{method}_max_sum_error"] = float(np.abs(contrib.sum(axis=1) - raw).max())
        tops[method] = contrib.drop(columns="bias").to_numpy().argmax(axis=1)
    result["top_driver_agreement"] = round(float((tops["shap"] == tops["path"]).mean()), 4)
    result["speedup"] = round(result["shap_seconds"] / result["path_seconds"], 2)
    write_json(result, RESULTS)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
