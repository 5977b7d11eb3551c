"""Benchmark: time ``winback.datasets.simulate`` on a million customers (the feature benchmark's
input size, about 10M orders) and write rows, seconds and peak memory to
``bench/results/simulate.json``.

Usage: ``python bench/bench_simulate.py [--n-customers 1000000] [--seed 0]``
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from _measure import write_result
from winback.datasets import simulate

RESULT = Path(__file__).resolve().parent / "results" / "simulate.json"


def _peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rss_before = _peak_rss_mb()
    started = time.perf_counter()
    sim = simulate(args.n_customers, seed=args.seed)
    seconds = time.perf_counter() - started
    peak = _peak_rss_mb()

    result = {
        "benchmark": "simulate",
        "n_customers": args.n_customers,
        "seed": args.seed,
        "seconds": round(seconds, 2),
        "orders_rows": len(sim.orders),
        "purchase_rows": int((sim.orders["amount"] > 0).sum()),
        "events_rows": len(sim.events),
        "customers_rows": len(sim.customers),
        "orders_per_customer": round(len(sim.orders) / args.n_customers, 3),
        "alive_at_end_share": round(
            float((sim.truth["dropout_ts"] > pd.Timestamp(sim.params["end"])).mean()), 4
        ),
        "peak_rss_mb": round(peak, 1),
        "peak_rss_before_call_mb": round(rss_before, 1),
        "frames_memory_mb": round(
            float(
                sum(
                    frame.memory_usage(deep=True).sum()
                    for frame in (sim.orders, sim.events, sim.customers, sim.truth)
                )
            )
            / 1e6,
            1,
        ),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "machine": platform.machine(),
    }
    write_result(result, RESULT)
    print(result)


if __name__ == "__main__":
    main()
