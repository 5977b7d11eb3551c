"""Training frames built per hash bucket of customers equal the local frame on the same
customers; a sample is drawn by whole customers."""

from __future__ import annotations

import pandas as pd
import pytest
from distributed import Client, LocalCluster

from simulated import side_tables
from winback.exceptions import ConfigError
from winback.features import build_training_frame
from winback.io import bucket_of, partition_dataset, read_customers, read_events, read_orders
from winback.training import training_frame_on_buckets

pytestmark = pytest.mark.xdist_group("dask")

BUCKETS = 4
CUTOFFS = ["2023-03-31", "2023-06-30"]


@pytest.fixture(scope="module")
def tables(sim_trained, tmp_path_factory):
    root = tmp_path_factory.mktemp("train_buckets")
    folders = {}
    for name, path in sim_trained.paths.items():
        folders[name] = root / name
        partition_dataset(path, folders[name], buckets=BUCKETS)
    return sim_trained.paths, folders


def _local_frame(paths, buckets):
    """The local frame on the customers of ``buckets`` (all their rows)."""
    readers = {"orders": read_orders, "events": read_events, "customers": read_customers}
    frames = {}
    for name, reader in readers.items():
        data = reader(paths[name]).data
        frames[name] = data.loc[pd.Series(bucket_of(data["customer_id"], BUCKETS)).isin(buckets)]
    return build_training_frame(
        frames["orders"],
        cutoffs=CUTOFFS,
        horizons_days=90,
        **side_tables(frames),
    )


@pytest.mark.parametrize("on_cluster", [False, True])
def test_a_sample_of_buckets_gives_the_local_frame_of_its_customers(tables, on_cluster):
    paths, folders = tables
    kwargs = {"cutoffs": CUTOFFS, "horizons_days": 90, "sample": 0.5}
    if on_cluster:
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        )
        with cluster, Client(cluster) as client:
            built = training_frame_on_buckets(**folders, **kwargs, client=client)
    else:
        built = training_frame_on_buckets(**folders, **kwargs)
    assert built.buckets == [0, 1] and built.count == BUCKETS
    expected = _local_frame(paths, [0, 1])
    pd.testing.assert_frame_equal(built.frame, expected)
    # about half the customers, and each sampled customer with every one of his orders
    everyone = read_orders(paths["orders"]).data
    share = (
        expected.index.get_level_values("customer_id").nunique() / everyone["customer_id"].nunique()
    )
    assert 0.3 < share < 0.7


def test_all_buckets_give_the_local_frame(tables):
    paths, folders = tables
    built = training_frame_on_buckets(**folders, cutoffs=CUTOFFS, horizons_days=90)
    pd.testing.assert_frame_equal(built.frame, _local_frame(paths, list(range(BUCKETS))))


def test_a_sample_must_be_a_share(tables):
    _, folders = tables
    with pytest.raises(ConfigError, match=r"sample must be a share of the customers in \(0, 1\]"):
        training_frame_on_buckets(**folders, cutoffs=CUTOFFS, horizons_days=90, sample=0)
