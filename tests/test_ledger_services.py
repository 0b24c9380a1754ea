"""Posting, voiding, matching and the ledger's answers, on SQLite and PostgreSQL."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.books import APPROVER, USER, customer, invoice, item_of, line, receipt
from xlar.domain.documents import DocKind
from xlar.domain.errors import (
    Immutable,
    InvalidAllocation,
    InvalidDocument,
    OverAllocation,
    PeriodClosed,
)
from xlar.reports import ledger as reports
from xlar.services import documents as docs
from xlar.services import matching, receipts
from xlar.services.matching import Match
from xlar.store.settings import read_settings, set_periods
from xlar.store.tables import (
    allocation_batches,
    allocations,
    audit_log,
    document_lines,
    documents,
    journal_lines,
    open_items,
)

D = Decimal


def balance(conn, cust, as_of):
    rows = reports.balances(conn, as_of, cust)
    return rows[0].balance if rows else D(0)


def open_of(conn, cust, as_of):
    return {r.number: r.open.amount for r in reports.open_items(conn, cust, as_of, include_settled=True)}


def test_three_dimes_paid_by_thirty_cents_leave_exactly_zero(store):
    with store.write() as conn:
        customer(conn, "C1")
        inv = invoice(conn, "C1", date(2026, 3, 1), line("1", "0.10"), line("1", "0.10"), line("1", "0.10"))
        rec = receipt(conn, "C1", date(2026, 3, 5), "0.30")
        matching.match_fifo(conn, rec, user=USER)
        stored = conn.execute(sa.select(documents.c.amount_minor).where(documents.c.id == inv)).scalar_one()
        report = reports.aging(conn, date(2026, 3, 31))
    assert stored == 30 and isinstance(stored, int)
    row, = report.rows
    assert row.balance == D("0.00") and set(row.buckets.values()) == {D(0)}
    assert str(row.balance) == "0.00"


def test_posting_numbers_documents_and_writes_balanced_journal(store):
    with store.write() as conn:
        customer(conn, "C1", terms="NET30")
        draft = invoice(conn, "C1", date(2026, 3, 10), line("3", "33.333", "0.13"), post=False)
        assert conn.execute(sa.select(documents.c.number).where(documents.c.id == draft)).scalar() is None
        number = docs.post(conn, draft, USER)
        second = docs.load(conn, invoice(conn, "C1", date(2026, 3, 11), line("1", "5"))).number
        doc = docs.load(conn, draft)
        journal = conn.execute(sa.select(journal_lines).where(journal_lines.c.document_id == draft)
                               .order_by(journal_lines.c.line_no)).mappings().all()
    assert (number, second) == ("INV-2026-00001", "INV-2026-00002")
    # 3 x 33.333 = 99.999 -> 100.00 net; tax 13.00; due 30 days later
    assert (doc.net_minor, doc.tax_minor, doc.amount_minor) == (10000, 1300, 11300)
    assert doc.due_on == date(2026, 4, 9)
    assert [(j["account"], j["debit_minor"], j["credit_minor"]) for j in journal] == [
        ("1122", 11300, 0), ("6001", 0, 10000), ("222101", 0, 1300)]


def test_journal_lines_balance_for_every_document(store):
    with store.write() as conn:
        customer(conn, "C1")
        customer(conn, "U1", "USD")
        invoice(conn, "C1", date(2026, 3, 1), line("7", "13.13", "0.13"), line("1", "0.01", "0.06"))
        invoice(conn, "U1", date(2026, 3, 2), line("3", "33.33", "0.13"), rate="7.123457")
        invoice(conn, "U1", date(2026, 3, 2), line("1", "10"), rate="7.1", kind=DocKind.CREDIT_NOTE)
        receipt(conn, "U1", date(2026, 3, 3), "99.99", rate="7.2")
        receipt(conn, "C1", date(2026, 3, 3), "10")
        docs.void(conn, invoice(conn, "C1", date(2026, 3, 4), line("1", "9.99", "0.13")), date(2026, 3, 5), USER, "typo")
        sums = conn.execute(
            sa.select(journal_lines.c.document_id, sa.func.sum(journal_lines.c.debit_minor),
                      sa.func.sum(journal_lines.c.credit_minor), sa.func.sum(journal_lines.c.base_debit_minor),
                      sa.func.sum(journal_lines.c.base_credit_minor))
            .group_by(journal_lines.c.document_id)).all()
        posted = conn.execute(sa.select(sa.func.count()).select_from(documents)
                              .where(documents.c.status != "draft")).scalar()
    assert len(sums) == posted == 7
    for doc_id, dr, cr, base_dr, base_cr in sums:
        assert (dr, base_dr) == (cr, base_cr), f"document {doc_id} does not balance"


def test_a_posted_document_cannot_be_edited_or_deleted(store):
    with store.write() as conn:
        customer(conn, "C1")
        doc_id = invoice(conn, "C1", date(2026, 3, 1), line("1", "100"))
        draft = docs.DraftDocument(DocKind.INVOICE, "C1", date(2026, 3, 1), (line("1", "1"),))
        with pytest.raises(Immutable, match="INV-2026-00001 is posted"):
            docs.update_draft(conn, doc_id, draft, USER)
        with pytest.raises(Immutable):
            docs.delete_draft(conn, doc_id, USER)
        with pytest.raises(Immutable, match="already posted"):
            docs.post(conn, doc_id, USER)
    # the store itself refuses, whoever asks
    statements = [
        documents.update().where(documents.c.id == doc_id).values(amount_minor=1),
        documents.update().where(documents.c.id == doc_id).values(status="draft"),
        documents.delete().where(documents.c.id == doc_id),
        document_lines.insert().values(document_id=doc_id, line_no=2, item="X", qty=Decimal(1), unit_price=Decimal(1),
                                       tax_rate=Decimal(0), net_minor=100, tax_minor=0),
        document_lines.update().where(document_lines.c.document_id == doc_id).values(qty=Decimal(2)),
        document_lines.delete().where(document_lines.c.document_id == doc_id),
        open_items.update().values(amount_minor=1),
        open_items.delete(),
        journal_lines.delete(),
        audit_log.delete(),
    ]
    for stmt in statements:
        with pytest.raises(sa.exc.DBAPIError, match="XLAR-E020"), store.write() as conn:
            conn.execute(stmt)
    with store.read() as conn:
        assert docs.load(conn, doc_id).amount_minor == 10000


def test_drafts_can_be_changed_and_deleted(store):
    with store.write() as conn:
        customer(conn, "C1")
        doc_id = invoice(conn, "C1", date(2026, 3, 1), line("1", "100"), post=False)
        docs.update_draft(conn, doc_id, docs.DraftDocument(
            DocKind.INVOICE, "C1", date(2026, 3, 2), (line("2", "100"),)), USER)
        assert docs.load(conn, doc_id).amount_minor == 20000
        docs.delete_draft(conn, doc_id, USER)
        actions = conn.execute(sa.select(audit_log.c.action, audit_log.c.user_name)
                               .where(audit_log.c.entity == "document")).all()
    assert actions == [("create", USER), ("update", USER), ("delete", USER)]


def test_voiding_posts_a_reversal_and_keeps_history(store):
    with store.write() as conn:
        customer(conn, "C1")
        doc_id = invoice(conn, "C1", date(2026, 3, 1), line("1", "100"))
        with pytest.raises(InvalidDocument, match="reason"):
            docs.void(conn, doc_id, date(2026, 3, 10), USER, " ")
        reversal = docs.void(conn, doc_id, date(2026, 3, 10), USER, "wrong customer")
        with pytest.raises(Immutable, match="void"):
            docs.void(conn, doc_id, date(2026, 3, 11), USER, "again")
        assert docs.load(conn, doc_id).status == "void"
        assert docs.load(conn, reversal).number == "RV-2026-00001"
        assert balance(conn, "C1", date(2026, 3, 9)) == D("100.00")
        assert balance(conn, "C1", date(2026, 3, 10)) == D("0.00")
        assert reports.open_items(conn, "C1", date(2026, 3, 31)) == []


def test_a_matched_document_is_unmatched_before_it_is_voided(store):
    with store.write() as conn:
        customer(conn, "C1")
        doc_id = invoice(conn, "C1", date(2026, 3, 1), line("1", "100"))
        batch = matching.match_fifo(conn, receipt(conn, "C1", date(2026, 3, 2), "40"), user=USER)
        with pytest.raises(InvalidAllocation, match=f"batches {batch}"):
            docs.void(conn, doc_id, date(2026, 3, 10), USER, "wrong")
        matching.undo(conn, batch, on=date(2026, 3, 10), user=USER)
        docs.void(conn, doc_id, date(2026, 3, 10), USER, "wrong")
        assert balance(conn, "C1", date(2026, 3, 31)) == D("-40.00")


def test_a_receipt_dated_after_the_as_of_date_does_not_reduce_aging(store):
    with store.write() as conn:
        customer(conn, "C1")
        invoice(conn, "C1", date(2026, 1, 10), line("1", "500"), due=date(2026, 2, 9))
        matching.match_fifo(conn, receipt(conn, "C1", date(2026, 3, 20), "500"), user=USER)
        before = reports.aging(conn, date(2026, 3, 15)).rows[0]
        after = reports.aging(conn, date(2026, 3, 20)).rows[0]
    assert before.balance == D("500.00") and before.buckets["31-60"] == D("500.00")
    assert before.buckets["unapplied"] == 0
    assert after.balance == 0 and set(after.buckets.values()) == {D(0)}


def test_undoing_a_match_restores_open_amounts_and_keeps_history(store):
    with store.write() as conn:
        customer(conn, "C1")
        invoice(conn, "C1", date(2026, 3, 1), line("1", "100"))
        invoice(conn, "C1", date(2026, 3, 2), line("1", "50"))
        batch = matching.match_fifo(conn, receipt(conn, "C1", date(2026, 3, 5), "120"), user=USER)
        matched = open_of(conn, "C1", date(2026, 3, 31))
        undo = matching.undo(conn, batch, on=date(2026, 3, 20), user=USER)
        assert open_of(conn, "C1", date(2026, 3, 19)) == matched
        assert open_of(conn, "C1", date(2026, 3, 20)) == {
            "INV-2026-00001": D("100.00"), "INV-2026-00002": D("50.00"), "RC-2026-00001": D("-120.00")}
        rows = conn.execute(sa.select(allocations.c.batch_id, allocations.c.amount_minor)
                            .order_by(allocations.c.id)).all()
        with pytest.raises(InvalidAllocation, match=f"already undone by batch {undo}"):
            matching.undo(conn, batch, on=date(2026, 3, 21), user=USER)
    assert matched == {"INV-2026-00001": D("0.00"), "INV-2026-00002": D("30.00"), "RC-2026-00001": D("0.00")}
    assert rows == [(batch, 10000), (batch, 2000), (undo, -10000), (undo, -2000)]


def test_over_allocation_is_impossible(store):
    with store.write() as conn:
        customer(conn, "C1")
        customer(conn, "C2")
        inv = item_of(conn, invoice(conn, "C1", date(2026, 3, 1), line("1", "100")))
        rec = item_of(conn, receipt(conn, "C1", date(2026, 3, 2), "80"))
        other = item_of(conn, receipt(conn, "C2", date(2026, 3, 2), "80"))
        usd_doc = docs.create_draft(conn, docs.DraftDocument(
            DocKind.RECEIPT, "C1", date(2026, 3, 2), amount=D("80"), currency="USD", fx_rate=D("7")), USER)
        docs.post(conn, usd_doc, USER)
        usd = item_of(conn, usd_doc)
        with pytest.raises(InvalidAllocation, match="RC-2026-00003 is not approved yet"):
            matching.allocate(conn, [Match(inv, usd, D("1"))], method="manual", user=USER)
        receipts.approve(conn, [usd_doc], APPROVER)
        with pytest.raises(OverAllocation, match="RC-2026-00001 has 80.00 CNY open"):
            matching.allocate(conn, [Match(inv, rec, D("80.01"))], method="manual", user=USER)
        with pytest.raises(OverAllocation):  # two matches that are each fine but not together
            matching.allocate(conn, [Match(inv, rec, D("50")), Match(inv, rec, D("50"))], method="manual", user=USER)
        with pytest.raises(InvalidAllocation, match="of C2 cannot pay"):
            matching.allocate(conn, [Match(inv, other, D("1"))], method="manual", user=USER)
        with pytest.raises(InvalidAllocation, match="in USD cannot pay"):
            matching.allocate(conn, [Match(inv, usd, D("1"))], method="manual", user=USER)
        with pytest.raises(InvalidAllocation, match="is a credit"):
            matching.allocate(conn, [Match(rec, inv, D("1"))], method="manual", user=USER)
        matching.allocate(conn, [Match(inv, rec, D("80"))], method="manual", user=USER)
        assert open_of(conn, "C1", date(2026, 3, 31)) == {"INV-2026-00001": D("20.00"), "RC-2026-00001": D("0.00"),
                                                              "RC-2026-00003": D("-80.00")}
        assert conn.execute(sa.select(sa.func.count()).select_from(allocations)).scalar() == 1


def test_a_match_never_borrows_from_an_undo_that_takes_effect_later_it_waits_for_it(store):
    """Issue 21: the right receipt matched after an undo takes effect on the undo's date (not on
    its documents' date, while the first match still held), and says so; the past stays as it was."""
    with store.write() as conn:
        customer(conn, "C1")
        inv = item_of(conn, invoice(conn, "C1", date(2026, 3, 1), line("1", "100")))
        first = item_of(conn, receipt(conn, "C1", date(2026, 3, 5), "100"))
        second = item_of(conn, receipt(conn, "C1", date(2026, 3, 10), "100"))
        batch = matching.allocate(conn, [Match(inv, first, D("100"))], method="manual", user=USER)
        before = open_of(conn, "C1", date(2026, 3, 20))
        matching.undo(conn, batch, on=date(2026, 3, 25), user=USER)
        rematch = matching.allocate(conn, [Match(inv, second, D("100"))], method="manual", user=USER)
        [(on, memo)] = conn.execute(sa.select(allocations.c.effective_on, allocation_batches.c.memo)
                                    .join(allocation_batches, allocation_batches.c.id == allocations.c.batch_id)
                                    .where(allocations.c.batch_id == rematch)).all()
        assert on == date(2026, 3, 25)
        assert memo == "takes effect 2026-03-25: invoice INV-2026-00001 has room for it from then"
        assert open_of(conn, "C1", date(2026, 3, 20)) == before     # as recorded: the first receipt paid it
        assert open_of(conn, "C1", date(2026, 3, 31)) == {"INV-2026-00001": D("0.00"), "RC-2026-00001": D("-100.00"),
                                                              "RC-2026-00002": D("0.00")}
        # more than is open after every move is still refused
        with pytest.raises(OverAllocation, match="INV-2026-00001 has 0.00 CNY open; cannot apply 100.01"):
            matching.allocate(conn, [Match(inv, first, D("100.01"))], method="manual", user=USER)


