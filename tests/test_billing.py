"""Billing as E-Fei runs it, on SQLite and PostgreSQL: cycles, head offices, returns, deposits,
installments, revenue at delivery (both ways of settling the difference), credit limits."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.books import USER, customer, monthly_thirds, receipt
from xlar.domain.customers import Customer
from xlar.domain.documents import DocKind, LineInput
from xlar.domain.errors import XlarError
from xlar.reports import billing as reports
from xlar.reports import ledger as ledger_reports
from xlar.services import billing, matching
from xlar.services import documents as docs
from xlar.services.billed import OverBilled
from xlar.services.credit import CreditLimitExceeded, exposure
from xlar.services.customers import save_customer
from xlar.services.deliveries import DeliveryLine, add_deliveries
from xlar.store.settings import read_settings, write_settings
from xlar.store.tables import (
    deliveries,
    document_lines,
    documents,
    journal_lines,
    open_items,
    orders,
)

D = Decimal
JUNE = date(2026, 6, 1)


def deliver(conn, number, on, cust, qty="10", price="100", item="X", kind="delivery", order=None, tax="0.13",
            line=1):
    result = add_deliveries(conn, [DeliveryLine(number, line, cust, on, item, D(qty), kind, D(price), D(tax),
                                                order=order)], USER)[0]
    if isinstance(result, XlarError):
        raise result
    return result


def generated(conn, through, **kw):
    result = billing.generate(conn, through, USER, **kw)
    assert not result.problems, result.problems
    return [docs.load(conn, doc_id).columns() for doc_id, _ in result.created]


def lines_of(conn, doc_id):
    ln = document_lines.c
    return conn.execute(sa.select(ln.delivery, ln.delivery_line, ln.qty).where(ln.document_id == doc_id)
                        .order_by(ln.line_no)).all()


def journal(conn, doc_id):
    """Account -> (debit, credit) in minor units, summed."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for account, debit, credit in conn.execute(sa.select(journal_lines.c.account, journal_lines.c.debit_minor,
                                                         journal_lines.c.credit_minor)
                                               .where(journal_lines.c.document_id == doc_id)):
        out[account][0] += debit
        out[account][1] += credit
    return {k: tuple(v) for k, v in out.items()}


def balance(conn, code, on):
    rows = ledger_reports.balances(conn, on, code)
    return rows[0].balance if rows else D(0)


def aging_adds_up(conn, on):
    for row in ledger_reports.aging(conn, on).rows:
        assert sum(row.buckets.values()) == row.balance


def test_efei_closing_day_25_cycle(store):
    """Closing day 25: deliveries of 1, 10, 18, 20 June are June's invoice, 28 June is July's."""
    with store.write() as conn:
        customer(conn, "C1", terms="NET30", closing_day=25)
        for day, no in zip((1, 10, 18, 20, 28), range(1, 6), strict=True):
            deliver(conn, f"SH{no}", date(2026, 6, day), "C1", qty=str(no), price="10")
        june = generated(conn, date(2026, 6, 30))
        assert [(d["kind"], d["doc_on"], d["due_on"], d["status"]) for d in june] == [
            ("invoice", date(2026, 6, 25), date(2026, 7, 25), "draft")]
        assert [r[0] for r in lines_of(conn, june[0]["id"])] == ["SH1", "SH2", "SH3", "SH4"]
        assert june[0]["net_minor"] == (1 + 2 + 3 + 4) * 1000 and june[0]["tax_minor"] == 1300
        july = generated(conn, date(2026, 7, 31))
        assert [(d["doc_on"], [r[0] for r in lines_of(conn, d["id"])]) for d in july] == [
            (date(2026, 7, 25), ["SH5"])]
        assert generated(conn, date(2026, 7, 31)) == []        # nothing is billed twice
        billed = dict(conn.execute(sa.select(deliveries.c.number, deliveries.c.billed_qty)).all())
        assert billed == {f"SH{n}": D(n) for n in range(1, 6)}


def test_month_end_cycle_without_closing_day(store):
    with store.write() as conn:
        customer(conn, "C2")
        deliver(conn, "A1", date(2026, 6, 30), "C2")
        deliver(conn, "A2", date(2026, 7, 1), "C2")
        assert generated(conn, date(2026, 6, 29)) == []          # June's cycle has not ended
        assert [d["doc_on"] for d in generated(conn, date(2026, 7, 31))] == [date(2026, 6, 30), date(2026, 7, 31)]


