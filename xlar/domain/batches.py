"""A batch of matches decided: when each takes effect and the base amount it moves, pure.

services.matching loads the items of a batch (locked) and what moved them so far, asks `decide`
(a new batch) or `reversal` (an undo), and writes what comes back. A match takes effect on the
latest of its two documents' dates, the first open day, NOT_BEFORE and the first date from
which both items have the room for it; no item is ever applied beyond its amount on any date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple, Protocol

from xlar.domain.allocation import Side, match_refusal
from xlar.domain.errors import InvalidAllocation, OverAllocation
from xlar.domain.ledger import base_share, check_never_overdrawn, first_room
from xlar.domain.money import from_minor, to_minor

# What has moved an item so far, per item id: (effective date, amount, base amount) of each
# match on either side, undos negative; `decide` and `reversal` add theirs.
Moves = defaultdict[int, list[tuple[date, int, int]]]


class Wanted(Protocol):
    """A match asked for (services.matching.Match)."""

    @property
    def debit_item_id(self) -> int: ...
    @property
    def credit_item_id(self) -> int: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def item(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Held:
    """An open item as a batch holds it: the SIDE the rule sees, and what places and values it."""

    id: int
    document_id: int
    customer_id: int
    doc_on: date
    base_amount_minor: int     # signed, as the amount
    side: Side

    @property
    def name(self) -> str:
        return self.side.name

    @property
    def currency(self) -> str:
        return self.side.currency

    @property
    def amount_minor(self) -> int:
        return self.side.amount_minor


class Applied(NamedTuple):
    """One match of a batch as it is written (allocations' columns; an undo's amounts negative)."""

    debit_item_id: int
    credit_item_id: int
    amount_minor: int
    debit_base_minor: int
    credit_base_minor: int
    effective_on: date
    item: str | None = None          # by product: the debit's invoice lines of this item are paid
    reverses_id: int | None = None   # an undo: the match it reverses


def decide(wanted: Sequence[Wanted], items: Mapping[int, Held], moves: Moves, *, method: str,
           receipt_clearing: str, base_currency: str, opens: date | None, not_before: date | None
           ) -> tuple[list[Applied], list[str]]:
    """The matches WANTED as written, and why any takes effect later than its documents' dates;
    refuses (InvalidAllocation, OverAllocation) the whole batch if any match is not allowed.
    OPENS is the first open day (None: every period is open); MOVES gains the new matches."""
    rows, why = [], []
    for m in wanted:
        debit, credit = items[m.debit_item_id], items[m.credit_item_id]
        refusal = match_refusal(debit.side, credit.side, receipt_clearing, method)
        if refusal is not None:
            raise InvalidAllocation(refusal)
        cur = debit.currency
        amount = to_minor(m.amount, cur)
        if amount <= 0:
            raise InvalidAllocation(f"matching {credit.name} to {debit.name}: amount {m.amount} must be positive")
        documents_on = max(debit.doc_on, credit.doc_on)
        on = max(documents_on, opens or date.min, not_before or date.min)
        ruled, crowded = on, debit
        for item in (debit, credit):
            room = first_room(abs(item.amount_minor), [(mv[0], mv[1]) for mv in moves[item.id]], amount, ruled)
            if room is None:
                open_ = abs(item.amount_minor) - sum(mv[1] for mv in moves[item.id])
                raise OverAllocation(f"{item.name} has {from_minor(open_, cur)} {cur} open; cannot apply {m.amount}")
            if room > on:
                on, crowded = room, item
        if on > ruled:
            why.append(f"takes effect {on.isoformat()}: {crowded.name} has room for it from then")
        elif on > documents_on and on == not_before:
            why.append(f"takes effect {on.isoformat()}, when the match it replaces is undone")
        elif on > documents_on:
            why.append(f"takes effect {on.isoformat()}, the first day of an open period")
        shares = []
        for item in (debit, credit):
            applied = sum(mv[1] for mv in moves[item.id])
            applied_base = sum(mv[2] for mv in moves[item.id])
            open_ = abs(item.amount_minor) - applied
            open_base = abs(item.base_amount_minor) - applied_base
            share = base_share(from_minor(amount, cur), from_minor(open_, cur),
                               from_minor(open_base, base_currency), base_currency)
            shares.append(to_minor(share, base_currency))
            moves[item.id].append((on, amount, shares[-1]))
        rows.append(Applied(debit.id, credit.id, amount, shares[0], shares[1], on, m.item))
    never_overdrawn(items, moves)
    return rows, why


def reversal(originals: Sequence[tuple[int, Applied]], on: date, items: Mapping[int, Held], moves: Moves
             ) -> list[Applied]:
    """The undo of ORIGINALS (each with its id) from ON, or from a match's own date if later;
    refused when an item would have more reversed than matched on some date."""
    rows = []
    for original_id, r in originals:
        when = max(on, r.effective_on)
        rows.append(Applied(r.debit_item_id, r.credit_item_id, -r.amount_minor, -r.debit_base_minor,
                            -r.credit_base_minor, when, r.item, original_id))
        moves[r.debit_item_id].append((when, -r.amount_minor, -r.debit_base_minor))
        moves[r.credit_item_id].append((when, -r.amount_minor, -r.credit_base_minor))
    never_overdrawn(items, moves)
    return rows


def never_overdrawn(items: Mapping[int, Held], moves: Moves) -> None:
    """Refuse when what is applied to any item exceeds its amount, or goes below zero, on any date."""
    for item_id, item in items.items():
        cur = item.currency
        check_never_overdrawn(item.name, from_minor(abs(item.amount_minor), cur),
                              [(on, from_minor(amount, cur)) for on, amount, _base in moves[item_id]])
