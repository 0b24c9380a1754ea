"""Which matches the ledger allows: the rule, pure, on the two sides of a match.

A match pays an open debit (what the customer owes) with an open credit (a receipt, a credit
note) of the same customer and currency. Both must be live (posted; a receipt approved, or
confirmed where receipts clear once confirmed). `match_refusal` says why a pair cannot be
matched, or None; services.matching raises it, with the store's rows made Sides.
"""

from __future__ import annotations

from dataclasses import dataclass

LIVE = ("posted", "approved")   # document statuses that stand in the ledger
RECEIPT = "receipt"


@dataclass(frozen=True, slots=True)
class Side:
    """One open item of a match, as the rule sees it."""

    kind: str
    number: str
    installment_no: int
    amount_minor: int          # signed: a debit is positive, a credit negative
    status: str
    customer: str
    currency: str

    @property
    def name(self) -> str:
        return item_name(self.kind, self.number, self.installment_no)


def item_name(kind: str, number: str, installment_no: int) -> str:
    """An open item as messages name it: 'invoice INV-1', 'invoice INV-2 #2' (its second installment)."""
    return f"{kind} {number}" + (f" #{installment_no}" if installment_no > 1 else "")


def clears(kind: str, status: str, receipt_clearing: str) -> bool:
    """Whether a document in STATUS can take part in matches: a receipt once approved (or once
    confirmed, when the setting receipt_clearing is 'confirmed'), any other once posted."""
    if kind == RECEIPT:
        return status == "approved" or (status == "posted" and receipt_clearing == "confirmed")
    return status in LIVE


def match_refusal(debit: Side, credit: Side, receipt_clearing: str, method: str) -> str | None:
    """Why CREDIT cannot pay DEBIT (a voiding match only undoes: any live pair), or None."""
    if debit.amount_minor <= 0:
        return f"{debit.name} is a credit, not something to be paid"
    if credit.amount_minor >= 0:
        return f"{credit.name} is not a receipt or credit"
    for item in (debit, credit):
        if item.status not in LIVE:
            return f"{item.name} is {item.status}: only posted documents can be matched"
        if method != "void" and not clears(item.kind, item.status, receipt_clearing):
            return f"{item.name} is not approved yet: only approved receipts clear invoices (setting receipt_clearing)"
    if debit.customer != credit.customer:
        return f"{credit.name} of {credit.customer} cannot pay {debit.name} of {debit.customer}"
    if debit.currency != credit.currency:
        return f"{credit.name} in {credit.currency} cannot pay {debit.name} in {debit.currency}"
    return None
