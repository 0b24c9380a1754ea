"""Statements of account (对账单) per customer for a span of dates or a billing cycle: the data
(`statements`) and the xlsx paper (`statement_xlsx`); the PDF is reports/pdf.py.

All customers' statements come from one account query and one aging query (per distinct span:
a billing cycle depends on the customer's closing day), never a query per customer."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.capital import capital_amount
from xlar.domain.money import exponent
from xlar.domain.periods import first_day, previous_period
from xlar.domain.terms import cycle_end
from xlar.reports.accounts import account_detail
from xlar.reports.labels import bucket_text, kind_text, neutral
from xlar.reports.ledger import aging
from xlar.reports.papers import STATEMENT_LABELS, Party, Statement, StatementLine, StatementSection
from xlar.store.settings import BookSettings, read_settings
from xlar.store.tables import customers
from xlar.workbook.styles import save_book
from xlar.workbook.writer import places_format

CURRENCY_WORDS = {"CNY": "人民币", "USD": "美元", "EUR": "欧元", "JPY": "日元", "HKD": "港币", "GBP": "英镑"}


@dataclass(frozen=True, slots=True)
class Span:
    date_from: date
    date_to: date


def cycle_spans(conn: Connection, period: str, codes: Sequence[str] | None = None) -> dict[str, Span]:
    """Per customer, its billing cycle that closes in PERIOD (YYYY-MM): from the day after the
    previous closing date to the closing date (month end without a closing day)."""
    c = customers.c
    stmt = sa.select(c.code, c.closing_day)
    if codes:
        stmt = stmt.where(c.code.in_(list(codes)))
    spans = {}
    for code, closing_day in conn.execute(stmt):
        end = cycle_end(first_day(period), closing_day)
        start = cycle_end(first_day(previous_period(period)), closing_day)
        spans[code] = Span(date.fromordinal(start.toordinal() + 1), end)
    return spans


def company_party(book: BookSettings) -> Party:
    return Party("", book.company, book.company_address or None, None, book.company_phone or None,
                 book.company_email or None, book.company_tax_id or None)


def parties(conn: Connection, codes: Sequence[str]) -> dict[str, Party]:
    c = customers.c
    rows = conn.execute(sa.select(c.code, c.name, c.address, c.contact, c.phone, c.email, c.tax_id)
                        .where(c.code.in_(list(codes)))).all()
    return {r.code: Party(r.code, r.name, r.address, r.contact, r.phone, r.email, r.tax_id) for r in rows}


def _words(amount: Decimal, currency: str, locale: str) -> str | None:
    if locale != "zh-CN" or exponent(currency) != 2:
        return None
    return capital_amount(amount, CURRENCY_WORDS.get(currency, currency))


def statements(conn: Connection, spans: dict[str, Span] | Span, locale: str, issued_on: date,
               codes: Sequence[str] | None = None, *, with_balance_only: bool = False) -> list[Statement]:
    """The statements of CODES (all customers with something to show when None) for SPANS (one
    span for all, or one per customer); WITH_BALANCE_ONLY: only customers owing or owed at the end."""
    book = read_settings(conn)
    labels = STATEMENT_LABELS[locale]
    by_span: dict[Span, list[str] | None] = {}
    if isinstance(spans, Span):
        by_span[spans] = list(codes) if codes else None
    else:
        for code, span in spans.items():
            by_span.setdefault(span, []).append(code)   # type: ignore[union-attr]  # in this branch every list is a list: None is only for one span of all
    found: list[Statement] = []
    for span, chosen in by_span.items():
        detail = account_detail(conn, span.date_from, span.date_to, statement=True)
        if chosen is not None:
            detail = detail[detail["customer"].isin(chosen)]
        report = aging(conn, span.date_to)
        buckets = {(r.customer, r.currency): r.buckets for r in report.rows}
        names = parties(conn, sorted(set(detail["customer"])))
        for code, rows in detail.groupby("customer", sort=True):
            sections = tuple(_section(group, buckets.get((code, cur), {}), cur, locale)
                             for cur, group in rows.groupby("currency", sort=True))
            if with_balance_only and all(s.closing == 0 for s in sections):
                continue
            found.append(Statement(locale, company_party(book), names[str(code)], span.date_from, span.date_to,
                                   issued_on, sections, labels))
    return sorted(found, key=lambda s: s.customer.code)


def _section(rows: pd.DataFrame, buckets: dict[str, Decimal], currency: str, locale: str) -> StatementSection:
    opening = rows[rows["kind"] == "opening"]["balance"].iloc[0]
    closing = rows[rows["kind"] == "closing"]["balance"].iloc[0]
    lines = tuple(
        StatementLine(r.date, r.document, kind_text(r.kind, locale), r.reference if isinstance(r.reference, str) else "",
                      None if pd.isna(r.due) else r.due,
                      Decimal(0) if r.debit is None or pd.isna(r.debit) else r.debit,
                      Decimal(0) if r.credit is None or pd.isna(r.credit) else r.credit, r.balance)
        for r in rows[~rows["kind"].isin(["opening", "closing"])].itertuples(index=False))
    aging_block = tuple((bucket_text(label, locale), amount) for label, amount in buckets.items())
    return StatementSection(currency, opening, lines, closing, aging_block, _words(closing, currency, locale))


_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_name(code: str) -> str:
    """A customer code as part of a file name on any system: the code itself when it is safe,
    else its safe characters and a short hash of the code ('A/1' -> 'A_1-7e0a1b3c'), so that
    'A/1' and 'A_1' never share a file."""
    kept = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in code)[:60]
    if kept == code and kept.upper() not in _RESERVED:
        return kept
    return f"{kept or 'customer'}-{hashlib.sha256(code.encode('utf-8')).hexdigest()[:8]}"


def unique_names(codes: Iterable[str]) -> dict[str, str]:
    """safe_name of each code, a hash added where two would name one file on a system that does
    not tell capitals from small letters (Windows, macOS): 'C001' and 'c001'."""
    names = {code: safe_name(code) for code in codes}
    folded = Counter(name.casefold() for name in names.values())
    return {code: name if folded[name.casefold()] == 1 else
            f"{name}-{hashlib.sha256(code.encode('utf-8')).hexdigest()[:8]}" for code, name in names.items()}


def file_name(statement: Statement, suffix: str, names: dict[str, str] | None = None) -> str:
    """The statement's file name; NAMES (unique_names of the batch's codes) keeps a batch's apart."""
    word = "对账单" if statement.locale == "zh-CN" else "statement"
    code = statement.customer.code
    name = names[code] if names and code in names else safe_name(code)
    return f"{word}_{name}_{statement.date_to.isoformat()}{suffix}"


