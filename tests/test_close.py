"""Month-end close, FX revaluation, the journal and the proof, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tests.books import APPROVER, USER, D, approver, customer, invoice, item_of, line, receipt
from xlar.domain.documents import DocKind
from xlar.domain.errors import (
    Immutable,
    InvalidDocument,
    InvalidSetting,
    NotAllowed,
    PeriodClosed,
    XlarError,
)
from xlar.reports import ledger as reports
from xlar.reports.fx import fx_adjustments
from xlar.reports.journal import proof
from xlar.services import close, fx, matching, settle
from xlar.services import documents as docs
from xlar.store.settings import read_settings, write_settings
from xlar.store.tables import documents, journal_lines, monthly_stats

ADMIN = "dora"
JAN, FEB, MAR = "2026-01", "2026-02", "2026-03"
TODAY = date(2026, 4, 15)


def journal_of(conn, number: str) -> list[tuple[str, str, str]]:
    """(account, base debit, base credit) of a document's journal, in line order."""
    j, d = journal_lines.c, documents.c
    rows = conn.execute(sa.select(j.account, j.base_debit_minor, j.base_credit_minor)
                        .join(documents, d.id == j.document_id).where(d.number == number).order_by(j.line_no)).all()
    return [(account, str(D(dr) / 100), str(D(cr) / 100)) for account, dr, cr in rows]


def number_of(conn, doc_id: int) -> str:
    return docs.load(conn, doc_id).number


def base_balance(conn, code: str, on: date) -> D:
    return sum((b.base_balance for b in reports.balances(conn, on, code)), D(0))


def test_usd_revalued_reversed_then_paid_realizes_from_the_original_rate(store):
    """1,000 USD booked at 7.10, revalued at 7.20 (+100 unrealized), reversed on the 1st, paid at
    7.15: realized +50; the journals show exactly that and the book proves at every step."""
    with store.write() as conn:
        customer(conn, "U1", "USD")
        inv = invoice(conn, "U1", date(2026, 1, 10), line("1", "1000"), rate="7.10")
        fx.set_rate(conn, "USD", JAN, D("7.20"), USER)
        preview = fx.preview(conn, JAN)
        assert [(ln.document, ln.open, ln.book_base, ln.revalued, ln.difference) for ln in preview.lines] == [
            ("INV-2026-00001", D("1000.00"), D("7100.00"), D("7200.00"), D("100.00"))]
        assert base_balance(conn, "U1", date(2026, 1, 31)) == D("7100.00")    # a preview books nothing
        assert [str(b) for b in close.blockers(conn, JAN)] == [
            ("invoice INV-2026-00001 of U1 (2026-01-10): 1000.00 USD open is booked at 7100.00 CNY, worth 7200.00 "
             "at 7.2: not revalued (xlar revalue --period 2026-01)")]
        assert fx.revalue(conn, JAN, USER) == ["FX-2026-00001"]
        assert fx.revalue(conn, JAN, USER) == []          # everything revalued: a second run books nothing
        assert journal_of(conn, "FX-2026-00001") == [("1122", "100", "0"), ("6603", "0", "100")]
        reversal = conn.execute(sa.select(documents.c.number, documents.c.doc_on)
                                .where(documents.c.kind == "reversal")).one()
        assert (reversal.number, reversal.doc_on) == ("RV-2026-00001", date(2026, 2, 1))
        assert journal_of(conn, "RV-2026-00001") == [("1122", "0", "100"), ("6603", "100", "0")]
        assert base_balance(conn, "U1", date(2026, 1, 31)) == D("7200.00")
        assert base_balance(conn, "U1", date(2026, 2, 1)) == D("7100.00")
        # the revaluation ages with its invoice: the whole 7,200 in the invoice's bucket
        aging = reports.aging(conn, date(2026, 1, 31))
        (row,) = aging.rows
        assert row.base_balance == D("7200.00") and max(row.base_buckets.values()) == D("7200.00")
        with pytest.raises(Immutable, match="month-end revaluation"):
            docs.void(conn, conn.execute(sa.select(documents.c.id).where(documents.c.number == "FX-2026-00001"))
                      .scalar_one(), date(2026, 2, 2), USER, "no")
        assert close.close(conn, JAN, USER, today=TODAY).blockers == []
        paid = receipt(conn, "U1", date(2026, 2, 15), "1000", rate="7.15")
        matching.allocate(conn, [matching.Match(item_of(conn, inv), item_of(conn, paid), D("1000"))],
                          method="manual", user=USER)
        realized = conn.execute(sa.select(documents.c.number).where(documents.c.kind == "fx_realized")).scalar_one()
        assert journal_of(conn, realized) == [("1122", "50", "0"), ("6603", "0", "50")]     # a gain of 50
        assert base_balance(conn, "U1", date(2026, 2, 28)) == D("0.00")
        frame = fx_adjustments(conn, date(2026, 1, 1), date(2026, 2, 28))
        assert [(r.type, str(r.net)) for r in frame.itertuples()] == [
            ("unrealized", "100.00"), ("reversal", "-100.00"), ("realized", "50.00")]
        for on in (date(2026, 1, 31), date(2026, 2, 1), date(2026, 2, 15), date(2026, 2, 28)):
            assert proof(conn, on).holds, proof(conn, on).text()
        # January's statistics: invoiced 1,000 USD = 7,100, FX +100 → closing 7,200
        (jan,) = close.stored(conn, JAN).values()
        assert (jan.amounts["invoiced"], jan.amounts["closing"]) == (100000, 100000)
        assert (jan.base["invoiced"], jan.base["fx"], jan.base["closing"]) == (710000, 10000, 720000)
        feb = close.compute(conn, FEB)[("U1", "USD")]
        assert (feb.base["opening"], feb.base["fx"], feb.base["received"], feb.base["closing"]) == \
            (720000, -10000 + 5000, -715000, 0)


