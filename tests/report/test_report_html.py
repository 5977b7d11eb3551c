"""report.html: its content, escaping, self-containment, and how headless Chromium renders it."""

from __future__ import annotations

import json
import os
import re
import struct
from pathlib import Path

import pandas as pd
import pytest

from winback.exceptions import DataError, ModelError
from winback.report import build_report, read_summary
from winback.report._sections import clv_section

# one worker trains the CDNOW sample once, for these tests and tests/training/test_cdnow_sample.py
pytestmark = pytest.mark.xdist_group("cdnow_sample")

CUTOFF = "2024-03-31"
HOSTILE = "<script>alert(1)</script>"
HOSTILE_REASON = '<img src=x onerror="alert(2)"> & more'
# Attributes and CSS that load something; data: URIs and in-page anchors load nothing.
_REFERENCES = re.compile(
    r"""(?:src|href|action|srcset)\s*=\s*["']?([^"'\s>]*)|url\(\s*["']?([^"')]*)"""
)


def _external_references(html: str) -> list[str]:
    found = [a or b for a, b in _REFERENCES.findall(html)]
    return [ref for ref in found if not ref.startswith(("data:", "#"))]


def _png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", png[16:24])


# ------------------------------------------------------------------------------- demo report
def test_demo_report_loads_in_chromium_without_errors_or_network(demo, chromium, tmp_path):
    page = chromium.check(demo.report.as_uri())
    assert page.errors == []
    assert page.scripts == 0
    assert [url for url in page.requests if not url.startswith(("file:", "data:"))] == []
    # ROC, calibration and gains for both probability tasks, and the four KPI charts.
    assert len(page.images) == 3 * 2 + 4
    for image in page.images:
        assert image["scheme"] == "data", image["alt"]
        assert image["decoded"] and image["complete"], image["alt"]
        assert image["width"] > 0 and image["height"] > 0, image["alt"]
    width, height = _png_size(page.screenshot)
    assert (width, height) == page.size and height > 3000  # the whole page, not the viewport
    shot = tmp_path / "report.png"
    shot.write_bytes(page.screenshot)
    artifacts = os.environ.get("WINBACK_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shot = Path(artifacts) / "report_screenshot.png"
        shot.write_bytes(page.screenshot)
    print(f"\nscreenshot {shot}: {width}x{height} px, {len(page.screenshot):,} bytes")
    for heading in ("Model evaluation", "Retention KPIs per period", "At-risk segments"):
        assert heading in page.text
    assert "Top 50 at-risk customers by value at risk" in page.text
    assert "Campaign plan" in page.text and "Campaign results" in page.text


def test_demo_report_holds_the_evaluation_against_every_baseline(demo):
    html = demo.report.read_text(encoding="utf-8")
    report = json.loads((demo.report.parent / "report.json").read_text())
    tasks = {task["key"]: task for task in report["evaluation"]["tasks"]}
    assert sorted(tasks) == ["churn_273d", "repurchase_91d", "spend_273d"]
    evaluation = json.loads((demo.bundle / "evaluation.json").read_text())
    for key, task in tasks.items():
        assert task["methods"][0]["method"] == "winback"  # the shipped score first
        assert {row["method"] for row in task["methods"]} == set(evaluation[key]["methods"])
    for key in ("repurchase_91d", "churn_273d"):
        expected = evaluation[key]["auc_difference_vs_best_baseline"]
        comparison = tasks[key]["comparison"]
        assert comparison["diff"] == pytest.approx(expected["diff"])
        assert (comparison["ci_low"], comparison["ci_high"]) == pytest.approx(
            (expected["ci_low"], expected["ci_high"])
        )
        assert f"95% bootstrap CI [{expected['ci_low']:+.4f}, {expected['ci_high']:+.4f}]" in html
        assert set(tasks[key]["plots"]) == {"roc", "calibration", "gains"}
    assert tasks["repurchase_91d"]["title"] == "repurchase: an order within 91 days"
    assert "Calibration: churn: no order within 273 days" in html
    assert ">rfm_logit<" in html and ">recency<" in html and ">bgnbd_gg<" in html


def test_demo_report_lists_the_top_50_at_risk_customers_with_reasons(demo):
    report = json.loads((demo.report.parent / "report.json").read_text())
    top = report["top_at_risk"]
    customers = top["customers"]
    assert len(customers) == 50 < top["at_risk_customers"]
    at_risk = [c["value_at_risk"] for c in customers]
    assert at_risk == sorted(at_risk, reverse=True)
    scored = pd.read_parquet(demo.scores)
    chosen = scored["risk_tier"].eq("high") | scored["segment"].isin(
        report["segments"]["at_risk_segments"]
    )
    assert top["at_risk_customers"] == int(chosen.sum())
    first = scored.set_index(scored["customer_id"].astype(str)).loc[customers[0]["customer_id"]]
    retained = first["expected_value"] / max(1 - first["p_churn"], 0.05)
    assert customers[0]["value_at_risk"] == pytest.approx(first["p_churn"] * retained)
    assert all(c["reasons"] for c in customers)  # every listed customer has a reason
    html = demo.report.read_text(encoding="utf-8")
    assert html.count('<td class="reasons">') == 50


def test_demo_report_holds_kpis_per_period_and_the_campaign_plan(demo):
    report = json.loads((demo.report.parent / "report.json").read_text())
    periods = report["retention_by_period"]["periods"]
    assert periods[-1]["period_end"] == "1998-06-30" and len(periods) == 7  # since 1996-10
    latest = report["retention"]
    for key in ("retention_rate", "churn_rate", "textbook_clv", "time_between_purchases_days"):
        assert periods[-1][key] == pytest.approx(latest[key])
    campaign = report["campaign"]
    scored = pd.read_parquet(demo.scores)
    summary = json.loads(demo.scores.with_name("scores.summary.json").read_text())
    assert campaign["campaign_id"] == summary["actions"]["campaign_id"]
    assigned = {row["action"]: row["customers"] for row in campaign["actions"]}
    assert assigned == scored.loc[scored["group"] != "none", "action"].value_counts().to_dict()
    assert campaign["total"]["control"] == int((scored["group"] == "control").sum())
    assert campaign["total"]["planned_cost"] == pytest.approx(summary["actions"]["planned_cost"])
    no_action = next(row for row in campaign["exclusions"] if row["stage"] == "no action")
    assert no_action["customers"] == int((scored["group"] == "none").sum()) > 0
    assert report["campaign_results"] == {"given": False, "rows": []}


def test_demo_report_has_no_external_url(demo):
    html = demo.report.read_text(encoding="utf-8")
    assert _external_references(html) == []
    assert re.search(r"(?i)(?:https?|ftp):|//[a-z0-9.-]+\.[a-z]{2,}/", html) is None
    assert "<script" not in html
    assert html.count("data:image/png;base64,") == 10


def test_report_refuses_a_tampered_model_bundle(demo, tmp_path):
    import shutil

    bundle = tmp_path / "bundle"
    shutil.copytree(demo.bundle, bundle)
    (bundle / "evaluation.json").write_text("{}")
    with pytest.raises(ModelError, match=r"evaluation\.json does not match its sha256"):
        build_report(model=bundle, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------- escaping
def _hostile(scored: pd.DataFrame) -> pd.DataFrame:
    return scored.assign(
        customer_id=[HOSTILE, "2", "3", "4"],
        segment=["At Risk", "<b>loyal</b>", "champions", None],
        reasons=[HOSTILE_REASON, "a | b", "", None],
        risk_tier=["high", "high", "low", "low"],
    )


def test_values_from_data_are_escaped(tmp_path, scored, orders, chromium):
    path = build_report(
        scored=_hostile(scored),
        orders=orders,
        cutoff=CUTOFF,
        out_dir=tmp_path,
        period_days=30,
        campaign_results={HOSTILE: "<i>uplift</i>"},
        sources={"scores": "<scores>.csv"},
    )
    html = path.read_text(encoding="utf-8")
    assert HOSTILE not in html and "<b>loyal" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt; &amp; more" in html
    page = chromium.check(path.as_uri())
    assert page.errors == [] and page.scripts == 0
    assert all(image["decoded"] and image["width"] > 0 for image in page.images)
    assert HOSTILE in page.text and HOSTILE_REASON in page.text and "<b>loyal</b>" in page.text
    assert "<i>uplift</i>" in page.text and "<scores>.csv" in page.text


# ------------------------------------------------------------------------------- sections
def test_report_without_scores_or_model_leaves_their_sections_out(tmp_path, orders):
    html = build_report(orders=orders, cutoff=CUTOFF, out_dir=tmp_path, period_days=30)
    text = html.read_text(encoding="utf-8")
    assert 'id="retention"' in text and 'id="evaluation"' not in text
    assert 'id="top-customers"' not in text and 'id="campaign"' not in text
    assert "No campaign results yet" in text  # the marked place is always there


def test_optional_score_columns_appear_in_the_top_customers(tmp_path, scored):
    extra = scored.assign(
        p_alive=[0.1, 0.4, 0.9, 0.95],
        expected_next_order_date=["2024-09-01", "2024-05-01", None, "2024-04-10"],
        days_to_next_order=[154, 31, None, 10],
        clv=[12.5, 30.0, 400.0, 20.0],
        value_at_risk=[5.0, 7.0, 1.0, 0.5],
    )
    build_report(scored=extra, out_dir=tmp_path)
    report = json.loads((tmp_path / "report.json").read_text())
    top = report["top_at_risk"]
    assert [c["key"] for c in top["columns"]][-4:] == [
        "clv",
        "expected_next_order_date",
        "days_to_next_order",
        "action",
    ]
    assert [c["customer_id"] for c in top["customers"]] == ["2", "1"]  # scored value_at_risk
    assert top["customers"][0]["expected_next_order_date"] == "2024-05-01"
    assert top["definition"].startswith("value at risk as scored")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Expected next order" in html and '<th class="num">p_alive</th>' in html


def test_campaign_results_section_shows_what_it_is_given(tmp_path, scored):
    build_report(scored=scored, out_dir=tmp_path, campaign_results={"measured uplift": 0.031})
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<td>measured uplift</td>" in html and "0.03" in html


def test_export_summary_names_who_was_left_out(tmp_path, scored):
    export = {"left_out": {"treatment": {"not_opted_in": 3, "no_postal_address": 2}}}
    allocated = scored.assign(cost=[2.0, 2.0, 0.0, 0.0], expected_gain=[4.4, 0.0, 0.0, 0.0])
    build_report(scored=allocated, out_dir=tmp_path, export_summary=export)
    exclusions = json.loads((tmp_path / "report.json").read_text())["campaign"]["exclusions"]
    assert {"stage": "left out of the treatment list", "reason": "not opted in to marketing",
            "customers": 3} in exclusions  # fmt: skip
    assert {"stage": "left out of the treatment list", "reason": "no postal address",
            "customers": 2} in exclusions  # fmt: skip


def test_read_summary_refusals(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_summary(tmp_path / "summary.json")
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(DataError, match="must hold a JSON object, got list"):
        read_summary(tmp_path / "bad.json")


def test_report_command_names_a_missing_export_folder(demo, tmp_path):
    from typer.testing import CliRunner

    from winback.cli import app

    missing = tmp_path / "exports"
    args = ["report", "--scores", str(demo.scores), "--export", str(missing)]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"DataError: Summary {missing / 'summary.json'} does not exist")
    assert not (tmp_path / "out").exists()


def test_demo_report_shows_each_customers_values_and_both_clvs(demo):
    report = json.loads((demo.report.parent / "report.json").read_text())
    keys = [c["key"] for c in report["top_at_risk"]["columns"]]
    for key in ("p_alive", "value_if_retained", "value_at_risk", "clv"):
        assert key in keys
    assert {"expected_next_order_date", "days_to_next_order"} <= set(keys)
    # the scores carry value at risk, and the report takes it as scored
    assert report["top_at_risk"]["definition"].startswith("value at risk as scored")
    scored = pd.read_parquet(demo.scores)
    rows = {row["key"]: row for row in report["clv"]["rows"]}
    assert rows["textbook_clv"]["value"] == pytest.approx(report["retention"]["textbook_clv"])
    assert rows["model_clv"]["value"] == pytest.approx(scored["clv"].mean())
    assert "the next 12 months, undiscounted" in rows["model_clv"]["definition"]
    html = demo.report.read_text(encoding="utf-8")
    assert "Customer lifetime value: textbook and model" in html
    assert html.index("Textbook CLV</a>") < html.index("Model CLV (mean per scored customer)</a>")


def test_clv_section_says_how_the_model_clv_was_computed():
    retention = {"textbook_clv": 80.0, "period_days": 90, "period_start": "2024-01-02",
                 "cutoff": "2024-03-31"}  # fmt: skip
    section = clv_section(
        retention,
        {"mean_clv": 55.5},
        {"clv_months": 24, "annual_discount_rate": 0.1, "margin": 0.3},
    )
    textbook, model = section["rows"]
    assert (textbook["value"], model["value"]) == (80.0, 55.5)
    assert "90 days from 2024-01-02 to 2024-03-31" in textbook["definition"]
    assert (
        "margin at 30% of revenue over the next 24 months, discounted at 10% a year"
        in (model["definition"])
    )
    assert clv_section(retention, None)["rows"][1]["value"] is None
    assert clv_section(None, None) is None


def test_demo_report_shows_the_next_order_backtest_next_to_its_baseline(demo):
    report = json.loads((demo.report.parent / "report.json").read_text())
    table = report["evaluation"]["next_order"]
    evaluation = json.loads((demo.bundle / "evaluation.json").read_text())["next_order"]
    methods = [row["method"] for row in table["methods"]]
    assert sorted(methods) == sorted(evaluation["methods"])
    assert methods[0] == "winback" and methods[-1] == "mean_gap"
    winback = next(row for row in table["methods"] if row["method"] == "winback")
    expected = evaluation["methods"]["winback"]["median_abs_error_days"]
    assert winback["values"]["median_abs_error_days"] == pytest.approx(expected)
    html = demo.report.read_text(encoding="utf-8")
    assert 'id="next-order"' in html and "Median abs. error (days)" in html
