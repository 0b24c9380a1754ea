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
    TRANSFER_DEBIT = "transfer_debit"    # 应收款转销: the side that takes the balance over
    TRANSFER_CREDIT = "transfer_credit"  # ... and the side that gives it up (the pair is linked)
    NETTING = "netting"
    FX_ADJUSTMENT = "fx_adjustment"
    WRITE_OFF = "write_off"
    REVERSAL = "reversal"
    DEPOSIT_OFFSET = "deposit_offset"    # a paid deposit applied to the final invoice
    DELIVERY = "delivery"                # revenue booked at delivery (no open item)
    FX_REALIZED = "fx_realized"          # realized exchange gain or loss of a match (no open item)


class DocStatus(StrEnum):
    DRAFT = "draft"
    POSTED = "posted"
    APPROVED = "approved"
    VOID = "void"


CREDIT_KINDS = frozenset({DocKind.CREDIT_NOTE, DocKind.RECEIPT, DocKind.WRITE_OFF, DocKind.DEPOSIT_OFFSET,
                          DocKind.NETTING, DocKind.TRANSFER_CREDIT})
# Kinds that raise what the customer owes when posted (checked against the credit limit).
CHARGE_KINDS = frozenset({DocKind.INVOICE, DocKind.DEBIT_NOTE, DocKind.DEPOSIT_INVOICE})
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
    DocKind.TRANSFER_DEBIT: "TD",
    DocKind.TRANSFER_CREDIT: "TC",
    DocKind.NETTING: "NT",
    DocKind.FX_ADJUSTMENT: "FX",
    DocKind.WRITE_OFF: "WO",
    DocKind.REVERSAL: "RV",
    DocKind.DEPOSIT_OFFSET: "DO",
    DocKind.DELIVERY: "DL",
    DocKind.FX_REALIZED: "FR",
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
    delivery: str | None = None          # the delivery note line this line bills
    delivery_line: int | None = None
    returned: bool = False               # it bills a return: a negative quantity on an invoice


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
        if line.qty == 0 or (line.qty < 0) != line.returned:
            raise InvalidDocument(
                f"line {no}: quantity {line.qty} must be "
                + ("negative: it bills a return" if line.returned else "positive"))
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
class HeaderAmounts:
    """An invoice typed by its amounts instead of lines (a service invoice): what was typed."""

    net: Decimal | None = None
    tax: Decimal | None = None
    total: Decimal | None = None

    @property
    def given(self) -> bool:
        return any(v is not None for v in (self.net, self.tax, self.total))


def header_totals(typed: HeaderAmounts, tax_rate: Decimal, currency: str) -> Totals:
    """Net and tax of an invoice typed by amount. Net and tax given: the total is their sum (a
    typed total must agree); only the net: tax = ROUND(net x TAX_RATE); only the total: net =
    ROUND(total / (1 + TAX_RATE)), tax the rest; a total with the net or the tax: the other is
    the difference. TAX_RATE is a fraction (0.13). Each amount keeps its currency's decimals."""
    for name, value in (("net", typed.net), ("tax", typed.tax), ("total", typed.total)):
        if value is not None and round_money(value, currency) != value:
            raise InvalidDocument(f"{name} {value} has more decimals than {currency} has")
    net, tax, total = (None if v is None else round_money(v, currency) for v in (typed.net, typed.tax, typed.total))
    if net is not None and tax is not None:
        if total is not None and total != net + tax:
            raise InvalidDocument(f"total {total} is not net {net} + tax {tax} = {net + tax}: "
                                  "correct one of them, or leave the total blank")
    elif net is not None:
        tax = total - net if total is not None else round_money(net * tax_rate, currency)
    elif total is not None:
        net = total - tax if tax is not None else round_money(total / (1 + tax_rate), currency)
        tax = total - net
    else:
        raise InvalidDocument("give the net (or the total) as well as the tax")
    if net <= 0 or tax < 0:
        raise InvalidDocument(f"net {net} must be positive and tax {tax} not negative")
    return Totals(net, tax)


@dataclass(frozen=True, slots=True)
class Accounts:
    """General-ledger accounts postings use (defaults follow China's standard chart)."""

    receivable: str = "1122"
    revenue: str = "6001"
    output_vat: str = "222101"
    bank: str = "1002"
    cash: str = "1001"
    opening: str = "9999"
    unbilled: str = "112299"        # AR not yet invoiced (revenue booked at delivery)
    vat_unbilled: str = "222102"    # output VAT not yet invoiced (待转销项税额)
    advances: str = "2203"          # deposits invoiced ahead of delivery (预收账款)
    notes: str = "1121"             # bank acceptance notes received (应收票据)
    payable: str = "2202"           # what the company owes a customer who is also a vendor (应付账款)
    fx_gain: str = "6603"           # realized and unrealized exchange differences (财务费用-汇兑损益)
    fx_loss: str = "6603"
    write_off: str = "6711"         # small differences written off

    def settlement(self, method: str | None) -> str:
        """The account money comes in (receipts) or goes out (refunds) by METHOD."""
        return {"cash": self.cash, "note": self.notes, "offset": self.payable}.get(method or "bank", self.bank)


@dataclass(frozen=True, slots=True)
class MinorTotals:
    """A document's net and tax in integer minor units: what its journal is made of (exact
    integers; the journal only adds, negates and compares them)."""

    net: int
    tax: int

    @property
    def total(self) -> int:
        return self.net + self.tax


@dataclass(frozen=True, slots=True)
class JournalLine:
    """One journal line in integer minor units (the document's currency and the base currency)."""

    account: str
    debit: int
    credit: int
    base_debit: int
    base_credit: int

    def swapped(self) -> JournalLine:
        return JournalLine(self.account, self.credit, self.debit, self.base_credit, self.base_debit)


