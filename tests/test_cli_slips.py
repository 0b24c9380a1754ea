"""The CLI finds a workbook's store as Excel does, from any folder; and every slip a user can
make on the command line ends in one line (exit 1, or 2 for a bad argument), never a traceback."""

import hashlib
import re
import shutil

import openpyxl
import pytest
from click.testing import CliRunner

from xlar.cli import main

CODE = re.compile(r"XLAR-[EW]\d+")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(autouse=True)
def _no_store_in_the_environment(monkeypatch):
    monkeypatch.delenv("XLAR_STORE", raising=False)
    monkeypatch.delenv("XLAR_TRUSTED_STORES", raising=False)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The demo company, made once: its folder holds xlar.db and AR.xlsx."""
    folder = tmp_path_factory.mktemp("made") / "demo"
    result = run("--user", "demo", "demo", folder, "--through", "2026-11-20")
    assert result.exit_code == 0, result.output
    return folder, result.output


@pytest.fixture
def demo(made, tmp_path):
    """A copy of the demo folder, for a test to change."""
    folder = tmp_path / "demo"
    shutil.copytree(made[0], folder)
    return folder


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """The current folder: another one, with nothing in it."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def with_conf_sheet(path, value):
    book = openpyxl.load_workbook(path)
    book.create_sheet("xlar.conf").append(["XLAR_STORE", value])
    book.save(path)


# ---- which store ------------------------------------------------------------------------

def test_the_demo_says_what_to_type_next_and_it_runs_from_another_folder(made, demo, elsewhere):
    lines = made[1].splitlines()
    at = lines.index("next: type on the workbook's sheets, then")
    sync, report = (line.split() for line in lines[at + 1:at + 3])
    assert sync == ["xlar", "sync", str(made[0] / "AR.xlsx")]
    result = run(*sync[1:-1], demo / "AR.xlsx", "--as-of", "2026-11-20")   # the copy: the made demo stays as made
    assert result.exit_code == 0, result.output
    assert not (elsewhere / "xlar.db").exists()
    out = run(*report[1:])
    assert out.exit_code == 0 and (elsewhere / "aging.xlsx").exists(), out.output


def test_sync_and_excel_run_use_the_store_beside_the_workbook(demo, elsewhere):
    for args in (["sync", demo / "AR.xlsx", "--as-of", "2026-11-20"],
                 ["excel", "run", "sync", "--workbook", demo / "AR.xlsx", "--as-of", "2026-11-20"]):
        result = run(*args)
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
    assert list(elsewhere.iterdir()) == []


def test_the_workbook_names_its_store_on_its_xlar_conf_sheet(tmp_path, elsewhere):
    folder = tmp_path / "book"
    assert run("template", "--locale", "en", "-o", folder / "AR.xlsx").exit_code == 0
    assert run("--store", folder / "books" / "ar.db", "init", "--period", "2026-03").exit_code == 0
    with_conf_sheet(folder / "AR.xlsx", "books/ar.db")
    result = run("sync", folder / "AR.xlsx", "--as-of", "2026-03-31")
    assert result.exit_code == 0, result.output
    assert not (folder / "xlar.db").exists() and list(elsewhere.iterdir()) == []
    assert "xlar.conf" in openpyxl.load_workbook(folder / "AR.xlsx", read_only=True).sheetnames   # kept by the sync


def test_a_store_the_workbook_names_is_refused_unless_trusted(tmp_path, demo, elsewhere, monkeypatch):
    outside = tmp_path / "outside.db"
    shutil.copy(demo / "xlar.db", outside)
    with_conf_sheet(demo / "AR.xlsx", "../outside.db")
    for args in (["sync", demo / "AR.xlsx"], ["excel", "run", "sync", "--workbook", demo / "AR.xlsx"]):
        refused = run(*args)
        assert refused.exit_code == 1
        assert refused.output.startswith("error: XLAR-E148 the workbook's xlar.conf sheet names the store sqlite:///")
        assert "XLAR_TRUSTED_STORES" in refused.output and len(refused.output.splitlines()) == 1
    given = run("--store", outside, "sync", demo / "AR.xlsx", "--as-of", "2026-11-20")   # --store decides
    assert given.exit_code == 0, given.output
    monkeypatch.setenv("XLAR_TRUSTED_STORES", f"sqlite:///{outside}")
    assert run("sync", demo / "AR.xlsx", "--as-of", "2026-11-20").exit_code == 0


def test_xlar_store_comes_before_the_store_beside_the_workbook(demo, tmp_path, elsewhere, monkeypatch):
    moved = tmp_path / "moved.db"
    (demo / "xlar.db").rename(moved)
    missing = run("sync", demo / "AR.xlsx")
    assert missing.exit_code == 1
    assert missing.output == (f"error: XLAR-E050 no store at {demo / 'xlar.db'}: run "
                              f"`xlar --store sqlite:///{demo / 'xlar.db'} init`\n")
    monkeypatch.setenv("XLAR_STORE", str(moved))
    assert run("sync", demo / "AR.xlsx", "--as-of", "2026-11-20").exit_code == 0


# ---- slips ------------------------------------------------------------------------------

