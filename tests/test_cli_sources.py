"""`winback score` and `report` with database, DuckDB and Parquet-folder sources on the command
line: the same files as from Parquet, and passwords never printed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from every_source import every_source
from postgres_server import PostgresServer
from simulated import AS_OF, SimTrained
from winback.cli import app

pytestmark = [
    pytest.mark.xdist_group("postgres"),
    pytest.mark.filterwarnings("ignore::winback.exceptions.DriftWarning"),  # no customers given
]


@pytest.fixture(scope="module")
def trained(sim_trained: SimTrained) -> tuple[Path, dict[str, Path]]:
    return sim_trained.bundle, sim_trained.paths


def _score(bundle: Path, orders: str, events: str, out: Path) -> tuple[int, str]:
    args = ["score", "--model", str(bundle), "--orders", orders, "--events", events]
    args += ["--allow-missing", "customers"]  # the model was trained with customers too
    result = CliRunner().invoke(app, [*args, "--as-of", AS_OF, "--out", str(out)])
    return result.exit_code, result.output


def test_score_from_every_source_writes_the_same_files(
    trained: tuple[Path, dict[str, Path]], postgres: PostgresServer, tmp_path: Path
) -> None:
    bundle, paths = trained
    sources = {
        name: every_source(
            pd.read_parquet(paths[name]), tmp_path / name, server=postgres, table=name
        )
        for name in ("orders", "events")
    }
    written = {}
    for kind in ("parquet", "folder", "postgres", "duckdb"):
        out = tmp_path / "out" / f"{kind}.parquet"
        code, output = _score(
            bundle, str(sources["orders"][kind]), str(sources["events"][kind]), out
        )
        assert code == 0, output
        assert postgres.password not in output
        written[kind] = [p.read_bytes() for p in (out, out.with_suffix(".rejects.csv"))]
    assert all(files == written["parquet"] for files in written.values())


def test_database_errors_are_one_line_without_the_password(
    trained: tuple[Path, dict[str, Path]], postgres: PostgresServer, tmp_path: Path
) -> None:
    bundle, _ = trained
    url = f"{postgres.url()}?table=no_such_orders"
    code, output = _score(bundle, url, url, tmp_path / "s.parquet")
    assert code == 1
    assert output.startswith(
        f"DataError: Cannot read 'postgresql://winback:***@127.0.0.1:{postgres.port}/shop"
        "?table=no_such_orders': no table or view named 'no_such_orders' in the search path."
    )
    assert postgres.password not in output
    code, output = _score(bundle, "mysql://ann:pw@db/x", url, tmp_path / "s.parquet")
    assert code == 1
    assert output.startswith("ConfigError: Source 'mysql://ann:***@db/x': unsupported URL scheme")


def test_report_names_a_database_source_without_its_password(
    trained: tuple[Path, dict[str, Path]], postgres: PostgresServer, tmp_path: Path
) -> None:
    _, paths = trained
    url = every_source(
        pd.read_parquet(paths["orders"]), tmp_path / "data", server=postgres, table="report_orders"
    )["postgres"]
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app, ["report", "--orders", url, "--as-of", AS_OF, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    written = "".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    assert f"postgresql://winback:***@127.0.0.1:{postgres.port}/shop?table=report_orders" in written
    assert postgres.password not in written + result.output
