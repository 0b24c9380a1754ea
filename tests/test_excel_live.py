"""Ribbon actions on a live workbook: the same action through the file gateway and through a
fake of xlwings' range API gives identical sheets; Excel's coercions are defeated."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from tests.fakexw import FakeBook, typed
from tests.sheets import add_rows
from tests.test_sync import newcomer_rows
from xlar.actions import ribbon as actions
from xlar.actions.session import Session
from xlar.excel.live import XlwingsGateway, to_excel
from xlar.workbook.gateway import FileGateway
from xlar.workbook.template import build_template

AS_OF = date(2026, 3, 31)


class ScriptedUi:
    """Answers as an accountant would: yes, the given answers, the given file."""

    def __init__(self, answers=(), file=None):
        self.answers, self.file = list(answers), file
        self.told, self.shown, self.asked = [], [], []

    def confirm(self, message):
        self.asked.append(message)
        return True

    def ask(self, prompt, default=""):
        self.asked.append(prompt)
        return self.answers.pop(0) if self.answers else default

    def choose_file(self, title):
        return self.file

    def tell(self, message):
        self.told.append(message)

    def show(self, path):
        self.shown.append(path)


def _normal(value):
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date()
    if isinstance(value, str) and value == "":
        return None
    return value


def _trimmed(grid):
    rows = [[_normal(v) for v in row] for row in grid]
    rows = [row[:max((i + 1 for i, v in enumerate(row) if v is not None), default=0)] for row in rows]
    while rows and not rows[-1]:
        rows.pop()
    return rows


def file_sheets(path: Path) -> dict[str, list[list[object]]]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: _trimmed([[c.value for c in row] for row in ws.iter_rows()]) for ws in wb.worksheets}


def file_tables(path: Path) -> dict[str, str]:
    wb = openpyxl.load_workbook(path)
    return {name: ref for ws in wb.worksheets for name, ref in ws.tables.items()}


def fake_sheets(book: FakeBook) -> dict[str, list[list[object]]]:
    return {s.name: _trimmed(s.grid()) for s in book.sheets}


def fake_tables(book: FakeBook) -> dict[str, str]:
    from openpyxl.utils import get_column_letter as col
    return {t.name: f"{col(t.ref[1])}{t.ref[0]}:{col(t.ref[3])}{t.ref[2]}" for s in book.sheets for t in s.tables}


def sheets_title(locale):
    return "发票" if locale == "zh-CN" else "Invoices"


def without_fingerprint(sheets):
    """The state sheet's file fingerprint (CRCs of the file's parts, the digest of the file
    read) exists only for a file; each sync's mark is its own."""
    state = [row[:1] if row and row[0] == "@sync" else row for row in sheets.get("_xlar", [])
             if not (row and row[0] in ("@parts", "@source"))]
    return {**sheets, "_xlar": state}


@pytest.fixture
def twin(backend, tmp_path):
    """The same workbook and the same store twice: one for the file, one for the live book."""
    def make(locale):
        path = build_template(tmp_path / "AR.xlsx", locale)
        newcomer_rows(path, locale)
        add_rows(path, "Invoices", [{"number": "T9", "date": "3/15/2026", "customer": "C404"}], locale)
        live = tmp_path / "live.xlsx"
        shutil.copyfile(path, live)
        return path, FakeBook.load(live)
    return make


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_an_action_through_the_file_and_through_xlwings_gives_identical_sheets(backend, twin, tmp_path, locale):
    path, book = twin(locale)
    told = {}
    with backend.store() as file_store, backend.store() as live_store:
        for tag in ("sync", "post", "match", "sync"):
            file_ui, live_ui = ScriptedUi(), ScriptedUi()
            gateway = FileGateway(path)
            try:
                told_file = actions.run(tag, Session(gateway, file_store, "alice", AS_OF, file_ui, tmp_path))
            finally:
                gateway.close()
            told_live = actions.run(tag, Session(XlwingsGateway(book), live_store, "alice", AS_OF, live_ui,
                                                 tmp_path))
            assert told_file == told_live and told_file.status == "done", tag   # the whole Outcome, counts too
            assert live_ui.told == [told_live.told]
            told[tag] = told_live.told
            assert without_fingerprint(file_sheets(path)) == without_fingerprint(fake_sheets(book)), tag
            assert file_tables(path) == fake_tables(book), tag
    sheets = fake_sheets(book)
    invoices = sheets["发票" if locale == "zh-CN" else "Invoices"]
    assert [row[0] for row in invoices[2:5]] == ["INV-2026-00001", "INV-2026-00002", "T9"]  # T9 held: C404
    errors = sheets["错误" if locale == "zh-CN" else "Errors"]
    assert [(row[0], row[1], row[3]) for row in errors[1:]] == [(sheets_title(locale), 5.0,
                                                           "XLAR-E113")]
    assert ("已过账 1 张：INV-2026-00002" if locale == "zh-CN" else "posted 1: INV-2026-00002") in told["post"]


def test_text_that_excel_would_coerce_stays_text():
    for text in ("2:30", "007", "=1+1", "-5", "'quoted", "@x", "1/2/2026"):
        assert typed(to_excel(text)).value == text
    assert typed(to_excel(None)).value is None and typed(to_excel("")).value is None
    with pytest.raises(TypeError):
        typed(__import__("decimal").Decimal("1.10"))


