"""A folder of Parquet files, Hive-partitioned (``month=2024-01/part-0.parquet``) or not.

Every file under the folder is read, in the order of their paths, except names starting with
``.`` or ``_`` (``_SUCCESS``, ``_metadata``, ``.crc`` files) at any level. ``key=value`` folder
names become a text column ``key`` (``"2024-01"``, ``"007"``: kept as written). The files' schemas
are unified: a column missing from a file is null there, and an integer column that is float in
another file (a chunk with missing values) is read as float.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from winback.exceptions import DataError
from winback.io._arrow import DataSource

__all__ = ["ParquetDataset"]


@dataclass(frozen=True, repr=False)
class ParquetDataset(DataSource):
    """The Parquet files under ``path`` (all of them, or the relative paths in ``files``).

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"customer_id": [1, 2], "month": ["01", "02"]}).to_parquet(
    ...     folder, partition_cols=["month"])
    >>> ParquetDataset(folder).read()
       customer_id month
    0            1    01
    1            2    02
    """

    path: Path
    files: tuple[str, ...] | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path).absolute())

    @property
    def label(self) -> str:
        shown = self.name or str(self.path)
        if self.files is None:
            return shown
        return (
            f"{shown}/{self.files[0]}"
            if len(self.files) == 1
            else f"{shown} ({len(self.files)} files)"
        )

    def fragments(self) -> list[ParquetDataset]:
        """One source per file, in path order (picklable, e.g. one Dask task each)."""
        return [dataclasses.replace(self, files=(name,)) for name in self._files(self.label)]

    def read_arrow(self, *, label: str) -> pa.Table:
        files = self._files(label)
        factory = ds.FileSystemDatasetFactory(
            pa.fs.LocalFileSystem(),
            [str(self.path / name) for name in files],
            ds.ParquetFileFormat(),
            ds.FileSystemFactoryOptions(
                partition_base_dir=str(self.path),
                partitioning=ds.HivePartitioning(_partition_keys(files)),
            ),
        )
        try:
            schema = factory.inspect(promote_options="permissive")
            return factory.finish(schema).to_table()
        except (pa.ArrowException, OSError) as exc:
            raise DataError(
                f"Cannot read {label!r} as a folder of Parquet files: {exc}. Fix: keep only "
                "Parquet files in the folder (names starting with . or _ are skipped), written "
                "with one column layout."
            ) from exc

    def _files(self, label: str) -> tuple[str, ...]:
        if self.files is not None:
            return self.files
        found = tuple(
            sorted(
                path.relative_to(self.path).as_posix()
                for path in self.path.rglob("*")
                if path.is_file() and not _hidden(path.relative_to(self.path))
            )
        )
        if not found:
            raise DataError(
                f"Cannot read {label!r}: the folder holds no data files (names starting with "
                ". or _ are skipped). Fix: name the folder the Parquet files are in, or a file."
            )
        return found


def _partition_keys(files: tuple[str, ...]) -> pa.Schema:
    """The Hive keys of the files' folders (``key=value``), all read as text."""
    keys = dict.fromkeys(
        part.partition("=")[0] for name in files for part in Path(name).parent.parts if "=" in part
    )
    return pa.schema([pa.field(key, pa.string()) for key in keys])


def _hidden(relative: Path) -> bool:
    return any(part.startswith((".", "_")) for part in relative.parts)
