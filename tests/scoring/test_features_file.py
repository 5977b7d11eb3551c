"""`write_model_features` / `winback features`: the model's features from files, as scoring sees
them, for the MLflow pyfunc."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from simulated import side_tables
from winback.cli import app
from winback.exceptions import ConfigError
from winback.io import read_customers, read_events, read_orders
from winback.scoring import score, write_model_features


@pytest.mark.filterwarnings("ignore::winback.exceptions.DriftWarning")  # scored past training
def test_features_file_holds_the_model_features_and_predicts_like_score(
    trained, model, as_of, tmp_path
):
    bundle, paths = trained
    out = tmp_path / "features.csv"
    written = write_model_features(
        bundle,
        paths["orders"],
        as_of=as_of,
        out=out,
        **side_tables(paths),
    )
    features = pd.read_csv(out)
    assert list(features.columns) == ["customer_id", *model.feature_names]
    assert (written.rows, written.columns) == (len(features), len(model.feature_names))
    frames = {
        "events": read_events(paths["events"]).data,
        "customers": read_customers(paths["customers"]).data,
    }
    scored = score(
        model, read_orders(paths["orders"]).data, as_of=as_of, progress=False, **frames
    ).scores.set_index("customer_id")
    predicted = model.predict(features.set_index("customer_id"))
    assert predicted.index.equals(pd.Index(scored.index))
    for column in predicted.columns:  # floats survive the CSV file exactly
        np.testing.assert_array_equal(predicted[column], scored[column])


def test_a_table_the_model_reads_is_required(trained, as_of, tmp_path):
    bundle, paths = trained
    with pytest.raises(ConfigError, match=r"trained with customers .* pass them \(--customers"):
        write_model_features(
            bundle, paths["orders"], as_of=as_of, out=tmp_path / "f.csv", events=paths["events"]
        )
    assert not (tmp_path / "f.csv").exists()


def test_out_must_be_a_new_csv_or_parquet_file_not_an_input(trained, as_of, tmp_path):
    bundle, paths = trained
    tables = {"events": paths["events"], "customers": paths["customers"]}
    with pytest.raises(ConfigError, match=r"expected a file name ending in \.csv or \.parquet"):
        write_model_features(bundle, paths["orders"], as_of=as_of, out=tmp_path / "f.txt", **tables)
    with pytest.raises(ConfigError, match="would overwrite the orders input"):
        write_model_features(bundle, paths["orders"], as_of=as_of, out=paths["orders"], **tables)


def test_cli_writes_the_features_and_says_how_many(trained, as_of, tmp_path):
    bundle, paths = trained
    out = tmp_path / "features.parquet"
    args = ["features", "--model", str(bundle), "--orders", str(paths["orders"])]
    args += ["--events", str(paths["events"]), "--customers", str(paths["customers"])]
    result = CliRunner().invoke(app, [*args, "--as-of", as_of, "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = len(pd.read_parquet(out))
    assert f"{out}: {rows:,} customers x " in result.output
    renamed = tmp_path / "orders.csv"
    pd.read_parquet(paths["orders"]).rename(columns={"customer_id": "Customer ID"}).to_csv(
        renamed, index=False
    )
    args[4] = str(renamed)
    mapped = [*args, "--columns", "customer_id=Customer ID", "--as-of", as_of]
    result = CliRunner().invoke(app, [*mapped, "--out", str(tmp_path / "mapped.parquet")])
    assert result.exit_code == 0, result.output
    mapped_features = pd.read_parquet(tmp_path / "mapped.parquet")
    pd.testing.assert_frame_equal(mapped_features, pd.read_parquet(out))
    late_args = [*args, "--columns", "customer_id=Customer ID", "--as-of", "2031-01-01"]
    late = CliRunner().invoke(app, [*late_args, "--out", str(out)])
    assert late.exit_code == 1
    assert late.output.startswith("ConfigError: ") and len(late.output.strip().splitlines()) == 1


def test_renamed_event_and_customer_columns_are_mapped_like_score(trained, as_of, tmp_path):
    bundle, paths = trained
    renamed = {}
    for table, mapping in {
        "events": {"customer_id": "Kunde", "event_ts": "Zeit"},
        "customers": {"customer_id": "Kunde", "marketing_opt_in": "Einwilligung"},
    }.items():
        frame = pd.read_parquet(paths[table]).rename(columns=mapping)
        renamed[table] = tmp_path / f"{table}.parquet"
        frame.to_parquet(renamed[table], index=False)
    plain, mapped = tmp_path / "plain.csv", tmp_path / "mapped.csv"
    tables = {"events": paths["events"], "customers": paths["customers"]}
    write_model_features(bundle, paths["orders"], as_of=as_of, out=plain, **tables)
    args = ["features", "--model", bundle, "--orders", paths["orders"], "--as-of", as_of]
    args += ["--events", renamed["events"], "--customers", renamed["customers"], "--out", mapped]
    args += ["--event-columns", "customer_id=Kunde,event_ts=Zeit"]
    args += ["--customer-columns", "customer_id=Kunde,marketing_opt_in=Einwilligung"]
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    assert mapped.read_bytes() == plain.read_bytes()
