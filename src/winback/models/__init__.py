"""Models: LightGBM tasks, calibration, the classical BTYD baselines, and the bundle format.

- :class:`LGBMProbability`, :class:`LGBMSpend`, :class:`Calibrator`: scikit-learn estimators;
  :class:`RFMLogit`, :class:`BTYDScore`: the simple candidates a probability task can ship.
- :class:`BetaGeo`, :class:`ParetoNBD`, :class:`GammaGamma`: BTYD baselines
  (:mod:`winback.models.btyd`); :func:`fit_btyd`, :func:`btyd_features`: their point-in-time
  predictions as features; :func:`rfm_days_columns`: the RFM summary in days (the RFM logit's
  inputs).
- :class:`ProbabilityTask`, :class:`SpendTask`, :class:`TaskSpec`: one fitted task, its candidate
  models and the shipped choice; :func:`btyd_probability`, :func:`btyd_spend`,
  :func:`extend_horizon`: the BTYD quantities a task is compared with or extended by.
- :class:`WinbackModel`: the three tasks plus what builds their features, and each customer's
  BTYD outlook (``p_alive``, next order, CLV; :func:`btyd_outlook`,
  :func:`discounted_purchases`);
  :func:`save_model`, :func:`load_model`: the sealed bundle (LightGBM text + JSON, sha256-checked);
  :func:`seal_bundle`, :func:`verify_bundle`: the sealing itself, for other bundles.
"""

from winback.models._bundle import load_model, save_model, seal_bundle, verify_bundle
from winback.models._calibration import Calibrator
from winback.models._hybrid import (
    BTYD_DAYS_PER_UNIT,
    FittedBTYD,
    btyd_features,
    fit_btyd,
    rfm_days_columns,
)
from winback.models._lgbm import LGBMProbability, LGBMSpend
from winback.models._outlook import (
    DAYS_PER_MONTH,
    OUTLOOK_COLUMNS,
    btyd_outlook,
    discounted_purchases,
)
from winback.models._simple import RFM_LOGIT_COLUMNS, BTYDScore, RFMLogit
from winback.models._tasks import (
    ProbabilityTask,
    SpendTask,
    TaskSpec,
    btyd_probability,
    btyd_spend,
    extend_horizon,
)
from winback.models._winback_model import PREDICTION_COLUMNS, WinbackModel
from winback.models.btyd import BetaGeo, GammaGamma, ParetoNBD

__all__ = [
    "BTYD_DAYS_PER_UNIT",
    "DAYS_PER_MONTH",
    "OUTLOOK_COLUMNS",
    "PREDICTION_COLUMNS",
    "RFM_LOGIT_COLUMNS",
    "BTYDScore",
    "BetaGeo",
    "Calibrator",
    "FittedBTYD",
    "GammaGamma",
    "LGBMProbability",
    "LGBMSpend",
    "ParetoNBD",
    "ProbabilityTask",
    "RFMLogit",
    "SpendTask",
    "TaskSpec",
    "WinbackModel",
    "btyd_features",
    "btyd_outlook",
    "btyd_probability",
    "btyd_spend",
    "discounted_purchases",
    "extend_horizon",
    "fit_btyd",
    "load_model",
    "rfm_days_columns",
    "save_model",
    "seal_bundle",
    "verify_bundle",
]
