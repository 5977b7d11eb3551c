"""Atomic writers: every output file is written to a temporary file and renamed into place."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from winback.exceptions import DataError

__all__ = ["write_atomic", "write_frame", "write_json"]


def write_atomic(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and rename the result to ``path``; no partial file on failure.

    The temporary file lives in the destination folder so the final ``os.replace`` is atomic on
    POSIX. If ``write`` raises, the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _default_mode() -> int:
    """Return the permissions a plain ``open()`` would give (0o666 minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_frame(frame: pd.DataFrame, path: str | os.PathLike[str], *, index: bool = False) -> Path:
    """Write ``frame`` atomically as CSV or Parquet, chosen by the suffix of ``path``."""
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        return write_atomic(path, lambda tmp: frame.to_parquet(tmp, index=index))
    if suffix == ".csv":
        return write_atomic(path, lambda tmp: frame.to_csv(tmp, index=index, lineterminator="\n"))
    raise DataError(
        f"Cannot write {path}: expected a file name ending in .csv or .parquet, got {suffix!r}."
    )


def write_json(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``obj`` atomically as indented, key-sorted JSON (byte-identical for equal input)."""

    def _dump(tmp: Path) -> None:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")

    return write_atomic(path, _dump)
