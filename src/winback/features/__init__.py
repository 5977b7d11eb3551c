"""Point-in-time features and labels of each customer at a cutoff.

Owns the feature table (:func:`build_features`), the lifetimes-style RFM summary the BTYD
models use (:func:`rfm_summary`), labels (:func:`build_labels`), stacked training frames
(:func:`build_training_frame`), cutoff schedules (:func:`propose_cutoffs`), their settings
(:class:`FeatureConfig`) and the column registry (:data:`COLUMNS`: every feature, BTYD, label
and score value column's template, family and definition; :func:`column_name`, :func:`parse_column`,
:func:`describe_columns`).

Time rules (the data contract's): a cutoff is a calendar date and covers its whole day;
features read only rows dated on or before it, labels only the days ``(cutoff, cutoff + h]``;
durations are whole days between floored dates. A customer's row depends on that customer's
data alone.

NaN policy: a feature is NaN when it is not defined for the customer, never to mean zero —
gap statistics need two (``gap_std_days``: three) purchase days, ``overdue_ratio`` a mean gap,
``event_*_days_since_last`` and ``event_*_last_value`` an event, ``days_since_signup`` a known
signup on or before the cutoff, ``marketing_opt_in`` a known flag. Counts and amounts in
windows without activity are 0. LightGBM routes NaN natively.

Caveat: ``marketing_opt_in`` is the customers table's current snapshot; if it changes over
time (unsubscribes), historic cutoffs see its later state.
"""

from winback.features._build import build_features, rfm_summary
from winback.features._config import FeatureConfig
from winback.features._definitions import (
    BTYD_MODELS,
    COLUMNS,
    FEATURE_DEFINITIONS,
    LABEL_DEFINITIONS,
    SCORE_DEFINITIONS,
    ColumnSpec,
    column_kind,
    column_name,
    describe_columns,
    parse_column,
)
from winback.features._labels import build_labels, build_training_frame, propose_cutoffs

__all__ = [
    "BTYD_MODELS",
    "COLUMNS",
    "FEATURE_DEFINITIONS",
    "LABEL_DEFINITIONS",
    "SCORE_DEFINITIONS",
    "ColumnSpec",
    "FeatureConfig",
    "build_features",
    "build_labels",
    "build_training_frame",
    "column_kind",
    "column_name",
    "describe_columns",
    "parse_column",
    "propose_cutoffs",
    "rfm_summary",
]
