"""Benchmark: time ``rfm_summary`` and ``build_features`` on 10M orders of 1M customers and
measure their peak memory; write the figures to ``bench/results/features.json``.

The orders (int64 customer ids, rows in random order, ``customer_id``/``order_ts``/``amount``)
come from a quick numpy generator, or from ``winback.datasets.simulate`` with
``--source simulate`` (falling back to numpy if it is unavailable). Each function is timed
best of ``--repeat`` runs. Peak memory is measured twice: the tracemalloc peak of one call
(numpy and pandas report their buffers to tracemalloc), and the rise of the resident set's
high-water mark during one call in a forked child (Linux ``/proc/self/clear_refs``).
``--compare-pandas`` also times a plain pandas groupby RFM and checks it gives the same numbers.

Usage: ``python bench/bench_features.py [--orders 10000000] [--customers 1000000]
[--sparse-ids] [--source numpy|simulate] [--compare-pandas] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import platform
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from _measure import write_result
from winback.features import build_features, rfm_summary

RESULT = Path(__file__).resolve().parent / "results" / "features.json"
START = pd.Timestamp("2022-01-01")
DAYS = 3 * 365
CUTOFF = START + pd.Timedelta(days=DAYS - 1)
GOALS = {"rfm_summary_seconds": 3.0, "build_features_seconds": 10.0, "peak_memory_ratio": 3.0}


def numpy_orders(n_orders: int, n_customers: int, *, sparse_ids: bool, seed: int) -> pd.DataFrame:
    """Orders of heterogeneous customers: every customer buys once, the rest by Gamma weights."""
    rng = np.random.default_rng(seed)
    if sparse_ids:  # ids spread over 62 bits: the builders must rank them (pd.factorize)
        ids = np.unique(rng.integers(1, 2**62, size=n_customers + n_customers // 100))
        ids = rng.permutation(ids)[:n_customers]
    else:  # compact customer numbers
        ids = 1_000_000 + rng.permutation(n_customers).astype(np.int64) * 3
    weights = rng.gamma(0.8, 1.0, n_customers)
    owner = np.concatenate(
        [
            np.arange(n_customers),
            rng.choice(n_customers, n_orders - n_customers, p=weights / weights.sum()),
        ]
    )
    first_day = rng.integers(0, DAYS, n_customers)
    day = first_day[owner].astype(np.float64)
    repeat = np.arange(n_orders) >= n_customers
    day[repeat] += rng.random(int(repeat.sum())) * (DAYS - day[repeat])
    seconds = day.astype(np.int64) * 86_400 + rng.integers(0, 86_400, n_orders)
    amount = rng.gamma(2.0, 25.0, n_orders)
    amount[rng.random(n_orders) < 0.02] *= -1
    order = rng.permutation(n_orders)
    return pd.DataFrame(
        {
            "customer_id": ids[owner][order],
            "order_ts": (START.to_datetime64() + (seconds[order] * 10**9).astype("m8[ns]")).astype(
                "M8[ns]"
            ),
            "amount": amount[order],
        }
    )


def simulated_orders(n_customers: int, *, seed: int) -> pd.DataFrame | None:
    """Orders of ``winback.datasets.simulate`` (shuffled), or None if it is unavailable."""
    try:
        from winback.datasets import simulate
    except ImportError:
        return None
    end = START + pd.Timedelta(days=DAYS - 1)
    orders = simulate(
        n_customers, start=START.date(), end=end.date(), seed=seed, event_rates={}
    ).orders
    orders = orders[["customer_id", "order_ts", "amount"]]
    return orders.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def best_of(repeat: int, call: Callable[[], object]) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times), [round(t, 3) for t in times]


def traced_peak_mb(call: Callable[[], object]) -> float:
    """Peak bytes allocated (tracemalloc) during ``call`` beyond what was allocated before."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    call()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 1e6


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _rss_child(call: Callable[[], object], queue) -> None:
    gc.collect()
    before = _status_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark to VmRSS
    call()
    queue.put((_status_kb("VmHWM") - before) * 1024 / 1e6)


def rss_peak_mb(call: Callable[[], object]) -> float | None:
    """Rise of the resident high-water mark during ``call`` in a forked child (Linux only)."""
    if not Path("/proc/self/clear_refs").exists():
        return None
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_rss_child, args=(call, queue))
    child.start()
    value = queue.get()
    child.join()
    return value


