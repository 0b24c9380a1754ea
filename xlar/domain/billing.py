"""Billing, pure: who is billed, in which cycle, installment schedules, shares of a delivery.

- The billed party: a customer whose head office (parent_code) is a customer is billed on
  the head office's invoice and cycle (the chain is followed to the top).
- The cycle: deliveries up to the party's closing day (结账日) fall in that month's invoice,
  later ones in the next month's; without a closing day, the calendar month.
- Installments: each period's share of the total is rounded once (ROUND_HALF_UP); the last
  period takes what is left, so the parts always add up to the whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from xlar.domain.errors import InvalidDocument, InvalidTerms
from xlar.domain.money import round_money
from xlar.domain.terms import add_months, cycle_end

PERCENT_TOLERANCE = Decimal("0.0001")   # an installment plan's percentages add up to 100% within 0.01%


def billed_party(code: str, parent_of: Mapping[str, str | None]) -> str:
    """The customer that is billed for CODE's deliveries: its topmost head office."""
    seen = [code]
    while (parent := parent_of.get(seen[-1])) and parent in parent_of:
        if parent in seen:
            raise InvalidDocument(f"customer {code!r}: head offices form a loop ({' -> '.join([*seen, parent])})")
        seen.append(parent)
    return seen[-1]


def cycle_of(on: date, closing_day: int | None) -> date:
    """The last day of the billing cycle a delivery dated ON falls in (the invoice date)."""
    return cycle_end(on, closing_day)


@dataclass(frozen=True, slots=True)
class InstallmentPeriod:
    period_no: int
    percent: Decimal          # a fraction: 40% is 0.4
    offset_months: int = 0    # after the invoice date
    offset_days: int = 0


@dataclass(frozen=True, slots=True)
class Installment:
    no: int
    due_on: date
    amount: Decimal
    base_amount: Decimal


def check_plan(code: str, periods: Sequence[InstallmentPeriod]) -> list[InstallmentPeriod]:
    """The plan's periods in order, refused unless numbered 1..n with percentages adding up to 100%."""
    ordered = sorted(periods, key=lambda p: p.period_no)
    if not ordered:
        raise InvalidTerms(f"installment terms {code!r} have no periods")
    if [p.period_no for p in ordered] != list(range(1, len(ordered) + 1)):
        raise InvalidTerms(f"installment terms {code!r}: periods must be numbered 1 to {len(ordered)}, "
                           f"got {', '.join(str(p.period_no) for p in ordered)}")
    total = sum((p.percent for p in ordered), Decimal(0))
    if abs(total - 1) > PERCENT_TOLERANCE or any(p.percent <= 0 for p in ordered):
        raise InvalidTerms(f"installment terms {code!r}: percentages add up to {total * 100}%, not 100%")
    return ordered


def schedule(total: Decimal, base_total: Decimal, doc_on: date, periods: Sequence[InstallmentPeriod],
             currency: str, base_currency: str, code: str = "") -> list[Installment]:
    """Split a document's total (and base amount) over the plan; the last part takes the remainder."""
    plan = check_plan(code, periods)
    parts: list[Installment] = []
    left, left_base = total, base_total
    for i, period in enumerate(plan):
        last = i == len(plan) - 1
        amount = left if last else round_money(total * period.percent, currency)
        base = left_base if last else round_money(base_total * period.percent, base_currency)
        left, left_base = left - amount, left_base - base
        due = add_months(doc_on, period.offset_months) + timedelta(days=period.offset_days)
        parts.append(Installment(period.period_no, due, amount, base))
    return parts


def share_units(whole: int, qty: Decimal, of_qty: Decimal) -> int:
    """QTY's share of WHOLE minor units that belong to OF_QTY, rounded once (half up)."""
    if of_qty <= 0:
        raise InvalidDocument("a delivery line without a positive quantity has no share to bill")
    exact = Decimal(whole) * qty / of_qty
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