def _put(ws, values: Sequence[object]) -> None:  # type: ignore[no-untyped-def]  # WS is an openpyxl worksheet: openpyxl has no stubs here
    """Append a row; text that would start a formula (a customer named '=HYPERLINK(…)') stays text."""
    ws.append([neutral(v) for v in values])


def statement_xlsx(statement: Statement, path: Path) -> Path:
    """The statement as a printable sheet: the same blocks as the PDF, amounts as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    lb = statement.labels
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = lb["title"][:31]
    thin = Side(style="thin", color="999999")
    box = Border(top=thin, bottom=thin, left=thin, right=thin)
    grey = PatternFill("solid", fgColor="E8E8E8")
    widths = (11, 17, 12, 24, 11, 15, 15, 16)
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(65 + i)].width = w
    company, customer = statement.company, statement.customer
    _put(ws, [company.name])
    ws["A1"].font = Font(bold=True, size=14)
    _put(ws, [" ".join(x for x in (company.address, company.phone, company.tax_id) if x)])
    _put(ws, [lb["title"]])
    ws.merge_cells("A3:H3")
    ws["A3"].font = Font(bold=True, size=16)
    ws["A3"].alignment = Alignment(horizontal="center")
    _put(ws, [])
    _put(ws, [lb["customer"], customer.name, None, None, None, lb["period"],
               f"{statement.date_from} – {statement.date_to}"])
    _put(ws, [lb["code"], customer.code, None, None, None, lb["issued"], statement.issued_on])
    _put(ws, [lb["address"], customer.address or ""])
    _put(ws, [lb["contact"], " ".join(x for x in (customer.contact, customer.phone) if x)])
    for section in statement.sections:
        _xlsx_section(ws, section, lb, box, grey)
    _put(ws, [])
    start = ws.max_row + 1
    _put(ws, [lb["sign_back"]])
    ws.cell(start, 1).font = Font(bold=True)
    _put(ws, [lb["sign_back_text"]])
    ws.merge_cells(start_row=start + 1, start_column=1, end_row=start + 1, end_column=8)
    ws.cell(start + 1, 1).alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[start + 1].height = 32
    _put(ws, [lb["agree"], None, None, lb["disagree"]])
    _put(ws, [])
    _put(ws, [lb["signature"], None, None, None, None, lb["sign_date"]])
    for row in ws.iter_rows(min_row=start, max_row=ws.max_row, max_col=8):
        for cell in row:
            cell.border = Border(top=thin if cell.row == start else None, bottom=thin if cell.row == ws.max_row
                                 else None, left=thin if cell.column == 1 else None,
                                 right=thin if cell.column == 8 else None)
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "&P / &N"
    save_book(book.save, path)
    return path


def _xlsx_section(ws, section: StatementSection, lb: dict[str, str], box, grey) -> None:  # type: ignore[no-untyped-def]  # WS, BOX and GREY are openpyxl objects: openpyxl has no stubs here
    from openpyxl.styles import Font

    money = places_format("#,##0.00;-#,##0.00", exponent(section.currency))
    _put(ws, [])
    _put(ws, [f"{lb['currency']}: {section.currency}"])
    ws.cell(ws.max_row, 1).font = Font(bold=True)
    _put(ws, [lb[k] for k in ("date", "document", "kind", "reference", "due", "debit", "credit", "balance")])
    for cell in ws[ws.max_row]:
        cell.font, cell.fill, cell.border = Font(bold=True), grey, box
    body: list[list[object]] = [[None, None, lb["opening"], None, None, None, None, section.opening]]
    body += [[ln.on, ln.document, ln.kind, ln.reference, ln.due_on, ln.debit or None, ln.credit or None, ln.balance]
             for ln in section.lines]
    body.append([None, None, lb["totals"], None, None, section.debits, section.credits, None])
    body.append([None, None, lb["closing"], None, None, None, None, section.closing])
    for values in body:
        _put(ws, values)
        for cell in ws[ws.max_row]:
            cell.border = box
            if cell.column in (1, 5):
                cell.number_format = "yyyy-mm-dd"
            elif cell.column >= 6:
                cell.number_format = money
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    if section.aging:
        _put(ws, [])
        _put(ws, [lb["aging"]])
        _put(ws, [label for label, _ in section.aging])
        _put(ws, [amount for _, amount in section.aging])
        for cell in ws[ws.max_row]:
            cell.number_format = money
    if section.closing_in_words:
        _put(ws, [f"{lb['in_words']}：{section.closing_in_words}"])
