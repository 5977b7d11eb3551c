"""Every error a user can cause on the command line is one `Type: message` line, exit status 1.

Each case is a command run the way a user would get it wrong; none needs a trained model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import winback
from test_cli_options import OPTION, options_of
from winback.cli import app

ORDERS = "customer_id,order_ts,amount\n1,2024-01-01,5\n"


def _files(root: Path) -> dict[str, Path]:
    files = {"orders": root / "orders.csv", "bundle": root / "garbled", "half": root / "half"}
    files["orders"].write_text(ORDERS)
    for folder in (files["bundle"], files["half"]):
        folder.mkdir()
    (files["bundle"] / "manifest.json").write_bytes(b"\xff\xfe\x00not json")
    manifest = {"files": {}, "format": 2, "winback_version": winback.__version__}
    (files["half"] / "manifest.json").write_text(json.dumps(manifest))
    (files["half"] / "model.json").write_text("{not json")
    (root / "config.yaml").write_text("name: x\ndata: {orders: cdnow_sample}\n")
    (root / "typo.yaml").write_text(
        "name: x\ndata: {orders: cdnow_sample}\nfeatures: {windows_dayz: [30]}\n"
        "backtest: {evaluation_cutoff: 1997-09-30}\n"
    )
    (root / "notadb.db").write_text("hello")
    files["people"] = root / "people.csv"
    files["people"].write_text("CustomerID,email\n1,ann@shop.example\n")
    files["scores"] = root / "s.csv"
    files["scores"].write_text("customer_id,action,group\n1,mail,treatment\n")
    (root / "rejected.csv").write_text("customer_id,order_ts,amount\nNaN,2024-01-01,5\n2,soon,1\n")
    for name, data in {
        "all_rejected.yaml": f"orders: {root / 'rejected.csv'}",
        "bad_format.yaml": "orders: cdnow_sample, date_format: dd.mm.yyyy",
        "bad_encoding.yaml": "orders: cdnow_sample, encoding: klingon",
    }.items():
        (root / name).write_text(
            f"name: x\ndata: {{{data}}}\nbacktest: {{evaluation_cutoff: 1997-09-30}}\n"
            "tracking: {enabled: false}\n"
        )
    (root / "tracked.yaml").write_text(
        "name: x\ndata: {orders: cdnow_sample}\nbacktest: {evaluation_cutoff: 1997-09-30}\n"
        f"tracking: {{uri: 'sqlite:///{root / 'notadb.db'}'}}\noutput_dir: {root / 'models'}\n"
    )
    return files


def _export(files: dict[str, Path], scores: Path, customers: Path, *extra: str) -> list[str]:
    out = str(files["orders"].with_name("ex"))
    return ["export", "--scores", str(scores), "--customers", str(customers), "--out", out, *extra]


def _score(files: dict[str, Path], *extra: str, model: Path | None = None) -> list[str]:
    """``winback score`` of the orders file with ``model`` (default: the garbled bundle)."""
    model = files["bundle"] if model is None else model
    where = ["--orders", str(files["orders"]), "--as-of", "2024-01-31"]
    out = ["--out", str(files["orders"].with_name("scores.csv"))]
    return ["score", "--model", str(model), *where, *out, *extra]


CASES: dict[str, tuple[str, Callable[[Path, dict[str, Path]], list[str]]]] = {
    "config file missing": ("ConfigError", lambda r, f: ["train", "-c", str(r / "nope.yaml")]),
    "config lacks a section": ("ConfigError", lambda r, f: ["train", "-c", str(r / "config.yaml")]),
    "feature key typo": ("ConfigError", lambda r, f: ["train", "-c", str(r / "typo.yaml")]),
    "tracking store is not a database": (
        "TrackingError",
        lambda r, f: ["train", "-c", str(r / "tracked.yaml")],
    ),
    "every orders row rejected": (
        "DataError",
        lambda r, f: ["train", "-c", str(r / "all_rejected.yaml")],
    ),
    "data.date_format not strftime": (
        "ConfigError",
        lambda r, f: ["train", "-c", str(r / "bad_format.yaml")],
    ),
    "train --date-format not strftime": (
        "ConfigError",
        lambda r, f: ["train", "-c", str(r / "all_rejected.yaml"), "--date-format", "dd.mm"],
    ),
    "data.encoding unknown": (
        "ConfigError",
        lambda r, f: ["train", "-c", str(r / "bad_encoding.yaml")],
    ),
    "--date-format not strftime": (
        "ConfigError",
        lambda r, f: _score(f, "--date-format", "dd.mm.yyyy"),
    ),
    "--allow-missing unknown table": (
        "ConfigError",
        lambda r, f: _score(f, "--allow-missing", "orders"),
    ),
    "no bundle": ("ModelError", lambda r, f: _score(f, model=r / "none")),
    "manifest not text": ("ModelError", lambda r, f: _score(f)),
    "model.json not JSON": ("ModelError", lambda r, f: _score(f, model=f["half"])),
    "bad --out suffix": ("ConfigError", lambda r, f: [*_score(f)[:-1], str(r / "scores.txt")]),
    "both --workers and --scheduler": (
        "ConfigError",
        lambda r, f: _score(f, "--workers", "1", "--scheduler", "x"),
    ),
    "bad --columns text": ("ConfigError", lambda r, f: _score(f, "--columns", "customer_id")),
    "bad --event-columns key": (
        "ConfigError",
        lambda r, f: _score(f, "--event-columns", "order_ts=Date"),
    ),
    "bad --customer-columns text": (
        "ConfigError",
        lambda r, f: _score(f, "--customer-columns", "email"),
    ),
    "export: bad --customer-columns key": (
        "ConfigError",
        lambda r, f: _export(
            f, r / "s.parquet", f["orders"], "--customer-columns", "order_ts=Date"
        ),
    ),
    "measure: bad --event-columns key": (
        "ConfigError",
        lambda r, f: [
            "measure",
            "--campaign",
            str(r / "s.parquet"),
            "--orders",
            str(f["orders"]),
            "--campaign-date",
            "2024-01-01",
            "--window-days",
            "30",
            "--event-columns",
            "amount=Total",
        ],
    ),
    "train: bad --customer-columns key": (
        "ConfigError",
        lambda r, f: ["train", "-c", str(r / "config.yaml"), "--customer-columns", "x=y"],
    ),
    "--margin above 1": ("ConfigError", lambda r, f: _score(f, "--margin", "2")),
    "customers without customer_id": (
        "DataError",
        lambda r, f: _export(f, f["scores"], f["people"], "--campaign-id", "c1"),
    ),
    "bad --reasons": ("ConfigError", lambda r, f: _score(f, "--reasons", "x")),
    "scores file missing": ("DataError", lambda r, f: _export(f, r / "s.parquet", f["orders"])),
    "report needs an as-of date": (
        "ConfigError",
        lambda r, f: ["report", "--orders", str(f["orders"]), "--out", str(r / "rep")],
    ),
    "scores without score columns": (
        "DataError",
        lambda r, f: ["report", "--scores", str(f["orders"]), "--out", str(r / "rep")],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_user_error_is_one_line_without_traceback(case: str, tmp_path: Path) -> None:
    kind, arguments = CASES[case]
    args = arguments(tmp_path, _files(tmp_path))
    result = CliRunner().invoke(app, args)
    *warned, error = result.output.strip().splitlines() or [""]
    assert result.exit_code == 1, result.output
    assert all(re.match(r"[A-Za-z]+Warning: ", line) for line in warned), result.output
    assert error.startswith(f"{kind}: "), result.output
    lines = [error]
    command = next(a for a in args if not a.startswith("-"))
    recommended = set(OPTION.findall(lines[0]))
    assert recommended <= options_of(command), (command, recommended - options_of(command))
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_a_customers_column_error_recommends_the_customers_mapping(tmp_path: Path) -> None:
    _, arguments = CASES["customers without customer_id"]
    result = CliRunner().invoke(app, arguments(tmp_path, _files(tmp_path)))
    assert '--customer-columns "customer_id=CustomerID"' in result.output, result.output
    assert "--columns" not in result.output
