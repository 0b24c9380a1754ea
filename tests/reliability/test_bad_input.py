"""What the fuzz harness found (issue 9), one focused test each: damaged workbooks refused in
one line, cells the store cannot keep named as issues, bank and opening files that would have
swallowed rows refused, and the sync surviving a typed-over hidden id."""

from __future__ import annotations

import time
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tests.reliability.badvalues import XCell, num, text
from tests.reliability.fuzz_bank import BILLION_LAUGHS
from tests.reliability.xlsx import Template, header, row_of
from tests.sheets import add_rows
from xlar.domain.errors import InvalidDocument
from xlar.imports.bank import InvalidImport, parse_statement
from xlar.schema.cells import CellError, Parsed, parse_cell
from xlar.schema.sheets import CUSTOMERS, FX_RATES, PAYMENT_TERMS
from xlar.services.customers import save_customer
from xlar.services.opening import import_opening
from xlar.sync.engine import sync_workbook
from xlar.workbook.package import BrokenWorkbook
from xlar.workbook.reader import read_workbook
from xlar.workbook.state import STATE_SHEET
from xlar.workbook.template import build_template

AS_OF = date(2026, 3, 31)


@pytest.fixture
def template(tmp_path) -> Template:
    return Template(build_template(tmp_path / "template.xlsx", "en"))


def customers(template: Template, path: Path, *rows: dict[str, XCell | None]) -> Path:
    """The template with Customers holding ROWS (column key -> cell)."""
    return customers_rows(template, path, *(row_of(CUSTOMERS, r) for r in rows))


def customers_rows(template: Template, path: Path, *rows: list[XCell | None]) -> Path:
    part = template.sheet("Customers", [header(CUSTOMERS), *rows])
    return template.write(path, {template.sheets["Customers"]: part})


GOOD = {"code": text("C1"), "name": text("Acme"), "currency": text("CNY")}


# ---------------------------------------------------------------- damaged workbooks

def test_a_cut_workbook_is_refused_in_one_line(template, tmp_path):
    path = customers(template, tmp_path / "AR.xlsx", GOOD)
    path.write_bytes(path.read_bytes()[:40_000])
    with pytest.raises(BrokenWorkbook, match=r"AR.xlsx cannot be read as a workbook \(invalid Zip archive") as err:
        read_workbook(path)
    assert "\n" not in str(err.value)


def test_a_workbook_without_its_list_of_sheets_is_refused(template, tmp_path):
    path = template.write(tmp_path / "AR.xlsx", {}, dropped=["xl/workbook.xml"])
    with pytest.raises(BrokenWorkbook, match="has no sheets"):
        read_workbook(path)


def test_entity_declarations_in_a_sheet_are_refused_quickly(template, tmp_path):
    path = customers(template, tmp_path / "AR.xlsx", GOOD | {"name": XCell("f", "Acme", '"Ac"&"me"')})
    with zipfile.ZipFile(path) as z:
        part = z.read(template.sheets["Customers"])
    bombed = BILLION_LAUGHS.replace("Document", "worksheet").encode() + part
    template.write(path, {template.sheets["Customers"]: bombed.replace(b"<t>_rev</t>", b"<t>_rev&i;</t>")})
    started = time.perf_counter()
    with pytest.raises(BrokenWorkbook, match="DTD or entity declarations"):
        read_workbook(path)
    assert time.perf_counter() - started < 2


def test_an_error_value_the_reader_does_not_know_refuses_the_sheet_by_name(template, tmp_path):
    path = customers(template, tmp_path / "AR.xlsx", GOOD, GOOD | {"code": text("C2"), "name": XCell("e", "#SPILL!")})
    with pytest.raises(BrokenWorkbook, match=r"sheet 'Customers' cannot be read \(Unsupported cell error"):
        read_workbook(path)


# ---------------------------------------------------------------- cells the store cannot keep

def test_a_typed_over_id_is_cleared_and_the_row_taken_as_new(template, tmp_path):
    row = row_of(CUSTOMERS, GOOD)
    at = len(CUSTOMERS.columns)              # _id, then _rev
    row[at], row[at + 1] = text("abc"), text("inf:x")
    book = read_workbook(customers_rows(template, tmp_path / "AR.xlsx", row))
    data = book.sheets["Customers"]
    [read] = data.rows
    assert (read.row_id, read.rev) == (None, None)
    assert [(i.code, i.message) for i in data.issues] == [
        ("XLAR-W102", "_id 'abc' is not a row id a sync wrote: it was cleared and the row is taken as a new row")]


