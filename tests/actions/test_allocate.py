"""Allocation: hand-computed gains, budget and caps with fallback, ties, control group, and a
hypothesis check against a plain sequential greedy over (customer, action) candidates."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from winback.actions import ActionsConfig, allocate_actions, control_mask, parse_actions_config
from winback.actions._allocate import allocation_summary, expected_gains
from winback.actions._control import stable_uniform
from winback.exceptions import ConfigError, DataError

EVERYONE = {"field": "p_churn", "op": ">=", "value": 0}


def action(name: str, cost: float, uplift: float, when: Any = None, **extra: Any) -> dict:
    return {
        "name": name,
        "channel": "email",
        "offer": f"offer {name}",
        "unit_cost": cost,
        "uplift": uplift,
        "when": when or EVERYONE,
        **extra,
    }


def config(*actions: dict, budget: float = 1000.0, control: float = 0.0, cid: str = "c") -> Any:
    return parse_actions_config(
        {"campaign_id": cid, "budget": budget, "control_fraction": control, "actions": actions}
    )


def scored(p_churn: list[float], value: list[float], ids: list[Any] | None = None) -> pd.DataFrame:
    ids = list(range(1, len(p_churn) + 1)) if ids is None else ids
    return pd.DataFrame({"customer_id": ids, "p_churn": p_churn, "expected_value": value})


def test_best_positive_gain_wins_by_hand() -> None:
    # gain = uplift * value at risk - cost; value at risk = p * v / (1 - p)
    # customer 1: p=0.5, v=50 -> at risk 50 -> A: 0.2*50-5 = 5.0  ; B: 0.05*50-1 = 1.5  -> A
    # customer 2: p=0.5, v=10 -> at risk 10 -> A: 2-5 = -3        ; B: 0.5-1 = -0.5     -> none
    # customer 3: p=0.9, v=3  -> at risk 27 -> A: 5.4-5 = 0.4     ; B: 1.35-1 = 0.35    -> A
    cfg = config(action("A", 5.0, 0.2), action("B", 1.0, 0.05))
    out = allocate_actions(scored([0.5, 0.5, 0.9], [50.0, 10.0, 3.0]), cfg)
    assert out["action"].tolist() == ["A", "no_action", "A"]
    assert out["expected_gain"].tolist() == pytest.approx([5.0, 0.0, 0.4])
    assert out["cost"].tolist() == [5.0, 0.0, 5.0]
    assert out["group"].tolist() == ["treatment", "none", "treatment"]
    assert out["offer"].tolist()[0] == "offer A" and pd.isna(out["offer"].iloc[1])
    assert out["channel"].tolist()[2] == "email" and pd.isna(out["channel"].iloc[1])


def test_gain_is_uplift_times_value_at_risk_by_hand() -> None:
    # p_churn 0.4, expected value 30: value if retained 30 / 0.6 = 50, value at risk 0.4 * 50 = 20
    # uplift 0.15 keeps 15% of would-be churners: 0.15 * 20 - 2 = 1.0 (not 0.4*0.15*30-2 = -0.2)
    # uplift: model, predicted incremental response 0.06 (= 0.4 * 0.15): 0.06 * 50 - 2 = 1.0;
    # -0.02 (a contact puts the customer off): -0.02 * 50 - 2 = -3.0
    frame = scored([0.4, 0.4], [30.0, 30.0]).assign(uplift_M=[0.06, -0.02])
    cfg = config(action("A", 2.0, 0.15), action("M", 2.0, "model"))  # type: ignore[arg-type]
    assert expected_gains(frame, cfg) == pytest.approx(np.array([[1.0, 1.0], [1.0, -3.0]]))
    assert allocate_actions(frame, cfg)["expected_gain"].tolist() == pytest.approx([1.0, 1.0])


def test_a_near_certain_churner_is_valued_at_twenty_times_their_expected_value() -> None:
    # p_churn 1: value if retained 10 / max(0, 0.05) = 200, value at risk 200: 0.1 * 200 - 1 = 19
    gain = expected_gains(scored([1.0], [10.0]), config(action("A", 1.0, 0.1)))
    assert gain == pytest.approx(np.array([[19.0]]))


@settings(max_examples=200, deadline=None)
@given(
    p_churn=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=8),
    value=st.floats(0.0, 1e6),
    uplift=st.floats(0.0, 1.0),
    cost=st.floats(0.0, 100.0),
)
def test_gain_equals_uplift_times_value_at_risk_less_cost_and_rises_with_it(
    p_churn: list[float], value: float, uplift: float, cost: float
) -> None:
    frame = scored(p_churn, [value] * len(p_churn))
    gain = expected_gains(frame, config(action("A", cost, uplift)))[:, 0]
    at_risk = np.array([p * value / max(1.0 - p, 0.05) for p in p_churn])
    assert gain == pytest.approx(uplift * at_risk - cost, rel=1e-9, abs=1e-9)
    order = np.argsort(at_risk, kind="stable")
    assert (np.diff(gain[order]) >= -1e-9 * max(1.0, float(np.abs(gain).max()))).all()


def test_ineligible_customers_get_no_action() -> None:
    only_rich = {"field": "expected_value", "op": ">", "value": 50}
    out = allocate_actions(
        scored([0.9, 0.9], [100.0, 40.0]), config(action("A", 1.0, 0.5, only_rich))
    )
    assert out["action"].tolist() == ["A", "no_action"]


def test_budget_takes_highest_gains_then_cheaper_actions_that_still_fit() -> None:
    # value at risk p * 100 / (1 - p): c1 900, c2 400, c3 11.1
    # A (cost 8) gains: c1 0.5*900-8=442, c2 0.5*400-8=192, c3 0.5*11.1-8=-2.4
    # B (cost 1) gains: c1 179, c2 79, c3 0.2*11.1-1=1.2
    # budget 10: c1 takes A (2 left); c2's A no longer fits -> c2 falls back to B (1 left);
    # c3 takes B (0 left).
    cfg = config(action("A", 8.0, 0.5), action("B", 1.0, 0.2), budget=10.0)
    out = allocate_actions(scored([0.9, 0.8, 0.1], [100.0, 100.0, 100.0]), cfg)
    assert out["action"].tolist() == ["A", "B", "B"]
    assert out["cost"].sum() == 10.0


def test_cap_sends_the_rest_to_their_next_best_action() -> None:
    cfg = config(action("A", 0.0, 0.5, max_customers=1), action("B", 0.0, 0.1))
    out = allocate_actions(scored([0.5, 0.9, 0.7], [10.0, 10.0, 10.0]), cfg)
    assert out["action"].tolist() == ["B", "A", "B"]  # the highest gain gets the one A


def test_ties_break_by_customer_id_whatever_the_row_order() -> None:
    cfg = config(action("A", 1.0, 0.5, max_customers=2))
    frame = scored([0.5] * 4, [10.0] * 4, ids=["d", "b", "a", "c"])
    out = allocate_actions(frame, cfg)
    assert dict(zip(out["customer_id"], out["action"], strict=True)) == {
        "a": "A",
        "b": "A",
        "c": "no_action",
        "d": "no_action",
    }


def test_equal_gains_across_actions_go_to_the_earlier_action() -> None:
    cfg = config(action("first", 1.0, 0.2), action("second", 1.0, 0.2))
    assert allocate_actions(scored([0.5], [100.0]), cfg)["action"].tolist() == ["first"]


def test_budget_below_every_cost_assigns_nobody() -> None:
    out = allocate_actions(scored([1.0], [1000.0]), config(action("A", 5.0, 0.5), budget=4.0))
    assert out["group"].tolist() == ["none"]


def test_output_keeps_rows_and_replaces_old_allocation_columns() -> None:
    frame = scored([0.5, 0.9], [100.0, 100.0]).assign(segment=["x", "y"], action="stale")
    before = frame.copy()
    out = allocate_actions(frame, config(action("A", 1.0, 0.5)))
    pd.testing.assert_frame_equal(frame, before)
    assert out.columns.tolist() == [
        "customer_id",
        "p_churn",
        "expected_value",
        "segment",
        "action",
        "offer",
        "channel",
        "expected_gain",
        "cost",
        "group",
    ]
    assert out["action"].tolist() == ["A", "A"]


def test_default_action_label_comes_from_the_config() -> None:
    raw = {"campaign_id": "c", "budget": 1.0, "default_action": "leave_alone"}
    cfg = parse_actions_config({**raw, "actions": [action("A", 5.0, 0.1)]})
    assert allocate_actions(scored([0.5], [1.0]), cfg)["action"].tolist() == ["leave_alone"]


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (scored([0.5], [1.0]).drop(columns="p_churn"), r"lacks \['p_churn'\]"),
        (scored([0.5, 0.5], [1.0, 1.0], ids=[7, 7]), r"customer_id must be unique .* \[7\]"),
        (scored([1.5, 0.5], [1.0, 1.0]), r"p_churn must be a probability in \[0, 1\]; 1 rows"),
        (scored([0.5], [np.nan]), "expected_value must be a finite number"),
    ],
)
def test_invalid_scored_frames_are_data_errors(frame: pd.DataFrame, expected: str) -> None:
    with pytest.raises(DataError, match=expected):
        allocate_actions(frame, config(action("A", 1.0, 0.1)))


def test_missing_condition_column_is_a_config_error() -> None:
    cfg = config(action("A", 1.0, 0.1, {"field": "risk_tier", "op": "==", "value": "high"}))
    with pytest.raises(ConfigError, match="actions\\[0\\] 'A': condition field 'risk_tier'"):
        allocate_actions(scored([0.5], [1.0]), cfg)


def test_allocation_summary_counts_and_money() -> None:
    allocated = pd.DataFrame(
        {
            "action": ["A", "A", "B", "no_action"],
            "group": ["treatment", "control", "treatment", "none"],
            "cost": [2.0, 2.0, 1.0, 0.0],
            "expected_gain": [5.0, 4.0, 1.0, 0.0],
        }
    )
    summary = allocation_summary(allocated)
    assert summary.index.tolist() == ["A", "B"]
    assert summary.loc["A"].tolist() == [2, 1, 1, 4.0, 2.0, 5.0]
    assert summary.loc["B"].tolist() == [1, 1, 0, 1.0, 1.0, 1.0]


# --- the control group ---------------------------------------------------------------------------


def test_stable_uniform_is_blake2b_of_campaign_and_customer_id() -> None:
    digest = hashlib.blake2b(b"spring-2024\x1f42", digest_size=8).digest()
    expected = (int.from_bytes(digest, "big") >> 11) / 2**53
    values = stable_uniform([42, "42", np.int64(42), "abc"], salt="spring-2024")
    assert values.tolist() == [expected, expected, expected, 0.8479189855720167]
    assert expected == 0.39394917476094693  # pinned: must not change across versions


def everyone_treated(n: int, cid: str, control: float = 0.1) -> tuple[pd.DataFrame, ActionsConfig]:
    frame = scored([0.5] * n, [100.0] * n, ids=list(range(100_000, 100_000 + n)))
    return frame, config(action("A", 0.01, 0.5), budget=1e6, control=control, cid=cid)


def test_control_fraction_on_20k_customers_is_within_binomial_tolerance() -> None:
    frame, cfg = everyone_treated(20_000, "spring")
    share = (allocate_actions(frame, cfg)["group"] == "control").mean()
    assert abs(share - 0.1) < 0.01  # sd = sqrt(0.1 * 0.9 / 20000) = 0.0021; 0.01 is 4.7 sd


def test_control_group_is_unchanged_by_row_order_and_changes_with_campaign_id() -> None:
    frame, cfg = everyone_treated(20_000, "spring")
    direct = allocate_actions(frame, cfg).set_index("customer_id")["group"]
    shuffled = allocate_actions(frame.sample(frac=1, random_state=1), cfg)
    pd.testing.assert_series_equal(
        shuffled.set_index("customer_id")["group"].loc[direct.index], direct
    )
    other = allocate_actions(frame, everyone_treated(20_000, "autumn")[1])
    other_control = set(other.loc[other["group"] == "control", "customer_id"])
    control = set(direct.index[direct == "control"])
    # independent draws: the overlap is about 0.1 of either group, far from all of it
    assert 0.05 < len(control & other_control) / len(control) < 0.15


def test_control_customers_keep_their_action_and_cost_but_are_not_treated() -> None:
    frame, cfg = everyone_treated(2_000, "spring", control=0.5)
    out = allocate_actions(frame, cfg)
    held = out["group"] == "control"
    assert 0.4 < held.mean() < 0.6
    assert (out.loc[held, "action"] == "A").all() and (out.loc[held, "cost"] == 0.01).all()
    expected = control_mask(out["customer_id"], campaign_id="spring", fraction=0.5)
    assert held.tolist() == expected.tolist()


def test_control_mask_rejects_bad_fraction_and_zero_holds_out_nobody() -> None:
    assert not control_mask(range(100), campaign_id="c", fraction=0.0).any()
    with pytest.raises(ConfigError, match=r"control fraction must lie in \[0, 1\)"):
        control_mask([1], campaign_id="c", fraction=1.0)


# --- property: the vectorised greedy equals the plain sequential greedy ---------------------------


def reference_allocation(frame: pd.DataFrame, cfg: ActionsConfig, eligible: np.ndarray) -> list:
    """Plain loop: candidates by (gain desc, customer_id, action order); take if it fits.

    The gain is written out by hand: ``uplift x value at risk - cost``, the value at risk being
    ``p x v / max(1 - p, 0.05)`` (multiplied in the allocation's order, so that equal gains
    stay equal to the last bit and ties break the same way)."""
    candidates = []
    for i, (cid, p, v) in enumerate(
        frame[["customer_id", "p_churn", "expected_value"]].itertuples(index=False)
    ):
        for j, act in enumerate(cfg.actions):
            gain = p * act.uplift * (v / max(1.0 - p, 0.05)) - act.unit_cost
            if eligible[i, j] and gain > 0:
                candidates.append((-gain, cid, j, i))
    budget_left = round(cfg.budget * 1_000_000)
    taken = [0] * len(cfg.actions)
    choice = [-1] * len(frame)
    for _, _, j, i in sorted(candidates):
        act, cost = cfg.actions[j], round(cfg.actions[j].unit_cost * 1_000_000)
        if choice[i] >= 0 or taken[j] >= (act.max_customers or len(frame)) or cost > budget_left:
            continue
        choice[i], taken[j], budget_left = j, taken[j] + 1, budget_left - cost
    return [cfg.actions[j].name if j >= 0 else "no_action" for j in choice]


@st.composite
def campaigns(draw: st.DrawFn) -> tuple[pd.DataFrame, ActionsConfig, np.ndarray]:
    n = draw(st.integers(1, 25))
    k = draw(st.integers(1, 4))
    eligible = np.array(draw(st.lists(st.booleans(), min_size=n * k, max_size=n * k))).reshape(n, k)
    frame = pd.DataFrame(
        {
            "customer_id": draw(st.permutations(list(range(n)))),
            "p_churn": draw(
                st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=n, max_size=n)
            ),
            "expected_value": draw(
                st.lists(st.sampled_from([0.0, 10.0, 40.0, 100.0]), min_size=n, max_size=n)
            ),
        }
    )
    for j in range(k):
        frame[f"e{j}"] = eligible[:, j]
    acts = [
        action(
            f"a{j}",
            draw(st.sampled_from([0.0, 0.1, 0.5, 1.0, 2.5])),
            draw(st.sampled_from([0.05, 0.1, 0.3])),
            {"field": f"e{j}", "op": "==", "value": True},
            max_customers=draw(st.one_of(st.none(), st.integers(1, 5))),
        )
        for j in range(k)
    ]
    budget = draw(st.sampled_from([0.1, 0.3, 1.0, 2.0, 3.3, 7.5, 50.0]))
    return frame, config(*acts, budget=budget, control=0.2), eligible


def _allocated_like_the_reference(
    frame: pd.DataFrame, cfg: ActionsConfig, eligible: np.ndarray
) -> pd.DataFrame:
    """The allocation, after checking it picks what the sequential greedy picks."""
    out = allocate_actions(frame, cfg)
    assert out["action"].tolist() == reference_allocation(frame, cfg, eligible)
    return out


@settings(max_examples=150, deadline=None)
@given(campaigns())
def test_allocation_matches_sequential_greedy_and_never_exceeds_budget_or_caps(
    case: tuple[pd.DataFrame, ActionsConfig, np.ndarray],
) -> None:
    out = _allocated_like_the_reference(*case)
    frame, cfg, eligible = case
    planned = np.round(out["cost"].to_numpy() * 1_000_000).astype(np.int64).sum()
    assert planned <= round(cfg.budget * 1_000_000)
    for j, act in enumerate(cfg.actions):
        mine = (out["action"] == act.name).to_numpy()
        assert mine.sum() <= (act.max_customers or len(frame))
        assert eligible[mine, j].all() and (out.loc[mine, "expected_gain"] > 0).all()
    assert ((out["group"] == "none") == (out["action"] == "no_action")).all()


# --- budgets of any finite size ----------------------------------------------------------------


@pytest.mark.parametrize("budget", [9.3e12, 1e13, 9.3e15, 1e300, "1e13"])
def test_a_huge_budget_funds_every_positive_gain(budget: float | str) -> None:
    # ran out of int64 micro-units at 9.3e12 and allocated nobody
    frame = scored([0.5, 0.9, 0.1], [100.0, 200.0, 10.0])
    out = allocate_actions(frame, config(action("A", 1.0, 0.5), budget=budget))  # type: ignore[arg-type]
    assert out["action"].tolist() == ["A", "A", "no_action"]  # c3: 0.5*(0.1*10/0.9)-1 < 0


def test_huge_costs_times_many_customers_are_exact() -> None:
    # 2,000 customers x 1e13 each would overflow int64 millionths: Python integers take over
    n = 2_000
    frame = scored([1.0] * n, [1e15] * n)
    out = allocate_actions(frame, config(action("A", 1e13, 0.5), budget=1e13 * 1_234.5))
    assert (out["action"] == "A").sum() == 1_234


@pytest.mark.parametrize("budget", [float("inf"), float("nan"), "inf", ".nan", "-1e13", "lots"])
def test_a_budget_that_is_not_a_finite_positive_number_is_refused(budget: object) -> None:
    with pytest.raises(ConfigError, match=r"budget: "):
        config(action("A", 1.0, 0.5), budget=budget)  # type: ignore[arg-type]


@st.composite
def huge_campaigns(draw: st.DrawFn) -> tuple[pd.DataFrame, ActionsConfig, np.ndarray]:
    frame, cfg, eligible = draw(campaigns())
    scale = draw(st.sampled_from([1e6, 1e10, 1e13, 1e16]))
    raw = cfg.model_dump()
    raw["budget"] = raw["budget"] * scale
    for act in raw["actions"]:
        act["unit_cost"] = act["unit_cost"] * scale
    frame = frame.assign(expected_value=frame["expected_value"] * scale)
    return frame, parse_actions_config(raw), eligible


@settings(max_examples=100, deadline=None)
@given(huge_campaigns())
def test_huge_money_allocates_like_the_sequential_greedy(
    case: tuple[pd.DataFrame, ActionsConfig, np.ndarray],
) -> None:
    out = _allocated_like_the_reference(*case)
    planned = sum(round(c * 1_000_000) for c in out["cost"])
    assert planned <= round(case[1].budget * 1_000_000)
