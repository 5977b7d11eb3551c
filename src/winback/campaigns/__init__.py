"""Campaigns after the fact: what each campaign really did, and targeting by measured uplift.

Owns the loop from a sent campaign back to the next allocation:

- :func:`measure_files`: `winback measure` on files; :func:`read_campaign`,
  :func:`measure_campaign`: treatment against control per action, overall,
  per risk tier and segment, with intervals, p-values, power and profit
  (:class:`CampaignMeasurement`; statistics in :func:`proportion_difference`,
  :func:`mean_difference`, :func:`minimum_detectable_effect`); :func:`write_measurement`.
- :func:`updated_actions`, :func:`write_actions_config`: the actions file with each action's
  measured uplift, shrunk toward its prior, and where it came from.
- :class:`UpliftModel` (per-action T-learner on LightGBM), :func:`fit_campaign_uplift`,
  :func:`evaluate_uplift` (Qini), :func:`save_uplift_model` / :func:`load_uplift_model`
  (sealed bundle) for ``uplift: model`` actions.
- :func:`simulate_campaign`: a simulated campaign with known heterogeneous effects, the ground
  truth, :func:`true_effects`, :func:`oracle_allocation` and :func:`allocation_profit`.
"""

from winback.campaigns._files import MeasureResult, measure_files
from winback.campaigns._io import (
    MEASUREMENT_FORMAT,
    Campaign,
    campaign_frame,
    read_campaign,
    read_measurement,
    write_measurement,
)
from winback.campaigns._measure import MIN_CONTROL, CampaignMeasurement, measure_campaign
from winback.campaigns._simulate import (
    CampaignEffects,
    CampaignSimulation,
    allocation_profit,
    oracle_allocation,
    simulate_campaign,
    true_effects,
)
from winback.campaigns._stats import (
    mean_difference,
    minimum_detectable_effect,
    proportion_difference,
)
from winback.campaigns._update import DEFAULT_PRIOR_SD, updated_actions, write_actions_config
from winback.campaigns._uplift import (
    UPLIFT_FORMAT,
    UpliftModel,
    campaign_features,
    evaluate_uplift,
    fit_campaign_uplift,
    holdout_mask,
    load_uplift_model,
    qini_coefficient,
    qini_curve,
    save_uplift_model,
)

__all__ = [
    "DEFAULT_PRIOR_SD",
    "MEASUREMENT_FORMAT",
    "MIN_CONTROL",
    "UPLIFT_FORMAT",
    "Campaign",
    "CampaignEffects",
    "CampaignMeasurement",
    "CampaignSimulation",
    "MeasureResult",
    "UpliftModel",
    "allocation_profit",
    "campaign_features",
    "campaign_frame",
    "evaluate_uplift",
    "fit_campaign_uplift",
    "holdout_mask",
    "load_uplift_model",
    "mean_difference",
    "measure_campaign",
    "measure_files",
    "minimum_detectable_effect",
    "oracle_allocation",
    "proportion_difference",
    "qini_coefficient",
    "qini_curve",
    "read_campaign",
    "read_measurement",
    "save_uplift_model",
    "simulate_campaign",
    "true_effects",
    "updated_actions",
    "write_actions_config",
    "write_measurement",
]