def test_head_office_gets_one_invoice_for_five_subsidiaries(store):
    with store.write() as conn:
        save_customer(conn, Customer("HQ", "Head office", "CNY", closing_day=20), USER)
        for n in range(1, 6):
            save_customer(conn, Customer(f"S{n}", f"Branch {n}", "CNY", parent_code="HQ", closing_day=5), USER)
            deliver(conn, f"B{n}", date(2026, 6, 10 + n), f"S{n}", qty="1", price=str(100 * n), tax="0")
        deliver(conn, "B6", date(2026, 6, 21), "S1", qty="1", price="50", tax="0")
        made = generated(conn, date(2026, 6, 30))
        hq = conn.execute(sa.text("SELECT id FROM customers WHERE code = 'HQ'")).scalar()
        # the head office's cycle (closing day 20) decides, not the branches' (5): the 21 June delivery is July's
        assert [(d["customer_id"], d["doc_on"], d["net_minor"]) for d in made] == [
            (hq, date(2026, 6, 20), (100 + 200 + 300 + 400 + 500) * 100)]
        assert [r[0] for r in lines_of(conn, made[0]["id"])] == ["B1", "B2", "B3", "B4", "B5"]
        later = generated(conn, date(2026, 7, 20))
        assert [(d["customer_id"], d["net_minor"]) for d in later] == [(hq, 5000)]
        assert generated(conn, date(2026, 7, 20), customer="S1") == []


def test_partial_billing_by_hand_then_generation_bills_the_rest(store):
    with store.write() as conn:
        customer(conn, "C3")
        deliver(conn, "P1", date(2026, 6, 3), "C3", qty="10", price="50")
        manual = docs.create_draft(conn, docs.DraftDocument(
            DocKind.INVOICE, "C3", date(2026, 6, 5), (LineInput("X", D(4), D(50), D("0.13"), "", "P1", 1),)), USER)
        docs.post(conn, manual, USER)
        with pytest.raises(OverBilled, match="delivery P1 line 1: 11 would be billed of 10 delivered"), \
                conn.begin_nested():
                docs.create_draft(conn, docs.DraftDocument(
                    DocKind.INVOICE, "C3", date(2026, 6, 6), (LineInput("X", D(7), D(50), D(0), "", "P1", 1),)), USER)
        rest = generated(conn, date(2026, 6, 30))
        assert [r[2] for r in lines_of(conn, rest[0]["id"])] == [D(6)]
        # voiding the hand-made invoice frees its 4 for billing again: void and reissue
        docs.void(conn, manual, date(2026, 6, 30), USER, "wrong price")
        assert conn.execute(sa.select(deliveries.c.billed_qty)).scalar() == D(6)
        again = generated(conn, date(2026, 6, 30))
        assert [r[2] for r in lines_of(conn, again[0]["id"])] == [D(4)]


def test_returns_net_on_the_cycle_invoice_or_become_a_credit_note_on_the_original(store):
    with store.write() as conn:
        customer(conn, "C4")
        deliver(conn, "D1", date(2026, 6, 3), "C4", qty="10", price="10", tax="0")
        deliver(conn, "R1", date(2026, 6, 9), "C4", qty="2", price="10", tax="0", kind="return")
        june = generated(conn, date(2026, 6, 30))
        assert [(d["kind"], d["amount_minor"]) for d in june] == [("invoice", 8000)]
        assert [r[2] for r in lines_of(conn, june[0]["id"])] == [D(10), D(-2)]
        number = docs.post(conn, june[0]["id"], USER)
        deliver(conn, "R2", date(2026, 7, 2), "C4", qty="3", price="10", tax="0", kind="return")
        july = generated(conn, date(2026, 7, 31))
        assert [(d["kind"], d["amount_minor"], d["related_id"]) for d in july] == [
            ("credit_note", 3000, june[0]["id"])]
        docs.post(conn, july[0]["id"], USER)
        # the red invoice is applied to the invoice it credits
        assert balance(conn, "C4", date(2026, 7, 31)) == D("50.00")
        opens = {r.number: r.open.amount for r in ledger_reports.open_items(conn, "C4", date(2026, 7, 31))}
        assert opens == {number: D("50.00")}


