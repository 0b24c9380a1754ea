"""Reports, statements and collections on a small book whose figures are worked out by hand:
aging at a past date with the bad-debt allowance, the statement, collection analysis, the
forecast, the worklist (levels, a broken and a pending promise, a disputed invoice held out),
dunning letters and the papers (xlsx read back, PDF text, .eml)."""

from __future__ import annotations

import email
import email.policy
import math
import shutil
import subprocess
from datetime import date
from decimal import Decimal as D

import openpyxl
import pytest
import sqlalchemy as sa

from tests.books import USER, invoice, line, monthly_thirds, receipt
from xlar.domain.customers import Customer
from xlar.domain.terms import PaymentTerms, TermsBasis
from xlar.reports.catalog import Params, run
from xlar.reports.dunning import eml, letters
from xlar.reports.pdf import letter_pdf, statement_pdf
from xlar.reports.statements import Span, cycle_spans, statement_xlsx, statements
from xlar.services import collections, matching
from xlar.services.customers import save_customer, save_terms
from xlar.store.settings import write_settings
from xlar.store.tables import contacts, customers, documents, open_items


def item(conn, doc_id: int) -> int:
    return conn.execute(sa.select(open_items.c.id).where(open_items.c.document_id == doc_id)).scalar_one()


def pay(conn, receipt_id: int, invoice_id: int, amount: str) -> None:
    matching.allocate(conn, [matching.Match(item(conn, invoice_id), item(conn, receipt_id), D(amount))],
                      method="manual", user=USER)


def promise(conn, code: str, on: date, by: date, amount: str) -> None:
    cid = conn.execute(sa.select(customers.c.id).where(customers.c.code == code)).scalar_one()
    conn.execute(contacts.insert().values(customer_id=cid, contacted_on=on, method="phone", person="Ms Li",
                                          result="will pay", promise_on=by, promise_amount_minor=int(D(amount) * 100),
                                          next_action="call back"))


@pytest.fixture
def book(store):
    """C1 (class A, 王芳): INV1 1,000 on 5 Jan, INV2 500 on 20 Jan, 600 paid on 10 Feb and 400 on
    5 Mar (INV1 settled 29 days late), INV5 300 on 20 Mar disputed. C2 (class C, 张伟): INV3 2,000
    on 1 Mar, INV4 800 on 15 Mar. Everything on 30-day terms."""
    with store.write() as conn:
        write_settings(conn, {"company": "示例公司", "company_address": "上海市浦东新区 1 号"}, "setup")
        save_terms(conn, PaymentTerms("NET30", "30 days", TermsBasis.INVOICE_DATE, 30), USER)
        save_customer(conn, Customer("C1", "华东客户", "CNY", "NET30", salesperson="王芳", credit_class="A",
                                     email="ap@c1.example", contact="Ms Li", address="杭州市西湖区"), USER)
        save_customer(conn, Customer("C2", "Second Customer", "CNY", "NET30", salesperson="张伟", credit_class="C"),
                      USER)
        inv1 = invoice(conn, "C1", date(2026, 1, 5), line("1", "1000"))
        inv2 = invoice(conn, "C1", date(2026, 1, 20), line("1", "500"))
        pay(conn, receipt(conn, "C1", date(2026, 2, 10), "600"), inv1, "600")
        invoice(conn, "C2", date(2026, 3, 1), line("1", "2000"))
        pay(conn, receipt(conn, "C1", date(2026, 3, 5), "400"), inv1, "400")
        invoice(conn, "C2", date(2026, 3, 15), line("1", "800"))
        inv5 = invoice(conn, "C1", date(2026, 3, 20), line("1", "300"))
        conn.execute(documents.update().where(documents.c.id == inv5).values(disputed="yes"))
        assert inv2
    return store


def report(conn, name: str, as_of: date, date_from: date | None = None, locale: str = "en", **kw):
    return run(conn, name, Params(as_of, date_from or as_of, as_of, locale=locale, **kw)).frame


