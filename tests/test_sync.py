"""xlar sync: a newcomer's path, posting, deleting, refusals and conflicts, on both stores."""

import shutil
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from tests.books import USER, customer, invoice, line, receipt
from tests.sheets import add_rows, delete_row, edit, read
from xlar.reports import ledger as reports
from xlar.services import matching
from xlar.store.tables import open_items
from xlar.sync.engine import sync_workbook
from xlar.workbook.template import build_template

AS_OF = date(2026, 3, 31)


@pytest.fixture
def workbook(tmp_path):
    def make(name="AR.xlsx", locale="en"):
        return build_template(tmp_path / name, locale)
    return make


def sync(path, store, user="alice", **kw):
    return sync_workbook(path, store, user, as_of=AS_OF, **kw)


def newcomer_rows(path, locale="en"):
    add_rows(path, "Customers", [
        {"code": "C001", "name": "Acme Ltd.", "currency": "CNY", "credit_limit": 50000},
        {"code": "C002", "name": "Beta GmbH", "currency": "CNY"}], locale)
    add_rows(path, "Invoices", [
        {"number": "T1", "date": date(2026, 1, 10), "customer": "C001", "due_date": date(2026, 2, 9),
         "status": "posted"},
        {"number": "T2", "date": date(2026, 3, 5), "customer": "C002", "status": "draft"}], locale)
    add_rows(path, "InvoiceLines", [
        {"invoice": "T1", "line": 1, "item": "A-1", "qty": 2, "unit_price": 50, "tax_rate": 0.13},
        {"invoice": "T2", "line": 1, "item": "B-1", "qty": 1, "unit_price": 99.5, "tax_rate": 0.13},
        {"invoice": "T2", "line": 2, "item": "B-2", "qty": 3, "unit_price": 10, "tax_rate": 0}], locale)
    add_rows(path, "Receipts", [
        {"number": "R1", "date": date(2026, 3, 10), "customer": "C001", "amount": 100, "status": "posted"}],
        locale)


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_a_newcomers_path(store, workbook, locale):
    path = workbook(locale=locale)
    newcomer_rows(path, locale)
    result = sync(path, store)
    assert result.issues == [] and result.written
    assert result.counts["Invoices added"] == 2 and result.counts["Receipts added"] == 1
    with store.read() as conn:
        balances = {b.customer: b.balance for b in reports.balances(conn, AS_OF)}
    assert balances == {"C001": Decimal("13.00")}  # T2 is a draft: not on the ledger yet
    zh = locale == "zh-CN"
    invoices = read(path, "发票" if zh else "Invoices")
    assert [r["发票单号" if zh else "Invoice no."] for r in invoices] == ["INV-2026-00001", "DRAFT-2"]
    aging = read(path, "账龄" if zh else "Aging")
    total = aging[-1]
    unapplied, not_due = ("未核销收款", "未到期") if zh else ("unapplied", "not_due")
    assert total["31-60 (CNY)"] == 113.0 and total[f"{unapplied} (CNY)"] == -100.0 and total[f"{not_due} (CNY)"] == 0
    assert total["31-60"] is None or total["31-60"] == ""   # a total only in the base currency
    balances_sheet = read(path, "余额" if zh else "Balances")
    assert {r["客户编号" if zh else "Customer"]: r["余额" if zh else "Balance"] for r in balances_sheet} == {
        "C001": 13.0}
    # a second sync changes nothing and leaves every cell as it was
    before = path.read_bytes()
    again = sync(path, store)
    assert again.summary() == ("没有变化" if zh else "no changes") and not again.written
    assert path.read_bytes() == before
    assert result.summary() == ("客户新增 2，发票新增 2，收款单新增 1" if zh else
                                "2 Customers added, 2 Invoices added, 1 Receipts added")


