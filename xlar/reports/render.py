"""Shaping report rows for people (aligned text) and programs (CSV, JSON with exact strings)."""

from __future__ import annotations

import csv
import io
from collections.abc import Container, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from xlar.reports.catalog import Result
from xlar.reports.labels import neutral
from xlar.reports.ledger import AgingReport
from xlar.workbook.printing import set_page
from xlar.workbook.styles import save_book
from xlar.workbook.writer import display_width


def amount_text(value: Decimal) -> str:
    return f"{value:,}"


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Container[int]) -> str:
    """A plain aligned table; the columns numbered in RIGHT are right-aligned."""
    widths = [max(display_width(x) for x in col) for col in zip(headers, *rows)]

    def line(cells: Sequence[str]) -> str:
        padded = []
        for i, (cell, w) in enumerate(zip(cells, widths)):
            pad = " " * (w - display_width(cell))
            padded.append(pad + cell if i in right else cell + pad)
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def aging_json(report: AgingReport, frame: pd.DataFrame | None = None) -> dict[str, Any]:
    """The aging for programs; with the report frame, the bad-debt allowance per bucket too."""
    balance, buckets = report.total_base
    extra: dict[str, Any] = {}
    if frame is not None:
        pct = frame[frame["customer"] == "ALLOWANCE %"].iloc[0]
        amount = frame[frame["customer"] == "ALLOWANCE"].iloc[0]
        extra["allowance"] = {"percent": {k: str(pct[k]) for k in report.policy.age_labels},
                              "amount": {k: str(amount[k]) for k in report.policy.age_labels},
                              "total": str(amount["allowance"])}
    return extra | {
        "as_of": report.as_of.isoformat(),
        "basis": report.policy.basis.value,
        "buckets": list(report.policy.labels),
        "base_currency": report.base_currency,
        "rows": [
            {"customer": r.customer, "name": r.name, "currency": r.currency,
             "balance": str(r.balance), "buckets": {k: str(v) for k, v in r.buckets.items()},
             "base_balance": str(r.base_balance),
             "base_buckets": {k: str(v) for k, v in r.base_buckets.items()}}
            for r in report.rows
        ],
        "total": {"currency": report.base_currency, "balance": str(balance),
                  "buckets": {k: str(v) for k, v in buckets.items()}},
    }


