"""Open items built by hand for the pure references and planners (the store builds its own
through `store.ledger.item_of`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from xlar.domain.items import OpenItem
from xlar.domain.money import Money


def opened(id_: int, customer: str, currency: str, amount: Decimal, base_amount: Decimal, doc_on: date,
           due_on: date, *, number: str = "", installment_no: int = 1, revalues: int | None = None,
           base: str = "CNY", kind: str | None = None) -> OpenItem:
    """An item as posted, nothing applied yet: what is open of it is all of it. AMOUNT is signed."""
    money = Money(amount, currency)
    return OpenItem(id_, id_, customer, number or f"N{id_}", kind or ("receipt" if amount < 0 else "invoice"),
                    "posted", installment_no, doc_on, due_on, money, money, Money(base_amount, base),
                    amount < 0, revalues)
