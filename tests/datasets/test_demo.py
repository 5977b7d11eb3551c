"""The demo files: CDNOW's orders as shipped, a labelled simulated customer table, no clobbering."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from winback.cli import app
from winback.datasets import DEMO_FORMAT, demo_customers, load_cdnow, write_demo
from winback.exceptions import ConfigError
from winback.export import export_campaign
from winback.io import read_customers, read_orders


@pytest.fixture(scope="module")
def sample_orders() -> pd.DataFrame:
    return load_cdnow(sample=True)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    return write_demo(tmp_path_factory.mktemp("demo") / "data", sample=True, seed=0)


def test_orders_file_reads_back_as_cdnow_through_the_data_gate(written, sample_orders):
    orders, rejects = read_orders(written.orders)
    assert len(rejects) == 0
    assert (written.n_orders, written.n_customers) == (6919, 2357)
    pd.testing.assert_frame_equal(
        orders[sample_orders.columns].reset_index(drop=True),
        sample_orders.reset_index(drop=True),
        check_dtype=False,
    )


def test_customers_match_the_orders_and_are_labelled_simulated(written, sample_orders):
    read = read_customers(written.customers)
    customers = read.data
    assert len(read.rejects) == 0
    assert set(customers["customer_id"]) == set(sample_orders["customer_id"])
    assert customers["customer_id"].is_unique
    raw = pd.read_csv(written.customers)
    assert raw["simulated"].all()
    manifest = json.loads(written.manifest.read_text())
    assert manifest["format"] == DEMO_FORMAT
    assert (
        "SIMULATED" in manifest["customers"]
        and "CDNOW has no customer table" in (manifest["customers"])
    )
    first = sample_orders.groupby("customer_id")["order_ts"].min()
    signup = customers.set_index("customer_id")["signup_ts"]
    assert (signup.reindex(first.index) == first.dt.normalize()).all()


def test_customers_have_what_the_actions_need(written):
    customers = pd.read_csv(written.customers, keep_default_na=False)
    assert customers["email"].str.fullmatch(r"customer\d+@example\.com").all()
    opted_in = customers["marketing_opt_in"].astype(bool)
    assert 0.05 < 1 - opted_in.mean() < 0.2  # some opt-outs, most opted in
    has_address = customers["postal_address"].ne("")
    assert 0.9 < has_address.mean() < 1.0  # postal addresses for the mail action, a few missing
    assert set(customers["country"]) == {"US", "CA", "GB", "DE"}


def test_export_leaves_out_opt_outs_and_missing_addresses(written, tmp_path):
    customers = pd.read_csv(written.customers, keep_default_na=False)
    ids = customers["customer_id"]
    scores = pd.DataFrame(
        {
            "customer_id": ids,
            "action": np.where(ids % 2 == 0, "letter", "mail_me"),
            "offer": "x",
            "channel": np.where(ids % 2 == 0, "mail", "email"),
            "group": "treatment",
            "cost": 1.0,
            "expected_gain": 1.0,
            "p_churn": 0.5,
            "expected_value": 10.0,
            "segment": "Lost",
            "risk_tier": "high",
            "value_tier": "low",
        }
    )
    result = export_campaign(
        scores, read_customers(written.customers).data, tmp_path / "out", campaign_id="demo"
    )
    excluded = pd.read_csv(tmp_path / "out" / "excluded.csv")
    opted_out = set(ids[~customers["marketing_opt_in"].astype(bool)])
    no_address = set(ids[customers["postal_address"].eq("") & (ids % 2 == 0)])
    reasons = excluded.groupby("reason")["customer_id"].apply(set).to_dict()
    assert reasons["not_opted_in"] == opted_out
    assert reasons["no_postal_address"] == no_address - opted_out
    assert result.summary  # the export ran to its end


def test_same_seed_same_bytes_other_seed_other_customers(written, tmp_path, sample_orders):
    again = write_demo(tmp_path / "again", sample=True, seed=0)
    for name in ("orders", "customers", "manifest"):
        assert getattr(again, name).read_bytes() == getattr(written, name).read_bytes()
    other = demo_customers(sample_orders, seed=1)
    same = demo_customers(sample_orders, seed=0)
    assert not other["marketing_opt_in"].equals(same["marketing_opt_in"])
    assert other["email"].equals(same["email"])


def test_rewrites_its_own_files(tmp_path):
    first = write_demo(tmp_path, sample=True)
    before = first.customers.read_bytes()
    second = write_demo(tmp_path, sample=True, seed=3)
    assert second.customers.read_bytes() != before


@pytest.mark.parametrize("name", ["orders.csv", "customers.csv", "demo.json"])
def test_refuses_to_overwrite_a_file_it_did_not_write(tmp_path, name):
    (tmp_path / name).write_text("customer_id\n1\n")
    with pytest.raises(ConfigError, match=rf"{name} exists and winback did not write it"):
        write_demo(tmp_path, sample=True)
    assert (tmp_path / name).read_text() == "customer_id\n1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_refuses_to_overwrite_its_file_once_edited(tmp_path):
    files = write_demo(tmp_path, sample=True)
    edited = files.orders.read_text() + "4,1998-06-30,1.00,1.0\n"
    files.orders.write_text(edited)
    with pytest.raises(ConfigError, match="or it changed since"):
        write_demo(tmp_path, sample=True)
    assert files.orders.read_text() == edited


def test_refuses_a_file_as_the_folder(tmp_path):
    (tmp_path / "data").write_text("x")
    with pytest.raises(ConfigError, match="is a file; give a folder"):
        write_demo(tmp_path / "data", sample=True)


def test_cli_writes_the_demo_and_refuses_in_one_line(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["demo", "--sample", "--out", str(tmp_path / "data")])
    assert ok.exit_code == 0, ok.output
    assert "2,357 customers" in ok.output and "SIMULATED customers" in ok.output
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "customers.csv").write_text("customer_id\n1\n")
    refused = runner.invoke(app, ["demo", "--sample", "--out", str(tmp_path / "mine")])
    assert refused.exit_code == 1
    lines = refused.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ConfigError: ")
    assert "customers.csv exists and winback did not write it" in lines[0]
    assert (tmp_path / "mine" / "customers.csv").read_text() == "customer_id\n1\n"