def base_totals(totals: Totals, rate: Decimal, base_currency: str) -> Totals:
    """Base-currency net and tax: total and tax converted once, net is what remains."""
    base_total = convert(totals.total, rate, base_currency)
    base_tax = convert(totals.tax, rate, base_currency)
    return Totals(base_total - base_tax, base_tax)


def _dr(account: str, amount: int, base: int) -> JournalLine:
    return JournalLine(account, amount, 0, base, 0)


@dataclass(frozen=True, slots=True)
class Release:
    """What an invoice settles of revenue booked at delivery: the delivery's net and tax of
    the quantities it bills (base amounts at the delivery's rate), and how (`reverse`:
    单到回冲, the delivery entry reversed and the invoice booked in full; `difference`: 单到补差,
    only the difference goes to revenue)."""

    amounts: MinorTotals
    base: MinorTotals
    mode: str


def accrual_journal(totals: MinorTotals, base: MinorTotals, accounts: Accounts) -> list[JournalLine]:
    """Revenue booked at delivery: Dr AR-unbilled / Cr revenue / Cr VAT not yet invoiced."""
    lines = [_dr(accounts.unbilled, totals.total, base.total),
             _dr(accounts.revenue, totals.net, base.net).swapped(),
             _dr(accounts.vat_unbilled, totals.tax, base.tax).swapped()]
    return [_positive(ln) for ln in lines if ln.debit or ln.credit or ln.base_debit or ln.base_credit]


def _released(totals: MinorTotals, base: MinorTotals, accounts: Accounts, release: Release) -> list[JournalLine]:
    """An invoice's lines when part of it was booked at delivery."""
    done, done_base = release.amounts, release.base
    ar = _dr(accounts.receivable, totals.total, base.total)
    vat = _dr(accounts.output_vat, totals.tax, base.tax).swapped()
    if release.mode == "reverse":
        return [ar, _dr(accounts.revenue, totals.net, base.net).swapped(), vat,
                _dr(accounts.revenue, done.net, done_base.net),
                _dr(accounts.vat_unbilled, done.tax, done_base.tax),
                _dr(accounts.unbilled, done.total, done_base.total).swapped()]
    if release.mode != "difference":
        raise InvalidDocument(f"delivery_difference must be reverse or difference, not {release.mode!r}")
    # revenue takes what balances, in the document's and the base currency alike
    revenue = _dr(accounts.revenue, totals.net - done.net,
                  base.total + done_base.tax - done_base.total - base.tax).swapped()
    return [ar, _dr(accounts.unbilled, done.total, done_base.total).swapped(),
            _dr(accounts.vat_unbilled, done.tax, done_base.tax), vat, revenue]


# Documents that move AR against one other account: Dr that account / Cr AR (a refund the reverse).
_SETTLED_AGAINST = {
    DocKind.RECEIPT: lambda accounts, method: accounts.settlement(method),
    DocKind.REFUND: lambda accounts, method: accounts.settlement(method),
    DocKind.NETTING: lambda accounts, method: accounts.payable,
    DocKind.WRITE_OFF: lambda accounts, method: accounts.write_off,
}


def fx_realized_journal(difference: int, accounts: Accounts) -> list[JournalLine]:
    """The realized exchange difference of a match, in base currency only: DIFFERENCE > 0 is
    what the invoices cleared in base beyond what the receipts brought (a loss: Dr loss / Cr
    AR), < 0 a gain (Dr AR / Cr gain); in base minor units."""
    zero = 0
    if difference > 0:
        return [JournalLine(accounts.fx_loss, zero, zero, difference, zero),
                JournalLine(accounts.receivable, zero, zero, zero, difference)]
    return [JournalLine(accounts.receivable, zero, zero, -difference, zero),
            JournalLine(accounts.fx_gain, zero, zero, zero, -difference)]


def journal_for(
    kind: DocKind, totals: MinorTotals, base: MinorTotals, accounts: Accounts, method: str | None = None,
    release: Release | None = None,
) -> list[JournalLine]:
    """Balanced journal lines for posting a document (zero lines left out)."""
    if kind is DocKind.DEPOSIT_INVOICE:
        lines = [_dr(accounts.receivable, totals.total, base.total),
                 _dr(accounts.advances, totals.net, base.net).swapped(),
                 _dr(accounts.output_vat, totals.tax, base.tax).swapped()]
    elif kind in LINE_KINDS:
        if release is not None and (release.amounts.total or release.amounts.tax or release.base.total):
            lines = _released(totals, base, accounts, release)
        else:
            lines = [
                _dr(accounts.receivable, totals.total, base.total),
                _dr(accounts.revenue, totals.net, base.net).swapped(),
                _dr(accounts.output_vat, totals.tax, base.tax).swapped(),
            ]
        if kind is DocKind.CREDIT_NOTE:
            lines = [line.swapped() for line in lines]
    elif kind is DocKind.DEPOSIT_OFFSET:
        lines = [_dr(accounts.advances, totals.total, base.total),
                 _dr(accounts.receivable, totals.total, base.total).swapped()]
    elif kind in _SETTLED_AGAINST:
        other = _SETTLED_AGAINST[kind](accounts, method)
        lines = [_dr(other, totals.total, base.total),
                 _dr(accounts.receivable, totals.total, base.total).swapped()]
        if kind is DocKind.REFUND:   # money paid back: Dr AR / Cr bank
            lines = [line.swapped() for line in reversed(lines)]
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
