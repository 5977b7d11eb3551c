"""LightGBM spend estimator: the validation level that makes predicted totals match."""

import numpy as np
import pandas as pd
import pytest

from winback.models import LGBMSpend


def _spend(rng: np.random.Generator, n: int, scale: float) -> tuple[pd.DataFrame, np.ndarray]:
    """Half the rows spend nothing; the others Gamma spend with mean ``scale * 20 * x``."""
    x = rng.uniform(0.1, 1.0, n)
    buys = rng.random(n) < 0.5
    y = np.where(buys, rng.gamma(4.0, scale * 20 * x / 4.0), 0.0)
    return pd.DataFrame({"x": x, "noise": rng.normal(size=n)}), y


@pytest.fixture
def shifted():
    """Validation customers spend 1.5x what the training relationship says."""
    rng = np.random.default_rng(11)
    X, y = _spend(rng, 20_000, 1.0)
    X_val, y_val = _spend(rng, 10_000, 1.5)
    return X, y, X_val, y_val


def test_predictions_total_the_validation_spend(shifted):
    X, y, X_val, y_val = shifted
    model = LGBMSpend(n_estimators=200, random_state=0).fit(X, y, X_val=X_val, y_val=y_val)
    assert model.predict(X_val).sum() == pytest.approx(y_val.sum(), rel=1e-9)
    # the training relationship was 1.0x, validation 1.5x: the level recovers the shift
    assert model.level_ == pytest.approx(1.5, rel=0.05)
    # and the level is a pure multiplier: the ranking of customers is the booster's
    raw = model.booster_.predict(X_val)
    np.testing.assert_allclose(model.predict(X_val), model.level_ * raw)


def test_no_validation_spend_leaves_the_booster_unscaled(shifted):
    X, y, X_val, _ = shifted
    model = LGBMSpend(n_estimators=50, random_state=0).fit(
        X, y, X_val=X_val, y_val=np.zeros(len(X_val))
    )
    assert model.level_ == 1.0
    np.testing.assert_allclose(model.predict(X_val), model.booster_.predict(X_val))
