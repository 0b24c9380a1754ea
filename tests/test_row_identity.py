"""Copy and paste never renames, deletes or overwrites a store row: a copied row's hidden _id
makes it a new row, a typed-over key is a new row beside the old one, and a row whose _id and
_rev no longer go with its content (sorted without the hidden columns) changes nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import sqlalchemy as sa

from tests.sheets import add_rows, read, top_row
from xlar.store.tables import customers, documents
from xlar.sync.engine import sync_workbook
from xlar.workbook.template import build_template

AS_OF = date(2026, 3, 31)


def sync(path, store, user="alice"):
    return sync_workbook(path, store, user, as_of=AS_OF)


def _sheet(path: Path, title: str):
    wb = openpyxl.load_workbook(path)
    ws = wb[title]
    header = [c.value for c in ws[top_row(ws)]]
    return wb, ws, header


def copy_row(path: Path, title: str, column: str, value: object, changes: dict[str, object]) -> None:
    """Copy the row whose COLUMN is VALUE, hidden cells and all, below the last row; then type CHANGES."""
    wb, ws, header = _sheet(path, title)
    source = next(r for r in range(top_row(ws) + 1, ws.max_row + 1) if ws.cell(r, header.index(column) + 1).value == value)
    target = ws.max_row + 1
    for c in range(1, len(header) + 1):
        ws.cell(target, c, ws.cell(source, c).value)
    for name, new in changes.items():
        ws.cell(target, header.index(name) + 1, new)
    wb.save(path)


def type_over(path: Path, title: str, column: str, value: object, changes: dict[str, object]) -> None:
    wb, ws, header = _sheet(path, title)
    row = next(r for r in range(top_row(ws) + 1, ws.max_row + 1) if ws.cell(r, header.index(column) + 1).value == value)
    for name, new in changes.items():
        ws.cell(row, header.index(name) + 1, new)
    wb.save(path)


def swap_visible(path: Path, title: str, column: str, a: object, b: object) -> None:
    """Two rows' visible cells swapped, their hidden _id and _rev left (a sort without the hidden columns)."""
    wb, ws, header = _sheet(path, title)
    rows = {ws.cell(r, header.index(column) + 1).value: r for r in range(top_row(ws) + 1, ws.max_row + 1)}
    visible = [i + 1 for i, h in enumerate(header) if h not in ("_id", "_rev")]
    for c in visible:
        first, second = ws.cell(rows[a], c).value, ws.cell(rows[b], c).value
        ws.cell(rows[a], c, second)
        ws.cell(rows[b], c, first)
    wb.save(path)


def store_customers(store) -> dict[str, tuple[int, str]]:
    with store.read() as conn:
        return {code: (row_id, name) for row_id, code, name in
                conn.execute(sa.select(customers.c.id, customers.c.code, customers.c.name))}


def codes(issues, code):
    return [i for i in issues if i.code == code]


def book(tmp_path, store) -> Path:
    path = build_template(tmp_path / "AR.xlsx", "en")
    add_rows(path, "Customers", [{"code": "X1", "name": "Xenon Ltd.", "currency": "CNY"},
                                 {"code": "C005", "name": "Cobalt Ltd.", "currency": "CNY"}])
    add_rows(path, "Invoices", [{"number": "T1", "date": date(2026, 3, 5), "customer": "C005", "status": "posted"}])
    add_rows(path, "InvoiceLines", [{"invoice": "T1", "line": 1, "item": "A", "qty": 1, "unit_price": 500}])
    assert not sync(path, store).issues
    return path


def test_a_copied_row_typed_over_is_a_new_customer_and_the_original_stays(store, tmp_path):
    path = book(tmp_path, store)
    before = store_customers(store)
    copy_row(path, "Customers", "Code", "X1", {"Code": "X2", "Name": "Xylo GmbH"})
    report = sync(path, store)
    after = store_customers(store)
    assert after["X1"] == before["X1"] and after["C005"] == before["C005"]
    assert after["X2"][1] == "Xylo GmbH" and len(after) == 3
    [warning] = codes(report.issues, "XLAR-W103")
    assert "a copy of row 3 ('X1')" in warning.message and "new row 'X2'" in warning.message
    assert {r["Code"] for r in read(path, "Customers")} == {"X1", "X2", "C005"}


def test_a_copied_row_left_as_it_is_changes_nothing(store, tmp_path):
    path = book(tmp_path, store)
    before = store_customers(store)
    copy_row(path, "Customers", "Code", "X1", {})
    report = sync(path, store)
    assert store_customers(store) == before
    assert codes(report.issues, "XLAR-E118")          # the duplicate code holds both rows
    assert [r["Code"] for r in read(path, "Customers")].count("X1") == 2   # nothing lost