def test_deposit_flow_ends_at_zero_with_the_deposit_offset_on_the_final_invoice(store):
    with store.write() as conn:
        customer(conn, "C5")
        conn.execute(orders.insert().values(number="O1", customer_id=sa.select(sa.text("id FROM customers WHERE "
                                                                                       "code = 'C5'")).scalar_subquery(),
                                            order_on=date(2026, 6, 1), amount_minor=113000, currency="CNY",
                                            deposit_pct=D("0.1")))
        pre = generated(conn, date(2026, 6, 1))
        assert [(d["kind"], d["amount_minor"], d["order_number"]) for d in pre] == [("deposit_invoice", 11300, "O1")]
        docs.post(conn, pre[0]["id"], USER)
        assert journal(conn, pre[0]["id"]) == {"1122": (11300, 0), "2203": (0, 11300)}
        assert balance(conn, "C5", date(2026, 6, 1)) == D("113.00")
        paid = receipt(conn, "C5", date(2026, 6, 2), "113.00")
        matching.match_fifo(conn, paid, user=USER)
        assert balance(conn, "C5", date(2026, 6, 2)) == D("0.00")
        aging_adds_up(conn, date(2026, 6, 2))
        deliver(conn, "S1", date(2026, 6, 15), "C5", qty="10", price="100", order="O1")
        final = generated(conn, date(2026, 6, 30))
        assert [(d["kind"], d["amount_minor"]) for d in final] == [("invoice", 113000)]
        docs.post(conn, final[0]["id"], USER)
        offset = conn.execute(sa.select(documents).where(documents.c.kind == "deposit_offset")).mappings().one()
        assert (offset["amount_minor"], offset["related_id"], offset["order_number"]) == (11300, final[0]["id"], "O1")
        assert journal(conn, offset["id"]) == {"2203": (11300, 0), "1122": (0, 11300)}
        assert balance(conn, "C5", date(2026, 6, 30)) == D("1017.00")
        inv = docs.load(conn, final[0]["id"])
        assert {r.number: r.open.amount for r in ledger_reports.open_items(conn, "C5", date(2026, 6, 30))} == {
            inv.number: D("1017.00")}
        aging_adds_up(conn, date(2026, 6, 30))
        rest = receipt(conn, "C5", date(2026, 7, 10), "1017.00")
        matching.match_fifo(conn, rest, user=USER)
        assert balance(conn, "C5", date(2026, 7, 10)) == D("0.00")
        assert ledger_reports.open_items(conn, "C5", date(2026, 7, 10)) == []
        advances = conn.execute(sa.select(sa.func.sum(journal_lines.c.debit_minor - journal_lines.c.credit_minor))
                                .where(journal_lines.c.account == "2203")).scalar()
        assert advances == 0


def test_installments_split_with_the_remainder_on_the_last(store):
    with store.write() as conn:
        customer(conn, "C6")
        monthly_thirds(conn)
        conn.execute(sa.text("INSERT INTO contracts (number, customer_id, sign_on, amount_minor, currency, "
                             "installment_terms, rev) SELECT 'K1', id, '2026-06-01', 10000, 'CNY', '3P', 1 "
                             "FROM customers WHERE code = 'C6'"))
        conn.execute(sa.text("INSERT INTO orders (number, customer_id, order_on, contract, rev) "
                             "SELECT 'O6', id, '2026-06-01', 'K1', 1 FROM customers WHERE code = 'C6'"))
        deliver(conn, "I1", date(2026, 6, 5), "C6", qty="1", price="100", tax="0", order="O6")
        made = generated(conn, date(2026, 6, 30))
        assert [(d["installment_terms"], d["order_number"]) for d in made] == [("3P", "O6")]
        docs.post(conn, made[0]["id"], USER)
        items = conn.execute(sa.select(open_items.c.installment_no, open_items.c.amount_minor, open_items.c.due_on)
                             .where(open_items.c.document_id == made[0]["id"]).order_by(open_items.c.installment_no)
                             ).all()
        assert items == [(1, 3333, date(2026, 6, 30)), (2, 3333, date(2026, 7, 30)), (3, 3334, date(2026, 8, 30))]
        receipt_id = receipt(conn, "C6", date(2026, 7, 1), "40.00")
        matching.match_fifo(conn, receipt_id, user=USER)
        report = reports.installment_execution(conn, date(2026, 7, 31), "K1")
        assert [(r.installment, r.scheduled, r.invoiced, r.received, r.outstanding) for r in report.itertuples()] == [
            (1, D("33.33"), D("33.33"), D("33.33"), D("0.00")),
            (2, D("33.33"), D("33.33"), D("6.67"), D("26.66")),
            (3, D("33.34"), D("33.34"), D("0.00"), D("33.34"))]
        aging_adds_up(conn, date(2026, 9, 30))


