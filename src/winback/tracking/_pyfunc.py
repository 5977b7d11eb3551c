"""The MLflow pyfunc wrapper of a winback bundle: a features frame in, three predictions out."""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import pandas as pd

__all__ = ["CUSTOMER_ID", "WinbackPyfunc"]

CUSTOMER_ID = "customer_id"


class WinbackPyfunc(mlflow.pyfunc.PythonModel):
    """Serve a winback model bundle through MLflow's ``python_function`` flavor.

    The bundle folder (``models/<name>/``) is logged as the MLflow artifact ``bundle`` and
    loaded with :func:`winback.models.load_model`, which checks every file's sha256 first, so a
    tampered bundle is refused rather than scored. No model object is pickled.

    ``predict`` takes the features frame :meth:`winback.models.WinbackModel.build_features`
    returns (one row per customer, every column of ``feature_names``) and returns
    ``p_repurchase``, ``p_churn`` and ``expected_spend``. A ``customer_id`` index or column of the
    input comes back as a ``customer_id`` column, so the output of ``mlflow models predict`` (which
    has no index) still says whose row is whose.
    """

    def load_context(self, context: Any) -> None:
        """Load the hash-checked bundle from ``context.artifacts["bundle"]``."""
        from winback.models import load_model

        self.model_ = load_model(context.artifacts["bundle"])

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Return ``[customer_id,] p_repurchase, p_churn, expected_spend`` for each input row.

        Parameters
        ----------
        context : mlflow.pyfunc.PythonModelContext
            Unused; the bundle is loaded in :meth:`load_context`.
        model_input : pandas.DataFrame
            Features frame: one row per customer with the model's feature columns, and the
            customer id as the index named ``customer_id`` or as a ``customer_id`` column.
        params : dict, optional
            Unused; accepted for MLflow's inference API.

        Returns
        -------
        pandas.DataFrame
            ``customer_id`` (when the input had it), ``p_repurchase``, ``p_churn``,
            ``expected_spend``; one row per input row, in input order.
        """
        frame = pd.DataFrame(model_input)
        if CUSTOMER_ID in frame.columns:
            frame = frame.set_index(CUSTOMER_ID)
        predictions = self.model_.predict(frame)
        if frame.index.name == CUSTOMER_ID:
            return predictions.reset_index()
        return predictions
