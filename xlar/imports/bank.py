"""Bank statements in: MT940, camt.053 and CSV files read into BankLine records (xlar.domain.bank).

The parsers turn a file's bytes into BankLine records: one line per booked entry (one
per transaction of a camt batch), amounts signed and exact at the currency's minor unit.
A file that cannot be read is refused whole with InvalidImport, whose one-line message
names the position and the value; no library exception escapes. Who paid a line and which
invoices it clears is xlar.domain.cash.
"""

from __future__ import annotations

import re

from xlar.domain.bank import BankLine
from xlar.imports.camt import parse_camt
from xlar.imports.csvbank import DEFAULT_CSV_MAPPING, CsvMapping, parse_csv
from xlar.imports.mt940 import parse_mt940
from xlar.imports.statement import InvalidImport, decode_text

__all__ = ["FORMATS", "CsvMapping", "InvalidImport", "detect_format", "parse_statement"]

FORMATS = ("csv", "mt940", "camt053")


def parse_statement(
    data: bytes, fmt: str | None = None, mapping: CsvMapping | None = None
) -> list[BankLine]:
    """The lines of a statement file; FMT None detects it (MAPPING is for CSV only)."""
    if not data.strip():
        raise InvalidImport("the bank file is empty")
    kind = fmt or detect_format(data)
    if kind in ("mt940", "csv") and b"\x00" in data:   # a text statement has none (UTF-16 has many)
        line_no = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise InvalidImport(f"{'CSV row' if kind == 'csv' else 'MT940 line'} {line_no}: a NUL character; "
                            "not a text statement (saved as UTF-16?)")
    if kind == "mt940":
        return parse_mt940(decode_text(data))
    if kind == "camt053":
        return parse_camt(data)
    if kind == "csv":
        return parse_csv(data, mapping or DEFAULT_CSV_MAPPING)
    raise InvalidImport(f"unknown statement format {fmt!r}; expected one of {', '.join(FORMATS)}")


def detect_format(data: bytes) -> str:
    """'camt053' for XML, 'mt940' for SWIFT :tag: lines, else 'csv'.

    Any XML goes to the camt.053 reader, which refuses other documents by name.
    """
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return "camt053"
    if re.search(rb"^:(20|25|28C?|60[FM]|61):", data, re.MULTILINE):
        return "mt940"
    return "csv"