def test_close_lists_what_is_unfinished_and_nothing_moves_after(store):
    with store.write() as conn:
        customer(conn, "C1")
        customer(conn, "C2")
        approver(conn)
        write_settings(conn, {"admins": ADMIN}, APPROVER)
        invoice(conn, "C1", date(2026, 1, 5), line("10", "100"))
        invoice(conn, "C2", date(2026, 1, 12), line("3", "50"))
        draft = invoice(conn, "C1", date(2026, 1, 20), line("1", "40"), post=False)
        unapproved = receipt(conn, "C1", date(2026, 1, 25), "300", approve=False)
        with pytest.raises(InvalidSetting, match="cannot close before then"):
            close.close(conn, JAN, USER, today=date(2026, 1, 31))
        found = close.close(conn, JAN, USER, today=TODAY)
        assert [str(b) for b in found.blockers] == [
            f"invoice draft #{draft} (2026-01-20): a draft of C1: post it or delete it",
            "receipt RC-2026-00001 (2026-01-25): C1's receipt is confirmed but not approved"]
        assert read_settings(conn).closed_period is None                 # refused: nothing changed
        docs.post(conn, draft, USER)
        from xlar.services import receipts
        receipts.approve(conn, [unapproved], APPROVER)
        assert close.close(conn, JAN, USER, today=TODAY).customers == 2
        book = read_settings(conn)
        assert (book.closed_period, book.current_period) == (JAN, MAR)   # the book already worked in March
        with pytest.raises(InvalidSetting, match="close 2026-02 first"):
            close.close(conn, MAR, USER, today=TODAY)
        snapshot = close.stored(conn, JAN)
        assert {k: (s.amounts["opening"], s.amounts["invoiced"], s.amounts["received"], s.amounts["closing"])
                for k, s in snapshot.items()} == {("C1", "CNY"): (0, 104000, -30000, 74000),
                                                   ("C2", "CNY"): (0, 15000, 0, 15000)}
        # February and March: payments of January's invoices, a credit note, a void
        receipt(conn, "C1", date(2026, 2, 10), "740")
        credit = docs.create_draft(conn, docs.DraftDocument(DocKind.CREDIT_NOTE, "C2", date(2026, 2, 11),
                                                            (line("1", "50"),)), USER)
        docs.post(conn, credit, USER)
        wrong = invoice(conn, "C2", date(2026, 2, 20), line("1", "999"))
        docs.void(conn, wrong, date(2026, 2, 21), USER, "duplicate")
        assert close.close(conn, FEB, USER, today=TODAY).customers == 2
        invoice(conn, "C1", date(2026, 3, 3), line("2", "100"))
        receipt(conn, "C2", date(2026, 3, 9), "100")
        # a closed month cannot be touched by any service
        jan_invoice = conn.execute(sa.select(documents.c.id).where(documents.c.number == "INV-2026-00001")).scalar_one()
        attempts = [
            lambda: invoice(conn, "C1", date(2026, 2, 27), line("1", "1")),
            lambda: docs.void(conn, jan_invoice, date(2026, 3, 5), USER, "late"),
            lambda: settle.transfer(conn, "INV-2026-00002", "C1", date(2026, 2, 27), USER),
            lambda: fx.revalue(conn, FEB, USER),
            lambda: fx.set_rate(conn, "USD", JAN, D("7"), USER),
        ]
        for attempt in attempts:
            with pytest.raises(PeriodClosed, match=r"in period 2026-0[12] which is closed"):
                attempt()
        with pytest.raises(NotAllowed, match="move only by closing a month"):
            write_settings(conn, {"closed_period": JAN}, APPROVER)
        with pytest.raises(sa.exc.DatabaseError, match="XLAR-E030"), conn.begin_nested():   # the store's own guard
                conn.execute(journal_lines.insert().values(
                    document_id=jan_invoice, line_no=99, account="1122", customer_id=1, currency="CNY",
                    debit_minor=1, credit_minor=0, base_debit_minor=1, base_credit_minor=0,
                    posted_on=date(2026, 1, 31)))
        # January's statistics never change after later activity; the months chain
        assert close.stored(conn, JAN) == snapshot == close.compute(conn, JAN)
        assert close.recompute(conn, JAN, USER, apply=False) == []
        feb = close.stored(conn, FEB)
        for key, stat in feb.items():
            assert stat.adds_up()
            assert stat.amounts["opening"] == snapshot[key].amounts["closing"]
            assert stat.base["closing"] == 100 * base_balance(conn, key[0], date(2026, 2, 28))
        assert (feb[("C2", "CNY")].amounts["credited"], feb[("C2", "CNY")].amounts["invoiced"]) == (-5000, 0)
        # reopen: the admin only, with a reason, the latest month only; audited
        with pytest.raises(NotAllowed, match="needs the admin role"):
            close.reopen(conn, FEB, USER, "fix")
        with pytest.raises(InvalidSetting, match="needs a reason"):
            close.reopen(conn, FEB, ADMIN, " ")
        with pytest.raises(InvalidSetting, match="only the latest closed month"):
            close.reopen(conn, JAN, ADMIN, "fix")
        assert close.reopen(conn, FEB, ADMIN, "a February invoice was forgotten") == JAN
        assert read_settings(conn).closed_period == JAN
        invoice(conn, "C2", date(2026, 2, 26), line("2", "25"))
        found = close.recompute(conn, FEB, ADMIN, apply=False)
        assert [(d.customer, d.column, d.stored, d.computed) for d in found] == [
            ("C2", "invoiced", 0, 5000), ("C2", "closing", 10000, 15000),
            ("C2", "base_invoiced", 0, 5000), ("C2", "base_closing", 10000, 15000)]
        assert close.stored(conn, FEB)[("C2", "CNY")].amounts["invoiced"] == 0   # a dry run keeps the snapshot
        assert close.close(conn, FEB, USER, today=TODAY).customers == 2
        assert close.stored(conn, FEB)[("C2", "CNY")].amounts["invoiced"] == 5000
        audit = conn.execute(sa.text("select action, entity_id, user_name from audit_log "
                                     "where entity = 'period' order by id")).all()
        assert [tuple(a) for a in audit] == [("close", JAN, USER), ("close", FEB, USER), ("reopen", FEB, ADMIN),
                                             ("close", FEB, USER)]
        assert conn.execute(sa.select(sa.func.count()).select_from(monthly_stats)).scalar_one() == 4


