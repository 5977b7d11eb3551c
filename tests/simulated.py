"""One small simulated customer base and one model trained on it, shared by the whole suite.

The session fixture ``sim_trained`` (``tests/conftest.py``) trains once per test process (per
xdist worker) and every test that needs a trained model reads it: scoring, CLI, tracking,
training, sources. Tests that must train again (determinism, leakage) use :func:`sim_config`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from winback.datasets import simulate
from winback.training import TrainConfig, TrainResult, train

N_CUSTOMERS = 1000
START, END = "2022-01-01", "2023-12-31"
EVAL_CUTOFF = "2023-09-30"
AS_OF = "2023-06-30"  # customers acquired later have orders only after the as-of date
SEED = 11
TABLES = ("orders", "events", "customers")


@dataclass(frozen=True)
class SimTrained:
    """The shared training: its result and config, where its data and bundle are."""

    result: TrainResult
    config: TrainConfig
    root: Path  # the data files sit here: orders.parquet, events.parquet, customers.parquet
    bundle: Path
    paths: dict[str, Path]


def side_tables(tables: dict[str, Any]) -> dict[str, Any]:
    """The ``events`` and ``customers`` of ``tables`` (paths or frames), as the keyword
    arguments that scoring, features and training take beside the orders."""
    return {"events": tables["events"], "customers": tables["customers"]}


def write_simulation(folder: Path, *, n_customers: int = N_CUSTOMERS) -> dict[str, Path]:
    """Write the simulated orders, events and customers as Parquet files; return their paths."""
    sim = simulate(n_customers, start=START, end=END, seed=SEED)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in TABLES:
        paths[name] = folder / f"{name}.parquet"
        getattr(sim, name).to_parquet(paths[name], index=False)
    return paths


def sim_config(paths: dict[str, Path], output_dir: Path, **changes: Any) -> TrainConfig:
    """A fast training config on ``paths`` (``orders`` and, when given, events and customers)."""
    data = {name: str(path) for name, path in paths.items()}
    raw: dict[str, Any] = {
        "name": "sim",
        "data": {**data, "end": END},
        "features": {"windows_days": [30, 90]},
        "tasks": {"repurchase_days": 60, "churn_days": 90},
        "backtest": {
            "evaluation_cutoff": EVAL_CUTOFF,
            "every_days": 150,
            "min_history_days": 90,
            "bootstrap": 10,
        },
        "lightgbm": {
            "n_estimators": 50,
            "learning_rate": 0.1,
            "min_child_samples": 20,
            "early_stopping_rounds": 10,
            "n_jobs": 1,
        },
        "tracking": {"enabled": False},
        "seed": 0,
        "output_dir": str(output_dir),
    }
    for key, value in changes.items():
        raw[key] = {**raw[key], **value} if isinstance(raw.get(key), dict) else value
    return TrainConfig.model_validate(raw)


def train_sim(root: Path) -> SimTrained:
    """Simulate the base into ``root`` and train the shared model on it."""
    paths = write_simulation(root)
    config = sim_config(paths, root / "models")
    result = train(config, base_dir=root, progress=False)
    return SimTrained(result, config, root, Path(result.bundle_path), paths)


@dataclass(frozen=True)
class BTYDTruth:
    """A simulated base seen at a cutoff, with years of follow-up: features, BTYD fits, truth."""

    orders: Any
    truth: Any
    features: Any
    fitted: Any
    cutoff: Any
    follow_up_days: int


def btyd_truth(*, n_customers: int = 3000, seed: int = 5) -> BTYDTruth:
    """Customers acquired in 2021-01..2022-06, seen at 2022-12-31, followed up for three years.

    The simulator is the BG/NBD process itself, so a BG/NBD model fitted at the cutoff should
    recover who is alive and how long an active customer waits for the next order.
    """
    import pandas as pd

    from winback.features import build_features, rfm_summary
    from winback.models import btyd_features, fit_btyd, rfm_days_columns

    sim = simulate(
        n_customers,
        start="2021-01-01",
        end="2025-12-31",
        acquisition_end="2022-06-30",
        seed=seed,
        extra_columns=False,
    )
    cutoff = pd.Timestamp("2022-12-31")
    base = build_features(sim.orders, cutoff=cutoff)
    rfm = rfm_summary(sim.orders, cutoff=cutoff, time_unit="W").reindex(base.index)
    fitted = fit_btyd(rfm)
    features = base.join(btyd_features(rfm, fitted, horizons_days=[90])).join(rfm_days_columns(rfm))
    follow_up = (pd.Timestamp("2025-12-31") - cutoff).days
    return BTYDTruth(sim.orders, sim.truth, features, fitted, cutoff, follow_up)
