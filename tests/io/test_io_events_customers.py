"""read_events and read_customers: contract columns, defaults and their row rejects."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from winback.exceptions import RejectedRowsWarning
from winback.io import read_customers, read_events


def test_events_keep_any_event_type_and_fill_value_with_nan() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": [5, 6],
            "event_ts": ["2021-01-01T23:30-01:00", "2021-01-02"],
            "event_type": ["email_open", "a brand-new kind"],
        }
    )
    data, rejects = read_events(frame)
    assert data.dtypes.astype(str).to_dict() == {
        "customer_id": "int64",
        "event_ts": "datetime64[ns]",
        "event_type": "str",
        "value": "float64",
    }
    assert data["event_ts"].tolist() == [
        pd.Timestamp("2021-01-02 00:30"),
        pd.Timestamp("2021-01-02"),
    ]
    assert data["event_type"].tolist() == ["email_open", "a brand-new kind"]
    assert np.isnan(data["value"]).all()
    assert len(rejects) == 0


def test_event_rows_with_problems_are_rejected() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["u1", "u2", "u3", None, "u5"],
            "event_ts": ["2021-01-01", "2021-01-02", "2021-02-05", "2021-01-04", "2021-01-05"],
            "event_type": ["nps", "", "review", "nps", "nps"],
            "value": ["9", "1", "4", "10", "ten"],
        }
    )
    with pytest.warns(RejectedRowsWarning, match=r"set aside 4 of 5 rows of events"):
        data, rejects = read_events(frame, end="2021-01-31")
    assert data.to_dict("list") == {
        "customer_id": ["u1"],
        "event_ts": [pd.Timestamp("2021-01-01")],
        "event_type": ["nps"],
        "value": [9.0],
    }
    assert rejects["reason"].tolist() == [
        "null event_type",
        "event_ts after end: 2021-02-05 00:00:00 > 2021-01-31",
        "null customer_id",
        "unparseable value: 'ten'",
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            ["yes", "No", "TRUE", "false", "1", "0", "y", "N", "t", "F"],
            [True, False, True, False, True, False, True, False, True, False],
        ),
        (
            [1, 0, 1.0, 0.0, None, 1, 0, 1, 0, 1],
            [True, False, True, False, False, True, False, True, False, True],
        ),
        ([True, False] * 5, [True, False] * 5),
    ],
)
def test_marketing_opt_in_parses_bools_numbers_and_words(
    raw: list[object], expected: list[bool]
) -> None:
    frame = pd.DataFrame({"customer_id": range(10), "marketing_opt_in": raw})
    data = read_customers(frame).data
    assert data["marketing_opt_in"].dtype == "bool"
    assert data["marketing_opt_in"].tolist() == expected


def test_missing_opt_in_column_means_not_opted_in_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    frame = pd.DataFrame({"customer_id": [1, 2], "email": ["a@x.org", "b@x.org"]})
    with caplog.at_level(logging.WARNING, logger="winback.io._read"):
        data = read_customers(frame, name="crm.csv").data
    assert data["marketing_opt_in"].tolist() == [False, False]
    assert data.columns.tolist() == ["customer_id", "email", "marketing_opt_in"]
    assert "crm.csv: no marketing_opt_in column; every customer is treated as not opted in" in (
        caplog.text
    )
    assert "`--customer-columns marketing_opt_in=<column>`" in caplog.text


def test_customers_reject_duplicates_bad_flags_and_late_signups() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a", "c", "d", "e"],
            "email": ["a@x.org", None, "a2@x.org", "c@x.org", "d@x.org", "e@x.org"],
            "signup_ts": [
                "2020-01-01",
                None,
                "2020-02-01",
                "2021-06-01",
                "2020-01-01",
                "2020-01-01",
            ],
            "marketing_opt_in": ["yes", "no", "yes", "no", "maybe", "1"],
            "phone": ["+44 20 7946 0000", None, None, None, None, None],
        }
    )
    with pytest.warns(RejectedRowsWarning):
        data, rejects = read_customers(frame, end="2020-12-31")
    expected = pd.DataFrame(
        {
            "customer_id": pd.Series(["a", "b", "e"], dtype="str"),
            "email": pd.Series(["a@x.org", None, "e@x.org"], dtype="str"),
            "phone": pd.Series(["+44 20 7946 0000", None, None], dtype="str"),
            "signup_ts": pd.Series(["2020-01-01", None, "2020-01-01"], dtype="datetime64[ns]"),
            "marketing_opt_in": [True, False, True],
        }
    )
    pd.testing.assert_frame_equal(data, expected)
    assert rejects[["row", "reason"]].to_dict("list") == {
        "row": [3, 4, 5],
        "reason": [
            "duplicate customer_id: first seen in row 1",
            "signup_ts after end: 2021-06-01 00:00:00 > 2020-12-31",
            "unparseable marketing_opt_in: 'maybe'",
        ],
    }


def test_customer_contact_columns_from_numbers_are_text() -> None:
    frame = pd.DataFrame({"customer_id": [1, 2], "phone": [4420794600.0, np.nan]})
    data = read_customers(frame).data
    assert data["phone"].tolist()[0] == "4420794600"
    assert data["phone"].isna().tolist() == [False, True]
