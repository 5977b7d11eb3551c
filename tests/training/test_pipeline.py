"""End-to-end training on simulated data: no leakage, determinism, bundle contents."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pandas as pd
import pytest

from simulated import END, EVAL_CUTOFF, SimTrained, sim_config
from winback.datasets import simulate
from winback.models import load_model
from winback.training import TrainConfig, train

pytestmark = pytest.mark.xdist_group("pipeline")


def _config(orders_path, *, output_dir="models", paths=None, **changes) -> TrainConfig:
    """The shared model's config (``simulated.sim_config``) with other orders."""
    return sim_config({**(paths or {}), "orders": orders_path}, output_dir, **changes)


@pytest.fixture(scope="module")
def shared(sim_trained: SimTrained) -> SimTrained:
    return sim_trained


@pytest.fixture(scope="module")
def sim_orders(shared):
    return pd.read_parquet(shared.paths["orders"]), shared.paths["orders"]


@pytest.fixture(scope="module")
def trained(shared):
    return shared.result


@pytest.fixture
def retrain(shared, tmp_path):
    """Train the shared config again with other orders (the shared events and customers)."""

    def again(orders_path, **changes):
        config = _config(orders_path, output_dir=tmp_path / "again", paths=shared.paths, **changes)
        return train(config, base_dir=tmp_path, progress=False)

    return again


def test_backtest_labels_never_cross_the_evaluation_cutoff(trained):
    cutoff = pd.Timestamp(EVAL_CUTOFF)
    plans = trained.backtest_model.metadata["plans"]
    for plan in plans.values():
        last = pd.Timestamp(plan["validation_cutoff"]) + pd.Timedelta(days=plan["label_days"])
        assert last <= cutoff
        for c in plan["train_cutoffs"]:
            assert pd.Timestamp(c) + pd.Timedelta(days=plan["label_days"]) <= pd.Timestamp(
                plan["validation_cutoff"]
            )


def test_orders_after_the_evaluation_cutoff_do_not_change_the_backtest_model(
    sim_orders, trained, retrain, tmp_path
):
    orders, _ = sim_orders
    after = orders["order_ts"] > pd.Timestamp(EVAL_CUTOFF) + pd.Timedelta(days=1)
    rng = np.random.default_rng(0)
    scrambled = orders.copy()
    scrambled.loc[after, "amount"] = rng.permutation(scrambled.loc[after, "amount"].to_numpy())
    scrambled.loc[after, "customer_id"] = rng.permutation(
        scrambled.loc[after, "customer_id"].to_numpy()
    )
    path = tmp_path / "scrambled.parquet"
    scrambled.to_parquet(path, index=False)
    again = retrain(path)
    features = trained.backtest_model.build_features(orders, cutoff=EVAL_CUTOFF)
    pd.testing.assert_frame_equal(
        trained.backtest_model.predict(features), again.backtest_model.predict(features)
    )
    # ...while the evaluation (which reads the window after the cutoff) does change
    assert trained.evaluation != again.evaluation


def test_training_is_deterministic_down_to_the_bundle_bytes(sim_orders, trained, retrain):
    _, path = sim_orders
    again = retrain(path)
    first = json.loads((trained.bundle_path / "manifest.json").read_text())["files"]
    second = json.loads((again.bundle_path / "manifest.json").read_text())["files"]
    assert first.pop("config.yaml") != second.pop("config.yaml")  # output_dir differs, on purpose
    assert first == second


def test_bundle_round_trip_predicts_identically(sim_orders, trained):
    orders, _ = sim_orders
    loaded = load_model(trained.bundle_path)
    features = loaded.build_features(orders, cutoff=END)
    pd.testing.assert_frame_equal(loaded.predict(features), trained.model.predict(features))
    assert {"p_repurchase", "p_churn", "expected_spend"} == set(loaded.predict(features).columns)