def test_opening_balance_import(store, tmp_path):
    from xlar.services.opening import import_opening

    path = tmp_path / "old-system.csv"
    path.write_text(
        "客户编号,原单号,单据日期,到期日,币种,汇率,原单金额,未结金额,备注\n"
        "C1,A-001,2025-10-05,2025-11-04,,,1000.00,400.00,part paid\n"
        "C1,A-002,2025-12-20,2026-01-19,,,250.00,250.00,\n"
        "C1,A-003,2025-12-28,,USD,7.05,100.00,100.00,\n"
        "C9,A-004,2025-12-01,2025-12-31,,,10.00,10.00,\n"
        "C1,A-005,2025-12-01,2025-12-31,,,10.00,20.00,\n"
        "C1,A-006,31/12/2025,2025-12-31,,,10.00,10.00,\n"
        "C1,A-007,2025-12-15,,,,-80.00,-80.00,an advance\n",
        encoding="utf-8")
    with store.write() as conn:
        customer(conn, "C1")
        result = import_opening(conn, path, USER)
        assert result.documents == ["OB-2025-00001", "OB-2025-00002", "OB-2025-00003", "OB-2025-00004"]
        assert [(i.excel_row, i.column, i.message) for i in result.issues] == [
            (5, "Customer", "unknown customer 'C9'"),
            (6, None, "A-005: open amount 20.00 must have the sign of the amount 10.00 and not exceed it"),
            (7, "Date", result.issues[2].message)]
        assert "'31/12/2025'" in result.issues[2].message
        aging = reports.aging(conn, date(2026, 1, 1))
        rows = {r.currency: r for r in aging.rows}
        assert rows["CNY"].balance == D("570.00") and rows["USD"].balance == D("100.00")
        assert rows["USD"].base_balance == D("705.00")
        assert rows["CNY"].buckets["unapplied"] == D("-80.00")
        assert rows["CNY"].buckets["31-60"] == D("400.00")      # due 4 Nov: 58 days overdue on 1 Jan
        again = import_opening(conn, path, USER)
        assert again.documents == [] and again.skipped == ["A-001", "A-002", "A-003", "A-007"]
        assert proof(conn, date(2026, 1, 1)).holds


