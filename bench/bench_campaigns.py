"""Campaign measurement and uplift targeting against the simulator's truth.

Writes ``bench/results/campaigns.json``. A churn model is trained once on a simulated base
(5,000 customers, 2022-01-01 to 2024-06-30); every campaign below is a fresh simulated base
(:func:`winback.campaigns.simulate_campaign`: scored with that model on 2024-06-30, allocated by
winback with its hash control group, then 90 days of purchases that respond to the true,
heterogeneous effects).

- ``coverage``: 200 campaigns of 20,000 customers (``CAMPAIGN``: three actions, 10% control,
  each campaign its own id and so its own control hash).
  Per action, how often the 95% CI of the incremental response (Newcombe) and of the
  incremental revenue per customer (Welch) covers the true effect: the mean of the true
  per-customer effects over the customers the action was assigned (treatment and control).
- ``uplift``: per-action uplift models learned from three past test campaigns (one action each,
  every eligible customer assigned, 50% control, ``--learning-customers`` customers each; a
  stable 30% of their customers held out for the Qini evaluation), then applied to
  ``--test-campaigns`` new campaigns run with ``CAMPAIGN`` at its budget. On each, the true
  expected incremental profit (margin 1) of four allocations under the same budget, caps, rules
  and control fraction: the *oracle* (knows every customer's true incremental revenue), the
  *learned* uplift (``uplift: model`` with the X-learner), the *p_churn* allocation with the
  configured constant uplifts (the campaign as winback allocates it today: gain = uplift x value
  at risk - cost), and the *true tau x value if retained* allocation (perfect uplift, winback's
  value: the ceiling of any uplift model within winback's gain formula, ``uplift_<action> x
  value_if_retained - cost``).

Usage: ``python bench/bench_campaigns.py [--campaigns 200] [--test-campaigns 10]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from _measure import write_result
from winback.actions import allocate_actions, parse_actions_config
from winback.campaigns import (
    CampaignEffects,
    UpliftModel,
    allocation_profit,
    campaign_features,
    evaluate_uplift,
    holdout_mask,
    measure_campaign,
    oracle_allocation,
    simulate_campaign,
    true_effects,
)
from winback.datasets import simulate
from winback.models import load_model
from winback.training import TrainConfig, train

OUT = Path(__file__).parent / "results" / "campaigns.json"
DATE = "2024-06-30"
WINDOW = 90
CAMPAIGN = {
    "campaign_id": "bench",
    "budget": 20_000.0,
    "control_fraction": 0.1,
    "actions": [
        {
            "name": "discount_15",
            "channel": "email",
            "offer": "15% off",
            "unit_cost": 2.0,
            "uplift": 0.08,
            "when": {
                "all": [
                    {"field": "value_tier", "op": "in", "value": ["medium", "high"]},
                    {"field": "risk_tier", "op": "in", "value": ["medium", "high"]},
                ]
            },
        },
        {
            "name": "winback_email",
            "channel": "email",
            "offer": "we miss you",
            "unit_cost": 0.05,
            "uplift": 0.03,
            "when": {"field": "risk_tier", "op": "in", "value": ["medium", "high"]},
        },
        {
            "name": "vip_invitation",
            "channel": "email",
            "offer": "VIP invitation",
            "unit_cost": 0.5,
            "uplift": 0.05,
            "when": {"field": "value_tier", "op": "==", "value": "high"},
        },
    ],
}
EFFECTS = CampaignEffects(default_sleeping_dog=0.05)


def train_churn_model(root: Path):
    sim = simulate(5000, start="2022-01-01", end=DATE, seed=101)
    paths = {}
    for name in ("orders", "events", "customers"):
        paths[name] = root / f"{name}.parquet"
        getattr(sim, name).to_parquet(paths[name], index=False)
    config = TrainConfig.model_validate(
        {
            "name": "sim",
            "data": {**{k: str(p) for k, p in paths.items()}, "end": DATE},
            "features": {"windows_days": [30, 90]},
            "tasks": {"repurchase_days": 60, "churn_days": WINDOW},
            "backtest": {
                "evaluation_cutoff": "2024-03-31",
                "every_days": 120,
                "min_history_days": 90,
                "bootstrap": 10,
            },
            "lightgbm": {"n_estimators": 100, "learning_rate": 0.1, "n_jobs": 2},
            "tracking": {"enabled": False},
            "seed": 0,
            "output_dir": str(root / "models"),
        }
    )
    train(config, base_dir=root, progress=False)
    return load_model(root / "models" / "sim")


def coverage(model, n_campaigns: int, n_customers: int) -> dict:
    hits: dict[str, dict[str, list[bool]]] = {}
    sizes: dict[str, list[tuple[int, int]]] = {}
    start = time.perf_counter()
    for seed in range(n_campaigns):
        # each campaign its own id, so its own control hash: customer ids repeat (1..n) from one
        # simulated base to the next, and a shared id would hold out the same ids every time
        config = parse_actions_config({**CAMPAIGN, "campaign_id": f"bench-{seed}"})
        sim = simulate_campaign(
            model, config, n_customers=n_customers, campaign_date=DATE,
            window_days=WINDOW, seed=1000 + seed, effects=EFFECTS,
        )  # fmt: skip
        truth = true_effects(sim)
        revenue = _true_revenue_effects(sim)
        result = measure_campaign(sim.scores, sim.orders, campaign_date=DATE, window_days=WINDOW)
        for row in result.results["actions"]:
            name = row["label"]
            mine = hits.setdefault(name, {"response": [], "revenue": []})
            mine["response"].append(_covers(row["response"], truth[name]))
            mine["revenue"].append(_covers(row["revenue"], revenue[name]))
            sizes.setdefault(name, []).append((row["n_treatment"], row["n_control"]))
    out = {
        "campaigns": n_campaigns,
        "customers_per_campaign": n_customers,
        "seconds": round(time.perf_counter() - start, 1),
        "actions": {},
    }
    for name, kinds in sorted(hits.items()):
        n_t, n_c = np.mean(sizes[name], axis=0)
        out["actions"][name] = {
            "intervals": len(kinds["response"]),
            "response_coverage": round(float(np.mean(kinds["response"])), 4),
            "revenue_coverage": round(float(np.mean(kinds["revenue"])), 4),
            "mean_treatment": round(float(n_t)),
            "mean_control": round(float(n_c)),
        }
    pooled = [h for kinds in hits.values() for h in kinds["response"]]
    out["response_coverage_all_actions"] = round(float(np.mean(pooled)), 4)
    return out


def _covers(comparison: dict, truth: float) -> bool:
    low, high = comparison["ci_low"], comparison["ci_high"]
    return low is not None and low <= truth <= high


def _true_revenue_effects(sim) -> dict[str, float]:
    truth = sim.truth.set_index("customer_id").reindex(sim.scores["customer_id"].astype(str))
    return {
        a.name: float(truth[f"revenue_effect_{a.name}"].to_numpy()[mine].mean())
        for a in sim.config.actions
        if (mine := (sim.scores["action"] == a.name).to_numpy()).any()
    }


def learning_data(model, n_customers: int) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Three past test campaigns, one action each, everyone eligible assigned, 50% control."""
    xs, outcomes, measured = [], [], {}
    for k, action in enumerate(CAMPAIGN["actions"]):
        raw = {**CAMPAIGN, "campaign_id": f"test-{action['name']}", "budget": 1e9,
               "control_fraction": 0.5, "actions": [action]}  # fmt: skip
        sim = simulate_campaign(
            model, parse_actions_config(raw), n_customers=n_customers, campaign_date=DATE,
            window_days=WINDOW, seed=500 + k, effects=EFFECTS,
        )  # fmt: skip
        result = measure_campaign(sim.scores, sim.orders, campaign_date=DATE, window_days=WINDOW)
        row = result.results["actions"][0]
        measured[action["name"]] = {
            "n_treatment": row["n_treatment"],
            "n_control": row["n_control"],
            "measured_response": row["response"]["diff"],
            "true_response": true_effects(sim)[action["name"]],
        }
        x = campaign_features(
            model, sim.orders, campaign_date=DATE, events=sim.events, customers=sim.customers
        )
        prefix = f"{k}:"
        x.index = prefix + x.index
        frame = result.outcomes.assign(customer_id=prefix + result.outcomes["customer_id"])
        xs.append(x.loc[frame["customer_id"]])
        outcomes.append(frame)
    return pd.concat(xs), pd.concat(outcomes, ignore_index=True), measured


