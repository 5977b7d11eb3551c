"""MLflow tracking of training runs: the only part of winback that imports mlflow.

:func:`log_training_run` logs a `winback train` (params, metrics, artifacts) and registers the
model as an MLflow pyfunc (:class:`WinbackPyfunc`) that scores a features frame;
:func:`log_campaign_run` logs a measured campaign (`winback measure`) to the ``campaigns``
experiment.
:func:`tracking_uri` says where: ``config.tracking.uri``, else ``$MLFLOW_TRACKING_URI``, else
``sqlite:///mlflow.db`` in the working directory.
"""

from winback.tracking._campaigns import CAMPAIGNS_EXPERIMENT, log_campaign_run
from winback.tracking._log import check_tracking, log_training_run
from winback.tracking._pyfunc import WinbackPyfunc
from winback.tracking._uri import DEFAULT_TRACKING_URI, resolve_tracking_uri, tracking_uri

__all__ = [
    "CAMPAIGNS_EXPERIMENT",
    "DEFAULT_TRACKING_URI",
    "WinbackPyfunc",
    "check_tracking",
    "log_campaign_run",
    "log_training_run",
    "resolve_tracking_uri",
    "tracking_uri",
]
