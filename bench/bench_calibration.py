"""How well calibrated the 13-week repurchase score is on CDNOW, evaluation cutoff by cutoff.

Issue 3 asks for ECE <= 0.01 at the 1997-09-30 cutoff. This bench trains the CDNOW config (13-week
tasks only) at four evaluation cutoffs a quarter apart and writes ``bench/results/calibration.json``
with, per cutoff:

- ``ece``, ``auc``, mean predicted and observed rate of the shipped score (and ECE/AUC of BG/NBD
  and Pareto/NBD from the evaluation);
- ``ece_noise_floor``: the mean ECE of the shipped score against outcomes drawn from the score
  itself (a perfectly calibrated model with this score distribution and sample size);
- ``ece_recalibrated_on_test``: the ECE after a logistic recalibration fitted on the test window's
  own outcomes: a lower bound that needs the future, not something a model can ship;
- ``validation_to_test_drift``: observed rate in the test window minus that in the validation
  window (one horizon earlier), the level shift the calibration cannot see (None where the
  validation window is shorter than 13 weeks, ``label_days``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
from scipy.special import logit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from _measure import write_result
from winback.datasets import load_cdnow
from winback.evaluation._metrics import expected_calibration_error
from winback.features import build_labels
from winback.training import load_config, train

RESULTS = Path(__file__).parent / "results" / "calibration.json"
ROOT = Path(__file__).resolve().parent.parent
CUTOFFS = ("1997-06-30", "1997-09-30", "1997-12-31", "1998-03-31")
HORIZON = 91


def _noise_floor(p: np.ndarray, *, draws: int = 200, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    return float(
        np.mean([expected_calibration_error(rng.random(p.size) < p, p) for _ in range(draws)])
    )


def _recalibrated_on_test(y: np.ndarray, p: np.ndarray) -> float:
    z = logit(np.clip(p, 1e-6, 1 - 1e-6)).reshape(-1, 1)
    q = LogisticRegression(C=1e6).fit(z, y).predict_proba(z)[:, 1]
    return expected_calibration_error(y, q)


def _at(cutoff: str, orders, out: Path) -> dict:
    base = load_config(ROOT / "configs" / "cdnow.yaml")
    config = base.model_copy(
        update={
            "output_dir": str(out),
            "tasks": base.tasks.model_copy(
                update={"repurchase_days": HORIZON, "churn_days": HORIZON}
            ),
            "backtest": base.backtest.model_copy(
                update={"evaluation_cutoff": date.fromisoformat(cutoff)}
            ),
            "tracking": base.tracking.model_copy(update={"enabled": False}),
        }
    )
    result = train(config, base_dir=ROOT / "configs", progress=False)
    model = result.backtest_model
    frame = model.build_features(orders, cutoff=cutoff)
    p = model.tasks["repurchase"].predict(frame)
    column = f"purchased_within_{HORIZON}d"
    y = build_labels(orders, cutoff=cutoff, horizons_days=[HORIZON])[column]
    y = y.reindex(frame.index).to_numpy(dtype=int)
    plan = model.metadata["plans"]["repurchase"]
    validation, label_days = plan["validation_cutoff"], plan["label_days"]
    y_val = build_labels(orders, cutoff=validation, horizons_days=[label_days]).iloc[:, 0]
    drift = float(y.mean() - y_val.mean()) if label_days == HORIZON else None
    methods = result.evaluation[f"repurchase_{HORIZON}d"]["methods"]
    return {
        "validation_cutoff": validation,
        "label_days": label_days,
        "shipped_method": model.tasks["repurchase"].method,
        "auc": roc_auc_score(y, p),
        "ece": expected_calibration_error(y, p),
        "mean_predicted": float(p.mean()),
        "observed_rate": float(y.mean()),
        "validation_to_test_drift": drift,
        "ece_noise_floor": _noise_floor(p),
        "ece_recalibrated_on_test": _recalibrated_on_test(y, p),
        "baselines": {
            m: {"auc": methods[m]["auc"], "ece": methods[m]["ece"]}
            for m in ("bgnbd", "pareto_nbd", "rfm_logit")
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cutoffs", nargs="+", default=list(CUTOFFS))
    args = parser.parse_args()
    orders = load_cdnow()
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        for cutoff in args.cutoffs:
            result[cutoff] = _at(cutoff, orders, Path(tmp))
            print(cutoff, json.dumps(result[cutoff], default=str), flush=True)
    write_result({"horizon_days": HORIZON, "cutoffs": result}, RESULTS)


if __name__ == "__main__":
    main()
