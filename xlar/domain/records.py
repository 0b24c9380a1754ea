"""The stored records every layer passes: a document (an invoice, a receipt, a credit note, a
reversal, ...), a customer, a delivery line, an order, a contract, a payable, an imported bank
statement line and a month's close as the book holds them.

Services load them (xlar.store.documents, .customers, .deliveries, .orders), decide on their fields and
write what changes; no layer above the store reads a document or a customer as a database row.
Amounts are integer minor units, as stored; `Document.amount` gives the total as `Money`. (What
a person types for a customer, checked, is xlar.domain.customers.Customer.)
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from xlar.domain.allocation import LIVE
from xlar.domain.documents import DocKind, DocStatus, MinorTotals
from xlar.domain.money import Money


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """A stored document. Its fields are the columns of the documents table, by name."""

    id: int
    kind: DocKind
    status: DocStatus
    number: str | None = None              # none until posted: a draft is "draft #id"
    customer_id: int
    doc_on: date
    due_on: date | None = None
    currency: str
    fx_rate: Decimal                       # base currency per unit of its currency
    net_minor: int
    tax_minor: int
    amount_minor: int                      # net + tax, unsigned (the open items carry the sign)
    base_amount_minor: int                 # the total in the book's base currency
    payment_terms: str | None = None
    method: str | None = None              # a receipt's: bank, cash, note, offset
    reference: str | None = None
    memo: str | None = None
    reverses_id: int | None = None         # a reversal: the document it voids
    source: str | None = None
    fapiao_no: str | None = None
    created_by: str
    created_at: datetime
    posted_by: str | None = None
    posted_at: datetime | None = None
    voided_by: str | None = None
    voided_at: datetime | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    related_id: int | None = None          # a credit note: its invoice; a deposit offset: its invoice
    order_number: str | None = None
    installment_terms: str | None = None
    expected_on: date | None = None
    maturity_on: date | None = None        # a bank acceptance note: when it falls due
    batch_id: int | None = None            # a realized exchange difference: its match batch
    rev: int = 1
    disputed: str | None = None            # 'yes': the customer disputes it; held out of dunning
    user_ref: str | None = None            # the number the user typed on the new row (Your ref.)

    @classmethod
    def of(cls, row: Any) -> Document:
        """A document from a row of the documents table (a mapping of its columns by name)."""
        values = dict(row)
        values["kind"], values["status"] = DocKind(values["kind"]), DocStatus(values["status"])
        return cls(**values)

    @property
    def label(self) -> str:
        """How messages name it: 'invoice INV-2026-00001' or 'invoice draft #7'."""
        return f"{self.kind} {self.number or 'draft #' + str(self.id)}"

    @property
    def live(self) -> bool:
        """Booked and standing: posted (or approved, a receipt), not a draft nor void."""
        return self.status in LIVE

    @property
    def totals(self) -> MinorTotals:
        return MinorTotals(self.net_minor, self.tax_minor)

    @property
    def amount(self) -> Money:
        return Money.of_minor(self.amount_minor, self.currency)

    def columns(self) -> dict[str, Any]:
        """Its columns by name, as the audit trail keeps them."""
        return {name: getattr(self, name) for name in COLUMNS}


COLUMNS = tuple(f.name for f in fields(Document))


@dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    """A stored customer. Its fields are the columns of the customers table, by name."""

    id: int
    code: str
    name: str
    category: str | None = None
    parent_code: str | None = None         # its head office: billed on the parent's account
    salesperson: str | None = None
    currency: str
    payment_terms: str | None = None
    closing_day: int | None = None         # the day its billing cycle closes (1-31)
    credit_limit_minor: int | None = None  # in minor units of its currency; none: no limit
    credit_class: str | None = None
    tax_id: str | None = None
    contact: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    vendor_code: str | None = None         # the same firm as a vendor (AR/AP netting)
    status: str = "active"                 # active, blocked or inactive
    bank_account: str | None = None        # the account it pays from (bank statement matching)
    rev: int = 1
    ar_account: str | None = None          # its own receivable account (default: the book's)

    @property
    def inactive(self) -> bool:
        return self.status == "inactive"


PARTY_COLUMNS = tuple(f.name for f in fields(Party))


DeliveryKey = tuple[str, int]          # (delivery note number, line)


class Delivery(NamedTuple):
    """A stored delivery line (a delivery, or a return when KIND is 'return'). Its fields are the
    columns of the deliveries table, in their order. A named tuple: made at C speed from a row
    (billing reads every unbilled line of the book)."""

    id: int
    number: str                     # the delivery note
    line_no: int
    kind: str                       # delivery or return
    delivered_on: date
    customer_id: int
    order_number: str | None
    item: str
    qty: Decimal                    # positive, also for a return
    unit_price: Decimal | None      # none: not priced yet, so not billable
    tax_rate: Decimal | None
    currency: str | None
    salesperson: str | None
    billed_qty: Decimal             # what documents bill of it so far
    status: str                     # draft or posted
    net_minor: int | None           # qty x unit price, rounded once; tax on it
    tax_minor: int | None
    accrual_id: int | None          # the document that booked its revenue at delivery
    rev: int

    @property
    def key(self) -> DeliveryKey:
        return (self.number, self.line_no)


class Order(NamedTuple):
    """A stored sales order. Its fields are the columns of the orders table, in their order."""

    id: int
    number: str
    customer_id: int
    order_on: date
    amount_minor: int | None
    currency: str | None
    deposit_pct: Decimal | None     # a deposit pre-invoice of this share is billed before delivery
    contract: str | None            # the contract's number
    installment_terms: str | None   # its final invoice is paid in these installments
    rev: int


class Contract(NamedTuple):
    """A stored sales contract. Its fields are the columns of the contracts table, in their order."""

    id: int
    number: str
    customer_id: int
    sign_on: date | None
    amount_minor: int | None
    currency: str | None
    payment_terms: str | None       # its orders' invoices are due on these terms
    installment_terms: str | None
    status: str | None
    rev: int


class Payable(NamedTuple):
    """What the book owes a customer that is also a vendor (netted against what it owes). Its
    fields are the columns of the payables table, in their order."""

    id: int
    customer_id: int
    number: str                     # the vendor's invoice number
    payable_on: date
    due_on: date | None
    currency: str
    amount_minor: int
    reference: str | None
    memo: str | None
    created_by: str
    rev: int


class PeriodClose(NamedTuple):
    """A month's close (or its reopening). Its fields are the columns of the period_closes table."""

    period: str                     # YYYY-MM
    status: str                     # closed or reopened
    closed_by: str
    closed_at: datetime
    reopened_by: str | None
    reopened_at: datetime | None
    reason: str | None              # why it was reopened
    chain_seq: int | None           # the audit chain's head it was closed on
    chain_hash: str | None


class StatementLine(NamedTuple):
    """An imported bank statement line and what became of it. Its fields are the columns of the
    bank_lines table, in their order."""

    id: int
    line_key: str                   # importing the same line twice adds nothing
    source: str                     # the file it came from
    account: str
    statement: str
    seq: int
    booked_on: date
    value_on: date | None
    amount_minor: int               # + money received, - money paid out
    currency: str
    counterparty: str | None
    counterparty_account: str | None
    reference: str | None           # the remittance text
    end_to_end: str | None
    bank_ref: str | None
    reversal: bool
    customer_id: int | None         # the customer it was matched to
    invoices: str | None            # "INV-1=100.00; INV-2=5.00"
    confidence: int
    reason: str
    exception: str | None           # why it waits in the exception queue; none: applied
    receipt_id: int | None          # the receipt made of it
    imported_by: str
    imported_at: datetime
