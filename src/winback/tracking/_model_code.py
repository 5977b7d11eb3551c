"""MLflow "models from code" entry point of the winback pyfunc (read by MLflow, never imported).

MLflow copies this file into the logged model and runs it when the model is loaded; it names the
:class:`~winback.tracking.WinbackPyfunc` class so that no Python object is pickled.
"""

import mlflow.models

from winback.tracking._pyfunc import WinbackPyfunc

mlflow.models.set_model(WinbackPyfunc())
