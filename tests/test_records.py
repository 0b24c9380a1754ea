"""Each input sheet's typed record (xlar/schema/records.py) against its schema, and the codec
(xlar/sync/codec.py) that every adapter loads and writes through."""

from __future__ import annotations

import datetime as dt
import typing
from decimal import Decimal

import pytest

from xlar.schema import records
from xlar.schema.columns import Kind
from xlar.schema.sheets import INPUT_SHEETS, OPENING_BALANCES
from xlar.store.mapping import MAPPINGS
from xlar.sync.codec import CODECS
from xlar.sync.context import Context

TYPES = {Kind.TEXT: str, Kind.CODE: str, Kind.CHOICE: str, Kind.PERIOD: str, Kind.INT: int, Kind.DECIMAL: Decimal,
         Kind.MONEY: Decimal, Kind.RATE: Decimal, Kind.PERCENT: Decimal, Kind.DATE: dt.date}
RECORDS = {cls.SHEET.name: cls for cls in vars(records).values()
           if isinstance(cls, type) and issubclass(cls, records.Record) and cls is not records.Record}


def test_every_input_sheet_has_one_record_with_a_field_per_column_typed_by_its_kind():
    assert sorted(RECORDS) == sorted(s.name for s in (*INPUT_SHEETS, OPENING_BALANCES))
    for name, cls in RECORDS.items():
        hints = typing.get_type_hints(cls, globalns=vars(records))
        hints.pop("SHEET")
        assert list(hints) == [c.key for c in cls.SHEET.columns], name   # the sheet's order
        for col in cls.SHEET.columns:
            want = TYPES[col.kind] if col.required and not col.computed else TYPES[col.kind] | None
            assert hints[col.key] == want, (name, col.key)


def test_a_record_takes_a_rows_parsed_values_and_gives_them_back():
    values = {"number": None, "your_ref": "T1", "date": dt.date(2026, 3, 1), "customer": "C001", "net": 100.5,
              "tax": Decimal("13.07"), "fx_rate": 7, "disputed": "yes", "not a column": object()}
    row = records.InvoiceRow.of(values)
    assert (row.customer, row.net, row.fx_rate, row.total, row.your_ref) == ("C001", Decimal("100.5"), Decimal(7),
                                                                             None, "T1")
    assert type(row.net) is Decimal and row.values() == {c.key: getattr(row, c.key) for c in row.SHEET.columns}
    assert records.InvoiceRow.of(row.values()) == row
    line = records.InvoiceLineRow.of({"invoice": "T1", "line": Decimal(2), "item": "A", "qty": 1, "unit_price": 3})
    assert line.line == 2 and type(line.line) is int


@pytest.mark.parametrize("values, refused", [
    ({"date": dt.date(2026, 3, 1)}, "Invoices[customer] is required"),
    ({"date": "2026-03-01", "customer": "C1"}, "Invoices[date] (date) cannot hold '2026-03-01'"),
    ({"date": dt.datetime(2026, 3, 1, 9), "customer": "C1"}, "Invoices[date] (date) cannot hold"),
    ({"date": dt.date(2026, 3, 1), "customer": 1001}, "Invoices[customer] (code) cannot hold 1001"),
    ({"date": dt.date(2026, 3, 1), "customer": "C1", "net": True}, "Invoices[net] (money) cannot hold True"),
])
def test_a_value_of_the_wrong_type_is_the_callers_fault_named_by_sheet_and_column(values, refused):
    with pytest.raises(TypeError, match=refused.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")
                       .replace(")", r"\)")):
        records.InvoiceRow.of(values)


def test_the_codec_maps_exactly_the_mapped_columns_money_in_the_rows_currency():
    ctx = Context("alice", "CNY", code_of={7: "C7"}, id_of={"C7": 7}, currency_of={"C7": "JPY"})
    for name, mapping in MAPPINGS.items():
        assert CODECS[name].columns == mapping.columns, name
    invoices = CODECS["Invoices"]
    row = {column: None for column in MAPPINGS["Invoices"].columns.values()} | {
        "customer_id": 7, "currency": "USD", "net_minor": 12345, "amount_minor": 13950, "doc_on": dt.date(2026, 3, 1)}
    shown = invoices.to_sheet(ctx, row)
    assert (shown["customer"], shown["net"], shown["total"], shown["tax"]) == ("C7", Decimal("123.45"),
                                                                               Decimal("139.50"), None)
    assert invoices.to_store(ctx, shown) == row
    payables = CODECS["Payables"]    # no currency typed: the customer's (JPY has no minor unit)
    stored = payables.to_store(ctx, {"customer": "C7", "amount": Decimal(1500), "number": "P1"})
    assert stored["amount_minor"] == 1500 and stored["customer_id"] == 7
    assert payables.to_sheet(ctx, stored)["amount"] == Decimal(1500)
    lines = CODECS["InvoiceLines"].to_sheet(ctx, {c: 1 for c in MAPPINGS["InvoiceLines"].columns.values()}, "CNY")
    assert lines["net"] == Decimal("0.01") and lines["invoice"] == 1
