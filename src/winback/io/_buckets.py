"""Datasets partitioned into hash buckets of whole customers: writing them
(:func:`partition_dataset`) and reading one bucket (:class:`BucketedDataset`).

A row's bucket is ``hash(canonical id text) % count``, where the canonical text of a
``customer_id`` is the one the data gate reads: stripped, missing tokens are missing, integral
numbers without ``.0`` or a leading ``+`` (``13085``, ``13085.0``, ``" 13085"`` and ``"13085"``
all give ``"13085"``; ``"00123"`` keeps its zeros). The hash is pandas' stable SipHash-2-4
(:func:`pandas.util.hash_array` with its fixed default key) of the UTF-8 text, the same on every
machine and run; a row without an id is in bucket 0. So every row of a customer -- in the
orders, the events and the customers table -- lands in the same bucket, and a worker that reads
bucket ``i`` of each table holds whole customers.

Layout (Hive style): ``<folder>/bucket=007/part-00000.parquet`` ... and
``<folder>/_winback_buckets.json`` (the bucket count, the column and the hash). The folder is
written into a hidden staging folder beside it and renamed into place; an existing folder is
replaced only if winback wrote it (it holds the manifest)."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from winback.exceptions import ConfigError, DataError
from winback.io._arrow import DataSource
from winback.io._parquet import ParquetDataset
from winback.io._parse import as_text
from winback.io._write import staging_path

__all__ = [
    "MANIFEST",
    "BucketWriter",
    "BucketedDataset",
    "bucket_of",
    "partition_dataset",
    "split_buckets",
]

logger = logging.getLogger(__name__)

#: The file that marks a folder as written by :func:`partition_dataset`.
MANIFEST = "_winback_buckets.json"
HASH = "pandas.util.hash_array(canonical customer_id text, hash_key='0123456789123456') % buckets"
_INTEGER = r"[+-]?(?:0|[1-9][0-9]*)(?:\.0*)?"
_BATCH_ROWS = 1_000_000


def canonical_ids(raw: pd.Series) -> pd.Series:
    """The ids' text as the data gate reads them (see the module docstring); NaN where missing.

    >>> canonical_ids(pd.Series([" 17", "17.0", "+17", "0017", None])).tolist()
    ['17', '17', '17', '0017', nan]
    """
    text = as_text(raw)
    integer = text.str.fullmatch(_INTEGER, na=False)
    if integer.any():
        plain = text[integer].str.replace(r"\.0*$", "", regex=True).str.removeprefix("+")
        text = text.where(~integer, plain.str.replace(r"^-0$", "0", regex=True))
    return text


def bucket_of(ids: pd.Series, count: int) -> np.ndarray:
    """The bucket (0 .. count-1) of each id (rows without an id: bucket 0).

    >>> bucket_of(pd.Series([17, "17", " 17 ", 17.0]), 8).tolist()
    [5, 5, 5, 5]
    """
    _check_count(count)
    text = canonical_ids(ids)
    known = text.notna().to_numpy()
    out = np.zeros(len(text), dtype=np.int64)
    if known.any():
        values = text[known].to_numpy(dtype=object)
        out[known] = (pd.util.hash_array(values) % np.uint64(count)).astype(np.int64)
    return out


def _check_count(count: int) -> None:
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
        raise ConfigError(f"The number of buckets must be a positive integer, got {count!r}.")


@dataclass(frozen=True, repr=False)
class BucketedDataset(DataSource):
    """A folder written by :func:`partition_dataset`; :meth:`bucket` reads one bucket.

    ``read`` reads every bucket (without the ``bucket`` column).
    """

    path: Path
    count: int
    column: str = "customer_id"
    only: int | None = None
    name: str | None = None

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> BucketedDataset | None:
        """The dataset at ``path`` when it is a folder winback partitioned, else None."""
        path = Path(path)
        manifest = path / MANIFEST
        if not manifest.is_file():
            return None
        try:
            meta = json.loads(manifest.read_text(encoding="utf-8"))
            return cls(path=path.absolute(), count=int(meta["buckets"]), column=meta["column"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataError(
                f"Cannot read {path}: its {MANIFEST} is not the manifest `winback partition` "
                f"writes ({exc}). Fix: partition the data again."
            ) from exc

    @property
    def label(self) -> str:
        shown = self.name or str(self.path)
        return shown if self.only is None else f"{shown} (bucket {self.only} of {self.count})"

    def bucket(self, index: int) -> BucketedDataset:
        """The source of bucket ``index`` (picklable: one Dask task reads it)."""
        if not 0 <= index < self.count:
            raise ConfigError(f"Bucket index must be in [0, {self.count}), got {index!r}.")
        return dataclasses.replace(self, only=index)

    def buckets(self) -> list[BucketedDataset]:
        return [self.bucket(i) for i in range(self.count)]

    def read_arrow(self, *, label: str) -> pa.Table:
        folders = range(self.count) if self.only is None else [self.only]
        tables = []
        for index in folders:
            folder = self.path / _bucket_dir(index)
            if folder.is_dir() and any(folder.iterdir()):
                tables.append(ParquetDataset(folder).read_arrow(label=label))
        if not tables:
            return self._empty(label)
        return pa.concat_tables(tables, promote_options="permissive")

    def _empty(self, label: str) -> pa.Table:
        schema = json.loads((self.path / MANIFEST).read_text(encoding="utf-8")).get("schema")
        if schema is None:
            raise DataError(f"Cannot read {label!r}: no bucket holds data.")
        return pa.schema([pa.field(n, pa.type_for_alias(t)) for n, t in schema]).empty_table()


def _bucket_dir(index: int) -> str:
    return f"bucket={index:03d}"


def partition_dataset(
    source: str | os.PathLike[str] | pd.DataFrame,
    out: str | os.PathLike[str],
    *,
    buckets: int,
    column: str = "customer_id",
) -> BucketedDataset:
    """Rewrite ``source`` (a CSV or Parquet file, a folder of Parquet files or a DataFrame) as
    ``buckets`` hash buckets of whole customers under ``out`` (see the module docstring).

    Rows are copied as they are (a CSV file's cells as text, as the data gate reads CSV) and
    keep their input order within a bucket; files are read in batches, so the source need not
    fit in memory. To write batches you make yourself, use :class:`BucketWriter`.

    Raises
    ------
    ConfigError
        If ``out`` exists and was not written by winback, ``buckets`` is not positive, or the
        source has no column ``column``.
    DataError
        If the source cannot be read.
    """
    with BucketWriter(out, buckets=buckets, column=column) as writer:
        for batch in _batches(source, column):
            writer.write(batch)
    logger.info("partitioned %s into %d buckets at %s", source, buckets, out)
    return writer.dataset


class BucketWriter:
    """Write batches of rows into ``buckets`` hash buckets under ``out`` (see the module).

    Use it as a context manager: the folder appears (atomically) when the block ends without an
    error; on an error nothing is left behind.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "orders"
    >>> with BucketWriter(out, buckets=4) as writer:
    ...     writer.write(pd.DataFrame({"customer_id": [1, 2, 1], "amount": [5.0, 6.0, 7.0]}))
    >>> BucketedDataset.open(out).read()
       customer_id  amount
    0            1     5.0
    1            2     6.0
    2            1     7.0
    """

    def __init__(
        self, out: str | os.PathLike[str], *, buckets: int, column: str = "customer_id"
    ) -> None:
        _check_count(buckets)
        self.out, self.buckets, self.column = Path(out), int(buckets), column
        if self.out.exists() and not (self.out / MANIFEST).is_file():
            raise ConfigError(
                f"{self.out} exists and was not written by `winback partition` (no "
                f"{MANIFEST}); winback never overwrites what it did not write. Pick a new folder "
                "for `winback partition --out`."
            )
        self._staging: Path | None = None
        self._schema: list[list[str]] | None = None
        self._written = 0

    def __enter__(self) -> BucketWriter:
        self._staging = staging_path(self.out)
        self._staging.mkdir(parents=True)
        return self

    def write(self, batch: pa.RecordBatch | pa.Table | pd.DataFrame) -> None:
        """Add ``batch``'s rows to their buckets (one file per bucket and batch)."""
        if self._staging is None:
            raise RuntimeError("BucketWriter.write outside its `with` block")
        table = (
            pa.Table.from_pandas(batch, preserve_index=False)
            if isinstance(batch, pd.DataFrame)
            else pa.table(batch)
        )
        if self.column not in table.schema.names:
            raise ConfigError(
                f"Cannot partition by {self.column!r}: the source has no such column (columns: "
                f"{', '.join(table.schema.names)}). Fix: name the id column with "
                "`winback partition --column`."
            )
        self._schema = [[f.name, str(f.type)] for f in table.schema]
        slot = bucket_of(table.column(self.column).to_pandas(), self.buckets)
        order = np.argsort(slot, kind="stable")
        bounds = np.searchsorted(slot[order], np.arange(self.buckets + 1))
        for index in np.flatnonzero(np.diff(bounds)):
            rows = table.take(pa.array(order[bounds[index] : bounds[index + 1]]))
            target = self._staging / _bucket_dir(int(index))
            target.mkdir(exist_ok=True)
            pq.write_table(rows, target / f"part-{self._written:05d}.parquet")
        self._written += 1

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        staging, self._staging = self._staging, None
        try:
            if kind is None:
                self._finish(staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _finish(self, staging: Path) -> None:
        if self._schema is None:
            raise DataError("Cannot partition: the source has no rows.")
        manifest = {
            "buckets": self.buckets,
            "column": self.column,
            "hash": HASH,
            "schema": self._schema,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        if self.out.exists():
            old = staging_path(self.out)
            os.replace(self.out, old)
            os.replace(staging, self.out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, self.out)

    @property
    def dataset(self) -> BucketedDataset:
        """The folder written (after the ``with`` block)."""
        return BucketedDataset(path=self.out.absolute(), count=self.buckets, column=self.column)


def _batches(source: Any, column: str) -> Iterator[pa.RecordBatch]:
    """The source's rows in batches (CSV cells as text)."""
    if isinstance(source, pd.DataFrame):
        yield from pa.Table.from_pandas(source, preserve_index=False).to_batches(_BATCH_ROWS)
        return
    path = Path(source)
    if not path.exists():
        raise DataError(f"Cannot partition {path}: no such file or folder.")
    try:
        if path.is_dir() or path.suffix.lower() in (".parquet", ".pq"):
            dataset = ds.dataset(path, format="parquet", exclude_invalid_files=False)
            yield from dataset.to_batches(batch_size=_BATCH_ROWS, use_threads=False)
        else:
            with pacsv.open_csv(path) as first:
                names = first.schema.names
            text = pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
            )
            reader = pacsv.open_csv(
                path,
                read_options=pacsv.ReadOptions(block_size=64 << 20),
                convert_options=text,
            )
            yield from reader
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"Cannot partition {path}: {exc}") from exc


def split_buckets(
    sources: dict[str, Any], *, count: int | None, id_columns: dict[str, str]
) -> list[dict[str, DataSource | None]] | None:
    """Per bucket, the source of each table (None for a table not given); None when the orders
    are neither a folder :func:`partition_dataset` wrote nor (with ``count``) a database source.

    A partitioned folder brings its own bucket count; database tables are split into ``count``
    buckets by the engine's hash of ``id_columns[table]``. Every given table must be bucketed
    the same way, or the buckets would not hold whole customers.
    """
    from winback.io._database import _TableOrQuery  # the database sources' shared base
    from winback.io._source import open_source

    opened: dict[str, Any] = {}
    for name, source in sources.items():
        if isinstance(source, str | os.PathLike):
            source = BucketedDataset.open(source) or open_source(source)
        opened[name] = source
    orders = opened["orders"]
    given = {name: s for name, s in opened.items() if s is not None}
    if isinstance(orders, BucketedDataset):
        wrong = [
            name
            for name, s in given.items()
            if not isinstance(s, BucketedDataset) or s.count != orders.count
        ]
        if wrong:
            raise ConfigError(
                f"The orders are partitioned into {orders.count} buckets, but the "
                f"{' and '.join(wrong)} are not (or into another number): every row of a "
                f"customer must be in one bucket. Fix: partition each table with "
                f"`winback partition --buckets {orders.count}`."
            )
        per_table = {name: s.buckets() for name, s in given.items()}
        n = orders.count
    elif isinstance(orders, _TableOrQuery) and count is not None:
        wrong = [name for name, s in given.items() if type(s) is not type(orders)]
        if wrong:
            raise ConfigError(
                f"The orders are read from a database by buckets, but the {' and '.join(wrong)} "
                "are not from the same kind of database: buckets of different engines hash "
                "customers apart. Fix: read every table from one database."
            )
        per_table = {
            name: s.buckets(count, column=id_columns.get(name, "customer_id"))
            for name, s in given.items()
        }
        n = count
    else:
        return None
    return [
        {name: (per_table[name][i] if name in per_table else None) for name in sources}
        for i in range(n)
    ]
