"""A sync stopped between the store's commit and the workbook's rename is finished by the
next sync, never done twice; one stopped before the commit is undone; a workbook changed
in between is not overwritten."""

from datetime import date

import pytest
import sqlalchemy as sa

from tests.sheets import add_rows, delete_row, edit, read
from xlar.domain.errors import Interrupted
from xlar.store.tables import customers
from xlar.sync.engine import sync_book, sync_workbook
from xlar.workbook.gateway import FileGateway
from xlar.workbook.template import build_template
from xlar.workbook.writer import staged_path

AS_OF = date(2026, 3, 31)


def typed(path, n, start=0):
    add_rows(path, "Customers", [{"code": f"K{i}", "name": f"Kunde {i}", "currency": "CNY"}
                                 for i in range(start, start + n)])
    add_rows(path, "Invoices", [{"number": f"k-{i}", "date": date(2026, 3, 2), "customer": f"K{i}",
                                 "status": "posted"} for i in range(start, start + n)])
    add_rows(path, "InvoiceLines", [{"invoice": f"k-{i}", "line": 1, "item": "X", "qty": 1, "unit_price": 10}
                                    for i in range(start, start + n)])


@pytest.fixture
def killed_before_rename(monkeypatch):
    """Syncs stop where a SIGKILL after the store's commit would: the staged file stays, the
    workbook is not replaced, nothing is cleaned up."""
    def commit(self):
        self._temp = None
    monkeypatch.setattr(FileGateway, "commit", commit)
    return monkeypatch


def test_a_sync_killed_after_the_commit_is_finished_not_repeated(store, tmp_path, killed_before_rename):
    path = build_template(tmp_path / "AR.xlsx", "en")
    typed(path, 3)
    old = path.read_bytes()
    first = sync_workbook(path, store, "alice", as_of=AS_OF)
    assert first.counts["Customers added"] == 3 and first.counts["Invoices added"] == 3
    assert path.read_bytes() == old and staged_path(path).exists()   # the store has it, the file not yet
    killed_before_rename.undo()
    again = sync_workbook(path, store, "alice", as_of=AS_OF)
    assert again.finished and "finished an interrupted sync" in again.summary()
    assert not again.counts, again.summary()       # nothing entered twice
    assert not staged_path(path).exists()
    customers = read(path, "Customers")
    invoices = read(path, "Invoices")
    assert sorted(r["Code"] for r in customers) == ["K0", "K1", "K2"]
    assert len(invoices) == 3 and len({r["Invoice no."] for r in invoices}) == 3
    assert all(r["_id"] for r in customers + invoices)


def test_a_sync_killed_before_the_commit_leaves_nothing_behind(store, tmp_path):
    path = build_template(tmp_path / "AR.xlsx", "en")
    typed(path, 2)
    # a staged file from a sync whose transaction never committed: it carries a mark the store lacks
    other = build_template(tmp_path / "other.xlsx", "en")
    typed(other, 1, start=10)
    sync_workbook(other, store, "bob", as_of=AS_OF)
    staged_path(path).write_bytes(other.read_bytes())
    with pytest.MonkeyPatch.context() as mp:   # bob's mark was in his own store transaction; forge another
        mp.setattr("xlar.sync.recovery._recorded", lambda store, token: False)
        report = sync_workbook(path, store, "alice", as_of=AS_OF)
    assert report.finished is None and not staged_path(path).exists()
    assert report.counts["Customers added"] == 2
    assert sorted(r["Code"] for r in read(path, "Customers")) == ["K0", "K1", "K10"]


def test_a_staged_file_cut_short_is_deleted(store, tmp_path):
    path = build_template(tmp_path / "AR.xlsx", "en")
    typed(path, 1)
    staged_path(path).write_bytes(path.read_bytes()[:3000])
    report = sync_workbook(path, store, "alice", as_of=AS_OF)
    assert report.counts["Customers added"] == 1 and not staged_path(path).exists()


