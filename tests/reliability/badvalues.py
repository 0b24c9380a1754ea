"""Malformed values by kind, as sheet cells (XCell) and as the text a CSV or bank file holds.

The kinds are issue 9's list: wrong types, formulas, error values, 32k-character strings,
huge and negative numbers, dates before 1900, unknown enum values, control characters.
Structural damage (headers, merged cells, entity bombs, truncation, encodings) belongs to
each target, since what it means depends on the file.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from xlar.schema.columns import Kind

EPOCH = date(1899, 12, 30)
ERROR_VALUES = ("#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!",
                "#GETTING_DATA", "#BOGUS!")
INJECTIONS = ('=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0", "\t=1+1",
              "\r=1+1")
LONG_LENGTHS = (32_767, 32_768, 40_000, 100_000)


@dataclass(frozen=True, slots=True)
class XCell:
    """One cell as a sheet's XML holds it."""

    kind: str          # s text, n number, date (number in a date format), b bool, e error, d ISO date,
                       # f formula (VALUE is its cached result), fs formula with a text result, raw XML
    value: str
    formula: str = ""


def text(value: str) -> XCell:
    return XCell("s", value)


def num(value: float | str) -> XCell:
    return XCell("n", value if isinstance(value, str) else repr(value))


def day(on: date) -> XCell:
    return XCell("date", str((on - EPOCH).days))


def serial(value: float) -> XCell:
    """A number shown in a date format."""
    return XCell("date", repr(value))


def shown(cell: XCell) -> str:
    """A short description of CELL for a failure line."""
    value = cell.value if len(cell.value) <= 40 else f"{cell.value[:20]}...({len(cell.value):,} chars)"
    return f"{cell.kind}:{value!r}" + (f" ={cell.formula[:40]}" if cell.formula else "")


NUMERIC = (Kind.MONEY, Kind.DECIMAL, Kind.INT, Kind.PERCENT, Kind.RATE)


def wrong_type(rng: random.Random, kind: Kind) -> XCell:
    if kind in NUMERIC:
        pool = [text("abc"), text("1,234.50"), text(" 42 "), text("12 元"), text("$5"), text("1e5"),
                XCell("b", "1"), day(date(2026, 3, 1)), text("TRUE"), text("½")]
    elif kind is Kind.DATE:
        pool = [text("3/15/2026"), text("15.03.2026"), text("2026-02-30"), text("tomorrow"), num(46000),
                num(46000.5), XCell("b", "0"), text("2026/03/05"), XCell("d", "2026-13-45"), text("45000")]
    elif kind is Kind.CHOICE:
        pool = [num(1), XCell("b", "1"), day(date(2026, 3, 1)), num(-0.0)]
    elif kind is Kind.PERIOD:
        pool = [num(202603), text("2026-13"), text("March"), text("26-03"), XCell("b", "1"), num(2026.03)]
    else:
        pool = [XCell("b", "1"), day(date(2026, 3, 1)), num(12345.678), num(1e20), num(-7), num(0.1 + 0.2)]
    return rng.choice(pool)


def formula(rng: random.Random, kind: Kind) -> XCell:
    cached = {Kind.DATE: XCell("date", "46000", "TODAY()"), Kind.MONEY: XCell("f", "3", "1+2")}.get(kind)
    pool = [XCell("f", "2", "1+1"), XCell("fs", "y", 'HYPERLINK("http://x","y")'), XCell("f", "", "A1"),
            XCell("e", "#N/A", "NA()"), XCell("fs", "C001", 'CONCAT("C","001")'),
            XCell("raw", '<f t="shared" si="0"/><v>5</v>'), text(rng.choice(INJECTIONS))]
    return cached if cached is not None and rng.random() < 0.3 else rng.choice(pool)


def error_value(rng: random.Random, _kind: Kind) -> XCell:
    code = rng.choice(ERROR_VALUES)
    return XCell("e", code) if rng.random() < 0.75 else text(code)