def test_text_longer_than_the_store_keeps_is_an_issue_not_a_database_error(template, tmp_path):
    fx = template.sheet("FxRates", [header(FX_RATES), row_of(FX_RATES, {
        "currency": text("bitcoin"), "period": text("2026-03"), "rate": num(7.1)})])
    named = template.sheet("Customers", [header(CUSTOMERS), row_of(CUSTOMERS, GOOD | {"contact": text("x" * 101)})])
    book = read_workbook(template.write(tmp_path / "AR.xlsx", {template.sheets["FxRates"]: fx,
                                                               template.sheets["Customers"]: named}))
    assert [(i.sheet, i.column, i.code) for i in book.issues] == [
        ("Customers", "Contact", "XLAR-E105"), ("FxRates", "Currency", "XLAR-E105")]
    assert "has 101 characters; the book keeps at most 100 here" in book.issues[0].message


@pytest.mark.parametrize(("sheet", "key", "raw", "code"), [
    (FX_RATES, "rate", 1e300, "XLAR-E128"), (CUSTOMERS, "credit_limit", 1e300, "XLAR-E128"),
    (CUSTOMERS, "credit_limit", Decimal("1E+13"), "XLAR-E128"), (PAYMENT_TERMS, "days", 1e10, "XLAR-E128"),
    (PAYMENT_TERMS, "name", "net\x00 30", "XLAR-E129")])
def test_numbers_and_text_the_store_cannot_keep_are_cell_errors(sheet, key, raw, code):
    result = parse_cell(sheet.by_key[key], raw, "CNY")
    assert isinstance(result, CellError) and result.code == code, result


def test_the_largest_amounts_and_days_are_still_taken():
    assert parse_cell(CUSTOMERS.by_key["credit_limit"], 9_999_999_999_999.99, "CNY") == \
        Parsed(Decimal("9999999999999.99"))
    assert parse_cell(PAYMENT_TERMS.by_key["days"], 2_147_483_647.0) == Parsed(2_147_483_647)


def test_the_sync_survives_a_pasted_row_with_a_foreign_id(store, tmp_path):
    path = build_template(tmp_path / "AR.xlsx", "en")
    add_rows(path, "Customers", [{"code": "C1", "name": "Acme", "currency": "CNY"}])
    book = openpyxl.load_workbook(path)
    sheet = book["Customers"]
    column = [c.value for c in sheet[2]].index("_id") + 1          # the headers, below the legend
    sheet.cell(3, column, "row 12 of the old workbook")
    book.save(path)
    report = sync_workbook(path, store, "alice", as_of=AS_OF)
    assert report.counts["Customers added"] == 1
    assert [i.code for i in report.issues] == ["XLAR-W102"]


def test_a_state_sheet_another_program_changed_is_refused_in_one_line(store, tmp_path):
    path = build_template(tmp_path / "AR.xlsx", "en")
    add_rows(path, "Customers", [{"code": "C1", "name": "Acme", "currency": "CNY"}])
    sync_workbook(path, store, "alice", as_of=AS_OF)
    book = openpyxl.load_workbook(path)
    for row in book[STATE_SHEET].iter_rows():
        if row[0].value == "@as_of":
            row[1].value = "31/03/2026"
    book.save(path)
    with pytest.raises(BrokenWorkbook, match=r"the hidden sheet _xlar .* is damaged \(Invalid isoformat string"):
        sync_workbook(path, store, "alice", as_of=AS_OF)


def test_a_row_the_store_refuses_is_named_in_one_line(store, tmp_path):
    path = build_template(tmp_path / "AR.xlsx", "en")
    add_rows(path, "Customers", [{"code": "C1", "name": "Acme", "currency": "CNY", "payment_terms": "NOPE"}])
    report = sync_workbook(path, store, "alice", as_of=AS_OF)
    assert report.issues and all("\n" not in i.message for i in report.issues), report.issues


# ---------------------------------------------------------------- bank statements and opening balances

