"""Reading sheets: every bad cell is named, its row held back, the rest read exactly."""

import csv
import dataclasses
import os
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from xlar.schema.sheets import INVOICES
from xlar.workbook.gateway import FileGrids
from xlar.workbook.reader import read_sheet, read_workbook

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ibm-ar"
MANGLED = DATA / "WA_Fn-UseC_-Accounts-Receivable.excel-dmy-mangled.xlsx"
IBM_COLUMNS = {"invoiceNumber": "number", "customerID": "customer", "InvoiceDate": "date",
               "DueDate": "due_date", "InvoiceAmount": "total"}


def _truth():
    with open(DATA / "WA_Fn-UseC_-Accounts-Receivable.csv", newline="") as f:
        rows = list(csv.DictReader(f))

    def mdy(text):
        m, d, y = map(int, text.split("/"))
        return date(y, m, d)

    return {int(r["invoiceNumber"]): {"date": mdy(r["InvoiceDate"]), "due_date": mdy(r["DueDate"]),
                                      "total": Decimal(r["InvoiceAmount"])} for r in rows}


def test_the_mangled_ibm_workbook_reports_every_damaged_cell_and_accepts_no_wrong_date():
    if not MANGLED.exists():
        if os.environ.get("XLAR_REQUIRE_SHARED") == "1":
            pytest.fail(f"{MANGLED} is missing: CI keeps ../shared beside the checkout")
        pytest.skip("shared data not beside the checkout")
    truth = _truth()
    book = FileGrids(MANGLED)
    title = book.titles()[0]
    # an import: the total is what the file says, not computed from lines
    schema = dataclasses.replace(INVOICES, columns=tuple(
        dataclasses.replace(c, computed=False) for c in INVOICES.columns))
    data = read_sheet(book, title, schema, aliases=IBM_COLUMNS)
    grid = book.grid(title)
    header = grid[0]
    flagged = defaultdict(set)
    for issue in data.issues:
        if not issue.code.startswith("XLAR-W"):
            flagged[issue.excel_row].add(issue.column)
    labels = {"date": "Date", "due_date": "Due date", "total": "Total"}
    damaged_rows = 0
    for r, raw in enumerate(grid[1:], start=2):
        cells = dict(zip(header, raw))
        expected = truth[int(cells["invoiceNumber"])]
        damaged = set()
        for src, key in (("InvoiceDate", "date"), ("DueDate", "due_date"), ("InvoiceAmount", "total")):
            value = cells[src]
            good = (isinstance(value, date) and value == expected[key]) or (
                isinstance(value, float) and Decimal(repr(value)) == expected[key])
            if not good:
                damaged.add(labels[key])
        damaged_rows += bool(damaged)
        assert damaged <= flagged[r], f"row {r}: damaged {damaged} but reported {flagged[r]}"
        # a date that is right only because day == month must not be held against the row
        for src, key in (("InvoiceDate", "date"), ("DueDate", "due_date")):
            value = cells[src]
            if isinstance(value, date) and value.day == value.month:
                assert labels[key] not in flagged[r]
    assert damaged_rows == 2466 and len(data.held) == 2466
    for row in data.rows:  # whatever is accepted is exactly the truth
        expected = truth[int(row.values["number"])]
        assert {k: row.values[k] for k in expected} == expected
    counts = defaultdict(int)
    for issue in data.issues:
        counts[issue.code] += 1
    assert counts["XLAR-E113"] == 1522 + 1525      # text dates, as the data's README counts them
    assert counts["XLAR-E107"] == 2434             # amounts stored as text
    assert counts["XLAR-W101"] == 2466             # numbers where text was meant: zeros lost
    assert data.extra_headers == ["countryCode", "PaperlessDate", "SettledDate",   # Disputed is a column now
                                  "PaperlessBill", "DaysToSettle", "DaysLate"]


def _book(path, title, header, *rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_every_kind_of_bad_cell_gets_its_message(tmp_path):
    path = _book(
        tmp_path / "in.xlsx", "收款单",
        ["状态", "收款单号", "客户编号", "收款日期", "币种", "收款金额", "My notes"],
        ["posted", "A1", "C1", date(2026, 3, 1), "CNY", 113, "keep me"],
        ["草稿", "A2", "C1", "3/4/2026", "CNY", 10, None],
        ["draft", "A3", None, date(2026, 3, 1), "CNY", "12.50", None],
        ["draft", "A4", "C1", 45000, "CNY", 1.005, None],
        ["maybe", "A5", "C1", "2026-03-05", "CNY", "=1+1", None],
        ["draft", "A6", "C1", datetime(2026, 3, 6, 0, 0), "JPY", 1.5, None],
        ["draft", "A6", "C1", date(2026, 3, 7), "CNY", 1, None],
        [None, None, None, None, None, None, None],
        ["draft", "A8", "C1", date(1899, 12, 1), "CNY", True, None],
    )
    data = read_workbook(path)
    sheet = data.sheets["Receipts"]
    found = {(i.excel_row, i.column): i.message for i in data.issues}
    assert [r.excel_row for r in sheet.rows] == [2]
    first = sheet.rows[0]
    assert first.values["status"] == "posted" and first.values["amount"] == Decimal(113)
    assert first.extras == ("keep me",) and sheet.extra_headers == ["My notes"]
    assert "date typed as text '3/4/2026'" in found[(3, "收款日期")]
    assert found[(4, "客户编号")] == "is required but blank"
    assert "number stored as text '12.50'" in found[(4, "收款金额")]
    assert "more decimals than CNY allows" in found[(5, "收款金额")]
    assert "number 45000 in a date column" in found[(5, "收款日期")]
    assert "'maybe' is not one of draft, posted, approved, void" in found[(6, "状态")]
    assert "formula '=1+1'" in found[(6, "收款金额")]
    assert "more decimals than JPY allows" in found[(7, "收款金额")]
    assert "duplicate 'A6' on rows 7, 8" in found[(8, "收款单号")]
    assert "Excel has no dates before 1900" in found[(10, "收款日期")]
    assert "TRUE/FALSE" in found[(10, "收款金额")]
    assert sorted(sheet.held) == [3, 4, 5, 6, 7, 8, 10]


def test_headers_in_either_language_any_order_and_missing_required_columns(tmp_path):
    path = _book(tmp_path / "in.xlsx", "Invoices", ["Customer", "date", "INVOICE NO.", "Total"],
                 ["C1", date(2026, 3, 1), "X1", 10])
    sheet = read_workbook(path).sheets["Invoices"]
    assert sheet.rows[0].values | {} == sheet.rows[0].values
    assert (sheet.rows[0].values["number"], sheet.rows[0].values["customer"]) == ("X1", "C1")
    broken = _book(tmp_path / "b.xlsx", "Invoices", ["Customer", "Total", "Invoice no."], ["C1", 10, "X"])
    data = read_workbook(broken)
    assert [i.message for i in data.issues] == ["required column 'Date' (发票日期) is missing"]
    assert data.sheets["Invoices"].rows == []