def aging_csv(report: AgingReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    labels = report.policy.labels
    writer.writerow(["customer", "name", "currency", *labels, "balance",
                     *(f"base_{label}" for label in labels), "base_balance"])
    for r in report.rows:
        writer.writerow([neutral(r.customer), neutral(r.name), r.currency, *(r.buckets[label] for label in labels),
                         r.balance,
                         *(r.base_buckets[label] for label in labels), r.base_balance])
    return out.getvalue()


def aging_text(report: AgingReport) -> str:
    labels = report.policy.labels
    rows = [[r.customer, r.name, r.currency, *(amount_text(r.buckets[label]) for label in labels),
             amount_text(r.balance)] for r in report.rows]
    balance, buckets = report.total_base
    rows.append([f"TOTAL ({report.base_currency})", "", report.base_currency,
                 *(amount_text(buckets[label]) for label in labels), amount_text(balance)])
    title = f"Aging as of {report.as_of.isoformat()} by {report.policy.basis.value} date"
    headers = ["customer", "name", "cur", *labels, "balance"]
    return title + "\n" + text_table(headers, rows, range(3, len(headers)))


def _blank(value: Any) -> bool:
    return value is None or (not isinstance(value, (str, Decimal)) and bool(pd.isna(value)))


def _plain(value: Any) -> Any:
    """Exact and portable: Decimals as written, dates ISO."""
    if isinstance(value, Decimal):
        return str(value)
    return value.isoformat() if hasattr(value, "isoformat") else value


def _cell(value: Any) -> str:
    if _blank(value):
        return ""
    if isinstance(value, Decimal):
        return amount_text(value)
    return str(value.isoformat() if hasattr(value, "isoformat") else value)


def frame_text(title: str, frame: pd.DataFrame) -> str:
    """A report frame as an aligned table (amounts with thousands separators)."""
    rows = [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
    numeric_from = next((i for i, name in enumerate(frame.columns) if name in ("qty", "installment")),
                        len(frame.columns))
    return title + "\n" + text_table([str(c) for c in frame.columns], rows, range(numeric_from, len(frame.columns)))


def frame_csv(frame: pd.DataFrame) -> str:
    """Exact values: Decimals as written, dates ISO; text that would start a formula is neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(frame.columns)
    for row in frame.itertuples(index=False):
        writer.writerow(["" if _blank(v) else _plain(neutral(v)) for v in row])
    return out.getvalue()


def frame_json(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: None if _blank(v) else _plain(v) for k, v in zip(frame.columns, row)}
            for row in frame.itertuples(index=False)]


def write_frame(frame: pd.DataFrame, path: Path, fmt: str, title: str) -> None:
    """A report frame as a file for other programs: CSV (UTF-8 with BOM, exact values) or an
    xlsx sheet TITLE (amounts as numbers with two decimals, dates as dates); text that would
    start a formula is neutralised in both."""
    safe = frame.map(neutral) if len(frame) else frame
    if fmt == "csv":
        path.write_text(frame_csv(safe), encoding="utf-8-sig")
        return
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    widths = _frame_widths(safe)
    for i, width in enumerate(widths, start=1):   # wide enough: no ### for a date or amount
        sheet.column_dimensions[get_column_letter(i)].width = width
    set_page(sheet, sum(widths), 1)
    sheet.append([str(c) for c in frame.columns])
    for row in safe.itertuples(index=False):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=None if _blank(value) else value)
            if isinstance(value, Decimal):
                cell.number_format = "#,##0.00;-#,##0.00"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, str):
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    save_book(book.save, path)


def _frame_widths(frame: pd.DataFrame, widest: int = 60) -> list[float]:
    """Per column, the width its header and its widest value need (dates as yyyy-mm-dd, amounts
    with thousands separators), a little over, at most WIDEST."""
    from xlar.workbook.writer import display_width

    def shown(value: object) -> int:
        if _blank(value):
            return 0
        if isinstance(value, Decimal):
            return len(f"{value:,.2f}")
        if isinstance(value, date):
            return 10
        return display_width(str(value))

    return [min(widest, max([display_width(str(name)), *(shown(v) for v in frame[name])]) + 2.5)
            for name in frame.columns]


def report_text(result: Result) -> str:
    """A catalog report as an aligned table in its locale."""
    shown = result.shown()
    rows = [[_cell(v) for v in row] for row in shown.itertuples(index=False)]
    numeric = [i for i, key in enumerate(result.frame.columns)
               if any(isinstance(v, (Decimal, int)) and not isinstance(v, bool) for v in result.frame[key])]
    return result.title + "\n" + text_table([str(c) for c in shown.columns], rows, set(numeric))


def report_json(result: Result) -> dict[str, Any]:
    """For programs: stable column keys and exact values; title and headers in the locale."""
    p = result.params
    shown = result.shown()
    return {"report": result.spec.name, "title": result.title, "locale": p.locale,
            "as_of": p.as_of.isoformat(), "from": p.date_from.isoformat(), "to": p.date_to.isoformat(),
            "customer": p.customer, "salesperson": p.salesperson, "base_currency": result.base_currency,
            "columns": dict(zip((str(c) for c in result.frame.columns), (str(c) for c in shown.columns))),
            "rows": frame_json(result.frame)}


MONEY_FORMAT = "#,##0.00;[Red]-#,##0.00"


def write_report(result: Result, path: Path) -> None:
    """A catalog report as a sheet (named in its locale) of a new xlsx: a title row, the headers,
    the rows with amounts as numbers and dates as dates, frozen under the headers, filterable;
    text that would start a formula is written as text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    shown = result.shown()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = result.spec.title(result.params.locale)[:31]
    sheet.append([neutral(result.company), neutral(result.title)])
    sheet["A1"].font = sheet["B1"].font = Font(bold=True, size=13)
    sheet.append([])
    sheet.append([str(c) for c in shown.columns])
    fill = PatternFill("solid", fgColor="DDE7F0")
    for cell in sheet[3]:
        cell.font, cell.fill = Font(bold=True), fill
    for row in shown.itertuples(index=False):
        sheet.append([None if _blank(v) else neutral(v) for v in row])
    widths = [display_width(str(c)) for c in shown.columns]
    for r, row in enumerate(sheet.iter_rows(min_row=4), start=4):
        for c, cell in enumerate(row):
            value = cell.value
            if isinstance(value, Decimal):
                cell.number_format = MONEY_FORMAT if value == value.quantize(Decimal("0.01")) else "#,##0.00####"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, str):
                cell.data_type = "s"
            if r < 2000:
                widths[c] = max(widths[c], len(f"{value:,.2f}") if isinstance(value, Decimal) else
                                10 if isinstance(value, date) else display_width(str(value or "")))
    for c, w in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = min(max(w + 2, 8), 50)
    sheet.freeze_panes = "A4"
    if len(shown.columns):
        sheet.auto_filter.ref = f"A3:{get_column_letter(len(shown.columns))}{max(3, sheet.max_row)}"
    set_page(sheet, sum(min(max(w + 2, 8), 50) for w in widths), 3)
    save_book(book.save, path)
