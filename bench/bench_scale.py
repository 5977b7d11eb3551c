"""Benchmark "beyond memory": score a simulated base partitioned by customer on a local Dask
cluster whose workers read their own buckets, and write ``bench/results/scale.json``.

1. A model is trained on a small simulated base (``--train-customers``; ``bench_score._train``).
2. ``--customers`` customers (default 10 million, about 10 orders and 12 events each) are
   simulated ``--chunk`` customers at a time (each chunk its own seed and id range) and written
   straight into hash buckets of whole customers (:class:`winback.io.BucketWriter`, one writer
   per table) under ``--data-dir`` (default ``/tmp/winback_scale``, never the repository); the
   folder is deleted at the end unless ``--keep-data``.
3. In a fresh child process (the driver), a ``LocalCluster`` of ``--workers`` worker processes
   (one thread each) scores it with :func:`winback.scoring.score_files` and
   ``configs/actions.yaml``: each bucket is one task that reads its orders, events and
   customers, gates, builds features and scores; the driver gathers per-customer scores only.
   Measured: the driver's peak RSS (``ru_maxrss`` of the child: the driver and the in-process
   scheduler), each worker's peak RSS (``ru_maxrss`` read on the worker by ``client.run``), the
   total time, and each bucket task's compute time (Dask's task stream).

Projection to W workers (stated in the JSON): ``T(W) = T_driver + max(sum(t_b) / W, max(t_b))``
where ``t_b`` are the measured bucket compute times and ``T_driver`` = total time minus the
time from the first bucket start to the last bucket end (the driver's serial part: assembling,
tiers, allocation, writing). It assumes buckets spread evenly, perfect scaling of reads (every
worker reads its own files) and the driver's part unchanged; with as many workers as buckets
the largest bucket bounds it (use more buckets for more workers). The machine is shared (load
average recorded), so times are pessimistic.

``--driver-only N [N ...]`` measures the driver's part alone instead: one real bucket of
``--customers`` customers is scored here, and for each N a fresh process unpickles N /
``--customers`` copies of its result (ids shifted apart, as if from N / --customers workers'
buckets), assembles, allocates and writes CSV and Parquet outputs; its peak RSS is recorded under
``driver_only`` in the JSON (kept when the full run rewrites it).

Usage: ``python bench/bench_scale.py [--customers 10000000] [--chunk 500000] [--buckets N]
[--workers 2] [--keep-data] [--driver-only N ...]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import write_result
from bench_score import ACTIONS, AS_OF, END, START, _train

RESULT = Path(__file__).resolve().parent / "results" / "scale.json"
GOALS = {"driver_peak_rss_mb": 1536.0, "worker_peak_rss_mb": 6144.0}
TABLES = ("orders", "events", "customers")


def _generate(root: Path, n_customers: int, chunk: int, buckets: int) -> dict[str, float | int]:
    """Simulate ``n_customers`` in chunks and write each table into buckets under ``root``."""
    from winback.datasets import simulate
    from winback.io import BucketWriter

    start = time.perf_counter()
    rows = dict.fromkeys(TABLES, 0)
    writers = {name: BucketWriter(root / name, buckets=buckets) for name in TABLES}
    for writer in writers.values():
        writer.__enter__()
    try:
        for k, first in enumerate(range(0, n_customers, chunk)):
            size = min(chunk, n_customers - first)
            sim = simulate(size, start=START, end=END, seed=1000 + k)
            for name in TABLES:
                frame = getattr(sim, name)
                frame["customer_id"] += first  # disjoint ids per chunk
                if "order_id" in frame.columns:
                    frame["order_id"] = f"c{k}-" + frame["order_id"].astype("str")
                writers[name].write(frame)
                rows[name] += len(frame)
            del sim
            print(f"simulated {first + size:,} customers", file=sys.stderr, flush=True)
    except BaseException as exc:
        for writer in writers.values():
            writer.__exit__(type(exc), exc, None)
        raise
    for writer in writers.values():
        writer.__exit__(None, None, None)
    size = sum(f.stat().st_size for f in root.rglob("*.parquet"))
    return {
        **{f"{name}_rows": n for name, n in rows.items()},
        "generate_seconds": round(time.perf_counter() - start, 1),
        "parquet_mb": round(size / 2**20, 1),
    }


def _child(args: argparse.Namespace) -> None:
    """The driver: score the buckets on a local cluster; print the figures as JSON."""
    from distributed import Client, LocalCluster, get_task_stream

    from winback.scoring import score_files

    root = Path(args.root)
    cluster = LocalCluster(
        n_workers=args.workers,
        threads_per_worker=1,
        memory_limit=args.worker_memory_limit,
        dashboard_address=None,
    )
    with cluster, Client(cluster) as client, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        with get_task_stream(client) as stream:
            result = score_files(
                args.model,
                root / "orders",
                events=root / "events",
                customers=root / "customers",
                out=root / "scores.parquet",
                as_of=AS_OF,
                actions=ACTIONS,
                client=client,
                progress=False,
            )
        total = time.perf_counter() - start
        workers = client.run(
            lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ).values()
    spans = [
        (s["start"], s["stop"])
        for task in stream.data
        if str(task["key"]).startswith("bucket-")
        for s in task["startstops"]
        if s["action"] == "compute"
    ]
    times = [stop - start for start, stop in spans]
    parallel = max(s[1] for s in spans) - min(s[0] for s in spans)
    print(
        json.dumps(
            {
                "total_seconds": round(total, 1),
                "driver_peak_rss_mb": round(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
                ),
                "worker_peak_rss_mb": [round(w, 1) for w in workers],
                "bucket_seconds": [round(t, 2) for t in times],
                "buckets_phase_seconds": round(parallel, 1),
                "scored": result.summary["customers"]["scored"],
                "rejected": result.summary["customers"]["rejected"],
                "reasons_method": _reasons_method(),
            }
        )
    )


def _reasons_method() -> str:
    from winback.scoring import ScoringConfig

    return str(ScoringConfig().reasons_method)


def _projection(figures: dict, workers: int) -> float:
    times = figures["bucket_seconds"]
    driver = figures["total_seconds"] - figures["buckets_phase_seconds"]
    return round(driver + max(sum(times) / workers, max(times)), 1)


def _one_bucket(args: argparse.Namespace) -> None:
    """Score bucket 0 of ``--root`` here and pickle what a worker would send back."""
    import pickle

    import pandas as pd

    from winback.io import split_buckets
    from winback.models import load_model
    from winback.scoring import ScoringConfig
    from winback.scoring._bucketed import score_bucket
    from winback.scoring._inputs import campaign_config
    from winback.scoring._score import keep_columns

    root = Path(args.root)
    sources = split_buckets({name: root / name for name in TABLES}, count=None, id_columns={})[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = score_bucket(
            load_model(args.model),
            sources,
            day=pd.Timestamp(AS_OF),
            keep=keep_columns(campaign_config(ACTIONS), ()),
            config=ScoringConfig(),
            read={},
        )
    (root / "bucket.pickle").write_bytes(pickle.dumps(result))


def _driver_only(args: argparse.Namespace) -> None:
    """The driver's part for ``--replicas`` copies of one bucket's result (ids shifted apart):
    unpickle each (as from a worker), assemble, tiers, allocation, drift, write the outputs."""
    import dataclasses
    import pickle

    import pandas as pd

    from winback.models import load_model
    from winback.scoring import ScoringConfig
    from winback.scoring._bucketed import _assemble
    from winback.scoring._files import _write_outputs, output_paths
    from winback.scoring._inputs import campaign_config
    from winback.scoring._score import RunSettings, keep_columns

    root = Path(args.root)
    model = load_model(args.model)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    blob = (root / "bucket.pickle").read_bytes()  # this bench's own file, written above
    start = time.perf_counter()
    results = []
    for k in range(args.replicas):
        one = pickle.loads(blob)
        shift = k * 1_000_000_000
        results.append(
            dataclasses.replace(
                one,
                scored=one.scored.set_axis(one.scored.index + shift),
                rejects=one.rejects.assign(customer_id=one.rejects["customer_id"] + shift),
                inputs=one.inputs + shift,
            )
        )
    campaign = campaign_config(ACTIONS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = RunSettings(
            model,
            pd.Timestamp(AS_OF),
            keep_columns(campaign, ()),
            ScoringConfig(),
            campaign,
            None,
            [],
            (),
        )
        result, _ = _assemble(results, run, as_of=AS_OF, date_format=None)
        del results
        _write_outputs(result, result.summary, output_paths(root / f"driver{args.suffix}"))
    print(
        json.dumps(
            {
                "customers": len(result.scores),
                "seconds": round(time.perf_counter() - start, 1),
                "baseline_rss_mb": round(baseline, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "output": args.suffix,
            }
        )
    )


def _run_child(*flags: str) -> dict:
    run = subprocess.run(
        [sys.executable, __file__, *flags], check=True, capture_output=True, text=True
    )
    return json.loads(run.stdout.strip().splitlines()[-1]) if run.stdout.strip() else {}


def _main_driver_only(args: argparse.Namespace) -> None:
    """One bucket of ``--customers`` scored for real, then the driver's part for each size in
    ``--driver-only``: results go to ``scale.json`` under ``driver_only``."""
    root = Path(args.data_dir)
    if root.exists():
        raise SystemExit(f"{root} exists; remove it or pass another --data-dir")
    root.mkdir(parents=True)
    try:
        model, _ = _train(root, args.train_customers)
        _generate(root, args.customers, args.chunk, 1)
        common = ["--root", str(root), "--model", str(model)]
        _run_child("--child-one-bucket", *common)
        runs = []
        for n in args.driver_only:
            for suffix in (".csv", ".parquet"):
                replicas = str(max(1, n // args.customers))
                runs.append(
                    _run_child(
                        "--child-driver", *common, "--replicas", replicas, "--suffix", suffix
                    )
                )
                print(json.dumps(runs[-1]), flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result = json.loads(RESULT.read_text()) if RESULT.is_file() else {}
    result["driver_only"] = {
        "what": "the driver's part alone (gather, assemble, tiers, segments, allocation, drift, "
        f"reconciliation, writing) on copies of one real bucket of {args.customers:,} "
        "customers' scores, ids shifted apart; peak RSS of a fresh process",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "runs": runs,
    }
    write_result(result, RESULT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=500_000)
    parser.add_argument("--buckets", type=int, default=None, help="default: 1 per 100k customers")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-memory-limit", default="7GB")
    parser.add_argument("--train-customers", type=int, default=5_000)
    parser.add_argument("--data-dir", default="/tmp/winback_scale")
    parser.add_argument("--keep-data", action="store_true")
    parser.add_argument(
        "--driver-only",
        type=int,
        nargs="*",
        default=None,
        help="instead: the driver's part alone for these numbers of customers (one real "
        "bucket of --customers scored here, its result replicated)",
    )
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--child-one-bucket", action="store_true")
    parser.add_argument("--child-driver", action="store_true")
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--suffix", default=".csv")
    parser.add_argument("--root")
    parser.add_argument("--model")
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    if args.child_one_bucket:
        _one_bucket(args)
        return
    if args.child_driver:
        _driver_only(args)
        return
    if args.driver_only is not None:
        _main_driver_only(args)
        return
    buckets = args.buckets or max(4, args.customers // 100_000)
    root = Path(args.data_dir)
    if root.exists():
        raise SystemExit(f"{root} exists; remove it or pass another --data-dir")
    root.mkdir(parents=True)
    load_before = os.getloadavg()
    try:
        model, train_seconds = _train(root, args.train_customers)
        data = _generate(root, args.customers, args.chunk, buckets)
        run = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--root",
                str(root),
                "--model",
                str(model),
                "--workers",
                str(args.workers),
                "--worker-memory-limit",
                args.worker_memory_limit,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        figures = json.loads(run.stdout.strip().splitlines()[-1])
    finally:
        if not args.keep_data:
            shutil.rmtree(root, ignore_errors=True)
    times = figures["bucket_seconds"]
    result = {
        "customers": args.customers,
        "buckets": buckets,
        "workers": args.workers,
        "train_seconds": round(train_seconds, 1),
        **data,
        **figures,
        "bucket_seconds_mean": round(sum(times) / len(times), 2),
        "bucket_seconds_max": max(times),
        "projection_formula": "T(W) = (total - buckets_phase) + max(sum(bucket_seconds) / W, "
        "max(bucket_seconds))",
        "projected_seconds": {str(w): _projection(figures, w) for w in (10, 100)},
        "goals": GOALS,
        "goals_met": {
            "driver_peak_rss_mb": figures["driver_peak_rss_mb"] <= GOALS["driver_peak_rss_mb"],
            "worker_peak_rss_mb": max(figures["worker_peak_rss_mb"]) <= GOALS["worker_peak_rss_mb"],
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "note": "shared with other jobs; compare within one run",
        },
    }
    if RESULT.is_file():  # keep the driver-only runs of --driver-only
        result["driver_only"] = json.loads(RESULT.read_text()).get("driver_only")
    write_result(result, RESULT)
    print(json.dumps(result, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
