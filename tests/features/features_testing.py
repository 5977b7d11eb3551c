"""Shared helpers of the feature tests: contract frames, hypothesis strategies, a slow oracle.

The oracle (:func:`oracle_order_features`, :func:`oracle_labels`) recomputes the definitions
customer by customer in plain Python, independently of the vectorised implementation. A purchase
is an order with a positive amount (these frames have no quantity, so a 0 amount is no
purchase); orders with an amount <= 0 (cancellations, refunds) only reduce money and count in
``refund_share``.
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
from hypothesis import strategies as st

BASE = pd.Timestamp("2024-01-01")
N_DAYS = 150


def make_orders(rows: list[tuple], *, columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Orders frame from (customer_id, order_ts, amount, *extra columns) tuples."""
    names = ["customer_id", "order_ts", "amount", *columns]
    frame = pd.DataFrame(rows, columns=names)
    frame["order_ts"] = pd.to_datetime(frame["order_ts"], format="ISO8601").astype("M8[ns]")
    frame["amount"] = frame["amount"].astype("float64")
    if frame["customer_id"].map(type).eq(int).all():
        frame["customer_id"] = frame["customer_id"].astype("int64")
    else:
        frame["customer_id"] = frame["customer_id"].astype("str")
    return frame


def make_events(rows: list[tuple]) -> pd.DataFrame:
    """Events frame from (customer_id, event_ts, event_type, value) tuples."""
    frame = pd.DataFrame(rows, columns=["customer_id", "event_ts", "event_type", "value"])
    frame["event_ts"] = pd.to_datetime(frame["event_ts"], format="ISO8601").astype("M8[ns]")
    frame["value"] = frame["value"].astype("float64")
    frame["event_type"] = frame["event_type"].astype("str")
    return frame


def _timestamps(days: list[int], seconds: list[int]) -> pd.Series:
    return pd.Series(
        BASE + pd.to_timedelta(days, unit="D") + pd.to_timedelta(seconds, unit="s")
    ).astype("M8[ns]")


@st.composite
def order_rows(draw, *, customers: int = 6, max_rows: int = 40, first_day: int = 0, last_day=None):
    """A random orders frame: few customers, amounts with cents, days in [first_day, last_day]."""
    last_day = N_DAYS if last_day is None else last_day
    n = draw(st.integers(0, max_rows))
    ids = draw(st.lists(st.integers(1, customers), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(first_day, last_day), min_size=n, max_size=n))
    seconds = draw(st.lists(st.integers(0, 86_399), min_size=n, max_size=n))
    cents = draw(st.lists(st.integers(-5_000, 50_000), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "customer_id": np.array(ids, dtype=np.int64),
            "order_ts": _timestamps(days, seconds),
            "amount": np.array(cents, dtype=np.float64) / 100,
        }
    )


@st.composite
def event_rows(draw, *, customers: int = 6, max_rows: int = 30, first_day: int = 0, last_day=None):
    """A random events frame over three event types, values on some of the nps rows."""
    last_day = N_DAYS if last_day is None else last_day
    n = draw(st.integers(0, max_rows))
    ids = draw(st.lists(st.integers(1, customers), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(first_day, last_day), min_size=n, max_size=n))
    seconds = draw(st.lists(st.integers(0, 86_399), min_size=n, max_size=n))
    kinds = draw(
        st.lists(st.sampled_from(["email_open", "site_visit", "nps"]), min_size=n, max_size=n)
    )
    values = draw(st.lists(st.one_of(st.none(), st.integers(0, 10)), min_size=n, max_size=n))
    return pd.DataFrame(
        {
            "customer_id": np.array(ids, dtype=np.int64),
            "event_ts": _timestamps(days, seconds),
            "event_type": pd.array(kinds, dtype="str"),
            "value": np.array([np.nan if v is None else v for v in values], dtype=np.float64),
        }
    )


def day_of(ts) -> dt.date:
    return pd.Timestamp(ts).date()


def oracle_order_features(orders: pd.DataFrame, cutoff, windows: list[int]) -> pd.DataFrame:
    """The order features by their one-line definitions, one customer at a time."""
    c = day_of(cutoff)
    out = {}
    for cid, group in orders.groupby("customer_id", sort=True):
        every = [
            (day_of(t), a)
            for t, a in zip(group["order_ts"], group["amount"], strict=True)
            if day_of(t) <= c
        ]
        rows = [(d, a) for d, a in every if a > 0]  # the purchases
        if not rows:
            continue
        days = sorted({d for d, _ in rows})
        amounts = [a for _, a in rows]
        net = sum(a for _, a in every)
        gaps = [(b - a).days for a, b in itertools.pairwise(days)]
        tenure = (c - days[0]).days
        row = {
            "days_since_last_order": float((c - days[-1]).days),
            "n_orders": len(rows),
            "n_purchase_days": len(days),
            "frequency": len(days) - 1,
            "tenure_days": float((c - days[0]).days),
            "active_span_days": float((days[-1] - days[0]).days),
            "repeat_days_per_30d": 30 * (len(days) - 1) / tenure if tenure else np.nan,
            "recency_share": (c - days[-1]).days / tenure if tenure else np.nan,
            "monetary_total": net,
            "monetary_mean": net / len(amounts),
            "monetary_max": max(amounts),
            "first_purchase_value": sum(a for d, a in rows if d == days[0]),
            "gap_mean_days": float(np.mean(gaps)) if gaps else np.nan,
            "gap_std_days": float(np.std(gaps, ddof=1)) if len(gaps) > 1 else np.nan,
            "gap_last_days": float(gaps[-1]) if gaps else np.nan,
        }
        row["overdue_ratio"] = row["days_since_last_order"] / row["gap_mean_days"]
        for w in windows:
            recent = [a for d, a in every if 0 <= (c - d).days < w]
            previous = [a for d, a in every if w <= (c - d).days < 2 * w]
            row[f"orders_last_{w}d"] = sum(a > 0 for a in recent)
            row[f"spend_last_{w}d"] = sum(recent)
            row[f"orders_trend_{w}d"] = sum(a > 0 for a in recent) - sum(a > 0 for a in previous)
            row[f"spend_trend_{w}d"] = sum(recent) - sum(previous)
        row["refund_share"] = sum(a <= 0 for _, a in every) / len(every)
        out[cid] = row
    frame = pd.DataFrame.from_dict(out, orient="index")
    frame.index.name = "customer_id"
    return frame


def oracle_labels(orders: pd.DataFrame, cutoff, horizons: list[int]) -> pd.DataFrame:
    """Labels by their definitions, for the customers with a purchase on or before the cutoff."""
    c = day_of(cutoff)
    out = {}
    for cid, group in orders.groupby("customer_id", sort=True):
        rows = [(day_of(t), a) for t, a in zip(group["order_ts"], group["amount"], strict=True)]
        if not any(d <= c and a > 0 for d, a in rows):
            continue
        row = {}
        for h in horizons:
            inside = [a for d, a in rows if 0 < (d - c).days <= h]
            row[f"purchased_within_{h}d"] = int(any(a > 0 for a in inside))
            row[f"spend_within_{h}d"] = float(sum(inside))
        out[cid] = row
    frame = pd.DataFrame.from_dict(out, orient="index")
    frame.index.name = "customer_id"
    return frame
