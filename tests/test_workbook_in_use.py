"""A workbook open in Excel is never damaged: `xlar sync` refuses a file Excel or LibreOffice has
open (their lock files) before it touches the store, and when the final write fails anyway
(file in use, permission denied, disk full, read-only folder) the user gets one line, the
store and the workbook stay consistent and the next sync enters nothing twice."""

from __future__ import annotations

import errno
import gc
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.reliability.diskfaults import CASES, fail_at, run_disk_faults
from tests.sheets import add_rows, read
from xlar.cli import main
from xlar.domain.errors import WorkbookNotWritten
from xlar.store.engine import Store
from xlar.store.tables import customers, documents
from xlar.sync.engine import sync_workbook
from xlar.workbook.gateway import kept_beside, not_replaced
from xlar.workbook.template import build_template
from xlar.workbook.writer import staged_backup_path, staged_path

AS_OF = "2026-03-31"


def cli(*args: object) -> tuple[int, str]:
    done = CliRunner().invoke(main, [str(a) for a in args])
    assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
    return done.exit_code, done.output


def store_counts(url: str) -> tuple[int, int]:
    store = Store.open(url)
    try:
        with store.read() as conn:
            return (conn.execute(sa.select(sa.func.count()).select_from(customers)).scalar_one(),
                    conn.execute(sa.select(sa.func.count()).select_from(documents)).scalar_one())
    finally:
        store.dispose()


@pytest.fixture
def book(tmp_path) -> tuple[Path, str]:
    path = build_template(tmp_path / "AR.xlsx", "en")
    url = f"sqlite:///{tmp_path / 'ar.db'}"
    assert cli("--store", url, "init", "--company", "ACME", "--base-currency", "CNY")[0] == 0
    add_rows(path, "Customers", [{"code": "C001", "name": "Acme", "currency": "CNY"}])
    add_rows(path, "Invoices", [{"number": "T1", "date": date(2026, 3, 5), "customer": "C001", "status": "draft"}])
    add_rows(path, "InvoiceLines", [{"invoice": "T1", "line": 1, "item": "A-1", "qty": 2, "unit_price": 50}])
    return path, url


@pytest.mark.parametrize("lock", ["~$AR.xlsx", ".~lock.AR.xlsx#"])
def test_a_workbook_open_in_excel_or_libreoffice_is_refused_before_the_store(book, lock):
    path, url = book
    (path.parent / lock).write_bytes(b"alice")
    before = path.read_bytes()
    code, out = cli("--store", url, "sync", path, "--as-of", AS_OF)
    lines = out.strip().splitlines()
    assert code == 1 and len(lines) == 1 and "XLAR-E062" in lines[0] and lock in lines[0], out
    assert "Sync" in lines[0] and "--force" in lines[0]
    assert path.read_bytes() == before and store_counts(url) == (0, 0)
    assert cli("--store", url, "excel", "run", "sync", "--workbook", path)[0] == 1
    assert cli("--store", url, "sync", path, "--as-of", AS_OF, "--dry-run")[0] == 0   # reads only
    code, out = cli("--store", url, "sync", path, "--as-of", AS_OF, "--force")      # a stale lock
    assert code == 0, out
    assert store_counts(url) == (1, 1)


FAILURES = [("rename", PermissionError(errno.EACCES, "Permission denied")),   # Excel has the file open
            ("rename", OSError(errno.EBUSY, "Device or resource busy"))]


def test_a_backup_that_cannot_be_staged_refuses_the_sync_before_the_store(book, monkeypatch):
    path, url = book
    before = path.read_bytes()
    fail_at(monkeypatch, "stage-backup", OSError(errno.ENOSPC, "No space left on device"))
    code, out = cli("--store", url, "sync", path, "--as-of", AS_OF)
    lines = out.strip().splitlines()
    assert code == 1 and len(lines) == 1 and "XLAR-E063" in lines[0] and "nothing was changed" in lines[0], out
    assert "No space left on device" in lines[0]
    assert path.read_bytes() == before and store_counts(url) == (0, 0)
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".")) == []   # nothing left behind
    monkeypatch.undo()
    assert cli("--store", url, "sync", path, "--as-of", AS_OF)[0] == 0
    assert store_counts(url) == (1, 1)


