"""Line-item exports (UCI Online Retail II shape): lines become orders, cancellations are no
purchases, exact duplicate lines are rejected, and every input row is accounted for."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from winback.exceptions import RejectedRowsWarning
from winback.features import build_features, build_labels, rfm_summary
from winback.io import purchase_mask, read_orders

UCI = {
    "customer_id": "Customer ID",
    "order_ts": "InvoiceDate",
    "order_id": "Invoice",
    "price": "Price",
    "quantity": "Quantity",
}
HEADER = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
# 15 lines as the UCI file writes them: invoices of several lines, a "C" cancellation with
# negative quantities, lines without a customer id (empty and the text "NaN"), an exact
# duplicate line, and a customer (14000) whose only invoice is a cancellation.
LINES = (
    "489434,85048,CHRISTMAS GLASS BALL 20 LIGHT,12,12/1/2009 07:45,6.95,13085.0,United Kingdom\n"
    "489434,79323P,PINK CHERRY LIGHTS,12,12/1/2009 07:45,6.75,13085.0,United Kingdom\n"
    '489434,22041,RECORD FRAME 7" SINGLE SIZE,48,12/1/2009 07:46,2.10,13085.0,United Kingdom\n'
    "489435,22350,CAT BOWL,12,12/1/2009 07:46,2.55,13085.0,United Kingdom\n"
    "489436,48173C,DOOR MAT BLACK FLOCK,10,12/1/2009 09:06,5.95,13078.0,United Kingdom\n"
    "489436,21755,LOVE BUILDING BLOCK WORD,18,12/1/2009 09:06,5.45,13078.0,United Kingdom\n"
    "489436,21755,LOVE BUILDING BLOCK WORD,18,12/1/2009 09:06,5.45,13078.0,United Kingdom\n"
    "C489449,22087,PAPER BUNTING WHITE LACE,-12,12/1/2009 10:33,2.95,13078.0,United Kingdom\n"
    "C489449,85206A,CREAM FELT EASTER EGG BASKET,-6,12/1/2009 10:33,1.65,13078.0,United Kingdom\n"
    "489437,22143,CHRISTMAS CRAFT HEART DECORATIONS,6,12/13/2009 09:08,2.10,,United Kingdom\n"
    "489438,21329,DINOSAURS WRITING SET,28,12/13/2009 09:24,0.98,NaN,United Kingdom\n"
    "C489450,21871,SAVE THE PLANET MUG,-2,12/13/2009 10:00,1.25,14000.0,France\n"
    "489439,POST,POSTAGE,3,12/14/2009 09:28,18.00,12682.0,France\n"
    "489439,85116,BLACK CANDELABRA T-LIGHT HOLDER,12,12/14/2009 09:28,2.10,12682.0,France\n"
    "489440,22195,LARGE HEART MEASURING SPOONS,24,12/15/2009 09:30,1.65,13085.0,United Kingdom\n"
)


@pytest.fixture
def uci_csv(tmp_path: Path) -> Path:
    path = tmp_path / "online_retail_II.csv"
    path.write_text(HEADER + LINES, encoding="utf-8")
    return path


def _read(source: object, **kwargs: object):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedRowsWarning)
        return read_orders(source, columns=UCI, **kwargs)  # type: ignore[arg-type]


def test_lines_become_orders_with_summed_amounts_and_the_earliest_time(uci_csv: Path) -> None:
    result = _read(uci_csv)
    data = result.data.set_index("order_id")
    assert data.index.tolist() == [
        "489434",
        "489435",
        "489436",
        "C489449",
        "C489450",
        "489439",
        "489440",
    ]
    # 12 x 6.95 + 12 x 6.75 + 48 x 2.10, the earliest line at 07:45
    assert data.loc["489434", "amount"] == pytest.approx(12 * 6.95 + 12 * 6.75 + 48 * 2.10)
    assert data.loc["489434", "quantity"] == 72
    assert data.loc["489434", "order_ts"] == pd.Timestamp("2009-12-01 07:45")
    assert data.loc["489436", "amount"] == pytest.approx(10 * 5.95 + 18 * 5.45)  # one 18 x 5.45
    assert data.loc["C489449", "amount"] == pytest.approx(-(12 * 2.95 + 6 * 1.65))
    assert data.loc["C489449", "quantity"] == -18
    assert data.loc["489439", "customer_id"] == 12682
    assert str(result.data["customer_id"].dtype) == "int64"


def test_every_row_is_a_kept_line_or_a_reject_with_its_reason(uci_csv: Path) -> None:
    result = _read(uci_csv)
    assert result.rows == 15
    assert result.line_items is not None
    assert (result.line_items.lines, result.line_items.orders) == (12, 7)
    assert result.line_items.lines + len(result.rejects) == result.rows
    assert result.rejects[["row", "reason"]].values.tolist() == [
        [7, "duplicate row: first seen in row 6"],
        [10, "null customer_id"],
        [11, "null customer_id"],  # the text NaN is no customer
    ]
    assert result.rejected_by_reason == {"null customer_id": 2, "duplicate row": 1}
    assert result.rejects["Description"].iloc[0] == "LOVE BUILDING BLOCK WORD"


def test_the_reader_says_what_it_did(uci_csv: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="winback.io._read"):
        result = _read(uci_csv)
    assert str(result.line_items) == "aggregated 12 lines into 7 orders (2 cancellations)"
    assert f"{uci_csv}: aggregated 12 lines into 7 orders (2 cancellations)" in caplog.messages


def test_csv_parquet_and_frame_give_the_same_orders(uci_csv: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(uci_csv, dtype={"Invoice": str})
    parquet = tmp_path / "lines.parquet"
    frame.to_parquet(parquet)
    results = [_read(source) for source in (uci_csv, parquet, frame)]
    for other in results[1:]:
        pd.testing.assert_frame_equal(results[0].data, other.data)
        assert results[0].rejects["reason"].tolist() == other.rejects["reason"].tolist()
        assert str(results[0].line_items) == str(other.line_items)


def test_cancellations_are_never_purchases_in_features_labels_or_rfm(uci_csv: Path) -> None:
    orders = _read(uci_csv).data
    assert purchase_mask(orders).tolist() == [True, True, True, False, False, True, True]
    features = build_features(orders, cutoff="2009-12-31")
    # 14000 has only a cancellation: not a customer who bought; 13078's cancellation is money
    assert features.index.tolist() == [12682, 13078, 13085]
    assert features.loc[13078, "n_orders"] == 1
    assert features.loc[13078, "frequency"] == 0
    assert features.loc[13078, "days_since_last_order"] == 30  # Dec 1, not the 10:33 refund
    assert features.loc[13078, "monetary_total"] == pytest.approx(
        10 * 5.95 + 18 * 5.45 - (12 * 2.95 + 6 * 1.65)
    )
    assert features.loc[13078, "refund_share"] == 0.5
    assert features.loc[13085, "n_orders"] == 3  # 489434, 489435, 489440
    labels = build_labels(orders, cutoff="2009-12-01", horizons_days=[14])
    assert labels.index.tolist() == [13078, 13085]
    assert labels.loc[13078, "purchased_within_14d"] == 0  # nothing bought after Dec 1
    assert labels.loc[13085, "purchased_within_14d"] == 1
    assert rfm_summary(orders, cutoff="2009-12-31").loc[13078, "frequency"] == 0


def test_an_order_id_shared_by_two_customers_rejects_its_lines() -> None:
    frame = pd.DataFrame(
        {
            "Invoice": ["A", "A", "B"],
            "Customer ID": [1, 2, 1],
            "InvoiceDate": ["2021-01-01", "2021-01-01", "2021-01-02"],
            "Price": [1.0, 2.0, 3.0],
            "Quantity": [1, 1, 1],
        }
    )
    result = _read(frame)
    assert result.data["order_id"].tolist() == ["B"]
    assert result.rejects["reason"].tolist() == ["order_id of several customers: order_id 'A'"] * 2


def test_orders_keep_the_input_order_of_their_first_line() -> None:
    frame = pd.DataFrame(
        {
            "Invoice": ["B", None, "A", "B", None, "A"],
            "Customer ID": [1, 2, 3, 1, 4, 3],
            "InvoiceDate": ["2021-01-0" + d for d in "123456"],
            "Price": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "Quantity": [1, 1, 1, 1, 1, 1],
        }
    )
    data = _read(frame).data
    assert data["customer_id"].tolist() == [1, 2, 3, 4]  # B, line 2, A, line 5
    assert data["amount"].tolist() == [5.0, 2.0, 9.0, 5.0]


def test_a_free_order_is_a_purchase_and_lines_that_cancel_out_are_not() -> None:
    orders = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "order_ts": pd.to_datetime(["2021-01-01"] * 3),
            "amount": [0.0, 0.0, 5.0],
            "quantity": [1.0, 0.0, 1.0],
        }
    )
    assert purchase_mask(orders).tolist() == [True, False, True]
    assert not purchase_mask(orders.drop(columns="quantity"))[0]


def test_an_unmapped_invoice_column_in_a_line_item_file_is_pointed_out(
    uci_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    columns = {k: v for k, v in UCI.items() if k != "order_id"}
    with caplog.at_level(logging.WARNING), warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedRowsWarning)
        read_orders(uci_csv, columns=columns)
    assert any(
        "every line counts as an order" in m and "--columns order_id=Invoice" in m
        for m in caplog.messages
    )


_LINE = st.tuples(st.integers(1, 20), st.integers(-3, 9).filter(bool))  # price, quantity


@settings(max_examples=60, deadline=None)
@given(
    invoices=st.lists(st.lists(_LINE, min_size=1, max_size=4), min_size=1, max_size=8),
    repeats=st.lists(st.integers(0, 40), max_size=5),
    seed=st.integers(0, 1000),
)
def test_random_line_items_aggregate_to_their_invoices(
    invoices: list[list[tuple[int, int]]], repeats: list[int], seed: int
) -> None:
    rows = [
        {
            "Invoice": f"{'C' if sum(p * q for p, q in lines) <= 0 else ''}{number}",
            "StockCode": f"S{number}-{line}",
            "Customer ID": number % 3 + 1,
            "InvoiceDate": f"2021-01-{number % 28 + 1:02d} {line:02d}:00",
            "Price": price,
            "Quantity": quantity,
        }
        for number, lines in enumerate(invoices)
        for line, (price, quantity) in enumerate(lines)
    ]
    lines = pd.DataFrame(rows)
    copies = lines.iloc[[r % len(lines) for r in repeats]]  # exact duplicates of some lines
    frame = pd.concat([lines, copies]).sample(frac=1, random_state=seed).reset_index(drop=True)
    result = _read(frame)
    assert result.line_items is not None
    assert result.line_items.lines + len(result.rejects) == len(frame) == result.rows
    assert len(result.rejects) == len(copies)
    assert result.rejects["reason"].str.startswith("duplicate row: first seen in row ").all()
    expected = lines.assign(amount=lines["Price"] * lines["Quantity"]).groupby("Invoice")
    data = result.data.set_index("order_id").sort_index()
    np.testing.assert_allclose(data["amount"], expected["amount"].sum().sort_index())
    np.testing.assert_allclose(data["quantity"], expected["Quantity"].sum().sort_index())
    first = pd.to_datetime(expected["InvoiceDate"].min().sort_index())
    assert data["order_ts"].tolist() == first.tolist()
    assert result.line_items.cancellations == int((~purchase_mask(result.data)).sum())


def test_an_order_id_column_without_values_reads_every_line_as_an_order() -> None:
    frame = pd.DataFrame(
        {
            "Invoice": [None, "", None],
            "Customer ID": [1, 1, 2],
            "InvoiceDate": ["2021-01-01"] * 3,
            "Price": [1.0, 1.0, 2.0],
            "Quantity": [1, 1, 1],
        }
    )
    result = _read(frame)
    # two identical lines without an order id: the second is a duplicate row
    assert result.rejects["reason"].tolist() == ["duplicate row: first seen in row 1"]
    assert result.data["amount"].tolist() == [1.0, 2.0]
