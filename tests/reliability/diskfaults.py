"""Full disks and read-only places, at every write of a sync: each case makes one write fail the
way a full disk (ENOSPC), a read-only file or folder (EPERM, EACCES) or a file open in Excel
(EACCES, EBUSY) makes it fail, syncs a workbook with a new customer and three new invoices,
then lets the writes succeed again and syncs twice more. Counted: tracebacks (a sync that ends
in anything but one line and exit 0 or 1), rows entered twice (documents beyond the three typed),
and books that do not prove afterwards.

The writes, in the order a sync makes them:
- `stage-backup`: the .bak staged before the store commits (a hard link, else a copy);
- `zip`: the synced workbook zipped into its staged file beside the workbook;
- `folder`: the staged file cannot be created (a read-only folder);
- `rename`: the staged workbook renamed over the workbook, after the commit;
- `backup`: the staged .bak renamed over the old .bak, after that.

Shared by tests/test_workbook_in_use.py (one test per kind of write) and bench/reliability.py
(every case on each store)."""

from __future__ import annotations

import errno
import os
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner

from tests.sheets import add_rows
from xlar.cli import main
from xlar.store.engine import Store
from xlar.store.tables import customers, documents
from xlar.workbook import parts, writer
from xlar.workbook.template import build_template

AS_OF = "2026-03-31"


def _error(code: int) -> OSError:
    return OSError(code, os.strerror(code))


CASES: list[tuple[str, OSError]] = [
    ("stage-backup", _error(errno.ENOSPC)), ("stage-backup", _error(errno.EPERM)),
    ("zip", _error(errno.ENOSPC)), ("zip", _error(errno.EDQUOT)),
    ("folder", _error(errno.EACCES)), ("folder", _error(errno.EROFS)),
    ("rename", _error(errno.EACCES)), ("rename", _error(errno.EBUSY)), ("rename", _error(errno.EPERM)),
    ("backup", _error(errno.EACCES)), ("backup", _error(errno.EPERM)), ("backup", _error(errno.EROFS)),
]


class Patcher:
    """monkeypatch's setattr and undo, outside pytest (the bench)."""

    def __init__(self) -> None:
        self._undo: list[tuple[object, str, object]] = []

    def setattr(self, target: object, name: str, value: object) -> None:
        self._undo.append((target, name, getattr(target, name)))
        setattr(target, name, value)

    def undo(self) -> None:
        while self._undo:
            target, name, value = self._undo.pop()
            setattr(target, name, value)


def fail_at(patch: Any, where: str, error: OSError) -> None:
    """Make one write of a sync fail with ERROR (see the module's text for WHERE). PATCH is
    pytest's monkeypatch or a Patcher."""
    real_replace, real_copy, real_link = os.replace, shutil.copy2, os.link
    real_zip, real_write_part = zipfile.ZipFile, parts.Package._write_part

    def replace(src: Any, dst: Any, *a: Any, **kw: Any) -> None:
        if (where == "rename" and Path(dst).suffix == ".xlsx") or (where == "backup" and str(dst).endswith(".bak")):
            raise OSError(error.errno, error.strerror, str(src), None, str(dst))   # as os.replace names both
        real_replace(src, dst, *a, **kw)

    def link(src: Any, dst: Any, *a: Any, **kw: Any) -> None:
        if where == "stage-backup":
            raise OSError(errno.EPERM, "Operation not permitted", str(dst))
        real_link(src, dst, *a, **kw)

    def copy2(src: Any, dst: Any, *a: Any, **kw: Any) -> Any:
        if where == "stage-backup":
            raise OSError(error.errno, error.strerror, str(dst))
        return real_copy(src, dst, *a, **kw)

    def zip_file(file: Any, mode: str = "r", *a: Any, **kw: Any) -> zipfile.ZipFile:
        if where == "folder" and mode == "w":
            raise OSError(error.errno, error.strerror, str(file))
        return real_zip(file, mode, *a, **kw)

    written: list[str] = []

    def write_part(self: parts.Package, out: zipfile.ZipFile, name: str, content: object) -> None:
        written.append(name)
        if len(written) > 3:   # a few parts are on disk when the disk fills up
            raise OSError(error.errno, error.strerror)
        real_write_part(self, out, name, content)

    patch.setattr(writer.os, "replace", replace)
    patch.setattr(writer.os, "link", link)
    patch.setattr(writer.shutil, "copy2", copy2)
    if where == "folder":
        patch.setattr(parts.zipfile, "ZipFile", zip_file)
    if where == "zip":
        patch.setattr(parts.Package, "_write_part", write_part)


