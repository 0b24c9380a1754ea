"""A customer as the AR ledger needs it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xlar.domain.errors import InvalidDocument
from xlar.domain.money import exponent


@dataclass(frozen=True, slots=True)
class Customer:
    code: str
    name: str
    currency: str
    payment_terms: str | None = None
    closing_day: int | None = None
    credit_limit: Decimal | None = None
    category: str | None = None
    parent_code: str | None = None
    salesperson: str | None = None
    credit_class: str | None = None
    tax_id: str | None = None
    contact: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    vendor_code: str | None = None
    status: str = "active"
    bank_account: str | None = None      # the account it pays from (bank statement matching)
    ar_account: str | None = None        # its receivable account (default: the book's)

    def __post_init__(self) -> None:
        if not self.code.strip():
            raise InvalidDocument("a customer needs a code")
        if not self.name.strip():
            raise InvalidDocument(f"customer {self.code!r} needs a name")
        exponent(self.currency)
        if self.closing_day is not None and not 1 <= self.closing_day <= 31:
            raise InvalidDocument(
                f"customer {self.code!r}: closing day must be 1-31, got {self.closing_day}"
            )
        if self.status not in ("active", "blocked", "inactive"):
            raise InvalidDocument(
                f"customer {self.code!r}: status must be active, blocked or inactive, "
                f"got {self.status!r}"
            )
