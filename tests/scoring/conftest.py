"""Fixtures of the scoring tests: one model bundle trained on simulated data per session, and a
Dask cluster in this process per module that asks for one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from distributed import Client, LocalCluster

from simulated import AS_OF, SimTrained
from winback.models import WinbackModel, load_model


@pytest.fixture(scope="session")
def trained(sim_trained: SimTrained) -> tuple[Path, dict[str, Path]]:
    """(bundle folder, {"orders"|"events"|"customers": Parquet path}) of the simulated base."""
    return sim_trained.bundle, sim_trained.paths


@pytest.fixture(scope="session")
def frames(trained: tuple[Path, dict[str, Path]]) -> dict[str, pd.DataFrame]:
    """The simulated orders, events and customers (already in the data contract's form)."""
    return {name: pd.read_parquet(path) for name, path in trained[1].items()}


@pytest.fixture
def model(trained: tuple[Path, dict[str, Path]]) -> WinbackModel:
    """A fresh copy of the trained model (tests may edit its metadata)."""
    return load_model(trained[0])


@pytest.fixture(scope="session")
def as_of() -> str:
    return AS_OF


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """A client of a two-worker Dask cluster in this process (threads, no dashboard)."""
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    with cluster, Client(cluster) as client:
        yield client
