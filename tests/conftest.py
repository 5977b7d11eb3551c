"""Fixtures shared across test folders: the simulated base's trained model (``simulated.py``),
the model trained on the CDNOW 1/10 sample with the shipped config, and a real PostgreSQL server
(``postgres_server.py``)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from postgres_server import PostgresServer, running_server
from simulated import SimTrained, train_sim
from winback.training import TrainResult, load_config, train

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def pytest_ignore_collect(collection_path, config) -> bool | None:
    """conftest.py files are loaded as plugins, never collected: ``--doctest-modules`` would
    otherwise import every one as the same module ``conftest`` and fail on the second."""
    return True if collection_path.name == "conftest.py" else None


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server on 127.0.0.1 for the session (per xdist worker), stopped afterwards.

    Mark the tests that use it ``pytest.mark.xdist_group("postgres")`` so that, under
    ``--dist loadgroup``, one worker runs them all and one server is started.
    """
    with running_server() as server:
        yield server


@pytest.fixture(scope="session")
def sim_trained(tmp_path_factory: pytest.TempPathFactory) -> SimTrained:
    """The model trained once per session (per xdist worker) on the simulated base."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BTYD convergence notes on a small training set
        return train_sim(tmp_path_factory.mktemp("sim_trained"))


@pytest.fixture(scope="session")
def cdnow_sample_trained(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """The shipped ``configs/cdnow.yaml`` trained once per session (per xdist worker) on the
    CDNOW 1/10 sample (2,357 customers), with fewer bootstrap resamples and trees.

    Mark the tests that use it ``pytest.mark.xdist_group("cdnow_sample")`` so that, under
    ``--dist loadgroup``, one worker runs them all and trains once.
    """
    config = load_config(CONFIGS / "cdnow.yaml")
    config = config.model_copy(
        update={
            "output_dir": str(tmp_path_factory.mktemp("cdnow_sample")),
            "data": config.data.model_copy(update={"orders": "cdnow_sample"}),
            "tracking": config.tracking.model_copy(update={"enabled": False}),
            "backtest": config.backtest.model_copy(update={"bootstrap": 20}),
            "lightgbm": config.lightgbm.model_copy(update={"n_estimators": 150}),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BTYD convergence notes on the small sample
        return train(config, base_dir=CONFIGS, progress=False)
