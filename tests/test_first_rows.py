"""The first rows a newcomer types (issue 20): no numbers needed, documents named by what the
user typed within one sync, invoices typed by their amounts; on both stores, in a real workbook."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.sheets import add_rows, edit, read
from xlar.reports.journal import journal
from xlar.store.tables import documents
from xlar.sync.engine import sync_workbook
from xlar.workbook.template import build_template

AS_OF = date(2026, 3, 31)


@pytest.fixture
def book(tmp_path):
    def make(locale="en"):
        path = build_template(tmp_path / "AR.xlsx", locale)
        add_rows(path, "Customers", [{"code": "C001", "name": "Acme Ltd.", "currency": "CNY"},
                                     {"code": "C002", "name": "Beta GmbH", "currency": "CNY"}], locale)
        return path
    return make


def sync(path, store):
    return sync_workbook(path, store, "alice", as_of=AS_OF)


def by(rows, key):
    return {r[key]: r for r in rows}


def test_an_invoice_receipt_and_match_typed_in_one_sync_without_numbers(store, book):
    """A one-person book: an invoice with lines named by a number the user made up, a service
    invoice by amount with only a Your ref., a credit note of the first, two receipts (one
    blank-numbered whose reference names the first invoice, one named R1) and an Allocations row
    naming R1 and SVC-7: all in one sync, all numbered by the store, all references shown as
    the store's numbers afterwards, and the balances as an accountant works them out."""
    path = book()
    add_rows(path, "Invoices", [
        {"number": "A1", "date": date(2026, 3, 1), "customer": "C001", "status": "posted"},
        {"your_ref": "SVC-7", "date": date(2026, 3, 2), "customer": "C002", "net": 1000, "tax": 60,
         "status": "posted"},
        {"number": "CN-A1", "kind": "credit_note", "date": date(2026, 3, 3), "customer": "C001",
         "original": "A1", "net": 10, "status": "posted"}])
    add_rows(path, "InvoiceLines", [
        {"invoice": "A1", "line": 1, "item": "P-1", "qty": 2, "unit_price": 50, "tax_rate": 0.13}])
    add_rows(path, "Receipts", [
        {"date": date(2026, 3, 10), "customer": "C001", "amount": 50, "reference": "A1", "status": "posted"},
        {"number": "R1", "date": date(2026, 3, 11), "customer": "C002", "amount": 500, "status": "posted"}])
    add_rows(path, "Allocations", [{"credit_doc": "R1", "invoice": "SVC-7", "amount": 500}])
    report = sync(path, store)
    assert report.issues == [], report.issues
    assert report.counts["Invoices added"] == 3 and report.counts["Receipts added"] == 2
    assert report.counts["Allocations added"] == 1
    invoices = by(read(path, "Invoices"), "Your ref.")
    a1, svc, cn = invoices["A1"], invoices["SVC-7"], invoices["CN-A1"]
    assert (a1["Invoice no."], svc["Invoice no."], cn["Invoice no."]) == ("INV-2026-00001", "INV-2026-00002",
                                                                         "CN-2026-00001")
    assert cn["Original invoice"] == "INV-2026-00001"
    assert (svc["Net"], svc["Tax"], svc["Total"]) == (1000, 60, 1060)
    assert (cn["Net"], cn["Tax"], cn["Total"]) == (10, 1.3, 11.3)   # tax from the setting tax_rate (13 %)
    # A1 113.00 - credit note 11.30 - receipt 50 (its reference named A1) = 51.70; SVC-7 1,060 - 500
    assert a1["Open"] == 51.7 and svc["Open"] == 560
    receipts = read(path, "Receipts")
    assert [(r["Receipt no."], r["Your ref."], r["Reference"]) for r in receipts] == [
        ("RC-2026-00001", "", "INV-2026-00001"), ("RC-2026-00002", "R1", "")]
    matches = {(m["Receipt / credit"], m["Invoice no."]): m["Amount"] for m in read(path, "Allocations")}
    assert matches == {("CN-2026-00001", "INV-2026-00001"): 11.3, ("RC-2026-00001", "INV-2026-00001"): 50,
                       ("RC-2026-00002", "INV-2026-00002"): 500}
    lines = read(path, "InvoiceLines")
    assert [(ln["Invoice no."], ln["Net"]) for ln in lines] == [("INV-2026-00001", 100)]
    with store.read() as conn:
        entries = journal(conn, None, AS_OF)
        refs = dict(conn.execute(sa.select(documents.c.number, documents.c.user_ref)).all())
    assert refs["INV-2026-00002"] == "SVC-7" and refs["RC-2026-00001"] is None
    svc_lines = entries[entries["document"] == "INV-2026-00002"]
    assert {(r.account, r.debit, r.credit) for r in svc_lines.itertuples()} == {
        ("1122", Decimal("1060.00"), Decimal(0)), ("6001", Decimal(0), Decimal("1000.00")),
        ("222101", Decimal(0), Decimal("60.00"))}
    assert sync(path, store).summary() == "no changes"


