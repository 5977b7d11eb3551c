"""Shared fixtures of the model tests: the CDNOW calibration summary used by the published fits."""

from __future__ import annotations

import pandas as pd
import pytest

from winback.datasets import load_cdnow
from winback.features import rfm_summary
from winback.models.btyd import BetaGeo, GammaGamma, ParetoNBD

# The 39-week calibration period of Fader, Hardie & Lee (2005) ends on this day (inclusive).
CDNOW_CALIBRATION_END = "1997-09-30"


@pytest.fixture(scope="session")
def cdnow_sample_summary() -> pd.DataFrame:
    """The 1/10 CDNOW sample summarised in weeks at the end of the calibration period."""
    return rfm_summary(load_cdnow(sample=True), cutoff=CDNOW_CALIBRATION_END, time_unit="W")


@pytest.fixture(scope="session")
def cdnow_fits(cdnow_sample_summary: pd.DataFrame) -> dict[str, object]:
    """BG/NBD, Pareto/NBD and Gamma-Gamma fitted once on the CDNOW sample calibration summary."""
    summary = cdnow_sample_summary
    return {
        "bgnbd": BetaGeo().fit(summary),
        "pareto": ParetoNBD().fit(summary),
        "gamma_gamma": GammaGamma().fit(summary[summary["frequency"] > 0]),
    }
