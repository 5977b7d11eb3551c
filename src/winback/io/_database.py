"""Database sources: a PostgreSQL or DuckDB table or query, read through Arrow.

Safety rules (both engines)
---------------------------
- **No SQL from user strings.** A table name is looked up in the database's catalog with the
  name passed as a parameter, and only a table found there is read: PostgreSQL's own
  ``quote_ident`` quotes the catalog's names; for DuckDB they are double-quoted by SQL's rule
  (``"`` doubled). A bucket's column is quoted by the server (PostgreSQL) or passed as an
  expression object (DuckDB) and its numbers are parameters. The only SQL text winback runs that
  a user wrote is their own ``query``.
- **Read-only.** PostgreSQL reads run in one read-only transaction (``transaction_read_only``),
  rolled back at the end; DuckDB files are opened ``read_only``. A ``query`` that writes fails.
- **Row order.** A PostgreSQL table is scanned in storage order (synchronized and parallel scans
  off): for a table loaded with ``COPY``, the file's order. A DuckDB table keeps insertion
  order. A query's rows come in the order its ``ORDER BY`` gives.
- **Credentials** come from the URL, ``PGPASSWORD``, ``PGPASSFILE`` or ``~/.pgpass`` (libpq's
  rules) and never appear in a label, a ``repr``, a log line or an error message.

PostgreSQL is read with ADBC (``adbc-driver-postgresql``): the server streams rows in its binary
``COPY`` format and the driver builds Arrow columns in C, with no Python object per row
(``bench/bench_sources.py`` measures it against ``COPY ... TO STDOUT`` and SQLAlchemy).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from collections.abc import Iterator
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Any, Self

import pyarrow as pa

from winback.exceptions import ConfigError, DataError
from winback.io._arrow import DataSource
from winback.io._urls import SourceURL, parse_url, redact, scrub

__all__ = ["Bucket", "DuckDBSource", "PostgresSource", "database_source"]

_MAX_NAME_BYTES = 63  # PostgreSQL truncates longer names (NAMEDATALEN - 1)
_LISTED = 30
_READ_SESSION = (
    "SELECT pg_catalog.set_config('transaction_read_only', 'on', true), "
    "pg_catalog.set_config('synchronize_seqscans', 'off', true), "
    "pg_catalog.set_config('max_parallel_workers_per_gather', '0', true)"
)
_RELATION_KINDS = (
    "('r', 'v', 'm', 'p', 'f')"  # table, view, materialized view, partitioned, foreign
)
_FIND_TABLE = f"""
SELECT c.oid::bigint,
       pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN {_RELATION_KINDS} AND c.relname = $1 AND
