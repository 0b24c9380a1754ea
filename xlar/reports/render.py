"""Shaping report rows for people (aligned text) and programs (CSV, JSON with exact strings)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from xlar.reports.ledger import AgingReport
from xlar.workbook.writer import display_width


def amount_text(value: Decimal) -> str:
    return f"{value:,}"


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int) -> str:
    """A plain aligned table; columns from NUMERIC_FROM on are right-aligned."""
    widths = [max(display_width(x) for x in col) for col in zip(headers, *rows)]

    def line(cells: Sequence[str]) -> str:
        padded = []
        for i, (cell, w) in enumerate(zip(cells, widths)):
            pad = " " * (w - display_width(cell))
            padded.append(pad + cell if i >= numeric_from else cell + pad)
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def aging_json(report: AgingReport) -> dict[str, Any]:
    balance, buckets = report.total_base
    return {
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
        writer.writerow([r.customer, r.name, r.currency, *(r.buckets[label] for label in labels), r.balance,
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
    return title + "\n" + text_table(["customer", "name", "cur", *labels, "balance"], rows, 3)


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
    return title + "\n" + text_table([str(c) for c in frame.columns], rows, numeric_from)


def frame_csv(frame: pd.DataFrame) -> str:
    """Exact values: Decimals as written, dates ISO."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(frame.columns)
    for row in frame.itertuples(index=False):
        writer.writerow(["" if _blank(v) else _plain(v) for v in row])
    return out.getvalue()


def frame_json(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: None if _blank(v) else _plain(v) for k, v in zip(frame.columns, row)}
            for row in frame.itertuples(index=False)]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: Any) -> Any:
    """A text cell an outsider's spreadsheet would run as a formula is written as text ('=…)."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


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

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
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
    book.save(path)
