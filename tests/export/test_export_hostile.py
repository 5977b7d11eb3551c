"""Hostile input on the way to marketing tools: conflicting consent never means consent, no CSV
cell runs as a formula, invalid e-mail addresses are listed with their reason, campaign ids are
checked, and an export never replaces a folder of the user's."""

from __future__ import annotations

import csv
import json
import os
import re
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from winback.exceptions import ConfigError, DataError, RejectedRowsWarning
from winback.export import export_campaign
from winback.io import read_customers, staging_path

_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _scored(ids: list[Any], **overrides: Any) -> pd.DataFrame:
    n = len(ids)
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "action": ["win"] * n,
            "offer": ["10% off"] * n,
            "channel": ["email"] * n,
            "group": ["treatment"] * n,
            "cost": [1.0] * n,
            "expected_gain": [2.0] * n,
            "p_churn": [0.5] * n,
            "expected_value": [10.0] * n,
            "segment": ["At Risk"] * n,
            "risk_tier": ["high"] * n,
            "value_tier": ["high"] * n,
        }
    )
    return frame.assign(**overrides)


def _cells(folder: Path) -> list[str]:
    """Every cell of every CSV file in ``folder``, as a spreadsheet would read it."""
    cells = []
    for path in sorted(folder.glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            cells += [cell for row in csv.reader(handle) for cell in row]
    return cells


def _runs_as_formula(cell: str) -> bool:
    return cell[:1] in ("\t", "\r") or cell.lstrip()[:1] in ("=", "+", "-", "@")


# --- consent ----------------------------------------------------------------------------------

_FLAGS = st.sampled_from(["yes", "no", "true", "false", "1", "0", "", "maybe", "Y", "N"])
_YES = {"yes", "true", "1", "y"}


@_SETTINGS
@given(flags=st.lists(_FLAGS, min_size=1, max_size=5), order=st.randoms())
def test_only_an_unambiguous_opt_in_exports_in_any_order(
    tmp_path_factory: pytest.TempPathFactory, flags: list[str], order: Any
) -> None:
    order.shuffle(flags)
    rows = [(7, flag, "ann@shop.example") for flag in flags] + [(8, "yes", "bob@shop.example")]
    path = tmp_path_factory.mktemp("consent") / "customers.csv"
    pd.DataFrame(rows, columns=["customer_id", "marketing_opt_in", "email"]).to_csv(
        path, index=False
    )
    unreadable = flags.count("maybe")
    if unreadable > 0.5 * (len(rows) - flags.count("")):  # the column itself is unusable
        with pytest.raises(DataError, match="are not true/false flags"):
            read_customers(path)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RejectedRowsWarning)
        people = read_customers(path)
    out = path.with_name("out")
    result = export_campaign(
        _scored([7, 8]),
        people.data,
        out,
        campaign_id="c1",
        consent_conflicts=people.consent_conflicts,
    )
    sent = pd.read_csv(out / "treatment_win.csv")["customer_id"].tolist()
    every_yes = all(flag.lower() in _YES for flag in flags)
    assert sent == ([7, 8] if every_yes else [8])
    conflicting = any(f.lower() in _YES for f in flags) and not every_yes and len(flags) > 1
    assert result.summary["consent"] == {"conflicting_customers": int(conflicting)}
    left_out = result.summary["actions"]["win"]["treatment"]["left_out"]
    assert left_out["conflicting_opt_in"] == int(conflicting)
    assert list(people.consent_conflicts) == ([7] if conflicting else [])


@_SETTINGS
@given(flags=st.lists(st.sampled_from([True, False, None]), min_size=2, max_size=4))
def test_duplicated_customer_rows_given_to_export_resolve_the_same_way(
    tmp_path_factory: pytest.TempPathFactory, flags: list[bool | None]
) -> None:
    people = pd.DataFrame(
        {
            "customer_id": [7] * len(flags),
            "marketing_opt_in": pd.array(flags, dtype="boolean"),
            "email": "ann@shop.example",
        }
    )
    out = tmp_path_factory.mktemp("dupes") / "out"
    result = export_campaign(_scored([7]), people, out, campaign_id="c1")
    sent = len(pd.read_csv(out / "treatment_win.csv"))
    assert sent == int(all(f is True for f in flags))
    reason = result.summary["actions"]["win"]["treatment"]["left_out"]
    assert reason["conflicting_opt_in"] == int(any(flags) and not all(f is True for f in flags))


# --- what reaches a spreadsheet ---------------------------------------------------------------

_DANGER = st.builds(
    lambda space, trigger, rest: space + trigger + rest,
    st.text(alphabet=" \t\u00a0", max_size=2),
    st.sampled_from(["=", "+", "-", "@", "\t", "\r"]),
    st.text(max_size=8),
)


@_SETTINGS
@given(
    ids=st.lists(_DANGER, min_size=1, max_size=4, unique=True),
    offer=_DANGER,
    segment=_DANGER,
    address=_DANGER,
    layout=st.sampled_from(["generic", "mailchimp"]),
)
def test_no_cell_of_any_export_file_runs_as_a_formula(
    tmp_path_factory: pytest.TempPathFactory,
    ids: list[str],
    offer: str,
    segment: str,
    address: str,
    layout: str,
) -> None:
    n = len(ids)
    scored = _scored(ids, offer=offer, segment=segment, channel="sms")
    scored.loc[n - 1, "group"] = "control"
    people = pd.DataFrame(
        {"customer_id": ids, "marketing_opt_in": True, "phone": address, "email": address}
    )
    out = tmp_path_factory.mktemp("inject") / "out"
    export_campaign(scored, people, out, campaign_id="c1", layout=layout)
    cells = _cells(out)
    assert cells and not any(_runs_as_formula(cell) for cell in cells)
    written = pd.read_csv(out / "treatment_win.csv", dtype=str, keep_default_na=False)
    if len(written):  # values arrive with OWASP's leading quote, CR as a line break
        offers = written["offer" if layout == "generic" else "OFFER"]
        expected = "'" + offer if _runs_as_formula(offer) else offer
        assert set(offers) == {expected.replace("\r\n", "\n").replace("\r", "\n")}


