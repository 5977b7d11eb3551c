"""Writing outputs: atomic files, files written as one unit under a lock, CSV cells made inert.

- :func:`write_atomic`, :func:`write_frame`, :func:`write_json`: every output file is written to
  a temporary file and renamed into place.
- :func:`output_lock` and :func:`write_together`: several files that belong together (scores,
  rejects, summary) are written by one run at a time, staged in a hidden folder beside them and
  renamed into place, the last file last; a second run gets a clear error, and staging left by a
  killed run is removed by the next one.
- :func:`check_replaceable` and the ledger: winback never overwrites a file it did not write.
  Every file written here is recorded in the hidden folder ``.winback-written`` beside it (one
  small file per name, holding the sha256 of what was written); an existing file is replaced
  only if that record says winback wrote it and it is unchanged since. Anything else at the path
  (a user's file, an edited output, a link, a folder) raises a ConfigError before anything is
  written.
- :func:`escape_formulas` / :func:`unescape_formulas`: CSV injection. A spreadsheet runs a cell
  that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (also after leading
  spaces) as a formula; every text cell winback writes to a CSV file gets OWASP's fix, a leading
  ``'``, so it is shown as text. The escape is reversible, so winback reads its own CSV files
  back unchanged.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from winback.exceptions import ConfigError, DataError

__all__ = [
    "LEDGER",
    "check_replaceable",
    "escape_formulas",
    "output_lock",
    "read_json_object",
    "sha256_file",
    "staging_path",
    "unescape_formulas",
    "write_atomic",
    "write_frame",
    "write_json",
    "write_together",
]

#: A cell a spreadsheet would run: a formula character (or its full-width form) after optional
#: invisible characters (any Unicode white space, control separators, soft hyphen, zero-width and
#: direction marks, byte-order marks), or a leading tab or CR. Leading quotes are part of the
#: pattern so that escaping (one more quote) can be undone exactly.
_INVISIBLE = r"\s\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
_TRIGGER = r"=+\-@\uff1d\uff0b\uff0d\uff20"
_FORMULA = re.compile(rf"'*[{_INVISIBLE}]*[{_TRIGGER}]|'*[\t\r]")
_ESCAPED = re.compile(rf"'+[{_INVISIBLE}]*[{_TRIGGER}]|'+[\t\r]")
_STAGING = ".winback-staging"
_LOCK = ".winback-lock"


def _text_columns(frame: pd.DataFrame) -> list[Any]:
    return [
        c
        for c in frame.columns
        if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])
    ]


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with every text cell a spreadsheet would run as a formula made inert.

    A cell matching ``=``, ``+``, ``-``, ``@`` (or their full-width forms) after optional
    leading white space, or starting with a tab or a carriage return, gets a leading ``'``
    (OWASP's recommendation for CSV injection); so does a cell that already looks escaped, which
    makes :func:`unescape_formulas` its exact inverse. Numeric columns are left alone.

    Examples
    --------
    >>> escape_formulas(pd.DataFrame({"name": ["=1+2", " @x", "Ann", "'=y"]}))["name"].tolist()
    ["'=1+2", "' @x", 'Ann', "''=y"]
    """
    return _rewrite_text(frame, _FORMULA, lambda text: "'" + text)


def unescape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`escape_formulas` on the text columns of a frame read back from CSV."""
    return _rewrite_text(frame, _ESCAPED, lambda text: text.str.slice(1))


def _rewrite_text(
    frame: pd.DataFrame, pattern: re.Pattern[str], rewrite: Callable[[pd.Series], pd.Series]
) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells matching ``pattern`` are replaced by ``rewrite``."""
    out = frame.copy()
    for column in _text_columns(frame):
        values = out[column]
        text = values.astype("str")
        hit = (values.notna() & text.str.match(pattern)).to_numpy(dtype=bool)
        if hit.any():
            out[column] = values.mask(hit, rewrite(text))
    return out


