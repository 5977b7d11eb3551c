"""Reasons: exact TreeSHAP (LightGBM's, and winback's per-pattern computation of it) vs
decision-path attribution, on the simulator and on CDNOW: speed, exactness, agreement.

Two models: the one of ``bench_score.py`` (5,000 simulated customers), scored on 30,000 other
simulated customers, and the full CDNOW model (``configs/cdnow.yaml``), scored on every CDNOW
customer at the end of the data. For each, on the churn contributions the reasons are built
from (``WinbackModel.contributions(task="churn")``: the repurchase model's, sign flipped, plus
the churn model's own), ``bench/results/reasons.json`` records:

- ``seconds`` and ``cpu_seconds`` of LightGBM's ``pred_contrib`` (``lightgbm_shap``), of
  winback's per-pattern TreeSHAP on the first batch (``pattern_shap_first``, tables empty) and
  on the next (``pattern_shap``), and of path attribution (``path``);
- ``pattern_max_abs_diff``: the largest difference between per-pattern and LightGBM TreeSHAP;
- agreement of path attribution with SHAP, on four levels: the top feature (largest positive
  contribution), the top family (the reason group winback reports, e.g. recency or spend), the
  first reason's text (what a customer is told first: the fair measure for reasons) and all
  reasons' text; and the same for per-pattern vs LightGBM TreeSHAP (1.0: the same reasons).

``trees`` counts every LightGBM tree in the bundle (the churn contributions read two models'
trees). The default reasons must agree with SHAP's top reason for >= 95% of customers on both
bases: exact SHAP does by construction; path attribution is the default only if it does too.
The load average is recorded: other jobs on the machine slow the wall clock.
"""

from __future__ import annotations

import json
import os
import resource
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import bench_score as base
from _measure import write_result
from winback.datasets import load_cdnow, simulate
from winback.models import WinbackModel, load_model
from winback.scoring import ScoringConfig
from winback.scoring._reasons import REASON_SEPARATOR, churn_reasons, feature_family
from winback.training import load_config, train

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "reasons.json"
GOAL = {"default_first_reason_agreement_with_shap": 0.95}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _estimators(model: WinbackModel) -> list:
    return [est for task in model.tasks.values() for est in getattr(task, "models", {}).values()]


def _contributions(model: WinbackModel, features: pd.DataFrame, how: str) -> pd.DataFrame:
    """Churn contributions by ``how``: lightgbm_shap, pattern_shap(_first) or path."""
    for est in _estimators(model):
        est.shap_trees_ = [] if how == "lightgbm_shap" else getattr(est, "shap_trees_", None)
        if how == "pattern_shap_first":
            est.shap_trees_ = est.shap_tables_ = None  # start from empty pattern tables
    method = "path" if how == "path" else "shap"
    return model.contributions(features, task="churn", method=method)


def _agreement(a: pd.DataFrame, b: pd.DataFrame, features: pd.DataFrame) -> dict[str, float]:
    va, vb = (c.drop(columns="bias") for c in (a, b))
    families = [feature_family(str(n)) for n in va.columns]
    fa, fb = (v.T.groupby(families, sort=True).sum().T for v in (va, vb))
    ra, rb = churn_reasons(features, a), churn_reasons(features, b)
    first = [r.str.split(REASON_SEPARATOR, regex=False).str[0] for r in (ra, rb)]
    return {
        "top_feature": round(float((va.to_numpy().argmax(1) == vb.to_numpy().argmax(1)).mean()), 4),
        "top_family": round(float((fa.to_numpy().argmax(1) == fb.to_numpy().argmax(1)).mean()), 4),
        "first_reason_text": round(float((first[0] == first[1]).mean()), 4),
        "all_reasons_text": round(float((ra == rb).mean()), 4),
    }


def _measure(model: WinbackModel, features: pd.DataFrame) -> dict:
    out: dict = {"customers": len(features)}
    contrib = {}
    model.contributions(features.head(10), task="churn", method="path")  # builds the path tables
    for how in ("lightgbm_shap", "pattern_shap_first", "pattern_shap", "path"):
        start, cpu = time.perf_counter(), _cpu()
        contrib[how] = _contributions(model, features, how)
        out[f"{how}_seconds"] = round(time.perf_counter() - start, 3)
        out[f"{how}_cpu_seconds"] = round(_cpu() - cpu, 3)
    exact = contrib["lightgbm_shap"]
    out["pattern_max_abs_diff"] = float(np.abs(contrib["pattern_shap"] - exact).to_numpy().max())
    out["pattern_speedup"] = round(out["lightgbm_shap_seconds"] / out["pattern_shap_seconds"], 1)
    out["path_vs_shap"] = _agreement(exact, contrib["path"], features)
    out["pattern_vs_lightgbm_shap"] = _agreement(exact, contrib["pattern_shap"], features)
    return out


def _simulated(tmp: Path) -> tuple[WinbackModel, pd.DataFrame]:
    bundle, _ = base._train(tmp, 5_000)
    model = load_model(bundle)
    sim = simulate(30_000, start=base.START, end=base.END, seed=5)
    features = model.build_features(
        sim.orders, cutoff=base.AS_OF, events=sim.events, customers=sim.customers
    )
    return model, features


def _cdnow(tmp: Path) -> tuple[WinbackModel, pd.DataFrame]:
    config = load_config(ROOT / "configs" / "cdnow.yaml")
    tracking = config.tracking.model_copy(update={"enabled": False})
    config = config.model_copy(update={"output_dir": str(tmp / "cdnow"), "tracking": tracking})
    result = train(config, base_dir=ROOT / "configs", progress=False)
    model = load_model(result.bundle_path)
    return model, model.build_features(load_cdnow(), cutoff=config.data.end)


def main() -> None:
    warnings.simplefilter("ignore")
    result: dict = {
        "default_reasons": ScoringConfig().reasons_method,
        "goal": GOAL,
        "cpus": os.cpu_count(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory(prefix="bench_reasons_") as tmp:
        for name, make in (("simulated", _simulated), ("cdnow", _cdnow)):
            model, features = make(Path(tmp))
            result[name] = _measure(model, features)
            result[name]["trees"] = sum(e.booster_.num_trees() for e in _estimators(model))
    agree = {b: result[b]["path_vs_shap"]["first_reason_text"] for b in ("simulated", "cdnow")}
    result["path_meets_goal"] = (
        min(agree.values()) >= GOAL["default_first_reason_agreement_with_shap"]
    )
    result["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    write_result(result, RESULTS)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