def test_invalid_email_addresses_are_left_out_with_the_reason(tmp_path: Path) -> None:
    emails = [
        "ann@shop.example",
        "not an address",
        "bob@localhost",
        '=HYPERLINK("http://x")@evil.com',
        "-cmd@x.com",
        "cy@shop.example",
    ]
    ids = list(range(1, len(emails) + 1))
    people = pd.DataFrame({"customer_id": ids, "marketing_opt_in": True, "email": emails})
    result = export_campaign(_scored(ids), people, tmp_path / "out", campaign_id="c1")
    sent = pd.read_csv(tmp_path / "out" / "treatment_win.csv")
    assert sent["email"].tolist() == ["ann@shop.example", "cy@shop.example"]
    excluded = pd.read_csv(tmp_path / "out" / "excluded.csv")
    assert excluded[["customer_id", "reason"]].values.tolist() == [
        [2, "invalid_email"],
        [3, "invalid_email"],
        [4, "invalid_email"],
        [5, "invalid_email"],
    ]
    assert result.summary["left_out"]["treatment"]["invalid_email"] == 4


@pytest.mark.parametrize("campaign_id", ["=cmd", "../up", "", "a b", "-x", "+1", "@me"])
def test_a_campaign_id_that_is_not_a_safe_name_is_refused(tmp_path: Path, campaign_id: str) -> None:
    people = pd.DataFrame({"customer_id": [1], "marketing_opt_in": True, "email": "a@b.co"})
    with pytest.raises(ConfigError, match="--campaign-id"):
        export_campaign(_scored([1]), people, tmp_path / "out", campaign_id=campaign_id)
    assert not (tmp_path / "out").exists()


def test_zero_padded_text_ids_match_and_keep_their_zeros(tmp_path: Path) -> None:
    people = pd.DataFrame(
        {"customer_id": ["000001", "17"], "marketing_opt_in": True, "email": "a@b.co"}
    )
    scored = _scored(["000001", "17"])
    export_campaign(scored, people, tmp_path / "out", campaign_id="c1")
    sent = pd.read_csv(tmp_path / "out" / "treatment_win.csv", dtype=str)
    assert sent["customer_id"].tolist() == ["000001", "17"]
    # integer ids in the customers table match the scores' text ids without leading zeros
    people = people.assign(customer_id=[1, 17])
    export_campaign(scored, people, tmp_path / "other", campaign_id="c1")
    sent = pd.read_csv(tmp_path / "other" / "treatment_win.csv", dtype=str)
    assert sent["customer_id"].tolist() == ["17"]


# --- the output folder ------------------------------------------------------------------------


def _people() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [1], "marketing_opt_in": True, "email": "a@b.co"})


def test_a_file_added_to_a_previous_export_blocks_the_replacement(tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_campaign(_scored([1]), _people(), out, campaign_id="c1")
    (out / "my notes.txt").write_text("keep me")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(ConfigError, match=r"holds files that are not a winback export.*my notes"):
        export_campaign(_scored([1]), _people(), out, campaign_id="c2")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_an_export_file_edited_since_blocks_the_replacement(tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_campaign(_scored([1]), _people(), out, campaign_id="c1")
    with open(out / "control.csv", "a") as handle:
        handle.write("a row the user added\n")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(ConfigError, match=r"changed since it was written \(control\.csv\)"):
        export_campaign(_scored([1]), _people(), out, campaign_id="c2")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize(
    ("name", "text"),
    [("thesis.docx", "years of work"), ("control.csv", "the user's own control list\n")],
    ids=["a file of its own", "a file named like the export's"],
)
def test_a_summary_copied_into_a_folder_does_not_make_it_replaceable(
    tmp_path: Path, name: str, text: str
) -> None:
    out = tmp_path / "out"
    export_campaign(_scored([1]), _people(), out, campaign_id="c1")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "summary.json").write_bytes((out / "summary.json").read_bytes())
    (mine / name).write_text(text)
    with pytest.raises(ConfigError, match=re.escape(name)):
        export_campaign(_scored([1]), _people(), mine, campaign_id="c1")
    assert (mine / name).read_text() == text


def test_the_working_folder_is_refused_without_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scores.csv").write_text("mine")
    for out in (".", str(tmp_path), "..", "/"):
        with pytest.raises(ConfigError, match="is the working folder or one above it"):
            export_campaign(_scored([1]), _people(), out, campaign_id="c1")
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]


def test_leftovers_of_a_killed_export_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    staging = staging_path(out)
    staging.mkdir()
    (staging / "treatment_win.csv").write_text("half")
    export_campaign(_scored([1]), _people(), out, campaign_id="c1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    files = json.loads((out / "summary.json").read_text())["files"]
    assert sorted(p.name for p in out.iterdir()) == sorted(files)


def test_the_export_folder_gets_the_users_umask(tmp_path: Path) -> None:
    mask = os.umask(0o027)
    try:
        export_campaign(_scored([1]), _people(), tmp_path / "out", campaign_id="c1")
    finally:
        os.umask(mask)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o750