def test_the_live_gateway_reads_what_a_file_read_gives(tmp_path):
    path = build_template(tmp_path / "AR.xlsx", "en")
    add_rows(path, "Customers", [{"code": "C1", "name": "=1+1", "currency": "CNY"}])
    wb = openpyxl.load_workbook(path)
    wb["Customers"]["A3"] = "=UPPER(\"c2\")"
    wb.save(path)
    live = XlwingsGateway(FakeBook.load(path))
    gateway = FileGateway(path)
    try:
        assert live.titles() == gateway.titles()
        for title in ("Customers", "Settings", "Invoices"):
            assert _trimmed(live.grid(title)) == _trimmed(gateway.grid(title)), title
            assert dict(live.special(title)) == dict(gateway.special(title)), title
    finally:
        gateway.close()


def test_text_starting_with_equals_stays_text_through_live_syncs(backend, tmp_path):
    """Stored text "=Acme (HK)" reads back from Excel as text, not as a formula to hold."""
    path = build_template(tmp_path / "AR.xlsx", "en")
    book = FakeBook.load(path)
    customers = book.sheets["Customers"]
    header = customers.range((2, 1), (2, 20)).value                      # below the legend
    for key, typed_text in (("Code", "'C1"), ("Name", "'=Acme (HK)"), ("Currency", "'CNY")):
        customers.range((3, header.index(key) + 1)).value = typed_text   # typed in Excel as text
    with backend.store() as store:
        for _ in range(3):
            told = actions.run("sync", Session(XlwingsGateway(book), store, "alice", AS_OF, ScriptedUi(),
                                               tmp_path)).told
            assert "problems" not in told, told
    cell = next(c for (r, col), c in book.sheets["Customers"].cells.items() if c.value == "=Acme (HK)")
    assert cell.formula is None


def test_a_file_action_that_syncs_twice_adds_each_row_once(backend, tmp_path):
    """Post syncs, posts, syncs again through one gateway: the second sync reads what the first wrote."""
    from click.testing import CliRunner

    from xlar.cli import main

    path = build_template(tmp_path / "AR.xlsx", "en")
    newcomer_rows(path)
    with backend.store() as store:
        result = CliRunner().invoke(main, ["--store", store.url, "--user", "alice", "excel", "run", "post",
                                           "--workbook", str(path), "--yes", "--as-of", AS_OF.isoformat()])
        assert result.exit_code == 0, result.output
        assert "posted 1: INV-2026-00002" in result.output
        with store.read() as conn:
            kinds = conn.execute(sa.text("SELECT kind, count(*) FROM documents GROUP BY kind ORDER BY kind")).all()
        assert [tuple(k) for k in kinds] == [("invoice", 2), ("receipt", 1)]
        refused = CliRunner().invoke(main, ["--store", store.url, "excel", "run", "close", "--workbook", str(path),
                                            "--yes", "--as-of", AS_OF.isoformat()])
        assert refused.exit_code == 1 and refused.output.startswith("error: XLAR-E")   # a refusal exits 1


def test_the_workbook_names_its_store_on_its_config_sheet(tmp_path, monkeypatch):
    from xlar.domain.errors import XlarError
    from xlar.workbook.stores import store_url

    monkeypatch.delenv("XLAR_STORE", raising=False)
    path = build_template(tmp_path / "AR.xlsx", "en")
    book = FakeBook.load(path)
    live = XlwingsGateway(book)
    assert store_url(live, tmp_path) == f"sqlite:///{tmp_path / 'xlar.db'}"
    conf = book.sheets.add("xlar.conf")
    conf.range((1, 1)).value = [["XLAR_STORE", "'books/ar.db"]]
    assert store_url(live, tmp_path) == f"sqlite:///{tmp_path / 'books' / 'ar.db'}"
    conf.range((1, 1)).value = [["XLAR_STORE", "'postgresql://ar:secret@db/ar"]]
    with pytest.raises(XlarError, match="XLAR-E147"):
        store_url(live, tmp_path)
    # a store elsewhere is used only when the user trusts it (a workbook from outside would
    # otherwise connect its cells anywhere with the user's credentials)
    for elsewhere in ("postgresql://ar@db.example.com/ar", "//fileserver/share/ar.db", "../ar.db"):
        conf.range((1, 1)).value = [["XLAR_STORE", elsewhere]]
        with pytest.raises(XlarError, match="XLAR-E148 .* which you have not said you trust: add it to "
                                            "XLAR_TRUSTED_STORES"):
            store_url(live, tmp_path)
    conf.range((1, 1)).value = [["XLAR_STORE", "postgresql://ar@db.example.com/ar"]]
    monkeypatch.setenv("XLAR_TRUSTED_STORES", "sqlite:///elsewhere.db, postgresql://ar@db.example.com/ar")
    assert store_url(live, tmp_path) == "postgresql+psycopg://ar@db.example.com/ar"
    monkeypatch.delenv("XLAR_TRUSTED_STORES")
    monkeypatch.setenv("XLAR_STORE", "postgresql://ar@db.example.com/ar")   # the user's own store
    assert store_url(live, tmp_path) == "postgresql+psycopg://ar@db.example.com/ar"
