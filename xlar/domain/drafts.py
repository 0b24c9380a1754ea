"""A document as a user enters it, and the rules that decide whether it can be stored.

Pure: each rule takes the draft (and what it needs of the book) and returns what it decides,
or raises InvalidDocument naming the draft; services.documents loads the references a draft
names, applies these rules in order, prices it and stores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from xlar.domain.documents import POSTABLE_KINDS, DocKind, HeaderAmounts, LineInput
from xlar.domain.errors import InvalidDocument
from xlar.domain.money import parse_rate

RECEIPT_METHODS = ("bank", "cash", "note", "offset")


@dataclass(frozen=True, slots=True)
class DraftDocument:
    """What a user enters; amounts are unsigned (the kind says which side)."""

    kind: DocKind
    customer: str
    doc_on: date
    lines: tuple[LineInput, ...] = ()
    amount: Decimal | None = None        # receipts; opening balances (negative = credit)
    currency: str | None = None          # default: the customer's currency
    fx_rate: Decimal | None = None       # needed when the currency is not the base currency
    due_on: date | None = None           # default: from the payment terms
    payment_terms: str | None = None     # default: the customer's terms
    method: str | None = None            # receipts: bank, cash, note, offset
    reference: str | None = None
    memo: str | None = None
    source: str | None = None            # where it came from (a billing cycle, an import)
    fapiao_no: str | None = None         # the tax invoice (发票) number
    original: str | None = None          # credit notes: the invoice credited; reissues: the voided one
    order: str | None = None             # the order billed (deposits, installments)
    installment_terms: str | None = None  # default: the order's, else its contract's
    expected_on: date | None = None      # expected receipt date; default: the due date
    maturity_on: date | None = None      # receipts by bank acceptance note: when the note matures
    disputed: bool = False               # the customer disputes it: held out of dunning
    user_ref: str | None = None          # the number the user typed on the new row (Your ref.)
    header: HeaderAmounts | None = None  # an invoice without lines: its typed net, tax and total


def enterable(draft: DraftDocument) -> None:
    """Only the kinds a user enters are entered (others are made by xlar: transfers, write-offs…)."""
    if draft.kind not in POSTABLE_KINDS:
        raise InvalidDocument(f"{draft.kind} documents cannot be entered directly")


def draft_rate(draft: DraftDocument, currency: str, base_currency: str) -> Decimal:
    """The exchange rate of a draft in CURRENCY: 1 in the base currency, else the one typed."""
    if currency == base_currency:
        if draft.fx_rate not in (None, Decimal(1)):
            raise InvalidDocument(f"a {currency} document in base currency {currency} has rate 1, not {draft.fx_rate}")
        return Decimal(1)
    if draft.fx_rate is None:
        raise InvalidDocument(f"{draft.kind} for {draft.customer} in {currency} needs an exchange rate to {base_currency}")
    return parse_rate(draft.fx_rate)


def receipt_method(draft: DraftDocument) -> str | None:
    """How a receipt was paid (bank when not said); a bank acceptance note needs its maturity date,
    no later than it was received, and only a note has one. None for other kinds."""
    method = None
    if draft.kind is DocKind.RECEIPT:
        method = draft.method or "bank"
        if method not in RECEIPT_METHODS:
            raise InvalidDocument(f"receipt method {method!r} is not one of {', '.join(RECEIPT_METHODS)}")
        if method == "note" and draft.maturity_on is None:
            raise InvalidDocument(f"receipt for {draft.customer} by bank acceptance note needs the note's "
                                  "maturity date")
        if draft.maturity_on is not None and draft.maturity_on < draft.doc_on:
            raise InvalidDocument(f"receipt for {draft.customer}: the note matures {draft.maturity_on}, before "
                                  f"it was received {draft.doc_on}")
    if draft.maturity_on is not None and method != "note":
        raise InvalidDocument(f"{draft.kind} for {draft.customer}: only bank acceptance notes have a maturity date")
    return method


def checked_due(draft: DraftDocument, due_on: date | None) -> date:
    """The due date (DUE_ON from the draft or its terms, else its own date), never before its date
    but for an opening balance taken over as it was."""
    due = due_on or draft.doc_on
    if due < draft.doc_on and draft.kind is not DocKind.OPENING_BALANCE:
        raise InvalidDocument(f"{draft.kind} for {draft.customer}: due date {due} is before its date {draft.doc_on}")
    return due
