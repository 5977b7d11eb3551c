"""Models: LightGBM tasks, classical BTYD baselines, the backtest, and model bundles.

``train`` runs the whole training (backtest against the baselines, production fit, bundle);
``load_model`` loads a bundle after checking its hashes.
"""

from winback.models._bundle import load_model, save_model
from winback.models._calibration import Calibrator
from winback.models._lgbm import LGBMProbability, LGBMSpend
from winback.models._pipeline import TrainResult, load_training_data, train
from winback.models._winback_model import PREDICTION_COLUMNS, WinbackModel
from winback.models.btyd import BetaGeo, GammaGamma, ParetoNBD

__all__ = [
    "PREDICTION_COLUMNS",
    "BetaGeo",
    "Calibrator",
    "GammaGamma",
    "LGBMProbability",
    "LGBMSpend",
    "ParetoNBD",
    "TrainResult",
    "WinbackModel",
    "load_model",
    "load_training_data",
    "save_model",
    "train",
]
