"""A sheet's rows to and from the store, by the sheet's store mapping (xlar.store.mapping).

One codec per sheet, built from its SheetMapping, is the only place that knows which store
column holds which sheet column: a customer's code is stored as its id, money as integer
minor units of the row's currency. Every adapter loads and writes through it, documents
included; an adapter adds only what is not a column (a draft's shown number, derived cells).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from xlar.domain.money import from_minor, to_minor
from xlar.schema.columns import Kind
from xlar.store.mapping import MAPPINGS, SheetMapping
from xlar.store.reads import StoredRow
from xlar.sync.context import Context


class Codec:
    def __init__(self, mapping: SheetMapping) -> None:
        self.columns = mapping.columns
        sheet = mapping.sheet
        self.money = tuple((key, column) for key, column in mapping.columns.items()
                           if sheet.by_key[key].kind is Kind.MONEY)
        self.money_keys = frozenset(key for key, _ in self.money)

    @staticmethod
    def currency(ctx: Context, values: Mapping[str, object]) -> str:
        """The row's currency: its own column, else its customer's, else the book's."""
        return str(values.get("currency") or ctx.currency_of.get(str(values.get("customer")), ctx.base_currency))

    def to_store(self, ctx: Context, values: Mapping[str, object]) -> dict[str, object]:
        """The store row of a sheet row's VALUES (by column key), every mapped column set."""
        out: dict[str, object] = {}
        currency = None
        for key, column in self.columns.items():
            value = values.get(key)
            if key == "customer":
                value = ctx.customer_id(value)
            elif value is not None and key in self.money_keys:
                currency = currency or self.currency(ctx, values)
                value = to_minor(Decimal(str(value)), currency)
            out[column] = value
        return out

    def to_sheet(self, ctx: Context, row: StoredRow, currency: str | None = None) -> dict[str, object]:
        """A store ROW's mapped columns by sheet column key; money in CURRENCY (default: the row's)."""
        values: dict[str, object] = {}
        for key, column in self.columns.items():
            value = row[column]
            values[key] = ctx.code_of.get(value) if key == "customer" else value
        for key, column in self.money:
            if row[column] is not None:
                values[key] = from_minor(row[column], currency or self.currency(ctx, values))
        return values


CODECS: dict[str, Codec] = {name: Codec(mapping) for name, mapping in MAPPINGS.items()}   # by sheet name
