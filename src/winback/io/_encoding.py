"""Text encodings of CSV files: the byte-order mark decides, and messages that print safely.

A file that starts with a byte-order mark (BOM) is read in the encoding the mark names (UTF-8,
UTF-16 or UTF-32, little or big endian), whatever encoding was passed: the mark is unambiguous.
A file without a mark whose first bytes are full of NUL bytes is UTF-16 written without one (read
in the endianness the NULs show) when the default UTF-8 was asked for. Anything else is read in
the given encoding; bytes that do not decode give a :class:`~winback.exceptions.DataError` that
names the rows, shows them with undecodable bytes and control characters escaped (never raw NUL
bytes), and recommends an encoding that does decode the file, as the option of each interface.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import logging
import lzma
import os
import zipfile
from pathlib import Path

from winback.exceptions import ConfigError

__all__ = ["check_encoding", "decodes_as", "encoding_fix", "file_encoding", "printable"]

logger = logging.getLogger(__name__)

_HEAD_BYTES = 4096
_BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_NUL_SHARE = 0.25  # text with this share of NUL bytes is not 8-bit text
_MAX_SHOWN_CHARS = 80


def check_encoding(encoding: str) -> str:
    """Return ``encoding`` if Python knows the codec; else raise :class:`ConfigError`."""
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError) as exc:
        raise ConfigError(
            f"encoding {encoding!r} is not a known text encoding. Fix: "
            f"{encoding_fix('cp1252')} (or 'utf-8', 'latin-1', 'utf-16': any Python codec name)."
        ) from exc
    return encoding


def encoding_fix(encoding: str) -> str:
    """How to pass ``encoding`` in each interface (Python, command line, training config)."""
    return (
        f"pass encoding={encoding!r} in Python, --encoding {encoding} on the command line or "
        f"data.encoding: {encoding} in the training config"
    )


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name == "utf-8"


def file_encoding(path: str | os.PathLike[str], encoding: str, *, label: str) -> str:
    """The encoding to read ``path`` with: the one its byte-order mark names, else ``encoding``.

    Without a mark, a head full of NUL bytes means UTF-16 (or UTF-32) text; it is read as such
    when ``encoding`` is UTF-8 (the default), since UTF-8 text holds no NUL bytes.
    """
    head = _head(Path(path))
    for bom, name in _BOMS:
        if head.startswith(bom):
            if codecs.lookup(name).name != codecs.lookup(encoding).name:
                logger.info("%s: byte-order mark of %s found; reading it as %s", label, name, name)
            return name
    if head and _is_utf8(encoding) and head.count(0) > _NUL_SHARE * len(head):
        guessed = _wide_encoding(head)
        logger.info("%s: NUL bytes between the characters; reading it as %s", label, guessed)
        return guessed
    return encoding


def _wide_encoding(head: bytes) -> str:
    """UTF-16/32 without a mark: which bytes hold the NULs tells the width and the byte order."""
    usable = len(head) - len(head) % 4
    by_position = [head[i:usable:4].count(0) for i in range(4)]
    if by_position[1] and by_position[2] and by_position[3] and not by_position[0]:
        return "utf-32-le"
    if by_position[0] and by_position[1] and by_position[2] and not by_position[3]:
        return "utf-32-be"
    even, odd = by_position[0] + by_position[2], by_position[1] + by_position[3]
    return "utf-16-le" if odd > even else "utf-16-be"


def _head(path: Path) -> bytes:
    """The first bytes of ``path``'s text (decompressed); empty when it cannot be opened."""
    lower = path.name.lower()
    try:
        if lower.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                if not names:
                    return b""
                with archive.open(names[0]) as handle:
                    return handle.read(_HEAD_BYTES)
        opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(path.suffix.lower())
        with (opener or open)(path, "rb") as handle:
            return handle.read(_HEAD_BYTES)
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError):
        return b""  # the reader reports an unreadable file with its own message


def printable(text: str) -> str:
    """``text`` with control and other non-printable characters escaped (``\\x00``), shortened."""
    escaped = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )
    return escaped if len(escaped) <= _MAX_SHOWN_CHARS else escaped[:_MAX_SHOWN_CHARS] + "..."


def decodes_as(data: bytes) -> str:
    """The encoding to recommend for bytes that are not valid UTF-8: cp1252 when it decodes them
    (Excel on Windows), else latin-1 (which decodes any bytes)."""
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"