def test_fifo_pays_the_oldest_due_first(store):
    with store.write() as conn:
        customer(conn, "C1")
        invoice(conn, "C1", date(2026, 3, 1), line("1", "100"), due=date(2026, 4, 30))
        invoice(conn, "C1", date(2026, 3, 2), line("1", "100"), due=date(2026, 3, 31))
        invoice(conn, "C1", date(2026, 3, 3), line("1", "100"), due=date(2026, 4, 15))
        matching.match_fifo(conn, receipt(conn, "C1", date(2026, 3, 20), "150"), user=USER)
        assert open_of(conn, "C1", date(2026, 3, 31)) == {
            "INV-2026-00001": D("100.00"), "INV-2026-00002": D("0.00"), "INV-2026-00003": D("50.00"),
            "RC-2026-00001": D("0.00")}
        assert matching.match_fifo(conn, receipt(conn, "C1", date(2026, 3, 21), "1", post=True), user=USER)


def test_foreign_currency_items_clear_exactly_in_both_currencies(store):
    with store.write() as conn:
        customer(conn, "U1", "USD")
        invoice(conn, "U1", date(2026, 3, 1), line("1", "100"), rate="7.1")
        for on in (5, 6, 7):
            matching.match_fifo(conn, receipt(conn, "U1", date(2026, 3, on), "33.33", rate="7.2"), user=USER)
        partly = reports.aging(conn, date(2026, 3, 31)).rows[0]
        matching.match_fifo(conn, receipt(conn, "U1", date(2026, 3, 8), "0.01", rate="7.3"), user=USER)
        cleared = reports.aging(conn, date(2026, 3, 31)).rows[0]
    assert partly.balance == D("0.01") and partly.base_balance == D("0.07")
    assert (cleared.balance, cleared.base_balance) == (0, 0)


