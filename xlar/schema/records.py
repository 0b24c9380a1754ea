"""One typed record per input sheet (and the opening-balance file), beside the schemas.

A row read from a sheet is a dict of parsed cells by column key; `Row.of(values)` makes it
the sheet's record, one field per column in the sheet's order, typed by the column's kind
(code, text, choice, period: str; int; decimal, money, rate, percent: Decimal; date). A
required input column is never None. Services and adapters take records, so a typo in a
column key or a value of the wrong type is found by mypy, or at the boundary, not deep in a
service. tests/test_records.py holds each record to its schema.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Self

from xlar.domain.money import decimal_from_number
from xlar.schema.columns import Column, Kind, SheetSchema
from xlar.schema.sheets import (
    ALLOCATIONS,
    CONTACTS,
    CONTRACTS,
    CUSTOMERS,
    DELIVERIES,
    FX_RATES,
    INSTALLMENT_TERMS,
    INVOICE_LINES,
    INVOICES,
    OPENING_BALANCES,
    ORDERS,
    PAYABLES,
    PAYMENT_TERMS,
    RECEIPTS,
    REMINDER_LEVELS,
    SETTINGS,
)


class Record:
    """A sheet row as a typed record: one field per column of SHEET, in the sheet's order."""

    __slots__ = ()
    SHEET: ClassVar[SheetSchema]

    @classmethod
    def of(cls, values: dict[str, Any] | Any) -> Self:
        """The record of a row's VALUES (by column key, as the reader parses cells). A key the
        sheet lacks is ignored, a missing one is None. Numbers become Decimal (a float through
        its shortest repr), a whole Decimal in an int column an int; any other value of the
        wrong type, or None in a required column, is a fault of the caller: TypeError, naming
        the sheet and column."""
        return cls(**{c.key: _typed(cls.SHEET, c, values.get(c.key)) for c in cls.SHEET.columns})

    def values(self) -> dict[str, object]:
        """The row's values by column key (what the writer and the content hash take)."""
        return {c.key: getattr(self, c.key) for c in self.SHEET.columns}


def _typed(sheet: SheetSchema, col: Column, value: object) -> object:
    kind = col.kind
    if value is None:
        if col.required and not col.computed:   # the reader holds such a row back (XLAR-E102)
            raise TypeError(f"{sheet.name}[{col.key}] is required: a row without it is not a record")
        return None
    if kind in _NUMBERS and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return decimal_from_number(value)
    if kind is Kind.INT and isinstance(value, (int, Decimal)) and not isinstance(value, bool) and value == int(value):
        return int(value)
    if kind is Kind.DATE and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if kind in _TEXTS and isinstance(value, str):
        return value
    raise TypeError(f"{sheet.name}[{col.key}] ({kind}) cannot hold {value!r}")