def test_bundle_holds_evaluation_plots_config_and_manifest(trained):
    files = json.loads((trained.bundle_path / "manifest.json").read_text())["files"]
    for name in ("model.json", "evaluation.json", "config.yaml"):
        assert name in files
    for name, task in trained.model.tasks.items():
        for method in task.models:  # every LightGBM candidate, in LightGBM's own text format
            assert f"{name}_{method}.txt" in files
    assert any(f.startswith("plots/roc_") for f in files)
    assert any(f.startswith("plots/importance_") for f in files)
    evaluation = json.loads((trained.bundle_path / "evaluation.json").read_text())
    assert set(evaluation) == {
        "repurchase_60d",
        "churn_90d",
        "spend_90d",
        "btyd_fits",
        "production_selection",
        "next_order",
    }
    methods = evaluation["churn_90d"]["methods"]
    assert {"winback", "bgnbd", "pareto_nbd", "recency", "rfm_logit"} <= set(methods)
    assert set(trained.backtest_model.tasks["churn"].candidates) <= set(methods)
    assert set(methods["winback"]) == {
        "auc",
        "pr_auc",
        "brier",
        "log_loss",
        "ece",
        "lift_top_decile",
    }
    assert set(evaluation["spend_90d"]["methods"]["winback"]) == {
        "mae",
        "rmse",
        "spearman",
        "total_relative_error",
    }


def test_shipped_choice_and_reason_are_recorded(trained):
    doc = json.loads((trained.bundle_path / "model.json").read_text())
    for task in ("repurchase", "churn"):
        selection = doc["tasks"][task]["selection"]
        if selection["chosen"] == "extension":
            assert "BTYD" in selection["criterion"]
            continue
        losses = selection["cv_log_loss"]
        assert selection["chosen"] in losses
        assert {"lightgbm", "hybrid", "rfm_logit_calibrated"} <= set(losses)
        assert "significant" in selection["criterion"]
        # the ladder: the simplest tier's best, replaced only by a significant gain
        chosen = min(selection["tiers"][0], key=losses.get)
        for step in selection["steps"]:
            assert step["against"] == chosen
            passed = [m for m, g in step["gains"].items() if g["upper_95"] < 0]
            if passed:
                chosen = min(passed, key=losses.get)
        assert chosen == selection["chosen"]


def test_shipped_score_is_competitive_with_the_true_model_family(trained):
    # The simulator is BG/NBD-like, so BG/NBD is (near) the best possible purchase-only model.
    methods = trained.evaluation["repurchase_60d"]["methods"]
    assert methods["winback"]["auc"] > 0.75
    assert methods["winback"]["auc"] >= methods["bgnbd"]["auc"] - 0.02
    # calibrated like the true family or better: the selection may ship BG/NBD itself (ECE
    # 0.0500 here since cancellations stopped counting as orders), so its ECE bounds the check
    assert methods["winback"]["ece"] <= max(0.05, methods["bgnbd"]["ece"])


# --------------------------------------------------------------------------- bundle tampering


@pytest.fixture
def bundle_copy(trained, tmp_path):
    import shutil

    return shutil.copytree(trained.bundle_path, tmp_path / "bundle")


@pytest.mark.parametrize("victim", ["churn_lightgbm.txt", "model.json", "evaluation.json"])
def test_a_changed_file_is_named_and_nothing_is_loaded(bundle_copy, victim):
    from winback.exceptions import ModelError

    with open(bundle_copy / victim, "a") as fh:
        fh.write("\n")
    with pytest.raises(ModelError, match=rf"{re.escape(victim)} does not match its sha256"):
        load_model(bundle_copy)


def test_a_missing_file_is_named(bundle_copy):
    from winback.exceptions import ModelError

    (bundle_copy / "spend_hybrid.txt").unlink()
    with pytest.raises(
        ModelError, match=r"spend_hybrid\.txt is listed in the manifest but missing"
    ):
        load_model(bundle_copy)


def test_a_bundle_from_another_minor_version_is_refused(bundle_copy):
    from winback.exceptions import ModelError

    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    manifest["winback_version"] = "99.1.0"
    (bundle_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=r"written by winback 99\.1\.0"):
        load_model(bundle_copy)


