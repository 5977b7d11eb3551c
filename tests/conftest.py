"""Fixtures shared across test folders: the simulated base's trained model (``simulated.py``)
and a real PostgreSQL server (``postgres_server.py``)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from postgres_server import PostgresServer, running_server
from simulated import SimTrained, train_sim


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