@pytest.mark.parametrize(("where", "error"), FAILURES, ids=["in-use", "busy"])
def test_a_failed_final_write_is_one_line_and_the_next_sync_enters_nothing_twice(book, monkeypatch, where, error):
    path, url = book
    before = path.read_bytes()
    fail_at(monkeypatch, where, error)
    code, out = cli("--store", url, "sync", path, "--as-of", AS_OF)
    lines = out.strip().splitlines()
    assert code == 1 and len(lines) == 1 and "XLAR-E063" in lines[0] and "AR.xlsx" in lines[0], out
    assert error.strerror in lines[0] and "close it in Excel" in lines[0]
    assert path.read_bytes() == before                       # the workbook as it was
    assert staged_path(path).exists() and staged_path(path).name in lines[0]   # names a file that is there
    assert store_counts(url) == (1, 1)                       # the store took the changes
    monkeypatch.undo()
    for _ in range(2):                                       # the next syncs finish, and enter nothing again
        code, out = cli("--store", url, "sync", path, "--as-of", AS_OF)
        assert code == 0, out
    assert store_counts(url) == (1, 1) and not staged_path(path).exists() and not kept_beside(path)
    rows = read(path, "Customers")
    assert [r["Code"] for r in rows] == ["C001"] and rows[0]["_id"]
    assert len(read(path, "Invoices")) == 1
    code, out = cli("--store", url, "check", "--as-of", AS_OF, "--month-ends")
    assert code == 0, out


def test_a_bak_that_cannot_be_replaced_costs_only_its_name(book, monkeypatch):
    """A read-only AR.xlsx.bak (or one open in Excel) after the store's commit: the workbook is
    written all the same, and the previous version stays beside it under the name the note gives."""
    path, url = book
    before = path.read_bytes()
    fail_at(monkeypatch, "backup", PermissionError(errno.EACCES, "Permission denied"))
    code, out = cli("--store", url, "sync", path, "--as-of", AS_OF)
    assert code == 0, out
    kept = staged_backup_path(path)
    assert "AR.xlsx.bak could not be replaced (Permission denied)" in out and kept.name in out, out
    assert kept.read_bytes() == before and len(read(path, "Invoices")) == 1 and store_counts(url) == (1, 1)
    monkeypatch.undo()
    add_rows(path, "Customers", [{"code": "C002", "name": "Beta", "currency": "CNY"}])
    code, out = cli("--store", url, "sync", path, "--as-of", AS_OF)      # the next one as usual
    assert code == 0 and not kept.exists() and "could not" not in out, out
    assert store_counts(url) == (2, 1)


def test_a_failed_copy_of_the_previous_version_names_the_bak(tmp_path):
    """The .bak named in E063 when it is the file that failed (not "close it in Excel")."""
    path = tmp_path / "AR.xlsx"
    exc = PermissionError(errno.EACCES, "Permission denied", str(path), None, str(path) + ".bak")
    message = str(not_replaced(path, staged_path(path), exc))
    assert "Permission denied on AR.xlsx.bak" in message and "make AR.xlsx.bak writable" in message
    assert "close it in Excel" not in message


def test_a_sync_rolled_back_before_the_rename_leaves_nothing_beside_the_workbook(book):
    """A staged workbook whose sync the store never recorded is deleted, and its staged .bak too."""
    path, url = book
    staged_path(path).write_bytes(path.read_bytes())
    staged_backup_path(path).write_bytes(path.read_bytes())
    code, out = cli("--store", url, "sync", path, "--as-of", AS_OF)
    assert code == 0, out
    assert not staged_path(path).exists() and not staged_backup_path(path).exists()


def test_a_workbook_changed_after_a_failed_write_is_set_aside_by_a_name_that_exists(book, monkeypatch):
    path, url = book
    fail_at(monkeypatch, "rename", PermissionError(errno.EACCES, "Permission denied"))
    assert cli("--store", url, "sync", path, "--as-of", AS_OF)[0] == 1
    monkeypatch.undo()
    add_rows(path, "Customers", [{"code": "C002", "name": "Beta", "currency": "CNY"}])   # typed meanwhile
    code, out = cli("--store", url, "sync", path, "--as-of", AS_OF)
    assert code == 1 and len(out.strip().splitlines()) == 1, out
    kept = kept_beside(path)
    assert kept and kept[0].name in out and kept[0].exists()
    assert store_counts(url) == (1, 1)                        # nothing entered twice