def test_a_store_that_is_not_a_database_is_refused_and_left_untouched(demo, elsewhere):
    notes = elsewhere / "notes.txt"
    notes.write_text("not a database\n")
    for path in (demo / "AR.xlsx", notes):
        before = hashlib.sha256(path.read_bytes()).hexdigest()
        for args in (["balance", "C001"], ["init"], ["sync", demo / "AR.xlsx"]):
            result = run("--store", path, *args)
            assert result.exit_code == 1
            assert result.output == (f"error: XLAR-E050 {path} is not an xlar store (not a SQLite database): "
                                     "give the store's file (…/xlar.db) or a postgresql:// URL\n")
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before
        assert not path.with_name(path.name + "-wal").exists() and not path.with_name(path.name + "-journal").exists()
    folder = run("--store", demo, "balance", "C001")
    assert folder.exit_code == 1 and folder.output.startswith(f"error: XLAR-E050 {demo} is a folder")


SLIPS = [   # (what a user types after `xlar --store DEMO`, the exit code, what the message says)
    (["report", "aging", "--buckets", "800000"], 2, "aging bucket edges are at most 36500 days"),
    (["report", "aging", "--buckets", "0"], 2, "must be positive and increasing, got [0]"),
    (["report", "aging", "--buckets", "-30"], 2, "must be positive and increasing, got [-30]"),
    (["report", "aging", "--buckets", "60,30"], 2, "must be positive and increasing, got [60, 30]"),
    (["report", "aging", "--buckets", "30,30"], 2, "must be positive and increasing, got [30, 30]"),
    (["report", "aging", "--buckets", "thirty"], 2, "aging buckets must be whole days like '30,60,90'"),
    (["report", "aging", "--buckets", ""], 2, "aging needs at least one bucket edge"),
    (["balance", "NOPE"], 1, "error: XLAR-E010 unknown customer 'NOPE'"),
    (["statement", "NOPE", "-o", "out"], 1, "error: XLAR-E010 unknown customer 'NOPE'"),
    (["balance", "C001", "--as-of", "2026/13/01"], 2, "'2026/13/01' is not a date like 2026-03-31"),
    (["balance", "C001", "--as-of", "2026-13-01"], 2, "'2026-13-01' is not a date like 2026-03-31"),
    (["balance", "C001", "--as-of", "0001-01-01"], 2, "'0001-01-01' is out of range (1900-03-01 to 2199-12-31)"),
    (["close", "--period", "2026-13"], 2, "period must look like 2026-03, got '2026-13'"),
    (["statement", "--all", "--cycle", "Oct 2026", "-o", "out"], 2, "period must look like 2026-03"),
    (["write-off", "INV-2026-00001", "--amount", "1,000", "--reason", "BANK_FEE"], 2,
     "'1,000' is not a plain decimal number"),
    (["invoice", "post", "INV-9999-99999"], 1, "error: XLAR-E010"),
    (["sync", "missing.xlsx"], 2, "'missing.xlsx' does not exist"),
    (["sync", "."], 2, "is a directory"),
    (["sync", "notes.csv"], 2, "notes.csv is not an Excel workbook (.xlsx): `xlar template` makes one"),
    (["sync", "old.xls"], 2, "old.xls is an Excel 97-2003 workbook: open it in Excel and save it as .xlsx"),
    (["bank", "import", "notes.csv"], 1, "error: XLAR-E080"),
    (["import", "opening", "old.xls"], 1, "error: XLAR-E021 old.xls is not a CSV or a workbook xlar can read"),
    (["report", "aging", "--format", "xlsx", "-o", "notes.csv/aging.xlsx"], 1,
     "error: XLAR-E051 notes.csv/aging.xlsx: Not a directory"),
    (["dashboard", "-o", "no/such/folder/d.xlsx"], 1, "error: XLAR-E051 no/such/folder/d.xlsx: No such file"),
    (["journal", "export", "--period", "2026-10", "-o", "."], 2, "is a directory"),
    (["template", "-o", "notes.csv/AR.xlsx"], 1, "error: XLAR-E051 notes.csv: File exists"),
    (["excel", "install"], 1, "error: XLAR-E146 Excel runs on Windows and macOS: give the startup folder with --dir"),
    (["excel", "run", "nope", "--workbook", "AR.xlsx"], 2, "Invalid value for TAG: one of sync"),
    (["report", "nope"], 2, "No such command 'nope'"),
    (["init", "--store", "x.db"], 2, "No such option '--store'"),
]


@pytest.mark.parametrize("args, code, message", SLIPS, ids=[" ".join(s[0]) for s in SLIPS])
def test_each_slip_is_one_line_with_its_exit_code(made, tmp_path, monkeypatch, args, code, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.csv").write_text("date,amount\n2026/13/01,1\n")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    shutil.copy(made[0] / "AR.xlsx", tmp_path / "AR.xlsx")
    result = run("--store", made[0] / "xlar.db", *args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.lower().startswith("error")]
    assert len(errors) == 1, result.output
    assert len(CODE.findall(errors[0])) <= 1, errors[0]   # never two codes on one error
    if code == 1:
        assert result.output.startswith("error: XLAR-E") and len(result.output.splitlines()) == 1


def test_no_error_message_is_written_with_its_code_inside():
    """A refusal's code is its class's or code=: a message raised with a code in front gets a second."""
    from pathlib import Path

    import xlar

    written = re.compile(r"""raise \w+\(\s*f?["']XLAR-[EW]\d+ """)
    found = [f"{p.name}: {m.group(0)}" for p in Path(xlar.__file__).parent.rglob("*.py")
             for m in written.finditer(p.read_text(encoding="utf-8"))]
    assert found == []