def test_a_customer_with_its_own_receivable_account(store):
    from xlar.domain.customers import Customer
    from xlar.services.customers import save_customer

    with store.write() as conn:
        save_customer(conn, Customer("K1", "K1 Ltd.", "CNY", ar_account="112201"), USER)
        customer(conn, "K2")
        invoice(conn, "K1", date(2026, 3, 2), line("1", "100", "0.13"))
        invoice(conn, "K2", date(2026, 3, 2), line("1", "100", "0.13"))
        receipt(conn, "K1", date(2026, 3, 5), "113")
        assert journal_of(conn, "INV-2026-00001")[0] == ("112201", "113", "0")
        assert journal_of(conn, "INV-2026-00002")[0] == ("1122", "113", "0")
        assert journal_of(conn, "RC-2026-00001")[1] == ("112201", "0", "113")
        found = proof(conn, date(2026, 3, 31))
        assert found.holds, found.text()
        assert "AR control 1122+112201" in found.text()


def test_proof_names_a_document_that_does_not_balance(store):
    with store.write() as conn:
        customer(conn, "C1")
        inv = invoice(conn, "C1", date(2026, 3, 2), line("1", "100"))
        assert proof(conn, date(2026, 3, 31)).holds
        conn.execute(journal_lines.insert().values(
            document_id=inv, line_no=9, account="1122", customer_id=1, currency="CNY", debit_minor=500,
            credit_minor=0, base_debit_minor=500, base_credit_minor=0, posted_on=date(2026, 3, 2)))
        found = proof(conn, date(2026, 3, 31))
        assert not found.holds
        assert found.unbalanced == ["INV-2026-00001"]
        assert "BAD AR control 1122 = open items = aging buckets (base CNY): control 105.00  open items 100.00" \
            in found.text()


def test_revaluing_needs_every_rate(store):
    with store.write() as conn:
        customer(conn, "E1", "EUR")
        invoice(conn, "E1", date(2026, 1, 10), line("1", "10"), rate="7.7")
        with pytest.raises(XlarError, match="needs the period's rate of EUR"):
            fx.revalue(conn, JAN, USER)
        assert [str(b) for b in close.blockers(conn, JAN)] == [
            "EUR rate: FxRates has no EUR rate for 2026-01: foreign items cannot be revalued"]
        with pytest.raises(InvalidDocument, match="base currency"):
            fx.set_rate(conn, "CNY", JAN, D("1"), USER)


