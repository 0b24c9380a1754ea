"""Receipts and matching from the workbook, and bank statements from the real sample files:
approval on the Receipts sheet, the Allocations grid (suggest, edit, sync, undo), write-off and
transfer rows, payables, BankLines and the exception queue."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.books import APPROVER, approver, customer, invoice, line
from tests.sheets import add_rows, delete_row, edit, read
from xlar.domain.customers import Customer
from xlar.reports import ledger as reports
from xlar.services import bank, receipts
from xlar.services import documents as docs
from xlar.services.customers import save_customer
from xlar.store.settings import write_settings
from xlar.store.tables import bank_lines, documents
from xlar.sync.engine import Suggest, sync_workbook
from xlar.workbook.template import build_template

D = Decimal
AS_OF = date(2026, 3, 31)
BANK = Path(__file__).resolve().parents[2] / "shared" / "data" / "bank"


def sync(path, store, user="alice", **kw):
    return sync_workbook(path, store, user, as_of=AS_OF, **kw)


def balances(store):
    with store.read() as conn:
        return {b.customer: b.balance for b in reports.balances(conn, AS_OF)}


def test_receipts_are_approved_on_the_sheet_by_another_approver(store, tmp_path):
    path = build_template(tmp_path / "AR.xlsx", "en")
    with store.write() as conn:
        customer(conn, "C1")
        invoice(conn, "C1", date(2026, 3, 1), line("1", "400"))
        approver(conn)
    add_rows(path, "Receipts", [
        {"number": "R1", "date": date(2026, 3, 10), "customer": "C1", "amount": 150, "status": "posted",
         "reference": "INV-2026-00001"},
        {"number": "R2", "date": date(2026, 3, 10), "customer": "C1", "amount": 50, "status": "approved"}])
    result = sync(path, store)
    assert [i.message for i in result.issues] == [
        ("alice cannot enter a receipt as approved: it is entered draft or posted, and another approver "
         "approves it (segregation of duties)")]
    assert balances(store) == {"C1": D("250.00")}
    edit(path, "Receipts", {"number": "RC-2026-00001"}, {"status": "approved"})
    result = sync(path, store)   # alice entered it: she cannot approve it
    assert any("alice cannot approve receipt RC-2026-00001" in i.message for i in result.issues)
    edit(path, "Receipts", {"number": "RC-2026-00001"}, {"status": "approved"})
    result = sync(path, store, user=APPROVER)
    assert not [i for i in result.issues if "RC-2026-00001" in i.message]
    rows = {r["Receipt no."]: r for r in read(path, "Receipts")}
    assert (rows["RC-2026-00001"]["Status"], rows["RC-2026-00001"]["Approved by"],
            rows["RC-2026-00001"]["Entered by"]) == ("approved", APPROVER, "alice")
    allocations = read(path, "Allocations")   # matched at approval: its reference names the invoice
    assert [(r["Receipt / credit"], r["Invoice no."], r["Amount"], r["Method"]) for r in allocations] == [
        ("RC-2026-00001", "INV-2026-00001", 150, "auto")]


def test_the_allocations_grid_round_trip(store, tmp_path):
    path = build_template(tmp_path / "AR.xlsx", "en")
    with store.write() as conn:
        write_settings(conn, {"match_at_approval": "none", "write_off_tolerance": "5"}, "setup")
        customer(conn, "C1")
        customer(conn, "C2")
        for day, amount in ((1, "400"), (2, "300"), (3, "500")):
            invoice(conn, "C1", date(2026, 3, day), line("1", amount), due=date(2026, 3, 20 + day))
        invoice(conn, "C2", date(2026, 3, 4), line("1", "80"))
        from tests.books import receipt
        receipt(conn, "C1", date(2026, 3, 10), "1000")
        receipt(conn, "C2", date(2026, 3, 10), "100")
    sync(path, store)
    assert balances(store) == {"C1": D("200.00"), "C2": D("-20.00")}
    result = sync(path, store, suggest=Suggest("fifo"))
    assert result.counts["Allocations suggested"] == 4 and result.written
    grid = read(path, "Allocations")
    assert [(r["Receipt / credit"], r["Invoice no."], r["Amount"], r["Method"], r["Batch"]) for r in grid] == [
        ("RC-2026-00001", "INV-2026-00001", 400, "fifo", ""), ("RC-2026-00001", "INV-2026-00002", 300, "fifo", ""),
        ("RC-2026-00001", "INV-2026-00003", 300, "fifo", ""), ("RC-2026-00002", "INV-2026-00004", 80, "fifo", "")]
    assert "oldest due first" in grid[0]["Memo"]
    assert balances(store) == {"C1": D("200.00"), "C2": D("-20.00")}   # suggestions are not yet matches
    # the accountant keeps two rows, changes one amount, deletes one, adds a write-off and a bad row
    edit(path, "Allocations", {"invoice": "INV-2026-00003"}, {"amount": 250})
    delete_row(path, "Allocations", {"invoice": "INV-2026-00004"})
    add_rows(path, "Allocations", [
        {"invoice": "INV-2026-00004", "amount": 3, "method": "write_off", "reason_code": "ROUNDING"},
        {"credit_doc": "RC-2026-00002", "invoice": "INV-2026-00001", "amount": 10}])   # C2's money, C1's invoice
    result = sync(path, store)
    assert result.counts["Allocations added"] == 4
    assert [i.message for i in result.issues] == [
        "XLAR-E041 receipt RC-2026-00002 of C2 cannot pay invoice INV-2026-00001 of C1".removeprefix("XLAR-E041 ")]
    assert balances(store) == {"C1": D("200.00"), "C2": D("-23.00")}   # only the write-off moves a balance
    with store.read() as conn:
        c1 = {r.number: r.open.amount for r in reports.open_items(conn, "C1", AS_OF, include_settled=True)}
        c2 = {r.number: r.open.amount for r in reports.open_items(conn, "C2", AS_OF, include_settled=True)}
    assert c1 == {"INV-2026-00001": 0, "INV-2026-00002": 0, "INV-2026-00003": D("250.00"), "RC-2026-00001": D("-50.00")}
    assert c2["INV-2026-00004"] == D("77.00") and c2["RC-2026-00002"] == D("-100.00")
    aging = {r["Customer"]: r for r in read(path, "Aging")}
    assert (aging["C1"]["unapplied"], aging["C1"]["Balance"]) == (-50, 200)
    # the refused row is kept as typed; fixed as a transfer (C2's money pays C1's invoice), it goes through
    edit(path, "Allocations", {"credit_doc": "RC-2026-00002", "invoice": "INV-2026-00001"},
         {"invoice": "INV-2026-00003", "method": "transfer"})
    result = sync(path, store)
    assert result.issues == [] and result.counts["Allocations added"] == 1
    assert balances(store) == {"C1": D("190.00"), "C2": D("-13.00")}
    # undo: deleting a committed row reverses its match, and Balances/Aging show it
    delete_row(path, "Allocations", {"invoice": "INV-2026-00002"})
    result = sync(path, store)
    assert result.counts["Allocations deleted"] == 1
    with store.read() as conn:
        c1 = {r.number: r.open.amount for r in reports.open_items(conn, "C1", AS_OF, include_settled=True)}
    assert (c1["INV-2026-00002"], c1["RC-2026-00001"]) == (D("300.00"), D("-350.00"))
    aging = {r["Customer"]: r for r in read(path, "Aging")}
    assert aging["C1"]["unapplied"] == -350
    # a changed amount of a committed row rematches it
    edit(path, "Allocations", {"invoice": "INV-2026-00001"}, {"amount": 390})
    result = sync(path, store)
    assert result.issues == [] and result.counts["Allocations changed"] == 1, (result.issues, result.conflicts)
    with store.read() as conn:
        c1 = {r.number: r.open.amount for r in reports.open_items(conn, "C1", AS_OF, include_settled=True)}
    assert (c1["INV-2026-00001"], c1["RC-2026-00001"]) == (D("10.00"), D("-360.00"))


def test_payables_are_netted_from_the_sheet_and_frozen_once_netted(store, tmp_path):
    from xlar.services import settle

    path = build_template(tmp_path / "AR.xlsx", "en")
    with store.write() as conn:
        save_customer(conn, Customer("V1", "Vendor-customer Ltd.", "CNY", vendor_code="S-001"), "setup")
        customer(conn, "C1")
        invoice(conn, "V1", date(2026, 3, 1), line("1", "300"))
    add_rows(path, "Payables", [
        {"customer": "V1", "number": "P-1", "date": date(2026, 3, 2), "amount": 120},
        {"customer": "C1", "number": "P-9", "date": date(2026, 3, 2), "amount": 10}])
    result = sync(path, store)
    assert [i.message for i in result.issues] == [
        "customer C1 has no vendor code: payables are kept for customers that are also vendors"]
    with store.write() as conn:
        settle.net(conn, "V1", date(2026, 3, 5), "alice")
    sync(path, store)
    assert next((r["Vendor invoice"], r["Netted"]) for r in read(path, "Payables")) == ("P-1", 120)
    assert balances(store) == {"V1": D("180.00")}
    edit(path, "Payables", {"number": "P-1"}, {"amount": 100})
    result = sync(path, store)
    assert any("payable 1 is netted: void the netting" in i.message for i in result.issues)


@pytest.mark.skipif(not BANK.is_dir(), reason="../shared/data/bank is not here")
def test_the_four_real_statements_import_once_and_every_line_is_matched_or_queued(store, tmp_path):
    with store.write() as conn:
        write_settings(conn, {"base_currency": "EUR"}, "setup")
        save_customer(conn, Customer("90782", "3rd Party Media B.V.", "EUR", bank_account="NL69 ABNA 0522 1236 43"),
                      "setup")
        save_customer(conn, Customer("K1", "Karl Kaufmann", "EUR"), "setup")
        save_customer(conn, Customer("K2", "Karl Kaufmann GmbH", "EUR"), "setup")
        inv = invoice(conn, "90782", date(2014, 1, 2), line("1", "1405.31"))
        conn.execute(documents.update().where(documents.c.id == inv).values(fapiao_no="4210773"))
        approver(conn)
    files = sorted(BANK.glob("*.sta")) + sorted(BANK.glob("*.xml"))
    assert len(files) == 4
    first = []
    with store.write() as conn:
        for f in files:
            first.append(bank.import_statement(conn, f.read_bytes(), f.name, "alice"))
    assert [r.read for r in first] == [10, 11, 4, 1]
    assert [r.new for r in first] == [10, 11, 4, 1]
    with store.read() as conn:
        rows = conn.execute(sa.select(bank_lines)).mappings().all()
    assert len(rows) == 26
    assert all((r["receipt_id"] is None) != (r["exception"] is None) for r in rows)   # matched or queued
    assert all(r["reason"] for r in rows)
    queued = {r["exception"].split(":")[0] for r in rows if r["exception"]}
    assert {"not a receipt (debit)", "reversal"} <= queued
    paid = next(r for r in rows if r["amount_minor"] == 140531)
    assert paid["confidence"] == 100 and paid["receipt_id"] is not None
    kaufmann = next(r for r in rows if r["amount_minor"] == 5099005)
    assert kaufmann["exception"].startswith("ambiguous")   # two customers of that name
    with store.write() as conn:
        again = [bank.import_statement(conn, f.read_bytes(), f.name, "alice") for f in files]
        assert conn.execute(sa.select(sa.func.count()).select_from(bank_lines)).scalar() == 26
        assert conn.execute(sa.select(sa.func.count()).select_from(documents)
                            .where(documents.c.kind == "receipt")).scalar() == 1
    assert [(r.new, r.duplicates, r.receipts) for r in again] == [(0, 10, 0), (0, 11, 0), (0, 4, 0), (0, 1, 0)]
    # the draft receipt is confirmed and approved: the invoice its fapiao number names is paid
    with store.write() as conn:
        docs.post(conn, paid["receipt_id"], "alice")
        receipts.approve(conn, [paid["receipt_id"]], APPROVER)
        assert {r.number: r.open.amount for r in reports.open_items(conn, "90782", date(2014, 1, 31),
                                                              include_settled=True)} == {
            "INV-2014-00001": D("0.00"), "RC-2014-00001": D("0.00")}
        # a queued line is resolved by hand
        line_id = kaufmann["id"]
        receipt_id = bank.resolve(conn, line_id, "K2", "alice")
        assert docs.load(conn, receipt_id).amount_minor == 5099005
    path = build_template(tmp_path / "AR.xlsx", "en")
    sync_workbook(path, store, "alice", as_of=date(2014, 1, 31))
    shown = read(path, "BankLines")
    assert len(shown) == 26
    waiting = read(path, "BankExceptions")
    assert len(waiting) == 24 and all(r["Why it waits"] for r in waiting)


def test_overlapping_exports_add_only_the_new_lines_and_twin_payments_both_count(store):
    with store.write() as conn:
        customer(conn, "C1")
        first = ("Date,Amount,Currency,Payer,Reference\n2026-03-02,200.00,CNY,Acme,C1\n"
                 "2026-03-02,200.00,CNY,Acme,C1\n2026-03-03,50.00,CNY,Beta,x\n")
        overlap = ("Date,Amount,Currency,Payer,Reference\n2026-03-03,50.00,CNY,Beta,x\n"
                   "2026-03-04,75.00,CNY,Gamma,y\n")
        assert bank.import_statement(conn, first.encode(), "march-1.csv", "alice").new == 3   # the twins are two
        again = bank.import_statement(conn, overlap.encode(), "march-2.csv", "alice")
        assert (again.new, again.duplicates) == (1, 1)
        assert conn.execute(sa.select(sa.func.count()).select_from(bank_lines)).scalar() == 4


def test_an_absurd_amount_refuses_the_whole_file_with_its_line(store):
    from xlar.imports.bank import InvalidImport

    with store.write() as conn:
        bad = b"Date,Amount,Currency\n2026-03-02,10.00,CNY\n2026-03-02,99999999999999999999999,CNY\n"
        with pytest.raises(InvalidImport, match="bad.csv line 2: amount 99999999999999999999999.00 CNY"):
            bank.import_statement(conn, bad, "bad.csv", "alice")
        assert conn.execute(sa.select(sa.func.count()).select_from(bank_lines)).scalar() == 0
