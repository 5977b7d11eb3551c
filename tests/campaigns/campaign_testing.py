"""Shared by the campaign tests: a campaign config whose actions reach enough customers to
measure, and a small churn model trained on a simulated base (once per worker).

The fixtures live in the test modules, not in a ``conftest.py``: under ``--doctest-modules`` a
second ``conftest`` module collected before ``tests/conftest.py`` clashes with it by name."""

from __future__ import annotations

import warnings
from pathlib import Path

from simulated import sim_config
from winback.datasets import simulate
from winback.training import train

CAMPAIGN_DATE = "2024-06-30"
TRAIN_END = "2024-06-30"

ACTIONS = {
    "campaign_id": "sim-test",
    "budget": 1_000_000.0,
    "control_fraction": 0.3,
    "actions": [
        {
            "name": "discount",
            "channel": "email",
            "offer": "15% off",
            "unit_cost": 2.0,
            "uplift": 0.08,
            "when": {"field": "risk_tier", "op": "in", "value": ["medium", "high"]},
        },
        {
            "name": "vip",
            "channel": "email",
            "offer": "VIP invitation",
            "unit_cost": 0.5,
            "uplift": 0.05,
            "when": {"field": "value_tier", "op": "==", "value": "high"},
        },
    ],
}


def trained_bundle(root: Path) -> Path:
    """Return the churn model bundle under ``root``, training it unless it is there already
    (the test modules of a worker share it through pytest's base temporary folder)."""
    bundle = root / "models" / "sim"
    if (bundle / "manifest.json").is_file():
        return bundle
    root.mkdir(parents=True, exist_ok=True)
    return train_model(root)


def train_model(root: Path) -> Path:
    """Train a fast churn model on 2,000 simulated customers; return the bundle folder."""
    sim = simulate(2000, start="2022-01-01", end=TRAIN_END, seed=101)
    paths = {}
    for name in ("orders", "events", "customers"):
        paths[name] = root / f"{name}.parquet"
        getattr(sim, name).to_parquet(paths[name], index=False)
    config = sim_config(
        paths,
        root / "models",
        data={"end": TRAIN_END},
        backtest={"evaluation_cutoff": "2024-03-31", "every_days": 120},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BTYD convergence notes on a small training set
        train(config, base_dir=root, progress=False)
    return root / "models" / "sim"
