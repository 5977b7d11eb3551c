"""Batch scoring: probabilities, value, tiers, segments, churn reasons and actions per customer.

- :func:`score` scores validated frames; :func:`score_files` reads files through the data gate
  and writes the scores, ``<stem>.rejects.csv`` and ``<stem>.summary.json`` (from partitioned
  folders or database tables, each bucket of customers is read and scored on a Dask worker);
  :func:`read_scores` and :func:`read_score_summary` read them back;
  :func:`write_model_features` writes a model's features file (the MLflow pyfunc's input).
- :class:`ScoringConfig`: tier cut points, margin, chunk size, drift threshold.
- :func:`churn_reasons`: the top churn drivers in plain words, from LightGBM contributions.
"""

from winback.scoring._columns import REJECT_COLUMNS, SCORE_COLUMNS
from winback.scoring._config import ScoringConfig
from winback.scoring._features_file import FeaturesFile, write_model_features
from winback.scoring._files import read_score_summary, read_scores, score_files
from winback.scoring._population import model_version
from winback.scoring._reasons import REASON_SEPARATOR, churn_reasons
from winback.scoring._score import ScoreResult, score

__all__ = [
    "REASON_SEPARATOR",
    "REJECT_COLUMNS",
    "SCORE_COLUMNS",
    "FeaturesFile",
    "ScoreResult",
    "ScoringConfig",
    "churn_reasons",
    "model_version",
    "read_score_summary",
    "read_scores",
    "score",
    "score_files",
    "write_model_features",
]
