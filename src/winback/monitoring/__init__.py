"""Drift monitoring: quantile profiles of the training features and the population stability index.

- :func:`feature_profile`: the reference profile a model bundle stores (plain JSON).
- :func:`population_stability`: PSI per feature of a scored population against that profile.
- :func:`bin_counts`, :func:`add_counts`, :func:`stability_from_counts`: the same PSI from bin
  counts that add up across parts of a population (chunks, workers), so no part needs the whole.
- :func:`drifted`: the features beyond a threshold, largest shift first.
"""

from winback.monitoring._drift import (
    DRIFT_THRESHOLD,
    add_counts,
    bin_counts,
    drifted,
    feature_profile,
    population_stability,
    stability_from_counts,
)

__all__ = [
    "DRIFT_THRESHOLD",
    "add_counts",
    "bin_counts",
    "drifted",
    "feature_profile",
    "population_stability",
    "stability_from_counts",
]
