"""Properties on random messy frames: no row is lost; CSV reads like the frame it came from."""

from __future__ import annotations

import datetime as dt
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from winback.exceptions import DataError, RejectedRowsWarning
from winback.io import ReadResult, read_orders

_JUNK = st.sampled_from(["", " ", "NA", "null", "soon", "2021-13-45", "x y", "1,5", "inf", "-"])
_IDS = st.one_of(
    st.none(),
    st.just(np.nan),
    st.integers(-3, 30),
    st.integers(-3, 30).map(float),
    st.sampled_from(["c1", " 7 ", "007", "12.0", "A-1"]),
    _JUNK,
)
_STAMPS = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2030, 1, 1))
_OFFSETS = st.sampled_from(["", "Z", "+02:00", "-05:30"])
_TIMES = st.one_of(
    st.builds(lambda t, z: t.isoformat(timespec="seconds") + z, _STAMPS, _OFFSETS),
    st.builds(lambda t, z: t.isoformat(timespec="seconds") + z, _STAMPS, _OFFSETS),
    _STAMPS,
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 1, 1)),
    st.none(),
    _JUNK,
)
_AMOUNTS = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(-1e6, 1e6, allow_nan=False).map(repr),
    st.integers(-1000, 1000),
    st.sampled_from([np.nan, np.inf, None]),
    _JUNK,
)
_ORDER_IDS = st.one_of(st.none(), st.sampled_from(["A", "B", "C", " A", "7"]), st.integers(0, 5))


@st.composite
def messy_orders(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 25))
    columns = {
        "customer_id": draw(st.lists(_IDS, min_size=n, max_size=n)),
        "order_ts": draw(st.lists(_TIMES, min_size=n, max_size=n)),
        "amount": draw(st.lists(_AMOUNTS, min_size=n, max_size=n)),
    }
    if draw(st.booleans()):
        columns["order_id"] = draw(st.lists(_ORDER_IDS, min_size=n, max_size=n))
    return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})


def _read(source: pd.DataFrame | Path, **kwargs: object) -> ReadResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedRowsWarning)
        return read_orders(source, **kwargs)  # type: ignore[arg-type]


def _order_key(value: object) -> str | None:
    """The order id as the reader reads it: stripped text, None when missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


@settings(max_examples=100, deadline=None)
@given(frame=messy_orders(), end=st.sampled_from([None, "2020-06-30"]))
def test_rows_in_equal_rows_kept_plus_rows_rejected(frame: pd.DataFrame, end: str | None) -> None:
    try:
        result = _read(frame, end=end)
    except DataError as exc:  # a column-level problem: allowed, but must not be the usual case
        assert str(exc).startswith("Cannot use '<DataFrame>' as orders (")
        assume(False)
    data, rejects = result
    lines = len(data) if result.line_items is None else result.line_items.lines
    assert lines + len(rejects) == len(frame) == result.rows
    rows = rejects["row"].to_numpy()
    assert np.all(np.diff(rows) > 0) and (
        len(rows) == 0 or (rows[0] >= 1 and rows[-1] <= len(frame))
    )
    assert rejects["reason"].str.len().gt(0).all()
    # rejects carry the original values of exactly the rejected rows
    pd.testing.assert_frame_equal(
        rejects[frame.columns], frame.iloc[rows - 1].reset_index(drop=True)
    )
    # the kept rows are the other rows, in input order, with their amounts; lines sharing an
    # order id are one order (their amounts summed), lines without one are orders of their own
    kept = np.setdiff1d(np.arange(len(frame)), rows - 1)
    amounts = [float(str(v).strip()) for v in frame["amount"].iloc[kept]]
    keys = (
        [_order_key(v) for v in frame["order_id"].iloc[kept]]
        if "order_id" in frame
        else [None] * len(kept)
    )
    orders: dict[object, float] = {}
    for position, (key, amount) in enumerate(zip(keys, amounts, strict=True)):
        slot = ("alone", position) if key is None else key
        orders[slot] = orders.get(slot, 0.0) + amount
    np.testing.assert_allclose(data["amount"].to_numpy(), list(orders.values()), rtol=1e-9)
    assert str(data["order_ts"].dtype) == "datetime64[ns]"
    assert data["order_ts"].notna().all() and data["customer_id"].notna().all()
    assert str(data["customer_id"].dtype) in {"int64", "str"}
    if end is not None:
        assert (data["order_ts"] < pd.Timestamp("2020-07-01")).all()
    if "order_id" in data:
        assert not data["order_id"].dropna().duplicated().any()


_CELL = st.one_of(
    st.none(),
    st.text(alphabet=st.characters(codec="latin-1", exclude_categories=["Cc", "Cs"]), max_size=6),
    st.sampled_from(["2021-01-02", "2021-01-02T03:04:05+01:00", "12.5", "-3", "17", "NA"]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cells=st.lists(st.tuples(_CELL, _CELL, _CELL, _CELL), min_size=1, max_size=12),
)
def test_csv_reads_like_the_frame_it_was_written_from(
    cells: list[tuple[str | None, ...]],
) -> None:
    frame = pd.DataFrame(
        cells, columns=["customer_id", "order_ts", "amount", "category"], dtype=object
    )

    def outcome(source: pd.DataFrame | Path) -> object:
        try:
            data, rejects = _read(source, name="orders")
        except DataError as exc:
            return str(exc)
        return data, rejects[["row", "reason"]]

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.csv"
        frame.to_csv(path, index=False)
        from_csv, from_frame = outcome(path), outcome(frame)
    if isinstance(from_frame, str):
        assert from_csv == from_frame
        return
    assert not isinstance(from_csv, str), from_csv
    for got, want in zip(from_csv, from_frame, strict=True):
        pd.testing.assert_frame_equal(got, want)
