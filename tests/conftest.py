"""Fixtures shared across test folders: a real PostgreSQL server (see ``postgres_server.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from postgres_server import PostgresServer, running_server


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
