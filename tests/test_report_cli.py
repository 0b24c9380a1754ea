"""Every report of the catalog from the command line on the demo data, in both locales and in
every format; statements, dunning letters and the dashboard written as files and read back."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from click.testing import CliRunner

from tests.render import to_pdf
from xlar.cli import main
from xlar.demo import populate
from xlar.reports.catalog import REPORTS
from xlar.store.engine import Store
from xlar.store.settings import write_settings

THROUGH = date(2026, 11, 20)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> str:
    """The demo company's store (three months of business, two closed) as a SQLite URL."""
    path = tmp_path_factory.mktemp("demo") / "xlar.db"
    store = Store.connect(f"sqlite:///{path}")
    store.upgrade()
    with store.write() as conn:
        write_settings(conn, {"company": "示例贸易有限公司", "base_currency": "CNY", "current_period": "2026-09"},
                       "setup")
        populate(conn, THROUGH, "demo")
    store.dispose()
    return f"sqlite:///{path}"


def run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def dates(name: str) -> tuple[str, ...]:
    spec = REPORTS[name]
    return (("--as-of", "2026-11-20") if spec.as_of else ()) + (
        ("--from", "2026-09-01", "--to", "2026-11-20") if spec.span else ())


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_every_report_in_every_format_and_both_locales(demo, name, tmp_path):
    extra = (("--period", "2026-10") if name == "revaluation" else ()) + dates(name)
    for locale in ("zh-CN", "en"):
        table = run("--store", demo, "report", name, *extra, "--locale", locale)
        assert table.exit_code == 0, table.output
        title = REPORTS[name].zh if locale == "zh-CN" else REPORTS[name].en
        assert table.output.startswith(title)
        data = json.loads(run("--store", demo, "report", name, *extra, "--locale", locale, "--format",
                              "json").output)
        rows = data["rows"] if isinstance(data, dict) and "rows" in data else data
        csv = run("--store", demo, "report", name, *extra, "--format", "csv").output.splitlines()
        assert len(csv) == len(rows) + 1 or name == "aging"
        out = tmp_path / f"{name}-{locale}.xlsx"
        made = run("--store", demo, "report", name, *extra, "--locale", locale, "--format", "xlsx", "-o", out)
        assert made.exit_code == 0, made.output
        sheet = openpyxl.load_workbook(out).active
        assert sheet.title == title[:31] and sheet.cell(1, 2).value.startswith(title)
        assert sheet.max_row == 3 + (len(rows) if name != "aging" else len(rows) + 3)
    # the demo has something to show in every report but those of billing by delivery and installments
    if name not in ("delivery-difference", "price-difference", "installments"):
        assert rows, name


def test_the_aging_json_carries_the_allowance(demo):
    data = json.loads(run("--store", demo, "report", "aging", "--as-of", "2026-11-20", "--format", "json").output)
    allowance = data["allowance"]
    assert set(allowance["percent"]) == {"not_due", "1-30", "31-60", "61-90", "91-120", "121-180", "181+"}
    assert sum(Decimal(v) for v in allowance["amount"].values()) == Decimal(allowance["total"]) > 0


def test_statements_letters_and_dashboard_files(demo, tmp_path):
    batch = run("--store", demo, "statement", "--all", "--from", "2026-10-01", "--to", "2026-10-31", "-o",
                tmp_path / "st")
    assert batch.exit_code == 0, batch.output
    pdfs = sorted((tmp_path / "st").glob("*.pdf"))
    assert len(pdfs) >= 40 and all(p.read_bytes().startswith(b"%PDF") for p in pdfs)
    one = run("--store", demo, "statement", "C041", "--cycle", "2026-10", "--format", "xlsx", "--locale", "en",
              "-o", tmp_path / "x")
    assert one.exit_code == 0 and "1 statement(s)" in one.output
    [xlsx] = (tmp_path / "x").glob("statement_C041_*.xlsx")
    values = [c for row in openpyxl.load_workbook(xlsx).active.iter_rows(values_only=True) for c in row if c]
    assert "Statement of Account" in values and "Balance confirmation" in values
    letters = run("--store", demo, "--user", "demo", "collections", "letters", "--as-of", "2026-11-20", "-o",
                  tmp_path / "l", "--record")
    assert letters.exit_code == 0 and "recorded on Contacts" in letters.output
    emls = sorted((tmp_path / "l").glob("*.eml"))
    assert emls and len(emls) == len(list((tmp_path / "l").glob("*.pdf")))
    worklist = json.loads(run("--store", demo, "report", "worklist", "--as-of", "2026-11-20", "--format",
                              "json").output)
    assert any(r["last_contact"] == "2026-11-20" for r in worklist["rows"])
    dash = tmp_path / "dash.xlsx"
    assert run("--store", demo, "dashboard", "--as-of", "2026-11-20", "-o", dash).exit_code == 0
    with zipfile.ZipFile(dash) as z:
        assert len([n for n in z.namelist() if n.startswith("xl/charts/chart")]) == 4
    if shutil.which("soffice"):
        assert to_pdf(dash, tmp_path).stat().st_size > 10_000


def test_statement_needs_customers_or_all(demo, tmp_path):
    bad = run("--store", demo, "statement", "-o", tmp_path)
    assert bad.exit_code == 2 and "name the customers, or --all" in bad.output
    unknown = run("--store", demo, "statement", "NOPE", "-o", tmp_path)
    assert unknown.exit_code == 1 and "unknown customer 'NOPE'" in unknown.output
    assert run("--store", demo, "report", "overdue", "--format", "xlsx").exit_code == 2
    assert run("--store", demo, "report", "overdue", "-o", tmp_path / "x.xlsx").exit_code == 2
    assert run("--store", demo, "report", "statement", "--as-of", "2026-11-20").exit_code == 2   # a span: --from/--to
    assert run("--store", demo, "report", "installments", "--salesperson", "王芳").exit_code == 2


def test_an_exported_sheet_is_wide_enough_for_its_dates_and_amounts(tmp_path):
    """The journal export showed ### for every date (default column width): each column is as
    wide as its header and widest value need."""
    import pandas as pd

    from xlar.reports.render import write_frame

    frame = pd.DataFrame({"date": [date(2026, 10, 1)], "document": ["INV-2026-00049"],
                          "debit": [Decimal("1234567.89")], "memo": ["华东精密机械有限公司 10月货款"]})
    path = tmp_path / "j.xlsx"
    write_frame(frame, path, "xlsx", "Journal")
    ws = openpyxl.load_workbook(path)["Journal"]
    widths = {ws.cell(1, c).value: ws.column_dimensions[openpyxl.utils.get_column_letter(c)].width
              for c in range(1, 5)}
    assert widths["date"] >= 11 and widths["document"] >= 15 and widths["debit"] >= 13
    assert widths["memo"] >= 28   # Chinese characters take two columns each
    # it printed five columns a page, portrait, over 30 pages for a month of the demo: now one page
    # wide (this one is narrow: portrait), its header row on every page
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.orientation == "portrait"
    assert ws.print_title_rows == "$1:$1"
