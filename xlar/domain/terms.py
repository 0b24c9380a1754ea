"""Payment terms: when a document falls due, computed from its date.

Three bases, as accountants state them:
- invoice_date: DAYS after the document date ("net 30");
- month_end: DAYS after the end of the document's month ("月结 60 天");
- closing_date: GnuCash's "proximo" with the customer's closing day (结账日) as the
  cutoff: documents dated up to the closing day fall due on day DAYS of the next month,
  later ones a month after. Day numbers past a month's end mean its last day.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from xlar.domain.errors import InvalidTerms


class TermsBasis(StrEnum):
    INVOICE_DATE = "invoice_date"
    MONTH_END = "month_end"
    CLOSING_DATE = "closing_date"


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    code: str
    name: str
    basis: TermsBasis
    days: int
    discount_days: int | None = None
    discount_pct: Decimal | None = None

    def __post_init__(self) -> None:
        if self.days < 0:
            raise InvalidTerms(f"terms {self.code!r}: days must not be negative, got {self.days}")
        if self.basis is TermsBasis.CLOSING_DATE and not 1 <= self.days <= 31:
            raise InvalidTerms(
                f"terms {self.code!r}: closing_date terms need a due day of month 1-31, "
                f"got {self.days}"
            )
        if (self.discount_days is None) != (self.discount_pct is None):
            raise InvalidTerms(f"terms {self.code!r}: give both discount_days and discount_pct")
        if self.discount_pct is not None and not Decimal(0) < self.discount_pct < Decimal(100):
            raise InvalidTerms(f"terms {self.code!r}: discount_pct must be between 0 and 100")


def month_end(on: date) -> date:
    return on.replace(day=calendar.monthrange(on.year, on.month)[1])


def add_months(on: date, months: int, day: int | None = None) -> date:
    """The date MONTHS later, on DAY (default: ON's day), clamped to the month's end."""
    index = on.year * 12 + on.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day or on.day, last))


def cycle_end(on: date, closing_day: int | None) -> date:
    """The closing date of the billing cycle ON belongs to (month end without a closing day)."""
    if closing_day is None:
        return month_end(on)
    if not 1 <= closing_day <= 31:
        raise InvalidTerms(f"closing day must be 1-31, got {closing_day}")
    this_month = add_months(on, 0, closing_day)
    return this_month if on <= this_month else add_months(on, 1, closing_day)


def due_date(doc_on: date, terms: PaymentTerms, closing_day: int | None = None) -> date:
    """When a document dated DOC_ON falls due under TERMS for a customer's CLOSING_DAY."""
    if terms.basis is TermsBasis.INVOICE_DATE:
        return doc_on + timedelta(days=terms.days)
    if terms.basis is TermsBasis.MONTH_END:
        return month_end(doc_on) + timedelta(days=terms.days)
    return add_months(cycle_end(doc_on, closing_day), 1, terms.days)


def discount_deadline(doc_on: date, terms: PaymentTerms) -> date | None:
    """Last day the early-payment discount applies, or None without one."""
    if terms.discount_days is None:
        return None
    return doc_on + timedelta(days=terms.discount_days)
