"""The `winback score`, `export` and `report` commands end to end through typer's CliRunner."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from simulated import AS_OF, SimTrained
from winback.cli import app

ACTIONS = Path(__file__).parents[1] / "configs" / "actions.yaml"


@pytest.fixture(scope="module")
def trained(sim_trained: SimTrained) -> tuple[Path, dict[str, Path]]:
    return sim_trained.bundle, sim_trained.paths


def _score_args(trained, out: Path, *extra: str) -> list[str]:
    bundle, data = trained
    return [
        "score",
        "--model",
        str(bundle),
        "--orders",
        str(data["orders"]),
        "--events",
        str(data["events"]),
        "--customers",
        str(data["customers"]),
        "--as-of",
        AS_OF,
        "--out",
        str(out),
        "--chunk-size",
        "200",
        *extra,
    ]


def _export_args(scores: Path, customers: Path, out: Path, *extra: str) -> list[str]:
    return [
        "export",
        "--scores",
        str(scores),
        "--customers",
        str(customers),
        "--out",
        str(out),
        *extra,
    ]


def test_score_export_report_end_to_end(trained, tmp_path):
    _, data = trained
    runner = CliRunner()
    scores = tmp_path / "scores.parquet"
    extra = ("--customers", str(data["customers"]), "--actions", str(ACTIONS))
    result = runner.invoke(app, _score_args(trained, scores, *extra))
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "scores.summary.json").read_text())
    counts = summary["customers"]
    assert f"{counts['input']} input customers = {counts['scored']} scored" in result.output
    scored = pd.read_parquet(scores)
    assert len(scored) == counts["scored"] > 0
    assert {"action", "group", "reasons", "segment"} <= set(scored.columns)
    rejects = pd.read_csv(tmp_path / "scores.rejects.csv")
    assert len(rejects) == counts["rejected"] > 0

    export_dir = tmp_path / "exports" / "q1"
    result = runner.invoke(
        app,
        _export_args(scores, data["customers"], export_dir, "--layout", "mailchimp"),
    )
    assert result.exit_code == 0, result.output
    export_summary = json.loads((export_dir / "summary.json").read_text())
    assert export_summary["campaign_id"] == summary["actions"]["campaign_id"]
    assert (export_dir / "control.csv").is_file()
    assert any(p.name.startswith("treatment_") for p in export_dir.iterdir())

    report_dir = tmp_path / "reports"
    result = runner.invoke(
        app,
        [
            "report",
            "--scores",
            str(scores),
            "--orders",
            str(data["orders"]),
            "--as-of",
            AS_OF,
            "--out",
            str(report_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((report_dir / "report.json").read_text())
    assert report["cutoff"] == AS_OF
    assert "retention" in report and "scored" in report
    assert (report_dir / "report.md").is_file()


def test_score_prints_type_and_message_for_a_bad_orders_file(trained, tmp_path):
    bundle, _ = trained
    bad = tmp_path / "orders.csv"
    bad.write_text("who,when\n1,2023-01-01\n")
    result = CliRunner().invoke(
        app,
        [
            "score",
            "--model",
            str(bundle),
            "--orders",
            str(bad),
            "--as-of",
            AS_OF,
            "--out",
            str(tmp_path / "scores.csv"),
        ],
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("DataError: ")
    assert "customer_id" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "scores.csv").exists()


def test_export_without_actions_explains_how_to_get_them(trained, tmp_path):
    _, data = trained
    scores = tmp_path / "scores.csv"
    runner = CliRunner()
    result = runner.invoke(app, _score_args(trained, scores))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "scores.summary.json").read_text())["drift"]["computed"]
    result = runner.invoke(app, _export_args(scores, data["customers"], tmp_path / "exports"))
    assert result.exit_code == 1
    assert result.stderr.startswith("ConfigError: ")
    assert "score with --actions" in result.stderr


def test_score_rejects_a_missing_model_bundle(tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "score",
            "--model",
            str(tmp_path / "nope"),
            "--orders",
            str(tmp_path / "o.csv"),
            "--as-of",
            AS_OF,
            "--out",
            str(tmp_path / "s.csv"),
        ],
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("ModelError: No model bundle at")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.xdist_group("dask")
def test_score_on_a_local_dask_cluster_writes_the_same_files(trained, tmp_path):
    runner = CliRunner()
    here, there = tmp_path / "here.csv", tmp_path / "there.csv"
    assert runner.invoke(app, _score_args(trained, here)).exit_code == 0
    chatter = _Records()  # what distributed logs reaches its handlers (the terminal)
    logging.getLogger("distributed").addHandler(chatter)
    try:
        result = runner.invoke(app, _score_args(trained, there, "--workers", "2"))
    finally:
        logging.getLogger("distributed").removeHandler(chatter)
    assert result.exit_code == 0, result.output
    assert [r.getMessage() for r in chatter.records if r.levelno < logging.WARNING] == []
    assert here.read_bytes() == there.read_bytes()
    assert (tmp_path / "here.summary.json").read_text() == (
        tmp_path / "there.summary.json"
    ).read_text()


def test_score_takes_workers_or_a_scheduler_not_both(trained, tmp_path):
    args = _score_args(trained, tmp_path / "s.csv", "--workers", "2", "--scheduler", "tcp://x:1")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "ConfigError: Give --workers (a local cluster) or --scheduler" in result.output


def test_score_names_a_scheduler_that_does_not_answer(trained, tmp_path):
    import dask

    args = _score_args(trained, tmp_path / "s.csv", "--scheduler", "tcp://127.0.0.1:1")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "ConfigError: --scheduler tcp://127.0.0.1:1: no Dask scheduler answered" in result.output
    assert not (tmp_path / "s.csv").exists()


# --- hostile input on the command line ---------------------------------------------------------


def _one_line_error(result, kind: str) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{kind}: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_score_takes_as_of_in_the_given_format_and_refuses_implausible_ones(trained, tmp_path):
    runner = CliRunner()
    args = _score_args(trained, tmp_path / "s.parquet")
    at = args.index("--as-of") + 1
    for bad in ("9999-12-31", "1998", "30/06/2023"):
        line = _one_line_error(
            runner.invoke(app, [*args[:at], bad, *args[at + 1 :]]), "ConfigError"
        )
        assert "the orders run from 2022-01-03 to 2023-12-31" in line
    day_first = [*args[:at], "30/06/2023", *args[at + 1 :], "--date-format", "%d/%m/%Y"]
    result = runner.invoke(app, day_first)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "s.summary.json").read_text())["as_of"] == AS_OF


def test_score_without_a_table_the_model_needs_and_with_allow_missing(trained, tmp_path):
    runner = CliRunner()
    args = _score_args(trained, tmp_path / "s.parquet")
    at = args.index("--customers")
    without = [*args[:at], *args[at + 2 :]]
    line = _one_line_error(runner.invoke(app, without), "ConfigError")
    assert "trained with customers" in line and "--allow-missing customers" in line
    result = runner.invoke(app, [*without, "--allow-missing", "customers"])
    assert result.exit_code == 0, result.output
    assert "scored without: customers" in result.output
    summary = json.loads((tmp_path / "s.summary.json").read_text())
    assert summary["allowed_missing"] == ["customers"]


def test_score_refuses_to_overwrite_its_orders(trained, tmp_path):
    _, data = trained
    orders = tmp_path / "orders.parquet"
    orders.write_bytes(data["orders"].read_bytes())
    args = _score_args(trained, orders)
    at = args.index("--orders") + 1
    args[at] = str(orders)
    line = _one_line_error(CliRunner().invoke(app, args), "ConfigError")
    assert "would overwrite the orders input" in line
    assert orders.read_bytes() == data["orders"].read_bytes()


def _features_args(trained, out: Path) -> list[str]:
    args = _score_args(trained, out)
    return ["features", *args[1 : args.index("--chunk-size")]]


def _report_args(trained, out: Path) -> list[str]:
    _, data = trained
    return ["report", "--orders", str(data["orders"]), "--as-of", AS_OF, "--out", str(out)]


@pytest.mark.filterwarnings("ignore::winback.exceptions.DriftWarning")
@pytest.mark.parametrize(
    ("arguments", "output", "squatted"),
    [
        (_score_args, "scores.csv", "scores.csv"),
        (_score_args, "scores.csv", "scores.summary.json"),
        (_score_args, "scores.parquet", "scores.rejects.csv"),
        (_features_args, "features.parquet", "features.parquet"),
        (_report_args, "report", "report/report.html"),
        (_report_args, "report", "report/monthly_activity.png"),
    ],
)
def test_no_command_overwrites_a_file_it_did_not_write(
    trained, tmp_path, arguments, output, squatted
):
    runner = CliRunner()
    (tmp_path / squatted).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / squatted).write_text("the user's own file\n")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    line = _one_line_error(runner.invoke(app, arguments(trained, tmp_path / output)), "ConfigError")
    assert f"{tmp_path / squatted} exists and winback did not write it" in line
    assert (tmp_path / squatted).read_text() == "the user's own file\n"
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    (tmp_path / squatted).unlink()  # once the user moved it away, the command writes, twice
    for _ in range(2):
        ran = runner.invoke(app, arguments(trained, tmp_path / output))
        assert ran.exit_code == 0, ran.output


def test_score_reads_a_cp1252_line_item_file_and_says_what_it_did(trained, tmp_path):
    _, data = trained
    orders = pd.read_parquet(data["orders"])
    lines = pd.concat([orders.assign(amount=orders["amount"] / 2, line=n) for n in (1, 2)])
    lines = lines.sort_values(["order_id", "line"]).assign(category="Café")
    path = tmp_path / "orders.csv"
    lines.to_csv(path, index=False, encoding="cp1252")
    runner = CliRunner()
    args = _score_args(trained, tmp_path / "s.parquet")
    args[args.index("--orders") + 1] = str(path)
    line = _one_line_error(runner.invoke(app, args), "DataError")
    assert "--encoding cp1252 on the command line" in line and "\x00" not in line
    result = runner.invoke(app, [*args, "--encoding", "cp1252"])
    assert result.exit_code == 0, result.output
    expected = f"aggregated {len(lines):,} lines into {len(orders):,} orders"
    assert f"orders: {expected}" in result.output
    summary = json.loads((tmp_path / "s.summary.json").read_text())
    assert summary["line_items"]["lines"] == len(lines)


def test_zero_padded_ids_round_trip_from_score_csv_to_export(trained, tmp_path):
    _, data = trained
    padded = {}
    for name in ("orders", "events", "customers"):
        frame = pd.read_parquet(data[name])
        padded[name] = tmp_path / f"{name}.csv"
        frame.assign(customer_id=frame["customer_id"].map("{:06d}".format)).to_csv(
            padded[name], index=False
        )
    scores = tmp_path / "x.csv"
    args = _score_args((trained[0], padded), scores, "--actions", str(ACTIONS))
    runner = CliRunner()
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, _export_args(scores, padded["customers"], tmp_path / "ex"))
    assert result.exit_code == 0, result.output
    control = pd.read_csv(tmp_path / "ex" / "control.csv", dtype=str)
    assert control["customer_id"].str.len().eq(6).all()


def test_export_checks_the_campaign_id_and_refuses_the_working_folder(
    trained, tmp_path, monkeypatch
):
    _, data = trained
    scores = tmp_path / "scores.parquet"
    runner = CliRunner()
    args = _score_args(trained, scores, "--actions", str(ACTIONS))
    assert runner.invoke(app, args).exit_code == 0
    line = _one_line_error(
        runner.invoke(
            app,
            _export_args(scores, data["customers"], tmp_path / "ex", "--campaign-id", "=cmd|x"),
        ),
        "ConfigError",
    )
    assert "campaign id '=cmd|x' (--campaign-id) is not allowed" in line
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    line = _one_line_error(
        runner.invoke(app, _export_args(scores, data["customers"], Path("."))), "ConfigError"
    )
    assert "that is the working folder or one above it" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == before