def test_a_workbook_changed_after_the_interruption_is_not_overwritten(store, tmp_path, killed_before_rename):
    path = build_template(tmp_path / "AR.xlsx", "en")
    typed(path, 2)
    sync_workbook(path, store, "alice", as_of=AS_OF)
    killed_before_rename.undo()
    edit(path, "Customers", {"code": "K0"}, {"name": "changed after the crash"})
    with pytest.raises(Interrupted, match="the workbook that sync wrote is AR.synced-before-interruption.xlsx"):
        sync_workbook(path, store, "alice", as_of=AS_OF)
    kept = tmp_path / "AR.synced-before-interruption.xlsx"
    assert kept.exists() and not staged_path(path).exists()
    assert len(read(kept, "Customers")) == 2 and all(r["_id"] for r in read(kept, "Customers"))
    for _ in range(2):   # the old workbook stays refused while the one set aside is there
        with pytest.raises(Interrupted, match="AR.synced-before-interruption.xlsx beside AR.xlsx is the workbook "
                                              "an interrupted sync wrote"):
            sync_workbook(path, store, "alice", as_of=AS_OF)
    with pytest.raises(Interrupted, match="an interrupted sync wrote"):   # through the ribbon's path too
        sync_book(FileGateway(path), store, "alice", as_of=AS_OF)
    report = sync_workbook(kept, store, "alice", as_of=AS_OF)   # the kept one syncs cleanly: nothing twice
    assert not report.counts.get("Customers added")
    kept.replace(path)   # the user takes it as the workbook: it syncs
    assert not sync_workbook(path, store, "alice", as_of=AS_OF).counts
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(customers)).scalar() == 2


def test_a_dry_run_changes_no_file(store, tmp_path, killed_before_rename):
    path = build_template(tmp_path / "AR.xlsx", "en")
    typed(path, 1)
    sync_workbook(path, store, "alice", as_of=AS_OF)
    killed_before_rename.undo()
    staged = staged_path(path).read_bytes()
    report = sync_workbook(path, store, "alice", as_of=AS_OF, dry_run=True)
    assert "the next sync deals with it first" in report.summary()
    assert staged_path(path).read_bytes() == staged


def test_an_old_copy_with_new_rows_is_refused_one_without_is_synced(store, tmp_path):
    path = build_template(tmp_path / "AR.xlsx", "en")
    typed(path, 1)
    sync_workbook(path, store, "alice", as_of=AS_OF)
    add_rows(path, "Customers", [{"code": "NEW", "name": "typed before the copy", "currency": "CNY"}])
    copy = tmp_path / "copy.xlsx"
    copy.write_bytes(path.read_bytes())
    clean = tmp_path / "clean.xlsx"
    sync_workbook(path, store, "alice", as_of=AS_OF)          # NEW goes in from the original
    add_rows(copy, "Customers", [{"code": "BOB", "name": "bob's own", "currency": "CNY"}])
    with pytest.raises(Interrupted, match=r"copy.xlsx is behind the store: a later sync of it \(or of a copy "
                                          r"of it\) on .* already entered 1 of its new rows \(Customers row 4"):
        sync_workbook(copy, store, "bob", as_of=AS_OF)        # ... and would again from the copy
    delete_row(copy, "Customers", {"code": "NEW"})             # bob's own row alone goes in
    assert sync_workbook(copy, store, "bob", as_of=AS_OF).counts["Customers added"] == 1
    clean.write_bytes(path.read_bytes())                     # a copy whose rows are all in the store
    report = sync_workbook(clean, store, "bob", as_of=AS_OF)
    assert not report.counts.get("Customers added")
    assert sorted(r["Code"] for r in read(clean, "Customers")) == ["BOB", "K0", "NEW"]


def test_a_sync_killed_between_its_two_renames_gets_its_backup_on_the_next_sync(store, tmp_path):
    """Killed after the workbook was renamed into place and before its .bak: the previous version
    waits beside it (staged) and the next sync makes it the .bak."""
    from xlar.workbook.writer import staged_backup_path

    path = build_template(tmp_path / "AR.xlsx", "en")
    typed(path, 1)
    sync_workbook(path, store, "alice", as_of=AS_OF)
    older = (tmp_path / "AR.xlsx.bak").read_bytes()
    typed(path, 1, start=1)
    before = path.read_bytes()
    sync_workbook(path, store, "alice", as_of=AS_OF)
    # the state a kill between the two renames leaves: the new workbook, the staged previous
    # version beside it, the .bak still the one before that
    (tmp_path / "AR.xlsx.bak").replace(staged_backup_path(path))
    (tmp_path / "AR.xlsx.bak").write_bytes(older)
    again = sync_workbook(path, store, "alice", as_of=AS_OF)
    assert "its previous version is AR.xlsx.bak" in again.summary()
    assert (tmp_path / "AR.xlsx.bak").read_bytes() == before and not staged_backup_path(path).exists()
