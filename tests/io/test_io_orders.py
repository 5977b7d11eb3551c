"""read_orders: contract dtypes, row rejects with reasons, time zones, end, order of rows."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest

from winback.exceptions import ConfigError, RejectedRowsWarning
from winback.io import ReadResult, read_orders


def _orders(**overrides: list[object]) -> pd.DataFrame:
    base: dict[str, list[object]] = {
        "customer_id": [1, 2, 3],
        "order_ts": ["2021-01-01", "2021-01-02", "2021-01-03"],
        "amount": [10.0, -5.0, 7.5],
    }
    return pd.DataFrame({**base, **overrides})


def _read_rejecting(frame: pd.DataFrame, **kwargs: object) -> ReadResult:
    with pytest.warns(RejectedRowsWarning):
        return read_orders(frame, **kwargs)  # type: ignore[arg-type]


def test_clean_typed_frame_keeps_every_row_without_warning() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": np.array([3, 1, 2], dtype="int64"),
            "order_ts": pd.to_datetime(
                ["2021-03-01 10:00", "2021-01-01 00:00", "2021-02-01 00:00"]
            ),
            "amount": [1.5, -2.0, 3.0],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = read_orders(frame)
    assert isinstance(result, ReadResult)
    data, rejects = result
    assert data.dtypes.astype(str).to_dict() == {
        "customer_id": "int64",
        "order_ts": "datetime64[ns]",
        "amount": "float64",
    }
    assert data["customer_id"].tolist() == [3, 1, 2]  # input order, not sorted
    assert data["amount"].tolist() == [1.5, -2.0, 3.0]  # refunds stay negative
    assert isinstance(data.index, pd.RangeIndex)
    assert list(rejects.columns) == ["row", "reason", "customer_id", "order_ts", "amount"]
    assert len(rejects) == 0
    assert rejects["row"].dtype == "int64"


def test_optional_columns_get_contract_dtypes() -> None:
    frame = _orders(
        order_id=[101, 102, 103],
        quantity=["2", "1", None],
        discount=[0, 1.5, None],
        category=["books", None, " "],
        channel=["web", "store", "web"],
        Notes=["a", "b", "c"],
    )
    data = read_orders(frame).data
    assert data.dtypes.astype(str).to_dict() == {
        "customer_id": "int64",
        "order_ts": "datetime64[ns]",
        "amount": "float64",
        "order_id": "str",
        "quantity": "float64",
        "discount": "float64",
        "category": "str",
        "channel": "str",
    }
    assert data["order_id"].tolist() == ["101", "102", "103"]
    assert data["quantity"].tolist()[:2] == [2.0, 1.0]
    assert np.isnan(data["quantity"].iloc[2])
    assert data["category"].isna().tolist() == [False, True, True]  # blank text is missing


def test_each_bad_row_is_set_aside_with_its_reason_and_raw_values() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["1", "", "3", "4", "5", "6", "7", "8"],
            "order_ts": [
                "2021-01-01",
                "2021-01-02",
                "2021-13-45",
                "2021-01-04",
                "2021-01-05",
                "2021-01-06",
                "2021-01-07",
                None,
            ],
            "amount": ["10", "20", "30", "abc", "50", None, "70", "80"],
            "order_id": ["A", "B", "C", "D", "E", "F", "G", "H"],
            "discount": ["0", "0", "0", "0", "0", "0", "-1", "0"],
        }
    )
    with pytest.warns(RejectedRowsWarning) as record:
        data, rejects = read_orders(frame)
    assert data["customer_id"].tolist() == [1, 5]
    assert rejects["row"].tolist() == [2, 3, 4, 6, 7, 8]
    assert rejects["reason"].tolist() == [
        "null customer_id",
        "unparseable order_ts: '2021-13-45'",
        "unparseable amount: 'abc'",
        "null amount",
        "negative discount: -1.0",
        "null order_ts",
    ]
    # the raw values of each rejected row follow row and reason
    assert rejects.loc[1, ["customer_id", "order_ts", "amount"]].tolist() == [
        "3",
        "2021-13-45",
        "30",
    ]
    assert rejects.columns.tolist() == ["row", "reason", *frame.columns]
    message = str(record[0].message)
    assert "<DataFrame>: set aside 6 of 8 rows of orders into the rejects frame (kept 2)" in message
    for count_and_kind in (
        "1 negative discount",
        "1 null amount",
        "1 null customer_id",
        "1 null order_ts",
        "1 unparseable amount",
        "1 unparseable order_ts",
    ):
        assert count_and_kind in message


def test_rejected_rows_warning_counts_reasons_and_points_at_the_caller() -> None:
    frame = _orders(customer_id=[None, None, 3], amount=[1.0, "x", 2.0])
    with pytest.warns(RejectedRowsWarning) as record:
        read_orders(frame, name="shop.csv")
    assert str(record[0].message) == (
        "shop.csv: set aside 2 of 3 rows of orders into the rejects frame (kept 1). "
        "Problems (a row can have several): 2 null customer_id, 1 unparseable amount."
    )
    assert record[0].filename == __file__


def test_a_row_with_several_problems_lists_them_in_check_order() -> None:
    frame = _orders(customer_id=[None, 2, 3], order_ts=["soon", "2021-01-02", "2021-01-03"])
    rejects = _read_rejecting(frame).rejects
    assert rejects["reason"].tolist() == ["null customer_id; unparseable order_ts: 'soon'"]


def test_an_exact_repeat_of_a_line_is_a_duplicate_judged_on_parsed_values() -> None:
    # " 2" and "2.0" are the id 2 and "2021-01-01" the same day as "2021-01-01T00:00Z"
    frame = _orders(
        customer_id=[None, " 2", "2.0", "2"],
        order_ts=["2021-01-01", "2021-01-01", "2021-01-01T00:00Z", "2021-01-01"],
        amount=[1.0, 1.0, 1.0, 2.0],
        order_id=["A", "A", "A", "A"],
    )
    data, rejects = _read_rejecting(frame)
    assert rejects["reason"].tolist() == ["null customer_id", "duplicate row: first seen in row 2"]
    assert data[["customer_id", "amount"]].values.tolist() == [[2, 3.0]]  # rows 2 and 4: one order


def test_null_order_ids_are_not_duplicates() -> None:
    data = read_orders(_orders(order_id=[None, "", "B"])).data
    assert data["order_id"].isna().tolist() == [True, True, False]


def test_long_raw_values_are_cut_in_reasons() -> None:
    junk = "x" * 80
    rejects = _read_rejecting(_orders(amount=[junk, 1.0, 2.0])).rejects
    assert rejects["reason"].iloc[0] == f"unparseable amount: '{'x' * 50}...'"


def test_infinite_amounts_are_unparseable() -> None:
    rejects = _read_rejecting(_orders(amount=[np.inf, 1.0, 2.0])).rejects
    assert rejects["reason"].tolist() == ["unparseable amount: 'inf'"]


def test_rows_after_the_stated_end_day_are_rejected_and_that_day_is_kept() -> None:
    frame = _orders(order_ts=["2021-01-31 23:59:59", "2021-02-01 00:00:00", "2021-01-01"])
    data, rejects = _read_rejecting(frame, end="2021-01-31")
    assert data["customer_id"].tolist() == [1, 3]
    assert rejects["reason"].tolist() == ["order_ts after end: 2021-02-01 00:00:00 > 2021-01-31"]


@pytest.mark.parametrize(
    "end",
    [
        dt.date(2021, 1, 31),
        pd.Timestamp("2021-01-31"),
        pd.Timestamp("2021-01-31", tz="UTC"),
        "2021-01-31",
    ],
)
def test_end_accepts_dates_timestamps_and_text(end: object) -> None:
    frame = _orders(order_ts=["2021-01-31", "2021-02-01", "2021-01-01"])
    assert len(_read_rejecting(frame, end=end).data) == 2


@pytest.mark.parametrize(
    ("end", "message"),
    [
        ("2021-01-31 12:00", r"end: expected a calendar date \(UTC day\)"),
        ("soon", r"end must be a calendar date written as YYYY-MM-DD"),
        ("31/01/2021", r"end must be a calendar date written as YYYY-MM-DD"),
        ("2021", r"end must be a calendar date written as YYYY-MM-DD"),
        (5, r"end must be a calendar date such as '2024-03-31' \(text, date or Timestamp\)"),
        (pd.NaT, r"end must be a calendar date such as '2024-03-31', got NaT"),
    ],
)
def test_end_must_be_a_calendar_date(end: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        read_orders(_orders(), end=end)  # type: ignore[arg-type]


def test_mixed_offsets_and_naive_values_follow_the_utc_rule() -> None:
    frame = _orders(
        customer_id=[1, 2, 3, 4],
        order_ts=[
            "2021-01-01T10:00+02:00",  # aware: converted to UTC
            "2021-01-01T08:00Z",
            "2021-01-01 08:00",  # naive: taken as UTC
            "2021-01-01T03:00-05:00",
        ],
        amount=[1.0, 2.0, 3.0, 4.0],
    )
    data = read_orders(frame).data
    assert data["order_ts"].dtype == "datetime64[ns]"
    assert data["order_ts"].tolist() == [pd.Timestamp("2021-01-01 08:00")] * 4


def test_tz_aware_datetime_columns_are_converted_to_naive_utc() -> None:
    stamps = pd.to_datetime(["2021-06-01 12:00", "2021-12-01 12:00"]).tz_localize("Europe/Paris")
    frame = pd.DataFrame({"customer_id": [1, 2], "order_ts": stamps, "amount": [1.0, 2.0]})
    data = read_orders(frame).data
    assert data["order_ts"].tolist() == [
        pd.Timestamp("2021-06-01 10:00"),  # CEST = UTC+2
        pd.Timestamp("2021-12-01 11:00"),  # CET = UTC+1
    ]


def test_python_dates_and_datetimes_in_an_object_column() -> None:
    frame = _orders(
        order_ts=[
            dt.date(2021, 1, 1),
            dt.datetime(2021, 1, 2, 5, 30),
            pd.Timestamp("2021-01-03 10:00", tz="Asia/Tokyo"),
        ]
    )
    data = read_orders(frame).data
    assert data["order_ts"].tolist() == [
        pd.Timestamp("2021-01-01"),
        pd.Timestamp("2021-01-02 05:30"),
        pd.Timestamp("2021-01-03 01:00"),
    ]


def test_non_iso_text_uses_one_guessed_format() -> None:
    frame = _orders(order_ts=["12/1/2009 07:45", "12/2/2009 08:00", "1/13/2010 09:00"])
    data = read_orders(frame).data
    assert data["order_ts"].tolist() == [
        pd.Timestamp("2009-12-01 07:45"),
        pd.Timestamp("2009-12-02 08:00"),
        pd.Timestamp("2010-01-13 09:00"),
    ]


def test_day_first_text_is_read_day_first_when_that_parses_more_values() -> None:
    frame = _orders(order_ts=["01/02/2021", "13/02/2021", "25/12/2021"])
    data = read_orders(frame).data
    assert data["order_ts"].tolist() == [
        pd.Timestamp("2021-02-01"),
        pd.Timestamp("2021-02-13"),
        pd.Timestamp("2021-12-25"),
    ]


def test_integer_dates_like_cdnow_and_out_of_range_dates() -> None:
    frame = _orders(order_ts=[19970101, 19970102, "2500-01-01"])
    data, rejects = _read_rejecting(frame)
    assert data["order_ts"].tolist() == [pd.Timestamp("1997-01-01"), pd.Timestamp("1997-01-02")]
    assert rejects["reason"].tolist() == ["unparseable order_ts: '2500-01-01'"]


@pytest.mark.parametrize(
    ("ids", "dtype", "expected"),
    [
        ([13085.0, 13085.0, 16321.0], "int64", [13085, 13085, 16321]),  # float from NaN upcast
        (["13085", "13085.0", "+16321"], "int64", [13085, 13085, 16321]),  # integer text
        (["00123", "123", "7"], "str", ["00123", "123", "7"]),  # leading zeros are kept
        (["A1", "B2", 3], "str", ["A1", "B2", "3"]),
        (pd.array([1, 2, 3], dtype="Int64"), "int64", [1, 2, 3]),
        (np.array([1, 2, 2**63 + 1], dtype="uint64"), "str", ["1", "2", str(2**63 + 1)]),
    ],
)
def test_customer_ids_are_int64_when_integer_else_str(
    ids: list[object], dtype: str, expected: list[object]
) -> None:
    data = read_orders(_orders(customer_id=ids)).data
    assert str(data["customer_id"].dtype) == dtype
    assert data["customer_id"].tolist() == expected


def test_id_text_is_stripped_and_null_tokens_are_null() -> None:
    frame = _orders(customer_id=[" c1 ", "NA", "null"])
    data, rejects = _read_rejecting(frame)
    assert data["customer_id"].tolist() == ["c1"]
    assert rejects["reason"].tolist() == ["null customer_id", "null customer_id"]


def test_index_of_the_input_frame_is_ignored() -> None:
    frame = _orders(customer_id=[None, 2, 3]).set_axis([10, 20, 30])
    data, rejects = _read_rejecting(frame)
    assert data.index.tolist() == [0, 1]
    assert rejects["row"].tolist() == [1]


def test_input_columns_named_row_or_reason_are_renamed_in_rejects() -> None:
    frame = _orders(customer_id=[None, 2, 3], row=["r1", "r2", "r3"], reason=["a", "b", "c"])
    rejects = _read_rejecting(frame).rejects
    assert rejects.columns.tolist()[:2] == ["row", "reason"]
    assert rejects[["row_source", "reason_source"]].iloc[0].tolist() == ["r1", "a"]


def test_the_input_frame_is_not_modified() -> None:
    frame = _orders(customer_id=[None, "2", "3"], order_ts=[" 2021-01-01", "x", "2021-01-03"])
    before = frame.copy()
    _read_rejecting(frame)
    pd.testing.assert_frame_equal(frame, before)
