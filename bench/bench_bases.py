"""winback against every baseline it reports, on several customer bases (issue 10's goals).

Trains (backtest + production fit, no tracking) on each base and writes ``bench/results/bases.json``
with, per base and probability task: every method's AUC / Brier / ECE on the window after the
evaluation cutoff, AUC(winback) - AUC(baseline) with its 95% paired-bootstrap CI for every
baseline, the shipped candidate, the level source, and whether each goal is met:

- ``auc``: the upper end of the CI against the best baseline is >= 0;
- ``brier``: winback's Brier score <= the best BTYD model's;
- ``ece``: winback's ECE <= the best BTYD model's + 0.005.

Bases: full CDNOW and its 1/10 sample (``configs/cdnow.yaml``); simulated (with engagement
events; cutoff 2024-06-30, repurchase 90 days, churn 180): stationary, seasonal (amplitude 0.4),
a level shift of +30% and of -30% on 2024-07-01 (between the validation and the test windows:
nothing before the cutoff shows it), and a base of 500 customers. On simulated bases ``ceiling``
adds the oracle's metrics and, with a shift, those of the oracle blind to the shift.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from _measure import write_result
from bench_train import SIM_CUTOFF, train_on_simulation
from winback.datasets import Simulation, oracle_purchase_probability, simulate
from winback.evaluation import bootstrap_auc_difference, classification_metrics
from winback.training import TrainResult, load_config, train

RESULTS = Path(__file__).parent / "results" / "bases.json"
ROOT = Path(__file__).resolve().parent.parent
BASELINES = ("bgnbd", "pareto_nbd", "recency", "rfm_logit")
SHIFT_DATE = "2024-07-01"  # the day after SIM_CUTOFF

SIMULATED = {
    "simulated_stationary": {},
    "simulated_seasonal": {"seasonality": 0.4},
    "simulated_shift_up_30": {"level_shift": 0.3, "level_shift_date": SHIFT_DATE},
    "simulated_shift_down_30": {"level_shift": -0.3, "level_shift_date": SHIFT_DATE},
    "simulated_500_customers": {"n": 500},
}


def _cdnow(out: Path, *, sample: bool) -> TrainResult:
    config = load_config(ROOT / "configs" / "cdnow.yaml")
    data = config.data.model_copy(update={"orders": "cdnow_sample" if sample else "cdnow"})
    tracking = config.tracking.model_copy(update={"enabled": False})
    config = config.model_copy(update={"output_dir": str(out), "data": data, "tracking": tracking})
    return train(config, base_dir=ROOT / "configs", progress=False)


def _simulated(out: Path, n: int, settings: dict) -> tuple[TrainResult, Simulation]:
    settings = dict(settings)
    n = settings.pop("n", n)
    sim = simulate(n, start="2022-01-01", end="2024-12-31", seed=11, **settings)
    return train_on_simulation(sim, out, with_events=True), sim


def _oracles(result: TrainResult, sim: Simulation, name: str) -> dict:
    """AUC / Brier / ECE of the oracle (knows every latent state and the rate curve) and, with
    a level shift, of the same oracle blind to the shift: the best any model of the past can do."""
    task = result.backtest_model.tasks[name]
    h = task.spec.horizon_days
    ids = result.backtest_model.build_features(sim.orders, cutoff=SIM_CUTOFF).index
    blind = sim.truth.copy()
    blind.attrs["winback.simulation"] = {**sim.truth.attrs["winback.simulation"], "level_shift": 0}
    out = {}
    for label, truth in (("oracle", sim.truth), ("oracle_blind_to_shift", blind)):
        if label != "oracle" and not sim.params["level_shift"]:
            continue
        p = oracle_purchase_probability(truth, cutoff=SIM_CUTOFF, horizon_days=h).reindex(ids)
        p = p.fillna(0.0).to_numpy()
        p = 1 - p if task.spec.name == "churn" else p
        metrics = classification_metrics(result.backtest_targets[name], p)
        out[label] = {k: metrics[k] for k in ("auc", "brier", "ece")}
    return out


def _task_record(result: TrainResult, name: str, n_boot: int) -> dict:
    task = result.backtest_model.tasks[name]
    key = f"{name}_{task.spec.horizon_days}d"
    evaluation = result.evaluation[key]
    scores, y = result.backtest_scores[name], result.backtest_targets[name]
    winback = scores["winback"][0]
    versus = {}
    for baseline in BASELINES:
        other = np.nan_to_num(scores[baseline][0], nan=0.0)
        versus[baseline] = bootstrap_auc_difference(y, winback, other, n_boot=n_boot, seed=0)
    keep = ("auc", "brier", "ece")
    return {
        "customers": len(y),
        "event_rate": float(np.mean(y)),
        "shipped": task.method,
        "level_source": task.selection.get("level", {}).get("source"),
        "methods": {m: {k: v[k] for k in keep} for m, v in evaluation["methods"].items()},
        "auc_difference_vs": versus,
        "best_baseline": evaluation["auc_difference_vs_best_baseline"]["baseline"],
        "goals": evaluation["goals"],
    }


def _record(result: TrainResult, seconds: float, n_boot: int, sim: Simulation | None) -> dict:
    tasks = [n for n in result.backtest_model.tasks if n in result.backtest_scores]
    records = {n: _task_record(result, n, n_boot) for n in tasks}
    if sim is not None:
        for n in tasks:
            records[n]["ceiling"] = _oracles(result, sim, n)
    return {
        "seconds": round(seconds, 1),
        "btyd_fit_warnings": len(result.evaluation["btyd_fits"]["warnings"]),
        "tasks": records,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=10_000, help="simulated base size")
    parser.add_argument("--bootstrap", type=int, default=500)
    parser.add_argument("--only", nargs="*", help="bases to run (default: all)")
    args = parser.parse_args()
    runs = {
        "cdnow": lambda out: (_cdnow(out, sample=False), None),
        "cdnow_sample": lambda out: (_cdnow(out, sample=True), None),
        **{
            name: (lambda out, s=settings: _simulated(out, args.customers, s))
            for name, settings in SIMULATED.items()
        },
    }
    previous = json.loads(RESULTS.read_text())["bases"] if RESULTS.exists() and args.only else {}
    results = dict(previous)
    with tempfile.TemporaryDirectory() as tmp:
        for name, run in runs.items():
            if args.only and name not in args.only:
                continue
            out = Path(tmp) / name
            out.mkdir()
            start = time.perf_counter()
            result, sim = run(out)
            seconds = time.perf_counter() - start
            results[name] = _record(result, seconds, args.bootstrap, sim)
            print(name, json.dumps(results[name]["tasks"], default=str)[:400], flush=True)
    write_result(
        {"simulated_customers": args.customers, "cutoff_simulated": SIM_CUTOFF, "bases": results},
        RESULTS,
    )


if __name__ == "__main__":
    main()
