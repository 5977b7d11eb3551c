"""Config validation shared by every stage: reading YAML, one pydantic-error format, safe names.

Configs are data: YAML is parsed with ``yaml.safe_load`` (no tags, no code) and validated into
pydantic models by :func:`validated`. Every problem becomes one entry ``where: what`` of a single
:class:`~winback.exceptions.ConfigError` line, e.g.::

    configs/actions.yaml: invalid actions config: actions[1] ('discount').when.op: must be one
    of '<', '<=', ... (got 'x'); budget: Input should be greater than or equal to 0 (got -5)

``where`` is the key path, list items named by their ``name`` when they have one; ``what`` says
what was expected and what was found, with the value shortened so that a huge value (or a YAML
alias bomb) cannot make the message itself huge; at most ten problems are listed.
"""

from __future__ import annotations

import difflib
import os
import reprlib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from winback.exceptions import ConfigError

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_CONFIG_DEPTH",
    "MAX_CONFIG_NODES",
    "SAFE_NAME",
    "pydantic_error_message",
    "read_yaml",
    "short_repr",
    "validated",
]

#: Identifiers that also name files (actions, campaigns): a letter or digit, then [A-Za-z0-9_.-].
SAFE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

_M = TypeVar("_M", bound=BaseModel)
_REPR = reprlib.Repr()  # Python 3.11's Repr takes no keyword arguments
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 2, 60, 60
_REPR.maxdict = _REPR.maxlist = _REPR.maxtuple = _REPR.maxset = 4


def short_repr(value: object) -> str:
    """``repr(value)`` bounded in size and in work (nested containers are cut, never expanded)."""
    return _REPR.repr(value)


