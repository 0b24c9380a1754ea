"""Bad input on purpose (issue 9): the fuzz harness's figures, and every export an outsider
opens neutralising text that a spreadsheet would run as a formula.

XLAR_RELIABILITY_FULL=1 raises the count from ~500 to 5,000 inputs (SQLite) and 1,000
(PostgreSQL, the targets that write a store).
"""

from __future__ import annotations

import csv
import io
import os
import time
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from tests.books import invoice, line
from tests.reliability.fuzz import SHARES, run_fuzz, sqlite_stores
from tests.reliability.judge import Found, Outcome, judge, refused
from xlar.domain.customers import Customer
from xlar.domain.errors import XlarError
from xlar.reports import ledger
from xlar.reports.catalog import Params, run
from xlar.reports.dashboard import build_dashboard
from xlar.reports.journal import journal
from xlar.reports.kpis import dashboard_data
from xlar.reports.render import aging_csv, frame_csv, write_frame, write_report
from xlar.reports.statements import Span, statement_xlsx, statements
from xlar.services.customers import save_customer
from xlar.store.settings import write_settings

FULL = os.environ.get("XLAR_RELIABILITY_FULL") == "1"
SEED = 20260331
ON_DISK = [t for t in SHARES if t != "book_sync_file"]
STORED = ["book_sync", "opening", "bank_csv", "mt940", "camt053"]   # bank: every 4th is imported


def _run(backend, tmp_path: Path, inputs: int, targets: list[str]):  # type: ignore[no-untyped-def]
    figures = run_fuzz(inputs, SEED, tmp_path, backend.store, targets)
    print(figures.summary())
    for failure in figures.failures[:40]:
        print(failure)
    return figures


def test_malformed_inputs_are_refused_in_one_line_or_read_without_losing_a_row(backend, tmp_path):
    """SQLite: every target. PostgreSQL: what writes a store (its string lengths and integer
    ranges are enforced, SQLite's are not)."""
    if backend.name == "sqlite":
        figures = _run(backend, tmp_path, 5000 if FULL else 520, ON_DISK)
        assert figures.tried >= (5000 if FULL else 500)
    else:
        figures = _run(backend, tmp_path, 1000 if FULL else 160, STORED)
    assert (figures.crashes, figures.rows_lost, figures.untidy) == (0, 0, 0), "\n".join(figures.failures[:40])


def test_a_damaged_workbook_file_is_refused_by_sync_in_one_line(tmp_path):
    figures = run_fuzz(36, SEED, tmp_path, sqlite_stores(tmp_path), ["book_sync_file"])
    print(figures.summary())
    assert (figures.crashes, figures.rows_lost) == (0, 0), "\n".join(figures.failures[:40])


def test_the_judge_counts_hangs_tracebacks_and_lost_rows():
    def hang() -> Found:
        time.sleep(5)
        return Found(frozenset())

    def traceback() -> Found:
        raise KeyError("row")

    def two_lines() -> Found:
        raise XlarError("first\nsecond")

    assert judge("a", [], hang, seconds=0.2).crash == "hang: no answer within 0.2 s"
    assert judge("b", [], traceback).crash == "builtins.KeyError: 'row'"
    assert judge("c", [], two_lines).crash == "refusal not on one line: 'XLAR-E000 first\\nsecond'"
    assert judge("d", ["k1", "k2"], lambda: refused("XLAR-E080 bad file")) == Outcome("d", None, 0)
    assert judge("e", ["k1", "k2"], lambda: Found(frozenset({"k1"}))).lost == 1


# ---------------------------------------------------------------- exports for outsiders

PAYLOADS = ('=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1")


def _runs_as_formula(text: object) -> bool:
    return isinstance(text, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r")


def _csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _xlsx_leaks(path: Path) -> list[tuple[str, str, object]]:
    """Cells an outsider's Excel would run: formulas, and text starting like one."""
    book = openpyxl.load_workbook(path)
    return [(sheet.title, cell.coordinate, cell.value) for sheet in book.worksheets for row in sheet.iter_rows()
            for cell in row if cell.data_type == "f" or _runs_as_formula(cell.value)]


@pytest.fixture
def hostile(store):
    """A book whose company, customer code, name, address and contact are formulas."""
    with store.write() as conn:
        write_settings(conn, {"company": "=cmd|' /C calc'!A0"}, "setup")
        save_customer(conn, Customer("=C1", PAYLOADS[0], "CNY", address=PAYLOADS[3], contact=PAYLOADS[2],
                                     phone=PAYLOADS[1]), "alice")
        invoice(conn, "=C1", date(2026, 3, 2), line("1", "100"))
    return store


def test_csv_exports_neutralise_text_that_starts_a_formula(hostile, tmp_path):
    with hostile.read() as conn:
        aging = aging_csv(ledger.aging(conn, date(2026, 3, 31)))
        result = run(conn, "aging", Params(date(2026, 3, 31), date(2026, 1, 1), date(2026, 3, 31), locale="en"))
        lines = journal(conn, None, date(2026, 3, 31))
    write_frame(lines, tmp_path / "journal.csv", "csv", "Journal")
    for text in (aging, frame_csv(result.frame), (tmp_path / "journal.csv").read_text(encoding="utf-8-sig")):
        cells = _csv_cells(text)
        assert "'=C1" in cells
        assert not [c for c in cells if _runs_as_formula(c) and not c.lstrip("-").replace(".", "").isdigit()]
    assert f"'{PAYLOADS[0]}" in _csv_cells(aging)


def test_xlsx_exports_hold_no_formula_an_outsider_would_run(hostile, tmp_path):
    with hostile.read() as conn:
        result = run(conn, "aging", Params(date(2026, 3, 31), date(2026, 1, 1), date(2026, 3, 31), locale="en"))
        lines = journal(conn, None, date(2026, 3, 31))
        [paper] = statements(conn, Span(date(2026, 3, 1), date(2026, 3, 31)), "en", date(2026, 4, 1))
        board = dashboard_data(conn, date(2026, 3, 31), "en")
    write_report(result, tmp_path / "aging.xlsx")
    write_frame(lines, tmp_path / "journal.xlsx", "xlsx", "Journal")
    statement_xlsx(paper, tmp_path / "statement.xlsx")
    build_dashboard(board, tmp_path / "dashboard.xlsx")
    for name in ("aging.xlsx", "journal.xlsx", "statement.xlsx", "dashboard.xlsx"):
        assert _xlsx_leaks(tmp_path / name) == [], name
    cells = [c for row in openpyxl.load_workbook(tmp_path / "statement.xlsx").active.iter_rows(values_only=True)
             for c in row]
    assert {f"'{PAYLOADS[0]}", "'=C1", f"'{PAYLOADS[3]}", "'=cmd|' /C calc'!A0"} <= set(cells)
