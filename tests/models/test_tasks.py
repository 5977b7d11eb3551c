"""Horizon extension: a calibrated L-day probability carried to h days through BTYD survival."""

import numpy as np
import pandas as pd
import pytest

from winback.models._tasks import TaskSpec, extend_horizon

FRAME = pd.DataFrame(
    {
        "bgnbd_p_purchase_100d": [0.5, 0.2, 0.0, np.nan],
        "bgnbd_p_purchase_250d": [0.8, 0.2, 0.0, np.nan],
    }
)


def test_churn_is_multiplied_by_the_conditional_survival():
    spec = TaskSpec(name="churn", horizon_days=250, label_days=100)
    p = np.array([0.4, 0.9, 0.3, 0.6])
    # q = (1 - 0.8) / (1 - 0.5) = 0.4; (1 - 0.2) / (1 - 0.2) = 1; 1; NaN -> 1
    np.testing.assert_allclose(extend_horizon(p, FRAME, spec, "bgnbd"), [0.16, 0.9, 0.3, 0.6])


def test_repurchase_is_the_complement_and_never_leaves_the_unit_interval():
    spec = TaskSpec(name="repurchase", horizon_days=250, label_days=100)
    p = np.array([0.99, 0.1, 0.0, 1.0])
    out = extend_horizon(p, FRAME, spec, "bgnbd")
    np.testing.assert_allclose(out, [1 - 0.01 * 0.4, 0.1, 0.0, 1.0])
    assert np.all((out >= 0) & (out <= 1))


@pytest.mark.parametrize("name", ["churn", "repurchase"])
def test_a_frequent_buyer_keeps_a_positive_churn_probability(name):
    spec = TaskSpec(name=name, horizon_days=250, label_days=100)
    frame = pd.DataFrame({"bgnbd_p_purchase_100d": [0.97], "bgnbd_p_purchase_250d": [0.999]})
    p = np.array([0.02 if name == "churn" else 0.98])
    out = extend_horizon(p, frame, spec, "bgnbd")[0]
    churn = out if name == "churn" else 1 - out
    assert 0 < churn < 0.02
