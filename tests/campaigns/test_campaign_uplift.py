"""Uplift models on data with a known heterogeneous effect; Qini; the sealed bundle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from winback.campaigns import (
    UpliftModel,
    evaluate_uplift,
    load_uplift_model,
    qini_coefficient,
    qini_curve,
    save_uplift_model,
)
from winback.exceptions import ConfigError, ModelError

FEATURES = ("p_churn", "n_orders")


def synthetic(n: int = 20_000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Two actions; the contact helps when p_churn > 0.5 and hurts when p_churn < 0.2."""
    rng = np.random.default_rng(seed)
    ids = pd.Index([f"c{i}" for i in range(n)], name="customer_id")
    p_churn = rng.random(n)
    x = pd.DataFrame({"p_churn": p_churn, "n_orders": rng.integers(1, 10, n)}, index=ids)
    tau = np.where(p_churn > 0.5, 0.25, np.where(p_churn < 0.2, -0.15, 0.0))
    treated = rng.random(n) < 0.5
    base = 0.6 - 0.4 * p_churn
    responded = rng.random(n) < base + treated * tau
    outcomes = pd.DataFrame(
        {
            "customer_id": ids,
            "action": np.where(rng.random(n) < 0.5, "a", "b"),
            "group": np.where(treated, "treatment", "control"),
            "responded": responded,
        }
    )
    return x, outcomes, tau


@pytest.mark.parametrize("learner", ["x", "t"])
def test_the_learned_uplift_finds_who_responds_and_who_is_hurt(learner) -> None:
    x, outcomes, tau = synthetic()
    model = UpliftModel(learner=learner, features=FEATURES).fit(x, outcomes)
    assert model.columns == ("uplift_a", "uplift_b")
    uplift = model.predict_uplift(x)["uplift_a"].to_numpy()
    assert uplift[tau > 0].mean() > 0.15
    assert uplift[tau < 0].mean() < -0.05  # sleeping dogs
    test_x, test_outcomes, _ = synthetic(seed=1)
    evaluation = evaluate_uplift(model, test_x, test_outcomes)
    for action in ("a", "b"):
        assert evaluation[action]["qini_model"] > evaluation[action]["qini_random"] + 0.01


def test_an_unknown_learner_is_a_config_error() -> None:
    x, outcomes, _ = synthetic(2000)
    with pytest.raises(ConfigError, match="learner must be 'x' or 't', got 'z'"):
        UpliftModel(learner="z").fit(x, outcomes)


def test_qini_does_not_depend_on_row_order_within_ties() -> None:
    y = np.array([1, 0, 1, 0, 1, 0])
    t = np.array([1, 0, 0, 1, 1, 0])
    score = np.array([2.0, 2.0, 1.0, 1.0, 0.0, 0.0])
    swapped = [1, 0, 3, 2, 5, 4]
    assert qini_coefficient(y, t, score) == qini_coefficient(y[swapped], t[swapped], score)
    x, q = qini_curve(y, t, score)
    assert x.tolist() == [0.0, 1 / 3, 2 / 3, 1.0]
    # after the first tie group: 1 treated responder, 0 of 1 control: Q = 1
    assert q[1] == pytest.approx(1 / 6)


def test_the_bundle_round_trips_and_refuses_a_foreign_folder(tmp_path) -> None:
    x, outcomes, _ = synthetic(4000)
    model = UpliftModel(features=FEATURES, n_estimators=20).fit(x, outcomes)
    path = save_uplift_model(model, tmp_path / "uplift", metadata={"campaign_id": "spring"})
    loaded = load_uplift_model(path)
    pd.testing.assert_frame_equal(loaded.predict_uplift(x), model.predict_uplift(x))
    assert loaded.metadata_ == {"campaign_id": "spring"}
    save_uplift_model(model, path)  # its own bundle may be replaced
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(ModelError, match="exists and is not an uplift bundle"):
        save_uplift_model(model, tmp_path / "mine")
    with pytest.raises(ModelError, match="No uplift bundle at"):
        load_uplift_model(tmp_path / "absent")
