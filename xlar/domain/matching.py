"""Cash application (核销) strategies: which credits pay which debits, and how much.

Pure planning over open items; the services load them and record what is accepted. Every
plan consumes what it proposes, so several credits never spend the same open amount twice
(one-to-many and many-to-many), and no proposal exceeds either side's open amount.

Strategies:
- reference: invoices (or fapiao numbers) named in the credit's reference or memo, in the
  order named;
- exact: one invoice whose open amount equals the credit's, else two that add up to it;
- fifo: oldest due first (by due date, then document date and number);
- installment: invoices paid in installments, installment by installment, those named first;
- product: invoice lines of the same item (credit notes by their own items);
- auto: the invoices the credit names, then for what is left an exact match, else fifo.
Where a proposal leaves an invoice open by no more than the write-off tolerance, a write-off
of that remainder is proposed with it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from xlar.domain.items import OpenItem

STRATEGIES = ("auto", "reference", "exact", "fifo", "installment", "product")
_EXACT_PAIRS_UP_TO = 200   # exact search over pairs only among this many invoices


@dataclass(frozen=True, slots=True)
class Candidate:
    """An open item that can take part in a match, with what its document says that helps
    place it: TEXT (a credit's reference and memo; a debit's fapiao number), whether it is
    paid in INSTALLMENTS (debits), and what is open of it per product (ITEMS)."""

    item: OpenItem
    text: str = ""
    installments: bool = False
    items: Mapping[str, Decimal] = field(default_factory=dict)   # product -> open of it

    @property
    def id(self) -> int:
        return self.item.id

    @property
    def customer(self) -> str:
        return self.item.customer

    @property
    def currency(self) -> str:
        return self.item.currency

    @property
    def number(self) -> str:
        return self.item.number

    @property
    def installment_no(self) -> int:
        return self.item.installment_no

    @property
    def doc_on(self) -> date:
        return self.item.doc_on

    @property
    def due_on(self) -> date:
        return self.item.due_on


@dataclass(frozen=True, slots=True)
class Proposal:
    debit: Candidate
    amount: Decimal
    method: str
    reason: str
    credit: Candidate | None = None       # None: a write-off of the debit's small remainder
    item: str | None = None
    reason_code: str | None = None   # write-offs


def _squash(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def named_in(text: str, numbers: Iterable[str]) -> list[str]:
    """The NUMBERS TEXT names, in the order they appear: as whole tokens, case-insensitively,
    also written without their dashes or spaces ("INV202600012" for "INV-2026-00012")."""
    if not text:
        return []
    upper, squashed = text.upper(), _squash(text)
    found: list[tuple[int, str]] = []
    for number in numbers:
        key = number.strip().upper()
        if not key:
            continue
        bare = _squash(key)
        hit = re.search(rf"(?<![0-9A-Z]){re.escape(key)}(?![0-9A-Z])", upper)
        if hit is not None:
            found.append((len(_squash(upper[:hit.start()])), number))
        elif len(bare) >= 6 and bare != key:
            at = squashed.find(bare)
            end = at + len(bare)
            if at >= 0 and not (end < len(squashed) and squashed[end].isdigit()):
                found.append((at, number))
    return [number for _, number in sorted(found)]


def _fifo_key(item: Candidate) -> tuple[date, date, str, int, int]:
    return (item.due_on, item.doc_on, item.number, item.installment_no, item.id)


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}" if amount == amount.quantize(Decimal("0.01")) else f"{amount:,}"


class _Ledger:
    """What is still open on each side while a plan is made."""

    def __init__(self, credits: Sequence[Candidate], debits: Sequence[Candidate]) -> None:
        self.left: dict[int, Decimal] = {i.id: abs(i.item.open).amount for i in (*credits, *debits)}
        self.items: dict[int, dict[str, Decimal]] = {i.id: dict(i.items) for i in (*credits, *debits)}

    def take(self, credit: Candidate, debit: Candidate, wanted: Decimal, item: str | None = None) -> Decimal:
        amount = min(wanted, self.left[credit.id], self.left[debit.id])
        if item is not None:
            amount = min(amount, self.items[debit.id].get(item, Decimal(0)))
        if amount <= 0:
            return Decimal(0)
        self.left[credit.id] -= amount
        self.left[debit.id] -= amount
        if item is not None:
            self.items[debit.id][item] -= amount
            if item in self.items[credit.id]:
                self.items[credit.id][item] -= amount
        return amount


def plan(credits: Sequence[Candidate], debits: Sequence[Candidate], strategy: str,
         tolerance: Decimal = Decimal(0), reason_code: str | None = None) -> list[Proposal]:
    """Proposals that apply CREDITS to DEBITS of the same customer and currency by STRATEGY."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; one of {', '.join(STRATEGIES)}")
    ledger = _Ledger(credits, debits)
    by_party: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for debit in sorted(debits, key=_fifo_key):
        by_party[(debit.customer, debit.currency)].append(debit)
    proposals: list[Proposal] = []
    for credit in sorted(credits, key=lambda c: (c.customer, c.doc_on, c.number, c.id)):
        mine = by_party.get((credit.customer, credit.currency), [])
        proposals += _for_credit(credit, mine, strategy, ledger)
    if tolerance > 0 and reason_code:
        touched = {p.debit.id: p.debit for p in proposals}
        for debit_id, debit in touched.items():
            rest = ledger.left[debit_id]
            if 0 < rest <= tolerance:
                proposals.append(Proposal(debit, rest, "write_off",
                                          f"{_money(rest)} left after the match is within the write-off "
                                          f"tolerance {_money(tolerance)}", reason_code=reason_code))
    return proposals