def pandas_rfm(orders: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The four RFM columns with a plain pandas groupby (the reference for speed and values)."""
    day = orders["order_ts"].dt.floor("D")
    kept = orders.assign(day=day)[day <= cutoff]
    daily = kept.groupby(["customer_id", "day"], as_index=False)["amount"].sum()
    per_customer = daily.groupby("customer_id")
    first, last = per_customer["day"].min(), per_customer["day"].max()
    frequency = per_customer.size() - 1
    first_total = daily.drop_duplicates("customer_id").set_index("customer_id")["amount"]
    repeat_total = per_customer["amount"].sum() - first_total
    return pd.DataFrame(
        {
            "frequency": frequency.astype("float64"),
            "recency": (last - first).dt.days.astype("float64"),
            "T": (cutoff - first).dt.days.astype("float64"),
            "monetary_value": (repeat_total / frequency.where(frequency > 0)).fillna(0.0),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--source", choices=["numpy", "simulate"], default="numpy")
    parser.add_argument("--sparse-ids", action="store_true")
    parser.add_argument("--compare-pandas", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=RESULT)
    args = parser.parse_args()

    load_before = os.getloadavg()
    started = time.perf_counter()
    orders = simulated_orders(args.customers, seed=args.seed) if args.source == "simulate" else None
    source = "simulate" if orders is not None else "numpy"
    if orders is None:
        orders = numpy_orders(
            args.orders, args.customers, sparse_ids=args.sparse_ids, seed=args.seed
        )
    generate_seconds = time.perf_counter() - started
    orders_mb = float(orders.memory_usage(deep=True).sum()) / 1e6

    def rfm() -> pd.DataFrame:
        return rfm_summary(orders, cutoff=CUTOFF)

    def features() -> pd.DataFrame:
        return build_features(orders, cutoff=CUTOFF)

    rfm_best, rfm_runs = best_of(args.repeat, rfm)
    features_best, features_runs = best_of(args.repeat, features)
    table = features()
    memory = {
        name: {
            "tracemalloc_peak_mb": round(traced_peak_mb(call), 1),
            "rss_hwm_rise_mb": rss_peak_mb(call),
        }
        for name, call in (("rfm_summary", rfm), ("build_features", features))
    }
    for entry in memory.values():
        if entry["rss_hwm_rise_mb"] is not None:
            entry["rss_hwm_rise_mb"] = round(entry["rss_hwm_rise_mb"], 1)
    peak_mb = max(max(v for v in entry.values() if v is not None) for entry in memory.values())
    result = {
        "benchmark": "features",
        "source": source,
        "orders_rows": len(orders),
        "customers": int(table.shape[0]),
        "customer_id_dtype": str(orders["customer_id"].dtype),
        "sparse_ids": bool(args.sparse_ids) and source == "numpy",
        "rows_sorted": False,
        "cutoff": str(CUTOFF.date()),
        "orders_memory_mb": round(orders_mb, 1),
        "generate_seconds": round(generate_seconds, 2),
        "rfm_summary_seconds": round(rfm_best, 3),
        "rfm_summary_runs": rfm_runs,
        "build_features_seconds": round(features_best, 3),
        "build_features_runs": features_runs,
        "build_features_columns": int(table.shape[1]),
        "memory": memory,
        "peak_memory_ratio": round(peak_mb / orders_mb, 2),
        "memory_method": (
            "tracemalloc: peak traced bytes during one call minus those allocated before it; "
            "rss: rise of VmHWM over VmRSS during one call in a forked child after resetting "
            "VmHWM via /proc/self/clear_refs. peak_memory_ratio = the larger of the four / "
            "orders.memory_usage(deep=True)."
        ),
        "goals": GOALS,
        "goals_met": {
            "rfm_summary_seconds": bool(rfm_best <= GOALS["rfm_summary_seconds"]),
            "build_features_seconds": bool(features_best <= GOALS["build_features_seconds"]),
            "peak_memory_ratio": bool(peak_mb / orders_mb <= GOALS["peak_memory_ratio"]),
        },
        "load_average_before": [round(x, 2) for x in load_before],
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "machine": platform.machine(),
    }
    if args.compare_pandas:
        started = time.perf_counter()
        reference = pandas_rfm(orders, CUTOFF)
        result["pandas_groupby_rfm_seconds"] = round(time.perf_counter() - started, 3)
        mine = rfm()
        result["pandas_groupby_rfm_equal"] = bool(
            mine.index.equals(reference.index)
            and np.allclose(
                mine.to_numpy(), reference.loc[mine.index].to_numpy(), rtol=1e-9, atol=1e-9
            )
        )
    write_result(result, args.output)
    print(result)


if __name__ == "__main__":
    main()