def uplift(model, n_learning: int, n_tests: int, n_customers: int) -> dict:
    start = time.perf_counter()
    x, outcomes, measured = learning_data(model, n_learning)
    held = holdout_mask(outcomes["customer_id"])
    trial = UpliftModel().fit(x, outcomes.loc[~held])
    qini = evaluate_uplift(trial, x, outcomes.loc[held])
    learned_model = UpliftModel().fit(x, outcomes)
    fitted = time.perf_counter()
    rows = []
    for seed in range(n_tests):
        raw = {**CAMPAIGN, "campaign_id": f"bench-test-{seed}"}
        config = parse_actions_config(raw)
        by_model = parse_actions_config(
            {**raw, "actions": [dict(a, uplift="model") for a in CAMPAIGN["actions"]]}
        )
        sim = simulate_campaign(
            model, config, n_customers=n_customers, campaign_date=DATE,
            window_days=WINDOW, seed=2000 + seed, effects=EFFECTS,
        )  # fmt: skip
        features = campaign_features(
            model, sim.orders, campaign_date=DATE, events=sim.events, customers=sim.customers
        )
        base = sim.scores.drop(columns=["action", "offer", "channel", "expected_gain", "cost"])
        base = base.drop(columns="group")
        predicted = learned_model.predict_uplift(features.loc[base["customer_id"].astype(str)])
        learned = base.assign(**{c: predicted[c].to_numpy() for c in predicted.columns})
        perfect = base.assign(
            **{f"uplift_{a}": sim.truth[f"effect_{a}"].to_numpy() for a in learned_model.actions_}
        )
        allocations = {
            "oracle": oracle_allocation(sim),
            "learned_uplift": allocate_actions(learned, by_model),
            "p_churn_constant_uplift": sim.scores,
            "true_tau_x_value_if_retained": allocate_actions(perfect, by_model),
        }
        profit = {name: allocation_profit(a, sim) for name, a in allocations.items()}
        rows.append(profit)
    table = pd.DataFrame(rows)
    share = table.div(table["oracle"], axis=0)
    return {
        "learning_campaigns": measured,
        "learning_customers_per_campaign": n_learning,
        "qini_holdout": qini,
        "test_campaigns": n_tests,
        "test_customers_per_campaign": n_customers,
        "profit_mean": {k: round(float(v), 2) for k, v in table.mean().items()},
        "share_of_oracle_mean": {k: round(float(v), 4) for k, v in share.mean().items()},
        "share_of_oracle_min": {k: round(float(v), 4) for k, v in share.min().items()},
        "share_of_oracle_max": {k: round(float(v), 4) for k, v in share.max().items()},
        "seconds_fit": round(fitted - start, 1),
        "seconds": round(time.perf_counter() - start, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=200)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--learning-customers", type=int, default=100_000)
    parser.add_argument("--test-campaigns", type=int, default=10)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # BTYD notes and drift warnings on simulated bases
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="winback-bench-campaigns-") as tmp:
        model = train_churn_model(Path(tmp))
    results = {
        "uplift": uplift(model, args.learning_customers, args.test_campaigns, args.customers),
        "coverage": coverage(model, args.campaigns, args.customers),
    }
    results["seconds"] = round(time.perf_counter() - start, 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    write_result(results, OUT)
    print(json.dumps(results, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
