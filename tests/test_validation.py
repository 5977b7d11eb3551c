"""The one config path: safe, bounded YAML and one error format for every pydantic model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from winback.actions import ActionsConfig
from winback.exceptions import ConfigError
from winback.validation import MAX_CONFIG_BYTES, read_yaml, short_repr, validated


class _Leaf(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    size: int = Field(gt=0)
    kind: Literal["a", "b"] = "a"


class _Box(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    leaves: list[_Leaf] = []
    shape: Annotated[
        Annotated[_Leaf, Tag("leaf")] | Annotated[int, Tag("count")],
        Discriminator(lambda v: "count" if isinstance(v, int) else "leaf"),
    ] = 1


def _error(raw: object) -> str:
    with pytest.raises(ConfigError) as info:
        validated(_Box, raw, source="box.yaml", what="box")
    return str(info.value)


def test_every_problem_is_on_one_line_with_its_path_and_the_item_name() -> None:
    message = _error(
        {"name": "x", "leaves": [{"name": "ok", "size": 1}, {"name": "bad", "size": 0}]}
    )
    assert message == (
        "box.yaml: invalid box: leaves[1] ('bad').size: Input should be greater than 0 (got 0)"
    )
    assert "\n" not in _error({"leaves": [{"size": -1, "kind": "c", "x": 1}]})


def test_unknown_keys_list_the_allowed_keys_and_the_closest() -> None:
    message = _error({"name": "x", "leaves": [{"name": "l", "size": 1, "sise": 2}]})
    assert "leaves[0] ('l').sise: unknown key 'sise' (allowed keys: name, size, kind)" in message
    assert "did you mean 'size'?" in message


def test_missing_keys_and_literals_say_what_is_expected() -> None:
    message = _error({"leaves": [{"name": "l", "size": 1, "kind": "c"}]})
    assert "name: required key is missing" in message
    assert "leaves[0] ('l').kind: must be one of 'a' or 'b' (got 'c')" in message


def test_union_tags_do_not_appear_in_the_path() -> None:
    message = _error({"name": "x", "shape": {"name": "s", "size": 0}})
    assert "shape.size: Input should be greater than 0 (got 0)" in message
    assert "leaf" not in message.replace("leaves", "")


def test_a_top_level_that_is_not_a_mapping_is_named() -> None:
    assert "expected a mapping of keys at the top level of the box, got [1, 2]" in _error([1, 2])


def test_huge_values_are_shortened_in_messages() -> None:
    nested: object = "x" * 10_000
    for _ in range(50):
        nested = [nested] * 20
    message = _error({"name": nested})
    assert len(message) < 300
    assert len(short_repr("y" * 10_000)) < 70


def test_yaml_aliases_are_refused_before_any_expansion(tmp_path: Path) -> None:
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    bomb += [
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(bomb) + "\n")
    with pytest.raises(ConfigError, match=r"bomb\.yaml: line 1: YAML anchors and aliases"):
        read_yaml(path, what="Config file")


def test_oversized_and_non_utf8_files_are_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * MAX_CONFIG_BYTES + "\n")
    with pytest.raises(ConfigError, match="configs are limited to 1,000,000 bytes"):
        read_yaml(big, what="Config file")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        read_yaml(latin, what="Config file")


def test_yaml_errors_are_one_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("a: [1, 2\nb: 3\n")
    with pytest.raises(ConfigError, match="is not valid YAML") as info:
        read_yaml(path, what="Config file")
    assert "\n" not in str(info.value)


def test_python_tags_are_not_executed(tmp_path: Path) -> None:
    path = tmp_path / "tag.yaml"
    path.write_text("a: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        read_yaml(path, what="Config file")


_yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "op",
                    "field",
                    "value",
                    "all",
                    "any",
                    "when",
                    "budget",
                    "actions",
                    "campaign_id",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(raw=_yaml_values)
def test_any_parsed_yaml_is_accepted_or_refused_with_a_config_error(raw: object) -> None:
    try:
        validated(ActionsConfig, raw, source="fuzz.yaml", what="actions config")
    except ConfigError as exc:
        assert str(exc).startswith("fuzz.yaml: ")
        assert "\n" not in str(exc)


def test_the_yaml_round_trip_of_a_valid_config_validates(tmp_path: Path) -> None:
    raw = {"name": "x", "leaves": [{"name": "l", "size": 3}]}
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert (
        validated(_Box, read_yaml(path, what="box"), source=str(path), what="box").leaves[0].size
        == 3
    )
