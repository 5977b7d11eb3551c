"""Benchmark: fit time of the BTYD baselines on CDNOW and on simulated customers, and where a
fit's time goes; write the figures to ``bench/results/btyd.json``.

Cases: the CDNOW 1/10 sample and the full file (23,570 customers) summarised in weeks at the end
of the 39-week calibration period (1997-09-30), with the fitted parameters next to the published
ones; a warm-started CDNOW fit (``initial_params`` plus the default start); and ``--customers``
(default 100,000) customers simulated from each model (BG/NBD and Pareto/NBD truths), once with
continuous recency/T (every history distinct: the collapse of identical histories cannot help)
and once rounded to whole days (as ``rfm_summary`` produces them, so identical histories
collapse). Each fit is timed best of ``--repeat`` runs, after one untimed warm-up fit. The goals
are checked on the continuous cases, each model on its own simulation.

``--baseline-src DIR`` also times another checkout of winback (``DIR/src``, e.g. the commit
before a change, exported with ``git archive``) on the same cases in a subprocess and records it
under ``baseline``. ``--lifetimes-python PATH`` times lifetimes' fitters on the CDNOW summaries
and the continuous Pareto/NBD simulation in the Python of a throwaway venv at PATH (lifetimes
does not run on pandas 3). Without these options the benchmark takes ~30 s; each adds ~1-2 min.

Usage: ``python bench/bench_btyd.py [--customers 100000] [--repeat 3] [--baseline-src DIR]
[--lifetimes-python /tmp/ltenv/bin/python]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from _measure import write_result
from winback.datasets import load_cdnow
from winback.features import rfm_summary
from winback.models.btyd import BetaGeo, GammaGamma, ParetoNBD
from winback.models.btyd._simulate import simulate_bg_nbd, simulate_pareto_nbd

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
TRUTHS = {
    "bgnbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "pareto_nbd": {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
}
SIMULATORS = {"bgnbd": simulate_bg_nbd, "pareto_nbd": simulate_pareto_nbd}
MODELS = {"bgnbd": BetaGeo, "pareto_nbd": ParetoNBD}
GOALS = {
    "simulated_continuous_bgnbd_seconds": 0.3,
    "simulated_continuous_pareto_nbd_seconds": 1.0,
    "cdnow_full_bgnbd_seconds": 1.0,
    "cdnow_full_pareto_nbd_seconds": 2.0,
}

LIFETIMES_SCRIPT = """
import json, sys, time
import pandas as pd
from lifetimes import BetaGeoFitter, ParetoNBDFitter, GammaGammaFitter
out = {}
for name, path in json.loads(sys.argv[1]).items():
    data = pd.read_csv(path)
    fits = {}
    makers = [("bgnbd", BetaGeoFitter), ("pareto_nbd", ParetoNBDFitter)]
    for label, make in makers:
        start = time.perf_counter()
        model = make().fit(data["frequency"], data["recency"], data["T"])
        fits[label] = {"seconds": round(time.perf_counter() - start, 4),
                       "params": {k: float(v) for k, v in model.params_.items()}}
    if "monetary_value" in data:
        repeat = data[(data["frequency"] > 0) & (data["monetary_value"] > 0)]
        start = time.perf_counter()
        model = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
        fits["gamma_gamma"] = {"seconds": round(time.perf_counter() - start, 4),
                               "params": {k: float(v) for k, v in model.params_.items()}}
    out[name] = fits
print(json.dumps(out))
"""


def best_of(repeat: int, fit: Callable[[], Any]) -> tuple[dict[str, Any], Any]:
    """Fit once untimed (imports, caches), then ``repeat`` times; return the timing and the
    last result.

    ``seconds`` is the best wall-clock time; ``cpu_seconds`` the least process CPU time (the code
    is single-threaded, so on a busy machine it is the figure to compare).
    """
    result = fit()
    runs, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fit()
        runs.append(round(time.perf_counter() - start, 4))
        cpu.append(round(time.process_time() - start_cpu, 4))
    return {"seconds": min(runs), "cpu_seconds": min(cpu), "runs": runs}, result


def fit_record(model: Any, timing: dict[str, Any]) -> dict[str, Any]:
    """The fit's time and result; diagnostics when the estimator records them."""
    record = {
        **timing,
        "params": {k: round(v, 6) for k, v in model.params_.items()},
        "log_likelihood": round(model.log_likelihood_, 4),
        "n_customers": model.n_customers_,
    }
    diagnostics = getattr(model, "diagnostics_", None)
    if diagnostics is not None:
        record["diagnostics"] = {
            key: diagnostics[key]
            for key in ("start", "converged", "iterations", "evaluations", "degenerate")
        }
    return record


