"""Benchmark: score 1M simulated customers end to end and write ``bench/results/score.json``.

A model is trained on a smaller simulated base (``--train-customers``, default 5,000); a separate
base of ``--customers`` (default 1,000,000) with orders, events and customers is simulated and
written as Parquet. Each measured run happens in a fresh child process so its peak resident
memory (``ru_maxrss``) is its own:

- ``score``: read the Parquet frames (already in the data contract's form) and call
  :func:`winback.scoring.score` with ``configs/actions.yaml``: features, the three models,
  reasons, tiers, segments, allocation, drift. The goals: <= 60 s and <= 4 GB; with the
  default reasons (exact SHAP) <= 30 s. Each run records its CPU seconds (all threads), the
  load average before and after (other jobs on the machine slow the wall clock), and where
  the time went (``steps``: wall and CPU seconds in features, predictions, contributions and
  reason wording, timed around the library's functions; ``other`` is chunk splitting,
  assembly, tiers, allocation, drift).
- ``score_files`` (``--with-gate``): the same through the data gate (``winback.io`` readers)
  and writing the three output files, i.e. what ``winback score`` does.
- ``score_reasons_path_dask_<N>_workers`` (``--workers N``): ``score`` with path reasons on a
  local Dask cluster of N worker processes (``client=``); its peak memory is the driver's only.

Usage: ``python bench/bench_score.py [--customers 1000000] [--train-customers 5000]
[--chunk-size 200000] [--with-gate] [--workers N]``
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

RESULT = Path(__file__).resolve().parent / "results" / "score.json"
ACTIONS = Path(__file__).resolve().parents[1] / "configs" / "actions.yaml"
START, END, AS_OF = "2022-01-01", "2024-12-31", "2024-12-31"
GOALS = {"score_seconds": 60.0, "score_peak_rss_mb": 4096.0, "default_reasons_score_seconds": 30.0}


def _train(root: Path, n_customers: int) -> tuple[Path, float]:
    from winback.datasets import simulate
    from winback.training import TrainConfig, train

    sim = simulate(n_customers, start=START, end=END, seed=1)
    for name in ("orders", "events", "customers"):
        getattr(sim, name).to_parquet(root / f"train_{name}.parquet", index=False)
    config = TrainConfig.model_validate(
        {
            "name": "bench",
            "data": {n: str(root / f"train_{n}.parquet") for n in ("orders", "events", "customers")}
            | {"end": END},
            "tasks": {"repurchase_days": 90, "churn_days": 180},
            "backtest": {
                "evaluation_cutoff": "2024-06-30",
                "every_days": 91,
                "min_history_days": 180,
                "bootstrap": 20,
            },
            "lightgbm": {"n_estimators": 200, "learning_rate": 0.1, "early_stopping_rounds": 20},
            "tracking": {"enabled": False},
            "output_dir": str(root / "models"),
        }
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train(config, base_dir=root, progress=False)
    return root / "models" / "bench", time.perf_counter() - start


def _simulate(root: Path, n_customers: int) -> dict[str, int | float]:
    from winback.datasets import simulate

    start = time.perf_counter()
    sim = simulate(n_customers, start=START, end=END, seed=2)
    rows = {}
    for name in ("orders", "events", "customers"):
        frame = getattr(sim, name)
        rows[f"{name}_rows"] = len(frame)
        frame.to_parquet(root / f"{name}.parquet", index=False)
    rows["simulate_seconds"] = round(time.perf_counter() - start, 2)
    return rows


def _child(args: argparse.Namespace) -> None:
    """Run one measured scoring in this (fresh) process and print its figures as JSON."""
    import pandas as pd

    from winback.models import load_model
    from winback.monitoring import feature_profile
    from winback.scoring import ScoringConfig, score, score_files

    root = Path(args.root)
    config = ScoringConfig(chunk_size=args.chunk_size, reasons_method=args.reasons)
    common = {"as_of": AS_OF, "actions": ACTIONS, "config": config, "progress": False}
    paths = {n: root / f"{n}.parquet" for n in ("orders", "events", "customers")}
    figures: dict[str, float | int] = {}
    model = load_model(args.model)
    if "feature_profile" not in model.metadata:  # until training records it: profile here
        train = {n: pd.read_parquet(root / f"train_{n}.parquet") for n in paths}
        features = model.build_features(
            train["orders"], cutoff=END, events=train["events"], customers=train["customers"]
        )
        model.metadata["feature_profile"] = feature_profile(features, model.feature_names)
        figures["feature_profile_added_by_bench"] = True
        del train, features
    steps = _time_steps()
    figures["loadavg_start"] = [round(x, 2) for x in os.getloadavg()]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if args.child == "score":
            frames = {n: pd.read_parquet(p) for n, p in paths.items()}
            figures["read_seconds"] = round(time.perf_counter() - start, 2)
            figures["rss_after_read_mb"] = _rss_now_mb()
            with _client(args.workers) as client:
                start, cpu = time.perf_counter(), _cpu_seconds()
                result = score(
                    model,
                    frames["orders"],
                    events=frames["events"],
                    customers=frames["customers"],
                    client=client,
                    **common,
                )
        else:
            result = score_files(
                model,
                paths["orders"],
                out=root / "scores.parquet",
                events=paths["events"],
                customers=paths["customers"],
                **common,
            )
    figures["seconds"] = round(time.perf_counter() - start, 2)
    if args.child == "score":
        figures["cpu_seconds"] = round(_cpu_seconds() - cpu, 2)
        figures["steps"] = {k: {w: round(v, 2) for w, v in d.items()} for k, d in steps.items()}
    figures["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    figures["scored"] = result.summary["customers"]["scored"]
    figures["rejected"] = result.summary["customers"]["rejected"]
    figures["drift_computed"] = result.summary["drift"]["computed"]
    figures["drifted_features"] = len(result.summary["drift"].get("drifted", []))
    print(json.dumps(figures))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _time_steps() -> dict[str, dict[str, float]]:
    """Time the per-chunk steps of a local run by wrapping the functions score_chunk calls."""
    from winback.models import WinbackModel
    from winback.scoring import _chunks

    steps: dict[str, dict[str, float]] = {}

    def timed(owner: object, name: str, step: str) -> None:
        function = getattr(owner, name)
        totals = steps.setdefault(step, {"seconds": 0.0, "cpu_seconds": 0.0})

        depth = [0]  # contributions calls itself for a conditional task: time the outer call

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            start, cpu = time.perf_counter(), _cpu_seconds()
            depth[0] += 1
            try:
                return function(*args, **kwargs)
            finally:
                depth[0] -= 1
                if not depth[0]:
                    totals["seconds"] += time.perf_counter() - start
                    totals["cpu_seconds"] += _cpu_seconds() - cpu

        setattr(owner, name, wrapper)

    timed(WinbackModel, "build_features", "features")
    timed(WinbackModel, "predict", "predictions")
    timed(WinbackModel, "contributions", "contributions")
    timed(_chunks, "churn_reasons", "reason_wording")  # contributions are computed before it
    return steps


@contextlib.contextmanager
def _client(workers: int | None):
    """A client of a local Dask cluster of ``workers`` processes (started untimed), or None."""
    if not workers:
        yield None
        return
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
    with cluster, Client(cluster) as client:
        yield client


def _rss_now_mb() -> float:
    """Current resident memory of this process (Linux /proc), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _measure(
    kind: str, root: Path, model: Path, chunk_size: int, reasons: str, workers: int = 0
) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            kind,
            "--root",
            str(root),
            "--model",
            str(model),
            "--chunk-size",
            str(chunk_size),
            "--reasons",
            reasons,
            "--workers",
            str(workers),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--train-customers", type=int, default=5_000)
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--with-gate", action="store_true")
    parser.add_argument("--reasons", choices=["shap", "path"], default="shap")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--child", choices=["score", "score_files"])
    parser.add_argument("--root")
    parser.add_argument("--model")
    args = parser.parse_args()
    if args.child:
        _child(args)
        return

    import numpy as np
    import pandas as pd

    from _measure import write_result
    from winback.scoring import ScoringConfig

    default_reasons = ScoringConfig().reasons_method
    with tempfile.TemporaryDirectory(prefix="bench_score_") as tmp:
        root = Path(tmp)
        model, train_seconds = _train(root, args.train_customers)
        result = {
            "benchmark": "score",
            "customers": args.customers,
            "train_customers": args.train_customers,
            "train_seconds": round(train_seconds, 1),
            "chunk_size": args.chunk_size,
            "default_reasons": default_reasons,
            "cpus": os.cpu_count(),
            "loadavg_start": [round(x, 2) for x in os.getloadavg()],
            **_simulate(root, args.customers),
        }
        for reasons in ("shap", "path"):
            run = _measure("score", root, model, args.chunk_size, reasons)
            run["meets_goals"] = (
                run["seconds"] <= GOALS["score_seconds"]
                and run["peak_rss_mb"] <= GOALS["score_peak_rss_mb"]
            )
            if reasons == default_reasons:
                run["meets_default_goal"] = run["seconds"] <= GOALS["default_reasons_score_seconds"]
            result[f"score_reasons_{reasons}"] = run
        if args.workers:
            result[f"score_reasons_path_dask_{args.workers}_workers"] = _measure(
                "score", root, model, args.chunk_size, "path", args.workers
            )
        if args.with_gate:
            result["score_files_reasons_path"] = _measure(
                "score_files", root, model, args.chunk_size, "path"
            )
    result["goals"] = GOALS
    result["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    result.update(
        python=platform.python_version(),
        numpy=np.__version__,
        pandas=pd.__version__,
        machine=platform.machine(),
    )
    write_result(result, RESULT)
    print(json.dumps(result, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
