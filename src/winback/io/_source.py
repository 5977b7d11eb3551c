"""Loading a source into a raw frame, with source-level errors.

A source is a CSV file, a Parquet file, a folder of Parquet files, a ``postgresql://`` or
``duckdb://`` URL naming a table or query, a :class:`~winback.io.DataSource` object or a
DataFrame. CSV files are read with every column as text (``str``), exactly as written, so that the
parsers apply one set of rules whatever the source; the others keep their types (Arrow's
conversion, see :func:`~winback.io._arrow.arrow_frame`).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa

from winback.exceptions import ConfigError, DataError
from winback.io._arrow import DataSource
from winback.io._database import database_source
from winback.io._parquet import ParquetDataset
from winback.io._urls import is_url, redact

__all__ = ["Source", "column_listing", "display_name", "load_source", "open_source"]

Source = str | os.PathLike[str] | pd.DataFrame | DataSource
_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_DUCKDB_SUFFIXES = (".duckdb", ".ddb")
_OPENERS: dict[str, Callable[..., IO[bytes]]] = {
    ".gz": gzip.open,
    ".bz2": bz2.open,
    ".xz": lzma.open,
}
_MAX_SHOWN = 5


def display_name(source: Source, name: str | None) -> str:
    """How messages name the source: ``name``, else the path or URL as given (passwords masked),
    the source's label, or ``<DataFrame>``."""
    if name is not None:
        return redact(name)
    if isinstance(source, pd.DataFrame):
        return "<DataFrame>"
    if isinstance(source, DataSource):
        return source.label
    return redact(str(source))


def open_source(
    source: str | os.PathLike[str], *, base: str | os.PathLike[str] | None = None
) -> Path | DataSource:
    """What a source string names: a database source for a URL, a :class:`ParquetDataset` for
    a folder, else the file's path. Relative paths are taken relative to ``base`` (default: the
    working directory). Raises :class:`ConfigError` for a malformed URL."""
    text = os.fspath(source)
    if is_url(text):
        return database_source(text, base=base)
    path = Path(os.path.expanduser(text))
    if base is not None and not path.is_absolute():
        path = Path(base) / path
    return ParquetDataset(path) if path.is_dir() else path


def load_source(source: Source, *, encoding: str, label: str, reader: str) -> pd.DataFrame:
    """Return the raw rows of ``source`` with a fresh RangeIndex (0-based positions).

    ``label`` names the source in messages and ``reader`` (``"read_orders"``...) is used in the
    suggested fixes. Raises :class:`DataError` for a missing or unreadable file, folder, table or
    query, an unsupported suffix, bytes that do not decode with ``encoding``, or a source without
    data rows, and :class:`ConfigError` for a malformed URL.
    """
    if isinstance(source, str | os.PathLike):
        source = open_source(source)
    if isinstance(source, pd.DataFrame):
        raw = source.reset_index(drop=True)
    elif isinstance(source, DataSource):
        raw = source.read(label=label)
    elif isinstance(source, Path):
        raw = _read_file(source, encoding=encoding, label=label, reader=reader)
    else:
        raise TypeError(
            f"{reader}: expected a path to a .csv or .parquet file, a folder of Parquet files, a "
            f"database URL, a winback.io.DataSource or a pandas DataFrame, got "
            f"{type(source).__name__}."
        )
    if len(raw) == 0:
        raise DataError(
            f"Cannot use {label!r}: it has no data rows (columns found: "
            f"{column_listing(raw.columns)}). Fix: pass the file or frame that holds the data."
        )
    return raw


def column_listing(columns: pd.Index) -> str:
    """The column names, quoted, at most 30 of them."""
    if len(columns) == 0:
        return "none"
    shown = ", ".join(repr(str(c)) for c in columns[:30])
    return shown + (f", ... ({len(columns)} in all)" if len(columns) > 30 else "")