@dataclass
class DiskFigures:
    tried: int = 0
    tracebacks: int = 0
    entered_twice: int = 0
    not_proved: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def good(self) -> bool:
        return not self.failures


def _sync(url: str, path: Path) -> tuple[int, str, BaseException | None]:
    done = CliRunner().invoke(main, ["--store", url, "--user", "alice", "sync", str(path), "--as-of", AS_OF])
    error = done.exception if done.exception is not None and not isinstance(done.exception, SystemExit) else None
    return done.exit_code, done.output, error


def typed_book(folder: Path, code: str) -> Path:
    """A new workbook with customer CODE and three invoices of it typed (not synced yet)."""
    path = build_template(folder / "AR.xlsx", "en")
    add_rows(path, "Customers", [{"code": code, "name": f"{code} Ltd.", "currency": "CNY"}])
    add_rows(path, "Invoices", [{"number": f"{code}-{k}", "date": date(2026, 3, 5), "customer": code,
                                 "status": "draft"} for k in (1, 2, 3)])
    add_rows(path, "InvoiceLines", [{"invoice": f"{code}-{k}", "line": 1, "item": "A-1", "qty": k,
                                     "unit_price": 50} for k in (1, 2, 3)])
    return path


def run_case(url: str, folder: Path, code: str, where: str, error: OSError, figures: DiskFigures) -> None:
    """One case on the store at URL (initialised) with customer CODE's own workbook in FOLDER."""
    figures.tried += 1
    name = f"{where} {errno.errorcode.get(error.errno or 0, error.errno)}"
    folder.mkdir(parents=True, exist_ok=True)
    path = typed_book(folder, code)
    patch = Patcher()
    fail_at(patch, where, error)
    try:
        exit_code, out, crashed = _sync(url, path)
    finally:
        patch.undo()
    lines = out.strip().splitlines()
    if crashed is not None or exit_code not in (0, 1) or "Traceback" in out:
        figures.tracebacks += 1
        figures.failures.append(f"{name}: a traceback ({type(crashed).__name__}: {crashed}) {out.strip()[-300:]}")
    elif where == "backup" and (exit_code != 0 or ".bak could not be replaced" not in out):
        figures.failures.append(f"{name}: the sync did not succeed and name where the previous version is: {out}")
    elif where != "backup" and (exit_code != 1 or len(lines) != 1 or "XLAR-E063" not in lines[0]):
        figures.failures.append(f"{name}: not refused in one line with XLAR-E063: {out.strip()}")
    for _ in range(2):
        exit_code, out, crashed = _sync(url, path)
        if exit_code != 0 or crashed is not None:
            figures.failures.append(f"{name}: the sync after the fault failed: {crashed or out.strip()}")
            return
    store = Store.open(url)
    try:
        with store.read() as conn:
            count = conn.execute(sa.select(sa.func.count()).select_from(documents).join(
                customers, customers.c.id == documents.c.customer_id).where(customers.c.code == code)).scalar_one()
    finally:
        store.dispose()
    if count > 3:
        figures.entered_twice += count - 3
        figures.failures.append(f"{name}: {count} invoices of {code} in the store for 3 typed")
    elif count < 3:
        figures.failures.append(f"{name}: {count} invoices of {code} in the store for 3 typed (lost)")
    done = CliRunner().invoke(main, ["--store", url, "check", "--as-of", AS_OF])
    if done.exit_code != 0:
        figures.not_proved += 1
        figures.failures.append(f"{name}: xlar check: {done.output.strip()[-300:]}")


def run_disk_faults(url: str, work: Path, cases: list[tuple[str, OSError]] = CASES) -> DiskFigures:
    """Every case of CASES on the store at URL (made here when it is new), each with its own
    customer and workbook."""
    started = time.monotonic()
    figures = DiskFigures()
    probe = Store.connect(url)
    try:
        new = probe.schema_revision() is None
    finally:
        probe.dispose()
    if new:
        done = CliRunner().invoke(main, ["--store", url, "init", "--company", "ACME", "--base-currency", "CNY"])
        if done.exit_code != 0:
            raise AssertionError(f"cannot make the store: {done.output}")
    for i, (where, error) in enumerate(cases):
        run_case(url, work / f"case{i:02d}", f"D{i:02d}", where, error, figures)
    figures.seconds = time.monotonic() - started
    return figures