"""
_IN_SCHEMA = "n.nspname = $2"
_ON_SEARCH_PATH = "pg_catalog.pg_table_is_visible(c.oid)"
_LIST_TABLES = f"""
SELECT n.nspname || '.' || c.relname
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN {_RELATION_KINDS}
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY 1 LIMIT {_LISTED + 1}
"""
_FIND_COLUMN = """
SELECT pg_catalog.quote_ident(a.attname) FROM pg_catalog.pg_attribute a
WHERE a.attrelid = $1 AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped
"""
_QUOTE_COLUMN = "SELECT pg_catalog.quote_ident($1)"
_DUCKDB_RELATIONS = """
SELECT schema_name, table_name AS name FROM duckdb_tables()
WHERE database_name = current_database() AND NOT internal
UNION ALL
SELECT schema_name, view_name FROM duckdb_views()
WHERE database_name = current_database() AND NOT internal
"""
_DUCKDB_FIND = f"""
SELECT schema_name, name FROM ({_DUCKDB_RELATIONS})
WHERE name = ? AND schema_name = COALESCE(NULLIF(?, ''), current_schema())
"""
_DUCKDB_LIST = f"""
SELECT schema_name || '.' || name FROM ({_DUCKDB_RELATIONS}) ORDER BY 1 LIMIT {_LISTED + 1}
"""
#: the bucket of a row: a 64-bit hash of the column's text, NULL ids in bucket 0
_PG_BUCKET = "COALESCE((pg_catalog.hashtextextended(({column})::text, 0) % $1 + $1) % $1, 0) = $2"
_FIXES = {
    "28P01": "check the user and password (URL, PGPASSWORD or ~/.pgpass)",
    "28000": "check the user and password (URL, PGPASSWORD or ~/.pgpass)",
    "3D000": "check the database name in the URL",
    "42501": "ask for SELECT permission on the table (GRANT SELECT ON ... TO <user>)",
    "42P01": "check the table names in the query",
    "42703": "check the column names in the query",
    "42601": "check the query's syntax (one SELECT statement, no trailing semicolon)",
    "25006": "winback runs queries read-only: select the rows, do not change them",
}


@dataclass(frozen=True)
class Bucket:
    """One of ``count`` hash buckets of a source's rows by ``column``: ``index`` in [0, count).

    Rows with equal ``column`` values share a bucket, so a bucket holds whole customers; rows
    whose ``column`` is NULL are in bucket 0. Hashes are the engine's own (PostgreSQL
    ``hashtextextended`` of the value's text, DuckDB ``hash``), so buckets of one engine and
    those of another differ. Ids that differ only in surrounding spaces hash apart.
    """

    column: str
    index: int
    count: int

    def __post_init__(self) -> None:
        _check_count(self.count)
        if not (isinstance(self.index, int) and 0 <= self.index < self.count):
            raise ConfigError(
                f"Bucket index must be an integer in [0, {self.count}), got {self.index!r}."
            )
        _check_name(self.column, what="bucket column")

    @classmethod
    def split(cls, column: str, count: int) -> list[Bucket]:
        """The ``count`` buckets by ``column``."""
        _check_count(count)
        return [cls(column, index, count) for index in range(count)]


def _check_count(count: int) -> None:
    if not (isinstance(count, int) and count >= 1):
        raise ConfigError(f"Bucket count must be a positive integer, got {count!r}.")


def _check_name(name: str, *, what: str) -> str:
    if not isinstance(name, str) or not name or "\x00" in name:
        raise ConfigError(
            f"{what}: expected a non-empty name without NUL characters, got {name!r}."
        )
    if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        raise ConfigError(
            f"{what}: {name[:80]!r} is longer than {_MAX_NAME_BYTES} bytes, the longest name "
            "PostgreSQL keeps. Fix: use the table's real name."
        )
    return name


def table_parts(table: str) -> tuple[str, str]:
    """``("schema", "name")`` of ``"schema.name"``, ``("", "name")`` of ``"name"``.

    Any character but NUL may appear in a name (it is never put into SQL unquoted); a dot
    separates the schema from the name, so a name containing a dot needs its schema.
    """
    schema, dot, name = table.partition(".")
    if not dot:
        schema, name = "", table
    return (_check_name(schema, what="schema") if dot else "", _check_name(name, what="table"))


def _one_of(table: str | None, query: str | None, url: str) -> None:
    if (table is None) == (query is None):
        raise ConfigError(
            f"Source {redact(url)!r}: give exactly one of table= and query= "
            f"(got {'both' if table is not None else 'neither'})."
        )
    if table is not None:
        table_parts(table)
    elif not query.strip():
        raise ConfigError(f"Source {redact(url)!r}: the query is empty.")


def _listing(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_LISTED])
    return (shown or "none") + (", ..." if len(names) > _LISTED else "")


def _first_line(message: str) -> str:
    """The database's own words in a driver message: its ERROR (or the connection failure)."""
    text = message.strip()
    if "ERROR:" in text:
        text = text.rsplit("ERROR:", 1)[1]
    else:
        text = re.sub(r"^[A-Z_]+: (\[libpq\] )?(Failed to connect: )?", "", text)
    lines = text.strip().splitlines()
    return " ".join(lines[0].split()) if lines else message


@dataclass(frozen=True, repr=False)
class _TableOrQuery(DataSource):
    """What the database sources share: exactly one of a table and a query, an optional hash
    bucket, a label, and buckets of whole customers. After the location (a URL or a path),
    these are keyword-only."""

    _: KW_ONLY
    table: str | None = None
    query: str | None = None
    bucket: Bucket | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        _one_of(self.table, self.query, self._shown())

    def _shown(self) -> str:
        raise NotImplementedError

    @property
    def label(self) -> str:
        label = self.name or _default_label(self._shown(), self.table)
        if self.bucket is None:
            return label
        return (
            f"{label} (bucket {self.bucket.index} of {self.bucket.count} by {self.bucket.column})"
        )

    def buckets(self, count: int, *, column: str = "customer_id") -> list[Self]:
        """``count`` sources that together read every row once, each holding whole ``column``
        values (customers); picklable, e.g. for one Dask task each."""
        return [dataclasses.replace(self, bucket=b) for b in Bucket.split(column, count)]


