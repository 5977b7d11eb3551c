"""Feature profiles and the population stability index, on hand-computed examples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from winback.exceptions import ConfigError, DataError
from winback.monitoring import feature_profile, population_stability


def test_profile_has_quantile_edges_shares_and_missing_share():
    frame = pd.DataFrame({"x": [1.0, 2, 3, 4, 5, 6, 7, 8, np.nan, np.inf]})
    profile = feature_profile(frame, ["x"], bins=2)
    # median of 1..8 is 4.5; 4 of 10 rows on each side; NaN and inf count as missing
    assert profile == {"x": {"edges": [4.5], "proportions": [0.4, 0.4], "nan_share": 0.2}}


def test_tied_values_merge_bins():
    frame = pd.DataFrame({"n": [0, 0, 0, 0, 0, 0, 0, 0, 1, 2]})
    profile = feature_profile(frame, ["n"], bins=4)
    # the 25/50/75 % quantiles of eight zeros, a one and a two are all 0: one edge, two bins
    assert profile["n"]["edges"] == [0.0]
    assert profile["n"]["proportions"] == [0.8, 0.2]


def test_psi_is_zero_for_the_same_population_and_matches_the_formula_when_shifted():
    frame = pd.DataFrame({"x": np.arange(1.0, 11.0)})
    profile = feature_profile(frame, ["x"], bins=2)  # edge 5.5, shares 0.5 / 0.5 / NaN 0
    assert population_stability(profile, frame)["x"] == pytest.approx(0.0)
    shifted = pd.DataFrame({"x": [1.0, 2.0, 3.0, 9.0]})  # 3/4 below the edge, 1/4 above
    expected = (0.75 - 0.5) * math.log(0.75 / 0.5) + (0.25 - 0.5) * math.log(0.25 / 0.5)
    assert population_stability(profile, shifted)["x"] == pytest.approx(expected)


def test_empty_bins_are_floored_so_the_index_stays_finite():
    profile = feature_profile(pd.DataFrame({"x": np.arange(1.0, 11.0)}), ["x"], bins=2)
    psi = population_stability(profile, pd.DataFrame({"x": [1.0, 2.0]}))["x"]
    expected = 0.5 * math.log(2) + (1e-4 - 0.5) * math.log(1e-4 / 0.5)
    assert psi == pytest.approx(expected)


def test_profile_errors_name_the_problem():
    with pytest.raises(DataError, match=r"lacks the profiled columns \['y'\]"):
        feature_profile(pd.DataFrame({"x": [1.0]}), ["y"])
    with pytest.raises(ConfigError, match="bins must be at least 2"):
        feature_profile(pd.DataFrame({"x": [1.0]}), ["x"], bins=1)
