"""Config validation shared by every stage: reading YAML, one pydantic-error format, safe names.

Configs are data: YAML is parsed with ``yaml.safe_load`` (no tags, no code) and validated into
pydantic models; every problem becomes one line ``source: key.path: message (got value)``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from winback.exceptions import ConfigError

__all__ = ["SAFE_NAME", "pydantic_error_message", "read_yaml"]

#: Identifiers that also name files (actions, campaigns): a letter or digit, then [A-Za-z0-9_.-].
SAFE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


def pydantic_error_message(exc: ValidationError, *, source: str) -> str:
    """Return one line per problem: ``source: key.path: message (got value)``."""
    lines = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "<root>"
        got = err.get("input")
        shown = "" if isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"{source}: {key}: {err['msg']}{shown}")
    return "\n".join(lines)


def read_yaml(path: str | os.PathLike[str], *, what: str) -> Any:
    """Return the parsed YAML of ``path``; ConfigError (naming ``what`` and the path) otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} {path} does not exist.")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