@pytest.mark.parametrize("mode", ["reverse", "difference"])
def test_revenue_at_delivery_settled_by_both_modes(store, mode):
    """Delivered 10 x 100.00 at 13%; invoiced at 105.00: the journal an accountant posts by hand."""
    with store.write() as conn:
        write_settings(conn, {"revenue_recognition": "delivery", "delivery_difference": mode}, USER)
        customer(conn, "C7")
        deliver(conn, "V1", date(2026, 6, 3), "C7", qty="10", price="100")
        accrual = conn.execute(sa.select(documents.c.id).where(documents.c.kind == "delivery")).scalar_one()
        assert journal(conn, accrual) == {"112299": (113000, 0), "6001": (0, 100000), "222102": (0, 13000)}
        inv = docs.create_draft(conn, docs.DraftDocument(
            DocKind.INVOICE, "C7", date(2026, 6, 25), (LineInput("X", D(10), D(105), D("0.13"), "", "V1", 1),)), USER)
        docs.post(conn, inv, USER)
        if mode == "reverse":     # 单到回冲: the delivery entry reversed in full, the invoice booked in full
            assert journal(conn, inv) == {"1122": (118650, 0), "6001": (100000, 105000), "222101": (0, 13650),
                                          "222102": (13000, 0), "112299": (0, 113000)}
        else:                     # 单到补差: only the difference goes to revenue
            assert journal(conn, inv) == {"1122": (118650, 0), "112299": (0, 113000), "222102": (13000, 0),
                                          "222101": (0, 13650), "6001": (0, 5000)}
        totals = dict(conn.execute(sa.select(journal_lines.c.account, sa.func.sum(
            journal_lines.c.credit_minor - journal_lines.c.debit_minor)).group_by(journal_lines.c.account)).all())
        assert totals["6001"] == 105000 and totals["112299"] == 0 and totals["222102"] == 0
        assert sum(totals.values()) == 0
        diff = reports.delivery_difference(conn, JUNE, date(2026, 6, 30))
        assert [(r.delivery, r.delivered_net, r.billed_delivered_net, r.invoiced_net, r.difference, r.unbilled_qty)
                for r in diff.itertuples()] == [("V1", D("1000.00"), D("1000.00"), D("1050.00"), D("50.00"), D(0))]
        price = reports.price_difference(conn, JUNE, date(2026, 6, 30))
        assert [(r.delivered_price, r.invoiced_price, r.amount_difference) for r in price.itertuples()] == [
            (D(100), D(105), D("50.00"))]


def test_revenue_at_delivery_partial_billing_releases_exactly_what_was_booked(store):
    with store.write() as conn:
        write_settings(conn, {"revenue_recognition": "delivery", "delivery_difference": "difference"}, USER)
        customer(conn, "C8")
        deliver(conn, "W1", date(2026, 6, 3), "C8", qty="3", price="33.33")
        for _ in range(3):
            inv = docs.create_draft(conn, docs.DraftDocument(
                DocKind.INVOICE, "C8", date(2026, 6, 25), (LineInput("X", D(1), D("33.33"), D("0.13"), "", "W1", 1),)),
                USER)
            docs.post(conn, inv, USER)
        unbilled = conn.execute(sa.select(sa.func.sum(journal_lines.c.debit_minor - journal_lines.c.credit_minor))
                                .where(journal_lines.c.account.in_(("112299", "222102")))).scalar()
        assert unbilled == 0


