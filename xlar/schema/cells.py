"""Turning one cell's raw value into a typed value, or saying exactly what is wrong.

Raw values are what a reader hands over: None, str, int, float, bool, date or datetime.
Nothing is guessed: a number stored as text, a date typed as ambiguous text or a date
serial without a date format is refused with a message naming the value.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from xlar.domain.codes import Code
from xlar.domain.errors import XlarError
from xlar.domain.money import decimal_from_number, parse_rate, to_minor
from xlar.domain.periods import parse_period, period_of
from xlar.schema.columns import Column, Kind
from xlar.schema.sheets import CHOICE_ZH, CHOICE_ZH_EARLIER

EXCEL_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                "#SPILL!", "#CALC!")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LOCALE_DATE = re.compile(r"^\s*\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}\s*$")
_NUMBER_TEXT = re.compile(r"^\s*[-+]?[\d,]*\.?\d+\s*%?\s*$")
EARLIEST, LATEST = date(1900, 3, 1), date(2199, 12, 31)
MAX_TEXT = 32_767  # what an Excel cell holds
LARGEST = Decimal(10) ** 13     # amounts, rates and quantities from here on are typos, and beyond exact storage
LARGEST_WHOLE = 2 ** 31         # days, lines, levels: what the store's integers hold


@dataclass(frozen=True, slots=True)
class CellError:
    code: Code
    message: str


@dataclass(frozen=True, slots=True)
class Parsed:
    value: object
    warning: CellError | None = None


def _shown(raw: object) -> str:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = raw.isoformat() if isinstance(raw, (date, datetime)) else str(raw)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def is_blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def proves_locale_mixup(raw: object) -> bool:
    """Text like '1/15/2013' (or '15/1/2013'): a date no D/M/Y (or M/D/Y) reading could take,
    so the column was typed in one day/month order and read in the other."""
    if not isinstance(raw, str) or not _LOCALE_DATE.match(raw):
        return False
    first, second = (int(p) for p in re.split(r"[/.\-]", raw.strip())[:2])
    return max(first, second) > 12 and min(first, second) <= 12


_BLANK = Parsed(None)
_REQUIRED = CellError(Code.E102, "is required but blank")


def parse_cell(col: Column, raw: object, currency: str | None = None) -> Parsed | CellError:
    """The typed value of RAW for COL (None for a blank), or why it cannot be taken."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return _REQUIRED if col.required else _BLANK
    if isinstance(raw, str) and raw.lstrip()[0] == "#" and raw.strip() in EXCEL_ERRORS:
        return CellError(Code.E101, f"the cell shows the error {raw.strip()}")
    try:
        return _PARSERS[col.kind](col, raw, currency)
    except XlarError as exc:
        return CellError(Code.E103, f"{_shown(raw)}: {exc.message}")


MISS = object()   # a fast parser's answer when the cell needs parse_cell's full judgement


def fast_parser(col: Column) -> Callable[[object, str | None], object]:
    """For reading many rows: COL's usual clean cell (a blank, a short one-line text, a real
    date, a plain number, a known choice) parsed without parse_cell's general path. Returns
    the value, or MISS for anything else, which parse_cell then judges."""
    required, kind = col.required, col.kind

    def blank_or(parse: Callable[[object, str | None], object]) -> Callable[[object, str | None], object]:
        def parser(raw: object, currency: str | None) -> object:
            if raw is None or raw == "":
                return MISS if required else None
            return parse(raw, currency)
        return parser

    if kind in (Kind.TEXT, Kind.CODE):
        strip = kind is Kind.CODE

        def text(raw: object, _cur: str | None) -> object:
            if type(raw) is str and len(raw) <= 40 and "\n" not in raw and "\r" not in raw and "\x00" not in raw:
                value = raw.strip() if strip else raw
                if value.strip() and value.strip()[0] != "#":
                    return value
            return MISS
        return blank_or(text)
    if kind is Kind.DATE:
        def day(raw: object, _cur: str | None) -> object:
            return raw if type(raw) is date and EARLIEST <= raw <= LATEST else MISS
        return blank_or(day)
    if kind in (Kind.MONEY, Kind.DECIMAL):
        money = kind is Kind.MONEY

        def number(raw: object, currency: str | None) -> object:
            if type(raw) is not float:
                return MISS
            shown = repr(raw)
            if len(shown) > 15 or "n" in shown or not -1e13 < raw < 1e13:
                return MISS
            value = Decimal(shown)
            if money and currency is not None:
                try:
                    to_minor(value, currency)
                except XlarError:
                    return MISS
            return value
        return blank_or(number)
    if kind is Kind.CHOICE:
        known = _choices(col)

        def choice(raw: object, _cur: str | None) -> object:
            found = known.get(raw.strip().casefold()) if type(raw) is str else None
            return MISS if found is None else found.value
        return blank_or(choice)
    if kind is Kind.INT:
        def whole(raw: object, _cur: str | None) -> object:
            return int(raw) if type(raw) is float and raw.is_integer() and abs(raw) < LARGEST_WHOLE else MISS
        return blank_or(whole)
    return blank_or(lambda _raw, _cur: MISS)