def test_aging_at_a_past_date_with_the_allowance(book):
    with book.read() as conn:
        feb = report(conn, "aging", date(2026, 2, 28)).set_index("customer")
        mar = report(conn, "aging", date(2026, 3, 31)).set_index("customer")
        people = report(conn, "salesperson-aging", date(2026, 3, 31)).set_index("salesperson")
    # 28 Feb: INV1 400 open 24 days overdue, INV2 500 9 days: both 1-30 at 1 %; C2 has nothing yet
    assert feb.loc["C1", "1-30"] == D("900.00") and feb.loc["C1", "balance"] == D("900.00")
    assert feb.loc["C1", "allowance"] == D("9.00") and "C2" not in feb.index
    assert feb.loc["ALLOWANCE", "1-30"] == D("9.00") and feb.loc["ALLOWANCE %", "31-60"] == D(5)
    # 31 Mar: INV2 40 days overdue (31-60 at 5 % = 25.00), INV5 300 not due; C2 2,800 not due
    assert (mar.loc["C1", "31-60"], mar.loc["C1", "not_due"], mar.loc["C1", "allowance"]) == (
        D("500.00"), D("300.00"), D("25.00"))
    assert mar.loc["C2", "not_due"] == D("2800.00") and mar.loc["C2", "allowance"] == D("0.00")
    assert mar.loc["TOTAL", "balance"] == D("3600.00") and mar.loc["ALLOWANCE", "allowance"] == D("25.00")
    assert people.loc["王芳", "base_balance"] == D("800.00") and people.loc["张伟", "allowance"] == D("0.00")


def test_statement_overdue_and_collection_analysis(book):
    with book.read() as conn:
        lines = report(conn, "statement", date(2026, 3, 31), date(2026, 1, 1), customer="C1")
        overdue = report(conn, "overdue", date(2026, 3, 31))
        months = report(conn, "collection-analysis", date(2026, 3, 31), date(2026, 1, 1), customer="C1")
        due = report(conn, "due", date(2026, 4, 30), date(2026, 4, 1))
        ledger = report(conn, "subsidiary-ledger", date(2026, 3, 31), date(2026, 2, 1), customer="C1")
    assert [(r.kind, r.debit, r.credit, r.balance) for r in lines.itertuples()] == [
        ("opening", None, None, D("0.00")), ("invoice", D("1000.00"), None, D("1000.00")),
        ("invoice", D("500.00"), None, D("1500.00")), ("receipt", None, D("600.00"), D("900.00")),
        ("receipt", None, D("400.00"), D("500.00")), ("invoice", D("300.00"), None, D("800.00")),
        ("closing", None, None, D("800.00"))]
    assert [(r.document, r.days_overdue, r.bucket) for r in overdue.itertuples()] == [
        ("INV-2026-00002", 40, "31-60")]
    feb, mar = months[months["period"] == "2026-02"].iloc[0], months[months["period"] == "2026-03"].iloc[0]
    assert (feb.opening, feb.invoiced, feb.received, feb.closing) == (D("1500.00"), D("0.00"), D("600.00"),
                                                                      D("900.00"))
    assert (feb.due_in_period, feb.collected_of_due, feb.settled) == (D("1500.00"), D("0.00"), 0)
    assert feb.collection_rate == D("40.0")       # 600 of 1,500
    assert (mar.received, mar.settled, mar.avg_days_to_collect, mar.avg_days_late) == (D("400.00"), 1, D("59.00"),
                                                                                        D("29.00"))
    assert mar.dso == D("40.0")                   # 800 open of 1,800 sold in the 90 days to 31 Mar
    assert list(due["document"]) == ["INV-2026-00004", "INV-2026-00005"]
    assert [(r.period, r.opening, r.debit, r.credit, r.closing) for r in ledger.itertuples()] == [
        ("2026-02", D("1500.00"), D("0.00"), D("600.00"), D("900.00")),
        ("2026-03", D("900.00"), D("300.00"), D("400.00"), D("800.00"))]


def test_forecast_by_the_customers_own_lateness(book):
    with book.read() as conn:
        detail = report(conn, "forecast-detail", date(2026, 3, 31)).set_index("document")
        weeks = report(conn, "forecast", date(2026, 3, 31))
        months = report(conn, "forecast", date(2026, 3, 31), extra={"by": "month"})
    # C1 pays 29 days late: INV2 (due 19 Feb) was expected 20 Mar, already past: expected now
    assert detail.loc["INV-2026-00002", "expected"] == date(2026, 3, 31)
    assert detail.loc["INV-2026-00002", "avg_days_late"] == D("29.00")
    # C2 has no history: its due dates; the disputed INV5 has no expected date
    assert detail.loc["INV-2026-00003", "expected"] == date(2026, 3, 31)
    assert detail.loc["INV-2026-00004", "expected"] == date(2026, 4, 14)
    assert detail.loc["INV-2026-00005", "expected"] is None and detail.loc["INV-2026-00005", "disputed"] == "yes"
    assert [(r.week, r.count, r.base_amount) for r in weeks.itertuples()] == [
        (date(2026, 3, 30), 2, D("2500.00")), (date(2026, 4, 13), 1, D("800.00")), (None, 1, D("300.00"))]
    assert [(r.month, r.base_amount) for r in months.itertuples()][:2] == [("2026-03", D("2500.00")),
                                                                          ("2026-04", D("800.00"))]