def test_a_sync_that_edits_a_closed_month_applies_everything_else(store, tmp_path):
    from tests.sheets import add_rows, edit, read
    from xlar.sync.engine import sync_workbook
    from xlar.workbook.template import build_template

    path = build_template(tmp_path / "AR.xlsx", "en")
    with store.write() as conn:
        customer(conn, "C1")
        customer(conn, "U1", "USD")
        invoice(conn, "C1", date(2026, 1, 5), line("10", "100"))
        invoice(conn, "U1", date(2026, 1, 8), line("1", "500"), rate="7.10")
        fx.set_rate(conn, "USD", JAN, D("7.00"), USER)
        fx.revalue(conn, JAN, USER)
        assert close.close(conn, JAN, USER, today=TODAY).blockers == []
    sync_workbook(path, store, USER, as_of=date(2026, 3, 31))
    edit(path, "Invoices", {"number": "INV-2026-00001"}, {"status": "void", "memo": "wrong price"})
    edit(path, "FxRates", {"currency": "USD", "period": JAN}, {"rate": 7.5})
    edit(path, "Settings", {"key": "closed_period"}, {"value": ""})
    add_rows(path, "Invoices", [{"number": "N1", "kind": "invoice", "date": date(2026, 2, 3), "customer": "C1",
                                 "status": "posted"}])
    add_rows(path, "InvoiceLines", [{"invoice": "N1", "line": 1, "item": "X", "qty": 2, "unit_price": 30}])
    add_rows(path, "Invoices", [{"number": "N2", "kind": "invoice", "date": date(2026, 1, 30), "customer": "C1",
                                 "status": "posted"}])
    add_rows(path, "InvoiceLines", [{"invoice": "N2", "line": 1, "item": "X", "qty": 1, "unit_price": 5}])
    result = sync_workbook(path, store, USER, as_of=date(2026, 3, 31))
    messages = sorted(f"{i.sheet}: {i.message}" for i in result.issues)
    assert messages == [
        "FxRates: the USD rate of 2026-01 is dated 2026-01-01, in period 2026-01 which is closed (closed through 2026-01)",
        ("Invoices: invoice INV-2026-00001 cannot be voided: it is dated 2026-01-05, in period 2026-01 which is "
         "closed (closed through 2026-01)"),
        "Invoices: invoice for C1 is dated 2026-01-30, in period 2026-01 which is closed (closed through 2026-01)",
        ("Settings: the closed and current periods move only by closing a month (xlar close) or reopening it "
         "(xlar close --reopen)")]
    with store.read() as conn:
        assert reports.balances(conn, date(2026, 2, 28), "C1")[0].balance == D("1060.00")   # N1 went through
        assert close.recompute(conn, JAN, USER, apply=False) == []
        assert read_settings(conn).closed_period == JAN
    assert {r["Document"] for r in read(path, "Journal")} >= {"INV-2026-00003", "RV-2026-00001"}
    stats = read(path, "MonthlyStats")
    assert [(r["Period"], r["Customer"], r["Closing"], r["Closing (CNY)"]) for r in stats] == [
        (JAN, "C1", 1000, 1000), (JAN, "U1", 500, 3500)]
    assert read(path, "Revaluation")[0]["Difference to post"] == "no rate"   # March has no USD rate yet


def test_a_posting_during_a_close_waits_and_is_refused(store):
    """A colleague posting into the month while it closes: the posting waits for the close and is
    then refused (by the service on SQLite, by the store's guard on PostgreSQL); the snapshot
    stays equal to the ledger."""
    import threading
    import time

    with store.write() as conn:
        customer(conn, "C1")
        invoice(conn, "C1", date(2026, 1, 5), line("1", "100"))
    started, outcome = threading.Event(), []

    def closer():
        with store.write() as conn:
            assert close.close(conn, JAN, USER, today=TODAY).blockers == []
            started.set()
            time.sleep(0.8)   # still open: the colleague's posting must wait

    def poster():
        started.wait()
        try:
            with store.write() as conn:
                invoice(conn, "C1", date(2026, 1, 20), line("1", "55"))
            outcome.append("posted")
        except (XlarError, sa.exc.DatabaseError) as exc:
            outcome.append(str(exc).splitlines()[0])

    threads = [threading.Thread(target=closer), threading.Thread(target=poster)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcome) == 1 and "XLAR-E030" in outcome[0], outcome
    with store.read() as conn:
        assert close.recompute(conn, JAN, USER, apply=False) == []
        assert base_balance(conn, "C1", date(2026, 1, 31)) == D("100.00")