def _text(col: Column, raw: object, _cur: str | None) -> Parsed | CellError:
    if type(raw) is str and len(raw) <= 40 and "\n" not in raw and "\r" not in raw and "\x00" not in raw:
        return Parsed(raw.strip() if col.kind is Kind.CODE else raw)   # the usual case
    if isinstance(raw, bool):
        return CellError(Code.E104, f"{_shown(raw)} is TRUE/FALSE, not text")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = raw.isoformat() if isinstance(raw, (date, datetime)) else str(raw)
    if len(text) > MAX_TEXT:
        return CellError(Code.E105, f"text of {len(text):,} characters is longer than a cell holds")
    if "\x00" in text:   # Excel's _x0000_: PostgreSQL keeps no NUL in text
        return CellError(Code.E129, f"{_shown(raw)} holds a NUL character (\\x00), which the book cannot keep")
    if col.kind is Kind.CODE:
        text = text.strip()
        if "\n" in text or "\r" in text:
            return CellError(Code.E106, f"{_shown(raw)} has a line break; codes are one line")
        if len(text) > 40:
            return CellError(Code.E105, f"{_shown(raw)} is longer than 40 characters")
        if isinstance(raw, int):
            return Parsed(text, CellError(Code.W101, f"{text} was stored as a number: leading zeros, "
                                                       "if it had any, are lost; format the column as Text"))
    return Parsed(text)


def _number(raw: object) -> Decimal | CellError:
    if isinstance(raw, bool):
        return CellError(Code.E104, f"{_shown(raw)} is TRUE/FALSE, not a number")
    if isinstance(raw, str):
        if _NUMBER_TEXT.match(raw):
            return CellError(Code.E107, f"number stored as text {_shown(raw)}: re-enter it as a number")
        return CellError(Code.E108, f"{_shown(raw)} is not a number")
    if isinstance(raw, (date, datetime)):
        return CellError(Code.E108, f"{_shown(raw)} is a date, not a number")
    return decimal_from_number(raw)


def _int(col: Column, raw: object, _cur: str | None) -> Parsed | CellError:
    value = _number(raw)
    if isinstance(value, CellError):
        return value
    if value != value.to_integral_value():
        return CellError(Code.E109, f"{value} is not a whole number")
    if abs(value) >= LARGEST_WHOLE:
        return CellError(Code.E128, f"{int(value):,} is too large for this column (at most {LARGEST_WHOLE - 1:,})")
    return Parsed(int(value))


def _decimal(col: Column, raw: object, currency: str | None) -> Parsed | CellError:
    value = _number(raw)
    if isinstance(value, CellError):
        return value
    if abs(value) >= LARGEST:
        return CellError(Code.E128, f"{value:,} is too large: xlar keeps amounts, rates and quantities "
                                      "below 10,000,000,000,000")
    if col.kind is Kind.MONEY and currency is not None:
        to_minor(value, currency)  # more decimals than the currency has: refused
    if col.kind is Kind.RATE:
        value = parse_rate(value)
    if col.kind is Kind.PERCENT and not Decimal(0) <= value < Decimal(1):
        return CellError(Code.E110, f"{value} is {value * 100}%: type a percentage like 13% (0.13)")
    return Parsed(value)


def _date(col: Column, raw: object, _cur: str | None) -> Parsed | CellError:
    if isinstance(raw, datetime):
        raw = raw.date()
    if isinstance(raw, date):
        if not EARLIEST <= raw <= LATEST:
            return CellError(Code.E111, f"date {raw.isoformat()} is out of range")
        return Parsed(raw)
    if isinstance(raw, str):
        text = raw.strip()
        if _ISO_DATE.match(text):
            try:
                return _date(col, date.fromisoformat(text), None)
            except ValueError:
                return CellError(Code.E112, f"{_shown(raw)} is not a real date")
        if _LOCALE_DATE.match(text):
            return CellError(Code.E113, f"date typed as text {_shown(raw)}: day and month order is "
                                          "ambiguous; enter a real date (or YYYY-MM-DD)")
        return CellError(Code.E112, f"{_shown(raw)} is not a date")
    if isinstance(raw, time):
        return CellError(Code.E111, f"{_shown(raw)} is a time of day, not a date "
                                      "(Excel has no dates before 1900)")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return CellError(Code.E114, f"number {_shown(raw)[1:-1]} in a date column: format the cell as a date")
    return CellError(Code.E112, f"{_shown(raw)} is not a date")


def _period(col: Column, raw: object, _cur: str | None) -> Parsed | CellError:
    if isinstance(raw, (date, datetime)):
        return Parsed(period_of(raw))
    if isinstance(raw, str):
        parse_period(raw)
        return Parsed(raw.strip())
    return CellError(Code.E115, f"{_shown(raw)} is not a period like 2026-03")


@functools.cache
def _choices(col: Column) -> dict[str, Parsed]:
    """What a cell of COL may say (either language, any case) -> the choice's code."""
    return {text.casefold(): Parsed(code) for code in col.choices
            for text in (code, CHOICE_ZH.get(code, code), *CHOICE_ZH_EARLIER.get(code, ()))}


def _choice(col: Column, raw: object, _cur: str | None) -> Parsed | CellError:
    found = _choices(col).get(str(raw).strip().casefold())
    if found is not None:
        return found
    return CellError(Code.E116, f"{_shown(raw)} is not one of {', '.join(col.choices)}")


_PARSERS = {
    Kind.TEXT: _text, Kind.CODE: _text, Kind.INT: _int, Kind.DECIMAL: _decimal, Kind.MONEY: _decimal,
    Kind.RATE: _decimal, Kind.PERCENT: _decimal, Kind.DATE: _date, Kind.PERIOD: _period,
    Kind.CHOICE: _choice,
}