def validated(model: type[_M], raw: object, *, source: str, what: str) -> _M:
    """Return ``raw`` validated as ``model``, or raise one ConfigError listing every problem.

    Parameters
    ----------
    model : pydantic model class
    raw : object
        The parsed config (a mapping), e.g. from :func:`read_yaml`.
    source : str
        How messages name where ``raw`` came from: a file path, ``"winback score"``, ...
    what : str
        What ``raw`` is, e.g. ``"actions config"``.
    """
    if isinstance(model, type) and issubclass(model, BaseModel) and not isinstance(raw, Mapping):
        raise ConfigError(
            f"{source}: expected a mapping of keys at the top level of the {what}, "
            f"got {short_repr(raw)}."
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        message = pydantic_error_message(exc, source=source, raw=raw, model=model, what=what)
        raise ConfigError(message) from exc


def pydantic_error_message(
    exc: ValidationError,
    *,
    source: str,
    raw: object = None,
    model: type[BaseModel] | None = None,
    what: str | None = None,
) -> str:
    """Return one line: ``source: invalid <what>: where: what; where: what; ...``.

    ``raw`` (the validated input) lets list items be named by their ``name``; ``model`` lets an
    unknown key be answered with the allowed keys and the closest one.
    """
    problems: dict[str, None] = {}
    errors = exc.errors()
    for err in errors:
        if not _echo(err):
            problems[_problem(err, raw, model)] = None
        if len(problems) > _MAX_PROBLEMS:
            break
    listed = list(problems)[:_MAX_PROBLEMS]
    more = exc.error_count() - len(listed)
    tail = f"; and {more} more problems" if len(problems) > _MAX_PROBLEMS and more > 0 else ""
    head = f"{source}: invalid {what}: " if what else f"{source}: "
    return head + "; ".join(listed) + tail


def _echo(err: Mapping[str, Any]) -> bool:
    """pydantic's 'list too short after validation' only repeats the failed items' own errors."""
    return err["type"] == "too_short" and bool(err.get("input"))


def _problem(err: Mapping[str, Any], raw: object, model: type[BaseModel] | None) -> str:
    loc, holder = _data_path(err["loc"], raw, model)
    where = _where(loc, raw)
    what = _what(err, loc, _single_model(holder))
    return f"{where}: {what}" if where else what


def _data_path(loc: Sequence[Any], raw: object, model: Any) -> tuple[list[Any], Any]:
    """``loc`` without the union tags pydantic inserts (``'condition'``, ``'function-after[...]'``).

    A part is a tag when the annotation at that point is a union with a member of that tag or
    class name; without a model, when it is not a key of the data (and not the last part).
    Also returns the annotation that holds the path's last key (for an unknown key's siblings).
    """
    path: list[Any] = []
    node, annotation, holder = raw, model, model
    for position, part in enumerate(loc):
        tagged = _union_tags(annotation)
        if isinstance(part, str) and part in tagged:
            annotation = tagged[part]
            continue
        if annotation is None and _absent_key(node, part, last=position == len(loc) - 1):
            continue
        path.append(part)
        holder = annotation
        node, annotation = _child(node, part), _descend(annotation, part)
    return path, holder


def _absent_key(node: object, part: object, *, last: bool) -> bool:
    return isinstance(node, Mapping) and isinstance(part, str) and part not in node and not last


def _union_tags(annotation: Any) -> dict[str, Any]:
    """Tag (or class name) -> member annotation, for a union with more than one member."""
    members = _members(annotation)
    if len(members) < 2:
        return {}
    tags: dict[str, Any] = {}
    for member in members:
        for meta in getattr(member, "__metadata__", ()):
            if hasattr(meta, "tag"):
                tags[str(meta.tag)] = member
        base = _flatten(member)[0]
        if isinstance(base, type):
            tags[base.__name__] = member
    return tags


def _members(annotation: Any, *, keep_metadata: bool = True) -> list[Any]:
    """The members of a (possibly Annotated, Optional or union) annotation; a member that is
    ``Annotated`` keeps its metadata unless ``keep_metadata`` is false."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner = typing.get_args(annotation)[0]
        nested = typing.get_origin(inner) in (typing.Union, types.UnionType)
        if keep_metadata and not nested:
            return [annotation]
        return _members(inner, keep_metadata=keep_metadata)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        return [m for a in args for m in _members(a, keep_metadata=keep_metadata)]
    return [annotation] if annotation is not None else []


def _descend(annotation: Any, part: object) -> Any:
    if annotation is None:
        return None
    if isinstance(part, int):
        return _item_type(annotation)
    cls = _single_model(annotation)
    field = cls.model_fields.get(str(part)) if cls is not None else None
    return None if field is None else field.annotation


def _child(node: object, part: object) -> object:
    if isinstance(node, Mapping):
        return node.get(part)
    if isinstance(node, list | tuple) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _where(path: Sequence[Any], raw: object) -> str:
    """``actions[1] ('discount').when.op``: dotted keys, list indices, items named when possible."""
    text, node = "", raw
    for part in path:
        node = _child(node, part)
        if isinstance(part, int):
            text += f"[{part}]"
            name = node.get("name") if isinstance(node, Mapping) else None
            if isinstance(name, str):
                text += f" ({name!r})"
        else:
            text += ("." if text else "") + str(part)
    return text


def _what(err: Mapping[str, Any], path: Sequence[Any], holder: type[BaseModel] | None) -> str:
    kind, got = err["type"], err.get("input")
    key = str(path[-1]) if path else ""
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return _unknown_key(key, holder)
    if kind in ("value_error", "assertion_error"):
        return str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "literal_error":
        return f"must be one of {err['ctx']['expected']} (got {short_repr(got)})"
    if isinstance(got, Mapping | list | tuple):
        return str(err["msg"])
    return f"{err['msg']} (got {short_repr(got)})"


def _unknown_key(key: str, model: type[BaseModel] | None) -> str:
    if model is None:
        return f"unknown key {key!r}"
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key {key!r} (allowed keys: {', '.join(allowed)}){hint}"


def _single_model(annotation: Any) -> type[BaseModel] | None:
    candidates = [a for a in _flatten(annotation) if isinstance(a, type)]
    models = [a for a in candidates if issubclass(a, BaseModel)]
    return models[0] if len(models) == 1 else None


def _item_type(annotation: Any) -> Any:
    for a in _flatten(annotation):
        args = typing.get_args(a)
        if typing.get_origin(a) in (list, tuple, Sequence) and args:
            return args[0]
        if typing.get_origin(a) is dict and len(args) == 2:
            return args[1]
    return None


def _flatten(annotation: Any) -> list[Any]:
    """The members of an annotation, stripped of their ``Annotated`` metadata."""
    return _members(annotation, keep_metadata=False)


#: Largest config file read, in bytes: configs are a few KB; anything far larger is a mistake.
MAX_CONFIG_BYTES = 1_000_000
#: Most values (scalars, lists, mappings) and deepest nesting a config may have. winback's
#: configs hold a few hundred values nested a few levels; these bounds keep any file, however
#: shaped, to a fraction of a second and a few MB to read (``bench/bench_configs.py``).
MAX_CONFIG_NODES = 20_000
MAX_CONFIG_DEPTH = 64
_MAX_PROBLEMS = 10
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)
_OPEN_EVENTS = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE_EVENTS = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def _check_shape(text: str, path: Path) -> None:
    """Refuse anchors and aliases, more than :data:`MAX_CONFIG_NODES` values and nesting deeper
    than :data:`MAX_CONFIG_DEPTH`, from the parser's events, before anything is built.

    Aliases let a tiny file expand into an enormous value (a "billion laughs" alias bomb) and
    deep nesting exhausts the recursion of the builders; winback configs need neither.
    """
    depth = nodes = 0
    for event in yaml.parse(text, Loader=_LOADER):
        line = event.start_mark.line + 1 if event.start_mark is not None else "?"
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise ConfigError(
                f"{path}: line {line}: YAML anchors and aliases (&name / *name) are not allowed "
                "in winback configs; write the values out."
            )
        if isinstance(event, _NODE_EVENTS):
            nodes += 1
            if nodes > MAX_CONFIG_NODES:
                raise ConfigError(
                    f"{path}: line {line}: more than {MAX_CONFIG_NODES:,} values; winback "
                    "configs hold a few hundred. Is it the right file?"
                )
        if isinstance(event, _OPEN_EVENTS):
            depth += 1
            if depth > MAX_CONFIG_DEPTH:
                raise ConfigError(
                    f"{path}: line {line}: nested more than {MAX_CONFIG_DEPTH} levels deep; "
                    "flatten the rules (a condition group rarely needs more than a few levels)."
                )
        elif isinstance(event, _CLOSE_EVENTS):
            depth -= 1


def read_yaml(path: str | os.PathLike[str], *, what: str) -> Any:
    """Return the parsed YAML of ``path``; ConfigError (naming ``what`` and the path) otherwise.

    Safe YAML only (no tags, no code), no anchors or aliases, at most
    :data:`MAX_CONFIG_BYTES` bytes, :data:`MAX_CONFIG_NODES` values and
    :data:`MAX_CONFIG_DEPTH` levels of nesting, UTF-8.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} {path} does not exist.")
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{what} {path} is {size:,} bytes; configs are limited to {MAX_CONFIG_BYTES:,} bytes."
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{what} {path} is not UTF-8 text ({exc.reason} at byte {exc.start})."
        ) from exc
    try:
        _check_shape(text, path)
        return yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {_one_line(exc)}") from exc


def _one_line(exc: yaml.YAMLError) -> str:
    return " ".join(str(exc).split())
