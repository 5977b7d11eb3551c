"""Encodings: latin-1, cp1252 and UTF-16 files read (or get a message naming an option that
exists), and no message carries NUL bytes or undecodable junk to the terminal."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from winback.exceptions import ConfigError, DataError
from winback.io import read_customers, read_orders

TEXT = (
    "customer_id,order_ts,amount,category\n"
    "1,2021-01-01,5.0,Café crème\n"
    "2,2021-01-02,3.0,Thé €uro\n"  # € is 0x80 in cp1252 and absent from latin-1
)


def _message(call) -> str:
    with pytest.raises(DataError) as info:
        call()
    return str(info.value)


def _printable(message: str) -> bool:
    return "\x00" not in message and all(c.isprintable() or c == "\n" for c in message)


@pytest.mark.parametrize(
    "codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"], ids=str
)
def test_unicode_files_with_a_byte_order_mark_read_without_options(
    tmp_path: Path, codec: str
) -> None:
    path = tmp_path / "orders.csv"
    mark = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(codec, b"")
    path.write_bytes(mark + TEXT.encode(codec))
    data = read_orders(path).data
    assert data["category"].tolist() == ["Café crème", "Thé €uro"]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_mark_is_recognised_by_its_nul_bytes(tmp_path: Path, codec: str) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(TEXT.encode(codec))
    assert read_orders(path).data["category"].tolist() == ["Café crème", "Thé €uro"]


def test_a_compressed_utf16_file_reads(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv.gz"
    path.write_bytes(gzip.compress(TEXT.encode("utf-16")))
    assert len(read_orders(path).data) == 2


def test_a_cp1252_file_read_as_utf8_recommends_cp1252_in_every_interface(
    tmp_path: Path,
) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(TEXT.encode("cp1252"))
    message = _message(lambda: read_orders(path))
    assert message.startswith(f"Cannot read '{path}': its bytes are not valid utf-8 text, e.g. ")
    assert "row 1: '1,2021-01-01,5.0,Caf\\xe9 cr\\xe8me'" in message
    assert "encoding='cp1252' in Python" in message
    assert "--encoding cp1252 on the command line" in message
    assert "data.encoding: cp1252 in the training config" in message
    assert _printable(message)
    data = read_orders(path, encoding="cp1252").data
    assert data["category"].tolist() == ["Café crème", "Thé €uro"]


def test_bytes_cp1252_cannot_decode_get_latin1_recommended(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(b"customer_id,order_ts,amount,category\n1,2021-01-01,5,a\x81b\x00c\n")
    message = _message(lambda: read_orders(path))
    assert "--encoding latin-1 on the command line" in message
    assert _printable(message)
    assert "\\x81" in message and "\\x00" in message  # shown escaped, never raw
    assert read_orders(path, encoding="latin-1").data["category"].tolist() == ["a\x81b\x00c"]


def test_a_utf16_file_read_as_latin1_still_reads(tmp_path: Path) -> None:
    # the mark wins over a wrong explicit encoding: no column of NUL-separated letters
    path = tmp_path / "customers.csv"
    path.write_bytes("customer_id,email\n7,a@b.co\n".encode("utf-16"))
    assert read_customers(path, encoding="latin-1").data["email"].tolist() == ["a@b.co"]


def test_an_unknown_encoding_names_the_options(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("customer_id,order_ts,amount\n1,2021-01-01,1\n")
    with pytest.raises(
        ConfigError, match="encoding 'klingon' is not a known text encoding"
    ) as info:
        read_orders(path, encoding="klingon")
    assert "--encoding cp1252 on the command line" in str(info.value)


def test_column_names_with_nul_bytes_are_shown_escaped() -> None:
    import pandas as pd

    frame = pd.DataFrame({"c\x00u\x00s\x00t": [1], "order_ts": ["2021-01-01"], "amount": [1]})
    message = _message(lambda: read_orders(frame))
    assert _printable(message) and "c\\x00u\\x00s\\x00t" in message