def _for_credit(credit: Candidate, debits: list[Candidate], strategy: str, ledger: _Ledger) -> list[Proposal]:
    if strategy == "auto":   # what the credit names first; what is left of it: an exact match, else FIFO
        found = _by_reference(credit, debits, ledger, "auto")
        if ledger.left[credit.id] > 0:
            found += _exact(credit, debits, ledger, "auto") or _fifo(credit, debits, ledger, "auto")
        return found
    if strategy == "reference":
        return _by_reference(credit, debits, ledger, strategy)
    if strategy == "exact":
        return _exact(credit, debits, ledger, strategy)
    if strategy == "fifo":
        return _fifo(credit, debits, ledger, strategy)
    if strategy == "installment":
        return _installments(credit, debits, ledger)
    return _by_product(credit, debits, ledger)


def _by_reference(credit: Candidate, debits: list[Candidate], ledger: _Ledger, method: str) -> list[Proposal]:
    numbers: dict[str, list[Candidate]] = defaultdict(list)
    for debit in debits:
        numbers[debit.number].append(debit)
        if debit.text:
            numbers[debit.text].append(debit)
    proposals = []
    for named in named_in(credit.text, numbers):
        for debit in sorted(numbers[named], key=lambda d: d.installment_no):
            amount = ledger.take(credit, debit, ledger.left[credit.id])
            if amount:
                how = "its number" if named == debit.number else f"fapiao {named}"
                proposals.append(Proposal(debit, amount, method, f"{credit.number} names {debit.number} "
                                          f"({how}) in its reference", credit))
    return proposals


def _exact(credit: Candidate, debits: list[Candidate], ledger: _Ledger, method: str) -> list[Proposal]:
    want = ledger.left[credit.id]
    live = [d for d in debits if ledger.left[d.id] > 0]
    for debit in live:
        if ledger.left[debit.id] == want:
            ledger.take(credit, debit, want)
            return [Proposal(debit, want, method, f"{debit.number}'s open {_money(want)} equals "
                             f"{credit.number}'s", credit)]
    pool = live[:_EXACT_PAIRS_UP_TO]
    seen: dict[Decimal, Candidate] = {}
    for debit in pool:
        other = seen.get(want - ledger.left[debit.id])
        if other is not None:
            first, second = ledger.left[other.id], ledger.left[debit.id]
            ledger.take(credit, other, first)
            ledger.take(credit, debit, second)
            why = f"{other.number} and {debit.number} add up to {credit.number}'s {_money(want)}"
            return [Proposal(other, first, method, why, credit), Proposal(debit, second, method, why, credit)]
        seen.setdefault(ledger.left[debit.id], debit)
    return []


def _fifo(credit: Candidate, debits: list[Candidate], ledger: _Ledger, method: str) -> list[Proposal]:
    proposals = []
    for debit in debits:   # already oldest due first
        amount = ledger.take(credit, debit, ledger.left[credit.id])
        if amount:
            proposals.append(Proposal(debit, amount, method, f"oldest due first: {debit.number} "
                                      f"due {debit.due_on.isoformat()}", credit))
        if ledger.left[credit.id] <= 0:
            break
    return proposals


def _installments(credit: Candidate, debits: list[Candidate], ledger: _Ledger) -> list[Proposal]:
    named = set(named_in(credit.text, {d.number for d in debits}))
    ordered = sorted((d for d in debits if d.installments),
                     key=lambda d: (d.number not in named, d.doc_on, d.number, d.installment_no))
    proposals = []
    for debit in ordered:
        amount = ledger.take(credit, debit, ledger.left[credit.id])
        if amount:
            proposals.append(Proposal(debit, amount, "installment", f"installment {debit.installment_no} of "
                                      f"{debit.number}, due {debit.due_on.isoformat()}", credit))
    return proposals


def _by_product(credit: Candidate, debits: list[Candidate], ledger: _Ledger) -> list[Proposal]:
    """A credit note pays the invoice lines of its own items; a receipt the lines of the
    oldest invoices, item by item."""
    proposals = []
    own = dict(credit.items)
    for debit in debits:
        for item in sorted(ledger.items[debit.id]):
            if own and item not in own:
                continue
            wanted = ledger.items[credit.id][item] if own else ledger.left[credit.id]
            amount = ledger.take(credit, debit, wanted, item)
            if amount:
                proposals.append(Proposal(debit, amount, "product", f"item {item} of {debit.number}", credit, item))
    return proposals
