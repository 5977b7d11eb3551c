"""Campaign exports: who is exported and who is left out (and why), layouts, byte-identical
re-runs, atomic replacement, and a run from the shipped config through allocation to files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from winback.actions import allocate_actions, load_actions_config
from winback.exceptions import ConfigError, DataError
from winback.export import Layout, export_campaign
from winback.export._campaign import EXPORT_FORMAT

REPO = Path(__file__).resolve().parents[2]

# id: (action, channel, group, customer row?, opt-in, email, phone)
CASES: dict[int, tuple[str, str, str, bool, Any, Any, Any]] = {
    1: ("A", "email", "treatment", True, True, "a1@x.com", None),  # exported
    2: ("A", "email", "treatment", True, False, "a2@x.com", None),  # not_opted_in
    3: ("A", "email", "treatment", False, None, None, None),  # no_customer_record
    4: ("A", "email", "treatment", True, True, None, "+111"),  # no_email
    5: ("A", "email", "treatment", True, True, "   ", None),  # no_email (blank)
    6: ("A", "email", "control", True, True, "a6@x.com", None),  # control, exported
    7: ("B", "sms", "treatment", True, True, None, "+447"),  # exported
    8: ("B", "sms", "treatment", True, True, "a8@x.com", None),  # no_phone
    9: ("C", "mail", "treatment", True, True, "a9@x.com", None),  # no_postal_address
    10: ("no_action", "", "none", True, True, "a10@x.com", None),  # not assigned
    11: ("A", "email", "control", True, False, "a11@x.com", None),  # control, not_opted_in
    12: ("A", "email", "treatment", True, None, "a12@x.com", None),  # opt-in unknown
}
COST = {"A": 1.5, "B": 0.1, "C": 4.0, "no_action": 0.0}


def allocated() -> pd.DataFrame:
    ids = list(CASES)
    actions = [CASES[i][0] for i in ids]
    return pd.DataFrame(
        {
            "customer_id": ids,
            "p_churn": [0.1234567] * len(ids),
            "expected_value": [99.5] * len(ids),
            "segment": ["At Risk"] * 6 + ["Lost"] * 6,
            "risk_tier": "high",
            "value_tier": "medium",
            "action": actions,
            "offer": [f"offer {a}" if a != "no_action" else None for a in actions],
            "channel": pd.Series([CASES[i][1] or None for i in ids], dtype="str"),
            "expected_gain": [0.0 if a == "no_action" else 2.25 for a in actions],
            "cost": [COST[a] for a in actions],
            "group": [CASES[i][2] for i in ids],
        }
    )


def customers() -> pd.DataFrame:
    rows = [(i, *CASES[i][4:]) for i in CASES if CASES[i][3]]
    frame = pd.DataFrame(rows, columns=["customer_id", "marketing_opt_in", "email", "phone"])
    return frame.astype({"marketing_opt_in": "boolean", "email": "str", "phone": "str"})


def run(out: Path, **kwargs: Any) -> Any:
    kwargs.setdefault("campaign_id", "spring")
    return export_campaign(kwargs.pop("frame", allocated()), customers(), out, **kwargs)


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_only_opted_in_customers_with_an_address_are_exported(tmp_path: Path) -> None:
    result = run(tmp_path / "out", budget=50.0)
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "control.csv",
        "summary.json",
        "treatment_A.csv",
        "treatment_B.csv",
        "treatment_C.csv",
    ]
    assert read(out / "treatment_A.csv")["customer_id"].tolist() == ["1"]
    assert read(out / "treatment_B.csv")["customer_id"].tolist() == ["7"]
    assert read(out / "treatment_C.csv").empty
    assert read(out / "control.csv")["customer_id"].tolist() == ["6"]
    assert result.files[-1] == out / "summary.json"


def test_generic_file_content_is_exact(tmp_path: Path) -> None:
    run(tmp_path / "out")
    assert (tmp_path / "out" / "treatment_A.csv").read_text() == (
        "customer_id,campaign_id,action,channel,offer,email,segment,risk_tier,value_tier,"
        "p_churn,expected_value,expected_gain\n"
        "1,spring,A,email,offer A,a1@x.com,At Risk,high,medium,0.123457,99.50,2.25\n"
    )
    assert (tmp_path / "out" / "control.csv").read_text() == (
        "customer_id,campaign_id,action,channel,offer,segment,risk_tier,value_tier,"
        "p_churn,expected_value,expected_gain\n"
        "6,spring,A,email,offer A,At Risk,high,medium,0.123457,99.50,2.25\n"
    )
    sms = read(tmp_path / "out" / "treatment_B.csv")
    assert sms["phone"].tolist() == ["+447"] and "email" not in sms.columns


def test_mailchimp_layout_headers_tags_and_generic_fallback_for_mail(tmp_path: Path) -> None:
    run(tmp_path / "out", layout="mailchimp")
    email = read(tmp_path / "out" / "treatment_A.csv")
    assert email.columns.tolist() == [
        "Email Address",
        "Tags",
        "CUST_ID",
        "CAMPAIGN",
        "ACTION",
        "OFFER",
        "SEGMENT",
        "RISK_TIER",
        "VALUE_TIER",
        "P_CHURN",
        "EXP_VALUE",
    ]
    assert email.iloc[0].tolist()[:3] == ["a1@x.com", "spring,A", "1"]
    assert read(tmp_path / "out" / "treatment_B.csv").columns[0] == "SMS Phone Number"
    mail = read(tmp_path / "out" / "treatment_C.csv")
    assert mail.columns[:6].tolist() == [
        "customer_id",
        "campaign_id",
        "action",
        "channel",
        "offer",
        "postal_address",
    ]


def test_a_custom_layout(tmp_path: Path) -> None:
    slim = Layout(
        name="slim", address_headers={"email": "mail_to"}, fields=(("id", "customer_id"),)
    )
    summary = run(tmp_path / "out", layout=slim).summary
    assert (tmp_path / "out" / "treatment_A.csv").read_text() == "mail_to,id\na1@x.com,1\n"
    assert read(tmp_path / "out" / "treatment_B.csv").columns[0] == "customer_id"  # sms: generic
    assert summary["layout"] == "slim"


def test_summary_counts_reconcile_per_action_and_group(tmp_path: Path) -> None:
    summary = run(tmp_path / "out", budget=50.0).summary
    assert summary == json.loads((tmp_path / "out" / "summary.json").read_text())
    frame = allocated()
    for name, part in summary["actions"].items():
        for group in ("treatment", "control"):
            counts = part[group]
            assigned = ((frame["action"] == name) & (frame["group"] == group)).sum()
            assert counts["assigned"] == assigned
            assert counts["assigned"] == counts["exported"] + sum(counts["left_out"].values())
    assert summary["actions"]["A"]["treatment"] == {
        "assigned": 6,
        "exported": 1,
        "left_out": {
            "no_customer_record": 1,
            "not_opted_in": 2,
            "no_email": 2,
            "no_phone": 0,
            "no_postal_address": 0,
        },
    }
    assert summary["left_out"]["treatment"] == {
        "no_customer_record": 1,
        "not_opted_in": 2,
        "no_email": 2,
        "no_phone": 1,
        "no_postal_address": 1,
    }
    assert summary["left_out"]["control"]["not_opted_in"] == 1
    assert summary["control_size"] == 1
    assert summary["customers"] == {"scored": 12, "assigned": 11}
    # planned: 8 x A (1.5) + 2 x B (0.1) + C (4.0) = 16.2; spent: customer 1 (1.5) + 7 (0.1)
    assert summary["budget"] == {"limit": 50.0, "planned": 16.2, "spent": 1.6}
    assert summary["segments"] == {
        "At Risk": {"treatment": 1, "control": 1},
        "Lost": {"treatment": 1, "control": 0},
    }
    assert summary["format"] == EXPORT_FORMAT


def test_opted_out_and_unknown_customers_never_appear_in_any_file(tmp_path: Path) -> None:
    for layout in ("generic", "mailchimp"):
        out = tmp_path / layout
        run(out, layout=layout)
        exported = set()
        for path in out.glob("*.csv"):
            table = read(path)
            exported |= set(table.get("customer_id", table.get("CUST_ID", pd.Series())))
        assert exported == {"1", "6", "7"}


def test_address_columns_can_map_mail_to_a_postal_address_column(tmp_path: Path) -> None:
    people = customers().assign(
        postal_address=["", "", "", "", "", "", "", "1 High St", "", "", ""]
    )
    export_campaign(allocated(), people, tmp_path / "out", campaign_id="spring")
    mail = read(tmp_path / "out" / "treatment_C.csv")
    assert mail[["customer_id", "postal_address"]].values.tolist() == [["9", "1 High St"]]


def test_same_inputs_give_byte_identical_files_whatever_the_row_order(tmp_path: Path) -> None:
    run(tmp_path / "first", layout="mailchimp", budget=10.0)
    shuffled = allocated().sample(frac=1, random_state=7)
    run(tmp_path / "second", layout="mailchimp", budget=10.0, frame=shuffled)
    first = {p.name: p.read_bytes() for p in (tmp_path / "first").iterdir()}
    second = {p.name: p.read_bytes() for p in (tmp_path / "second").iterdir()}
    assert first == second


@pytest.fixture
def failing_second_csv(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the second CSV written fail half-way, after part of it reached the disk."""
    real = pd.DataFrame.to_csv
    calls = {"n": 0}

    def half_then_fail(self: pd.DataFrame, path: Any, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            real(self.head(1), path, *args, **kwargs)
            raise OSError("disk full")
        real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_fail)