def test_credit_limit_refuses_warns_or_lets_an_approver_override(store):
    with store.write() as conn:
        save_customer(conn, Customer("L1", "Limited", "CNY", credit_limit=D("1000.00"), credit_class="B"), USER)
        deliver(conn, "CL1", date(2026, 6, 3), "L1", qty="10", price="100")   # 1,130.00 delivered, not billed
        exp = exposure(conn, "L1", date(2026, 6, 3), read_settings(conn))
        assert (exp.delivered_not_billed, exp.total, exp.available) == (D("1130.00"), D("1130.00"), D("-130.00"))
        inv = generated(conn, date(2026, 6, 30))[0]
        with pytest.raises(CreditLimitExceeded, match=r"customer L1's exposure 1,130.00 CNY exceeds its credit "
                                                       r"limit 1,000.00 CNY"), conn.begin_nested():
            docs.post(conn, inv["id"], USER)
        with pytest.raises(CreditLimitExceeded, match="alice is not an approver"), conn.begin_nested():
            docs.post(conn, inv["id"], USER, override_credit=True)
        write_settings(conn, {"approvers": "boss"}, USER)
        docs.post(conn, inv["id"], "boss", override_credit=True)
        audited = conn.execute(sa.text("SELECT user_name FROM audit_log WHERE action = 'credit_override'")).all()
        assert audited == [("boss",)]
        write_settings(conn, {"credit_warning_classes": "B"}, "boss")
        deliver(conn, "CL2", date(2026, 6, 4), "L1", qty="1", price="100")
        warned = docs.Posting()
        more = generated(conn, date(2026, 6, 30))[0]
        docs.post_many(conn, [docs.load(conn, more["id"])], USER, warned)
        assert "warns only" in warned.warnings[0][1]


def test_the_same_flow_from_the_workbook(store, tmp_path):
    """Fill Deliveries, sync, generate, sync: the invoice is on the Invoices sheet; bad rows are on Errors."""
    from tests.sheets import add_rows, edit, read
    from xlar.sync.engine import sync_workbook
    from xlar.workbook.template import build_template

    path = build_template(tmp_path / "AR.xlsx", "en")
    add_rows(path, "Customers", [{"code": "C1", "name": "Acme", "currency": "CNY", "closing_day": 25},
                                 {"code": "S1", "name": "Acme branch", "currency": "CNY", "parent_code": "C1"}])
    add_rows(path, "Deliveries", [
        {"number": "SH1", "line": 1, "date": date(2026, 6, 1), "customer": "C1", "item": "A", "qty": 2,
         "unit_price": 100, "tax_rate": 0.13},
        {"number": "SH2", "line": 1, "date": date(2026, 6, 20), "customer": "S1", "item": "B", "qty": 1,
         "unit_price": 50, "tax_rate": 0.13},
        {"number": "SH3", "line": 1, "date": date(2026, 6, 28), "customer": "C1", "item": "A", "qty": 1,
         "unit_price": 100, "tax_rate": 0.13},
        {"number": "SH4", "line": 1, "date": date(2026, 6, 2), "customer": "C404", "item": "A", "qty": 1,
         "unit_price": 100},
        {"number": "SH5", "line": 1, "date": date(2026, 6, 3), "customer": "C1", "item": "A", "qty": -3,
         "unit_price": 100},
    ])
    first = sync_workbook(path, store, "alice", as_of=date(2026, 6, 30))
    problems = {(e["Sheet"], e["Row"]): e["Message"] for e in read(path, "Errors")}
    assert first.counts["Deliveries added"] == 3
    assert any("unknown customer 'C404'" in m for m in problems.values())
    assert any("SH5 line 1: quantity -3 must be positive" in m for m in problems.values()), problems
    assert {r["Delivery no."] for r in read(path, "Deliveries")} == {"SH1", "SH2", "SH3", "SH4", "SH5"}  # kept
    with store.write() as conn:
        result = billing.generate(conn, date(2026, 6, 30), "alice")
    assert len(result.created) == 1
    sync_workbook(path, store, "alice", as_of=date(2026, 6, 30))
    invoices = read(path, "Invoices")
    assert [(r["Customer"], r["Total"], r["Status"], r["Source"]) for r in invoices] == [
        ("C1", 282.5, "draft", "billing cycle to 2026-06-25")]
    lines = read(path, "InvoiceLines")
    assert [(r["Delivery no."], r["Delivery line"], r["Quantity"]) for r in lines] == [("SH1", 1, 2), ("SH2", 1, 1)]
    billed = {r["Delivery no."]: r["Billed qty"] for r in read(path, "Deliveries")}
    assert billed["SH1"] == 2 and billed["SH2"] == 1 and billed["SH3"] in (0, "", None)
    # posting from the sheet numbers it; the billed delivery line can no longer be changed
    edit(path, "Invoices", {"number": invoices[0]["Invoice no."]}, {"status": "posted"})
    edit(path, "Deliveries", {"number": "SH1"}, {"qty": 5})
    after = sync_workbook(path, store, "alice", as_of=date(2026, 6, 30))
    assert after.counts["Invoices changed"] == 1
    assert [r["Invoice no."] for r in read(path, "Invoices")] == ["INV-2026-00001"]
    assert any("SH1 line 1 cannot be changed: 2 of it is billed" in c.reason for c in after.conflicts), (after.conflicts, after.issues)


