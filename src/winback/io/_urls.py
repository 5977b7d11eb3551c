"""Source URLs: ``postgresql://...`` and ``duckdb://...`` parsed into their parts, and passwords
kept out of anything winback prints or stores.

Forms (see the README's data contract)::

    postgresql://[user[:password]@][host][:port][/database]?table=[schema.]name
    postgresql://[user[:password]@][host][:port][/database]?query=<percent-encoded SELECT>
    duckdb:///absolute/path/shop.duckdb?table=[schema.]name      (also ?query=...)
    duckdb://relative/path/shop.duckdb?table=name

``postgres://`` is accepted for ``postgresql://``. Values after ``?`` are percent-decoded (``%20``
is a space, ``%26`` an ``&``, ``+`` stays ``+``); the keys other than ``table`` and ``query``
(``sslmode``, ``application_name``, ...) are passed to libpq unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from winback.exceptions import ConfigError

__all__ = ["SourceURL", "is_url", "parse_url", "redact", "scrub", "without_password"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_SCHEMES = {"postgresql": "postgresql", "postgres": "postgresql", "duckdb": "duckdb"}
_OWN_KEYS = ("table", "query")
_SECRET_KEYS = ("password", "sslpassword")
_MASK = "***"
#: the authority of any ``scheme://`` URL in a text (userinfo@host:port), up to the last ``@``
_AUTHORITY = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)"
    r"(?P<authority>[^\s'\"]*@[^/?#\s'\"]*|[^/?#\s'\"]*)"  # up to the last @: a raw / or # in a
)  # password (invalid, but typed) is masked too
_SECRET_PARAM = re.compile(r"(?i)\b(?P<key>(?:ssl)?password)=(?P<value>[^&\s'\"]*)")


@dataclass(frozen=True)
class SourceURL:
    """A parsed source URL.

    ``target`` is what the engine opens: for PostgreSQL the libpq URL without winback's keys
    (password included if the URL had one), for DuckDB the database file's path.
    """

    scheme: str
    target: str
    table: str | None
    query: str | None


def is_url(text: str) -> bool:
    """Whether ``text`` starts with ``scheme://`` (a source URL rather than a file path)."""
    return bool(_SCHEME.match(text))


def parse_url(text: str, *, table: str | None = None, query: str | None = None) -> SourceURL:
    """Split a source URL; ``table``/``query`` given here join those of the URL.

    Raises
    ------
    ConfigError
        For an unsupported scheme, a URL fragment (``#``), a repeated key, or anything other than
        exactly one of ``table`` and ``query``.
    """
    found = _SCHEME.match(text)
    scheme = _SCHEMES.get(found.group(1).lower()) if found else None
    shown = redact(text)
    if scheme is None:
        raise ConfigError(
            f"Source {shown!r}: unsupported URL scheme; winback reads postgresql://... and "
            "duckdb://... URLs, a CSV or Parquet file, or a folder of Parquet files."
        )
    rest = text[found.end() :]
    if "#" in rest:
        raise ConfigError(
            f"Source {shown!r}: '#' would start a URL fragment. Fix: percent-encode it as %23 "
            "(in a query, encode it with urllib.parse.quote(sql, safe=''))."
        )
    location, _, params = rest.partition("?")
    own, passed = _split_params(params, shown)
    table, query = _one_of(shown, own, table, query)
    if scheme == "duckdb":
        if not location:
            raise ConfigError(
                f"Source {shown!r}: no database file. Fix: duckdb:///absolute/path.duckdb or "
                "duckdb://relative/path.duckdb, followed by ?table=NAME or ?query=SQL."
            )
        return SourceURL(scheme, unquote(location), table, query)
    target = f"postgresql://{location}" + (f"?{'&'.join(passed)}" if passed else "")
    return SourceURL(scheme, target, table, query)


def _split_params(params: str, shown: str) -> tuple[dict[str, str], list[str]]:
    """winback's keys (decoded) and the other ``key=value`` pairs (as written)."""
    own: dict[str, str] = {}
    passed: list[str] = []
    for pair in filter(None, params.split("&")):
        key, _, value = pair.partition("=")
        if key not in _OWN_KEYS:
            passed.append(pair)
        elif key in own:
            raise ConfigError(f"Source {shown!r}: {key}= is given twice. Fix: give it once.")
        else:
            own[key] = unquote(value)
    return own, passed


def _one_of(
    shown: str, own: dict[str, str], table: str | None, query: str | None
) -> tuple[str | None, str | None]:
    table = own.get("table", table)
    query = own.get("query", query)
    if table is not None and query is not None:
        problem = "both a table and a query are given"
    elif not (table or query or "").strip():
        problem = "no table or query is given"
    else:
        return table, query
    raise ConfigError(
        f"Source {shown!r}: {problem}. Fix: name exactly one, e.g. "
        "postgresql://host/db?table=sales.orders or ?query=SELECT... (percent-encoded)."
    )


def redact(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``.

    Covers ``scheme://user:password@host`` and the libpq keys ``password=`` and
    ``sslpassword=``. Text without a URL is returned unchanged.

    Examples
    --------
    >>> redact("postgresql://ann:hunter2@db.example/shop?table=orders")
    'postgresql://ann:***@db.example/shop?table=orders'
    """
    masked = _AUTHORITY.sub(_masked_authority(_MASK), text)
    return _SECRET_PARAM.sub(lambda m: f"{m.group('key')}={_MASK}", masked)


def without_password(url: str) -> str:
    """``url`` with its password removed (the user is kept), e.g. to store it in a config.

    >>> without_password("postgresql://ann:hunter2@db.example/shop?table=orders")
    'postgresql://ann@db.example/shop?table=orders'
    """
    base, _, params = _AUTHORITY.sub(_masked_authority(None), url, count=1).partition("?")
    kept = [p for p in params.split("&") if p and p.partition("=")[0].lower() not in _SECRET_KEYS]
    return base + (f"?{'&'.join(kept)}" if kept else "")


def _masked_authority(mask: str | None) -> Callable[[re.Match[str]], str]:
    def replace(found: re.Match[str]) -> str:
        userinfo, at, host = found.group("authority").rpartition("@")
        user, colon, _ = userinfo.partition(":")
        if not (at and colon):
            return found.group(0)
        return f"{found.group('scheme')}{user}{'' if mask is None else ':' + mask}@{host}"

    return replace


def scrub(message: str, url: str) -> str:
    """A third-party ``message`` with the password of ``url`` (if any) masked wherever it occurs."""
    secrets = [_password(url), *(_param_values(url))]
    for secret in filter(None, secrets):
        message = message.replace(secret, _MASK)
    return redact(message)


def _password(url: str) -> str | None:
    try:
        password = urlsplit(url).password
    except ValueError:
        return None
    return None if password is None else unquote(password)


def _param_values(url: str) -> list[str]:
    return [unquote(m.group("value")) for m in _SECRET_PARAM.finditer(url)]