def test_a_bundle_of_another_format_is_refused_before_parsing(bundle_copy):
    from winback.exceptions import ModelError

    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    manifest["format"] = 1
    (bundle_copy / "model.json").write_text("not json")  # never parsed
    manifest["files"]["model.json"] = hashlib.sha256(b"not json").hexdigest()
    (bundle_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=r"has format 1; this winback reads format 3"):
        load_model(bundle_copy)


def test_a_folder_without_manifest_is_not_a_bundle(tmp_path):
    from winback.exceptions import ModelError

    with pytest.raises(ModelError, match=r"manifest\.json is missing"):
        load_model(tmp_path)
    with pytest.raises(ModelError, match="No model bundle at"):
        load_model(tmp_path / "nope")


def test_the_model_is_not_parsed_before_the_hash_check(bundle_copy, monkeypatch):
    from winback.exceptions import ModelError
    from winback.models import _bundle

    calls = []
    monkeypatch.setattr(_bundle, "_restore_task", lambda *a, **k: calls.append(a))
    (bundle_copy / "repurchase_hybrid.txt").write_text("tree\n")
    with pytest.raises(ModelError):
        load_model(bundle_copy)
    assert calls == []


def test_a_baseline_that_could_not_be_fitted_gets_nan_metrics_not_a_crash():
    from winback.evaluation._backtest import _classification_or_nan, _regression_or_nan

    y = np.array([0, 1, 0, 1])
    nan = np.full(4, np.nan)
    assert all(np.isnan(v) for v in _classification_or_nan(y, nan, probabilistic=True).values())
    assert all(np.isnan(v) for v in _regression_or_nan(y.astype(float), nan).values())
    assert _classification_or_nan(y, np.array([0.1, 0.9, 0.2, 0.8]), probabilistic=True)["auc"] == 1


def _raw_log_odds(task, features):
    """The log-odds score the task's contributions add up to: its shipped LightGBM's, or, when a
    simple model ships, its explaining LightGBM candidate's."""
    model = task.shipped_model
    if not hasattr(model, "booster_"):
        model = task.models[task.explaining_candidate]
    cols = list(model.feature_names_in_)
    return model.booster_.predict(features[cols], raw_score=True)


@pytest.mark.parametrize("method", ["shap", "path"])
def test_contributions_add_up_to_the_raw_score(sim_orders, trained, method):
    orders, _ = sim_orders
    model = trained.model
    features = model.build_features(orders, cutoff=END).head(300)
    base = model.tasks["repurchase"]
    contrib = model.contributions(features, task="repurchase", method=method)
    raw = _raw_log_odds(base, features)
    np.testing.assert_allclose(contrib.sum(axis=1).to_numpy(), raw, atol=1e-9)
    # churn is conditional on repurchase: its drivers are repurchase's, sign flipped, plus those
    # of its own conditional model
    churn = model.tasks["churn"]
    assert churn.condition_task == "repurchase"
    total = model.contributions(features, task="churn", method=method).sum(axis=1).to_numpy()
    own = 0.0 if churn.method == "extension" else _raw_log_odds(churn, features)
    np.testing.assert_allclose(total, -raw + own, atol=1e-9)


def test_path_attribution_mostly_agrees_with_shap_on_the_top_driver(sim_orders, trained):
    orders, _ = sim_orders
    features = trained.model.build_features(orders, cutoff=END)
    lgbm = trained.model.tasks["repurchase"].models["lightgbm"]
    shap = lgbm.contributions(features, method="shap").drop(columns="bias")
    path = lgbm.contributions(features, method="path").drop(columns="bias")
    agree = (shap.to_numpy().argmax(1) == path.to_numpy().argmax(1)).mean()
    assert agree > 0.6


