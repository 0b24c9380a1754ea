"""The reminder decision alone (domain.collections.dun): no database, every branch of why."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from xlar.domain.collections import DEFAULT_LEVELS, DueItem, Promise, dun

AS_OF = date(2026, 3, 31)


def due(days_late: int, amount: str, *, number: str = "INV-1", currency: str = "CNY", disputed: bool = False) -> DueItem:
    due_on = AS_OF - timedelta(days=days_late)
    return DueItem(number, 1, due_on - timedelta(days=30), due_on, currency, D(amount), disputed)


def test_the_oldest_undisputed_item_sets_the_level_and_the_letter_lists_it_with_unmatched_credits():
    found = dun([due(40, "100"), due(10, "50", number="INV-2"), due(90, "70", number="INV-3", disputed=True),
                 due(0, "-20", number="RCT-1")], DEFAULT_LEVELS, None, D(0), AS_OF)
    assert found is not None
    assert (found.level.level, found.oldest, found.overdue, found.held) == (3, 40, {"CNY": D(150)}, {"CNY": D(70)})
    assert [it.document for it in found.letter] == ["INV-1", "INV-2", "RCT-1"]   # the disputed one is held out
    assert found.reason(False) == "40 days overdue (CNY 150): level 3 by phone; disputed and held: CNY 70"
    assert found.reason(True) == "逾期 40 天（CNY 150）：第 3 级；争议暂缓 CNY 70"


def test_nothing_owed_is_no_decision_and_all_disputed_is_held():
    assert dun([due(5, "-10")], DEFAULT_LEVELS, None, D(0), AS_OF) is None
    held = dun([due(50, "10", disputed=True)], DEFAULT_LEVELS, None, D(0), AS_OF)
    assert held is not None and held.level is None and held.reason(False) == (
        "every open item is disputed: held; disputed and held: CNY 10")


def test_unmatched_credits_covering_what_is_overdue_ask_for_matching_first():
    found = dun([due(40, "100"), due(0, "-100", number="RCT-1")], DEFAULT_LEVELS, None, D(0), AS_OF)
    assert found is not None and found.covered and found.level is None and found.letter == []
    assert found.reason(False) == "unapplied receipts and credits of CNY 100 cover what is overdue: match them first"


def test_a_pending_promise_holds_and_a_broken_one_escalates():
    pending = Promise(AS_OF - timedelta(days=5), AS_OF + timedelta(days=5), D(100))
    held = dun([due(40, "100")], DEFAULT_LEVELS, pending, D(0), AS_OF)
    assert held is not None and held.level is None and held.reached is not None
    assert (held.reason(False), held.promise_text(False)) == (
        f"promised to pay by {pending.promise_on}: held until then", f"pending {pending.promise_on} 100")
    broken = Promise(AS_OF - timedelta(days=20), AS_OF - timedelta(days=1), D(100))
    late = dun([due(40, "100")], DEFAULT_LEVELS, broken, D(30), AS_OF)
    assert late is not None and late.level is not None and late.level.level == 4     # 40 days: 3, one up
    assert late.reason(False).startswith(f"promise of {broken.promise_on} broken, escalated; 40 days overdue")
    assert late.promise_text(True) == f"未履行 {broken.promise_on} 100"
    kept = dun([due(40, "100")], DEFAULT_LEVELS, broken, D(100), AS_OF)
    assert kept is not None and kept.level is not None and kept.level.level == 3 and kept.state == "kept"


def test_a_reminder_before_the_due_date():
    found = dun([due(-2, "100")], DEFAULT_LEVELS, None, D(0), AS_OF)
    assert found is not None and found.level is not None and found.level.level == 1
    assert found.reason(False) == "due in 2 days: reminder before the due date"
