"""Tests of build_report: the files it writes, their content, and its refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from winback.exceptions import ConfigError
from winback.io import LEDGER
from winback.report import build_report, retention_kpis, scored_kpis

CUTOFF = "2024-03-31"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ALL_FILES = [
    "monthly_activity.png",
    "p_churn_histogram.png",
    "report.html",
    "report.json",
    "report.md",
    "risk_tiers.png",
    "value_at_risk_by_segment.png",
]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != LEDGER}


def test_build_report_writes_kpis_markdown_and_charts(
    tmp_path: Path, scored: pd.DataFrame, orders: pd.DataFrame
) -> None:
    path = build_report(
        scored=scored, orders=orders, cutoff=CUTOFF, out_dir=tmp_path / "out", period_days=30
    )
    assert path == tmp_path / "out" / "report.html"
    files = _files(tmp_path / "out")
    assert list(files) == ALL_FILES  # and no temporary file left behind
    for name, content in files.items():
        if name.endswith(".png"):
            assert content.startswith(PNG_SIGNATURE), name

    report = json.loads(files["report.json"])
    assert report["cutoff"] == CUTOFF
    assert report["retention"] == pytest.approx(
        retention_kpis(orders, cutoff=CUTOFF, period_days=30)
    )
    assert report["retention"]["revenue"] == 185.0
    assert report["monthly"] == [
        {"month": "2024-01", "active_customers": 1, "orders": 1, "revenue": 10.0},
        {"month": "2024-02", "active_customers": 2, "orders": 2, "revenue": 90.0},
        {"month": "2024-03", "active_customers": 4, "orders": 6, "revenue": 190.0},
    ]
    assert report["scored"]["value_at_risk"] == pytest.approx(400 + 75 + 50 + 10 / 9)
    assert report["scored"]["by_segment"]["champions"]["customers"] == 2
    assert report["scored"].keys() == scored_kpis(scored).keys()
    assert sorted(report["figures"]) == [f for f in ALL_FILES if f.endswith(".png")]

    markdown = files["report.md"].decode()
    assert "## Retention: 30 days from 2024-03-02 to 2024-03-31" in markdown
    assert "| Customer retention rate | 100.0% |" in markdown  # (E - N) / S = (4 - 1) / 3
    assert "| Churn rate | 33.3% |" in markdown
    assert "| Textbook CLV | 138.75 |" in markdown  # 37.00 x 1.25 x 3 periods
    assert "| Revenue | 185.00 |" in markdown
    assert "| Average order value | 37.00 |" in markdown
    assert "| high | 2 | 50.0% | 70.0% | 150.00 | 475.00 |" in markdown
    assert "| (missing) | 1 | 25.0% | 10.0% | 10.00 | 1.11 |" in markdown
    assert "### By action" in markdown and "### By group" in markdown
    for name in ALL_FILES:
        if name.endswith(".png"):
            assert f"]({name})" in markdown


def test_build_report_is_byte_identical_for_equal_input(
    tmp_path: Path, scored: pd.DataFrame, orders: pd.DataFrame
) -> None:
    build_report(scored=scored, orders=orders, cutoff=CUTOFF, out_dir=tmp_path / "a")
    shuffled = orders.sample(frac=1.0, random_state=1)
    build_report(scored=scored, orders=shuffled, cutoff=CUTOFF, out_dir=tmp_path / "b")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_orders_after_the_cutoff_do_not_change_the_report(
    tmp_path: Path, orders: pd.DataFrame
) -> None:
    build_report(orders=orders, cutoff="2024-03-30", out_dir=tmp_path / "a")
    # A's 23:00 order on 03-31 and E's 04-01 order are both after the cutoff day 03-30.
    before = orders.loc[orders["order_ts"] < "2024-03-31"]
    assert len(before) == len(orders) - 2
    build_report(orders=before, cutoff="2024-03-30", out_dir=tmp_path / "b")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_report_from_orders_only(tmp_path: Path, orders: pd.DataFrame) -> None:
    build_report(orders=orders, cutoff=CUTOFF, out_dir=tmp_path)
    assert list(_files(tmp_path)) == [
        "monthly_activity.png",
        "report.html",
        "report.json",
        "report.md",
    ]
    report = json.loads((tmp_path / "report.json").read_text())
    assert "scored" not in report
    assert "Churn risk" not in (tmp_path / "report.md").read_text()


def test_report_from_scores_only(tmp_path: Path, scored: pd.DataFrame) -> None:
    build_report(scored=scored, out_dir=tmp_path)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["cutoff"] is None and "retention" not in report
    assert "monthly_activity.png" not in _files(tmp_path)
    assert "As of cutoff: **not given**." in (tmp_path / "report.md").read_text()


def test_undefined_ratios_are_null_in_json_and_na_in_markdown(
    tmp_path: Path, orders: pd.DataFrame
) -> None:
    build_report(orders=orders, cutoff="2024-01-10", out_dir=tmp_path, period_days=30)
    text = (tmp_path / "report.json").read_text()
    assert "NaN" not in text
    assert json.loads(text)["retention"]["retention_rate"] is None
    assert "| Customer retention rate | n/a |" in (tmp_path / "report.md").read_text()


def test_build_report_refusals(tmp_path: Path, orders: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="needs scored=, orders=, model= or several; got none"):
        build_report(out_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"needs cutoff= with orders=.*never takes it from"):
        build_report(orders=orders, out_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"calendar date \(midnight UTC\)"):
        build_report(orders=orders, cutoff="2024-03-31 08:00", out_dir=tmp_path)
    assert not list(tmp_path.iterdir())
