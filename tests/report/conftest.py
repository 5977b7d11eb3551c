"""Fixtures of the report tests: tiny orders and scored frames whose KPIs are worked out by
hand, headless Chromium, and the demo report of the model trained on the CDNOW sample."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from browser import Chromium, find_chromium


def _orders(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    """Orders of one item each (a return: -1), so a zero amount is a free order, a purchase."""
    amounts = np.array([r[2] for r in rows], dtype="float64")
    return pd.DataFrame(
        {
            "customer_id": pd.Series([r[0] for r in rows], dtype="str"),
            "order_ts": pd.to_datetime([r[1] for r in rows], format="ISO8601").astype(
                "datetime64[ns]"
            ),
            "amount": amounts,
            "quantity": np.where(amounts < 0, -1.0, 1.0),
        }
    )


@pytest.fixture
def orders() -> pd.DataFrame:
    """Orders of six customers around the cutoff 2024-03-31 (30-day periods).

    A bought in both periods (twice in the latest, once at 23:00 on the cutoff day); B only in
    the previous period; C first bought in the latest period and returned part of it; D bought in
    January and made a free order (amount 0, one item: a purchase) in the latest period; E bought
    only the day after the
    cutoff; F bought on the last day of the previous period and the first day of the latest.
    """
    return _orders(
        [
            ("C", "2024-03-12", -25.0),
            ("A", "2024-02-10", 50.0),
            ("A", "2024-03-05", 30.0),
            ("E", "2024-04-01 00:00", 999.0),
            ("A", "2024-03-31 23:00", 20.0),
            ("B", "2024-02-15", 40.0),
            ("C", "2024-03-10", 100.0),
            ("D", "2024-01-05", 10.0),
            ("D", "2024-03-20", 0.0),
            ("F", "2024-03-01 23:59", 5.0),
            ("F", "2024-03-02 00:00", 60.0),
        ]
    )


@pytest.fixture
def scored() -> pd.DataFrame:
    """Four scored customers; value at risk p_churn * expected_value = 80, 30, 40, 1."""
    return pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "p_churn": [0.8, 0.6, 0.2, 0.1],
            "expected_value": [100.0, 50.0, 200.0, 10.0],
            "risk_tier": ["high", "high", "low", "low"],
            "segment": pd.Series(["champions", "loyal", "champions", None], dtype="str"),
            "action": ["email", "email", "none", "none"],
            "group": ["treatment", "control", "treatment", "control"],
        }
    )


# --------------------------------------------------------------------------- browser and demo
@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    """Headless Chromium on 127.0.0.1 with a fresh profile (Debian's package, `make install`)."""
    binary = find_chromium()
    if binary is None:
        pytest.fail(
            "headless Chromium is not installed: run `make install` (it runs "
            "`apt-get install -y chromium` on Debian)."
        )
    browser = Chromium(binary, tmp_path_factory.mktemp("chromium-profile"))
    yield browser
    browser.close()


@dataclass(frozen=True)
class Demo:
    """The demo report of the bundled CDNOW sample: its model, its scores and the report."""

    bundle: Path
    orders: Path
    scores: Path
    report: Path  # report.html


DEMO_AS_OF = "1998-06-30"
ACTIONS = Path(__file__).parents[2] / "configs" / "actions.yaml"


@pytest.fixture(scope="session")
def demo(cdnow_sample_trained, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The model of ``configs/cdnow.yaml`` trained on the CDNOW sample (2,357 customers; the
    session's ``cdnow_sample_trained``, tests/conftest.py), the sample scored with the shipped
    campaign and the report written by `winback report` (model evaluation, KPIs, top customers,
    campaign plan)."""
    from typer.testing import CliRunner

    from winback.cli import app
    from winback.datasets import load_cdnow
    from winback.scoring import ScoringConfig, score_files

    root = tmp_path_factory.mktemp("demo")
    bundle = cdnow_sample_trained.bundle_path
    orders = root / "orders.parquet"
    load_cdnow(sample=True).to_parquet(orders, index=False)
    scores = root / "scores.parquet"
    score_files(
        bundle,
        orders,
        out=scores,
        as_of=DEMO_AS_OF,
        actions=ACTIONS,
        config=ScoringConfig(reasons_method="path"),
        progress=False,
    )
    args = ["report", "--model", str(bundle), "--scores", str(scores), "--orders", str(orders)]
    args += ["--as-of", DEMO_AS_OF, "--out", str(root / "reports")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = Path(result.stdout.strip())
    return Demo(bundle=bundle, orders=orders, scores=scores, report=report)
