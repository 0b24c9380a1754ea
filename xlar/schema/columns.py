"""The vocabulary of sheet declarations: column kinds, columns and sheets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    TEXT = "text"          # free text
    CODE = "code"          # an identifier: trimmed, no line breaks (customer code, number)
    INT = "int"
    DECIMAL = "decimal"    # exact, not money: quantities, unit prices
    MONEY = "money"        # in the row's currency (MONEY columns name it with currency_from)
    RATE = "rate"          # an exchange rate, exact, up to 10 places
    PERCENT = "percent"    # a fraction: 13% is 0.13 (cells formatted as %)
    DATE = "date"
    PERIOD = "period"      # YYYY-MM
    CHOICE = "choice"      # one of `choices`


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    kind: Kind
    en: str
    zh: str
    required: bool = False
    choices: tuple[str, ...] = ()
    lookup: str | None = None          # a validation list: customers, currencies, terms, ...
    currency_from: str | None = None   # MONEY: the column holding the row's currency
    width: int = 14
    note: str = ""                     # shown as the header's input message
    computed: bool = False             # written by xlar, never read back as input
    aliases: tuple[str, ...] = ()      # earlier headers still read (品号 for 物料编码)
    max_len: int | None = None         # the most characters the book keeps (its store column holds no more)

    def label(self, locale: str) -> str:
        return self.zh if locale == "zh-CN" else self.en


@dataclass(frozen=True, slots=True)
class SheetSchema:
    name: str                      # the English sheet name, also the internal key
    zh: str                        # the zh-CN sheet name
    table: str                     # the Excel Table's name
    columns: tuple[Column, ...]
    key: tuple[str, ...]           # the natural key (unique per row)
    store_table: str | None        # the store table its rows live in
    purpose_en: str = ""
    purpose_zh: str = ""
    lines: str | None = None       # a parent sheet: the sheet holding its rows' lines (Invoices: InvoiceLines)
    parent_key: str | None = None  # a lines sheet: the column naming the parent row (InvoiceLines: invoice)
    by_key: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {c.key: c for c in self.columns})
        missing = [k for k in self.key if k not in self.by_key]
        if missing:
            raise ValueError(f"sheet {self.name}: key columns {missing} are not declared")

    def title(self, locale: str) -> str:
        return self.zh if locale == "zh-CN" else self.name

    def parent_name(self, values: Mapping[str, object]) -> str:
        """A lines sheet's row (VALUES): the name of the parent row it belongs to, as typed."""
        if self.parent_key is None:
            raise ValueError(f"{self.name} is not a lines sheet")
        return str(values.get(self.parent_key))

    def header_index(self) -> dict[str, str]:
        """Every accepted header text (either language, any case) -> column key."""
        index: dict[str, str] = {}
        for col in self.columns:
            for text in (col.key, col.en, col.zh, *col.aliases):
                index[normalize_header(text)] = col.key
        return index


def normalize_header(text: str) -> str:
    return " ".join(str(text).replace("\n", " ").split()).casefold()


ID_COLUMN = "_id"
REV_COLUMN = "_rev"
HIDDEN = (ID_COLUMN, REV_COLUMN)
