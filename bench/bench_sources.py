"""Benchmark: read 10 million order rows from PostgreSQL, through winback's reader and against the
bound ``COPY orders TO STDOUT``, and write seconds and rows per second to
``bench/results/sources.json``.

A throwaway server (Debian's PostgreSQL, ``initdb`` + ``pg_ctl`` on a temporary folder, as in the
tests) gets a table ``orders (customer_id bigint, order_ts timestamp, amount numeric(12,2),
order_id text)``: ``--rows`` rows of ``--rows // 10`` customers, bulk-loaded with ``COPY`` from a
CSV file, then ``VACUUM ANALYZE``-d. Cases (best of ``--repeats``):

- ``copy_binary_to_devnull`` / ``copy_text_to_devnull``: ``psql -c "COPY orders TO STDOUT
  (FORMAT ...)" > /dev/null``, the bound: every byte leaves the server, nothing is converted;
- ``winback_arrow``: winback's reader (ADBC) up to the Arrow table;
- ``winback_frame``: the same up to the raw pandas frame the data gate checks;
- ``winback_read_orders``: ``read_orders("postgresql://...?table=orders")``, the data gate
  included (the gate on the same frame alone: ``gate_only``);
- ``sqlalchemy_psycopg_read_sql`` vs ``adbc_same_rows``: the alternative, pandas' ``read_sql``
  in chunks of 100,000 rows through SQLAlchemy + psycopg 3, on the first ``--alt-rows`` rows.

The machine is shared (the JSON records the load average before and after): compare cases
within one run rather than across runs.

Usage: ``python bench/bench_sources.py [--rows 10000000] [--alt-rows 2000000] [--repeats 2]``
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from winback.io import PostgresSource, read_orders

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _measure import peak_rss_mb, timed_runs, write_result
from postgres_server import PostgresServer, running_server

RESULT = Path(__file__).resolve().parent / "results" / "sources.json"
SERVER_SETTINGS = {
    "shared_buffers": "2GB",  # the table (about 0.7 GB) is read from memory
    "max_wal_size": "8GB",
    "autovacuum": "off",
}


def _orders_csv(path: Path, rows: int, *, seed: int = 0) -> None:
    """``rows`` orders of ``rows // 10`` customers over three years, amounts with 2 decimals."""
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, 3 * 365 * 86_400, rows)
    table = pa.table(
        {
            "customer_id": rng.integers(1, rows // 10 + 1, rows),
            "order_ts": np.datetime64("2021-01-01", "s") + seconds.astype("timedelta64[s]"),
            "amount": np.round(rng.gamma(2.0, 30.0, rows), 2),
            "order_id": pa.array(np.char.add("O", np.arange(rows).astype(str))),
        }
    )
    pacsv.write_csv(table, path)


def _load(server: PostgresServer, csv: Path) -> float:
    started = time.perf_counter()
    server.psql(
        "-c",
        "CREATE TABLE orders (customer_id bigint, order_ts timestamp, amount numeric(12,2), "
        "order_id text)",
    )
    with csv.open("rb") as handle:
        server.psql("-c", "\\copy orders FROM pstdin WITH (FORMAT csv, HEADER true)", stdin=handle)
    seconds = time.perf_counter() - started
    server.psql("-c", "VACUUM ANALYZE orders")
    return seconds


def _copy_out(server: PostgresServer, fmt: str) -> Callable[[], int]:
    def run() -> int:
        with open(os.devnull, "wb") as sink:
            subprocess.run(
                [
                    str(server.bin / "psql"),
                    "-X",
                    "-q",
                    "-c",
                    f"COPY orders TO STDOUT (FORMAT {fmt})",
                ],
                stdout=sink,
                check=True,
                env={**os.environ, **server.environment()},
            )
        return int(server.psql("-c", "SELECT count(*) FROM orders"))

    return run


def _alternative(url: str, rows: int) -> Callable[[], int]:
    def run() -> int:
        import pandas as pd
        import sqlalchemy

        engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        sql = sqlalchemy.text(f"SELECT * FROM orders LIMIT {int(rows)}")
        with engine.connect() as connection:
            streamed = connection.execution_options(stream_results=True)
            frame = pd.concat(pd.read_sql(sql, streamed, chunksize=100_000), ignore_index=True)
        engine.dispose()
        return len(frame)

    return run


def _time(call: Callable[[], Any], repeats: int, rows_of: Callable[[Any], int]) -> dict[str, Any]:
    times, result = timed_runs(call, repeats)
    times = [round(t, 3) for t in times]
    rows = rows_of(result)
    del result
    return {
        "rows": rows,
        "seconds_best": min(times),
        "seconds_all": times,
        "rows_per_second": round(rows / min(times)),
    }


def _gate_only(source: PostgresSource) -> dict[str, Any]:
    frame = source.read()
    return _time(lambda: read_orders(frame), 1, lambda r: len(r.data))


def _cases(server: PostgresServer, alt_rows: int, repeats: int) -> dict[str, Any]:
    url = server.url()
    source = PostgresSource(url, table="orders")
    count = len
    _copy_out(server, "binary")()  # warm-up: the table into shared buffers
    cases = {
        "copy_binary_to_devnull": _time(_copy_out(server, "binary"), repeats, int),
        "copy_text_to_devnull": _time(_copy_out(server, "text"), repeats, int),
        "winback_arrow": _time(
            lambda: source.read_arrow(label="bench"), repeats, lambda t: t.num_rows
        ),
        "winback_frame": _time(source.read, repeats, count),
        "winback_read_orders": _time(
            lambda: read_orders(f"{url}?table=orders"), 1, lambda r: len(r.data)
        ),
    }
    cases["gate_only"] = _gate_only(source)
    limited = PostgresSource(url, query=f"SELECT * FROM orders LIMIT {alt_rows}")
    cases["adbc_same_rows"] = _time(limited.read, repeats, count)
    cases["sqlalchemy_psycopg_read_sql"] = _time(_alternative(url, alt_rows), repeats, int)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--alt-rows", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder, running_server(**SERVER_SETTINGS) as server:
        csv = Path(folder) / "orders.csv"
        _orders_csv(csv, args.rows)
        csv_mb = csv.stat().st_size / 1e6
        load_seconds = _load(server, csv)
        csv.unlink()
        table_mb = int(server.psql("-c", "SELECT pg_table_size('orders')")) / 1e6
        cases = _cases(server, args.alt_rows, args.repeats)
        version = server.psql("-c", "SHOW server_version").strip()
    bound = cases["copy_binary_to_devnull"]["seconds_best"]
    alternative = cases["sqlalchemy_psycopg_read_sql"]["seconds_best"]
    result = {
        "benchmark": "io sources: PostgreSQL read throughput",
        "rows": args.rows,
        "customers": args.rows // 10,
        "columns": "customer_id bigint, order_ts timestamp, amount numeric(12,2), order_id text",
        "csv_mb": round(csv_mb, 1),
        "table_mb": round(table_mb, 1),
        "bulk_load_copy_seconds": round(load_seconds, 3),
        "repeats": args.repeats,
        "cases": cases,
        "winback_vs_copy_binary": {
            "arrow": round(cases["winback_arrow"]["seconds_best"] / bound, 2),
            "frame": round(cases["winback_frame"]["seconds_best"] / bound, 2),
            "read_orders": round(cases["winback_read_orders"]["seconds_best"] / bound, 2),
        },
        "sqlalchemy_vs_adbc_same_rows": round(
            alternative / cases["adbc_same_rows"]["seconds_best"], 2
        ),
        "load_average_before_after": [round(x, 2) for x in (*load_before[:1], os.getloadavg()[0])],
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "postgresql": version,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }
    write_result(result, RESULT)
    for name, case in cases.items():
        print(f"{name:30s} {case}")
    print({k: result[k] for k in ("winback_vs_copy_binary", "sqlalchemy_vs_adbc_same_rows")})
    print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()