def long_text(rng: random.Random, kind: Kind) -> XCell:
    size = rng.choice(LONG_LENGTHS)
    if kind in NUMERIC:
        return text("9" * size)
    return text(("GOOD " * (size // 5 + 1))[:size]) if rng.random() < 0.5 else text("x" * size)


def huge_number(rng: random.Random, _kind: Kind) -> XCell:
    return rng.choice([num(1e300), num(1.7976931348623157e308), num(9.999999999999999e15), num(2.0 ** 63),
                       num(1e15), num(123456789012345678), num(-1e20), num(1e13), num(5e-324),
                       num("1E+999"), num("NaN"), num("-INF"), num(99999999999999.99), num(1e-300)])


def negative_number(rng: random.Random, _kind: Kind) -> XCell:
    return rng.choice([num(-1), num(-0.01), num(-1e12), num(-0.0), num(-5), num(-30), num(-7.1),
                       num(-0.13), num(-999999999999.99), num(-2147483649)])


def pre_1900_date(rng: random.Random, _kind: Kind) -> XCell:
    return rng.choice([serial(0), serial(1), serial(59), serial(60), serial(61), serial(-1), serial(0.5),
                       serial(-693594), XCell("d", "1899-12-31"), XCell("d", "0001-01-01"),
                       XCell("d", "1600-02-29"), text("1899-12-31"), text("1066-10-14"), text("0000-00-00")])


def unknown_enum(rng: random.Random, kind: Kind) -> XCell:
    return rng.choice([text("postd"), text("Posted!"), text("approvedd"), text("作废了"), text("draft\n"),
                       text("weekly"), text("bitcoin"), text("yes/no"), text("XXX"), text("EURO"),
                       text("€"), text("usd "), text("null"), text("None"), text("N/A")])


def control_chars(rng: random.Random, _kind: Kind) -> XCell:
    return rng.choice([text("_x0000_A"), text("a\tb"), text("line\nbreak"), text("\u202eevil"),
                       text("\u200b"), text("\xa0"), text("  padded  "), text("emoji 😀"),
                       text("\ufeffBOM"), text("_x0007_bell"), text("a\rb"), text("\u2028sep")])


CELL_KINDS = {
    "wrong_type": wrong_type, "formula": formula, "error_value": error_value, "long_text": long_text,
    "huge_number": huge_number, "negative_number": negative_number, "pre_1900_date": pre_1900_date,
    "unknown_enum": unknown_enum, "control_chars": control_chars,
}

# What the same kinds look like in a text file (bank CSV, MT940 fields, camt.053 elements, opening CSV)
TEXT_VALUES: dict[str, tuple[str, ...]] = {
    "wrong_type": ("abc", "TRUE", "12,34,56", "1.2.3", "--5", "5-", "()", "¥100", "0x10", "Infinity", "NaN",
                   "3/15/2026", "tomorrow", "2026-02-30", "45000", "1e5"),
    "formula": INJECTIONS,
    "error_value": ERROR_VALUES,
    "huge_number": ("9" * 40, "1" + "0" * 30 + ".00", "99999999999999999999.99", "-" + "9" * 25, "1e308",
                    "0.000000001", "1" * 5000, "9999999999999.99", "10000000000000"),
    "negative_number": ("-0", "-0.00", "-1", "(123.45)", "123.45-", "-99999999.99", "- 5"),
    "pre_1900_date": ("1899-12-31", "0001-01-01", "1000-01-01", "1900-01-00", "1582-10-10", "18991231"),
    "unknown_enum": ("XXX", "ZZZ", "BTC", "RMBX", "eur0", "€", "CRDTX", "postd"),
    "control_chars": ("a\x00b", "a\x07b", "\u202eevil", "\u200b", "\xa0", "emoji 😀", "\ufeffBOM", "a\x1bb"),
}


def long_string(rng: random.Random) -> str:
    return ("GOOD " * 30_000)[: rng.choice(LONG_LENGTHS)]
