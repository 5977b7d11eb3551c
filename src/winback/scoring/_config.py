"""Settings of a scoring run (:class:`ScoringConfig`): tiers, margin, CLV horizon, chunks, drift."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["ScoringConfig"]

_Cut = Annotated[float, Field(ge=0)]


class ScoringConfig(BaseModel):
    """How scores become tiers and values, and how a run is split into chunks.

    Parameters
    ----------
    risk_cuts
        Thresholds on ``p_churn`` between the ``low``/``medium``/``high`` risk tiers; a value
        equal to a cut goes to the higher tier. Default ``(0.3, 0.6)``.
    value_cuts
        Cut points of the ``low``/``medium``/``high`` value tiers on ``expected_value``.
    value_tiers_by
        ``"quantile"`` (default): ``value_cuts`` are quantile levels of the scored population,
        so ``(0.5, 0.8)`` makes the top 20 % ``high`` and the next 30 % ``medium``;
        ``"value"``: ``value_cuts`` are money thresholds.
    margin
        Share of spend kept as profit. ``expected_value = expected_spend * margin`` and
        ``clv = clv_spend * margin`` when set, else revenue (``expected_spend``, ``clv_spend``).
    clv_months
        Horizon of ``clv`` in months (365.25 / 12 days each); default 12.
    annual_discount_rate
        Yearly rate r at which ``clv`` discounts each month k's expected spend, by
        ``(1 + r) ** (-k / 12)``; default 0 (undiscounted). At most 1 (100 % a year).
    chunk_size
        Customers per chunk: features, predictions and reasons are computed for this many whole
        customers at a time, which bounds memory. Results do not depend on it.
    drift_threshold
        PSI above which a feature is reported as drifted (0.25: a significant shift).
    n_reasons
        Churn drivers listed per customer.
    reasons_method
        ``"shap"`` (default): exact TreeSHAP contributions (LightGBM's values, computed once
        per decision pattern of each tree); ``"path"``: decision-path attribution (same
        per-customer sum, but the first reason is SHAP's for only about 75-82% of customers,
        ``bench/results/reasons.json``). See ``WinbackModel.contributions``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    risk_cuts: tuple[_Cut, ...] = (0.3, 0.6)
    value_cuts: tuple[_Cut, ...] = (0.5, 0.8)
    value_tiers_by: Literal["quantile", "value"] = "quantile"
    margin: Annotated[float, Field(gt=0, le=1)] | None = None
    clv_months: Annotated[int, Field(ge=1, le=120)] = 12
    annual_discount_rate: Annotated[float, Field(ge=0, le=1)] = 0.0
    chunk_size: Annotated[int, Field(gt=0)] = 50_000
    drift_threshold: Annotated[float, Field(gt=0)] = 0.25
    n_reasons: Annotated[int, Field(ge=0)] = 3
    reasons_method: Literal["shap", "path"] = "shap"

    @field_validator("risk_cuts", "value_cuts")
    @classmethod
    def _two_increasing_cuts(cls, cuts: tuple[float, ...]) -> tuple[float, ...]:
        if len(cuts) != 2 or cuts[0] >= cuts[1]:
            raise ValueError(
                f"expected two increasing cut points (low|medium, medium|high), got {cuts}"
            )
        return cuts