def test_nothing_is_posted_or_matched_in_a_closed_period(store):
    with store.write() as conn:
        customer(conn, "C1")
        inv = invoice(conn, "C1", date(2026, 2, 20), line("1", "100"))
        rec = receipt(conn, "C1", date(2026, 2, 25), "100")
        draft = invoice(conn, "C1", date(2026, 2, 26), line("1", "1"), post=False)
        set_periods(conn, closed="2026-02", current_period="2026-03", user=APPROVER)   # as a close would
        with pytest.raises(PeriodClosed, match=r"invoice draft #\d+ is dated 2026-02-26, in period 2026-02 which is closed"):
            docs.post(conn, draft, USER)
        with pytest.raises(PeriodClosed):
            invoice(conn, "C1", date(2026, 2, 28), line("1", "1"))
        with pytest.raises(PeriodClosed, match="invoice INV-2026-00001 cannot be voided: it is dated 2026-02-20"):
            docs.void(conn, inv, date(2026, 3, 2), USER, "late")
        # a match of two old documents takes effect on the first open day
        matching.match_fifo(conn, rec, user=USER)
        on = conn.execute(sa.select(allocations.c.effective_on)).scalar_one()
        assert read_settings(conn).closed_period == "2026-02"
    assert on == date(2026, 3, 1)