# --- PostgreSQL -------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class PostgresSource(_TableOrQuery):
    """A PostgreSQL table (``table="orders"`` or ``"schema.orders"``) or ``query``.

    ``url`` is a libpq URL, ``postgresql://[user[:password]@][host][:port][/database][?...]``;
    without a password, libpq takes it from ``PGPASSWORD`` or ``~/.pgpass``. ``bucket`` reads
    one hash bucket of the rows (see :meth:`buckets`). ``name`` overrides the label.

    Examples
    --------
    >>> source = PostgresSource("postgresql://ann:secret@db.example/shop", table="sales.orders")
    >>> source
    PostgresSource('postgresql://ann:***@db.example/shop?table=sales.orders')
    """

    url: str

    def _shown(self) -> str:
        return self.url

    def read_arrow(self, *, label: str) -> pa.Table:
        with self._cursor(label) as cursor:
            sql, parameters = self._select(cursor, label)
            _execute(cursor, sql, parameters)
            return cursor.fetch_arrow_table()

    @contextlib.contextmanager
    def _cursor(self, label: str) -> Iterator[Any]:
        """A cursor inside one read-only transaction, rolled back at the end."""
        import adbc_driver_manager
        import adbc_driver_postgresql.dbapi

        try:
            connection = adbc_driver_postgresql.dbapi.connect(self.url)
        except adbc_driver_manager.Error as exc:
            raise DataError(
                f"Cannot read {label!r}: cannot connect to PostgreSQL "
                f"({scrub(_first_line(str(exc)), self.url)}). Fix: check the host, port and "
                "database in the URL; the password comes from the URL, PGPASSWORD or ~/.pgpass."
            ) from exc
        try:
            with connection.cursor() as cursor:
                _execute(cursor, _READ_SESSION)
                cursor.fetchall()
                yield cursor
        except adbc_driver_manager.Error as exc:
            raise DataError(self._failure(label, exc)) from exc
        finally:
            with contextlib.suppress(adbc_driver_manager.Error):
                connection.rollback()
            connection.close()

    def _failure(self, label: str, exc: Exception) -> str:
        state = getattr(exc, "sqlstate", None) or _sqlstate(str(exc))
        what = "the query failed" if self.query is not None else "reading the table failed"
        fix = _FIXES.get(state or "", "check the query in psql first")
        code = f" (SQLSTATE {state})" if state else ""
        detail = scrub(_first_line(str(exc)), self.url)
        return f"Cannot read {label!r}: {what}: {detail}{code}. Fix: {fix}."

    def _select(self, cursor: Any, label: str) -> tuple[str, tuple[Any, ...]]:
        """The SELECT to run and its parameters."""
        if self.table is not None:
            oid, relation = self._relation(cursor, label)
            sql = f"SELECT * FROM {relation}"
        else:
            oid, sql = None, self.query.strip().rstrip(";")
        if self.bucket is None:
            return sql, ()
        column = self._column(cursor, oid, label)
        if oid is None:
            sql = f"SELECT * FROM ({sql}\n) AS winback_query"
        where = _PG_BUCKET.format(column=column)
        return f"{sql} WHERE {where}", (self.bucket.count, self.bucket.index)

    def _relation(self, cursor: Any, label: str) -> tuple[int, str]:
        """(oid, quoted qualified name) of the table, found in the catalog."""
        schema, name = table_parts(self.table)
        if schema:
            _execute(cursor, _FIND_TABLE + _IN_SCHEMA, (name, schema))
        else:
            _execute(cursor, _FIND_TABLE + _ON_SEARCH_PATH, (name,))
        found = cursor.fetchall()
        if found:
            return found[0]
        _execute(cursor, _LIST_TABLES)
        tables = [row[0] for row in cursor.fetchall()]
        where = f"schema {schema!r}" if schema else "the search path"
        raise DataError(
            f"Cannot read {label!r}: no table or view named {name!r} in {where}. "
            f"Tables found: {_listing(tables)}. Fix: name one of them, as schema.table when it "
            "is outside the search path."
        )

    def _column(self, cursor: Any, oid: int | None, label: str) -> str:
        """The bucket column, quoted by the server (and checked to exist for a table)."""
        if oid is None:
            _execute(cursor, _QUOTE_COLUMN, (self.bucket.column,))
        else:
            _execute(cursor, _FIND_COLUMN, (oid, self.bucket.column))
        found = cursor.fetchall()
        if not found:
            raise DataError(
                f"Cannot read {label!r} by buckets: the table has no column "
                f"{self.bucket.column!r}. Fix: bucket by the column that holds customer ids."
            )
        return found[0][0]


def _execute(cursor: Any, sql: str, parameters: tuple[Any, ...] = ()) -> None:
    if parameters:
        cursor.execute(sql, parameters=parameters)
    else:
        cursor.execute(sql)


