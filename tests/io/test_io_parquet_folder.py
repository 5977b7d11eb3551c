"""Folders of Parquet files: Hive-partitioned or not, files in path order, schemas unified."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from winback.exceptions import DataError, RejectedRowsWarning
from winback.io import ParquetDataset, open_source, read_orders

ORDERS = pd.DataFrame(
    {
        "customer_id": np.arange(1, 25) % 7 + 1,
        "order_ts": pd.date_range("2021-01-01", periods=24, freq="13h"),
        "amount": np.linspace(1.0, 24.0, 24),
        "store": ["007", "012"] * 12,
    }
)


def test_files_are_read_in_path_order(tmp_path: Path) -> None:
    for index in range(12):  # part-00 ... part-11, nested two levels for some
        folder = tmp_path / ("nested/deeper" if index % 3 == 0 else "")
        folder.mkdir(parents=True, exist_ok=True)
        ORDERS.iloc[2 * index : 2 * index + 2].to_parquet(folder / f"part-{index:02}.parquet")
    expected = sorted(
        range(12), key=lambda i: ("nested/deeper/" if i % 3 == 0 else "") + f"part-{i:02}"
    )
    order = [row for i in expected for row in (2 * i, 2 * i + 1)]
    pd.testing.assert_frame_equal(read_orders(tmp_path).data, read_orders(ORDERS.iloc[order]).data)
    assert isinstance(open_source(tmp_path), ParquetDataset)


def test_hive_partition_values_are_kept_as_text(tmp_path: Path) -> None:
    ORDERS.to_parquet(tmp_path, partition_cols=["store"])
    raw = ParquetDataset(tmp_path).read()
    assert sorted(raw["store"].unique()) == ["007", "012"]
    assert raw.columns.tolist() == ["customer_id", "order_ts", "amount", "store"]
    expected = ORDERS.sort_values("store", kind="stable", ignore_index=True)
    pd.testing.assert_frame_equal(read_orders(tmp_path).data, read_orders(expected).data)


def test_hidden_files_are_skipped_and_schemas_unified(tmp_path: Path) -> None:
    first, second = ORDERS.iloc[:12], ORDERS.iloc[12:].astype({"customer_id": "float64"})
    second.loc[second.index[0], "customer_id"] = np.nan  # a chunk with a missing id is float
    first.to_parquet(tmp_path / "a.parquet")
    second.drop(columns="store").to_parquet(tmp_path / "b.parquet")
    (tmp_path / "_SUCCESS").write_text("")
    (tmp_path / ".a.parquet.crc").write_bytes(b"\x00")
    raw = ParquetDataset(tmp_path).read()
    assert raw["customer_id"].dtype == "float64"
    assert raw["store"].isna().sum() == 12  # missing from b.parquet: null there
    with pytest.warns(RejectedRowsWarning, match="1 null customer_id"):
        data, rejects = read_orders(tmp_path)
    assert (len(data), rejects["row"].tolist()) == (23, [13])


def test_a_stray_file_is_named(tmp_path: Path) -> None:
    ORDERS.to_parquet(tmp_path / "a.parquet")
    (tmp_path / "README.txt").write_text("orders of 2021")
    with pytest.raises(DataError) as caught:
        read_orders(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"Cannot read '{tmp_path}' as a folder of Parquet files: ")
    assert "README.txt" in message
    assert message.endswith(
        "Fix: keep only Parquet files in the folder (names starting with . or _ are skipped), "
        "written with one column layout."
    )


def test_fragments_split_the_folder_by_file(tmp_path: Path) -> None:
    ORDERS.to_parquet(tmp_path, partition_cols=["store"])
    dataset = ParquetDataset(tmp_path)
    fragments = [pickle.loads(pickle.dumps(f)) for f in dataset.fragments()]
    assert [f.files[0].split("/")[0] for f in fragments] == ["store=007", "store=012"]
    assert repr(fragments[0]) == f"ParquetDataset('{tmp_path}/{fragments[0].files[0]}')"
    together = pd.concat([f.read() for f in fragments], ignore_index=True)
    pd.testing.assert_frame_equal(together, dataset.read())