def test_a_typed_over_code_is_a_new_customer_and_the_old_one_keeps_its_documents(store, tmp_path):
    path = book(tmp_path, store)
    before = store_customers(store)
    type_over(path, "Customers", "Code", "C005", {"Code": "N001", "Name": "New Co."})
    report = sync(path, store)
    after = store_customers(store)
    assert after["C005"] == before["C005"] and after["N001"][1] == "New Co."
    [warning] = codes(report.issues, "XLAR-W104")
    assert "'C005'" in warning.message and "'N001'" in warning.message
    with store.read() as conn:
        owner = conn.execute(sa.select(customers.c.code).join(documents, documents.c.customer_id == customers.c.id)
                             .where(documents.c.kind == "invoice")).scalar_one()
    assert owner == "C005"
    assert {r["Code"] for r in read(path, "Customers")} == {"X1", "C005", "N001"}


def test_rows_sorted_without_their_hidden_columns_change_nothing(store, tmp_path):
    path = book(tmp_path, store)
    before = store_customers(store)
    swap_visible(path, "Customers", "Code", "X1", "C005")
    report = sync(path, store)
    assert store_customers(store) == before
    [warning] = codes(report.issues, "XLAR-W105")
    assert "2 row(s) moved" in warning.message and not codes(report.issues, "XLAR-W104")
    shown = {(r["Code"], r["Name"]) for r in read(path, "Customers")}
    assert {("X1", "Xenon Ltd."), ("C005", "Cobalt Ltd.")} <= shown


def test_a_copied_invoice_is_a_new_draft_and_the_posted_one_stays(store, tmp_path):
    path = book(tmp_path, store)
    with store.read() as conn:
        posted = conn.execute(sa.select(documents.c.id, documents.c.number, documents.c.status)).one()
    copy_row(path, "Invoices", "Customer", "C005", {"Customer": "X1", "Status": "draft"})
    report = sync(path, store)                       # the same number twice: both held, nothing changes
    assert codes(report.issues, "XLAR-E118") and not codes(report.issues, "XLAR-W103")
    type_over(path, "Invoices", "Customer", "X1", {"Invoice no.": "T2"})
    add_rows(path, "InvoiceLines", [{"invoice": "T2", "line": 1, "item": "B", "qty": 1, "unit_price": 10}])
    report = sync(path, store)
    assert codes(report.issues, "XLAR-W103")
    with store.read() as conn:
        rows = conn.execute(sa.select(documents.c.id, documents.c.number, documents.c.status)
                            .order_by(documents.c.id)).all()
    assert tuple(rows[0]) == tuple(posted) and len(rows) == 2 and rows[1].status == "draft"


def test_a_setting_typed_over_is_set(store, tmp_path):
    """Settings rows are keyed by their setting: a new value is a change, never a copy or a sort."""
    path = book(tmp_path, store)
    type_over(path, "Settings", "Setting", "aging_buckets", {"Value": "15,45,90"})
    report = sync(path, store)
    assert not [i for i in report.issues if i.code.startswith("XLAR-W10")], report.issues
    with store.read() as conn:
        assert conn.execute(sa.text("SELECT value FROM settings WHERE key = 'aging_buckets'")).scalar() == "15,45,90"
    assert [r["Value"] for r in read(path, "Settings") if r["Setting"] == "aging_buckets"] == ["15,45,90"]


def test_a_contact_edited_as_its_customers_currency_changes_stays_one_contact(store, tmp_path):
    """Contacts show their promised amount in the customer's currency: a currency changed in the
    same sync changes how the store shows the contact, which is no reason to take the edited
    contact for another row's (it would be entered twice)."""
    path = book(tmp_path, store)
    add_rows(path, "Contacts", [{"customer": "X1", "date": date(2026, 3, 6), "method": "phone",
                                 "result": "will pay", "promise_amount": 100}])
    assert not sync(path, store).issues
    type_over(path, "Customers", "Code", "X1", {"Currency": "JPY"})
    type_over(path, "Contacts", "Customer", "X1", {"Result": "will pay on Friday"})
    report = sync(path, store)
    assert not [i for i in report.issues if i.code.startswith("XLAR-W10")], report.issues
    with store.read() as conn:
        assert conn.execute(sa.text("SELECT result FROM contacts")).scalars().all() == ["will pay on Friday"]


def test_contacts_sorted_without_their_hidden_columns_change_nothing(store, tmp_path):
    """A keyless sheet has no key to betray a sort: a row showing exactly what another row was
    written with is that row's content, not an edit of the row whose hidden cells it sits beside."""
    path = book(tmp_path, store)
    add_rows(path, "Contacts", [
        {"customer": "X1", "date": date(2026, 3, 6), "method": "phone", "result": "first"},
        {"customer": "C005", "date": date(2026, 3, 7), "method": "email", "result": "second"}])
    assert not sync(path, store).issues
    with store.read() as conn:
        before = sorted(conn.execute(sa.text("SELECT id, result FROM contacts")).all())
    swap_visible(path, "Contacts", "Result", "first", "second")
    report = sync(path, store)
    assert len(codes(report.issues, "XLAR-W105")) == 1
    with store.read() as conn:
        assert sorted(conn.execute(sa.text("SELECT id, result FROM contacts")).all()) == before
    assert sorted(r["Result"] for r in read(path, "Contacts")) == ["first", "second"]


