"""Training: the `winback train` application, from a config to a sealed, evaluated bundle.

- :class:`TrainConfig`, :func:`load_config`: the training config (``configs/cdnow.yaml``).
- :func:`load_training_data`: the config's data through the data gate.
- :func:`plan_windows`: which cutoffs train, validate and test a task (no label past a bound).
- :class:`FrameBuilder`: features, labels and point-in-time BTYD features per cutoff.
- :func:`training_frame_on_buckets`: training frames built per hash bucket of customers (on
  Dask workers), on all customers or a sample of whole customers (:class:`BucketFrame`).
- :func:`train`: backtest against the baselines, production fit, bundle (:class:`TrainResult`).
"""

from winback.training._buckets import BucketFrame, training_frame_on_buckets
from winback.training._config import TrainConfig, load_config
from winback.training._data import TrainingData, load_training_data
from winback.training._pipeline import TrainResult, train

__all__ = [
    "BucketFrame",
    "TrainConfig",
    "TrainResult",
    "TrainingData",
    "load_config",
    "load_training_data",
    "train",
    "training_frame_on_buckets",
]