def bench_summary(summary: pd.DataFrame, *, repeat: int, spend: bool) -> dict[str, Any]:
    """Time the fits on one RFM summary (Gamma-Gamma on its repeat buyers with positive value)."""
    record: dict[str, Any] = {
        "customers": len(summary),
        "repeat_buyers": int((summary["frequency"] > 0).sum()),
        "distinct_histories": len(summary[["frequency", "recency", "T"]].drop_duplicates()),
    }
    for name, make in MODELS.items():
        timing, model = best_of(repeat, lambda make=make: make().fit(summary))
        record[name] = fit_record(model, timing)
    if spend:
        buyers = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
        timing, model = best_of(repeat, lambda: GammaGamma().fit(buyers))
        record["gamma_gamma"] = fit_record(model, timing)
    return record


def bench_warm_start(summary: pd.DataFrame, cold: dict[str, Any], *, repeat: int) -> dict:
    """Time fits warm-started from the cold fit's parameters (both starts are run)."""
    record = {}
    for name, make in MODELS.items():
        warm = cold[name]["params"]
        timing, model = best_of(repeat, lambda m=make, w=warm: m(initial_params=w).fit(summary))
        record[name] = fit_record(model, timing)
    return record


def simulated_summary(truth: str, n: int, *, seed: int, whole_days: bool) -> pd.DataFrame:
    """Customers of model ``truth`` acquired uniformly over 78 weeks, observed at week 78."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(0.0, 78.0, n)
    if whole_days:
        T = np.floor(T * 7) / 7
    data = SIMULATORS[truth](TRUTHS[truth], T, horizon=0.0, rng=rng)
    if whole_days:  # purchase days: recency to whole days, at most T
        data["recency"] = np.minimum(np.floor(data["recency"] * 7) / 7, data["T"])
    return data[["frequency", "recency", "T"]]


def where_time_goes(model_name: str, data: pd.DataFrame) -> dict[str, Any]:
    """Split one fit into checking and collapsing the data, setting up the likelihood, and
    evaluating it (mean of 10 evaluations at the fitted parameters, times the fit's count)."""
    from winback.models.btyd import _beta_geo, _pareto_nbd  # the estimators' own internals

    model = MODELS[model_name]()
    start = time.perf_counter()
    histories = model._histories(data, where="bench")
    prepared = time.perf_counter()
    likelihood = {"bgnbd": _beta_geo, "pareto_nbd": _pareto_nbd}[model_name]._Likelihood(histories)
    set_up = time.perf_counter()
    fitted = MODELS[model_name]().fit(data)
    theta = np.log(list(fitted.params_.values()))
    start_eval = time.perf_counter()
    for _ in range(10):
        likelihood(theta)
    per_evaluation = (time.perf_counter() - start_eval) / 10
    evaluations = fitted.diagnostics_["evaluations"]
    return {
        "check_and_collapse_seconds": round(prepared - start, 4),
        "likelihood_setup_seconds": round(set_up - prepared, 4),
        "seconds_per_evaluation": round(per_evaluation, 5),
        "evaluations": evaluations,
        "evaluations_seconds": round(per_evaluation * evaluations, 4),
    }


def bench_predictions(model: Any, data: pd.DataFrame) -> dict[str, float]:
    out = {}
    for name, predict in (
        ("probability_alive", lambda: model.probability_alive(data)),
        ("expected_purchases_13w", lambda: model.expected_purchases(13.0, data)),
        ("probability_of_purchase_13w", lambda: model.probability_of_purchase(13.0, data)),
    ):
        out[name] = best_of(1, predict)[0]["seconds"]
    return out


def run_cases(customers: int, repeat: int) -> dict[str, Any]:
    """Time every case with the winback on ``sys.path``; return the records."""
    result: dict[str, Any] = {}
    cdnow = cdnow_summaries()
    for name, summary in cdnow.items():
        result[name] = bench_summary(summary, repeat=repeat, spend=True)
        print(name, json.dumps(result[name]), file=sys.stderr)
    if hasattr(BetaGeo(), "try_default_start"):
        full = cdnow["cdnow_full"]
        result["cdnow_full_warm_start"] = bench_warm_start(
            full, result["cdnow_full"], repeat=repeat
        )
    for truth in MODELS:
        for label, whole_days in (("continuous", False), ("whole_days", True)):
            data = simulated_summary(truth, customers, seed=1, whole_days=whole_days)
            record = bench_summary(data, repeat=repeat, spend=False)
            record["truth"] = {"model": truth, **TRUTHS[truth]}
            key = f"simulated_{truth}_{label}"
            result[key] = record
            print(key, json.dumps(record), file=sys.stderr)
    return result


def cdnow_summaries() -> dict[str, pd.DataFrame]:
    return {
        name: rfm_summary(load_cdnow(sample=sample), cutoff=CALIBRATION_END, time_unit="W")
        for name, sample in (("cdnow_sample", True), ("cdnow_full", False))
    }


def run_baseline(source: str, customers: int, repeat: int) -> dict[str, Any]:
    """Run this script's cases against another checkout's ``src`` in a subprocess."""
    env = {**os.environ, "PYTHONPATH": str(Path(source) / "src")}
    args = [sys.executable, __file__, "--cases-only", f"--customers={customers}"]
    done = subprocess.run(
        [*args, f"--repeat={repeat}"], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stdout)


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


def goals_met(result: dict[str, Any]) -> dict[str, bool]:
    figures = {
        "simulated_continuous_bgnbd_seconds": result["simulated_bgnbd_continuous"]["bgnbd"],
        "simulated_continuous_pareto_nbd_seconds": result["simulated_pareto_nbd_continuous"][
            "pareto_nbd"
        ],
        "cdnow_full_bgnbd_seconds": result["cdnow_full"]["bgnbd"],
        "cdnow_full_pareto_nbd_seconds": result["cdnow_full"]["pareto_nbd"],
    }
    return {name: fit["seconds"] <= GOALS[name] for name, fit in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-src", default=None)
    parser.add_argument("--lifetimes-python", default=None)
    parser.add_argument("--cases-only", action="store_true", help="print the cases as JSON")
    args = parser.parse_args()
    if args.cases_only:
        print(json.dumps(run_cases(args.customers, args.repeat)))
        return

    result: dict[str, Any] = {
        "benchmark": "btyd",
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_before": [round(v, 2) for v in os.getloadavg()],
        "published_cdnow_sample": PUBLISHED,
        "goals": GOALS,
        **run_cases(args.customers, args.repeat),
    }
    result["where_time_goes"] = {
        f"{name}_on_{name}_continuous": where_time_goes(
            name, simulated_summary(name, args.customers, seed=1, whole_days=False)
        )
        for name in MODELS
    }
    continuous = simulated_summary("pareto_nbd", args.customers, seed=1, whole_days=False)
    result["predictions_seconds_continuous"] = {
        name: bench_predictions(make().fit(continuous), continuous) for name, make in MODELS.items()
    }
    result["goals_met"] = goals_met(result)
    if args.baseline_src:
        result["baseline"] = run_baseline(args.baseline_src, args.customers, args.repeat)
    if args.lifetimes_python:
        summaries = {
            **cdnow_summaries(),
            "simulated_pareto_nbd_continuous": simulated_summary(
                "pareto_nbd", args.customers, seed=1, whole_days=False
            ),
        }
        result["lifetimes"] = compare_lifetimes(args.lifetimes_python, summaries)
    result["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    write_result(result, RESULT)
    print(json.dumps(result["goals_met"]))
    print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()
