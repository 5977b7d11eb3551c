"""Benchmark: fit time of the BTYD baselines on CDNOW and on 1M simulated customers; write the
figures to ``bench/results/btyd.json``.

Cases: the CDNOW 1/10 sample and the full file (23,570 customers) summarised in weeks at the end
of the 39-week calibration period (1997-09-30), with the fitted parameters next to the published
ones; and ``--customers`` (default 1M) BG/NBD customers simulated with numpy, once with
continuous recency/T (every history distinct) and once rounded to whole days (as
``rfm_summary`` produces them, so identical histories collapse). Each fit is timed best of
``--repeat`` runs; the 1M cases run once. ``--lifetimes-python PATH`` also times lifetimes'
``BetaGeoFitter``/``ParetoNBDFitter``/``GammaGammaFitter`` on the CDNOW summaries, in the Python
of a throwaway venv at PATH (lifetimes does not run on pandas 3).

Usage: ``python bench/bench_btyd.py [--customers 1000000] [--repeat 3]
[--lifetimes-python /tmp/ltenv/bin/python]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from winback.datasets import load_cdnow
from winback.features import rfm_summary
from winback.io import write_json
from winback.models.btyd import BetaGeo, GammaGamma, ParetoNBD
from winback.models.btyd._simulate import simulate_bg_nbd

RESULT = Path(__file__).resolve().parent / "results" / "btyd.json"
CALIBRATION_END = "1997-09-30"
PUBLISHED = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "log_likelihood": -9582.4},
    "pareto_nbd": {
        "r": 0.553,
        "alpha": 10.578,
        "s": 0.606,
        "beta": 11.669,
        "log_likelihood": -9595.0,
    },
    "gamma_gamma": {"p": 6.25, "q": 3.74, "gamma": 15.44},
}
SIMULATION_TRUTH = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GOALS = {"cdnow_full_bgnbd_seconds": 1.0, "cdnow_full_pareto_nbd_seconds": 2.0}

LIFETIMES_SCRIPT = """
import json, sys, time
import pandas as pd
from lifetimes import BetaGeoFitter, ParetoNBDFitter, GammaGammaFitter
out = {}
for name, path in json.loads(sys.argv[1]).items():
    data = pd.read_csv(path)
    repeat = data[(data["frequency"] > 0) & (data["monetary_value"] > 0)]
    fits = {}
    for label, make, args in [
        ("bgnbd", BetaGeoFitter, (data["frequency"], data["recency"], data["T"])),
        ("pareto_nbd", ParetoNBDFitter, (data["frequency"], data["recency"], data["T"])),
        ("gamma_gamma", GammaGammaFitter, (repeat["frequency"], repeat["monetary_value"])),
    ]:
        start = time.perf_counter()
        model = make().fit(*args)
        fits[label] = {"seconds": round(time.perf_counter() - start, 4),
                       "params": {k: float(v) for k, v in model.params_.items()}}
    out[name] = fits
print(json.dumps(out))
"""


def best_of(repeat: int, fit: Callable[[], Any]) -> tuple[float, list[float], Any]:
    """Run ``fit`` ``repeat`` times; return the best time, all times and the last result."""
    runs, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fit()
        runs.append(round(time.perf_counter() - start, 4))
    return min(runs), runs, result


def fit_record(model: Any, seconds: float, runs: list[float]) -> dict[str, Any]:
    return {
        "seconds": seconds,
        "runs": runs,
        "params": {k: round(v, 6) for k, v in model.params_.items()},
        "log_likelihood": round(model.log_likelihood_, 4),
        "n_customers": model.n_customers_,
    }


def distinct_histories(summary: pd.DataFrame) -> int:
    return len(summary[["frequency", "recency", "T"]].drop_duplicates())


def bench_summary(summary: pd.DataFrame, *, repeat: int, spend: bool) -> dict[str, Any]:
    """Time the fits on one RFM summary (Gamma-Gamma on its repeat buyers with positive value)."""
    record: dict[str, Any] = {
        "customers": len(summary),
        "repeat_buyers": int((summary["frequency"] > 0).sum()),
        "distinct_histories": distinct_histories(summary),
    }
    for name, make in (("bgnbd", BetaGeo), ("pareto_nbd", ParetoNBD)):
        seconds, runs, model = best_of(repeat, lambda make=make: make().fit(summary))
        record[name] = fit_record(model, seconds, runs)
    if spend:
        buyers = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
        seconds, runs, model = best_of(repeat, lambda: GammaGamma().fit(buyers))
        record["gamma_gamma"] = fit_record(model, seconds, runs)
    return record


def simulated_summary(n: int, *, seed: int, whole_days: bool) -> pd.DataFrame:
    """BG/NBD customers acquired uniformly over 78 weeks, observed at week 78."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(0.0, 78.0, n)
    if whole_days:
        T = np.floor(T * 7) / 7
    data = simulate_bg_nbd(SIMULATION_TRUTH, T, horizon=0.0, rng=rng)
    if whole_days:  # purchase days: recency to whole days, at most T
        data["recency"] = np.minimum(np.floor(data["recency"] * 7) / 7, data["T"])
    return data[["frequency", "recency", "T"]]


