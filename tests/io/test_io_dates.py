"""Dates: day-first formats are read, a column that reads both ways asks for its format, and
the format can be given in Python, on the command line and in the training config."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from winback.dates import check_date_format, parse_date
from winback.exceptions import ConfigError, DataError, RejectedRowsWarning
from winback.io import read_customers, read_events, read_orders


def _orders(stamps: list[str]) -> pd.DataFrame:
    n = len(stamps)
    return pd.DataFrame({"customer_id": range(1, n + 1), "order_ts": stamps, "amount": [1.0] * n})


@pytest.mark.parametrize(
    ("stamps", "expected"),
    [
        (["31.12.2023", "01.02.2024"], ["2023-12-31", "2024-02-01"]),
        (["31/12/2023", "05/01/2024"], ["2023-12-31", "2024-01-05"]),
        (["31-12-2023 14:30", "02-01-2024 09:05"], ["2023-12-31 14:30", "2024-01-02 09:05"]),
        (["12/31/2023", "01/05/2024"], ["2023-12-31", "2024-01-05"]),  # month first
        (["2023/12/31", "2024/01/05"], ["2023-12-31", "2024-01-05"]),  # year first is Y/m/d
    ],
)
def test_day_first_and_other_unambiguous_formats_are_read(
    stamps: list[str], expected: list[str]
) -> None:
    data = read_orders(_orders(stamps)).data
    assert data["order_ts"].tolist() == [pd.Timestamp(e) for e in expected]


def test_a_column_that_reads_both_ways_asks_for_its_format() -> None:
    with pytest.raises(DataError) as info:
        read_orders(_orders(["06/07/1998", "01/02/1998", "12/11/1998"]), name="shop.csv")
    message = str(info.value)
    assert "Cannot use 'shop.csv' as orders (1 problem)" in message
    assert "column 'order_ts': the dates are ambiguous" in message
    assert "'06/07/1998' is 7 June 1998 ('%m/%d/%Y') or 6 July 1998 ('%d/%m/%Y')" in message
    assert "date_format='%d/%m/%Y' in Python" in message
    assert "--date-format '%d/%m/%Y' on the command line" in message
    assert "data.date_format: '%d/%m/%Y' in the training config" in message


def test_the_given_format_reads_the_column_and_iso_values_still_read() -> None:
    frame = _orders(["06/07/1998", "01/02/1998", "1998-03-04", "13/13/1998"])
    with pytest.warns(RejectedRowsWarning, match="1 unparseable order_ts"):
        data = read_orders(frame, date_format="%d/%m/%Y").data
    assert data["order_ts"].tolist() == [
        pd.Timestamp("1998-07-06"),
        pd.Timestamp("1998-02-01"),
        pd.Timestamp("1998-03-04"),
    ]


def test_events_and_customers_take_the_format_too() -> None:
    events = pd.DataFrame(
        {"customer_id": [1, 2], "event_ts": ["01.02.2024", "03.04.2024"], "event_type": "nps"}
    )
    assert read_events(events, date_format="%d.%m.%Y").data["event_ts"].dt.month.tolist() == [
        2,
        4,
    ]
    customers = pd.DataFrame({"customer_id": [1, 2], "signup_ts": ["01/02/2024", "03/04/2024"]})
    with pytest.raises(DataError, match="column 'signup_ts': the dates are ambiguous"):
        read_customers(customers)
    signup = read_customers(customers, date_format="%m/%d/%Y").data["signup_ts"]
    assert signup.tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-03-04")]


def test_a_csv_file_with_day_first_dates(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "customer_id,order_ts,amount\n1,24.12.2023,5\n2,06.01.2024,7\n", encoding="utf-8"
    )
    data = read_orders(path).data
    assert data["order_ts"].tolist() == [pd.Timestamp("2023-12-24"), pd.Timestamp("2024-01-06")]


@pytest.mark.parametrize("fmt", ["dd.mm.yyyy", "", "%Q/%d", 5])
def test_a_date_format_that_is_not_strftime_is_a_config_error(fmt: object) -> None:
    with pytest.raises(ConfigError, match="date_format"):
        read_orders(_orders(["2024-01-01"]), date_format=fmt)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        check_date_format(fmt)


_DAYS = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 12, 31))
_FORMATS = st.sampled_from(["%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y %H:%M", "%Y-%m-%d"])


@settings(max_examples=80, deadline=None)
@given(days=st.lists(_DAYS, min_size=1, max_size=15, unique=True), fmt=_FORMATS)
def test_dates_written_in_any_format_read_back_exactly_or_ask_for_it(
    days: list[dt.date], fmt: str
) -> None:
    stamps = [dt.datetime.combine(d, dt.time(9, 30) if "%H" in fmt else dt.time()) for d in days]
    text = [s.strftime(fmt) for s in stamps]
    expected = [pd.Timestamp(s) for s in stamps]
    # with the format given, always exact
    assert read_orders(_orders(text), date_format=fmt).data["order_ts"].tolist() == expected
    # without it: exact, or -- when no day is above 12 and some day differs from its month,
    # so the text reads both ways -- a DataError asking for the format
    both_ways = (
        not fmt.startswith("%Y")  # year first is always year-month-day
        and all(d.day <= 12 for d in days)
        and any(d.day != d.month for d in days)
    )
    if both_ways:
        with pytest.raises(DataError, match="the dates are ambiguous"):
            read_orders(_orders(text))
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RejectedRowsWarning)
            assert read_orders(_orders(text)).data["order_ts"].tolist() == expected


@pytest.mark.parametrize("text", ["1998", "06/07/1998", "20240331", "yesterday", "2024-13-01"])
def test_a_text_date_argument_must_be_iso(text: str) -> None:
    with pytest.raises(ConfigError, match="must be a calendar date written as YYYY-MM-DD"):
        parse_date(text, name="as_of")


def test_a_text_date_argument_in_the_given_format() -> None:
    assert parse_date("06/07/1998", name="as_of", date_format="%d/%m/%Y") == pd.Timestamp(
        "1998-07-06"
    )
    assert parse_date("1998-07-06", name="as_of", date_format="%d/%m/%Y") == pd.Timestamp(
        "1998-07-06"
    )
    assert parse_date("9999-12-31", name="as_of").year == 9999  # refused later, with the data