def test_every_change_is_audited_with_its_user(store):
    with store.write() as conn:
        customer(conn, "C1")
        matching.match_fifo(conn, receipt(conn, "C1", date(2026, 3, 2), "5"), user=USER)  # nothing to match
        invoice(conn, "C1", date(2026, 3, 1), line("1", "100"))
        matching.match_fifo(conn, receipt(conn, "C1", date(2026, 3, 3), "5"), user="bob")
        log = conn.execute(sa.select(audit_log.c.user_name, audit_log.c.action, audit_log.c.entity)
                           .order_by(audit_log.c.id)).all()
    assert ("alice", "create", "customer") in log
    assert log[-1] == ("bob", "allocate", "allocation_batch")
    assert sum(1 for entry in log if entry[1] == "post") == 3


def test_foreign_documents_need_a_rate_and_base_ones_refuse_one(store):
    with store.write() as conn:
        customer(conn, "U1", "USD")
        customer(conn, "C1")
        with pytest.raises(InvalidDocument, match="needs an exchange rate to CNY"):
            invoice(conn, "U1", date(2026, 3, 1), line("1", "1"))
        with pytest.raises(InvalidDocument, match="rate 1"):
            invoice(conn, "C1", date(2026, 3, 1), line("1", "1"), rate="7")
        with pytest.raises(InvalidDocument, match="due date"):
            invoice(conn, "C1", date(2026, 3, 1), line("1", "1"), due=date(2026, 2, 1))
