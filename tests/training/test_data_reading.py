"""The training config's reading options: data.date_format and data.encoding reach every file
the data gate reads, the command line can override them, and a table of rejects stops training."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from winback.exceptions import ConfigError, DataError
from winback.training import TrainConfig, load_training_data
from winback.validation import validated

ORDERS = "customer_id,order_ts,amount,category\n1,01.02.2024,5,Café\n2,03.04.2024,7,Thé\n"
CUSTOMERS = "customer_id,signup_ts,marketing_opt_in\n1,01.01.2024,yes\n2,02.01.2024,no\n"


def _config(tmp_path: Path, **data: object) -> TrainConfig:
    (tmp_path / "orders.csv").write_bytes(ORDERS.encode("cp1252"))
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    return validated(
        TrainConfig,
        {
            "name": "x",
            "data": {"orders": "orders.csv", "customers": "customers.csv", **data},
            "backtest": {"evaluation_cutoff": "2024-01-31"},
            "tracking": {"enabled": False},
        },
        source="config.yaml",
        what="training config",
    )


def test_the_config_reading_options_reach_every_table(tmp_path: Path) -> None:
    config = _config(tmp_path, date_format="%d.%m.%Y", encoding="cp1252")
    data = load_training_data(config, base_dir=tmp_path)
    assert data.orders["order_ts"].tolist() == [
        pd.Timestamp("2024-02-01"),
        pd.Timestamp("2024-04-03"),
    ]
    assert data.orders["category"].tolist() == ["Café", "Thé"]
    assert data.customers is not None
    assert data.customers["signup_ts"].dt.day.tolist() == [1, 2]  # day first, as given


def test_without_them_the_messages_name_the_config_keys(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"data\.encoding: cp1252 in the training config"):
        load_training_data(_config(tmp_path), base_dir=tmp_path)
    config = _config(tmp_path, encoding="cp1252")
    with pytest.raises(DataError, match=r"data\.date_format: '%d\.%m\.%Y' in the training config"):
        load_training_data(config, base_dir=tmp_path)


def test_the_command_line_overrides_the_config(tmp_path: Path) -> None:
    config = _config(tmp_path, date_format="%m.%d.%Y")
    data = config.data.with_reading(date_format="%d.%m.%Y", encoding="cp1252")
    assert (data.date_format, data.encoding) == ("%d.%m.%Y", "cp1252")
    loaded = load_training_data(config.model_copy(update={"data": data}), base_dir=tmp_path)
    assert loaded.orders["order_ts"].dt.month.tolist() == [2, 4]
    with pytest.raises(ConfigError, match="--encoding: 'klingon' is not a known text encoding"):
        config.data.with_reading(encoding="klingon")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("date_format", "dd.mm.yyyy", "data.date_format: must be a strftime format"),
        ("encoding", "klingon", "data.encoding: 'klingon' is not a known text encoding"),
    ],
)
def test_invalid_reading_options_are_config_errors(
    tmp_path: Path, key: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        _config(tmp_path, **{key: value})


def test_the_events_and_customers_column_mappings_reach_their_tables(tmp_path: Path) -> None:
    (tmp_path / "events.csv").write_text("Client,When,What\n1,2024-01-05,email_open\n")
    (tmp_path / "people.csv").write_text("Client,Newsletter\n1,yes\n2,no\n")
    tables = {"events": "events.csv", "customers": "people.csv", "date_format": "%d.%m.%Y"}
    config = _config(tmp_path, encoding="cp1252", **tables)
    with pytest.raises(DataError, match='--event-columns "customer_id=<your column>"'):
        load_training_data(config, base_dir=tmp_path)
    events = {"customer_id": "Client", "event_ts": "When", "event_type": "What"}
    people = {"customer_id": "Client", "marketing_opt_in": "Newsletter"}
    mapped = _config(tmp_path, encoding="cp1252", event_columns=events, **tables)
    data = mapped.data.with_reading(customer_columns=people)  # as `train --customer-columns`
    assert (data.event_columns, data.customer_columns) == (events, people)
    loaded = load_training_data(mapped.model_copy(update={"data": data}), base_dir=tmp_path)
    assert loaded.events is not None and loaded.events["event_type"].tolist() == ["email_open"]
    assert loaded.customers is not None
    assert loaded.customers["marketing_opt_in"].tolist() == [True, False]
