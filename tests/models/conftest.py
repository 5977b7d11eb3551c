"""Shared fixtures of the model tests: the CDNOW calibration summary used by the published fits."""

from __future__ import annotations

import pandas as pd
import pytest

from winback.datasets import load_cdnow

CDNOW_CALIBRATION_END = pd.Timestamp("1997-09-30")


def cdnow_weekly_summary(orders: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Return the RFM summary (lifetimes' definitions) of ``orders`` at ``cutoff``, in weeks.

    Orders on one calendar day are one transaction; ``frequency`` counts repeat purchase days,
    ``recency`` and ``T`` are the days from the first purchase to the last one and to ``cutoff``
    divided by 7, and ``monetary_value`` is the mean amount of the repeat transactions (0 for
    customers without any). Stands in for ``winback.features.rfm_summary(..., time_unit="W")``.
    """
    day = orders["order_ts"].dt.floor("D")
    kept = orders.assign(day=day)[day <= cutoff]
    daily = kept.groupby(["customer_id", "day"], as_index=False)["amount"].sum()
    per_customer = daily.groupby("customer_id")
    first, last = per_customer["day"].min(), per_customer["day"].max()
    frequency = per_customer.size() - 1
    repeat_total = (
        per_customer["amount"].sum()
        - daily.loc[per_customer["day"].idxmin(), ["customer_id", "amount"]].set_index(
            "customer_id"
        )["amount"]
    )
    return pd.DataFrame(
        {
            "frequency": frequency.astype("float64"),
            "recency": (last - first).dt.days / 7.0,
            "T": (cutoff - first).dt.days / 7.0,
            "monetary_value": (repeat_total / frequency.where(frequency > 0)).fillna(0.0),
        }
    )


@pytest.fixture(scope="session")
def cdnow_sample_summary() -> pd.DataFrame:
    """The 1/10 CDNOW sample summarised at the end of the 39-week calibration period."""
    return cdnow_weekly_summary(load_cdnow(sample=True), CDNOW_CALIBRATION_END)


@pytest.fixture(scope="session")
def cdnow_fits(cdnow_sample_summary: pd.DataFrame) -> dict[str, object]:
    """BG/NBD, Pareto/NBD and Gamma-Gamma fitted once on the CDNOW sample calibration summary."""
    from winback.models.btyd import BetaGeo, GammaGamma, ParetoNBD

    summary = cdnow_sample_summary
    return {
        "bgnbd": BetaGeo().fit(summary),
        "pareto": ParetoNBD().fit(summary),
        "gamma_gamma": GammaGamma().fit(summary[summary["frequency"] > 0]),
    }
