"""Time `winback train` on CDNOW and measure the models against known truth on simulated data.

Writes ``bench/results/train.json``:
- ``cdnow``: wall time of the full training (backtest + production fit + bundle) and the
  backtest table (task -> method -> metric) at the 1997-09-30 cutoff;
- ``simulated``: on a simulated base with engagement events (where the truth is known), AUC of the
  shipped score, of BG/NBD and of the oracle that knows each customer's latent state, per task.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sklearn.metrics import roc_auc_score

from _measure import write_result
from winback.datasets import Simulation, oracle_purchase_probability, simulate
from winback.features import build_labels
from winback.training import TrainConfig, TrainResult, load_config, train

RESULTS = Path(__file__).parent / "results" / "train.json"
ROOT = Path(__file__).resolve().parent.parent


def _cdnow(out: Path) -> dict:
    config = load_config(ROOT / "configs" / "cdnow.yaml").model_copy(
        update={"output_dir": str(out)}
    )
    start = time.perf_counter()
    result = train(config, base_dir=ROOT / "configs", progress=False)
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 1), "evaluation": _headline(result.evaluation)}


def _headline(evaluation: dict) -> dict:
    keep = ("auc", "brier", "ece", "mae", "rmse", "total_relative_error")
    return {
        task: {
            m: {k: v for k, v in vals.items() if k in keep} for m, vals in res["methods"].items()
        }
        for task, res in evaluation.items()
        if "methods" in res
    }


SIM_END, SIM_CUTOFF = "2024-12-31", "2024-06-30"


def train_on_simulation(sim: Simulation, out: Path, *, with_events: bool) -> TrainResult:
    """Train winback on a simulated base (ending SIM_END) with its backtest at SIM_CUTOFF.

    Tasks: repurchase within 90 days and churn within 180; cutoffs every 30 days (at most 8);
    no tracking. The frames are written as Parquet to ``out``, where the bundle goes too.
    """
    sim.orders.to_parquet(out / "orders.parquet", index=False)
    data = {"orders": str(out / "orders.parquet"), "end": SIM_END}
    if with_events:
        sim.events.to_parquet(out / "events.parquet", index=False)
        data["events"] = str(out / "events.parquet")
    config = TrainConfig.model_validate(
        {
            "name": "sim",
            "data": data,
            "tasks": {"repurchase_days": 90, "churn_days": 180},
            "backtest": {
                "evaluation_cutoff": SIM_CUTOFF,
                "every_days": 30,
                "max_train_cutoffs": 8,
            },
            "tracking": {"enabled": False},
            "output_dir": str(out),
        }
    )
    return train(config, base_dir=out, progress=False)


def _simulated(n: int, out: Path, *, with_events: bool) -> dict:
    sim = simulate(n, start="2022-01-01", end=SIM_END, seed=7)
    result = train_on_simulation(sim, out, with_events=with_events)
    cutoff = SIM_CUTOFF
    frame = result.backtest_model.build_features(sim.orders, cutoff=cutoff)
    out_rows = {}
    for task, horizon in (("repurchase", 90), ("churn", 180)):
        oracle = oracle_purchase_probability(sim.truth, cutoff=cutoff, horizon_days=horizon)
        oracle = oracle.reindex(frame.index)
        key = f"{task}_{horizon}d"
        methods = result.evaluation[key]["methods"]
        labels = build_labels(sim.orders, cutoff=cutoff, horizons_days=[horizon]).reindex(
            frame.index
        )
        y = labels[f"purchased_within_{horizon}d"].fillna(0).to_numpy()
        oracle_auc = roc_auc_score(y, oracle.to_numpy())
        out_rows[key] = {
            "winback_auc": methods["winback"]["auc"],
            "bgnbd_auc": methods["bgnbd"]["auc"],
            "pareto_nbd_auc": methods["pareto_nbd"]["auc"],
            "oracle_auc": oracle_auc,
            "winback_minus_oracle": methods["winback"]["auc"] - oracle_auc,
            "winback_minus_bgnbd": methods["winback"]["auc"] - methods["bgnbd"]["auc"],
            "winback_ece": methods["winback"]["ece"],
        }
    return out_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        result = {"cdnow": _cdnow(tmp)}
        for events in (False, True):
            folder = tmp / f"sim_events_{events}"
            folder.mkdir()
            key = "simulated_with_events" if events else "simulated_orders_only"
            result[key] = {
                "customers": args.customers,
                **_simulated(args.customers, folder, with_events=events),
            }
    write_result(result, RESULTS)
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