_NUMBERS = frozenset({Kind.DECIMAL, Kind.MONEY, Kind.RATE, Kind.PERCENT})
_TEXTS = frozenset({Kind.TEXT, Kind.CODE, Kind.CHOICE, Kind.PERIOD})


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingRow(Record):
    """A row of the Settings sheet (设置)."""

    SHEET: ClassVar[SheetSchema] = SETTINGS
    key: str
    value: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerRow(Record):
    """A row of the Customers sheet (客户)."""

    SHEET: ClassVar[SheetSchema] = CUSTOMERS
    code: str
    name: str
    category: str | None = None
    parent_code: str | None = None
    salesperson: str | None = None
    currency: str
    payment_terms: str | None = None
    closing_day: int | None = None
    credit_limit: Decimal | None = None
    credit_class: str | None = None
    tax_id: str | None = None
    contact: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    vendor_code: str | None = None
    bank_account: str | None = None
    ar_account: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentTermsRow(Record):
    """A row of the PaymentTerms sheet (付款条件)."""

    SHEET: ClassVar[SheetSchema] = PAYMENT_TERMS
    code: str
    name: str
    basis: str
    days: int
    discount_days: int | None = None
    discount_pct: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallmentTermsRow(Record):
    """A row of the InstallmentTerms sheet (分期条件)."""

    SHEET: ClassVar[SheetSchema] = INSTALLMENT_TERMS
    code: str
    period_no: int
    percent: Decimal
    offset_months: int | None = None
    offset_days: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ContractRow(Record):
    """A row of the Contracts sheet (合同)."""

    SHEET: ClassVar[SheetSchema] = CONTRACTS
    number: str
    customer: str
    sign_date: dt.date | None = None
    amount: Decimal | None = None
    currency: str | None = None
    payment_terms: str | None = None
    installment_terms: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRow(Record):
    """A row of the Orders sheet (订单)."""

    SHEET: ClassVar[SheetSchema] = ORDERS
    number: str
    customer: str
    date: dt.date
    amount: Decimal | None = None
    currency: str | None = None
    deposit_pct: Decimal | None = None
    contract: str | None = None
    installment_terms: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryRow(Record):
    """A row of the Deliveries sheet (销货单)."""

    SHEET: ClassVar[SheetSchema] = DELIVERIES
    number: str
    line: int
    kind: str | None = None
    date: dt.date
    customer: str
    order: str | None = None
    item: str
    qty: Decimal
    unit_price: Decimal | None = None
    tax_rate: Decimal | None = None
    currency: str | None = None
    salesperson: str | None = None
    status: str | None = None
    billed_qty: Decimal | None = None   # computed: shown, not read


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceRow(Record):
    """A row of the Invoices sheet (发票)."""

    SHEET: ClassVar[SheetSchema] = INVOICES
    number: str | None = None
    your_ref: str | None = None
    kind: str | None = None
    date: dt.date
    customer: str
    currency: str | None = None
    fx_rate: Decimal | None = None
    net: Decimal | None = None
    tax: Decimal | None = None
    total: Decimal | None = None
    open: Decimal | None = None   # computed: shown, not read
    due_date: dt.date | None = None
    expected_date: dt.date | None = None
    order: str | None = None
    original: str | None = None
    source: str | None = None
    fapiao_no: str | None = None
    status: str | None = None
    disputed: str | None = None
    memo: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceLineRow(Record):
    """A row of the InvoiceLines sheet (发票明细)."""

    SHEET: ClassVar[SheetSchema] = INVOICE_LINES
    invoice: str
    line: int
    delivery: str | None = None
    delivery_line: int | None = None
    item: str
    qty: Decimal
    unit_price: Decimal
    tax_rate: Decimal | None = None
    net: Decimal | None = None   # computed: shown, not read
    tax: Decimal | None = None   # computed: shown, not read


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptRow(Record):
    """A row of the Receipts sheet (收款单)."""

    SHEET: ClassVar[SheetSchema] = RECEIPTS
    number: str | None = None
    your_ref: str | None = None
    date: dt.date
    customer: str
    method: str | None = None
    currency: str | None = None
    fx_rate: Decimal | None = None
    amount: Decimal
    maturity_date: dt.date | None = None
    reference: str | None = None
    status: str | None = None
    entered_by: str | None = None   # computed: shown, not read
    approved_by: str | None = None   # computed: shown, not read
    memo: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AllocationRow(Record):
    """A row of the Allocations sheet (核销)."""

    SHEET: ClassVar[SheetSchema] = ALLOCATIONS
    credit_doc: str | None = None
    invoice: str
    installment_no: int | None = None
    item: str | None = None
    amount: Decimal
    method: str | None = None
    reason_code: str | None = None
    memo: str | None = None
    date: dt.date | None = None   # computed: shown, not read
    batch: int | None = None   # computed: shown, not read
    undo_on: dt.date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PayableRow(Record):
    """A row of the Payables sheet (应付)."""

    SHEET: ClassVar[SheetSchema] = PAYABLES
    customer: str
    number: str
    date: dt.date
    due_date: dt.date | None = None
    currency: str | None = None
    amount: Decimal
    reference: str | None = None
    netted: Decimal | None = None   # computed: shown, not read
    memo: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FxRateRow(Record):
    """A row of the FxRates sheet (汇率)."""

    SHEET: ClassVar[SheetSchema] = FX_RATES
    currency: str
    period: str
    rate: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactRow(Record):
    """A row of the Contacts sheet (催收记录)."""

    SHEET: ClassVar[SheetSchema] = CONTACTS
    customer: str
    date: dt.date
    method: str | None = None
    person: str | None = None
    result: str | None = None
    promise_date: dt.date | None = None
    promise_amount: Decimal | None = None
    next_action: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReminderLevelRow(Record):
    """A row of the ReminderLevels sheet (催收级别)."""

    SHEET: ClassVar[SheetSchema] = REMINDER_LEVELS
    credit_class: str
    level: int
    days: int
    channel: str
    letter_zh: str | None = None
    letter_en: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OpeningBalanceRow(Record):
    """A row of an opening-balance file (期初余额)."""

    SHEET: ClassVar[SheetSchema] = OPENING_BALANCES
    customer: str
    number: str
    date: dt.date
    due_date: dt.date | None = None
    currency: str | None = None
    fx_rate: Decimal | None = None
    amount: Decimal
    open_amount: Decimal
    memo: str | None = None