def test_rows_the_data_gate_rejects_are_kept_in_the_bundle_and_reported(sim_orders, tmp_path):
    from typer.testing import CliRunner

    from winback.cli import app

    orders, _ = sim_orders
    messy = orders[["customer_id", "order_ts", "amount"]].astype({"customer_id": "str"})
    bad = pd.DataFrame(
        {"customer_id": [None, "7"], "order_ts": ["2023-01-05", "not a date"], "amount": [1.0, 2.0]}
    )
    path = tmp_path / "orders.csv"
    pd.concat([messy.astype({"order_ts": "str"}), bad]).to_csv(path, index=False)
    config = _config(path, output_dir=tmp_path / "out").model_dump(mode="json")
    (tmp_path / "train.yaml").write_text(json.dumps(config))
    result = CliRunner().invoke(app, ["train", "-c", str(tmp_path / "train.yaml")])
    assert result.exit_code == 0, result.output
    warned = [line for line in result.output.splitlines() if "RejectedRowsWarning" in line]
    assert len(warned) == 1 and warned[0].startswith("RejectedRowsWarning: "), result.output
    assert ".py:" not in result.output  # winback's words, not Python's warning with a path
    assert "2 orders row(s) rejected by the data gate" in result.output
    rejects = pd.read_csv(tmp_path / "out" / "sim" / "rejects" / "orders.csv")
    assert len(rejects) == 2
    assert set(rejects["reason"].str.split(":").str[0]) >= {"null customer_id"}
    files = json.loads((tmp_path / "out" / "sim" / "manifest.json").read_text())["files"]
    assert "rejects/orders.csv" in files
    summary = json.loads((tmp_path / "out" / "sim" / "rejects" / "summary.json").read_text())
    assert summary["orders"]["rows"] == 2 and summary["orders"]["sample_rows"] == 2
    assert summary["orders"]["by_reason"] == {"null customer_id": 1, "unparseable order_ts": 1}


def test_a_config_maps_a_real_files_column_names(sim_orders, tmp_path):
    orders, _ = sim_orders
    raw = pd.DataFrame(
        {
            "Customer ID": orders["customer_id"],
            "InvoiceDate": orders["order_ts"].dt.strftime("%Y-%m-%d %H:%M"),
            "Price": orders["amount"] / 2,
            "Quantity": 2,
        }
    )
    path = tmp_path / "online_retail.csv"
    raw.to_csv(path, index=False)
    config = _config(path, output_dir=tmp_path).model_dump(mode="json")
    config["data"]["columns"] = {
        "customer_id": "Customer ID",
        "order_ts": "InvoiceDate",
        "price": "Price",
        "quantity": "Quantity",
    }
    result = train(TrainConfig.model_validate(config), base_dir=tmp_path, progress=False)
    assert result.model.metadata["data"]["n_orders"] == len(orders)
    assert result.evaluation["repurchase_60d"]["methods"]["winback"]["auc"] > 0.7


# --------------------------------------------------------------------------- issue 10


def test_probabilities_are_coherent_across_horizons_for_every_scored_customer(sim_orders, trained):
    orders, _ = sim_orders
    for model, cutoffs in (
        (trained.model, [END, "2023-09-30"]),
        (trained.backtest_model, [EVAL_CUTOFF, "2023-03-31"]),
    ):
        for cutoff in cutoffs:
            p = model.predict(model.build_features(orders, cutoff=cutoff))
            known = orders.loc[orders["order_ts"] < pd.Timestamp(cutoff) + pd.Timedelta(days=1)]
            assert len(p) == known["customer_id"].nunique() > 500
            # an order within 60 days is an order within 90: P(order in 60) <= 1 - P(none in 90)
            assert (p["p_repurchase"] + p["p_churn"] <= 1 + 1e-12).all()
    for method, (score, _) in trained.backtest_scores["churn"].items():
        if method not in [*trained.backtest_model.tasks["churn"].candidates, "winback"]:
            continue
        p_rep = trained.backtest_scores["repurchase"]["winback"][0]
        assert (p_rep + score <= 1 + 1e-12).all(), method