def test_failure_mid_write_leaves_no_folder_and_no_partial_file(
    tmp_path: Path, failing_second_csv: None
) -> None:
    with pytest.raises(OSError, match="disk full"):
        run(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_failure_mid_write_keeps_the_previous_export_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    run(out, budget=1.0)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = pd.DataFrame.to_csv

    def fail(self: pd.DataFrame, path: Any, *args: Any, **kwargs: Any) -> None:
        real(self.head(1), path, *args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail)
    with pytest.raises(OSError, match="disk full"):
        run(out, budget=2.0)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_previous_export_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(out)
    only_a = allocated().loc[lambda f: f["action"].isin(["A", "no_action"])]
    run(out, frame=only_a)
    assert sorted(p.name for p in out.iterdir()) == [
        "control.csv",
        "summary.json",
        "treatment_A.csv",
    ]


def test_refuses_to_replace_a_folder_with_other_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="holds files that are not a winback export"):
        run(out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_input_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="layout must be one of generic, mailchimp, got 'x'"):
        run(tmp_path / "a", layout="x")
    with pytest.raises(DataError, match=r"lacks \['group'\] \(run allocate_actions first\)"):
        run(tmp_path / "b", frame=allocated().drop(columns="group"))
    people = customers().drop(columns="marketing_opt_in")
    with pytest.raises(DataError, match=r"customers table lacks \['marketing_opt_in'\]"):
        export_campaign(allocated(), people, tmp_path / "c", campaign_id="s")
    people = customers().astype({"customer_id": "str"})
    with pytest.raises(DataError, match="customer_id is int64 in the scored frame but str"):
        export_campaign(allocated(), people, tmp_path / "d", campaign_id="s")
    people = pd.concat([customers(), customers().head(1)])
    with pytest.raises(DataError, match=r"customer_id repeats in customers: \[1\]"):
        export_campaign(allocated(), people, tmp_path / "e", campaign_id="s")
    with pytest.raises(DataError, match=r"action names \['\.\./A'\] cannot name files"):
        run(tmp_path / "g", frame=allocated().replace({"action": {"A": "../A"}}))
    push = allocated().assign(channel=lambda f: f["channel"].replace("sms", "push"))
    with pytest.raises(ConfigError, match=r"no address column for channel\(s\) \['push'\]"):
        run(tmp_path / "f", frame=push)
    assert not any(tmp_path.iterdir())