@pytest.mark.parametrize(("typed", "shown"), [
    ({"net": 200}, (200, 26, 226)),                       # tax from the rate
    ({"total": 113}, (100, 13, 113)),                     # the total split by the rate
    ({"net": 100, "tax": 6}, (100, 6, 106)),              # a 6 % service, tax typed
    ({"tax": 9, "total": 109}, (100, 9, 109)),
    ({"net": 100, "tax": 6, "total": 106}, (100, 6, 106)),
])
def test_an_invoice_typed_by_its_amounts(store, book, typed, shown):
    path = book()
    add_rows(path, "Invoices", [{"date": date(2026, 3, 2), "customer": "C001", "status": "posted", **typed}])
    report = sync(path, store)
    assert report.issues == []
    row = read(path, "Invoices")[0]
    assert (row["Net"], row["Tax"], row["Total"]) == shown
    assert row["Open"] == shown[2]


def test_amounts_that_do_not_add_up_are_refused_and_kept(store, book):
    path = book()
    add_rows(path, "Invoices", [
        {"number": "X1", "date": date(2026, 3, 2), "customer": "C001", "net": 100, "tax": 6, "total": 107},
        {"number": "X2", "date": date(2026, 3, 2), "customer": "C001"},
        {"number": "X3", "date": date(2026, 3, 2), "customer": "C001", "tax": 5},
        {"number": "X4", "date": date(2026, 3, 2), "customer": "C001", "net": 10.005}])
    report = sync(path, store)
    messages = {i.excel_row: i.message for i in report.issues}
    assert "total 107.00 is not net 100.00 + tax 6.00 = 106.00" in messages[3]
    assert "give its lines (item, qty, unit price, tax rate) or its amounts" in messages[4]
    assert "give the net (or the total) as well as the tax" in messages[5]
    assert "net 10.005 has more decimals than CNY has" in messages[6]
    assert [r["Invoice no."] for r in read(path, "Invoices")] == ["X1", "X2", "X3", "X4"]   # kept as typed
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(documents)).scalar_one() == 0


def test_an_invoice_with_lines_keeps_its_amounts_computed(store, book):
    """The header of an invoice with lines follows its lines: amounts typed there are not taken,
    and the Errors sheet says so (XLAR-W108); a header left as the last sync showed it is quiet."""
    path = book()
    add_rows(path, "Invoices", [{"number": "D1", "date": date(2026, 3, 2), "customer": "C001", "total": 120}])
    add_rows(path, "InvoiceLines", [
        {"invoice": "D1", "line": 1, "item": "P-1", "qty": 1, "unit_price": 100, "tax_rate": 0.13}])
    report = sync(path, store)
    assert [(i.code, i.excel_row) for i in report.issues] == [("XLAR-W108", 3)]
    assert "DRAFT-1 has lines: its net, tax and total are computed from them (net 100.00, tax 13.00, total " \
        "113.00)" in report.issues[0].message
    assert read(path, "Invoices")[0]["Total"] == 113
    add_rows(path, "InvoiceLines", [
        {"invoice": "DRAFT-1", "line": 2, "item": "P-2", "qty": 1, "unit_price": 50, "tax_rate": 0.13}])
    assert sync(path, store).issues == []                     # the header still showed 113: not typed
    assert read(path, "Invoices")[0]["Total"] == 169.5         # 113 + 56.50: recomputed from the lines
    edit(path, "Invoices", {"number": "DRAFT-1"}, {"total": 200})
    report = sync(path, store)
    assert [i.code for i in report.issues] == ["XLAR-W108"]
    assert read(path, "Invoices")[0]["Total"] == 169.5
    with store.read() as conn:
        assert conn.execute(sa.select(documents.c.amount_minor)).scalar_one() == 16950


def test_a_credit_note_naming_a_held_invoice_says_so(store, book):
    path = book()
    add_rows(path, "Invoices", [
        {"number": "A1", "date": date(2026, 3, 1), "customer": "C404", "net": 100, "status": "posted"},
        {"number": "CN1", "kind": "credit_note", "date": date(2026, 3, 3), "customer": "C001",
         "original": "A1", "net": 10, "status": "posted"}])
    report = sync(path, store)
    messages = [i.message for i in report.issues]
    assert any("C404" in m for m in messages)
    assert any("'A1'" in m for m in messages)
    assert [r["Invoice no."] for r in read(path, "Invoices")] == ["A1", "CN1"]