def test_a_task_is_independent_of_the_other_tasks_horizon(sim_orders, trained, retrain):
    """Changing only the churn horizon leaves the repurchase task's BTYD fits, model and scores
    identical (the fits no longer warm-start from whichever cutoffs other tasks needed)."""
    orders, path = sim_orders
    other = retrain(path, tasks={"churn_days": 80})
    for a, b in ((trained.backtest_model, other.backtest_model), (trained.model, other.model)):
        features = a.build_features(orders, cutoff=EVAL_CUTOFF)
        np.testing.assert_array_equal(
            a.tasks["repurchase"].predict(features), b.tasks["repurchase"].predict(features)
        )
        assert a.tasks["repurchase"].selection == b.tasks["repurchase"].selection
        assert a.btyd.params() == b.btyd.params()
    same = [json.dumps(r.evaluation["repurchase_60d"], sort_keys=True) for r in (trained, other)]
    assert same[0] == same[1]  # (as text: NaN metrics of rank-only scores compare equal)
    assert "churn_80d" in other.evaluation and "churn_80d" not in trained.evaluation


def test_btyd_fit_problems_are_recorded_in_the_evaluation(trained):
    evaluation = json.loads((trained.bundle_path / "evaluation.json").read_text())
    fits = evaluation["btyd_fits"]
    assert fits["cutoffs"] >= 8
    for problems in fits["warnings"].values():
        assert set(problems) <= {"bgnbd", "pareto_nbd", "gamma_gamma"}
    assert set(evaluation["production_selection"]) == {"repurchase", "churn", "spend"}
    for key in ("repurchase_60d", "churn_90d"):
        assert set(evaluation[key]["goals"]["met"]) == {"auc", "brier", "ece"}


def test_the_bundle_keeps_reject_counts_and_a_capped_sample():
    from winback.training._pipeline import REJECTS_SAMPLE_ROWS, _bundle_files

    n = REJECTS_SAMPLE_ROWS + 500
    reasons = np.where(np.arange(n) % 3 == 0, "null customer_id", "unparseable order_ts: 'x'")
    reasons = reasons.astype(object)
    reasons[1] = "null customer_id; unparseable order_ts: 'y'"
    rejects = {
        "orders": pd.DataFrame({"row": np.arange(1, n + 1), "reason": reasons, "amount": 1.0}),
        "events": pd.DataFrame({"row": [], "reason": []}),
    }
    config = _config("orders.csv")
    files = _bundle_files(config, {}, {}, rejects)
    sample = pd.read_csv(__import__("io").BytesIO(files["rejects/orders.csv"]))
    assert len(sample) == REJECTS_SAMPLE_ROWS
    assert sample["row"].tolist() == list(range(1, REJECTS_SAMPLE_ROWS + 1))  # the first rows
    summary = json.loads(files["rejects/summary.json"])
    assert set(summary) == {"orders"} and "rejects/events.csv" not in files
    nulls = int((np.arange(n) % 3 == 0).sum()) + 1
    assert summary["orders"] == {
        "rows": n,
        "sample_rows": REJECTS_SAMPLE_ROWS,
        "by_reason": {"null customer_id": nulls, "unparseable order_ts": n - nulls + 1},
    }


def test_a_btyd_fit_that_loses_its_dropout_is_a_warning(caplog):
    from winback.features import rfm_summary
    from winback.models import fit_btyd

    immortal = simulate(3000, seed=4, a=1.0, b=1e9, event_rates={}, extra_columns=False)
    rfm = rfm_summary(immortal.orders, cutoff="2023-12-31", time_unit="W")
    with caplog.at_level("WARNING", logger="winback.models._hybrid"):
        fitted = fit_btyd(rfm, where="at cutoff 2023-12-31")
    assert "bgnbd" in fitted.warnings or "pareto_nbd" in fitted.warnings
    assert "at cutoff 2023-12-31" in caplog.text
    assert all(r.levelname == "WARNING" for r in caplog.records)