def _single_line_breaks(frame: pd.DataFrame) -> pd.DataFrame:
    """Carriage returns inside text cells as ``\n``: the CSV writer quotes a cell holding the
    line terminator ``\n`` but not a lone ``\r``, which readers take as the end of a row (the
    rest of the cell would start a new row, unescaped)."""
    out = frame
    for column in _text_columns(frame):
        values = frame[column]
        text = values.astype("str")
        has_cr = (values.notna() & text.str.contains("\r", regex=False)).to_numpy(dtype=bool)
        if has_cr.any():
            if out is frame:
                out = frame.copy()
            fixed = text.str.replace("\r\n", "\n", regex=False).str.replace("\r", "\n", regex=False)
            out[column] = values.astype(object).mask(has_cr, fixed)
    return out


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Return the hex sha256 of a file's bytes (read in 1 MB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


#: The hidden folder, beside the files winback writes, that records what it wrote.
LEDGER = ".winback-written"


def check_replaceable(path: str | os.PathLike[str]) -> None:
    """Refuse a ``path`` that holds anything but a file winback wrote there, unchanged since.

    Nothing at ``path`` is fine; so is a regular file whose sha256 is the one winback recorded
    in the folder's ledger (:data:`LEDGER`) when it last wrote that name.

    Raises
    ------
    ConfigError
        If ``path`` is a folder, a link, or a file winback did not write (or that changed since).
    """
    path = Path(path)
    ledger = path.parent / LEDGER
    if (ledger.exists() or ledger.is_symlink()) and (ledger.is_symlink() or not ledger.is_dir()):
        raise ConfigError(
            f"{ledger} is not the folder where winback records what it wrote; move it away, or "
            "write to another folder."
        )
    if not path.exists() and not path.is_symlink():
        return
    if path.is_symlink() or not path.is_file():
        what = "a link" if path.is_symlink() else "a folder"
        raise ConfigError(
            f"{path} is {what}; winback writes only regular files it owns. Write to another path."
        )
    record = ledger / path.name
    written = record.read_text(encoding="ascii").strip() if record.is_file() else None
    if written != sha256_file(path):
        raise ConfigError(
            f"{path} exists and winback did not write it (or it changed since winback wrote "
            "it); winback never overwrites a file it did not write. Write to another path, or "
            "move the file away yourself."
        )


def _record_written(path: Path) -> None:
    """Record ``path``'s current sha256 in its folder's ledger (atomically, one file per name).

    A file written into a staging folder is not recorded there: it is recorded where it lands
    (:func:`write_together`), or the folder it lands with carries its own manifest (exports)."""
    if _STAGING in path.parent.name:
        return
    ledger = path.parent / LEDGER
    ledger.mkdir(exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=ledger)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(sha256_file(path) + "\n")
    os.replace(tmp, ledger / path.name)


