"""Tiny orders and scored frames whose KPIs are worked out by hand in the report tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def _orders(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series([r[0] for r in rows], dtype="str"),
            "order_ts": pd.to_datetime([r[1] for r in rows], format="ISO8601").astype(
                "datetime64[ns]"
            ),
            "amount": np.array([r[2] for r in rows], dtype="float64"),
        }
    )


@pytest.fixture
def orders() -> pd.DataFrame:
    """Orders of six customers around the cutoff 2024-03-31 (30-day periods).

    A bought in both periods (twice in the latest, once at 23:00 on the cutoff day); B only in
    the previous period; C first bought in the latest period and returned part of it; D bought in
    January and made a zero-amount order in the latest period; E bought only the day after the
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
