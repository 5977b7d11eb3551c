"""The trained product: a features frame in, p_repurchase / p_churn / expected_spend out.

:class:`WinbackModel` bundles the three fitted tasks, the feature configuration and the BTYD
parameters used to compute the hybrid features at scoring time. It is saved and loaded by
``winback.models._bundle`` without pickles. The longer-horizon probability task is conditional on
the shorter one (see :mod:`winback.models._tasks`), so ``p_repurchase + p_churn <= 1`` whenever the
repurchase horizon is the shorter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from winback.features import BTYD_MODELS, build_features, rfm_summary
from winback.models._hybrid import FittedBTYD, btyd_features, rfm_days_columns
from winback.models._outlook import btyd_outlook
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
        ``FeatureConfig``; BTYD features use the parameters stored in the model; the ``rfm_``
        columns (the RFM logit's inputs) come from the same RFM summary.
        """
        base = build_features(
            orders, cutoff=cutoff, events=events, customers=customers, config=self.feature_config
        )
        rfm = rfm_summary(orders, cutoff=cutoff, time_unit="W").reindex(base.index)
        hybrid = btyd_features(rfm, self.btyd, horizons_days=self.btyd_horizons_days)
        frame = base.join(hybrid).join(rfm_days_columns(rfm))
        for col in self.feature_names:  # columns a scoring population happens not to produce
            if col not in frame.columns:
                frame[col] = np.nan
        return frame

    def survivals(self, features: pd.DataFrame) -> dict[str, np.ndarray]:
        """Return P(no order within the task's horizon) of each probability task, per row.

        The task a conditional task is built on is computed first and passed as ``given``.
        """
        out: dict[str, np.ndarray] = {}
        pending = [n for n, t in self.tasks.items() if isinstance(t, ProbabilityTask)]
        while pending:
            name = next(n for n in pending if self.tasks[n].condition_task not in pending)
            task = self.tasks[name]
            given = None if task.condition_task is None else out[task.condition_task]
            out[name] = task.survival(features, given=given)
            pending.remove(name)
        return out

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        """Return ``p_repurchase``, ``p_churn`` and ``expected_spend`` indexed like ``features``."""
        survival = self.survivals(features)
        return pd.DataFrame(
            {
                "p_repurchase": 1 - survival["repurchase"],
                "p_churn": survival["churn"],
                "expected_spend": np.clip(self.tasks["spend"].predict(features), 0, None),
            },
            index=features.index,
        )

    @property
    def btyd_model(self) -> str | None:
        """The BTYD model behind ``p_alive``, next-order dates and CLV (None: none was fitted).

        The one training chose for the churn task (the BTYD model with the best validation AUC
        of that task, its candidate and blend partner), else the one extending its horizon or
        anchoring its level, else the repurchase task's, else any that was fitted.
        """
        chosen: list[str | None] = []
        for name in ("churn", "repurchase"):
            task = self.tasks.get(name)
            if isinstance(task, ProbabilityTask):
                score = task.btyd_score.model if task.btyd_score is not None else None
                chosen += [score, task.horizon_btyd, task.level_btyd]
        chosen += list(BTYD_MODELS)
        return next((m for m in chosen if m and getattr(self.btyd, m, None) is not None), None)

    def outlook(
        self, features: pd.DataFrame, *, months: int = 12, annual_discount_rate: float = 0.0
    ) -> pd.DataFrame:
        """Return ``p_alive``, ``days_to_next_order`` and ``clv_spend`` indexed like ``features``.

        From :attr:`btyd_model` as fitted in the bundle; ``clv_spend`` is the expected spend
        over ``months`` months discounted at ``annual_discount_rate``. Definitions:
        :mod:`winback.models._outlook`. NaN when no BTYD model could be fitted.
        """
        name = self.btyd_model
        model = None if name is None else getattr(self.btyd, name)
        return btyd_outlook(
            features, model, name, months=months, annual_discount_rate=annual_discount_rate
        )

    def contributions(
        self, features: pd.DataFrame, *, task: str = "churn", method: str = "shap"
    ) -> pd.DataFrame:
        """Per-feature contributions (log-odds scale) toward the task's event.

        The task's shipped model's own contributions (LightGBM: ``method`` ``"shap"``, exact
        TreeSHAP, or ``"path"``, decision-path attribution; see
        :meth:`LGBMProbability.contributions`). For a conditional task the contributions of the
        task it is built on are added, sign flipped when that task's event is the opposite one
        (an order pushes away from churn), columns aligned (missing = 0); the rows then sum to the
        two log-odds scores' sum, an approximation of the chained probability's drivers.
        """
        this = self.tasks[task]
        if not isinstance(this, ProbabilityTask):
            return this.shipped_model.contributions(features, method=method)
        if this.condition_task is None:
            return this.contributions(features, method=method)
        base = self.contributions(features, task=this.condition_task, method=method)
        if self.tasks[this.condition_task].spec.name != this.spec.name:
            base = -base
        own = this.contributions(features, method=method)
        return base if own is None else base.add(own, fill_value=0.0)

    @property
    def horizons(self) -> dict[str, int]:
        """Horizon in days of each task."""
        return {name: task.spec.horizon_days for name, task in self.tasks.items()}
