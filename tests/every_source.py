"""Write one frame to every kind of source winback reads: a CSV file, a Parquet file, a folder of
Parquet files (Hive-partitioned by consecutive chunks, so row order is kept), a PostgreSQL table
(bulk-loaded with COPY from the CSV file) and a DuckDB table. Test helpers, not winback code."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from postgres_server import PostgresServer
from winback.exceptions import DataError, RejectedRowsWarning
from winback.io import ReadResult, read_orders

KINDS = ("frame", "csv", "parquet", "folder", "postgres", "duckdb")

#: orders with a missing id, a missing price, a repeated order id, a row after the end
MESSY_ORDERS = pd.DataFrame(
    {
        "Customer ID": [13085.0, np.nan, 16321.0, 13085.0, 17000.0, 17001.0],
        "InvoiceDate": pd.to_datetime(
            [
                "2021-01-01 10:00",
                "2021-01-02 00:00",
                "2021-01-03 12:30",
                "2021-01-04 00:00",
                "2021-03-01 00:00",
                "2021-01-05 08:15",
            ]
        ).tz_localize("Europe/Paris"),
        "Invoice": ["A1", "A2", "A3", "A1", "A5", "A6"],
        "Price": [2.5, 1.0, np.nan, 3.0, 1.0, 4.25],
        "Quantity": [2, 1, 1, 1, 1, -2],
        "Category": ["books", None, "music", "books", "toys", "Caf\u00e9, bar"],
    }
)
MESSY_COLUMNS = {
    "customer_id": "Customer ID",
    "order_ts": "InvoiceDate",
    "order_id": "Invoice",
    "price": "Price",
    "quantity": "Quantity",
    "category": "Category",
}


def quoted(name: str) -> str:
    """A SQL identifier in double quotes (test code creating tables; winback never does this)."""
    return '"' + name.replace('"', '""') + '"'


def _pg_type(column: pd.Series) -> str:
    kind = column.dtype.kind
    if kind == "M":
        return "timestamptz" if getattr(column.dtype, "tz", None) else "timestamp"
    return {"i": "bigint", "f": "double precision", "b": "boolean"}.get(kind, "text")


def postgres_table(
    server: PostgresServer,
    frame: pd.DataFrame,
    table: str,
    csv: Path,
    types: dict[str, str] | None = None,
    *,
    schema: str = "public",
) -> None:
    """(Re)create ``schema.table`` with a column per frame column and COPY ``csv`` into it."""
    types = types or {}
    columns = ", ".join(
        f"{quoted(name)} {types.get(name, _pg_type(frame[name]))}" for name in frame.columns
    )
    name = f"{quoted(schema)}.{quoted(table)}"
    server.psql("-c", f"DROP TABLE IF EXISTS {name}", "-c", f"CREATE TABLE {name} ({columns})")
    copy = f"\\copy {name} FROM pstdin WITH (FORMAT csv, HEADER true)"
    server.psql("-c", copy, stdin=csv.read_bytes())


def duckdb_table(path: Path, frame: pd.DataFrame, table: str) -> None:
    with duckdb.connect(str(path)) as connection:
        connection.register("frame_view", frame)
        connection.execute(f"CREATE OR REPLACE TABLE {quoted(table)} AS SELECT * FROM frame_view")


def parquet_folder(frame: pd.DataFrame, folder: Path, *, chunks: int = 3) -> Path:
    """``folder/part=0/data.parquet``, ``part=1/...``: consecutive chunks of ``frame``."""
    size = -(-len(frame) // chunks)
    for index in range(chunks):
        part = folder / f"part={index}"
        part.mkdir(parents=True)
        frame.iloc[index * size : (index + 1) * size].to_parquet(part / "data.parquet", index=False)
    return folder


def every_source(
    frame: pd.DataFrame,
    folder: Path,
    *,
    server: PostgresServer,
    table: str,
    pg_types: dict[str, str] | None = None,
) -> dict[str, object]:
    """The same rows as each kind of source (values: what ``read_*`` accepts)."""
    folder.mkdir(parents=True, exist_ok=True)
    csv, parquet = folder / f"{table}.csv", folder / f"{table}.parquet"
    frame.to_csv(csv, index=False)
    frame.to_parquet(parquet, index=False)
    postgres_table(server, frame, table, csv, pg_types)
    duck = folder / "shop.duckdb"
    duckdb_table(duck, frame, table)
    return {
        "frame": frame,
        "csv": csv,
        "parquet": parquet,
        "folder": parquet_folder(frame, folder / f"{table}_parts"),
        "postgres": f"{server.url()}?table={table}",
        "duckdb": f"duckdb://{duck}?table={table}",
    }


def read_data(source: object) -> pd.DataFrame:
    """The validated orders of ``source`` (rejects not warned about)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedRowsWarning)
        return read_orders(source).data


def read_error(source: object) -> str:
    """The message of the DataError that reading ``source`` raises."""
    with pytest.raises(DataError) as caught:
        read_data(source)
    return str(caught.value)


def assert_same_results(results: Iterable[tuple[str, ReadResult]]) -> None:
    """Every result has the first one's data, and its rejects' row numbers and reasons."""
    (_, first), *others = results
    for kind, other in others:
        pd.testing.assert_frame_equal(other.data, first.data, obj=kind)
        pd.testing.assert_frame_equal(
            other.rejects[["row", "reason"]], first.rejects[["row", "reason"]], obj=kind
        )
