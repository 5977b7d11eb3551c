"""File- and column-level problems: one DataError naming source, column, rows, values and fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from winback.exceptions import ConfigError, DataError, RejectedRowsWarning
from winback.io import read_customers, read_events, read_orders

UCI_HEADER = "Invoice,StockCode,Quantity,InvoiceDate,Price,Customer ID,Country\n"
UCI_ROW = "489434,85048,12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom\n"


def _message(call: Callable[[], object]) -> str:
    with pytest.raises(DataError) as caught:
        call()
    return str(caught.value)


def test_missing_columns_list_the_columns_found_and_suggest_the_mapping(
    write_file: Callable[..., Path],
) -> None:
    path = write_file("online_retail_II.csv", UCI_HEADER + UCI_ROW)
    message = _message(lambda: read_orders(path))
    assert message.startswith(f"Cannot use '{path}' as orders (3 problems). Columns found: ")
    assert "'Invoice', 'StockCode', 'Quantity', 'InvoiceDate', 'Price', 'Customer ID', " in message
    assert (
        "- required column 'customer_id' is missing. Fix: map it, e.g. "
        "columns={'customer_id': 'Customer ID'} (CLI: --columns \"customer_id=Customer ID\")."
    ) in message
    assert "- required column 'order_ts' is missing. Fix: map it, e.g. columns={'order_ts': " in (
        message
    )
    assert (
        "- required column 'amount' is missing. Fix: compute amount = price x quantity by "
        "mapping columns={'price': 'Price', 'quantity': 'Quantity'}"
    ) in message
    assert message.endswith(
        "Fix all at once: columns={'customer_id': 'Customer ID', 'order_ts': 'InvoiceDate', "
        "'price': 'Price', 'quantity': 'Quantity'} (CLI: --columns "
        '"customer_id=Customer ID,order_ts=InvoiceDate,price=Price,quantity=Quantity").'
    )


def test_the_suggested_mapping_reads_the_file(write_file: Callable[..., Path]) -> None:
    path = write_file("online_retail_II.csv", UCI_HEADER + UCI_ROW)
    columns = {
        "customer_id": "Customer ID",
        "order_ts": "InvoiceDate",
        "price": "Price",
        "quantity": "Quantity",
    }
    data = read_orders(path, columns=columns).data
    assert data[["customer_id", "amount"]].iloc[0].tolist() == [13085, pytest.approx(83.4)]


def test_missing_column_without_a_likely_source_gets_a_placeholder() -> None:
    frame = pd.DataFrame({"customer_id": [1], "amount": [1.0], "foo": ["x"]})
    message = _message(lambda: read_orders(frame))
    assert "required column 'order_ts' is missing. Fix: map it, e.g. " in message
    assert "columns={'order_ts': '<your column>'}" in message


def test_a_mapped_column_that_is_absent_is_named_with_a_close_match() -> None:
    frame = pd.DataFrame({"Customer ID": [1], "order_ts": ["2021-01-01"], "amount": [1.0]})
    message = _message(lambda: read_orders(frame, columns={"customer_id": "Customer Id"}))
    assert (
        "- columns maps 'customer_id' to 'Customer Id', which is not a column of the source. "
        "Did you mean 'Customer ID'? Fix: correct the mapping"
    ) in message


def test_a_mostly_unparseable_date_column_is_a_column_problem() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7],
            "when": ["2021-01-01", "yesterday", "2021-13-45", "n/a", "soon", "x", "y"],
            "amount": [1.0] * 7,
        }
    )
    message = _message(lambda: read_orders(frame, columns={"order_ts": "when"}, name="shop"))
    assert message.startswith("Cannot use 'shop' as orders (1 problem).")
    assert (
        "- column 'order_ts' (source column 'when'): 5 of 6 non-null values (83%) are not "
        "dates, e.g. row 2: 'yesterday', row 3: '2021-13-45', row 5: 'soon', row 6: 'x', "
        "row 7: 'y'. When more than 50% of the non-null values do not parse the column is "
        "unusable (with 50% or fewer, those rows are set aside as rejects). Fix: check that "
        "'order_ts' is mapped to the right column, or write the values as ISO 8601"
    ) in message


def test_exactly_half_unparseable_dates_are_rejected_row_by_row() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "order_ts": ["2021-01-01", "x", "2021-01-03", "y"],
            "amount": [1.0] * 4,
        }
    )
    with pytest.warns(RejectedRowsWarning, match="2 unparseable order_ts"):
        data, rejects = read_orders(frame)
    assert data["customer_id"].tolist() == [1, 3]
    assert rejects["row"].tolist() == [2, 4]


def test_mostly_non_numeric_amounts_are_a_column_problem(write_file: Callable[..., Path]) -> None:
    path = write_file(
        "orders.csv",
        "customer_id,order_ts,amount\n1,2021-01-01,$10.00\n2,2021-01-02,12.5\n"
        '3,2021-01-03,"1,234.50"\n',
    )
    message = _message(lambda: read_orders(path))
    assert (
        f"Cannot use '{path}' as orders (1 problem). Columns found: 'customer_id', 'order_ts', "
        "'amount'.\n- column 'amount': 2 of 3 non-null values (67%) are not numbers, e.g. "
        "row 1: '$10.00', row 3: '1,234.50'."
    ) in message
    assert "no currency sign or thousands separator, e.g. 1234.5." in message


def test_a_required_column_without_values_is_a_column_problem() -> None:
    frame = pd.DataFrame(
        {"customer_id": [None, ""], "order_ts": ["2021-01-01"] * 2, "amount": [1.0, 2.0]}
    )
    message = _message(lambda: read_orders(frame))
    assert "- column 'customer_id' has no values: all 2 rows are empty." in message


def test_every_problem_is_listed_in_one_error() -> None:
    frame = pd.DataFrame({"customer_id": [1, 2], "order_ts": ["x", "y"], "total": [1.0, 2.0]})
    message = _message(lambda: read_orders(frame))
    assert "(2 problems)" in message
    assert "- required column 'amount' is missing." in message
    assert "- column 'order_ts': 2 of 2 non-null values (100%) are not dates" in message


def test_a_flag_column_that_is_mostly_not_flags_is_a_column_problem() -> None:
    frame = pd.DataFrame({"customer_id": [1, 2, 3], "marketing_opt_in": ["maybe", "yes", "?"]})
    message = _message(lambda: read_customers(frame))
    assert (
        "- column 'marketing_opt_in': 2 of 3 non-null values (67%) are not true/false flags, "
        "e.g. row 1: 'maybe', row 3: '?'."
    ) in message
    assert "write true/false, yes/no or 1/0." in message


def test_empty_file(write_file: Callable[..., Path]) -> None:
    path = write_file("orders.csv", "")
    assert _message(lambda: read_orders(path)) == (
        f"Cannot use '{path}': the file is empty (no header, no rows). "
        "Fix: pass the file that holds the data."
    )


def test_header_without_rows(write_file: Callable[..., Path]) -> None:
    path = write_file("events.csv", "customer_id,event_ts,event_type\n")
    assert _message(lambda: read_events(path)) == (
        f"Cannot use '{path}': it has no data rows (columns found: 'customer_id', 'event_ts', "
        "'event_type'). Fix: pass the file or frame that holds the data."
    )


def test_frame_without_rows_is_named_by_name() -> None:
    frame = pd.DataFrame({"customer_id": []})
    message = _message(lambda: read_customers(frame, name="crm export"))
    assert message.startswith("Cannot use 'crm export': it has no data rows")


def test_latin1_file_read_as_utf8_names_the_row_and_suggests_encoding(
    write_file: Callable[..., Path],
) -> None:
    content = "customer_id,order_ts,amount,category\n1,2021-01-01,5.0,Café\n2,2021-01-02,3.0,Thé\n"
    path = write_file("orders.csv", content, encoding="latin-1")
    assert _message(lambda: read_orders(path)) == (
        f"Cannot read '{path}': its bytes are not valid utf-8 text, e.g. "
        "row 1: '1,2021-01-01,5.0,Caf\\xe9', row 2: '2,2021-01-02,3.0,Th\\xe9'. "
        "Fix: pass the file's encoding, e.g. encoding='cp1252' (Excel on Windows) or "
        "encoding='latin-1'."
    )
    data = read_orders(path, encoding="latin-1").data
    assert data["category"].tolist() == ["Café", "Thé"]


def test_unknown_encoding_is_a_config_error(write_file: Callable[..., Path]) -> None:
    path = write_file("orders.csv", "customer_id,order_ts,amount\n1,2021-01-01,1\n")
    with pytest.raises(ConfigError, match="encoding='utf9' is not a known text encoding"):
        read_orders(path, encoding="utf9")


def test_file_not_found(tmp_path: Path) -> None:
    path = tmp_path / "missing.csv"
    message = _message(lambda: read_orders(path))
    assert message.startswith(f"Cannot read '{path}': file not found (working directory: ")
    assert message.endswith("Fix: check the path, or pass an absolute path.")


def test_a_folder_without_data_files(tmp_path: Path) -> None:
    (tmp_path / "_SUCCESS").write_text("")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "part-0.parquet").write_text("")
    assert _message(lambda: read_orders(tmp_path)) == (
        f"Cannot read '{tmp_path}': the folder holds no data files (names starting with . or _ "
        "are skipped). Fix: name the folder the Parquet files are in, or a file."
    )


def test_a_duckdb_file_needs_its_table(write_file: Callable[..., Path]) -> None:
    path = write_file("shop.duckdb", b"")
    assert _message(lambda: read_orders(path)) == (
        f"Cannot read '{path}': a DuckDB database holds several tables. Fix: name one, e.g. "
        f"'duckdb://{path}?table=orders'."
    )


def test_unsupported_suffix_suggests_converting_or_a_dataframe(
    write_file: Callable[..., Path],
) -> None:
    path = write_file("online_retail_II.xlsx", b"PK\x03\x04")
    assert _message(lambda: read_orders(path)) == (
        f"Cannot read '{path}': unsupported file type '.xlsx'; winback reads .csv, .csv.gz, "
        ".csv.bz2, .csv.xz, .csv.zip, .parquet, .pq files, folders of Parquet files and "
        "postgresql:// or duckdb:// URLs. Fix: convert the file (e.g. "
        "df.to_parquet('data.parquet')) or pass a DataFrame, e.g. "
        f"read_orders(pd.read_excel('{path}'))."
    )


def test_corrupt_parquet(write_file: Callable[..., Path]) -> None:
    path = write_file("orders.parquet", b"not parquet at all")
    message = _message(lambda: read_orders(path))
    assert message.startswith(f"Cannot read '{path}': not a readable Parquet file (")
    assert message.endswith("Fix: check that the file is complete and was written as Parquet.")


def test_ragged_csv_names_the_row(write_file: Callable[..., Path]) -> None:
    path = write_file("orders.csv", "customer_id,order_ts,amount\n1,2021-01-01,5\n2,Smith, J,3\n")
    assert _message(lambda: read_orders(path)) == (
        f"Cannot read '{path}' as CSV: Expected 3 fields in row 2, saw 4 (row numbers count data "
        "rows, header excluded). Fix: every row needs as many fields as the header; quote values "
        'that contain commas ("Smith, J").'
    )


def test_semicolon_separated_file_is_recognised(write_file: Callable[..., Path]) -> None:
    path = write_file("orders.csv", "customer_id;order_ts;amount\n1;2021-01-01;5\n")
    assert _message(lambda: read_orders(path)).endswith(
        "- the header was read as one column: it looks ';'-separated, and winback reads "
        "comma-separated files. Fix: save the file comma-separated, or pass a DataFrame, e.g. "
        "read_orders(pd.read_csv(path, sep=';'))."
    )


def test_duplicate_column_names_in_a_frame() -> None:
    frame = pd.DataFrame(
        [[1, "2021-01-01", 1.0, 2.0]], columns=["customer_id", "order_ts", "amount", "amount"]
    )
    assert "- column 'amount' appears 2 times. Fix: give the columns unique names." in _message(
        lambda: read_orders(frame)
    )


def test_a_source_that_is_neither_path_nor_frame_is_a_type_error() -> None:
    with pytest.raises(
        TypeError, match=r"read_orders: expected a path to a \.csv or \.parquet file"
    ):
        read_orders([1, 2, 3])  # type: ignore[arg-type]