def bench_predictions(model: Any, data: pd.DataFrame) -> dict[str, float]:
    out = {}
    for name, predict in (
        ("probability_alive", lambda: model.probability_alive(data)),
        ("expected_purchases_13w", lambda: model.expected_purchases(13.0, data)),
        ("probability_of_purchase_13w", lambda: model.probability_of_purchase(13.0, data)),
    ):
        seconds, _, _ = best_of(1, predict)
        out[name] = seconds
    return out


def compare_lifetimes(python: str, summaries: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Fit lifetimes' models on the same summaries in another interpreter; return its figures."""
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for name, frame in summaries.items():
            paths[name] = os.path.join(folder, f"{name}.csv")
            frame.to_csv(paths[name], index=False)
        done = subprocess.run(
            [python, "-c", LIFETIMES_SCRIPT, json.dumps(paths)],
            capture_output=True,
            text=True,
            check=False,
            timeout=3600,
        )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:]}
    probe = "import lifetimes, pandas; print(lifetimes.__version__, pandas.__version__)"
    version = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, check=False
    ).stdout.split()
    return {
        "lifetimes_version": version[0],
        "pandas_version": version[1],
        **json.loads(done.stdout),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lifetimes-python", default=None)
    args = parser.parse_args()

    result: dict[str, Any] = {
        "benchmark": "btyd",
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_before": [round(v, 2) for v in os.getloadavg()],
        "published_cdnow_sample": PUBLISHED,
        "goals": GOALS,
    }
    cdnow = {
        name: rfm_summary(load_cdnow(sample=sample), cutoff=CALIBRATION_END, time_unit="W")
        for name, sample in (("cdnow_sample", True), ("cdnow_full", False))
    }
    for name, summary in cdnow.items():
        result[name] = bench_summary(summary, repeat=args.repeat, spend=True)
        print(name, json.dumps(result[name]))

    for label, whole_days in (("simulated_continuous", False), ("simulated_whole_days", True)):
        data = simulated_summary(args.customers, seed=1, whole_days=whole_days)
        record = bench_summary(data, repeat=1, spend=False)
        record["truth"] = SIMULATION_TRUTH
        if not whole_days:
            record["bgnbd_predictions_seconds"] = bench_predictions(BetaGeo().fit(data), data)
        result[label] = record
        print(label, json.dumps(record))

    if args.lifetimes_python:
        result["lifetimes"] = compare_lifetimes(args.lifetimes_python, cdnow)
        print("lifetimes", json.dumps(result["lifetimes"]))

    result["goals_met"] = {
        "cdnow_full_bgnbd_seconds": result["cdnow_full"]["bgnbd"]["seconds"]
        <= GOALS["cdnow_full_bgnbd_seconds"],
        "cdnow_full_pareto_nbd_seconds": result["cdnow_full"]["pareto_nbd"]["seconds"]
        <= GOALS["cdnow_full_pareto_nbd_seconds"],
    }
    result["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    write_json(result, RESULT)
    print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()