def test_the_errors_sheet_names_every_bad_cell_and_nothing_is_lost(store, workbook):
    path = workbook()
    newcomer_rows(path)
    add_rows(path, "Invoices", [{"number": "T3", "date": "3/15/2026", "customer": "C001"},
                                {"number": "T4", "date": date(2026, 3, 6), "customer": "C404"}])
    add_rows(path, "InvoiceLines", [{"invoice": "T3", "line": 1, "item": "X", "qty": 1, "unit_price": 1},
                                    {"invoice": "T4", "line": 1, "item": "X", "qty": "two", "unit_price": 1}])
    result = sync(path, store)
    errors = {(e["Sheet"], e["Code"]): e for e in read(path, "Errors")}
    assert "date typed as text '3/15/2026'" in errors[("Invoices", "XLAR-E113")]["Message"]
    assert "'two' is not a number" in errors[("InvoiceLines", "XLAR-E108")]["Message"]
    assert "T4 is held back until its lines" in errors[("Invoices", "XLAR-E124")]["Message"]
    assert result.counts["Invoices added"] == 2
    shown = {r["Invoice no."]: r for r in read(path, "Invoices")}
    assert shown["T3"]["Date"] == "3/15/2026" and shown["T4"]["Customer"] == "C404"  # kept as typed
    row_of_t3 = list(shown).index("T3") + 3      # below the legend and the headers
    assert errors[("Invoices", "XLAR-E113")]["Row"] == row_of_t3
    # fixing the cells lets them through on the next sync
    edit(path, "Invoices", {"number": "T3"}, {"date": date(2026, 3, 15)})
    edit(path, "Invoices", {"number": "T4"}, {"customer": "C002"})
    edit(path, "InvoiceLines", {"invoice": "T4"}, {"qty": 2})
    fixed = sync(path, store)
    assert fixed.issues == [] and fixed.counts["Invoices added"] == 2
    assert read(path, "Errors") == []


def test_posting_by_status_and_deleting_drafts(store, workbook):
    path = workbook()
    newcomer_rows(path)
    sync(path, store)
    edit(path, "Invoices", {"number": "DRAFT-2"}, {"status": "posted"})
    result = sync(path, store)
    assert result.counts["Invoices changed"] == 1
    numbers = [r["Invoice no."] for r in read(path, "Invoices")]
    assert numbers == ["INV-2026-00001", "INV-2026-00002"]
    assert {r["Invoice no."] for r in read(path, "InvoiceLines")} == {"INV-2026-00001", "INV-2026-00002"}
    add_rows(path, "Invoices", [{"number": "T9", "date": date(2026, 3, 20), "customer": "C001"}])
    add_rows(path, "InvoiceLines", [{"invoice": "T9", "line": 1, "item": "Q", "qty": 1, "unit_price": 5}])
    sync(path, store)
    delete_row(path, "Invoices", {"number": "DRAFT-4"})
    delete_row(path, "InvoiceLines", {"invoice": "DRAFT-4"})
    assert sync(path, store).counts["Invoices deleted"] == 1
    delete_row(path, "Invoices", {"number": "INV-2026-00001"})
    refused = sync(path, store)
    assert any("refused" in i.message and "INV-2026-00001" in i.message for i in refused.issues)
    assert "INV-2026-00001" in [r["Invoice no."] for r in read(path, "Invoices")]  # back again


def test_a_posted_invoice_refuses_edits_and_the_users_version_is_kept(store, workbook):
    path = workbook()
    newcomer_rows(path)
    sync(path, store)
    edit(path, "Invoices", {"number": "INV-2026-00001"}, {"memo": "changed after posting"})
    result = sync(path, store)
    assert any("cannot be changed" in i.message for i in result.issues)
    conflicts = read(path, "Conflicts")
    assert [(c["Column"], c["Yours"]) for c in conflicts] == [("memo", "changed after posting")]
    assert read(path, "Invoices")[0]["Memo"] in ("", None)
    edit(path, "Invoices", {"number": "INV-2026-00001"}, {"fapiao_no": "04400123"})
    assert sync(path, store).counts["Invoices changed"] == 1  # the fapiao number comes after posting


def test_dry_run_changes_nothing(store, workbook):
    path = workbook()
    newcomer_rows(path)
    before = path.read_bytes()
    result = sync(path, store, dry_run=True)
    assert result.counts["Invoices added"] == 2 and "would apply" in result.summary()
    assert result.planned["Invoices add"] == 2 and result.planned["Customers add"] == 2
    assert path.read_bytes() == before
    with store.read() as conn:
        assert reports.balances(conn, AS_OF) == []


