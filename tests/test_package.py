"""The public namespaces: what each package exports, that it resolves and is documented, and that
importing winback is light and changes no global state."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import winback

#: What a user of each package needs; a name added or dropped is a deliberate API change.
PUBLIC = {
    "winback.actions": """ALLOCATION_COLUMNS AT_RISK_SEGMENTS ActionsConfig DEFAULT_SEGMENT_TABLE
        MIN_STAY_PROBABILITY SegmentRule SegmentTable VALUE_AT_RISK_DEFINITION allocate_actions
        allocation_summary assign_tiers at_risk_segments check_rule_fields control_mask
        empty_action_reasons load_actions_config load_segment_table parse_actions_config
        retention_values
        rfm_segments rule_fields value_at_risk value_if_retained""",
    "winback.campaigns": """Campaign CampaignEffects CampaignMeasurement CampaignSimulation
        DEFAULT_PRIOR_SD MEASUREMENT_FORMAT MIN_CONTROL MeasureResult UPLIFT_FORMAT UpliftModel
        allocation_profit campaign_features campaign_frame evaluate_uplift fit_campaign_uplift
        holdout_mask load_uplift_model mean_difference measure_campaign measure_files
        minimum_detectable_effect oracle_allocation proportion_difference qini_coefficient
        qini_curve read_campaign read_measurement save_uplift_model simulate_campaign
        true_effects updated_actions write_actions_config write_measurement""",
    "winback.datasets": """DEMO_FORMAT DemoFiles Simulation SimulationSettings alive_at
        demo_customers load_cdnow oracle_purchase_probability simulate write_demo""",
    "winback.evaluation": """backtest_scores bootstrap_auc_difference calibration_bins
        classification_metrics cumulative_gains evaluate_backtest evaluation_plots
        expected_calibration_error format_table lift_at next_order_evaluation plot_calibration
        plot_feature_importance
        plot_gains plot_roc regression_metrics task_plots task_title""",
    "winback.export": "ADDRESS_COLUMNS CampaignExport LAYOUTS Layout export_campaign",
    "winback.features": """BTYD_MODELS COLUMNS ColumnSpec FEATURE_DEFINITIONS FeatureConfig
        LABEL_DEFINITIONS SCORE_DEFINITIONS build_features build_labels build_training_frame
        column_kind column_name describe_columns parse_column propose_cutoffs rfm_summary""",
    "winback.io": """Bucket BucketWriter BucketedDataset COLUMNS_OPTIONS CustomersColumns DataSource
        DuckDBSource EventsColumns LEDGER LineItems OrdersColumns ParquetDataset
        PostgresSource ReadResult bucket_of check_frame check_replaceable
        escape_formulas gate_rejects is_url open_source output_lock parse_columns_option
        parse_customer_ids partition_dataset purchase_mask read_customers read_events
        read_json_object read_orders redact sha256_file split_buckets staging_path
        unescape_formulas without_password write_atomic write_frame write_json
        write_together""",
    "winback.models": """BTYDScore BTYD_DAYS_PER_UNIT BetaGeo Calibrator DAYS_PER_MONTH
        FittedBTYD GammaGamma LGBMProbability LGBMSpend OUTLOOK_COLUMNS PREDICTION_COLUMNS
        ParetoNBD ProbabilityTask RFMLogit RFM_LOGIT_COLUMNS SpendTask TaskSpec WinbackModel
        btyd_features btyd_outlook btyd_probability btyd_spend discounted_purchases
        extend_horizon fit_btyd load_model rfm_days_columns save_model seal_bundle
        verify_bundle""",
    "winback.monitoring": """DRIFT_THRESHOLD add_counts bin_counts drifted feature_profile
        population_stability stability_from_counts""",
    "winback.report": """RETENTION_KPIS build_report group_summary monthly_activity
        plot_churn_histogram plot_monthly_activity plot_risk_tiers plot_value_at_risk read_summary
        retention_by_period retention_kpis scored_kpis value_at_risk""",
    "winback.scoring": """FeaturesFile REASON_SEPARATOR REJECT_COLUMNS SCORE_COLUMNS ScoreResult
        ScoringConfig churn_reasons model_version read_score_summary read_scores score score_files
        write_model_features""",
    "winback.tracking": "CAMPAIGNS_EXPERIMENT DEFAULT_TRACKING_URI WinbackPyfunc check_tracking "
    "log_campaign_run log_training_run resolve_tracking_uri tracking_uri",
    "winback.training": """BucketFrame TrainConfig TrainResult TrainingData load_config
        load_training_data train training_frame_on_buckets""",
    "winback.dates": """MISSING_DAY DateLike check_date_format check_day_in_data cutoff_day
        cutoff_days datetime_values day_numbers day_to_timestamp horizon_list last_covered_day
        parse_date""",
    "winback.validation": """MAX_CONFIG_BYTES MAX_CONFIG_DEPTH MAX_CONFIG_NODES SAFE_NAME
        pydantic_error_message read_yaml short_repr validated""",
    "winback.plotting": "new_axes png_bytes save_figure",
    "winback.progress": "progress_bar",
}


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_each_package_exports_what_users_need_and_it_resolves(package: str) -> None:
    module = importlib.import_module(package)
    assert len(module.__all__) == len(set(module.__all__)), "a name is listed twice"
    assert sorted(module.__all__) == sorted(PUBLIC[package].split())
    for name in module.__all__:
        obj = getattr(module, name)
        if callable(obj) and not isinstance(obj, type(int | str)):
            assert obj.__doc__, f"{package}.{name} has no docstring"
            assert getattr(obj, "__module__", package).startswith(package), name
    assert module.__doc__ and len(module.__doc__.strip()) > 40, f"{package} says what it owns"


@pytest.mark.parametrize("name", winback.__all__)
def test_every_top_level_name_resolves_to_the_stage_packages_object(name: str) -> None:
    obj = getattr(winback, name)
    source = winback._LAZY.get(name)
    if source is not None:
        assert obj is getattr(importlib.import_module(source), name)
        assert name in importlib.import_module(source).__all__


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        winback.nope  # noqa: B018


def test_import_is_light_and_changes_no_global_state() -> None:
    code = """
import json, logging, sys, warnings
import numpy as np, pandas as pd
before = (list(warnings.filters), pd.get_option("mode.copy_on_write"), np.geterr(),
          logging.getLogger().handlers[:], logging.getLogger().level)
import winback, winback.cli
after = (list(warnings.filters), pd.get_option("mode.copy_on_write"), np.geterr(),
         logging.getLogger().handlers[:], logging.getLogger().level)
heavy = [m for m in ("mlflow", "lightgbm", "sklearn", "matplotlib.pyplot", "distributed")
         if m in sys.modules]
print(json.dumps({"heavy": heavy, "same": before == after}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {"heavy": [], "same": True}


def test_exception_tree_has_one_base() -> None:
    for exc in (winback.DataError, winback.ConfigError, winback.ModelError, winback.LeakageError):
        assert issubclass(exc, winback.WinbackError)
    assert issubclass(winback.LeakageError, winback.DataError)
    assert issubclass(winback.TrackingError, winback.WinbackError)
    assert issubclass(winback.DriftWarning, UserWarning)
