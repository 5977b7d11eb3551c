"""Sources winback reads through Arrow (database tables and queries, Parquet folders), and the one
conversion of their Arrow tables to the raw pandas frame the data gate checks.
"""

from __future__ import annotations

import abc
import logging
import time
from collections import Counter

import pandas as pd
import pyarrow as pa

from winback.exceptions import DataError

__all__ = ["DataSource", "arrow_frame"]

logger = logging.getLogger(__name__)


class DataSource(abc.ABC):
    """A table winback reads itself: a database table or query, or a folder of Parquet files.

    Subclasses are frozen dataclasses of plain values, so a source pickles: a Dask worker can be
    handed one (or one of its ``buckets``/``fragments``) and read it there. Their ``repr`` and
    :attr:`label` never show a password.
    """

    @property
    @abc.abstractmethod
    def label(self) -> str:
        """How messages name the source (passwords masked)."""

    @abc.abstractmethod
    def read_arrow(self, *, label: str) -> pa.Table:
        """Every row of the source as an Arrow table; errors are :class:`DataError` naming
        ``label``."""

    def read(self, *, label: str | None = None) -> pd.DataFrame:
        """Every row of the source as a raw DataFrame (see :func:`arrow_frame`)."""
        label = label or self.label
        start = time.perf_counter()
        table = self.read_arrow(label=label)
        logger.info(
            "%s: fetched %d rows in %.1f s", label, table.num_rows, time.perf_counter() - start
        )
        return arrow_frame(table, label=label)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label!r})"


def arrow_frame(table: pa.Table, *, label: str) -> pd.DataFrame:
    """``table`` as the raw frame of the data gate, converted the way ``pd.read_parquet`` does.

    Extension columns become their storage (PostgreSQL ``numeric`` arrives as exact text),
    dictionary columns (Hive partition keys) their values; everything else converts with
    pyarrow's defaults, so a Parquet file and the same rows from a folder or a database give the
    same frame. Raises :class:`DataError` when two columns share a name.
    """
    repeated = sorted(name for name, n in Counter(table.column_names).items() if n > 1)
    if repeated:
        raise DataError(
            f"Cannot use {label!r}: several columns are named {', '.join(map(repr, repeated))}. "
            "Fix: give each column its own name (in a query: SELECT a.x AS a_x, b.x AS b_x)."
        )
    columns = [_plain(column) for column in table.columns]
    return pa.table(columns, names=table.column_names).to_pandas()


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Extension arrays as their storage, dictionary arrays as their values."""
    kind = column.type
    if isinstance(kind, pa.BaseExtensionType):
        column = pa.chunked_array([c.storage for c in column.chunks], type=kind.storage_type)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return column