def test_void_and_reissue_by_reversal_with_the_deposit_offset(store):
    with store.write() as conn:
        customer(conn, "C9")
        conn.execute(orders.insert().values(number="O9", customer_id=sa.select(sa.text(
            "id FROM customers WHERE code = 'C9'")).scalar_subquery(), order_on=date(2026, 6, 1), amount_minor=20000,
            currency="CNY", deposit_pct=D("0.5")))
        deposit = generated(conn, date(2026, 6, 1))[0]
        docs.post(conn, deposit["id"], USER)
        deliver(conn, "Q1", date(2026, 6, 5), "C9", qty="2", price="100", tax="0", order="O9")
        final = generated(conn, date(2026, 6, 30))[0]
        number = docs.post(conn, final["id"], USER)
        assert balance(conn, "C9", date(2026, 6, 30)) == D("200.00")      # 100 deposit + 200 - 100 offset
        new_id = billing.reissue(conn, number, date(2026, 6, 30), USER, "wrong price")
        assert docs.load(conn, final["id"]).status == "void"
        assert conn.execute(sa.select(documents.c.status).where(documents.c.kind == "deposit_offset")).scalars().all() \
            == ["void"]
        copy = docs.load(conn, new_id)
        assert (copy.status, copy.related_id, copy.amount_minor) == ("draft", final["id"], 20000)
        assert [r[0] for r in lines_of(conn, new_id)] == ["Q1"]
        assert balance(conn, "C9", date(2026, 6, 30)) == D("100.00")      # only the deposit is owed now
        docs.post(conn, new_id, USER)
        assert balance(conn, "C9", date(2026, 6, 30)) == D("200.00")      # the deposit is offset again
        statuses = sorted(conn.execute(sa.select(documents.c.status).where(
            documents.c.kind == "deposit_offset")).scalars())
        assert statuses == ["posted", "void"]


def test_a_subsidiarys_invoice_counts_against_its_head_offices_limit(store):
    """The credit check reads only the charged customers and the head-office trees, yet groups
    them as before: a branch two levels down fills its head office's limit; other customers
    (one with a larger limit of its own) play no part."""
    from tests.books import invoice, line
    with store.write() as conn:
        save_customer(conn, Customer("H1", "Head", "CNY", credit_limit=D("1000.00")), USER)
        save_customer(conn, Customer("B1", "Branch", "CNY", parent_code="H1"), USER)
        save_customer(conn, Customer("B2", "Sub-branch", "CNY", parent_code="B1"), USER)
        save_customer(conn, Customer("U1", "Unrelated", "CNY", credit_limit=D("5000.00")), USER)
        invoice(conn, "H1", date(2026, 6, 1), line("1", "600"))
        invoice(conn, "U1", date(2026, 6, 1), line("1", "4000"))
        invoice(conn, "B1", date(2026, 6, 2), line("1", "300"))
        with pytest.raises(CreditLimitExceeded, match=r"customer H1's exposure 1,200.00 CNY exceeds its credit "
                                                       r"limit 1,000.00 CNY"), conn.begin_nested():
            invoice(conn, "B2", date(2026, 6, 3), line("1", "300"))
        invoice(conn, "U1", date(2026, 6, 3), line("1", "900"))   # its own limit, not H1's