def test_a_quote_left_open_in_a_bank_csv_is_refused_naming_its_row():
    data = (b"date,amount,currency,reference\n2026-03-01,1.00,CNY,A\n2026-03-02,2.00,CNY,\"oops\n"
            b"2026-03-03,3.00,CNY,B\n2026-03-04,4.00,CNY,C\n")
    with pytest.raises(InvalidImport, match=r"CSV row 3: a quote opened here is not closed before '2026-03-03"):
        parse_statement(data, "csv")
    quoted = b"date,amount,currency,reference\n2026-03-01,1.00,CNY,\"two\nlines, one cell\"\n"
    assert [line.reference for line in parse_statement(quoted, "csv")] == ["two lines, one cell"]


@pytest.mark.parametrize(("extra", "message"), [
    (":99:a tag no bank writes\n", "MT940 line 7: unknown tag ':99:'"),
    (":86:more details\n", "MT940 line 7: a second ':86:' after one entry's details")])
def test_mt940_text_the_library_would_glue_to_a_remittance_is_refused(extra, message):
    data = (":20:S1\n:25:NL91ABNA0417164300\n:28C:1/1\n:60F:C260301EUR0,00\n"
            ":61:2603020302C1,00NTRFNONREF\n:86:INV-1\n" + extra + ":62F:C260331EUR1,00\n-\n").encode()
    with pytest.raises(InvalidImport, match=message):
        parse_statement(data, "mt940")


def test_a_bad_mt940_line_is_told_once_not_in_the_librarys_log(caplog):
    data = (b":20:S1\n:25:NL91ABNA0417164300\n:28C:1/1\n:60F:C260301EUR0,00\n"
            b":61:2603020302Q1,00NTRFNONREF\n:86:INV-1\n:62F:C260331EUR1,00\n-\n")
    with pytest.raises(InvalidImport, match="MT940 line 5: cannot read ':61:'"):
        parse_statement(data, "mt940")
    assert [r.getMessage()[:60] for r in caplog.records if r.name.startswith("mt940")] == []


def test_a_nul_in_a_text_statement_is_refused():
    with pytest.raises(InvalidImport, match="CSV row 2: a NUL character"):
        parse_statement(b"date,amount,currency\n2026-03-01,1.00,C\x00NY\n", "csv")


def test_opening_csv_that_would_swallow_rows_is_refused(store, tmp_path):
    from xlar.domain.customers import Customer

    head = "客户编号,原单号,单据日期,到期日,原单金额,未结金额\n"
    quote = tmp_path / "quote.csv"
    quote.write_text(head + 'C1,OLD-1,2025-12-01,2025-12-31,100,100,"oops\nC1,OLD-2,2025-12-01,2025-12-31,50,50\n')
    huge = tmp_path / "huge.csv"
    huge.write_text(head + "C1,OLD-3,2025-12-01,2025-12-31,100,100," + "x" * 200_000 + "\n")
    with store.write() as conn:
        save_customer(conn, Customer("C1", "Acme", "CNY"), "alice")
        with pytest.raises(InvalidDocument, match=r"quote.csv row 2: a quote opened here is not closed before 'C1,OLD-2"):
            import_opening(conn, quote, "alice")
        with pytest.raises(InvalidDocument, match=r"huge.csv row 2: not CSV xlar can read \(field larger than field limit"):
            import_opening(conn, huge, "alice")


def test_a_stray_cell_far_from_the_table_is_refused_before_the_sheet_is_read(store, tmp_path):
    """A value typed by accident at XFD100000 would make the reader build a grid of 1.6 billion
    cells (calamine asks for ~52 GB and the process dies): the sheet is refused by name first."""
    path = build_template(tmp_path / "AR.xlsx", "en")
    add_rows(path, "Customers", [{"code": "C1", "name": "Acme", "currency": "CNY"}])
    book = openpyxl.load_workbook(path)
    book["Invoices"]["XFD100000"] = "oops"
    book.save(path)
    with pytest.raises(BrokenWorkbook, match=r"sheet 'Invoices' uses cells as far as XFD100000 \(100,000 rows by "
                                             r"16,384 columns\): delete the stray cells"):
        sync_workbook(path, store, "alice", as_of=AS_OF)
