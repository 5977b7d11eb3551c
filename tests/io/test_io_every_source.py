"""The same rows give the same validated frames, rejects, features and scores from every source:
a DataFrame, a CSV file, a Parquet file, a folder of Parquet files, a PostgreSQL table (real
server) and a DuckDB table."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from every_source import KINDS, MESSY_COLUMNS, MESSY_ORDERS, assert_same_results, every_source
from postgres_server import PostgresServer
from simulated import AS_OF, SimTrained
from winback.exceptions import DriftWarning, RejectedRowsWarning
from winback.io import ReadResult, read_customers, read_events, read_orders

pytestmark = pytest.mark.xdist_group("postgres")


def _read_each(
    reader: Callable[..., ReadResult], sources: dict[str, object], **kwargs: object
) -> dict[str, ReadResult]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedRowsWarning)
        return {kind: reader(source, **kwargs) for kind, source in sources.items()}


def _assert_same(results: dict[str, ReadResult]) -> None:
    assert list(results) == list(KINDS)  # "frame" first
    assert_same_results(results.items())


def test_messy_orders_read_alike_from_every_source(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    sources = every_source(MESSY_ORDERS, tmp_path, server=postgres, table="Online Retail")
    results = _read_each(read_orders, sources, columns=MESSY_COLUMNS, end="2021-02-01")
    _assert_same(results)
    data, rejects = results["postgres"]
    assert data["customer_id"].tolist() == [13085, 17001]
    assert data["amount"].tolist() == [8.0, -8.5]  # the two lines of A1 are one order
    assert rejects["row"].tolist() == [2, 3, 5]
    assert rejects["reason"].str.split(":").str[0].tolist() == [
        "null customer_id",
        "null price",
        "order_ts after end",
    ]
    assert str(results["postgres"].line_items) == (
        "aggregated 3 lines into 2 orders (1 cancellations)"
    )


def test_numeric_amounts_read_alike(postgres: PostgresServer, tmp_path: Path) -> None:
    """PostgreSQL ``numeric`` arrives as exact text and parses to the same floats as CSV text."""
    frame = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "order_ts": pd.to_datetime(["2021-01-01", "2021-01-02", "2021-01-03", "2021-01-04"]),
            "amount": [0.1, 19.99, -3.3, 1234567.89],
        }
    )
    sources = every_source(
        frame,
        tmp_path,
        server=postgres,
        table="orders_numeric",
        pg_types={"amount": "numeric(12,2)"},
    )
    results = _read_each(read_orders, sources)
    _assert_same(results)
    assert results["postgres"].data["amount"].tolist() == [0.1, 19.99, -3.3, 1234567.89]


def test_events_and_customers_read_alike(postgres: PostgresServer, tmp_path: Path) -> None:
    events = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", None, "c1"],
            "event_ts": ["2021-01-01T10:00+02:00", "2021-01-02T08:00Z", "2021-01-03", "junk"],
            "event_type": ["email_open", "nps", "site_visit", "nps"],
            "value": [np.nan, 9.0, np.nan, 7.0],
        }
    )
    _assert_same(
        _read_each(read_events, every_source(events, tmp_path, server=postgres, table="events"))
    )
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 2, 3],
            "email": ["a@x.org", None, "b@x.org", "c@x.org"],
            "signup_ts": pd.to_datetime(["2020-01-01", None, "2020-03-01", "2020-04-01"]),
            "marketing_opt_in": [True, False, True, False],
            "country": ["NA", "GB", None, "DE"],
        }
    )
    results = _read_each(
        read_customers, every_source(customers, tmp_path, server=postgres, table="customers")
    )
    _assert_same(results)
    assert results["postgres"].data["country"].tolist() == ["NA", "GB", "DE"]


def test_simulated_base_scores_alike_from_every_source(
    postgres: PostgresServer, tmp_path: Path, sim_trained: SimTrained
) -> None:
    """Features and the shipped scoring of a trained model: identical files from every source."""
    from winback.models import load_model
    from winback.scoring import score_files

    bundle, paths = sim_trained.bundle, sim_trained.paths
    tables = {name: pd.read_parquet(path) for name, path in paths.items()}
    sources = {
        name: every_source(frame, tmp_path / name, server=postgres, table=f"sim_{name}")
        for name, frame in tables.items()
    }
    model = load_model(bundle)
    outputs: dict[str, tuple[bytes, bytes, dict]] = {}
    features: dict[str, pd.DataFrame] = {}
    for kind in KINDS:
        out = tmp_path / "scores" / f"{kind}.parquet"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DriftWarning)  # scored mid-history: tenure shifted
            result = score_files(
                model,
                sources["orders"][kind],
                events=sources["events"][kind],
                customers=sources["customers"][kind],
                out=out,
                as_of=AS_OF,
                progress=False,
            )
        summary = json.loads(out.with_suffix(".summary.json").read_text())
        outputs[kind] = (out.read_bytes(), out.with_suffix(".rejects.csv").read_bytes(), summary)
        assert result.summary["customers"]["scored"] > 500
        orders = read_orders(sources["orders"][kind]).data
        features[kind] = model.build_features(orders, cutoff=pd.Timestamp(AS_OF))
    for kind in KINDS:
        pd.testing.assert_frame_equal(features[kind], features["frame"], obj=kind)
        assert outputs[kind] == outputs["frame"], kind