def write_atomic(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and rename the result to ``path``; no partial file on failure.

    The temporary file lives in the destination folder so the final ``os.replace`` is atomic on
    POSIX. If ``write`` raises, the temporary file is removed and ``path`` is left untouched.
    An existing ``path`` is replaced only if winback wrote it (:func:`check_replaceable`); the
    file written is recorded in the folder's ledger.
    """
    path = Path(path)
    check_replaceable(path)
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
    _record_written(path)
    return path


def _default_mode() -> int:
    """Return the permissions a plain ``open()`` would give (0o666 minus the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_frame(frame: pd.DataFrame, path: str | os.PathLike[str], *, index: bool = False) -> Path:
    """Write ``frame`` atomically as CSV or Parquet, chosen by the suffix of ``path``.

    Text cells of a CSV file pass through :func:`escape_formulas` (read them back with
    :func:`unescape_formulas`) and a carriage return inside a cell is written as a (quoted)
    line break, so no reader splits the cell; Parquet keeps the values as they are.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        return write_atomic(path, lambda tmp: frame.to_parquet(tmp, index=index))
    if suffix == ".csv":
        safe = _single_line_breaks(escape_formulas(frame))
        return write_atomic(path, lambda tmp: safe.to_csv(tmp, index=index, lineterminator="\n"))
    raise DataError(
        f"Cannot write {path}: expected a file name ending in .csv or .parquet, got {suffix!r}."
    )


def write_json(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``obj`` atomically as indented, key-sorted JSON (byte-identical for equal input)."""

    def _dump(tmp: Path) -> None:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")

    return write_atomic(path, _dump)


def read_json_object(path: str | os.PathLike[str], *, what: str, fix: str) -> dict[str, Any]:
    """Read a JSON object that winback wrote (a summary, a manifest, a measurement).

    ``what`` names the file in messages (``"Score summary"``); ``fix`` says how to get a good
    one (``"rerun `winback score`"``).

    Raises
    ------
    DataError
        If the file is missing, cannot be read as JSON, or does not hold a JSON object.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} {path} does not exist; {fix}.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{what} {path} cannot be read as JSON ({exc}); {fix}.") from exc
    if not isinstance(data, dict):
        raise DataError(f"{what} {path} must hold a JSON object, got {type(data).__name__}; {fix}.")
    return data


# --- several files as one unit ----------------------------------------------------------------


@contextlib.contextmanager
def output_lock(*paths: str | os.PathLike[str], what: str = "outputs") -> Iterator[Path]:
    """Hold the lock of the outputs ``paths`` (one folder) for the duration of the block.

    The lock is ``.<first name>.winback-lock`` beside them (an advisory ``flock``, released by
    the system if the process dies) and is removed on exit. While it is held, the staging
    folders of :func:`write_together` and the temporary files of :func:`write_atomic` that a
    killed run left for these outputs are removed (nothing else).

    Raises
    ------
    ConfigError
        If another process holds the lock: one run at a time may write these outputs.
    """
    outputs = [Path(p) for p in paths]
    first = outputs[0]
    first.parent.mkdir(parents=True, exist_ok=True)
    lock = first.with_name(f".{first.name}{_LOCK}")
    fd = _acquire(lock, first, what)
    try:
        _remove_leftovers(outputs)
        yield lock
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(fd)


def _acquire(lock: Path, path: Path, what: str) -> int:
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ConfigError(
                f"Another winback run is writing the {what} {path} (lock file {lock}); wait for "
                "it to finish, or write to another path."
            ) from None
        try:
            current = os.stat(lock).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(fd).st_ino:  # not unlinked by the previous holder meanwhile
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)


def _staging_name(first: Path) -> str:
    return f".{first.stem}{_STAGING}-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def staging_path(target: str | os.PathLike[str]) -> Path:
    """A new hidden path beside ``target`` for staging it; :func:`output_lock` on ``target``
    removes such paths that a killed run left behind."""
    target = Path(target)
    return target.with_name(_staging_name(target))


def _remove_leftovers(outputs: list[Path]) -> None:
    """Staging folders and temporary files of ``outputs`` left by a killed run (by their names:
    ``.<stem>.winback-staging-<pid>-<hex>`` and ``.<name>.<8 characters>.tmp``)."""
    first = outputs[0]
    staging = re.compile(re.escape(f".{first.stem}{_STAGING}-") + r"\d+-[0-9a-f]{12}")
    temporary = [re.compile(re.escape(f".{p.name}.") + r"[A-Za-z0-9_]{8}\.tmp") for p in outputs]
    for entry in first.parent.iterdir():
        if entry.is_symlink():
            continue
        if staging.fullmatch(entry.name) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        elif any(t.fullmatch(entry.name) for t in temporary) and entry.is_file():
            entry.unlink(missing_ok=True)


def write_together(files: Mapping[Path, Callable[[Path], None]]) -> list[Path]:
    """Write several files of one folder as a unit; call it while holding :func:`output_lock`.

    Each ``write(tmp)`` writes its file into a hidden staging folder beside the first file; the
    files are then renamed into place in the given order (put the one that describes the others
    last), and the staging folder is removed, also on failure. Returns the paths written.
    """
    targets = list(files)
    for target in targets:
        check_replaceable(target)
    folder = targets[0].parent
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / _staging_name(targets[0])
    staging.mkdir()
    try:
        staged = []
        for target, write in files.items():
            tmp = staging / target.name
            write(tmp)
            os.chmod(tmp, _default_mode())
            staged.append((tmp, target))
        for tmp, target in staged:
            os.replace(tmp, target)
            _record_written(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return targets