def test_worklist_levels_promises_and_disputes(book):
    with book.write() as conn:
        promise(conn, "C1", date(2026, 3, 25), date(2026, 3, 28), "500")     # broken by 31 Mar
        promise(conn, "C2", date(2026, 3, 30), date(2026, 4, 5), "2000")     # pending
    with book.read() as conn:
        work = {w.customer: w for w in collections.worklist(conn, date(2026, 3, 31))}
        before = {w.customer: w for w in collections.worklist(conn, date(2026, 3, 20))}
        frame = report(conn, "worklist", date(2026, 3, 31), locale="zh-CN")
    c1, c2 = work["C1"], work["C2"]
    # C1: INV2 40 days overdue = level 3 (30 days); the broken promise escalates to level 4
    assert c1.level is not None and (c1.level.level, c1.level.channel) == (4, "letter")
    assert c1.reason.startswith("promise of 2026-03-28 broken") and c1.oldest_days == 40
    assert [it.document for it in c1.items] == ["INV-2026-00002"]          # the disputed INV5 is held out
    assert c1.overdue == {"CNY": D("500.00")} and c1.promise == "broken 2026-03-28 500.00"
    assert c2.level is None and "held until then" in c2.reason and c2.promise.startswith("pending")
    # before the promises: C1 (INV2 29 days overdue) at level 2; C2 at nothing due yet
    assert before["C1"].level is not None and before["C1"].level.level == 2
    assert before["C2"].level is None and before["C2"].reason == "nothing due yet"
    assert list(frame["customer"])[:1] == ["C1"] and "承诺" in frame.iloc[0]["reason"]
    # amounts are numbers, their currency in its own column (it was the text "CNY 500.00")
    first = frame.iloc[0]
    assert (first["currency"], first["overdue"]) == ("CNY", D("500.00"))


def test_a_sheet_of_reminder_levels_per_class_and_a_dispute_holds_everything(book):
    with book.write() as conn:
        conn.execute(sa.text("INSERT INTO reminder_levels (credit_class, level, days, channel, letter_zh, letter_en) "
                             "VALUES ('A', 1, 45, 'email', '请付款 {amount}', 'Please pay {currency} {amount} now')"))
        conn.execute(documents.update().where(documents.c.number == "INV-2026-00002").values(disputed="yes"))
    with book.read() as conn:
        work = {w.customer: w for w in collections.worklist(conn, date(2026, 3, 31))}
        later = {w.customer: w for w in collections.worklist(conn, date(2026, 5, 20))}
    assert work["C1"].level is None and work["C1"].reason.startswith("every open item is disputed")
    assert work["C1"].held_disputed == {"CNY": D("500.00")}
    # C2 (class C) keeps the default levels; 50 days after INV3's due date: level 3
    assert later["C2"].level is not None and later["C2"].level.level == 3


