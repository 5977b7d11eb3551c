"""Time `winback train` on a small base: 4,000 simulated customers, about 20,000 orders.

Issue 10's goal: a 4,000-customer, 20,000-order base with two probability tasks trains in 30 s
or less on the 2-core machine. Writes ``bench/results/train_small.json``: the base's size, the
wall and CPU seconds of :func:`winback.training.train` (backtest, production fit, bundle; no
MLflow) and the load average around the run.

Usage: ``python bench/bench_train_small.py [--customers 4000]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

from _measure import write_result
from winback.datasets import simulate
from winback.training import TrainConfig, train

RESULTS = Path(__file__).parent / "results" / "train_small.json"
START, END, CUTOFF = "2022-01-01", "2023-03-31", "2022-09-30"  # about 5 orders per customer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=4000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="winback-bench-"))
    orders = simulate(args.customers, start=START, end=END, seed=7).orders
    orders.to_parquet(root / "orders.parquet", index=False)
    config = TrainConfig.model_validate(
        {
            "name": "small",
            "data": {"orders": str(root / "orders.parquet"), "end": END},
            "tasks": {"repurchase_days": 90, "churn_days": 180},
            "backtest": {"evaluation_cutoff": CUTOFF},
            "tracking": {"enabled": False},
            "output_dir": str(root / "models"),
        }
    )
    load_before = os.getloadavg()
    wall, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BTYD fit notes on early, short cutoffs
        train(config, base_dir=root, progress=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    result = {
        "benchmark": "train_small",
        "customers": int(orders["customer_id"].nunique()),
        "orders": len(orders),
        "tasks": ["repurchase 90 days", "churn 180 days", "spend 180 days"],
        "seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "goal_seconds": 30.0,
        "meets_goal": wall <= 30.0,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
    }
    write_result(result, RESULTS)
    print(result)


if __name__ == "__main__":
    main()
