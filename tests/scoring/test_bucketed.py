"""Scoring a dataset partitioned by customer, each bucket read by a worker: the same files,
byte for byte, as scoring the unpartitioned files here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from distributed import get_task_stream

from every_source import duckdb_table
from simulated import side_tables
from winback.exceptions import ConfigError
from winback.io import bucket_of, partition_dataset
from winback.scoring import ScoringConfig, score_files

pytestmark = pytest.mark.xdist_group("dask")

BUCKETS = 5


@pytest.fixture(scope="module")
def inputs(trained, tmp_path_factory):
    """The simulated tables with a few rejects, as plain files and as bucketed folders.

    The orders are written as three Parquet files split by row position (a customer's orders
    spread over several files) before they are partitioned."""
    root = tmp_path_factory.mktemp("bucketed")
    _, paths = trained
    orders = pd.read_parquet(paths["orders"])
    first = orders.iloc[0]
    dirty = pd.DataFrame(
        {
            "customer_id": [first["customer_id"], 999_001, 999_002],
            "order_ts": [pd.Timestamp("2023-01-05"), pd.NaT, pd.Timestamp("2023-02-01")],
            "amount": [10.0, 5.0, -20.0],  # a gate reject (no date) and a refunds-only customer
        }
    )
    orders = pd.concat([orders, dirty], ignore_index=True)
    plain = {"orders": root / "orders.parquet"}
    orders.to_parquet(plain["orders"], index=False)
    spread = root / "orders_by_position"
    spread.mkdir()
    for k, rows in enumerate(np.array_split(np.arange(len(orders)), 3)):
        orders.iloc[rows].to_parquet(spread / f"part-{k}.parquet", index=False)
    bucketed = {"orders": root / "b_orders"}
    partition_dataset(spread, bucketed["orders"], buckets=BUCKETS)
    for name in ("events", "customers"):
        plain[name] = paths[name]
        bucketed[name] = root / f"b_{name}"
        partition_dataset(paths[name], bucketed[name], buckets=BUCKETS)
    return plain, bucketed, spread


def test_a_customer_spans_the_input_files(inputs):
    _, _, spread = inputs
    files = [pd.read_parquet(p).assign(file=p.name) for p in sorted(spread.iterdir())]
    per_customer = pd.concat(files).groupby("customer_id")["file"].nunique()
    assert (per_customer > 1).any()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_buckets_scored_on_workers_equal_a_local_run_byte_for_byte(
    trained, inputs, as_of, client, tmp_path, suffix
):
    bundle, _ = trained
    plain, bucketed, _ = inputs
    kwargs = {"as_of": as_of, "actions": "configs/actions.yaml", "progress": False}
    config = ScoringConfig(chunk_size=97)
    with pytest.warns(Warning):  # the data gate's rejected rows
        here = score_files(bundle, **plain, out=tmp_path / f"here{suffix}", config=config, **kwargs)
    with get_task_stream(client) as stream:
        there = score_files(
            bundle,
            **bucketed,
            out=tmp_path / f"there{suffix}",
            config=config,
            client=client,
            **kwargs,
        )
    for name in ("scores", "rejects", "summary"):
        assert here.paths[name].read_bytes() == there.paths[name].read_bytes(), name
    assert {"every order row rejected by the data gate", "no purchase at or before as-of"} <= {
        r.split(" (")[0] for r in here.rejects["reason"]
    }
    tasks = {t["key"] for t in stream.data if str(t["key"]).startswith("bucket-")}
    assert len(tasks) == BUCKETS


def test_buckets_scored_here_equal_a_local_run(trained, inputs, as_of, tmp_path):
    bundle, _ = trained
    plain, bucketed, _ = inputs
    with pytest.warns(Warning):
        here = score_files(bundle, **plain, out=tmp_path / "here.csv", as_of=as_of)
    there = score_files(bundle, **bucketed, out=tmp_path / "there.csv", as_of=as_of)
    assert here.paths["scores"].read_bytes() == there.paths["scores"].read_bytes()
    assert here.summary == there.summary


def test_database_tables_read_by_buckets_on_workers_equal_a_local_run(
    trained, inputs, as_of, client, tmp_path
):
    bundle, _ = trained
    plain, _, _ = inputs
    database = tmp_path / "shop.duckdb"
    for name, path in plain.items():
        duckdb_table(database, pd.read_parquet(path), name)
    urls = {name: f"duckdb://{database}?table={name}" for name in plain}
    with pytest.warns(Warning):
        here = score_files(bundle, **plain, out=tmp_path / "here.csv", as_of=as_of)
    with get_task_stream(client) as stream:
        there = score_files(bundle, **urls, out=tmp_path / "there.csv", as_of=as_of, client=client)
    assert here.paths["scores"].read_bytes() == there.paths["scores"].read_bytes()
    assert here.paths["rejects"].read_bytes() == there.paths["rejects"].read_bytes()
    assert here.summary["customers"] == there.summary["customers"]
    # four buckets per worker, each read where it was scored
    assert len({t["key"] for t in stream.data if str(t["key"]).startswith("bucket-")}) == 8


def test_tables_bucketed_by_different_engines_are_refused(trained, inputs, as_of, tmp_path):
    bundle, _ = trained
    plain, bucketed, _ = inputs
    with pytest.raises(ConfigError, match="the events and customers are not"):
        score_files(
            bundle,
            orders=bucketed["orders"],
            **side_tables(plain),
            out=tmp_path / "s.csv",
            as_of=as_of,
        )


def test_a_bucket_without_orders_rejects_its_customers_as_a_local_run_does(
    trained, as_of, tmp_path
):
    bundle, paths = trained
    orders = pd.read_parquet(paths["orders"])
    empty = bucket_of(orders["customer_id"], 3) == 2
    plain = {
        "orders": tmp_path / "orders.parquet",
        **{n: paths[n] for n in ("events", "customers")},
    }
    orders.loc[~empty].to_parquet(plain["orders"], index=False)
    bucketed = {name: tmp_path / f"b_{name}" for name in plain}
    for name, path in plain.items():
        partition_dataset(path, bucketed[name], buckets=3)
    assert not (bucketed["orders"] / "bucket=002").exists()
    here = score_files(bundle, **plain, out=tmp_path / "here.csv", as_of=as_of)
    there = score_files(bundle, **bucketed, out=tmp_path / "there.csv", as_of=as_of)
    for name in ("scores", "rejects", "summary"):
        assert here.paths[name].read_bytes() == there.paths[name].read_bytes(), name
    assert "in the customers table but has no orders" in set(there.rejects["reason"])