def test_papers_statement_and_letters(book, tmp_path):
    with book.write() as conn:
        promise(conn, "C1", date(2026, 3, 25), date(2026, 3, 28), "500")
    with book.read() as conn:
        zh = statements(conn, Span(date(2026, 1, 1), date(2026, 3, 31)), "zh-CN", date(2026, 4, 1), ["C1"])
        en = statements(conn, Span(date(2026, 3, 1), date(2026, 3, 31)), "en", date(2026, 4, 1))
        cycles = cycle_spans(conn, "2026-03")
        work = collections.worklist(conn, date(2026, 3, 31))
        papers = letters(conn, work, date(2026, 3, 31), "zh-CN")
    [paper] = zh
    [section] = paper.sections
    assert (section.opening, section.closing, len(section.lines)) == (D("0.00"), D("800.00"), 5)
    assert section.closing_in_words == "人民币捌佰元整"
    assert dict(section.aging)["31-60天"] == D("500.00")
    assert [s.customer.code for s in en] == ["C1", "C2"] and en[1].sections[0].closing == D("2800.00")
    assert cycles["C1"] == Span(date(2026, 3, 1), date(2026, 3, 31))
    xlsx = statement_xlsx(paper, tmp_path / "s.xlsx")
    cells = [c for row in openpyxl.load_workbook(xlsx).active.iter_rows(values_only=True) for c in row if c is not None]
    assert "客户对账单" in cells and 800 in cells and "期末余额大写：人民币捌佰元整" in cells and "对账确认" in cells
    pdf = statement_pdf(paper, tmp_path / "s.pdf")
    letter, friendly = papers      # C2's INV3 falls due today: the level-1 reminder, INV4 (due in 14 days) not yet
    assert (friendly.customer.code, friendly.level, [it.document for it in friendly.items]) == (
        "C2", 1, ["INV-2026-00003"])
    assert (letter.customer.code, letter.level, [it.document for it in letter.items]) == ("C1", 4, ["INV-2026-00002"])
    assert "500.00" in letter.body and "40" in letter.body and letter.totals_in_words == ("人民币伍佰元整",)
    mail = email.message_from_bytes(eml(letter, letter_pdf(letter, tmp_path / "l.pdf"), "ar@example.com"),
                                    policy=email.policy.default)
    assert mail["To"] == "ap@c1.example" and "第4级" in mail["Subject"]
    [attachment] = [part for part in mail.walk() if part.get_content_type() == "application/pdf"]
    assert attachment.get_payload(decode=True).startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "人民币捌佰元整" in text.replace(" ", "") and "800.00" in text
    with book.write() as conn:
        [new] = collections.record_reminders(conn, [w for w in work if w.customer == "C1"], date(2026, 3, 31), USER)
        row = conn.execute(sa.select(contacts).where(contacts.c.id == new)).mappings().one()
    assert (row["method"], row["result"]) == ("letter", "reminder level 4 sent (CNY 500.00)")


def test_credit_score_next_to_the_current_class(book):
    with book.read() as conn:
        scores = report(conn, "credit-score", date(2026, 3, 31)).set_index("customer")
    c1 = scores.loc["C1"]
    # one invoice settled 29 days late, INV2 open 40 days overdue, DSO 40 on 30-day terms: 100 - 40 (lateness
    # 58, capped) - 30 (none on time) - 12 (worst 40 days) - 2.5 (DSO 10 days beyond terms) = 15.5 -> 16
    assert (c1.settled, c1.avg_days_late, c1.on_time_pct, c1.max_days_overdue, c1.dso) == (
        1, D("29.00"), D("0.0"), 40, D("40.0"))
    assert c1.score == 16 and c1.suggested_class == "D" and c1.credit_class == "A"
    # 1,800 sold over its 3 months = 600 a month, paid in (30 + 29) / 30 months, D class x 0.5 = 590 -> 1,000
    assert c1.suggested_limit == D(1000)
    assert pd_isna(scores.loc["C2", "score"]) and scores.loc["C2", "suggested_class"] == ""


