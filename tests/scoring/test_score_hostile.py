"""Scoring with hostile input: missing tables, as-of dates, ids, rejected inputs, outputs that
would clobber inputs, two runs on one --out, and leftovers of a killed run."""

from __future__ import annotations

import json
import threading
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from simulated import side_tables
from winback.exceptions import ConfigError, DataError, RejectedRowsWarning
from winback.export import export_campaign
from winback.io import LEDGER, read_customers, staging_path
from winback.scoring import _files as files_module
from winback.scoring import _score as score_module
from winback.scoring import read_score_summary, read_scores, score, score_files
from winback.scoring._files import output_paths

ACTIONS = "configs/actions.yaml"


@pytest.fixture
def tables(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {"events": frames["events"], "customers": frames["customers"]}


def _score_files(model: Any, paths: dict[str, Path], out: Path, **kwargs: Any) -> Any:
    """score_files on the simulated files, with the events and customers the model needs."""
    tables = {"events": paths["events"], "customers": paths["customers"]}
    return score_files(model, paths["orders"], out=out, **{**tables, **kwargs})


def _quiet_score_files(*args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedRowsWarning)
        return score_files(*args, **kwargs)


# --- the tables the model was trained with ----------------------------------------------------


@pytest.mark.parametrize("missing", ["events", "customers"])
def test_a_model_trained_with_a_table_refuses_to_score_without_it(
    model, frames, tables, as_of, missing
):
    given = {k: v for k, v in tables.items() if k != missing}
    with pytest.raises(ConfigError) as info:
        score(model, frames["orders"], as_of=as_of, **given)
    message = str(info.value)
    assert f"The model 'sim' was trained with {missing}" in message
    assert f"--{missing} on the command line" in message
    assert f"--allow-missing {missing}" in message


def test_allow_missing_scores_and_the_summary_records_it(model, frames, tables, as_of):
    full = score(model, frames["orders"], as_of=as_of, **tables)
    assert full.summary["allowed_missing"] == []
    result = score(
        model,
        frames["orders"],
        as_of=as_of,
        customers=tables["customers"],
        allow_missing=["events"],
    )
    assert result.summary["allowed_missing"] == ["events"]
    assert len(result.scores) == len(full.scores)
    assert not result.scores["p_churn"].equals(full.scores["p_churn"])  # the shift is real
    with pytest.raises(ConfigError, match=r"--allow-missing: unknown table\(s\) \['orders'\]"):
        score(model, frames["orders"], as_of=as_of, allow_missing=["orders"], **tables)


# --- the as-of day ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("9999-12-31", r"as_of 9999-12-31 is too far after the data: the orders run from "),
        ("2024-04-01", r"Pass a day on or before 2024-03-30 \(at most 90 days after"),
        ("1998", r"got '1998'.* \(the orders run from 2022-01-03 to 2023-12-31\)"),
        ("06/07/2023", r"got '06/07/2023'. Dates like 06/07/1998 are not guessed"),
    ],
)
def test_an_implausible_as_of_is_refused_with_the_datas_range(
    model, frames, tables, as_of, message
):
    with pytest.raises(ConfigError, match=message):
        score(model, frames["orders"], as_of=as_of, **tables)


def test_as_of_in_the_given_format_and_up_to_the_longest_horizon(model, frames, tables, as_of):
    day_first = score(model, frames["orders"], as_of="30/06/2023", date_format="%d/%m/%Y", **tables)
    iso = score(model, frames["orders"], as_of=as_of, **tables)
    pd.testing.assert_frame_equal(day_first.scores, iso.scores)
    late = score(model, frames["orders"], as_of="2024-03-30", **tables)  # last order + 90 days
    assert late.summary["as_of"] == "2024-03-30"


# --- purchases --------------------------------------------------------------------------------


def test_a_customer_with_only_refunds_by_as_of_is_rejected_with_that_reason(
    model, frames, tables, as_of
):
    refund = pd.DataFrame(
        {"customer_id": [900_003], "order_ts": [pd.Timestamp("2023-01-05")], "amount": [-20.0]}
    )
    orders = pd.concat([frames["orders"], refund], ignore_index=True)
    result = score(model, orders, as_of=as_of, **tables)
    reasons = result.rejects.set_index("customer_id")["reason"]
    assert reasons.loc[900_003] == "no purchase at or before as-of (only cancellations or refunds)"
    assert 900_003 not in set(result.scores["customer_id"])
    counts = result.summary["customers"]
    assert counts["input"] == counts["scored"] + counts["rejected"]


