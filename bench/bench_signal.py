"""Measure how close an orders-only model can get to the oracle, and what engagement events add.

Writes ``bench/results/signal.json``. Every part trains ``winback`` as ``bench_train.py`` does on
a simulated base (seed 7, 2022-01-01 to 2024-12-31, evaluation cutoff 2024-06-30, tasks
repurchase within 90 days and churn within 180 days) and scores AUC on the same labels:

- ``orders_only_ceiling``: the honest ceiling of models that see only orders. BG/NBD with the
  simulator's *true* parameters (``lambda ~ Gamma(r, rate=alpha)`` per day, so ``alpha / 7`` in
  the weeks of the RFM summary; ``p ~ Beta(a, b)``), not refitted, conditioned on each customer's
  observed (frequency, recency, T) at the cutoff. Its AUC is next to the fitted BG/NBD, the
  shipped ``winback`` score and the oracle that knows each customer's latent rate and whether
  they are alive (which no model reading orders can know). The gap between this ceiling and the
  oracle is what orders cannot reveal; the gap between ``winback`` and it is what is left to gain.
- ``event_sweep``: engagement events at the simulator's default rates times ``k`` (1, 4, 16),
  same seed (the orders are identical across ``k``; only the events differ). Per task: the AUC of
  ``winback`` (trained with the events), BG/NBD, Pareto/NBD and the oracle, ``winback`` minus the
  better BTYD model, ``winback`` minus the oracle, and events per customer. This shows how the
  gain over BTYD grows as the events carry more signal.
- ``disengagement_observed``: the default events plus one ``disengaged`` event per customer at its
  true disengagement time, so the engagement state is observed perfectly: the most any
  engagement data can add in this simulator, measured through the same pipeline.

In this simulator engagement fades from the customer's *penultimate* purchase before dropout
(so the oracle stays the best achievable predictor): a disengaged customer still has one purchase
left, often inside the label window, which caps how much the events can reveal. Multiplying every
rate by ``k`` also multiplies the unsubscribe rate, after which a customer gets no email events.

Each part records the wall seconds of its simulation and of its training run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from _measure import write_result
from bench_train import SIM_CUTOFF, train_on_simulation
from winback.datasets import Simulation, oracle_purchase_probability, simulate
from winback.datasets._simulate import DEFAULT_EVENT_RATES
from winback.features import build_labels, rfm_summary
from winback.models import BetaGeo

RESULTS = Path(__file__).parent / "results" / "signal.json"
CUTOFF = SIM_CUTOFF
TASKS = (("repurchase", 90), ("churn", 180))
EVENT_MULTIPLIERS = (1, 4, 16)
DAYS_PER_WEEK = 7.0


def _simulation(n: int, *, event_multiplier: float) -> tuple[Simulation, float]:
    rates = {name: rate * event_multiplier for name, rate in DEFAULT_EVENT_RATES.items()}
    start = time.perf_counter()
    sim = simulate(n, start="2022-01-01", end="2024-12-31", seed=7, event_rates=rates)
    return sim, time.perf_counter() - start


def _train(sim: Simulation, out: Path, *, with_events: bool):
    """Train winback on ``sim`` as bench_train does; return the result and its wall seconds."""
    start = time.perf_counter()
    result = train_on_simulation(sim, out, with_events=with_events)
    return result, time.perf_counter() - start


def _population(sim: Simulation) -> pd.Index:
    """Customers with an order at or before the cutoff (the evaluation's test population)."""
    return rfm_summary(sim.orders, cutoff=CUTOFF, time_unit="W").index


def _bought(sim: Simulation, population: pd.Index, horizon: int) -> np.ndarray:
    labels = build_labels(sim.orders, cutoff=CUTOFF, horizons_days=[horizon])
    return labels[f"purchased_within_{horizon}d"].reindex(population).fillna(0).to_numpy()


def _auc(task: str, bought: np.ndarray, p_purchase: np.ndarray) -> float:
    """AUC of a purchase probability on the task's target (churn: no order, score 1 - p)."""
    if task == "churn":
        return float(roc_auc_score(1 - bought, 1.0 - p_purchase))
    return float(roc_auc_score(bought, p_purchase))


def _oracle(sim: Simulation, population: pd.Index, horizon: int) -> np.ndarray:
    oracle = oracle_purchase_probability(sim.truth, cutoff=CUTOFF, horizon_days=horizon)
    return oracle.reindex(population).to_numpy()


def _true_bgnbd(sim: Simulation) -> BetaGeo:
    """BG/NBD holding the simulator's true parameters in weeks (set, not fitted)."""
    p = sim.params
    model = BetaGeo()
    model.params_ = {
        "r": float(p["r"]),
        "alpha": float(p["alpha"]) / DAYS_PER_WEEK,
        "a": float(p["a"]),
        "b": float(p["b"]),
    }
    model.log_likelihood_ = float("nan")
    model.n_customers_ = 0
    return model


def _ceiling(n: int, out: Path) -> dict:
    sim, sim_seconds = _simulation(n, event_multiplier=1)
    result, train_seconds = _train(sim, out, with_events=False)
    rfm = rfm_summary(sim.orders, cutoff=CUTOFF, time_unit="W")
    true_model = _true_bgnbd(sim)
    fitted = result.backtest_model.build_features(sim.orders, cutoff=CUTOFF).reindex(rfm.index)
    rows = {}
    for task, horizon in TASKS:
        key = f"{task}_{horizon}d"
        methods = result.evaluation[key]["methods"]
        bought = _bought(sim, rfm.index, horizon)
        true_p = true_model.probability_of_purchase(horizon / DAYS_PER_WEEK, rfm)
        ceiling = _auc(task, bought, true_p)
        oracle = _auc(task, bought, _oracle(sim, rfm.index, horizon))
        rows[key] = {
            "true_param_bgnbd_auc": ceiling,
            "fitted_bgnbd_auc": methods["bgnbd"]["auc"],
            "fitted_bgnbd_auc_recomputed": _auc(
                task, bought, fitted[f"bgnbd_p_purchase_{horizon}d"].to_numpy()
            ),
            "pareto_nbd_auc": methods["pareto_nbd"]["auc"],
            "winback_auc": methods["winback"]["auc"],
            "oracle_auc": oracle,
            "oracle_minus_true_param_bgnbd": oracle - ceiling,
            "winback_minus_true_param_bgnbd": methods["winback"]["auc"] - ceiling,
            "positive_rate": float(np.mean(bought if task == "repurchase" else 1 - bought)),
        }
    return {
        "customers": n,
        "customers_at_cutoff": len(rfm),
        "orders": len(sim.orders),
        "true_bgnbd_params_weeks": true_model.params_,
        "fitted_bgnbd_params_weeks": result.backtest_model.btyd.params()["bgnbd"],
        "simulate_seconds": round(sim_seconds, 1),
        "train_seconds": round(train_seconds, 1),
        **rows,
    }


def _events_before_cutoff(sim: Simulation, population: pd.Index) -> float:
    end = pd.Timestamp(CUTOFF) + pd.Timedelta(days=1)
    events = sim.events
    seen = (events["event_ts"] < end) & events["customer_id"].isin(population)
    return float(seen.sum() / len(population))


def _with_disengagement_observed(sim: Simulation) -> Simulation:
    """``sim`` plus one ``disengaged`` event per customer at its true ``disengage_ts``."""
    truth = sim.truth
    seen = truth["disengage_ts"] <= pd.Timestamp("2024-12-31")
    marks = pd.DataFrame(
        {
            "customer_id": truth.loc[seen, "customer_id"].to_numpy(),
            "event_ts": truth.loc[seen, "disengage_ts"].to_numpy(),
            "event_type": "disengaged",
            "value": np.nan,
        }
    )
    events = pd.concat([sim.events, marks.astype(sim.events.dtypes.to_dict())], ignore_index=True)
    return dataclasses.replace(sim, events=events)


def _sweep_point(n: int, k: int, out: Path, *, observed_state: bool = False) -> dict:
    sim, sim_seconds = _simulation(n, event_multiplier=k)
    if observed_state:
        sim = _with_disengagement_observed(sim)
    result, train_seconds = _train(sim, out, with_events=True)
    population = _population(sim)
    rows = {}
    for task, horizon in TASKS:
        key = f"{task}_{horizon}d"
        methods = result.evaluation[key]["methods"]
        winback, bgnbd = methods["winback"]["auc"], methods["bgnbd"]["auc"]
        pareto = methods["pareto_nbd"]["auc"]
        oracle = _auc(task, _bought(sim, population, horizon), _oracle(sim, population, horizon))
        rows[key] = {
            "winback_auc": winback,
            "bgnbd_auc": bgnbd,
            "pareto_nbd_auc": pareto,
            "oracle_auc": oracle,
            "winback_minus_best_btyd": winback - max(bgnbd, pareto),
            "winback_minus_oracle": winback - oracle,
        }
    return {
        "event_multiplier": k,
        "orders": len(sim.orders),
        "events_per_customer": len(sim.events) / n,
        "events_per_customer_before_cutoff": _events_before_cutoff(sim, population),
        "simulate_seconds": round(sim_seconds, 1),
        "train_seconds": round(train_seconds, 1),
        **rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = tmp / "orders_only"
        folder.mkdir()
        result = {"orders_only_ceiling": _ceiling(args.customers, folder), "event_sweep": {}}
        for k in EVENT_MULTIPLIERS:
            folder = tmp / f"events_x{k}"
            folder.mkdir()
            result["event_sweep"][f"x{k}"] = _sweep_point(args.customers, k, folder)
        folder = tmp / "disengagement_observed"
        folder.mkdir()
        result["disengagement_observed"] = _sweep_point(
            args.customers, 1, folder, observed_state=True
        )
    result["total_seconds"] = round(time.perf_counter() - start, 1)
    write_result(result, RESULTS)
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
