"""The open-item ledger as plain records, and the pure reference of what SQL computes.

An open item is one receivable (positive) or credit (negative) on a customer's account.
Allocations move amounts between a credit item and a debit item of the same customer
and currency; they take effect on a date and are never deleted (undo = a negative row).
The functions here are small, obviously-correct references: the store's set-based SQL
must give the same answers (tests/test_ledger_sql.py checks it on random ledgers).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from xlar.domain.aging import UNAPPLIED, AgingPolicy, Basis
from xlar.domain.errors import OverAllocation
from xlar.domain.items import OpenItem
from xlar.domain.money import Money, round_money

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class AllocationEntry:
    debit_item: int
    credit_item: int
    amount: Decimal          # positive; a reversal of a match is negative
    debit_base: Decimal
    credit_base: Decimal
    effective_on: date


def open_amounts(
    items: Iterable[OpenItem], allocations: Iterable[AllocationEntry], as_of: date
) -> list[OpenItem]:
    """Every item dated on or before AS_OF, with what was open of it on that date.

    Each item's OPEN and OPEN_BASE, as given, are what it opened with (nothing applied yet).
    """
    moved: dict[int, Decimal] = defaultdict(Decimal)
    moved_base: dict[int, Decimal] = defaultdict(Decimal)
    for a in allocations:
        if a.effective_on <= as_of:
            moved[a.debit_item] -= a.amount
            moved_base[a.debit_item] -= a.debit_base
            moved[a.credit_item] += a.amount
            moved_base[a.credit_item] += a.credit_base
    return [
        i._replace(open=Money(i.open.amount + moved[i.id], i.currency),
                open_base=Money(i.open_base.amount + moved_base[i.id], i.open_base.currency))
        for i in items
        if i.doc_on <= as_of
    ]


Key = tuple[str, str]  # (customer, currency)


@dataclass(slots=True)
class AgingRow:
    customer: str
    currency: str
    buckets: dict[str, Decimal]
    base_buckets: dict[str, Decimal]
    balance: Decimal = ZERO
    base_balance: Decimal = ZERO


def aging(
    items: Iterable[OpenItem],
    allocations: Iterable[AllocationEntry],
    as_of: date,
    policy: AgingPolicy,
) -> dict[Key, AgingRow]:
    """Per customer and currency: open amounts by age bucket, and the balance."""
    rows: dict[Key, AgingRow] = {}
    items = list(items)
    by_id = {i.id: i for i in items}
    for item in open_amounts(items, allocations, as_of):
        aged = by_id[item.revalues] if item.revalues is not None else item
        key = (item.customer, item.currency)
        row = rows.get(key)
        if row is None:
            row = rows[key] = AgingRow(
                item.customer, item.currency,
                dict.fromkeys(policy.labels, ZERO), dict.fromkeys(policy.labels, ZERO),
            )
        if aged.credit:
            label = UNAPPLIED
        else:
            basis_on = aged.due_on if policy.basis is Basis.DUE else aged.doc_on
            label = policy.bucket_of(basis_on, as_of)
        open_, open_base = item.open.amount, item.open_base.amount
        row.buckets[label] += open_
        row.base_buckets[label] += open_base
        row.balance += open_
        row.base_balance += open_base
    return rows


def balances(
    items: Iterable[OpenItem], allocations: Iterable[AllocationEntry], as_of: date
) -> dict[Key, tuple[Decimal, Decimal]]:
    """(balance, base balance) per customer and currency as of a date."""
    result: dict[Key, tuple[Decimal, Decimal]] = {}
    for item in open_amounts(items, allocations, as_of):
        key = (item.customer, item.currency)
        bal, base = result.get(key, (ZERO, ZERO))
        result[key] = (bal + item.open.amount, base + item.open_base.amount)
    return result


def base_share(amount: Decimal, open_amount: Decimal, open_base: Decimal, base_currency: str) -> Decimal:
    """The base-currency value of applying AMOUNT of an item's OPEN_AMOUNT.

    Applying all that is open takes all the open base, so a cleared item is exactly zero
    in both currencies; a part takes its proportion, rounded once.
    """
    if amount == abs(open_amount):
        return abs(open_base)
    return round_money(amount * abs(open_base) / abs(open_amount), base_currency)


def fifo_plan(
    credit_open: Decimal, debits: Sequence[tuple[OpenItem, Decimal]]
) -> list[tuple[OpenItem, Decimal]]:
    """Apply CREDIT_OPEN to debit items (item, open) oldest due first; the rest stays unapplied."""
    remaining = credit_open
    plan = []
    ordered = sorted(debits, key=lambda d: (d[0].due_on, d[0].doc_on, d[0].number,
                                            d[0].installment_no, d[0].id))
    for item, open_ in ordered:
        if remaining <= 0:
            break
        if open_ <= 0:
            continue
        take = min(open_, remaining)
        plan.append((item, take))
        remaining -= take
    return plan


def check_never_overdrawn(
    label: str, limit: Decimal, moves: Iterable[tuple[date, Decimal]]
) -> None:
    """Refuse when the amounts applied to one item ever exceed LIMIT or go below zero.

    MOVES are (effective date, amount) of every allocation touching the item, the new
    ones included; the running total is checked on every date, so a match cannot borrow
    from a reversal that only takes effect later.
    """
    per_day: dict[date, Decimal] = defaultdict(Decimal)
    for on, amount in moves:
        per_day[on] += amount
    applied = ZERO
    for on in sorted(per_day):
        applied += per_day[on]
        if applied > limit:
            raise OverAllocation(
                f"{label}: {applied} would be applied on {on.isoformat()}, more than its {limit}"
            )
        if applied < 0:
            raise OverAllocation(f"{label}: more reversed than matched on {on.isoformat()}")


def first_room(limit: int, moves: Iterable[tuple[date, int]], amount: int, not_before: date) -> date | None:
    """The first date on or after NOT_BEFORE from which AMOUNT more can be applied to an item of
    LIMIT (minor units) without what is applied to it exceeding LIMIT on that date or any later
    one; None when no date has the room (AMOUNT is more than is open after every move).

    MOVES are the (effective date, amount) of the matches already on the item, undos negative:
    a match that replaces one undone later than its documents' dates takes effect on the undo's
    date, so what was recorded for every earlier date stays as it was.
    """
    per_day: dict[date, int] = defaultdict(int)
    for on, moved in moves:
        per_day[on] += moved
    days = sorted(per_day)
    applied, running = 0, []
    for on in days:
        applied += per_day[on]
        running.append(applied)
    if amount > limit:
        return None
    crowded = [i for i, total in enumerate(running) if total + amount > limit]
    if not crowded:
        return not_before
    last = crowded[-1]
    if last == len(days) - 1:
        return None
    return max(not_before, days[last + 1])