# --- the campaign, checked before any work ----------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"field": "p_chrun", "op": ">", "value": 0.5}, r"did you mean 'p_churn'\?"),
        ({"field": "segment", "op": "==", "value": "At risk"}, r"did you mean 'At Risk'\?"),
        ({"field": "value_tier", "op": "==", "value": "hgih"}, r"did you mean 'high'\?"),
    ],
)
def test_a_campaign_field_or_value_typo_is_refused_before_scoring(
    model, frames, tables, as_of, tmp_path, monkeypatch, condition, message
):
    campaign = yaml.safe_load(Path(ACTIONS).read_text())  # the shipped one, one rule changed
    campaign["actions"][1]["when"] = condition
    path = tmp_path / "actions.yaml"
    path.write_text(yaml.safe_dump(campaign))

    def no_work(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("scoring started before the campaign was checked")

    monkeypatch.setattr(score_module, "score_chunk", no_work)
    with pytest.raises(ConfigError, match=message) as info:
        score(model, frames["orders"], as_of=as_of, actions=path, **tables)
    assert "Allowed fields: " in str(info.value) and "days_since_last_order" in str(info.value)


# --- ids --------------------------------------------------------------------------------------


def _padded(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The simulated tables with zero-padded text ids (``'000017'``)."""
    return {
        name: frame.assign(customer_id=frame["customer_id"].map("{:06d}".format))
        for name, frame in frames.items()
    }


def test_zero_padded_ids_survive_a_csv_scores_file_and_reach_the_export(
    model, frames, as_of, tmp_path
):
    padded = _padded(frames)
    out = tmp_path / "scores.csv"
    result = _quiet_score_files(
        model,
        padded["orders"],
        out=out,
        as_of=as_of,
        **side_tables(padded),
        actions=ACTIONS,
    )
    back = read_scores(out)
    assert back["customer_id"].tolist() == result.scores["customer_id"].tolist()
    assert back["customer_id"].iloc[0].startswith("0")
    people_path = tmp_path / "customers.csv"
    padded["customers"].to_csv(people_path, index=False)
    people = read_customers(people_path)
    exported = export_campaign(
        back, people.data, tmp_path / "export", campaign_id="winback-2024-q1"
    )
    assert exported.summary["customers"]["assigned"] > 0
    assert exported.summary["left_out"]["treatment"]["no_customer_record"] == 0


def test_text_nan_and_na_ids_are_missing_ids_not_customers(model, frames, tables, as_of, tmp_path):
    orders = frames["orders"][["customer_id", "order_ts", "amount"]].astype("str")
    junk = pd.DataFrame(
        {
            "customer_id": ["NaN", "n/a", "null", " ", "N/A"],
            "order_ts": "2023-01-05",
            "amount": "5.0",
        }
    )
    path = tmp_path / "orders.csv"
    pd.concat([orders, junk], ignore_index=True).to_csv(path, index=False)
    result = _quiet_score_files(model, path, out=tmp_path / "s.parquet", as_of=as_of, **tables)
    gate = result.summary["data_gate"]["orders"]
    assert gate == {
        "rows_rejected": 5,
        "rows_without_customer_id": 5,
        "by_reason": {"null customer_id": 5},
    }
    assert result.summary["customers"]["input"] == frames["orders"]["customer_id"].nunique()
    assert not result.rejects["customer_id"].astype("str").isin(["NaN", "n/a", "null"]).any()


# --- inputs and outputs -----------------------------------------------------------------------


def test_every_order_rejected_names_the_reasons_and_writes_the_rejects(
    model, tables, as_of, tmp_path
):
    path = tmp_path / "orders.csv"
    path.write_text("customer_id,order_ts,amount\n1,soon,5\n,2023-01-01,5\n3,2023-01-02,x\n")
    out = tmp_path / "scores.parquet"
    with pytest.raises(DataError) as info:
        _quiet_score_files(model, path, out=out, as_of=as_of, **tables)
    message = str(info.value)
    assert f"Cannot use '{path}': all 3 rows of orders were rejected" in message
    assert "1 null customer_id" in message and "1 unparseable amount" in message
    assert "row 1: unparseable order_ts: 'soon'" in message
    assert f"{tmp_path / 'scores.rejects.csv'}" in message
    rejects = pd.read_csv(tmp_path / "scores.rejects.csv")
    assert rejects["row"].tolist() == [1, 2, 3]
    assert not out.exists()


def test_every_event_rejected_stops_too_and_writes_every_tables_rejects(
    model, trained, as_of, tmp_path
):
    _, paths = trained
    events = tmp_path / "events.csv"
    events.write_text("customer_id,event_ts,event_type\n1,never,nps\n2,2023-01-01,\n")
    with pytest.raises(DataError, match=r"all 2 rows of events were rejected"):
        _quiet_score_files(
            model,
            paths["orders"],
            out=tmp_path / "s.parquet",
            as_of=as_of,
            events=events,
            customers=paths["customers"],
        )
    rejects = pd.read_csv(tmp_path / "s.rejects.csv")
    assert rejects["table"].tolist() == ["events", "events"]
    assert not (tmp_path / "s.parquet").exists()


@pytest.mark.parametrize("victim", ["orders", "events", "customers"])
def test_out_equal_to_an_input_is_refused_and_the_input_kept(
    model, trained, as_of, tmp_path, monkeypatch, victim
):
    _, paths = trained
    copies = {}
    for name, source in paths.items():
        copies[name] = tmp_path / f"{name}.parquet"
        copies[name].write_bytes(source.read_bytes())
    before = copies[victim].read_bytes()
    monkeypatch.chdir(tmp_path)
    inputs = {name: str(path) for name, path in copies.items()}
    with pytest.raises(ConfigError, match=rf"would overwrite the {victim} input"):
        score_files(model, out=f"./sub/../{victim}.parquet", as_of=as_of, **inputs)
    (tmp_path / "link.parquet").symlink_to(copies[victim])
    with pytest.raises(ConfigError, match=rf"would overwrite the {victim} input"):
        score_files(model, out="link.parquet", as_of=as_of, **inputs)
    assert copies[victim].read_bytes() == before


def test_out_inside_the_model_bundle_is_refused(trained, as_of, tmp_path):
    bundle, paths = trained
    with pytest.raises(ConfigError, match="lies inside the model folder"):
        _score_files(bundle, paths, bundle / "scores.parquet", as_of=as_of)
    assert not (bundle / "scores.parquet").exists()


def test_a_second_run_on_the_same_out_is_refused_while_the_first_writes(
    model, trained, as_of, tmp_path, monkeypatch
):
    _, paths = trained
    out = tmp_path / "scores.parquet"
    inside, release = threading.Event(), threading.Event()
    real_score = files_module.score

    def slow_score(*args: Any, **kwargs: Any) -> Any:
        inside.set()
        assert release.wait(60)
        return real_score(*args, **kwargs)

    monkeypatch.setattr(files_module, "score", slow_score)
    first: dict[str, Any] = {}
    worker = threading.Thread(
        target=lambda: first.update(result=_score_files(model, paths, out, as_of=as_of))
    )
    worker.start()
    try:
        assert inside.wait(60)
        with pytest.raises(ConfigError, match="Another winback run is writing the scores"):
            _score_files(model, paths, out, as_of=as_of)
    finally:
        release.set()
        worker.join(120)
    summary = read_score_summary(out)  # the first run's files, consistent with each other
    assert summary["customers"]["scored"] == len(pd.read_parquet(out))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        LEDGER,  # what winback wrote here: the three files
        "scores.parquet",
        "scores.rejects.csv",
        "scores.summary.json",
    ]


def test_files_of_different_runs_are_told_apart(model, trained, as_of, tmp_path):
    _, paths = trained
    first, second = tmp_path / "a" / "scores.parquet", tmp_path / "b" / "scores.parquet"
    _score_files(model, paths, first, as_of=as_of)
    _score_files(model, paths, second, as_of="2023-09-30")
    summary = json.loads(output_paths(first)["summary"].read_text())
    assert set(summary["outputs"]) == {"scores", "rejects"}
    first.write_bytes(second.read_bytes())  # a scores file from another run
    with pytest.raises(DataError, match="come from different runs"):
        read_score_summary(first)


def test_leftovers_of_a_killed_run_are_removed_and_nothing_else(model, trained, as_of, tmp_path):
    _, paths = trained
    out = tmp_path / "scores.parquet"
    killed = staging_path(out)
    killed.mkdir()
    (killed / "scores.parquet").write_bytes(b"x" * 10_000)
    (tmp_path / ".scores.summary.json.k1ll3d00.tmp").write_text("{")
    (tmp_path / ".scores.keep").write_text("the user's")
    _score_files(model, paths, out, as_of=as_of)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".scores.keep",
        LEDGER,
        "scores.parquet",
        "scores.rejects.csv",
        "scores.summary.json",
    ]
