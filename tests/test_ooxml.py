"""Every file xlar writes passes Microsoft's Open XML SDK validator with 0 errors (Excel's own
rules, see tests/validator.py): the templates, a synced workbook after 1 and after 10 syncs
(edits, errors, a conflict, bank and close sheets), statements, every report, the journal
export, the dashboard and the add-in."""

from __future__ import annotations

import re
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.sheets import add_rows, edit, read
from tests.validator import assert_valid, validate
from xlar.cli import main
from xlar.reports.catalog import REPORTS
from xlar.store.engine import Store
from xlar.sync.engine import sync_workbook
from xlar.workbook.template import build_template

THROUGH = date(2026, 10, 31)
BANK = Path(__file__).resolve().parents[2] / "shared" / "data" / "bank"


def xlar(*args: object) -> str:
    done = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.output


def fonts_and_formats(book: Path) -> tuple[int, int, bytes]:
    with zipfile.ZipFile(book) as z:
        styles = z.read("xl/styles.xml")
    fonts = re.search(rb"<fonts\b.*?</fonts>", styles, re.DOTALL)
    xfs = re.search(rb"<cellXfs\b.*?</cellXfs>", styles, re.DOTALL)
    return (len(re.findall(rb"<font\b", fonts.group(0) if fonts else b"")),
            len(re.findall(rb"<xf\b", xfs.group(0) if xfs else b"")), styles)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict[str, Path]:
    """The demo company synced ten times, with a colleague, and the files made from its store."""
    root = tmp_path_factory.mktemp("ooxml")
    folder = root / "demo"
    xlar("--user", "alice", "demo", folder, "--through", THROUGH)
    url = f"sqlite:///{folder / 'xlar.db'}"
    book = folder / "AR.xlsx"
    if BANK.is_dir():
        xlar("--store", url, "--user", "alice", "bank", "import", BANK / "camt053_v02_abnamro_oca.xml",
             "--workbook", book)
    files = {"template-en": build_template(root / "template-en.xlsx", "en"),
             "template-zh-CN": build_template(root / "template-zh-CN.xlsx", "zh-CN")}
    store = Store.open(url)
    try:
        colleague = root / "colleague.xlsx"
        shutil.copyfile(book, colleague)
        for n in range(1, 11):
            if n in (2, 5, 8):   # new customers and a row with a bad date (the Errors sheet)
                add_rows(book, "Customers", [{"code": f"N{n:02}", "name": f"新客户 {n}", "currency": "CNY"}],
                         "zh-CN")
                add_rows(book, "Invoices", [{"date": "3/15/2026", "customer": f"N{n:02}", "status": "draft"}],
                         "zh-CN")
            if n == 4:           # the colleague and I change one customer: a conflict
                edit(colleague, "Customers", {"code": "C001"}, {"contact": "王经理"}, "zh-CN")
                sync_workbook(colleague, store, "wang.fang", as_of=THROUGH)
                edit(book, "Customers", {"code": "C001"}, {"contact": "李会计"}, "zh-CN")
            sync_workbook(book, store, "alice", as_of=THROUGH)
            if n == 1:
                files["synced-1"] = shutil.copyfile(book, root / "synced-1.xlsx")
        files["synced-10"] = book
    finally:
        store.dispose()

    out = root / "out"
    out.mkdir()
    for name, spec in REPORTS.items():
        target = out / f"report-{name}.xlsx"
        dates = [*(["--to", THROUGH] if spec.span else []), *(["--as-of", THROUGH] if spec.as_of else [])]
        xlar("--store", url, "report", name, *dates, "--format", "xlsx", "-o", target)
        files[f"report-{name}"] = target
    xlar("--store", url, "statement", "C001", "C041", "--from", "2026-08-01", "--to", THROUGH,
         "--format", "xlsx", "-o", out / "statements")
    for i, made in enumerate(sorted((out / "statements").glob("*.xlsx"))):
        files[f"statement-{i}"] = made
    xlar("--store", url, "journal", "export", "--period", "2026-09", "--format", "xlsx", "-o", out / "journal.xlsx")
    files["journal"] = out / "journal.xlsx"
    for locale in ("zh-CN", "en"):
        files[f"dashboard-{locale}"] = out / f"dashboard-{locale}.xlsx"
        xlar("--store", url, "dashboard", "--as-of", THROUGH, "--locale", locale, "-o", files[f"dashboard-{locale}"])
    files["add-in"] = out / "xlar.xlam"
    xlar("excel", "build", "-o", files["add-in"])
    return files


def test_every_file_xlar_writes_passes_the_open_xml_sdk_validator(demo):
    assert {"synced-1", "synced-10", "journal", "add-in", "statement-0", "statement-1"} <= set(demo)
    assert_valid(list(demo.values()))


def test_the_synced_workbook_has_what_the_validator_was_meant_to_see(demo):
    """Errors, a conflict, month-end statistics, bank lines: each sheet has rows."""
    titles = ["错误", "冲突", "月结统计", "余额", "账龄", *(["银行流水"] if BANK.is_dir() else [])]
    for title in titles:
        assert read(demo["synced-10"], title), f"{title} is empty"
    assert any(r.get("Yours") == "李会计" or "李会计" in r.values() for r in read(demo["synced-10"], "冲突"))


def test_the_demo_after_ten_syncs_has_few_fonts(demo):
    fonts, formats, _ = fonts_and_formats(demo["synced-10"])
    assert fonts < 40 and formats < 100, (fonts, formats)


def test_the_validator_reports_what_excel_would_repair(tmp_path):
    """The check can fail: a <font> in openpyxl's child order is reported."""
    bad = tmp_path / "bad.xlsx"
    good = build_template(tmp_path / "good.xlsx", "en")
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/styles.xml":
                data = re.sub(rb"<font>(.*?)</font>", rb'<font><name val="Calibri"/><sz val="11"/></font>',
                              data, count=1, flags=re.DOTALL)
            dst.writestr(info, data)
    results = validate([bad])
    errors = results[str(bad)]
    assert [(e["path"]["partUri"], e["id"]) for e in errors] == [("/xl/styles.xml", "Sch_UnexpectedElementContentExpectingComplex")]
