"""Shared fixtures of the tracking tests: one small model trained on simulated data, logged once.

Training takes seconds on 300 simulated customers; it runs once per test session (per xdist
worker) and every tracking test reads the same result, run and registered model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from winback.datasets import simulate
from winback.training import TrainConfig

DATA_END = "2023-12-31"
REGISTERED_MODEL = "winback-tracking-test"


@dataclass(frozen=True)
class Trained:
    """A finished training run and what the tests need to check it."""

    result: Any  # winback.models.TrainResult
    config: TrainConfig
    features: pd.DataFrame  # features at the data's end, index customer_id
    workdir: Path
    bundle: Path  # absolute path of the bundle (result.bundle_path is relative to workdir)


def small_config(orders_path: Path, **tracking: object) -> TrainConfig:
    """Return a fast training config (short horizons, few trees) for ``orders_path``."""
    return TrainConfig.model_validate(
        {
            "name": "tracking-test",
            "data": {"orders": str(orders_path), "end": DATA_END},
            "features": {"windows_days": [30, 90]},
            "tasks": {"repurchase_days": 30, "churn_days": 60},
            "backtest": {
                "evaluation_cutoff": "2023-09-02",  # data end - 120 days: cutoffs share a grid
                "every_days": 60,
                "min_history_days": 300,
                "bootstrap": 20,
            },
            "lightgbm": {
                "n_estimators": 50,
                "learning_rate": 0.1,
                "min_child_samples": 20,
                "early_stopping_rounds": 10,
                "n_jobs": 1,
            },
            "tracking": {
                "experiment": "winback-test",
                "registered_model": REGISTERED_MODEL,
                **tracking,
            },
            "seed": 0,
        }
    )


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """Train once on 300 simulated customers over two years (bundle under a temporary folder)."""
    from winback.training import load_training_data, train

    workdir = tmp_path_factory.mktemp("trained")
    sim = simulate(300, start="2022-01-01", end=DATA_END, seed=3)
    orders_path = workdir / "orders.parquet"
    sim.orders.to_parquet(orders_path, index=False)
    config = small_config(orders_path, uri=f"sqlite:///{workdir / 'mlflow.db'}")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(workdir)  # output_dir "models" is relative to the working directory
        result = train(config, base_dir=workdir, progress=False)
    orders = load_training_data(config, base_dir=workdir).orders
    features = result.model.build_features(orders, cutoff=pd.Timestamp(DATA_END))
    return Trained(result, config, features, workdir, workdir / result.bundle_path)


@dataclass(frozen=True)
class LoggedRun:
    """The run id of the logged ``trained`` run and MLflow's global state right after logging."""

    run_id: str
    uri: str
    tracking_uri_set_after: bool
    env_after: str | None


@pytest.fixture(scope="session")
def logged(trained: Trained) -> LoggedRun:
    """Log ``trained`` once to its SQLite tracking URI (artifacts land under its folder)."""
    import mlflow

    from winback.tracking import log_training_run, tracking_uri

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(trained.workdir)  # without a server, artifacts go under the working directory
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        run_id = log_training_run(trained.result, trained.config)
        state = mlflow.is_tracking_uri_set(), os.environ.get("MLFLOW_TRACKING_URI")
    return LoggedRun(run_id, tracking_uri(trained.config), *state)