def test_shipped_config_from_allocation_to_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    n = 400
    scored = pd.DataFrame(
        {
            "customer_id": np.arange(n) + 1000,
            "p_churn": rng.uniform(size=n),
            "expected_value": rng.gamma(2.0, 60.0, size=n),
            "risk_tier": rng.choice(["low", "medium", "high"], size=n),
            "value_tier": rng.choice(["low", "medium", "high"], size=n),
            "segment": rng.choice(["Champions", "At Risk", "Lost", "Loyal"], size=n),
            "n_orders": rng.integers(1, 5, size=n),
            "recency_days": rng.integers(0, 400, size=n),
        }
    )
    config = load_actions_config(REPO / "configs" / "actions.yaml")
    allocated_ = allocate_actions(scored, config)
    people = pd.DataFrame(
        {
            "customer_id": scored["customer_id"],
            "email": [f"c{i}@x.com" for i in range(n)],
            "phone": pd.NA,
            "marketing_opt_in": rng.uniform(size=n) < 0.7,
        }
    )
    summary = export_campaign(
        allocated_, people, tmp_path / "out", campaign_id=config.campaign_id, budget=config.budget
    ).summary
    assigned = allocated_.loc[allocated_["group"] != "none"]
    assert summary["customers"]["assigned"] == len(assigned)
    for name, part in summary["actions"].items():
        mine = assigned.loc[assigned["action"] == name]
        assert part["treatment"]["assigned"] == (mine["group"] == "treatment").sum()
        assert part["control"]["assigned"] == (mine["group"] == "control").sum()
        rows = len(read(tmp_path / "out" / f"treatment_{name}.csv"))
        assert rows == part["treatment"]["exported"]
    opted_out = set(people.loc[~people["marketing_opt_in"], "customer_id"].astype(str))
    for path in (tmp_path / "out").glob("*.csv"):
        assert not opted_out & set(read(path).get("customer_id", pd.Series()))
    assert summary["budget"]["planned"] <= config.budget
