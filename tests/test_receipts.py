"""Receipts and matching (核销) on SQLite and PostgreSQL: approval with segregation of duties,
matching at entry and later (FIFO, exact, reference, installment, product; one-to-many and
many-to-many), realized FX, write-offs, transfers, refunds and AR/AP netting."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.books import APPROVER, USER, approver, customer, invoice, line, receipt
from xlar.domain.customers import Customer
from xlar.domain.documents import DocKind
from xlar.domain.errors import InvalidAllocation, InvalidDocument, NotAllowed, XlarError
from xlar.reports import ledger as reports
from xlar.services import documents as docs
from xlar.services import matching, receipts, settle, suggest
from xlar.services.customers import save_customer
from xlar.store.settings import set_periods, write_settings
from xlar.store.tables import documents, installment_terms, journal_lines, open_items, payables

D = Decimal
MAR = date(2026, 3, 1)


def open_of(conn, cust, as_of=date(2026, 12, 31)):
    return {r.number + (f"#{r.installment_no}" if r.installment_no > 1 else ""): r.open.amount
            for r in reports.open_items(conn, cust, as_of, include_settled=True)}


def number(conn, doc_id):
    return conn.execute(sa.select(documents.c.number).where(documents.c.id == doc_id)).scalar_one()


def journal(conn, doc_id):
    j = journal_lines.c
    return [(a, D(dr) / 100, D(cr) / 100, D(bdr) / 100, D(bcr) / 100) for a, dr, cr, bdr, bcr in conn.execute(
        sa.select(j.account, j.debit_minor, j.credit_minor, j.base_debit_minor, j.base_credit_minor)
        .where(j.document_id == doc_id).order_by(j.line_no))]


def ar_agrees_with_open_items(conn):
    """The AR control account equals what open items hold, in document and base currency."""
    j, oi = journal_lines.c, open_items.c
    ar = conn.execute(sa.select(sa.func.sum(j.base_debit_minor - j.base_credit_minor)).where(j.account == "1122")
                      ).scalar() or 0
    listing = reports.balances(conn, date(2100, 1, 1))
    base = sum(b.base_balance for b in listing)
    assert D(ar) / 100 == base
    items = conn.execute(sa.select(sa.func.sum(oi.base_amount_minor))).scalar()
    assert items is not None


def three_invoices(conn, cust="C1"):
    customer(conn, cust)
    return [invoice(conn, cust, date(2026, 3, day), line("1", amount), due=date(2026, 4, day))
            for day, amount in ((1, "400"), (2, "300"), (3, "500"))]


def test_fifo_receipt_of_1000_against_400_300_500_leaves_200_open_on_the_third(store):
    with store.write() as conn:
        three_invoices(conn)
        paid = receipt(conn, "C1", date(2026, 3, 10), "1000")
        batches = suggest.apply(conn, suggest.propose(conn, "fifo", customer="C1"), USER)
        assert open_of(conn, "C1") == {"INV-2026-00001": D("0.00"), "INV-2026-00002": D("0.00"),
                                       "INV-2026-00003": D("200.00"), "RC-2026-00001": D("0.00")}
        assert len(batches.batches) == 1 and batches.refused == []
        assert matching.match_fifo(conn, paid, user=USER) is None   # nothing left to apply


def test_many_receipts_against_many_invoices_never_spend_the_same_amount_twice(store):
    with store.write() as conn:
        three_invoices(conn)
        receipt(conn, "C1", date(2026, 3, 10), "350")
        receipt(conn, "C1", date(2026, 3, 11), "600")
        proposals = suggest.propose(conn, "fifo", customer="C1")
        pairs = [(p.credit.number, p.debit.number, p.amount) for p in proposals]
        assert pairs == [("RC-2026-00001", "INV-2026-00001", D("350.00")),
                         ("RC-2026-00002", "INV-2026-00001", D("50.00")),
                         ("RC-2026-00002", "INV-2026-00002", D("300.00")),
                         ("RC-2026-00002", "INV-2026-00003", D("250.00"))]
        suggest.apply(conn, proposals, USER)
        assert open_of(conn, "C1")["INV-2026-00003"] == D("250.00")


def test_exact_and_reference_strategies_pick_the_right_invoices(store):
    with store.write() as conn:
        three_invoices(conn)
        receipt(conn, "C1", date(2026, 3, 10), "500", approve=False)
        receipt(conn, "C1", date(2026, 3, 10), "700", approve=False)   # 400 + 300
        write_settings(conn, {"match_at_approval": "none"}, "setup")
        approver(conn)
        receipts.approve(conn, [1 + 3, 2 + 3], APPROVER)
        exact = suggest.propose(conn, "exact", customer="C1")
        assert [(p.credit.number, p.debit.number, p.amount) for p in exact] == [
            ("RC-2026-00001", "INV-2026-00003", D("500.00")),
            ("RC-2026-00002", "INV-2026-00001", D("400.00")), ("RC-2026-00002", "INV-2026-00002", D("300.00"))]
        receipt(conn, "C1", date(2026, 3, 12), "300", reference="payment for INV202600003, order 2026-0002")
        by_ref = suggest.propose(conn, "reference", customer="C1")
        assert [(p.credit.number, p.debit.number, p.amount) for p in by_ref] == [
            ("RC-2026-00003", "INV-2026-00003", D("300.00"))]   # written without dashes; the order is no invoice
        assert "names INV-2026-00003" in by_ref[0].reason
        assert suggest.propose(conn, "reference", customer="C1") == by_ref


def test_a_receipt_naming_its_invoices_is_matched_when_approved(store):
    with store.write() as conn:
        three_invoices(conn)
        conn.execute(documents.update().where(documents.c.number == "INV-2026-00003").values(fapiao_no="04405678"))
        approver(conn)   # the book has an approver: receipts clear once approved
        rec = receipt(conn, "C1", date(2026, 3, 10), "550", approve=False,
                      reference="INV-2026-00002 / fapiao 04405678")
        assert open_of(conn, "C1")["RC-2026-00001"] == D("-550.00")   # confirmed: booked, not yet clearing
        receipts.approve(conn, [rec], APPROVER)
        assert open_of(conn, "C1") == {"INV-2026-00001": D("400.00"), "INV-2026-00002": D("0.00"),
                                       "INV-2026-00003": D("250.00"), "RC-2026-00001": D("0.00")}
        method = conn.execute(sa.text("select method from allocation_batches")).scalars().all()
        assert method == ["auto"]


def test_a_book_for_one_person_clears_confirmed_receipts_until_it_names_an_approver(store):
    """With no approvers named nobody could approve a receipt: a confirmed one clears (as
    receipt_clearing = confirmed). Naming the first approver switches the approval step on."""
    with store.write() as conn:
        first, _, _ = three_invoices(conn)
        rec = receipt(conn, "C1", date(2026, 3, 10), "400", approve=False)
        inv = conn.execute(sa.select(open_items.c.id).where(open_items.c.document_id == first)).scalar_one()
        credit = conn.execute(sa.select(open_items.c.id).where(open_items.c.document_id == rec)).scalar_one()
        matching.allocate(conn, [matching.Match(inv, credit, D("400"))], method="manual", user=USER)
        assert open_of(conn, "C1")["INV-2026-00001"] == D("0.00")
        approver(conn, APPROVER)
        later = receipt(conn, "C1", date(2026, 3, 11), "300", approve=False)
        credit = conn.execute(sa.select(open_items.c.id).where(open_items.c.document_id == later)).scalar_one()
        second = conn.execute(sa.select(open_items.c.id).where(open_items.c.document_id == first + 1)).scalar_one()
        with pytest.raises(InvalidAllocation, match="not approved yet"):
            matching.allocate(conn, [matching.Match(second, credit, D("300"))], method="manual", user=USER)


def test_the_enterer_cannot_approve_their_own_receipt(store):
    with store.write() as conn:
        three_invoices(conn)
        rec = receipt(conn, "C1", date(2026, 3, 10), "400", approve=False)
        with pytest.raises(NotAllowed, match="carol cannot approve .* needs the approver role"):
            receipts.approve(conn, [rec], APPROVER)
        approver(conn, USER)
        approver(conn, APPROVER)
        with pytest.raises(NotAllowed, match="alice entered receipt RC-2026-00001 and cannot also approve it"):
            receipts.approve(conn, [rec], USER)
        inv = conn.execute(sa.select(open_items.c.id).where(open_items.c.document_id == 1)).scalar_one()
        credit = conn.execute(sa.select(open_items.c.id).where(open_items.c.document_id == rec)).scalar_one()
        with pytest.raises(InvalidAllocation, match="not approved yet"):
            matching.allocate(conn, [matching.Match(inv, credit, D("1"))], method="manual", user=USER)
        assert suggest.propose(conn, "fifo") == []   # an unapproved receipt clears nothing
        receipts.approve(conn, [rec], APPROVER)
        assert conn.execute(sa.select(documents.c.status, documents.c.approved_by)
                            .where(documents.c.id == rec)).one() == ("approved", APPROVER)
        with pytest.raises(InvalidDocument, match="is approved: only a confirmed"):
            receipts.approve(conn, [rec], APPROVER)
        with pytest.raises(NotAllowed, match="bob cannot change receipt_clearing, write_off_tolerance: these "
                                             "settings are changed by an approver"):
            write_settings(conn, {"receipt_clearing": "confirmed", "write_off_tolerance": "9999"}, "bob")
        write_settings(conn, {"receipt_clearing": "confirmed", "match_at_approval": "fifo"}, APPROVER)
        receipt(conn, "C1", date(2026, 3, 11), "300", approve=False)   # clears on confirmation
        assert open_of(conn, "C1")["INV-2026-00001"] == D("100.00")


def test_a_bank_acceptance_note_needs_its_maturity_and_books_to_notes_receivable(store):
    with store.write() as conn:
        customer(conn, "C1")
        with pytest.raises(InvalidDocument, match="needs the note's maturity date"):
            receipt(conn, "C1", MAR, "100", method="note")
        with pytest.raises(InvalidDocument, match="only bank acceptance notes have a maturity"):
            receipt(conn, "C1", MAR, "100", method="bank", maturity=date(2026, 9, 1))
        note = receipt(conn, "C1", MAR, "100", method="note", maturity=date(2026, 9, 1))
        assert journal(conn, note) == [("1121", D(100), 0, D(100), 0), ("1122", 0, D(100), 0, D(100))]
        assert docs.load(conn, note).maturity_on == date(2026, 9, 1)


def test_a_usd_receipt_at_7_10_against_an_invoice_at_7_20_books_the_realized_loss(store):
    with store.write() as conn:
        customer(conn, "U1", "USD")
        inv = invoice(conn, "U1", MAR, line("1", "1000"), rate="7.20")
        rec = receipt(conn, "U1", date(2026, 3, 20), "1000", rate="7.10")
        batch = matching.match_fifo(conn, rec, user=USER)
        fx = conn.execute(sa.select(documents).where(documents.c.kind == "fx_realized")).mappings().one()
        assert (fx["batch_id"], fx["base_amount_minor"], fx["doc_on"]) == (batch, 10000, date(2026, 3, 20))
        assert journal(conn, fx["id"]) == [("6603", 0, 0, D(100), 0), ("1122", 0, 0, 0, D(100))]
        assert journal(conn, inv)[0] == ("1122", D(1000), 0, D(7200), 0)
        assert journal(conn, rec)[1] == ("1122", 0, D(1000), 0, D(7100))
        ar_agrees_with_open_items(conn)
        assert [(b.balance, b.base_balance) for b in reports.balances(conn, date(2026, 3, 31), "U1")] == [
            (D("0.00"), D("0.00"))]
        matching.undo(conn, batch, on=date(2026, 3, 25), user=USER)   # the loss is reversed with the match
        reversal = conn.execute(sa.select(documents.c.id).where(documents.c.kind == "fx_realized",
                                                                documents.c.id != fx["id"])).scalar_one()
        assert journal(conn, reversal) == [("1122", 0, 0, D(100), 0), ("6603", 0, 0, 0, D(100))]
        ar_agrees_with_open_items(conn)


def test_small_differences_are_written_off_with_a_reason_within_the_tolerance(store):
    with store.write() as conn:
        three_invoices(conn)
        write_settings(conn, {"write_off_tolerance": "5.00", "match_at_approval": "none"}, "setup")
        receipt(conn, "C1", date(2026, 3, 10), "397", reference="INV-2026-00001 less bank fee")
        receipt(conn, "C1", date(2026, 3, 11), "296.50", reference="INV-2026-00002")
        proposals = suggest.propose(conn, "reference", customer="C1")
        assert [(p.method, p.debit.number, p.amount, p.reason_code) for p in proposals] == [
            ("reference", "INV-2026-00001", D("397.00"), None), ("reference", "INV-2026-00002", D("296.50"), None),
            ("write_off", "INV-2026-00001", D("3.00"), "SHORT_PAYMENT"),
            ("write_off", "INV-2026-00002", D("3.50"), "SHORT_PAYMENT")]
        suggest.apply(conn, proposals, USER, on=date(2026, 3, 15))
        assert open_of(conn, "C1") == {"INV-2026-00001": D("0.00"), "INV-2026-00002": D("0.00"),
                                       "INV-2026-00003": D("500.00"), "RC-2026-00001": D("0.00"),
                                       "RC-2026-00002": D("0.00"), "WO-2026-00001": D("0.00"),
                                       "WO-2026-00002": D("0.00")}
        with pytest.raises(InvalidAllocation, match="not one of the setting write_off_reasons"):
            settle.write_off(conn, "INV-2026-00003", D("3"), "GIFT", date(2026, 3, 15), USER)
        with pytest.raises(NotAllowed, match="over the tolerance 5.00"):
            settle.write_off(conn, "INV-2026-00003", D("6"), "DISCOUNT", date(2026, 3, 15), USER)
        wo = settle.write_off(conn, "INV-2026-00003", D("3"), "bank_fee", date(2026, 3, 15), USER)
        assert journal(conn, wo) == [("6711", D(3), 0, D(3), 0), ("1122", 0, D(3), 0, D(3))]
        assert docs.load(conn, wo).reference == "BANK_FEE"
        settle.write_off(conn, "INV-2026-00003", D("6"), "DISCOUNT", date(2026, 3, 15), APPROVER)  # approvers may
        assert open_of(conn, "C1")["INV-2026-00003"] == D("491.00")
        settle.void(conn, number(conn, wo), date(2026, 3, 16), USER, "fee refunded by the bank")
        assert open_of(conn, "C1")["INV-2026-00003"] == D("494.00")
        ar_agrees_with_open_items(conn)


def test_a_transfer_moves_the_balance_and_both_customers_histories_show_it(store):
    with store.write() as conn:
        customer(conn, "C1")
        customer(conn, "C2")
        inv = invoice(conn, "C1", MAR, line("1", "500"), due=date(2026, 4, 30))
        old, new = settle.transfer(conn, "INV-2026-00001", "C2", date(2026, 3, 10), USER, reason="C2 took over")
        assert [(b.customer, b.balance) for b in reports.balances(conn, date(2026, 3, 31))] == [
            ("C1", D("0.00")), ("C2", D("500.00"))]
        c1 = reports.open_items(conn, "C1", date(2026, 3, 31), include_settled=True)
        c2 = reports.open_items(conn, "C2", date(2026, 3, 31), include_settled=True)
        assert sorted((r.kind, r.number, r.amount.amount, r.open.amount) for r in c1) == [
            ("invoice", "INV-2026-00001", D("500.00"), D("0.00")),
            ("transfer_credit", "TC-2026-00001", D("-500.00"), D("0.00"))]
        assert [(r.kind, r.number, r.amount.amount, r.open.amount, r.due_on) for r in c2] == [
            ("transfer_debit", "TD-2026-00001", D("500.00"), D("500.00"), date(2026, 4, 30))]
        pair = docs.load(conn, old), docs.load(conn, new)
        assert (pair[0].related_id, pair[1].related_id, pair[1].source) == (new, old, "INV-2026-00001")
        j = journal_lines.c
        assert conn.execute(sa.select(j.account, j.customer_id, j.debit_minor, j.credit_minor)
                            .where(j.document_id == old).order_by(j.line_no)).all() == [
            ("1122", pair[1].customer_id, 50000, 0), ("1122", pair[0].customer_id, 0, 50000)]
        receipt(conn, "C2", date(2026, 3, 20), "500")
        suggest.apply(conn, suggest.propose(conn, "fifo", customer="C2"), USER)
        assert open_of(conn, "C2")["TD-2026-00001"] == D("0.00")
        with pytest.raises(XlarError):   # the invoice is settled on C1's side: nothing left to move
            settle.transfer(conn, "INV-2026-00001", "C2", date(2026, 3, 21), USER)
        ar_agrees_with_open_items(conn)
        assert inv


def test_an_unapplied_receipt_moves_to_another_customer_and_is_refunded_in_part(store):
    with store.write() as conn:
        customer(conn, "C1")
        customer(conn, "C2")
        receipt(conn, "C1", MAR, "800")   # C2's money, booked to C1
        settle.transfer(conn, "RC-2026-00001", "C2", date(2026, 3, 5), USER, amount=D("600"))
        assert [(b.customer, b.balance) for b in reports.balances(conn, date(2026, 3, 31))] == [
            ("C1", D("-200.00")), ("C2", D("-600.00"))]
        refund = settle.refund(conn, "RC-2026-00001", date(2026, 3, 6), USER, method="bank", reason="overpaid")
        assert journal(conn, refund) == [("1122", D(200), 0, D(200), 0), ("1002", 0, D(200), 0, D(200))]
        assert [(b.customer, b.balance) for b in reports.balances(conn, date(2026, 3, 31))] == [
            ("C1", D("0.00")), ("C2", D("-600.00"))]
        with pytest.raises(InvalidAllocation, match="has 0.00 CNY open; cannot refund"):
            settle.refund(conn, "RC-2026-00001", date(2026, 3, 6), USER, amount=D("1"))
        ar_agrees_with_open_items(conn)


def test_netting_clears_both_sides(store):
    with store.write() as conn:
        save_customer(conn, Customer("V1", "Vendor-customer Ltd.", "CNY", vendor_code="S-001"), USER)
        customer(conn, "C1")
        invoice(conn, "V1", MAR, line("1", "300"), due=date(2026, 3, 31))
        invoice(conn, "V1", date(2026, 3, 2), line("1", "200"), due=date(2026, 4, 30))
        conn.execute(payables.insert(), [
            {"customer_id": 1, "number": "P-1", "payable_on": MAR, "due_on": date(2026, 3, 20), "currency": "CNY",
             "amount_minor": 25000, "created_by": USER},
            {"customer_id": 1, "number": "P-2", "payable_on": MAR, "due_on": date(2026, 4, 20), "currency": "CNY",
             "amount_minor": 10000, "created_by": USER}])
        with pytest.raises(InvalidDocument, match="has no vendor code"):
            settle.net(conn, "C1", date(2026, 3, 10), USER)
        nt = settle.net(conn, "V1", date(2026, 3, 10), USER)
        assert number(conn, nt) == "NT-2026-00001"
        assert journal(conn, nt) == [("2202", D(350), 0, D(350), 0), ("1122", 0, D(350), 0, D(350))]
        assert open_of(conn, "V1") == {"INV-2026-00001": D("0.00"), "INV-2026-00002": D("150.00"),
                                       "NT-2026-00001": D("0.00")}
        assert settle.netted_of(conn, [1, 2]) == {1: 25000, 2: 10000}
        with pytest.raises(InvalidAllocation, match="payables 0.00"):
            settle.net(conn, "V1", date(2026, 3, 11), USER)
        settle.void(conn, "NT-2026-00001", date(2026, 3, 12), USER, "netting agreed in error")
        assert settle.netted_of(conn, [1, 2]) == {1: 0, 2: 0}
        assert open_of(conn, "V1")["INV-2026-00001"] == D("300.00")
        ar_agrees_with_open_items(conn)


def test_installments_are_matched_installment_by_installment(store):
    with store.write() as conn:
        customer(conn, "C1")
        conn.execute(installment_terms.insert(), [
            {"code": "3X", "period_no": n, "percent": D("0.333333") if n < 3 else D("0.333334"),
             "offset_months": n, "offset_days": 0} for n in (1, 2, 3)])
        docs.post(conn, docs.create_draft(conn, docs.DraftDocument(
            DocKind.INVOICE, "C1", MAR, (line("1", "300"),), installment_terms="3X"), USER), USER)
        invoice(conn, "C1", date(2026, 2, 1), line("1", "50"))   # older, but not in installments
        receipt(conn, "C1", date(2026, 4, 5), "150")
        proposals = suggest.propose(conn, "installment", customer="C1")
        assert [(p.debit.number, p.debit.installment_no, p.amount) for p in proposals] == [
            ("INV-2026-00001", 1, D("100.00")), ("INV-2026-00001", 2, D("50.00"))]
        suggest.apply(conn, proposals, USER)
        assert open_of(conn, "C1") == {"INV-2026-00001": D("0.00"), "INV-2026-00001#2": D("50.00"),
                                       "INV-2026-00001#3": D("100.00"), "INV-2026-00002": D("50.00"),
                                       "RC-2026-00001": D("0.00")}


def test_matching_by_product_pays_the_lines_of_the_same_item(store):
    with store.write() as conn:
        customer(conn, "C1")
        write_settings(conn, {"match_mode": "product"}, "setup")
        invoice(conn, "C1", MAR, line("2", "100", item="A"), line("1", "300", item="B"))
        invoice(conn, "C1", date(2026, 3, 2), line("1", "80", item="A"))
        cn = docs.create_draft(conn, docs.DraftDocument(DocKind.CREDIT_NOTE, "C1", date(2026, 3, 5),
                                                        (line("1", "250", item="A"),)), USER)
        docs.post(conn, cn, USER)
        proposals = suggest.propose(conn, "auto", customer="C1")
        assert [(p.debit.number, p.item, p.amount, p.method) for p in proposals] == [
            ("INV-2026-00001", "A", D("200.00"), "product"), ("INV-2026-00002", "A", D("50.00"), "product")]
        suggest.apply(conn, proposals, USER)
        assert open_of(conn, "C1")["INV-2026-00001"] == D("300.00")   # item B still owed
        inv1 = conn.execute(sa.select(open_items.c.id).where(open_items.c.document_id == 1)).scalar_one()
        receipt(conn, "C1", date(2026, 3, 6), "10")
        credit = conn.execute(sa.select(open_items.c.id).where(open_items.c.document_id == 4)).scalar_one()
        with pytest.raises(XlarError, match="has 0.00 CNY of item A open"):
            matching.allocate(conn, [matching.Match(inv1, credit, D("10"), "A")], method="product", user=USER)


def test_nothing_is_settled_in_a_closed_period(store):
    with store.write() as conn:
        three_invoices(conn)
        customer(conn, "C2")
        receipt(conn, "C1", date(2026, 3, 10), "100")
        write_settings(conn, {"write_off_tolerance": "5"}, APPROVER)
        set_periods(conn, closed="2026-03", current_period="2026-04", user=APPROVER)   # as a close would
        for attempt in (lambda: settle.write_off(conn, "INV-2026-00001", D("1"), "ROUNDING", date(2026, 3, 20), USER),
                        lambda: settle.refund(conn, "RC-2026-00001", date(2026, 3, 20), USER),
                        lambda: settle.transfer(conn, "INV-2026-00001", "C2", date(2026, 3, 20), USER)):
            with pytest.raises(XlarError, match="in period 2026-03 which is closed"):
                attempt()
        batch = suggest.apply(conn, suggest.propose(conn, "fifo", customer="C1"), USER).batches[0]
        effective = conn.execute(sa.text(f"select distinct effective_on from allocations where batch_id = {batch}"))
        assert [str(d) for d, in effective] == ["2026-04-01"]   # a match moves to the first open day


def test_an_approver_who_changed_a_receipt_cannot_approve_it(store):
    with store.write() as conn:
        customer(conn, "C1")
        approver(conn)
        rec = receipt(conn, "C1", MAR, "150", post=False)
        docs.update_draft(conn, rec, docs.DraftDocument(DocKind.RECEIPT, "C1", MAR, amount=D("400")), APPROVER)
        docs.post(conn, rec, USER)
        with pytest.raises(NotAllowed, match="carol changed receipt RC-2026-00001 and cannot also approve it"):
            receipts.approve(conn, [rec], APPROVER)


def test_a_transfer_is_voided_with_its_counterpart_and_settlements_only_so(store):
    from xlar.domain.errors import Immutable

    with store.write() as conn:
        customer(conn, "C1")
        customer(conn, "C2")
        invoice(conn, "C1", MAR, line("1", "500"))
        old, _new = settle.transfer(conn, "INV-2026-00001", "C2", date(2026, 3, 10), USER)
        with pytest.raises(Immutable, match="xlar void TC-2026-00001"):
            docs.void(conn, old, date(2026, 3, 11), USER, "no")
        assert settle.void(conn, "TC-2026-00001", date(2026, 3, 11), USER, "wrong customer") == [
            "RV-2026-00001", "RV-2026-00002"]
        assert [(b.customer, b.balance) for b in reports.balances(conn, date(2026, 3, 31))] == [
            ("C1", D("500.00")), ("C2", D("0.00"))]
        ar_agrees_with_open_items(conn)
        customer(conn, "U1", "USD")
        invoice(conn, "U1", MAR, line("1", "100"), rate="7.2")
        matching.match_fifo(conn, receipt(conn, "U1", date(2026, 3, 5), "100", rate="7.1"), user=USER)
        fx = conn.execute(sa.select(documents.c.id).where(documents.c.kind == "fx_realized")).scalar_one()
        with pytest.raises(Immutable, match="exchange difference of match batch .*: undo the match"):
            docs.void(conn, fx, date(2026, 3, 6), USER, "no")