def test_reopening_the_first_closed_month_keeps_the_months_before_it_closed(store):
    with store.write() as conn:
        customer(conn, "C1")
        approver(conn)
        with pytest.raises(NotAllowed, match="cannot change admins: these settings are changed by an approver"):
            write_settings(conn, {"admins": "mallory"}, "mallory")
        write_settings(conn, {"admins": ADMIN}, APPROVER)
        invoice(conn, "C1", date(2026, 2, 5), line("1", "100"))
        assert close.close(conn, FEB, USER, today=TODAY).blockers == []
        assert close.reopen(conn, FEB, ADMIN, "a late invoice") == JAN
        assert read_settings(conn).closed_period == JAN
        assert close.periods_closed(conn) == []   # February's snapshot is no longer shown as closed
        with pytest.raises(PeriodClosed, match="in period 2025-11 which is closed"):
            invoice(conn, "C1", date(2025, 11, 20), line("1", "1"))
        invoice(conn, "C1", date(2026, 2, 20), line("1", "1"))


def test_a_receivable_account_stays_once_documents_are_posted_on_it(store):
    from xlar.domain.customers import Customer
    from xlar.services.customers import save_customer

    with store.write() as conn:
        save_customer(conn, Customer("K1", "K1 Ltd.", "CNY", ar_account="112201"), USER)
        save_customer(conn, Customer("K1", "K1 Ltd.", "CNY", ar_account="112202"), USER)   # nothing posted yet
        invoice(conn, "K1", date(2026, 3, 2), line("1", "100"))
        with pytest.raises(InvalidSetting, match="posted on receivable account 112202"):
            save_customer(conn, Customer("K1", "K1 Ltd.", "CNY"), USER)
        with pytest.raises(InvalidSetting, match="account_receivable cannot change"):
            customer(conn, "K2")
            invoice(conn, "K2", date(2026, 3, 2), line("1", "100"))
            write_settings(conn, {"account_receivable": "1131"}, USER)


def test_opening_import_reads_gbk_and_takes_a_corrected_row_after_a_void(store, tmp_path):
    from xlar.services.opening import import_opening

    path = tmp_path / "old.csv"
    path.write_bytes("客户编号,原单号,单据日期,到期日,原单金额,未结金额\nC1,OLD-1,2025-12-01,2025-12-31,100,100\n"
                     .encode("gbk"))
    junk = tmp_path / "old.xlsx"
    junk.write_bytes(b"not a workbook")
    with store.write() as conn:
        customer(conn, "C1")
        assert import_opening(conn, path, USER).documents == ["OB-2025-00001"]
        docs.void(conn, docs.find(conn, "OB-2025-00001").id, date(2026, 1, 2), USER, "wrong open amount")
        path.write_bytes("客户编号,原单号,单据日期,到期日,原单金额,未结金额\nC1,OLD-1,2025-12-01,2025-12-31,100,60\n"
                         .encode("gbk"))
        assert import_opening(conn, path, USER).documents == ["OB-2025-00002"]
        assert base_balance(conn, "C1", date(2026, 1, 31)) == D("60.00")
        with pytest.raises(InvalidDocument, match="old.xlsx is not a CSV or a workbook"):
            import_opening(conn, junk, USER)


def test_an_empty_or_headless_opening_file_is_refused_whole_with_one_code_each(store, tmp_path):
    """An empty file has no header row (XLAR-E121, as a sheet without one); a header without a
    required column is XLAR-E122. Either way nothing is imported."""
    from xlar.services.opening import import_opening

    empty, headless = tmp_path / "empty.csv", tmp_path / "headless.csv"
    empty.write_text("", encoding="utf-8")
    headless.write_text("客户编号,原单号\nC1,A-001\n", encoding="utf-8")
    with store.write() as conn:
        customer(conn, "C1")
        nothing = import_opening(conn, empty, USER)
        missing = import_opening(conn, headless, USER)
    assert [(i.code, i.message) for i in nothing.issues] == [("XLAR-E121", "the file is empty: no header row")]
    assert {i.code for i in missing.issues} == {"XLAR-E122"} and not missing.documents and not nothing.documents
