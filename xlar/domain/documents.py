"""Documents: kinds, how they price their lines, and the journal they post.

A document's sign says which side of the customer's account it sits on: debits
(invoices, debit notes, refunds, ...) raise the balance, credits (receipts, credit
notes) lower it. Amounts here are unsigned; open items carry the sign.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from xlar.domain.errors import InvalidDocument
from xlar.domain.money import convert, round_money


class DocKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    DEBIT_NOTE = "debit_note"
    DEPOSIT_INVOICE = "deposit_invoice"
    RECEIPT = "receipt"
    REFUND = "refund"
    OPENING_BALANCE = "opening_balance"
    TRANSFER = "transfer"
    NETTING = "netting"
    FX_ADJUSTMENT = "fx_adjustment"
    WRITE_OFF = "write_off"
    REVERSAL = "reversal"


class DocStatus(StrEnum):
    DRAFT = "draft"
    POSTED = "posted"
    APPROVED = "approved"
    VOID = "void"


CREDIT_KINDS = frozenset({DocKind.CREDIT_NOTE, DocKind.RECEIPT, DocKind.WRITE_OFF})
LINE_KINDS = frozenset(
    {DocKind.INVOICE, DocKind.CREDIT_NOTE, DocKind.DEBIT_NOTE, DocKind.DEPOSIT_INVOICE}
)
# Kinds this release can draft and post; the others are created by their own services.
POSTABLE_KINDS = LINE_KINDS | {DocKind.RECEIPT, DocKind.OPENING_BALANCE}

NUMBER_PREFIXES: dict[DocKind, str] = {
    DocKind.INVOICE: "INV",
    DocKind.CREDIT_NOTE: "CN",
    DocKind.DEBIT_NOTE: "DN",
    DocKind.DEPOSIT_INVOICE: "DP",
    DocKind.RECEIPT: "RC",
    DocKind.REFUND: "RF",
    DocKind.OPENING_BALANCE: "OB",
    DocKind.TRANSFER: "TR",
    DocKind.NETTING: "NT",
    DocKind.FX_ADJUSTMENT: "FX",
    DocKind.WRITE_OFF: "WO",
    DocKind.REVERSAL: "RV",
}


def sign_of(kind: DocKind) -> int:
    """+1 for kinds that raise the customer's balance, -1 for those that lower it."""
    return -1 if kind in CREDIT_KINDS else 1


@dataclass(frozen=True, slots=True)
class LineInput:
    item: str
    qty: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    description: str = ""


@dataclass(frozen=True, slots=True)
class PricedLine:
    line_no: int
    item: str
    description: str
    qty: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    net: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True)
class Totals:
    net: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.net + self.tax


def price_lines(lines: Sequence[LineInput], currency: str) -> list[PricedLine]:
    """Net and tax per line, each rounded once (tax on the rounded net, as on a fapiao)."""
    priced = []
    for no, line in enumerate(lines, start=1):
        if not Decimal(0) <= line.tax_rate < Decimal(1):
            raise InvalidDocument(
                f"line {no}: tax rate {line.tax_rate} must be a fraction from 0 to below 1"
            )
        if line.qty <= 0:
            raise InvalidDocument(f"line {no}: quantity {line.qty} must be positive")
        if line.unit_price < 0:
            raise InvalidDocument(f"line {no}: unit price {line.unit_price} must not be negative")
        net = round_money(line.qty * line.unit_price, currency)
        tax = round_money(net * line.tax_rate, currency)
        priced.append(
            PricedLine(no, line.item, line.description, line.qty, line.unit_price,
                       line.tax_rate, net, tax)
        )
    return priced


def totals_of(lines: Sequence[PricedLine]) -> Totals:
    return Totals(sum((ln.net for ln in lines), Decimal(0)), sum((ln.tax for ln in lines), Decimal(0)))


@dataclass(frozen=True, slots=True)
class Accounts:
    """General-ledger accounts postings use (defaults follow China's standard chart)."""

    receivable: str = "1122"
    revenue: str = "6001"
    output_vat: str = "222101"
    bank: str = "1002"
    cash: str = "1001"
    opening: str = "9999"


@dataclass(frozen=True, slots=True)
class JournalLine:
    account: str
    debit: Decimal
    credit: Decimal
    base_debit: Decimal
    base_credit: Decimal

    def swapped(self) -> JournalLine:
        return JournalLine(self.account, self.credit, self.debit, self.base_credit, self.base_debit)


def base_totals(totals: Totals, rate: Decimal, base_currency: str) -> Totals:
    """Base-currency net and tax: total and tax converted once, net is what remains."""
    base_total = convert(totals.total, rate, base_currency)
    base_tax = convert(totals.tax, rate, base_currency)
    return Totals(base_total - base_tax, base_tax)


def _dr(account: str, amount: Decimal, base: Decimal) -> JournalLine:
    return JournalLine(account, amount, Decimal(0), base, Decimal(0))


def journal_for(
    kind: DocKind, totals: Totals, base: Totals, accounts: Accounts, method: str | None = None
) -> list[JournalLine]:
    """Balanced journal lines for posting a document (zero lines left out)."""
    if kind in LINE_KINDS:
        lines = [
            _dr(accounts.receivable, totals.total, base.total),
            _dr(accounts.revenue, totals.net, base.net).swapped(),
            _dr(accounts.output_vat, totals.tax, base.tax).swapped(),
        ]
        if kind is DocKind.CREDIT_NOTE:
            lines = [line.swapped() for line in lines]
    elif kind is DocKind.RECEIPT:
        cash_account = accounts.cash if method == "cash" else accounts.bank
        lines = [_dr(cash_account, totals.total, base.total),
                 _dr(accounts.receivable, totals.total, base.total).swapped()]
    elif kind is DocKind.OPENING_BALANCE:
        lines = [_dr(accounts.receivable, totals.total, base.total),
                 _dr(accounts.opening, totals.total, base.total).swapped()]
    else:
        raise InvalidDocument(f"{kind} documents are not posted by this service")
    return [_positive(ln) for ln in lines if ln.debit or ln.credit or ln.base_debit or ln.base_credit]


def _positive(line: JournalLine) -> JournalLine:
    """A negative debit is a credit (an opening credit balance, say)."""
    if min(line.debit, line.credit, line.base_debit, line.base_credit) < 0:
        flipped = line.swapped()
        return JournalLine(line.account, -flipped.debit, -flipped.credit,
                           -flipped.base_debit, -flipped.base_credit)
    return line