def pd_isna(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def test_every_report_in_both_locales(book):
    from xlar.reports.catalog import REPORTS
    from xlar.reports.render import report_json, report_text

    with book.read() as conn:
        for name in REPORTS:
            for locale in ("zh-CN", "en"):
                result = run(conn, name, Params(date(2026, 3, 31), date(2026, 1, 1), date(2026, 3, 31),
                                                locale=locale))
                text = report_text(result)
                assert result.spec.title(locale) in text
                shown = result.shown()
                if locale == "zh-CN":
                    assert not [c for c in shown.columns if str(c).isascii() and str(c) not in ("DSO",)], name
                assert report_json(result)["rows"] == report_json(result)["rows"]


def test_base_balances_include_realized_exchange_differences(store):
    """USD 100 invoiced at 7.0 and paid at 7.2: the 20.00 realized gain is journal-only; the
    account detail's base balance still ends at 0.00 as the ledger's does."""
    from tests.books import customer
    from xlar.reports import ledger

    with store.write() as conn:
        customer(conn, "U1", "USD")
        inv = invoice(conn, "U1", date(2026, 3, 2), line("1", "100"), rate="7.0")
        pay(conn, receipt(conn, "U1", date(2026, 3, 9), "100", rate="7.2"), inv, "100")
    with store.read() as conn:
        detail = report(conn, "account-detail", date(2026, 3, 31), date(2026, 3, 1))
        [balance] = ledger.balances(conn, date(2026, 3, 31), "U1")
    closing = detail[detail["kind"] == "closing"].iloc[0]
    assert (closing.balance, closing.base_balance) == (D("0.00"), D("0.00")) == (balance.balance,
                                                                                balance.base_balance)
    assert "fx_realized" in set(detail["kind"])


def test_voids_net_out_in_the_collection_analysis(store):
    from tests.books import customer
    from xlar.services import documents as docs

    with store.write() as conn:
        customer(conn, "V1")
        invoice(conn, "V1", date(2026, 1, 5), line("1", "1000"))
        inv2 = invoice(conn, "V1", date(2026, 1, 10), line("1", "500"))
        bounced = receipt(conn, "V1", date(2026, 1, 20), "300")
        docs.void(conn, bounced, date(2026, 2, 3), USER, "bounced")
        docs.void(conn, inv2, date(2026, 3, 3), USER, "wrong customer")
    with store.read() as conn:
        months = report(conn, "collection-analysis", date(2026, 3, 31), date(2026, 1, 1)).set_index("period")
    assert [(m.opening, m.invoiced, m.received, m.other, m.closing) for m in months.itertuples()] == [
        (D("0.00"), D("1500.00"), D("300.00"), D("0.00"), D("1200.00")),
        (D("1200.00"), D("0.00"), D("-300.00"), D("0.00"), D("1500.00")),
        (D("1500.00"), D("-500.00"), D("0.00"), D("0.00"), D("1000.00"))]


def test_installments_are_forecast_on_their_own_dates(store):
    from tests.books import customer
    from xlar.domain.documents import DocKind
    from xlar.services import documents as docs
    with store.write() as conn:
        customer(conn, "I1")
        monthly_thirds(conn)
        doc = docs.create_draft(conn, docs.DraftDocument(DocKind.INVOICE, "I1", date(2026, 3, 10), (line("1", "300"),),
                                                         installment_terms="3P"), USER)
        docs.post(conn, doc, USER)
    with store.read() as conn:
        detail = report(conn, "forecast-detail", date(2026, 3, 10))
        due = report(conn, "due", date(2026, 5, 31), date(2026, 3, 1))
    assert [(r.installment, r.expected, r.open) for r in detail.itertuples()] == [
        (1, date(2026, 3, 10), D("100.00")), (2, date(2026, 4, 10), D("100.00")), (3, date(2026, 5, 10), D("100.00"))]
    assert list(due["expected"]) == [date(2026, 3, 10), date(2026, 4, 10), date(2026, 5, 10)]


def test_a_customer_who_paid_but_is_not_matched_is_not_dunned(store):
    from tests.books import customer

    with store.write() as conn:
        customer(conn, "P1", terms="NET30")
        invoice(conn, "P1", date(2026, 1, 5), line("1", "1000"))
        receipt(conn, "P1", date(2026, 3, 1), "1000")             # approved, not matched
    with store.read() as conn:
        [work] = collections.worklist(conn, date(2026, 3, 20))
        forecast = report(conn, "forecast-detail", date(2026, 3, 20))
        aging = report(conn, "aging", date(2026, 3, 20)).set_index("customer")
        assert letters(conn, [work], date(2026, 3, 20), "en") == []
    assert work.level is None and "match them first" in work.reason
    assert forecast.empty
    assert aging.loc["P1", "balance"] == D("0.00") and aging.loc["P1", "allowance"] == D("0.00")


@pytest.mark.parametrize("as_of", [date(2026, 1, 4), date(2026, 2, 28), date(2026, 3, 20), date(2026, 3, 31)])
def test_reports_sharing_one_history_say_what_they_say_alone(book, as_of):
    """A sync reads the book's history once for Overdue, Worklist and the forecast: each report
    built from it is the report built from its own query, cell for cell and row for row."""
    import pandas as pd

    from xlar.reports.collection import history

    with book.read() as conn:
        found = history(conn, as_of)
        for name in ("overdue", "worklist", "forecast-detail"):
            for locale in ("zh-CN", "en"):
                alone = report(conn, name, as_of, locale=locale)
                shared = report(conn, name, as_of, locale=locale, history=found)
                assert len(alone) or as_of < date(2026, 1, 5), name   # nothing before the first invoice
                # an empty frame's column types (object or float) show nothing on a sheet
                pd.testing.assert_frame_equal(shared, alone, check_exact=True, check_dtype=bool(len(alone)))