def _read_file(path: Path, *, encoding: str, label: str, reader: str) -> pd.DataFrame:
    lower = path.name.lower()
    if not path.exists():
        raise DataError(
            f"Cannot read {label!r}: file not found (working directory: {Path.cwd()}). "
            "Fix: check the path, or pass an absolute path."
        )
    if lower.endswith(_PARQUET_SUFFIXES):
        return _read_parquet(path, label=label)
    if lower.endswith(_CSV_SUFFIXES):
        return _read_csv(path, encoding=encoding, label=label)
    if lower.endswith(_DUCKDB_SUFFIXES):
        raise DataError(
            f"Cannot read {label!r}: a DuckDB database holds several tables. Fix: name one, "
            f"e.g. 'duckdb://{path.as_posix()}?table=orders'."
        )
    raise DataError(
        f"Cannot read {label!r}: unsupported file type {''.join(path.suffixes) or '(none)'!r}; "
        f"winback reads {', '.join(_CSV_SUFFIXES + _PARQUET_SUFFIXES)} files, folders of "
        "Parquet files and postgresql:// or duckdb:// URLs. Fix: convert the file "
        f"(e.g. df.to_parquet('data.parquet')) or pass a DataFrame, e.g. "
        f"{reader}(pd.read_excel({str(path)!r}))."
    )


def _read_parquet(path: Path, *, label: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(path, engine="pyarrow")
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(
            f"Cannot read {label!r}: not a readable Parquet file ({exc}). "
            "Fix: check that the file is complete and was written as Parquet."
        ) from exc


def _read_csv(path: Path, *, encoding: str, label: str) -> pd.DataFrame:
    """Read every column as text; values are kept exactly as written (no NA guessing).

    The multi-threaded pyarrow parser is tried first; on a parse error the C parser is tried,
    which also gives the line of the error.
    """
    is_utf8 = encoding.lower().replace("_", "-") in {"utf-8", "utf8"}
    as_text = {
        "dtype": str,
        "keep_default_na": False,
        "encoding": "utf-8-sig" if is_utf8 else encoding,
    }
    try:
        return pd.read_csv(path, engine="pyarrow", **as_text)
    except LookupError as exc:
        raise ConfigError(
            f"encoding={encoding!r} is not a known text encoding. Fix: use a Python codec name "
            "such as 'utf-8', 'cp1252' or 'latin-1'."
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(
            f"Cannot use {label!r}: the file is empty (no header, no rows). "
            "Fix: pass the file that holds the data."
        ) from exc
    except (UnicodeDecodeError, pd.errors.ParserError, pa.ArrowException):
        pass
    try:
        return pd.read_csv(path, engine="c", na_filter=False, **as_text)
    except UnicodeDecodeError as exc:
        rows = _undecodable_rows(path, as_text["encoding"])
        raise DataError(_encoding_message(label, encoding, rows)) from exc
    except pd.errors.ParserError as exc:
        detail = re.sub(
            r"line (\d+)", lambda m: f"row {int(m.group(1)) - 1}", str(exc).strip()
        ).removeprefix("Error tokenizing data. C error: ")
        raise DataError(
            f"Cannot read {label!r} as CSV: {detail} (row numbers count data rows, header "
            "excluded). Fix: every row needs as many fields as the header; quote values that "
            'contain commas ("Smith, J").'
        ) from exc


def _undecodable_rows(path: Path, encoding: str) -> list[tuple[int, bytes]]:
    """Up to five (data row number, line bytes) whose bytes do not decode; row 0 is the header."""
    data = _file_bytes(path)
    found: list[tuple[int, bytes]] = []
    start = 0
    while len(found) < _MAX_SHOWN:
        try:
            data[start:].decode(encoding)
            break
        except UnicodeDecodeError as exc:
            offset = start + exc.start
            line_start = data.rfind(b"\n", 0, offset) + 1
            line_end = data.find(b"\n", offset)
            line_end = len(data) if line_end == -1 else line_end
            found.append((data.count(b"\n", 0, offset), data[line_start:line_end].rstrip(b"\r")))
            start = line_end + 1
            if start >= len(data):
                break
    return found


def _file_bytes(path: Path) -> bytes:
    """The (decompressed) bytes of ``path``."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            return archive.read(archive.namelist()[0])
    if suffix in _OPENERS:
        with _OPENERS[suffix](path, "rb") as handle:
            return handle.read()
    return path.read_bytes()


def _encoding_message(label: str, encoding: str, rows: list[tuple[int, bytes]]) -> str:
    shown = ", ".join(
        ("header" if row == 0 else f"row {row}")
        + f": '{line.decode(encoding, errors='backslashreplace')[:80]}'"
        for row, line in rows
    )
    return (
        f"Cannot read {label!r}: its bytes are not valid {encoding} text, e.g. {shown}. "
        "Fix: pass the file's encoding, e.g. encoding='cp1252' (Excel on Windows) or "
        "encoding='latin-1'."
    )
