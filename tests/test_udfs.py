"""Worksheet functions called as Excel calls them (floats, datetimes, blanks, ranges), checked
against the reports; a recalculation of 10,000 cells costs one store statement; a colleague's
change is seen at the next recalculation; bad arguments give #XLAR-… codes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from tests.books import USER, customer, invoice, line, receipt
from tests.counting import Clock, Statements
from xlar.domain.terms import add_months
from xlar.excel import udfs
from xlar.reports import ledger as reports
from xlar.reports.facts import FACTS
from xlar.services import matching
from xlar.services.credit import exposure
from xlar.store.settings import read_settings, write_settings
from xlar.store.tables import open_items

AS_OF = date(2026, 3, 31)
SERIAL = 46112.0   # 2026-03-31 as Excel counts days


def item(conn, doc_id):
    return conn.execute(sa.select(open_items.c.id).where(open_items.c.document_id == doc_id)).scalar_one()


@pytest.fixture
def book(store, monkeypatch):
    """C1 (CNY, NET30): 1,000 on 5 Jan, 500 on 20 Jan, 600 received 10 Feb for the first.
    1001 (a numeric code, USD): 100.00 at 7.0 on 1 Mar. C3: nothing yet."""
    with store.write() as conn:
        write_settings(conn, {"current_period": "2026-03", "aging_buckets": "30,60,90"}, "setup")
        customer(conn, "C1", terms="NET30")
        customer(conn, "1001", "USD", terms="NET30")
        customer(conn, "C3")
        inv1 = invoice(conn, "C1", date(2026, 1, 5), line("1", "1000"))
        invoice(conn, "C1", date(2026, 1, 20), line("1", "500"))
        paid = receipt(conn, "C1", date(2026, 2, 10), "600")
        matching.allocate(conn, [matching.Match(item(conn, inv1), item(conn, paid), D(600))], method="manual",
                          user=USER)
        invoice(conn, "1001", date(2026, 3, 1), line("1", "100"), rate="7")
    monkeypatch.setenv("XLAR_STORE", store.url)
    clock = Clock()
    monkeypatch.setattr(FACTS, "clock", clock)
    FACTS.forget()
    yield store, clock
    FACTS.forget()


def test_figures_equal_the_reports(book):
    store, _ = book
    with store.read() as conn:
        aging = {(r.customer, r.currency): r for r in reports.aging(conn, AS_OF).rows}
        credit = exposure(conn, "C1", date.today(), read_settings(conn))
    c1 = aging[("C1", "CNY")]
    assert udfs.AR_BALANCE("C1", AS_OF) == float(c1.balance) == 900.0
    for label, amount in c1.buckets.items():
        assert udfs.AR_AGING("C1", label, AS_OF) == float(amount), label
    # due 4 and 19 Feb: 55 and 40 days late on 31 Mar
    assert udfs.AR_AGING("C1", "31-60", AS_OF) == 900.0 and udfs.AR_AGING("C1", "61-90", AS_OF) == 0.0
    assert udfs.AR_AGING("C1", 3, AS_OF) == 900.0            # by position: not due, 1-30, 31-60 …
    assert udfs.AR_AGING("C1", "1-30", date(2026, 3, 1)) == 900.0
    assert udfs.AR_OVERDUE("C1", AS_OF) == 900.0
    usd = aging[("1001", "USD")]
    assert udfs.AR_BALANCE(1001.0, AS_OF) == float(usd.balance) == 100.0     # a numeric code typed as a number
    assert udfs.AR_BALANCE(1001.0, AS_OF, "base") == float(usd.base_balance) == 700.0
    assert udfs.AR_AGING(1001.0, "未到期", AS_OF) == 100.0                      # the Chinese label
    assert udfs.AR_OVERDUE("1001", AS_OF) == 0.0
    assert udfs.AR_BALANCE("C3") == 0.0
    assert udfs.AR_CREDIT_AVAILABLE("C1") == ("" if credit.available is None else float(credit.available))
    assert udfs.AR_PERIOD() == "2026-03"


def test_arguments_as_excel_passes_them(book):
    as_dates = [AS_OF, datetime(2026, 3, 31), SERIAL, "2026-03-31"]
    assert {udfs.AR_BALANCE("C1", d) for d in as_dates} == {900.0}
    assert udfs.AR_BALANCE("C1", None) == udfs.AR_BALANCE("C1", "") == udfs.AR_BALANCE("C1")   # blank: today
    assert udfs.AR_BALANCE("C1", date(2026, 1, 31)) == 1500.0                  # before the receipt
    assert udfs.AR_DUE("C1", date(2026, 2, 1), date(2026, 2, 28)) == 900.0      # due 4 Feb and 19 Feb
    assert udfs.AR_DUE("C1", SERIAL, SERIAL + 30) == 0.0
    items = udfs.AR_OPEN_ITEMS("C1", AS_OF)
    assert items[0] == udfs.OPEN_ITEM_HEADERS
    assert [(r[0], r[3], r[5], r[6]) for r in items[1:]] == [
        ("INV-2026-00001", date(2026, 2, 4), 400.0, 55), ("INV-2026-00002", date(2026, 2, 19), 500.0, 40)]
    assert udfs.AR_BALANCES([["C1", None], ["C3", 1001.0]], AS_OF) == [[900.0, ""], [0.0, 100.0]]
    assert udfs.AR_BALANCES("C1", AS_OF) == [[900.0]]


def test_bad_arguments_give_short_codes(book, monkeypatch):
    assert udfs.AR_BALANCE("C404") == "#XLAR-CUSTOMER"
    assert udfs.AR_BALANCE(None) == udfs.AR_BALANCE("  ") == udfs.AR_BALANCE(True) == "#XLAR-ARG"
    assert udfs.AR_BALANCE("C1", "31/03/2026") == udfs.AR_BALANCE("C1", -5.0) == "#XLAR-DATE"
    assert udfs.AR_AGING("C1", "old") == udfs.AR_AGING("C1", 99) == udfs.AR_AGING("C1", 1.5) == "#XLAR-BUCKET"
    assert udfs.AR_DUE("C1", SERIAL, SERIAL - 1) == "#XLAR-ARG"
    assert udfs.AR_DSO("C1", -1) == udfs.AR_DSO("C1", "x") == "#XLAR-ARG"
    FACTS.forget()
    monkeypatch.setenv("XLAR_STORE", "postgresql://nobody@127.0.0.1:1/none")
    assert udfs.AR_BALANCE("C1") == "#XLAR-STORE"


def test_ten_thousand_cells_cost_one_statement_and_a_colleagues_change_is_seen(book):
    store, clock = book
    codes = ["C1", "1001", "C3"]
    with Statements() as seen:
        cells = [udfs.AR_BALANCE(codes[i % 3], AS_OF) for i in range(10_000)]
    assert seen.count == 1
    assert cells[:3] == [900.0, 100.0, 0.0]
    with Statements() as seen:
        clock.now += 0.5                      # still the same recalculation
        assert udfs.AR_OVERDUE("C1", AS_OF) == 900.0
    assert seen.count == 0
    with store.write() as conn:               # a colleague posts an invoice
        invoice(conn, "C3", date(2026, 3, 20), line("1", "250"))
    clock.now += 5                            # the next recalculation
    with Statements() as seen:
        assert [udfs.AR_BALANCE(c, AS_OF) for c in codes] == [900.0, 100.0, 250.0]
    assert seen.count == 2                    # the change counter, then the new snapshot
    clock.now += 5
    with Statements() as seen:
        assert udfs.AR_BALANCE("C3", AS_OF) == 250.0
    assert seen.count == 1                    # unchanged: the counter alone


def test_buckets_add_up_to_the_balance(book):
    for code in ("C1", "1001", "C3"):
        policy_labels = ("not_due", "1-30", "31-60", "61-90", "91+", "unapplied")
        total = sum(udfs.AR_AGING(code, label, AS_OF) for label in policy_labels)
        assert total == pytest.approx(udfs.AR_BALANCE(code, AS_OF), abs=1e-9)


def test_dso_over_the_last_months(book):
    store, _ = book
    today = date.today()
    with store.write() as conn:
        customer(conn, "C9")
        invoice(conn, "C9", today - timedelta(days=10), line("1", "300"))
        invoice(conn, "C9", today - timedelta(days=200), line("1", "100"))   # before the window
    FACTS.forget()
    days = (today - add_months(today, -3)).days
    # open 400 over 300 invoiced in the window
    assert udfs.AR_DSO("C9") == float((D(400) / D(300) * days).quantize(D("0.1")))
    assert udfs.AR_DSO("C9", 12.0) == float((D(400) / D(400) * (today - add_months(today, -12)).days
                                             ).quantize(D("0.1")))
    assert udfs.AR_DSO("C3") == ""      # no sales: no DSO


def test_a_workbook_of_ar_balance_formulas_evaluates_to_the_stores_figures(book, tmp_path):
    """The `formulas` package computes a workbook as Excel would, with our functions registered."""
    import openpyxl

    from tests.formulas_udfs import evaluate, registered

    registered()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "AR"
    ws["E1"] = AS_OF
    codes = ["C1", 1001, "C3", "C404"]
    for r in range(1, 201):
        ws.cell(r, 1, codes[r % 4])
        ws.cell(r, 2, f"=AR_BALANCE(A{r},$E$1)")
        ws.cell(r, 3, f'=AR_AGING(A{r},"31-60",$E$1)')
    ws["D1"] = '=AR_BALANCE("C1",$E$1)+AR_OVERDUE("C1",$E$1)'
    path = tmp_path / "formulas.xlsx"
    wb.save(path)
    with Statements() as seen:
        cells = evaluate(str(path))
    assert seen.count == 1
    expected = {"C1": 900.0, 1001: 100.0, "C3": 0.0, "C404": "#XLAR-CUSTOMER"}
    for r in range(1, 201):
        assert cells[f"AR!B{r}"] == expected[codes[r % 4]], r
    assert {cells[f"AR!C{r}"] for r in range(4, 201, 4)} == {900.0}   # C1: all 31-60 days late
    assert cells["AR!D1"] == 1800.0


def test_a_change_during_a_recalculation_leaves_no_older_snapshot(book):
    store, clock = book
    assert udfs.AR_BALANCE("C3", AS_OF) == 0.0
    with store.write() as conn:
        invoice(conn, "C3", date(2026, 3, 20), line("1", "250"))
    clock.now += 0.2                                   # the same recalculation, another date
    assert udfs.AR_BALANCE("C3", date(2026, 4, 30)) == 250.0
    clock.now += 5                                     # the next recalculation
    assert udfs.AR_BALANCE("C3", AS_OF) == 250.0


def test_a_balance_answered_from_the_snapshot_is_the_one_summed_and_a_refusal_is_never_kept(tmp_path, monkeypatch):
    """AR_BALANCE keeps each customer's sum with its snapshot: asked again it gives the same
    number; TRUE is refused even after 1 was answered (equal as keys, not as arguments)."""
    from xlar.store.engine import Store

    url = f"sqlite:///{tmp_path / 'x.db'}"
    store = Store.connect(url)
    store.upgrade()
    with store.write() as conn:
        customer(conn, "1")
        invoice(conn, "1", date(2026, 3, 1), line("1", "100"))
    store.dispose()
    monkeypatch.setenv("XLAR_STORE", url)
    FACTS.forget()
    try:
        first = [udfs.AR_BALANCE(1, "2026-03-31"), udfs.AR_BALANCE(1, "2026-03-31"), udfs.AR_BALANCE("1", "2026-03-31")]
        assert first == [100.0, 100.0, 100.0]
        assert udfs.AR_BALANCE(True, "2026-03-31") == "#XLAR-ARG"
        assert udfs.AR_BALANCE("NOPE", "2026-03-31") == "#XLAR-CUSTOMER"
        assert udfs.AR_BALANCE("1", "2026-02-28") == 0.0
    finally:
        FACTS.forget()
