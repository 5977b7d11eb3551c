"""Benchmark: time ``winback.io.read_orders`` on a 10M-row typed DataFrame and a 1M-row CSV file,
and write seconds, rows and peak memory to ``bench/results/io.json``.

Cases: the typed fast path (int64 ids, datetime64 timestamps, float64 amounts) clean, with a
unique string ``order_id``, and with 1% bad rows plus an ``end``; a 1M-row ISO-dated CSV; a
1M-row CSV shaped like UCI Online Retail II (20 lines per invoice, float ids with 25% missing,
``12/1/2009 07:45`` dates, amount = price x quantity), read line by line and with the invoice
mapped to ``order_id`` (lines aggregated to orders, exact duplicate lines rejected). Each case
runs ``--repeats`` times; the JSON keeps the best and the median.

Usage: ``python bench/bench_io.py [--rows 10000000] [--csv-rows 1000000] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from _measure import peak_rss_mb, timed_runs, write_result
from winback.io import ReadResult, read_orders

RESULT = Path(__file__).resolve().parent / "results" / "io.json"
UCI_COLUMNS = {
    "customer_id": "Customer ID",
    "order_ts": "InvoiceDate",
    "price": "Price",
    "quantity": "Quantity",
}


def typed_orders(rows: int, *, seed: int = 0) -> pd.DataFrame:
    """Orders already in contract dtypes: int64 ids, datetime64[ns] timestamps, float64 amounts."""
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, 3 * 365 * 86_400, rows)
    return pd.DataFrame(
        {
            "customer_id": rng.integers(1, rows // 10 + 2, rows),
            "order_ts": (np.datetime64("2019-01-01", "ns") + seconds.astype("timedelta64[s]")),
            "amount": np.round(rng.gamma(2.0, 30.0, rows), 2),
        }
    )


def _uci_like(frame: pd.DataFrame) -> pd.DataFrame:
    """Line items like UCI Online Retail II: 20 lines per invoice share its customer and time,
    float customer ids with 25% missing, ``12/1/2009 07:45`` dates, price and quantity."""
    invoice = frame.index // 20
    first_line = invoice * 20
    ids = frame["customer_id"].astype("float64").to_numpy()[first_line]
    ids[invoice % 4 == 0] = np.nan
    return pd.DataFrame(
        {
            "Invoice": invoice.astype(str),
            "Quantity": (frame.index % 12) + 1,
            "InvoiceDate": frame["order_ts"].dt.strftime("%-m/%-d/%Y %H:%M").to_numpy()[first_line],
            "Price": frame["amount"] / 10,
            "Customer ID": ids,
            "Country": "United Kingdom",
        }
    )


def _time(call: Callable[[], ReadResult], repeats: int) -> dict[str, float | int]:
    times, result = timed_runs(call, repeats)
    assert result is not None
    lines = {} if result.line_items is None else {"lines_kept": result.line_items.lines}
    return {
        "seconds_best": round(min(times), 3),
        "seconds_median": round(statistics.median(times), 3),
        "rows_kept": len(result.data),  # orders, when lines were aggregated
        **lines,
        "rows_rejected": len(result.rejects),
    }


def _typed_cases(rows: int, repeats: int) -> dict[str, dict[str, object]]:
    """The DataFrame cases (frames are freed on return)."""
    typed = typed_orders(rows)
    with_ids = typed.assign(order_id=np.arange(rows).astype(str))
    messy = typed.copy()
    messy.loc[messy.index % 100 == 0, "amount"] = np.nan  # 1% null amounts
    return {
        "typed_frame": {"rows": rows, **_time(lambda: read_orders(typed), repeats)},
        "typed_frame_with_order_id": {
            "rows": rows,
            **_time(lambda: read_orders(with_ids), repeats),
        },
        "typed_frame_1pct_rejects_and_end": {
            "rows": rows,
            **_time(lambda: read_orders(messy, end="2021-06-30"), repeats),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cases: dict[str, dict[str, object]] = {}

    cases.update(_typed_cases(args.rows, args.repeats))
    with tempfile.TemporaryDirectory() as folder:
        iso_csv = Path(folder) / "orders.csv"
        frame = typed_orders(args.csv_rows, seed=1)
        frame.assign(order_id=np.arange(args.csv_rows).astype(str)).to_csv(iso_csv, index=False)
        cases["csv_iso"] = {
            "rows": args.csv_rows,
            "file_mb": round(iso_csv.stat().st_size / 1e6, 1),
            **_time(lambda: read_orders(iso_csv), args.repeats),
        }
        uci_csv = Path(folder) / "online_retail_like.csv"
        _uci_like(frame).to_csv(uci_csv, index=False)
        cases["csv_uci_like"] = {
            "rows": args.csv_rows,
            "file_mb": round(uci_csv.stat().st_size / 1e6, 1),
            **_time(lambda: read_orders(uci_csv, columns=UCI_COLUMNS), args.repeats),
        }
        lines = {**UCI_COLUMNS, "order_id": "Invoice"}
        cases["csv_uci_like_line_items"] = {
            "rows": args.csv_rows,
            "file_mb": round(uci_csv.stat().st_size / 1e6, 1),
            **_time(lambda: read_orders(uci_csv, columns=lines), args.repeats),
        }

    result = {
        "benchmark": "io.read_orders",
        "repeats": args.repeats,
        "cases": cases,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
    }
    write_result(result, RESULT)
    for name, case in cases.items():
        print(f"{name:35s} {case}")
    print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()
