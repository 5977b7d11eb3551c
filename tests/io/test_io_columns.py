"""Column mappings: the pydantic models, the CLI form and their use by the readers."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import BaseModel, ValidationError

from winback.exceptions import ConfigError, DataError, RejectedRowsWarning
from winback.io import (
    CustomersColumns,
    EventsColumns,
    OrdersColumns,
    parse_columns_option,
    read_customers,
    read_events,
    read_orders,
)

UCI_OPTION = "customer_id=Customer ID,order_ts=InvoiceDate,price=Price,quantity=Quantity"


def test_parse_columns_option_reads_the_uci_form() -> None:
    assert parse_columns_option(UCI_OPTION) == {
        "customer_id": "Customer ID",
        "order_ts": "InvoiceDate",
        "price": "Price",
        "quantity": "Quantity",
    }


def test_parse_columns_option_strips_spaces_and_splits_at_the_first_equals() -> None:
    assert parse_columns_option(" customer_id = Customer ID , category=a=b ,") == {
        "customer_id": "Customer ID",
        "category": "a=b",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("customer_id", "cannot read entry 'customer_id'; expected \"canonical=source"),
        ("customer_id=", "cannot read entry 'customer_id='"),
        ("=Customer ID", "cannot read entry '=Customer ID'"),
        ("customer_id=a,customer_id=b", "'customer_id' is given twice"),
        ("", "no mapping found in ''"),
        ("custmer_id=Customer ID", "unknown key 'custmer_id' (allowed keys: customer_id, order_ts"),
    ],
)
def test_parse_columns_option_rejects_bad_text(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_columns_option(text)
    assert message in str(caught.value)


def test_parse_columns_option_checks_keys_against_the_table() -> None:
    assert parse_columns_option("event_type=Kind", table="events") == {"event_type": "Kind"}
    with pytest.raises(ConfigError, match="unknown key 'event_type'"):
        parse_columns_option("event_type=Kind")


def test_unknown_key_error_suggests_the_close_key() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_columns_option("custmer_id=Customer ID")
    assert "did you mean 'customer_id'?" in str(caught.value)


def test_models_forbid_unknown_keys_and_name_them_inside_a_config() -> None:
    class Data(BaseModel):
        columns: OrdersColumns = OrdersColumns()

    assert Data.model_validate({"columns": {"order_ts": "InvoiceDate"}}).columns.order_ts == (
        "InvoiceDate"
    )
    with pytest.raises(ValidationError) as caught:
        Data.model_validate({"columns": {"order_tz": "InvoiceDate"}})
    assert caught.value.errors()[0]["loc"] == ("columns", "order_tz")
    assert caught.value.errors()[0]["type"] == "extra_forbidden"


def test_mapping_amount_and_price_together_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="map either amount"):
        OrdersColumns(amount="Total", price="Price")
    frame = pd.DataFrame({"Total": [1.0], "Price": [1.0]})
    with pytest.raises(ConfigError, match=r"map either amount .* not both"):
        read_orders(frame, columns={"amount": "Total", "price": "Price"})


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"custmer_id": "Customer ID"}, "unknown key 'custmer_id'"),
        ({"customer_id": ""}, "customer_id: expected the name of a source column .*, got ''"),
        ({"customer_id": 5}, "customer_id: expected the name of a source column .*, got 5"),
    ],
)
def test_reader_translates_a_bad_mapping_dict_to_config_error(
    columns: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        read_orders(pd.DataFrame({"a": [1]}), columns=columns)  # type: ignore[arg-type]


def test_readers_accept_the_model_or_a_dict() -> None:
    frame = pd.DataFrame({"cid": [1], "when": ["2021-01-01"], "total": [3.0]})
    as_dict = {"customer_id": "cid", "order_ts": "when", "amount": "total"}
    from_dict = read_orders(frame, columns=as_dict).data
    from_model = read_orders(frame, columns=OrdersColumns(**as_dict)).data
    pd.testing.assert_frame_equal(from_dict, from_model)
    assert list(from_model.columns) == ["customer_id", "order_ts", "amount"]


def test_a_model_of_another_table_is_refused() -> None:
    with pytest.raises(
        ConfigError, match="expected a OrdersColumns or a dict, got a EventsColumns"
    ):
        read_orders(pd.DataFrame({"a": [1]}), columns=EventsColumns())  # type: ignore[arg-type]


def test_unmapped_columns_are_found_under_their_canonical_name() -> None:
    frame = pd.DataFrame(
        {"Customer ID": [7], "order_ts": ["2021-01-01"], "amount": [2.0], "Notes": ["x"]}
    )
    data = read_orders(frame, columns={"customer_id": "Customer ID"}).data
    assert data.to_dict("list") == {
        "customer_id": [7],
        "order_ts": [pd.Timestamp("2021-01-01")],
        "amount": [2.0],
    }


def test_price_times_quantity_gives_amount_like_uci_online_retail() -> None:
    frame = pd.DataFrame(
        {
            "Invoice": ["489434", "489434", "C489449"],
            "Quantity": [12, 48, -12],
            "InvoiceDate": ["2009-12-01 07:45:00", "2009-12-01 07:45:00", "2009-12-01 10:33:00"],
            "Price": [6.95, 2.1, 2.95],
            "Customer ID": [13085.0, 13085.0, 16321.0],
        }
    )
    data = read_orders(frame, columns=parse_columns_option(UCI_OPTION)).data
    assert list(data.columns) == ["customer_id", "order_ts", "amount", "quantity"]
    assert data["customer_id"].dtype == "int64"
    assert data["customer_id"].tolist() == [13085, 13085, 16321]
    assert data["amount"].tolist() == pytest.approx([83.4, 100.8, -35.4])  # 12x6.95, 48x2.1
    assert data["quantity"].tolist() == [12.0, 48.0, -12.0]


def test_price_with_missing_quantity_rejects_the_row_and_names_quantity() -> None:
    frame = pd.DataFrame(
        {"c": [1, 2], "t": ["2021-01-01", "2021-01-02"], "p": [2.0, 3.0], "q": [2, None]}
    )
    columns = {"customer_id": "c", "order_ts": "t", "price": "p", "quantity": "q"}
    with pytest.warns(RejectedRowsWarning, match="1 null quantity"):
        data, rejects = read_orders(frame, columns=columns)
    assert data["amount"].tolist() == [4.0]
    assert rejects[["row", "reason"]].to_dict("list") == {"row": [2], "reason": ["null quantity"]}


def test_price_without_a_quantity_column_is_a_data_error() -> None:
    frame = pd.DataFrame({"c": [1], "t": ["2021-01-01"], "p": [2.0]})
    with pytest.raises(DataError, match="required column 'quantity' is missing"):
        read_orders(frame, columns={"customer_id": "c", "order_ts": "t", "price": "p"})


def test_events_and_customers_mappings() -> None:
    events = pd.DataFrame(
        {"user": ["u1"], "at": ["2021-01-01T10:00Z"], "kind": ["nps"], "score": [9]}
    )
    data = read_events(
        events,
        columns=EventsColumns(customer_id="user", event_ts="at", event_type="kind", value="score"),
    ).data
    assert data.to_dict("list") == {
        "customer_id": ["u1"],
        "event_ts": [pd.Timestamp("2021-01-01 10:00")],
        "event_type": ["nps"],
        "value": [9.0],
    }
    customers = pd.DataFrame({"id": [1], "OptIn": ["yes"]})
    data = read_customers(
        customers, columns=CustomersColumns(customer_id="id", marketing_opt_in="OptIn")
    ).data
    assert data.to_dict("list") == {"customer_id": [1], "marketing_opt_in": [True]}
