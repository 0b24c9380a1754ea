"""A batch of matches decided alone (domain.batches): no database. When each match takes
effect, the base amount it moves, why a date is later, what an undo writes, and every refusal."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D

import pytest

from xlar.domain.allocation import Side
from xlar.domain.batches import Applied, Held, Moves, decide, reversal
from xlar.domain.errors import InvalidAllocation, OverAllocation

JAN, FEB, MAR = date(2026, 1, 10), date(2026, 2, 10), date(2026, 3, 10)


@dataclass(frozen=True)
class Want:
    debit_item_id: int
    credit_item_id: int
    amount: D
    item: str | None = None


def held(item_id: int, kind: str, amount: int, base: int, on: date, *, status: str = "posted",
         currency: str = "USD", customer: str = "C001") -> Held:
    number = f"{kind[:3].upper()}-{item_id}"
    return Held(item_id, item_id * 10, 7, on, base, Side(kind, number, 1, amount, status, customer, currency))


def book() -> dict[int, Held]:
    return {1: held(1, "invoice", 10_000, 70_000, JAN),     # USD 100.00 at 7
            2: held(2, "receipt", -6_000, -43_200, FEB, status="approved")}   # USD 60.00 at 7.2


def run(wanted: list[Want], moves: Moves | None = None, *, opens: date | None = None,
        not_before: date | None = None, items: dict[int, Held] | None = None) -> tuple[list[Applied], list[str]]:
    return decide(wanted, items or book(), moves if moves is not None else defaultdict(list), method="manual",
                  receipt_clearing="approved", base_currency="CNY", opens=opens, not_before=not_before)


def test_a_match_takes_effect_on_the_later_document_and_each_side_moves_its_own_base():
    moves: Moves = defaultdict(list)
    rows, why = run([Want(1, 2, D("30.00"))], moves)
    assert rows == [Applied(1, 2, 3_000, 21_000, 21_600, FEB)] and why == []   # 30 x 7 and 30 x 7.2: the difference is realized FX
    assert moves[1] == [(FEB, 3_000, 21_000)] and moves[2] == [(FEB, 3_000, 21_600)]
    rest, _ = run([Want(1, 2, D("30.00"))], moves)                  # the receipt's last 30: all its open base
    assert rest[0][3:5] == (21_000, 43_200 - 21_600)


def test_a_closed_period_or_an_undo_moves_the_date_on_and_says_why():
    assert run([Want(1, 2, D(10))], opens=MAR)[1] == ["takes effect 2026-03-10, the first day of an open period"]
    assert run([Want(1, 2, D(10))], not_before=MAR)[1] == ["takes effect 2026-03-10, when the match it replaces is undone"]
    moves: Moves = defaultdict(list, {1: [(JAN, 9_000, 63_000), (MAR, -9_000, -63_000)]})   # 90 matched, undone in March
    rows, why = run([Want(1, 2, D(20))], moves)
    assert rows[0].effective_on == MAR and why == ["takes effect 2026-03-10: invoice INV-1 has room for it from then"]


@pytest.mark.parametrize(("wanted", "error", "text"), [
    (Want(2, 1, D(10)), InvalidAllocation, "receipt REC-2 is a credit, not something to be paid"),
    (Want(1, 2, D(0)), InvalidAllocation, "amount 0 must be positive"),
    (Want(1, 2, D("60.01")), OverAllocation, "receipt REC-2 has 55.00 USD open; cannot apply 60.01"),
])
def test_a_match_that_is_not_allowed_refuses_the_whole_batch(wanted, error, text):
    """The batch's first match (5) is counted before the next is judged."""
    with pytest.raises(error, match=text):
        run([Want(1, 2, D(5)), wanted])


def test_an_unapproved_receipt_or_another_customer_is_refused():
    items = {**book(), 3: held(3, "receipt", -100, -700, FEB), 4: held(4, "receipt", -100, -700, FEB, status="approved",
                                                                  customer="C002")}
    with pytest.raises(InvalidAllocation, match="not approved yet"):
        run([Want(1, 3, D(1))], items=items)
    with pytest.raises(InvalidAllocation, match="of C002 cannot pay"):
        run([Want(1, 4, D(1))], items=items)


def test_an_undo_negates_each_match_from_the_day_given_or_its_own_date_and_never_overdraws():
    live = Applied(1, 2, 3_000, 21_000, 21_600, FEB, "A-1")
    moves: Moves = defaultdict(list, {1: [(FEB, 3_000, 21_000)], 2: [(FEB, 3_000, 21_600)]})
    assert reversal([(5, live)], JAN, book(), moves) == [Applied(1, 2, -3_000, -21_000, -21_600, FEB, "A-1", 5)]
    assert moves[1][-1] == (FEB, -3_000, -21_000)
    with pytest.raises(OverAllocation, match="more reversed than matched"):
        reversal([(5, live)], MAR, book(), moves)                 # undone twice
