"""The trained product: a features frame in, p_repurchase / p_churn / expected_spend out.

:class:`WinbackModel` bundles the three fitted tasks, the feature configuration and the BTYD
parameters used to compute the hybrid features at scoring time. It is saved and loaded by
``winback.models._bundle`` without pickles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from winback.features import build_features, rfm_summary
from winback.models._hybrid import FittedBTYD, btyd_features
from winback.models._tasks import ProbabilityTask, SpendTask

__all__ = ["PREDICTION_COLUMNS", "WinbackModel"]

PREDICTION_COLUMNS = ("p_repurchase", "p_churn", "expected_spend")


@dataclass
class WinbackModel:
    """Three fitted tasks plus what is needed to build their features.

    Attributes
    ----------
    name : str
        Model name (the bundle folder's name).
    tasks : dict
        ``{"repurchase": ProbabilityTask, "churn": ProbabilityTask, "spend": SpendTask}``.
    feature_config : object
        The ``FeatureConfig`` used in training (event types pinned).
    btyd : FittedBTYD
        BTYD models fitted on the training data's latest cutoff, used for hybrid features.
    btyd_horizons_days : list of int
        Horizons of the BTYD feature columns.
    metadata : dict
        Training cutoffs, data fingerprint, selection reasons and the package version.
    """

    name: str
    tasks: dict[str, ProbabilityTask | SpendTask]
    feature_config: Any
    btyd: FittedBTYD
    btyd_horizons_days: list[int]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        """All columns the tasks read (base and BTYD features), in a stable order."""
        names: list[str] = []
        for task in self.tasks.values():
            names += [c for c in task.hybrid_features if c not in names]
        return names

    def build_features(
        self,
        orders: pd.DataFrame,
        *,
        cutoff: Any,
        events: pd.DataFrame | None = None,
        customers: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Return the features frame the model scores, as of ``cutoff`` (index customer_id).

        Base features come from :func:`winback.features.build_features` with the training
        ``FeatureConfig``; BTYD features use the parameters stored in the model.
        """
        base = build_features(
            orders, cutoff=cutoff, events=events, customers=customers, config=self.feature_config
        )
        rfm = rfm_summary(orders, cutoff=cutoff, time_unit="W").reindex(base.index)
        hybrid = btyd_features(rfm, self.btyd, horizons_days=self.btyd_horizons_days)
        frame = base.join(hybrid)
        for col in self.feature_names:  # columns a scoring population happens not to produce
            if col not in frame.columns:
                frame[col] = np.nan
        return frame

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        """Return ``p_repurchase``, ``p_churn`` and ``expected_spend`` indexed like ``features``."""
        return pd.DataFrame(
            {
                "p_repurchase": self.tasks["repurchase"].predict(features),
                "p_churn": self.tasks["churn"].predict(features),
                "expected_spend": np.clip(self.tasks["spend"].predict(features), 0, None),
            },
            index=features.index,
        )

    def contributions(
        self, features: pd.DataFrame, *, task: str = "churn", method: str = "shap"
    ) -> pd.DataFrame:
        """Per-feature contributions (log-odds scale) of the task's shipped LightGBM.

        ``method`` is ``"shap"`` (exact TreeSHAP) or ``"path"`` (decision-path attribution,
        about 7x faster); see :meth:`LGBMProbability.contributions`.
        """
        return self.tasks[task].shipped_model.contributions(features, method=method)

    @property
    def horizons(self) -> dict[str, int]:
        """Horizon in days of each task."""
        return {name: task.spec.horizon_days for name, task in self.tasks.items()}