def test_a_row_sorted_and_changed_is_a_new_row_and_nothing_is_lost(store, tmp_path):
    """Sorted without the hidden columns, then one row edited: the moved rows find their own
    rows again; the edited one cannot be told, so it is added and the row it was stays."""
    path = book(tmp_path, store)
    add_rows(path, "Contacts", [{"customer": "X1", "date": date(2026, 3, 6), "result": text}
                                for text in ("A", "B", "C")])
    assert not sync(path, store).issues
    with store.read() as conn:
        before = sorted(conn.execute(sa.text("SELECT id, result FROM contacts")).all())
    wb, ws, header = _sheet(path, "Contacts")
    result = header.index("Result") + 1
    for row, text in zip(range(3, 6), ("B", "C, called twice", "A"), strict=True):
        ws.cell(row, result, text)
    wb.save(path)
    report = sync(path, store)
    moved = codes(report.issues, "XLAR-W105")
    assert len(moved) == 2 and "2 row(s) moved" in moved[0].message and moved[1].excel_row == 4
    with store.read() as conn:
        after = sorted(conn.execute(sa.text("SELECT id, result FROM contacts")).all())
    assert after[:3] == before and [r.result for r in after[3:]] == ["C, called twice"]
    assert sorted(r["Result"] for r in read(path, "Contacts")) == ["A", "B", "C", "C, called twice"]


def two_invoices(tmp_path, store, first_status: str, lines: list[tuple[str, str, int, int]]) -> Path:
    """T1 (FIRST_STATUS) and draft T2 of customer C001 with LINES (invoice, item, qty, price), synced."""
    path = build_template(tmp_path / "AR.xlsx", "en")
    add_rows(path, "Customers", [{"code": "C001", "name": "Acme", "currency": "CNY"}])
    add_rows(path, "Invoices", [{"number": n, "date": date(2026, 3, 5), "customer": "C001", "status": status}
                                for n, status in (("T1", first_status), ("T2", "draft"))])
    numbers: dict[str, int] = {}
    rows = []
    for invoice, item, qty, price in lines:
        numbers[invoice] = numbers.get(invoice, 0) + 1
        rows.append({"invoice": invoice, "line": numbers[invoice], "item": item, "qty": qty, "unit_price": price})
    add_rows(path, "InvoiceLines", rows)
    sync(path, store)
    return path


def moved_line(path: Path, item: str, to_item: str) -> str:
    """Type ITEM's line over to the invoice TO_ITEM's line is on, as its line 2; that invoice's number."""
    target = next(r["Invoice no."] for r in read(path, "InvoiceLines") if r["Item"] == to_item)
    type_over(path, "InvoiceLines", "Item", item, {"Invoice no.": target, "Line": 2})
    return target


def invoice_totals(store) -> list[int]:
    """Every invoice's total in minor units, smallest first."""
    with store.read() as conn:
        return sorted(conn.execute(sa.select(documents.c.amount_minor)).scalars())


def test_a_line_moved_to_another_draft_leaves_the_one_it_was_on(store, tmp_path):
    """A line whose invoice is typed over to another draft is on that draft only: the draft it
    left is updated too (it was billed twice: the line stayed on both)."""
    path = two_invoices(tmp_path, store, "draft", [("T1", "A", 1, 100), ("T1", "A2", 1, 10), ("T2", "B", 2, 50)])
    first = next(r["Invoice no."] for r in read(path, "InvoiceLines") if r["Item"] == "A")
    second = moved_line(path, "A2", "B")
    assert sync(path, store).counts["Invoices changed"] == 2
    assert invoice_totals(store) == [10_000, 11_000]      # 100 on the first, 100 + 10 on the second
    assert sorted((r["Invoice no."], r["Item"]) for r in read(path, "InvoiceLines")) == [
        (first, "A"), (second, "A2"), (second, "B")]


def test_a_line_cannot_leave_a_posted_invoice(store, tmp_path):
    """A posted invoice keeps its lines: a line typed over to a draft is held as typed with the
    reason, the draft is held with it, and nothing is billed twice."""
    path = two_invoices(tmp_path, store, "posted", [("T1", "A", 1, 100), ("T1", "A2", 1, 10), ("T2", "B", 2, 50)])
    moved_line(path, "A2", "B")
    report = sync(path, store)
    assert [i.code for i in report.issues] == ["XLAR-E020", "XLAR-E124"]
    assert "line 2 of INV-2026-00001 cannot move to" in report.issues[0].message
    assert invoice_totals(store) == [10_000, 11_000]      # the posted invoice as it was, the draft without the line


def test_a_drafts_only_line_does_not_move_to_another_draft(store, tmp_path):
    """Moving a draft's only line would leave it with nothing to bill: the move is held with
    the reason, and nothing is billed twice."""
    path = two_invoices(tmp_path, store, "draft", [("T1", "A", 1, 100), ("T2", "B", 2, 50)])
    moved_line(path, "A", "B")
    report = sync(path, store)
    assert [i.code for i in report.issues] == ["XLAR-E020", "XLAR-E124"]
    assert "only line" in report.issues[0].message
    assert invoice_totals(store) == [10_000, 10_000]
