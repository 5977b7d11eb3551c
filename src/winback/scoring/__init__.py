"""Batch scoring: probabilities, value, tiers, segments, churn reasons and actions per customer.

- :func:`score` scores validated frames; :func:`score_files` reads files through the data gate
  and writes the scores, ``<stem>.rejects.csv`` and ``<stem>.summary.json``.
- :class:`ScoringConfig`: tier cut points, margin, chunk size, drift threshold.
- :func:`churn_reasons`: the top churn drivers in plain words, from LightGBM contributions.
- :func:`feature_profile`, :func:`population_stability`: drift of scored features against the
  training population (PSI).
"""

from winback.scoring._config import ScoringConfig
from winback.scoring._drift import DRIFT_THRESHOLD, feature_profile, population_stability
from winback.scoring._reasons import REASON_SEPARATOR, churn_reasons, feature_family, reason_text
from winback.scoring._score import (
    ACTION_COLUMNS,
    REJECT_COLUMNS,
    SCORE_COLUMNS,
    ScoreResult,
    gate_rejects,
    model_version,
    output_paths,
    read_scores,
    score,
    score_files,
)

__all__ = [
    "ACTION_COLUMNS",
    "DRIFT_THRESHOLD",
    "REASON_SEPARATOR",
    "REJECT_COLUMNS",
    "SCORE_COLUMNS",
    "ScoreResult",
    "ScoringConfig",
    "churn_reasons",
    "feature_family",
    "feature_profile",
    "gate_rejects",
    "model_version",
    "output_paths",
    "population_stability",
    "read_scores",
    "reason_text",
    "score",
    "score_files",
]
