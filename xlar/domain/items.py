"""The open item: one receivable or credit on a customer's account, and what is open of it.

Every layer that reasons about what a customer owes speaks of this one record: the ledger's
reference (domain.ledger), matching's planner (domain.matching), settling (services.settle),
the worksheet functions' snapshot (reports.facts) and the reports (reports.ledger); the bank
scorer sees invoices as a payer quotes them (domain.cash.quoted_invoices sums installments).
Its amounts are `Money`: integer minor units with their currency, so an amount never travels
without its currency and two currencies never mix.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from xlar.domain.allocation import item_name
from xlar.domain.money import Money


class OpenItem(NamedTuple):
    """One open item of a document (an invoice paid in installments has one per installment).

    AMOUNT is signed: + raises the customer's balance (an invoice, a debit note), - lowers it (a
    receipt, a credit note). OPEN is what is still open of it, with the same sign, when it was
    read; OPEN_BASE the same in the book's base currency. DOC_ON and DUE_ON are the dates it
    ages by, and CREDIT whether it ages as unapplied money: for an exchange difference booked
    on another item (REVALUES), that item's. A named tuple: immutable and made at C speed (the
    worksheet functions' snapshot holds one per open item of the book).
    """

    id: int
    document_id: int
    customer: str            # the customer's code
    number: str              # its document's number
    kind: str                # its document's kind (DocKind's value)
    status: str              # its document's status
    installment_no: int
    doc_on: date
    due_on: date
    amount: Money
    open: Money
    open_base: Money
    credit: bool
    revalues: int | None = None

    @property
    def currency(self) -> str:
        return self.amount.currency

    @property
    def label(self) -> str:
        """How messages name it: 'invoice INV-1', 'invoice INV-2 #2'."""
        return item_name(self.kind, self.number, self.installment_no)
