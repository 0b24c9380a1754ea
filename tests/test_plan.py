"""The sync's plan for one sheet (xlar/sync/plan.py), decided without a database: rows as the
reader gives them and the store's rows in, the steps out."""

from __future__ import annotations

from decimal import Decimal

from xlar.domain.codes import Code
from xlar.schema.sheets import ALLOCATIONS, CUSTOMERS, INVOICES
from xlar.sync.plan import Add, AddMany, Change, Conflict, Delete, Hold, plan_sheet
from xlar.sync.rows import StoreRow
from xlar.workbook.reader import Row


def row(n: int, values: dict[str, object], row_id: int | None = None, rev: int | None = None,
        edited: bool = False) -> Row:
    """Sheet row N (Excel row n + 2); a synced row shows its id and revision, and is edited when
    its content hash is not the one the last sync wrote."""
    synced = None if row_id is None else f"h{row_id}"
    return Row(n + 2, values, None if row_id is None else str(row_id), rev, synced, (),
               f"edited{n}" if edited or row_id is None else synced)


def stored(row_id: int, rev: int, **values: object) -> StoreRow:
    return StoreRow(row_id, rev, dict(values))


def kinds(plan) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for step in plan.steps:
        if isinstance(step, AddMany):
            out.append(("add many", [r.excel_row for r, _ in step.rows]))
        elif isinstance(step, Delete):
            out.append(("delete", step.row_id))
        else:
            out.append((type(step).__name__.lower(), step.row.excel_row))
    return out


def test_each_row_gets_the_step_its_state_calls_for():
    current = {1: stored(1, 3, code="C1"), 2: stored(2, 5, code="C2"), 3: stored(3, 1, code="C3"),
               4: stored(4, 2, code="C4"), 9: stored(9, 1, code="C9")}
    rows = [row(1, {"code": "C1"}, 1, 3),                  # as synced: nothing
            row(2, {"code": "C2", "name": "x"}, 2, 5, edited=True),   # edited, same revision: changed
            row(3, {"code": "C3", "name": "y"}, 3, 0, edited=True),   # edited, a colleague's revision since
            row(4, {"code": "C5"}, 5, 1, edited=True),      # edited, gone from the store
            row(5, {"code": "C6"})]                         # new
    plan = plan_sheet(CUSTOMERS, rows, current, shown={1, 2, 3, 4, 5}, seen={1, 2, 3, 5})
    assert kinds(plan) == [("change", 4), ("conflict", 5), ("conflict", 6), ("add", 7), ("delete", 4)]
    change, theirs, gone = plan.steps[0], plan.steps[1], plan.steps[2]
    assert isinstance(change, Change) and change.store is current[2] and not change.lines_changed
    assert isinstance(theirs, Conflict) and theirs.theirs is current[3] and "changed in the store" in theirs.reason
    assert isinstance(gone, Conflict) and gone.theirs is None and "deleted in the store" in gone.reason
    added = plan.steps[3]
    assert isinstance(added, Add) and added.row is rows[4] and added.lines == []
    # 9 was never shown on this workbook: a colleague's row, not a deletion; 4 was shown and is gone
    assert plan.counts() == {"change": 1, "conflict": 2, "add": 1, "delete": 1}


def test_a_batched_sheet_adds_its_new_rows_at_the_end_a_credit_note_after_the_invoice_it_names():
    rows = [row(1, {"number": "CN-1", "kind": "credit_note", "original": "T1"}),
            row(2, {"number": "T1"}),
            row(3, {"your_ref": "mine", "number": None})]
    plan = plan_sheet(INVOICES, rows, {}, shown=set(), seen=set(), batched=True)
    assert kinds(plan) == [("add many", [4, 5]), ("add many", [3])]


def test_corrections_go_first_when_the_sheet_asks_then_synced_rows_then_new_ones():
    current = {7: stored(7, 1, invoice="T1", amount=Decimal(5)), 8: stored(8, 1, invoice="T2", amount=Decimal(1))}
    rows = [row(1, {"invoice": "T1", "amount": Decimal(5)}),
            row(2, {"invoice": "T2", "amount": Decimal(2)}, 8, 1, edited=True)]
    plan = plan_sheet(ALLOCATIONS, rows, current, shown={7, 8}, seen={8}, corrections_first=True)
    assert kinds(plan) == [("delete", 7), ("change", 4), ("add", 3)]
    assert kinds(plan_sheet(ALLOCATIONS, rows, current, shown={7, 8}, seen={8})) == [
        ("add", 3), ("change", 4), ("delete", 7)]


def test_an_invoice_is_changed_when_its_lines_changed_and_held_back_with_lines_held():
    lines = [{"invoice": "INV-1", "line": 1, "item": "A", "qty": Decimal(1), "unit_price": Decimal(2)}]
    current = {1: stored(1, 2, number="INV-1"), 2: stored(2, 1, number="INV-2")}
    rows = [row(1, {"number": "INV-1"}, 1, 2), row(2, {"number": "INV-2"}, 2, 1), row(3, {"number": "T9"})]
    plan = plan_sheet(INVOICES, rows, current, shown={1, 2}, seen={1, 2}, batched=True,
                      children={"INV-1": (lines, True), "T9": (lines, False)}, held_parents={"T9": "7, 8"})
    assert kinds(plan) == [("change", 3), ("hold", 5)]
    change, hold = plan.steps
    assert isinstance(change, Change) and change.lines == lines and change.lines_changed
    assert isinstance(hold, Hold) and hold.issue.code is Code.E124
    assert hold.issue.message == "T9 is held back until its lines on rows 7, 8 are fixed"


def test_a_workbook_as_synced_plans_nothing():
    current = {1: stored(1, 1, code="C1")}
    plan = plan_sheet(CUSTOMERS, [row(1, {"code": "C1"}, 1, 1)], current, shown={1}, seen={1})
    assert plan.steps == [] and plan.counts() == {}