def test_a_failed_write_through_the_python_api_raises_the_same_error(store, tmp_path, monkeypatch):
    path = build_template(tmp_path / "AR.xlsx", "en")
    add_rows(path, "Customers", [{"code": "C001", "name": "Acme", "currency": "CNY"}])
    fail_at(monkeypatch, "rename", PermissionError(errno.EACCES, "Permission denied"))
    with pytest.raises(WorkbookNotWritten):
        sync_workbook(path, store, "alice", as_of=date(2026, 3, 31))
    monkeypatch.undo()
    sync_workbook(path, store, "alice", as_of=date(2026, 3, 31))
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(customers)).scalar_one() == 1


def test_a_read_only_folder_refuses_the_sync_cleanly(tmp_path):
    """The staged file cannot be made beside the workbook: nothing reaches the store. As root the
    folder's mode binds nobody, so the sync runs as the user nobody (setpriv)."""
    base = Path(tempfile.mkdtemp(prefix="xlar-ro-"))
    try:
        base.chmod(0o777)
        books, data = base / "books", base / "data"
        books.mkdir()
        data.mkdir(mode=0o777)
        data.chmod(0o777)
        path = build_template(books / "AR.xlsx", "en")
        add_rows(path, "Customers", [{"code": "C001", "name": "Acme", "currency": "CNY"}])
        url = f"sqlite:///{data / 'ar.db'}"
        assert cli("--store", url, "init", "--company", "ACME", "--base-currency", "CNY")[0] == 0
        (data / "ar.db").chmod(0o666)
        path.chmod(0o666)
        books.chmod(0o555)
        before = path.read_bytes()
        command = [sys.executable, "-m", "xlar.cli", "--store", url, "--user", "alice", "sync", str(path),
                   "--as-of", AS_OF]
        if os.geteuid() == 0:
            if shutil.which("setpriv") is None:
                pytest.skip("running as root without setpriv: a read-only folder cannot be made")
            command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command]
        env = {**os.environ, "HOME": str(base), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=base, timeout=120, check=False)
        lines = (done.stdout + done.stderr).strip().splitlines()
        assert done.returncode == 1 and len(lines) == 1, done.stdout + done.stderr
        assert "XLAR-E063" in lines[0] and "books" in lines[0] and "nothing was changed" in lines[0]
        assert path.read_bytes() == before and store_counts(url) == (0, 0)
        assert not staged_path(path).exists()
    finally:
        for folder in (base / "books", base):
            if folder.exists():
                folder.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def small_disk(tmp_path):
    """A folder on a tmpfs of a few pages: a real full disk (mounting needs root, as in CI)."""
    folder = tmp_path / "small"
    folder.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")

    def mount(size: int) -> Path:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        return folder
    yield mount
    gc.collect()   # a workbook reader still open on a file there would keep the mount busy
    done = subprocess.run(["umount", "--lazy", str(folder)], capture_output=True, text=True, check=False)
    assert done.returncode == 0 or "not mounted" in done.stderr, done.stderr


def test_a_full_disk_refuses_the_sync_before_the_store(book, small_disk):
    source, url = book
    folder = small_disk(source.stat().st_size + 8192)       # room for the workbook, not for its next version
    path = folder / "AR.xlsx"
    shutil.copyfile(source, path)
    before = path.read_bytes()
    code, out = cli("--store", url, "sync", path, "--as-of", AS_OF)
    lines = out.strip().splitlines()
    assert code == 1 and len(lines) == 1 and "XLAR-E063" in lines[0] and "No space left on device" in lines[0], out
    assert path.read_bytes() == before and store_counts(url) == (0, 0)
    assert sorted(p.name for p in folder.iterdir()) == ["AR.xlsx"]                 # no half-written file left


@pytest.mark.parametrize("where", ["stage-backup", "zip", "folder", "rename", "backup"])
def test_a_write_that_fails_anywhere_costs_no_traceback_and_enters_nothing_twice(backend, tmp_path, where):
    """One case of each write (tests/reliability/diskfaults.py; bench/reliability.py runs them all)."""
    case = next(c for c in CASES if c[0] == where)
    figures = run_disk_faults(backend.url(), tmp_path, [case])
    assert figures.failures == [] and figures.tried == 1
