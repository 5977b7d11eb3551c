"""Training on the CDNOW 1/10 sample: coherent probabilities for every customer, a simple model."""

from __future__ import annotations

import numpy as np
import pytest

from winback.datasets import load_cdnow

# one worker trains the sample once, for these tests and the report's (tests/conftest.py)
pytestmark = pytest.mark.xdist_group("cdnow_sample")


@pytest.fixture(scope="module")
def sample_run(cdnow_sample_trained):
    """``configs/cdnow.yaml`` trained on the sample (tests/conftest.py; the report's demo model)."""
    return cdnow_sample_trained


@pytest.mark.parametrize("cutoff", ["1997-09-30", "1998-01-31", "1998-06-30"])
def test_every_cdnow_customer_gets_coherent_probabilities(sample_run, cutoff):
    orders = load_cdnow(sample=True)
    for model in (sample_run.model, sample_run.backtest_model):
        p = model.predict(model.build_features(orders, cutoff=cutoff))
        assert len(p) == 2357
        # P(order within 91 days) <= P(order within 273 days) = 1 - P(no order within 273)
        assert (p["p_repurchase"] + p["p_churn"] <= 1 + 1e-12).all()
        assert p[["p_repurchase", "p_churn"]].stack().between(0, 1).all()


def test_the_small_base_ships_a_simple_candidate_with_its_evidence(sample_run):
    selection = sample_run.backtest_model.tasks["repurchase"].selection
    simple = [m for tier in selection["tiers"] for m in tier if "lightgbm" not in tier]
    assert selection["chosen"] in simple
    assert "rfm_logit_calibrated" in simple
    for step in selection["steps"]:
        if step["against"] == selection["chosen"]:
            assert all(g["upper_95"] >= 0 for g in step["gains"].values())
    evaluation = sample_run.evaluation["repurchase_91d"]
    assert evaluation["goals"]["margins"]["auc"] >= 0  # never significantly below a baseline
    scores = sample_run.backtest_scores["repurchase"]
    assert np.array_equal(scores["winback"][0], scores[selection["chosen"]][0])