def _sqlstate(message: str) -> str | None:
    found = re.search(r"SQLSTATE: ([0-9A-Z]{5})", message)
    return found.group(1) if found else None


def _default_label(url: str, table: str | None) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{redact(url)}{joiner}{'query' if table is None else f'table={table}'}"


# --- DuckDB -----------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class DuckDBSource(_TableOrQuery):
    """A table (``"orders"`` or ``"schema.orders"``) or ``query`` of a DuckDB database file.

    The file is opened read-only, so any number of processes (Dask workers) can read it at once;
    a file another process holds open for writing cannot be read until it is closed.
    """

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))
        super().__post_init__()

    def _shown(self) -> str:
        return f"duckdb://{self.path}"

    def read_arrow(self, *, label: str) -> pa.Table:
        import duckdb

        if not Path(self.path).is_file():
            raise DataError(
                f"Cannot read {label!r}: database file not found (working directory: "
                f"{Path.cwd()}). Fix: check the path after duckdb:// (duckdb:///absolute/path)."
            )
        try:
            with duckdb.connect(str(self.path), read_only=True) as connection:
                relation = self._relation(connection, label)
                if self.bucket is not None:
                    relation = relation.filter(_duckdb_bucket(self.bucket, relation, label))
                fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
                return fetch()
        except duckdb.Error as exc:
            what = "the query failed" if self.query is not None else "reading the table failed"
            detail = _first_line(str(exc))
            raise DataError(
                f"Cannot read {label!r}: {what}: {detail.rstrip('.!')}. Fix: {_duckdb_fix(detail)}."
            ) from exc

    def _relation(self, connection: Any, label: str) -> Any:
        """The query's relation, or the table's, found in the catalog by parameters."""
        if self.query is not None:
            return connection.sql(self.query.strip().rstrip(";"))
        schema, name = table_parts(self.table)
        found = connection.execute(_DUCKDB_FIND, [name, schema]).fetchall()
        if found:
            return connection.sql(f"SELECT * FROM {_duckdb_identifier(*found[0])}")
        tables = connection.execute(_DUCKDB_LIST).fetchall()
        where = f"schema {schema!r}" if schema else "the database"
        raise DataError(
            f"Cannot read {label!r}: no table or view named {name!r} in {where}. Tables found: "
            f"{_listing([row[0] for row in tables])}. Fix: name one of them."
        )


def _duckdb_fix(detail: str) -> str:
    if "read-only" in detail:
        return _FIXES["25006"]
    if "lock" in detail.lower():
        return "close the program that has the database open for writing, or read a copy"
    if "not a valid DuckDB database" in detail or "Invalid Input Error: The file" in detail:
        return "check that the file is a DuckDB database (duckdb:// then its path)"
    return "check the query or table in the duckdb shell first"


def _duckdb_identifier(*parts: str) -> str:
    """A qualified SQL identifier of catalog names: each part double-quoted, quotes doubled
    (SQL's rule; DuckDB's Python API has no quoting function)."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def _duckdb_bucket(bucket: Bucket, relation: Any, label: str) -> Any:
    """The filter keeping ``bucket``'s rows (expression objects: no SQL text)."""
    import duckdb

    if bucket.column not in relation.columns:
        raise DataError(
            f"Cannot read {label!r} by buckets: it has no column {bucket.column!r} (columns: "
            f"{_listing(list(relation.columns))}). Fix: bucket by the column of customer ids."
        )
    hashed = duckdb.FunctionExpression("hash", duckdb.ColumnExpression(bucket.column))
    slot = duckdb.CoalesceOperator(
        hashed % duckdb.ConstantExpression(bucket.count), duckdb.ConstantExpression(0)
    )
    return slot == duckdb.ConstantExpression(bucket.index)


# --- from a URL -------------------------------------------------------------------------------


def database_source(
    url: str,
    *,
    table: str | None = None,
    query: str | None = None,
    base: str | os.PathLike[str] | None = None,
) -> DataSource:
    """The source a ``postgresql://`` or ``duckdb://`` URL names (see :mod:`winback.io._urls`).

    A relative DuckDB path is taken relative to ``base`` (default: the working directory).
    Raises :class:`ConfigError` for a malformed URL or table name.
    """
    parsed: SourceURL = parse_url(url, table=table, query=query)
    label = redact(url) if table is None and query is None else None
    if parsed.scheme == "duckdb":
        path = Path(os.path.expanduser(parsed.target))
        if base is not None and not path.is_absolute():
            path = Path(base) / path
        return DuckDBSource(path, table=parsed.table, query=parsed.query, name=label)
    return PostgresSource(parsed.target, table=parsed.table, query=parsed.query, name=label)
