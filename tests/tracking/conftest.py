"""Shared fixtures of the tracking tests: the suite's shared simulated model, logged once.

The model is the one ``tests/conftest.py`` trains once per session (per xdist worker); these
fixtures only add a tracking config (experiment, registered model, a SQLite store in the model's
folder) and log the run once for every tracking test to read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from simulated import END, SimTrained, side_tables
from winback.training import TrainConfig

DATA_END = END
REGISTERED_MODEL = "winback-tracking-test"


@dataclass(frozen=True)
class Trained:
    """A finished training run and what the tests need to check it."""

    result: Any  # winback.training.TrainResult
    config: TrainConfig
    features: pd.DataFrame  # features at the data's end, index customer_id
    workdir: Path
    bundle: Path


def tracked(config: TrainConfig, **tracking: object) -> TrainConfig:
    """``config`` with tracking on: experiment ``winback-test``, :data:`REGISTERED_MODEL`."""
    settings = {
        "enabled": True,
        "experiment": "winback-test",
        "registered_model": REGISTERED_MODEL,
        **tracking,
    }
    return config.model_copy(update={"tracking": config.tracking.model_copy(update=settings)})


@pytest.fixture(scope="session")
def trained(sim_trained: SimTrained) -> Trained:
    """The shared model, with a tracking config pointing at a SQLite store beside its data."""
    workdir = sim_trained.root
    config = tracked(sim_trained.config, uri=f"sqlite:///{workdir / 'mlflow.db'}")
    frames = {name: pd.read_parquet(path) for name, path in sim_trained.paths.items()}
    features = sim_trained.result.model.build_features(
        frames["orders"],
        cutoff=pd.Timestamp(DATA_END),
        **side_tables(frames),
    )
    return Trained(sim_trained.result, config, features, workdir, sim_trained.bundle)


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
