"""A sync interrupted, or a workbook left behind: what the store recorded, and what to refuse.

A sync records in the store (audit log, entity "workbook") the token of the workbook it is
about to write, and which new rows of the workbook it read went in. Before the next sync of
a file, an interrupted one is finished or undone from what the store recorded; a workbook
whose new rows a later sync already entered (an old copy, the file an interrupted sync left)
is refused, so that no row goes in twice.
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.errors import Interrupted
from xlar.store import audit
from xlar.store.engine import Store
from xlar.store.tables import audit_log
from xlar.sync.rows import new_row_mark
from xlar.workbook.gateway import (
    FileGateway,
    WorkbookGateway,
    finish_interrupted,
    kept_beside,
    pending_interruption,
)
from xlar.workbook.reader import WorkbookData

WORKBOOK_ENTITY = "workbook"


SUPERSEDED = "superseded"


def refuse_superseded(conn: Connection, book: WorkbookData, gateway: WorkbookGateway) -> None:
    """Refuse a workbook with new rows when a later sync of it (of this very file, or of a copy)
    has been committed: its new rows went into the store then, and would go in twice. This is
    the workbook a sync interrupted after the store's commit left behind, or an old copy. A
    workbook never synced before has no mark to tell: while the workbook such a sync wrote is
    set aside beside it, it is refused too."""
    name = gateway.name
    if not any(r.row_id is None for d in book.sheets.values() for r in d.rows):
        return
    if isinstance(gateway, FileGateway):
        kept = kept_beside(gateway.path)
        if kept:
            raise Interrupted(f"{kept[0].name} beside {name} is the workbook an interrupted sync wrote: its rows "
                              f"are in the store, and {name}'s new rows may be among them. Move your later "
                              f"rows into {kept[0].name}, sync it and use it as {name}; then delete or move "
                              f"away the copy set aside")
    if not book.state.token:
        return
    a = audit_log.c
    mine = new_rows(book)
    for after, at in conn.execute(sa.select(a.after, a.at).where(
            a.entity == WORKBOOK_ENTITY, a.action == SUPERSEDED, a.entity_id == book.state.token)):
        entered = mine.keys() & set(json.loads(after or "{}").get("rows", ()))
        if entered:
            sheet, excel_row = min(mine[m] for m in entered)
            raise Interrupted(f"{name} is behind the store: a later sync of it (or of a copy of it) on "
                              f"{audit.at_text(at)[:16]} UTC already entered {len(entered)} of its new rows "
                              f"({sheet} row {excel_row} the first), and they would go in twice. Sync the "
                              "workbook that sync wrote (after an interrupted sync: the "
                              ".synced-before-interruption copy beside it) and type your later rows there")


def new_rows(book: WorkbookData) -> dict[str, tuple[str, int]]:
    """The workbook's new rows (no _id yet): mark -> (sheet, Excel row)."""
    return {new_row_mark(d.schema, r.values): (d.title, r.excel_row)
            for d in book.sheets.values() for r in d.rows if r.row_id is None}


def finish_interrupted_sync(path: Path, store: Store, *, dry_run: bool = False) -> str | None:
    """Before a sync of the file PATH: finish or undo an earlier one that was interrupted
    (workbook.gateway.finish_interrupted); a dry run only says one is waiting."""
    if dry_run:
        return pending_interruption(path)
    return finish_interrupted(path, lambda token: _recorded(store, token))


def _recorded(store: Store, token: str) -> bool:
    """True when the store committed the sync that staged a workbook marked TOKEN."""
    a = audit_log.c
    with store.read() as conn:
        return conn.execute(sa.select(a.id).where(a.entity == WORKBOOK_ENTITY, a.action == "sync",
                                                  a.entity_id == token)).first() is not None