def test_user_columns_are_kept(store, workbook, tmp_path):
    import openpyxl
    path = workbook()
    newcomer_rows(path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Customers"]
    ws.cell(2, 20, "My rating")      # beside the headers (row 1 is the legend)
    ws.cell(3, 20, "good payer")
    wb.save(path)
    sync(path, store)
    rows = {r["Code"]: r for r in read(path, "Customers")}
    assert rows["C001"]["My rating"] == "good payer"


def test_two_colleagues_never_lose_a_row(store, workbook, tmp_path):
    mine = workbook("mine.xlsx")
    newcomer_rows(mine)
    sync(mine, store, "alice")
    theirs = tmp_path / "theirs.xlsx"
    shutil.copyfile(mine, theirs)
    # both add rows, both edit different rows, both edit the same row, one deletes what the other edits
    add_rows(mine, "Customers", [{"code": "C100", "name": "Mine Co.", "currency": "CNY"}])
    add_rows(theirs, "Customers", [{"code": "C200", "name": "Theirs Co.", "currency": "USD"}])
    edit(mine, "Customers", {"code": "C001"}, {"phone": "111"})
    edit(theirs, "Customers", {"code": "C002"}, {"phone": "222"})
    edit(mine, "Invoices", {"number": "DRAFT-2"}, {"memo": "alice's memo"})
    edit(theirs, "Invoices", {"number": "DRAFT-2"}, {"memo": "bob's memo"})
    add_rows(mine, "Invoices", [{"number": "TX", "date": date(2026, 3, 25), "customer": "C001"}])
    add_rows(mine, "InvoiceLines", [{"invoice": "TX", "line": 1, "item": "K", "qty": 1, "unit_price": 7}])
    sync(mine, store, "alice")
    edit(mine, "Invoices", {"number": "DRAFT-4"}, {"memo": "alice edits"})
    bob_first = sync(theirs, store, "bob")
    delete_row(theirs, "Invoices", {"number": "DRAFT-4"})
    delete_row(theirs, "InvoiceLines", {"invoice": "DRAFT-4"})
    bob = sync(theirs, store, "bob")
    assert bob.counts["Invoices deleted"] == 1
    alice = sync(mine, store, "alice")
    for path in (mine, theirs):
        sync(path, store, "carol")
    codes = {r["Code"]: r for r in read(mine, "Customers")}
    assert set(codes) == {"C001", "C002", "C100", "C200"}
    assert (codes["C001"]["Phone"], codes["C002"]["Phone"]) == ("111", "222")
    memo = {r["Invoice no."]: r["Memo"] for r in read(theirs, "Invoices")}
    assert memo["DRAFT-2"] == "alice's memo"  # the first to sync wins the same row ...
    lost = [c for c in bob_first.conflicts if c.yours.get("memo") == "bob's memo"]
    assert lost and lost[0].reason.startswith("changed in the store")  # ... the other's is kept
    deleted = [c for c in alice.conflicts if c.yours.get("memo") == "alice edits"]
    assert deleted and "deleted in the store" in deleted[0].reason
    assert read(mine, "Invoices") == read(theirs, "Invoices")
    assert any(c["Yours"] == "alice edits" for c in read(mine, "Conflicts"))  # kept until she clears it


def test_overdue_means_open_and_past_due(store, workbook):
    """The Invoices sheet shows each posted document's open amount on the sync's date, and the
    overdue highlight looks at it: a paid invoice, a draft or a credit note is never marked."""
    with store.write() as conn:
        code = customer(conn, "C001")
        paid = invoice(conn, code, date(2026, 1, 5), line("1", "100"), due=date(2026, 2, 4))
        invoice(conn, code, date(2026, 1, 6), line("1", "50"), due=date(2026, 2, 5))
        rec = receipt(conn, code, date(2026, 2, 1), "100", approve=False)   # one person: clears confirmed
        items = dict(conn.execute(sa.select(open_items.c.document_id, open_items.c.id)).all())
        matching.allocate(conn, [matching.Match(items[paid], items[rec], Decimal(100))], method="manual", user=USER)
    path = workbook(locale="en")
    add_rows(path, "Invoices", [{"number": "T9", "date": date(2026, 1, 7), "customer": "C001", "status": "draft",
                                 "due_date": date(2026, 2, 6)}])
    add_rows(path, "InvoiceLines", [{"invoice": "T9", "line": 1, "item": "A", "qty": 1, "unit_price": 9}])
    sync(path, store)
    rows = {r["Invoice no."]: r for r in read(path, "Invoices")}
    assert rows["INV-2026-00001"]["Open"] == 0 and rows["INV-2026-00002"]["Open"] == 50
    assert rows["DRAFT-4"]["Open"] in (None, "")   # a draft owes nothing yet
    ws = load_workbook(path)["Invoices"]
    header = [c.value for c in ws[2]]
    open_col = get_column_letter(header.index("Open") + 1)
    [rule] = [r for cf in ws.conditional_formatting for r in cf.rules if "TODAY()" in r.formula[0]]
    assert f"N(${open_col}3)>0" in rule.formula[0] and "Status" not in rule.formula[0]


def test_new_receipts_need_no_number(store, workbook):
    """A receipt typed without a number goes in and comes back numbered: DRAFT-n for a draft,
    the series number once posted; the next sync changes nothing."""
    path = workbook(locale="en")
    add_rows(path, "Customers", [{"code": "C001", "name": "Acme", "currency": "CNY"}])
    add_rows(path, "Receipts", [{"date": date(2026, 3, 10), "customer": "C001", "amount": 100, "status": "posted"},
                                {"date": date(2026, 3, 11), "customer": "C001", "amount": 50},
                                {"date": date(2026, 3, 12), "customer": "C001", "amount": 70, "status": "posted"}])
    report = sync(path, store)
    assert report.issues == [] and report.counts["Receipts added"] == 3
    assert [(r["Receipt no."], r["Amount"]) for r in read(path, "Receipts")] == [
        ("RC-2026-00001", 100), ("DRAFT-2", 50), ("RC-2026-00002", 70)]
    assert sync(path, store).summary() == "no changes"


def test_output_amounts_have_their_currencys_decimals(store, workbook):
    """JPY amounts show no decimals, CNY two (they showed ".00" for yen); base columns keep the
    base currency's."""
    with store.write() as conn:
        customer(conn, "J1", currency="JPY")
        customer(conn, "C1")
        invoice(conn, "J1", date(2026, 3, 5), line("3", "1000"), rate="0.048")
        invoice(conn, "C1", date(2026, 3, 5), line("1", "10.50"))
    path = workbook(locale="en")
    sync(path, store)
    ws = load_workbook(path)["Balances"]
    formats = {ws.cell(r, 1).value: (ws.cell(r, 4).number_format, ws.cell(r, 5).number_format)
               for r in range(2, ws.max_row + 1)}
    assert formats["J1"] == ("#,##0;[Red]-#,##0", "#,##0.00;[Red]-#,##0.00")
    assert formats["C1"] == ("#,##0.00;[Red]-#,##0.00", "#,##0.00;[Red]-#,##0.00")
    aging = load_workbook(path)["Aging"]
    row = next(r for r in range(2, aging.max_row + 1) if aging.cell(r, 1).value == "J1")
    buckets = [c for c in range(4, aging.max_column + 1) if "(CNY)" not in str(aging.cell(1, c).value)]
    assert {aging.cell(row, c).number_format for c in buckets} == {"#,##0;[Red]-#,##0"}    # yen
    assert {aging.cell(row, c).number_format for c in range(4, aging.max_column + 1)} - {
        aging.cell(row, c).number_format for c in buckets} == {"#,##0.00;[Red]-#,##0.00"}   # the base columns


def test_output_sheets_are_filtered_tables_of_numbers_whose_base_columns_add_up(store, workbook):
    """Every output sheet has a filter over its rows (not its total row); Aging's total row is bold
    and in the base currency, and each base column of the rows adds up to it; amounts are numbers."""
    with store.write() as conn:
        customer(conn, "U1", currency="USD")
        customer(conn, "C1")
        invoice(conn, "U1", date(2026, 1, 5), line("3", "1000.10"), rate="7.1234")
        invoice(conn, "U1", date(2026, 3, 5), line("1", "99.99"), rate="7.2001")
        invoice(conn, "C1", date(2026, 2, 5), line("1", "10.50"))
        receipt(conn, "C1", date(2026, 3, 6), "3.33")
    path = workbook(locale="en")
    sync(path, store)
    wb = load_workbook(path)
    for name in ("Balances", "Aging", "Overdue", "Worklist", "Forecast", "Journal", "Errors", "Conflicts"):
        ws = wb[name]
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name
    aging = wb["Aging"]
    last = aging.max_row
    assert aging.auto_filter.ref.endswith(str(last - 1))              # the total row stays out of the filter
    assert aging.cell(last, 1).value == "Total (CNY)" and aging.cell(last, 1).font.b
    headers = [c.value for c in aging[1]]
    base = [i for i, h in enumerate(headers, start=1) if str(h).endswith("(CNY)")]
    assert len(base) == len(headers) - 3 - len(base)                    # each bucket twice: own and base currency
    for c in base:
        rows = [aging.cell(r, c).value for r in range(2, last)]
        assert all(isinstance(v, (int, float)) for v in rows)
        assert round(sum(Decimal(str(v)) for v in rows), 2) == round(Decimal(str(aging.cell(last, c).value)), 2)
    assert all(aging.cell(last, c).value is None for c in range(3, base[0]))   # no sum across currencies


def test_output_sheets_print_readably_with_their_header_on_every_page(store, workbook):
    """A narrow output sheet prints portrait one page wide; Aging (each bucket twice) at 73 % over
    pages with its first column repeated; every output sheet repeats its header row."""
    from xlar.workbook.printing import LANDSCAPE_WIDTH, LEAST_SCALE, PORTRAIT_WIDTH

    with store.write() as conn:
        customer(conn, "C1")
        invoice(conn, "C1", date(2026, 2, 5), line("1", "10.50"))
    path = workbook(locale="en")
    sync(path, store)
    sync_workbook(path, store, "alice", as_of=date(2026, 4, 1))   # written again: replaced, not added
    wb = load_workbook(path)
    for name in ("Balances", "Aging", "Journal", "Errors"):
        ws = wb[name]
        width = sum(d.width for d in ws.column_dimensions.values() if d.width)
        setup = ws.page_setup
        assert ws.print_title_rows == "$1:$1", name
        if ws.sheet_properties.pageSetUpPr.fitToPage:
            page = PORTRAIT_WIDTH if setup.orientation == "portrait" else LANDSCAPE_WIDTH
            assert min(1.0, page / width) * 11 >= 8, name
        else:
            assert int(setup.scale) == round(LEAST_SCALE * 100) and ws.print_title_cols == "$A:$A", name
    assert wb["Balances"].page_setup.orientation == "portrait"
    assert not wb["Aging"].sheet_properties.pageSetUpPr.fitToPage



def test_a_cell_counts_as_shown_only_when_a_sync_would_write_it_so():
    """A sheet is copied, not rewritten, only when every cell already reads back as what the sync
    would write: a number as the float Excel keeps, a date as a date, a date at midnight as well;
    a time of day or a duration, which the sync writes as their text, never counts as shown."""
    from datetime import datetime, time, timedelta

    from xlar.sync.pull import _shows

    assert _shows(113.0, Decimal("113.00")) and _shows(1.5, 1.5) and _shows("C001", "C001") and _shows(None, "")
    assert _shows(datetime(2026, 3, 1), date(2026, 3, 1)) and not _shows(datetime(2026, 3, 1, 9), date(2026, 3, 1))
    assert not _shows(time(12, 30), time(12, 30)) and not _shows(timedelta(hours=1), timedelta(hours=1))
    assert not _shows(1, True) and not _shows("113", Decimal(113)) and not _shows(0.1 + 0.2, Decimal("0.3"))


def test_a_sync_rewrites_only_the_sheets_whose_cells_change(store, workbook, monkeypatch):
    """A sheet that shows the store's rows already, cell for cell, is copied as the user saved it;
    one with an edit, or whose computed cells move in the store (an invoice's open amount after a
    match), is written again; and the next sync finds nothing to do."""
    from xlar.workbook import writer
    written = []
    write_input = writer._write_input
    monkeypatch.setattr(writer, "_write_input", lambda pkg, sheet: (written.append(sheet.title),
                                                                    write_input(pkg, sheet)))
    path = workbook(locale="en")
    newcomer_rows(path)
    sync(path, store)
    assert {"Customers", "Invoices", "InvoiceLines", "Receipts"} <= set(written)
    edit(path, "Customers", {"code": "C002"}, {"phone": "555-0102"})   # saved by another program
    written.clear()
    second = sync(path, store)
    assert second.summary() == "1 Customers changed" and second.written
    assert "Customers" in written and not {"Invoices", "InvoiceLines", "Receipts"} & set(written)
    assert {r["Code"]: r["Phone"] for r in read(path, "Customers")} == {"C001": "", "C002": "555-0102"}
    assert [r["Open"] for r in read(path, "Invoices")] == [113.0, ""]
    with store.write() as conn:   # the store alone moves: an invoice's open amount, a computed cell
        items = dict(conn.execute(sa.select(open_items.c.document_id, open_items.c.id)).all())
        invoice_id, receipt_id = sorted(items)[:2]
        matching.allocate(conn, [matching.Match(items[invoice_id], items[receipt_id], Decimal(100))],
                          method="manual", user=USER)
    edit(path, "Customers", {"code": "C001"}, {"phone": "555-0101"})
    written.clear()
    third = sync(path, store)
    assert third.summary() == "1 Customers changed"
    assert "Invoices" in written and not {"InvoiceLines", "Receipts"} & set(written)
    assert [r["Open"] for r in read(path, "Invoices")] == [13.0, ""]
    before = path.read_bytes()
    assert not sync(path, store).written and path.read_bytes() == before
