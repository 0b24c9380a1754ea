"""Pull: the input sheets as the store now holds them, and whether anything needs writing.

Every input sheet is rebuilt from the store's rows (held-back rows stay as typed, after
them); a sheet whose cells would not change is left as the user saved it, and a workbook
that already shows the store is not written at all."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal

from xlar.domain.codes import Code
from xlar.domain.errors import Issue
from xlar.schema.cells import is_blank
from xlar.schema.columns import ID_COLUMN, REV_COLUMN
from xlar.store import sealcheck, seals
from xlar.store.audit import store_version
from xlar.store.engine import Store
from xlar.sync.report import SyncReport
from xlar.sync.rows import StoreRow, content_hash, rev_cell
from xlar.workbook.gateway import (
    WorkbookGateway,
)
from xlar.workbook.reader import SheetData, WorkbookData, book_locale
from xlar.workbook.shown import issue_cells, issues_shown, read_state
from xlar.workbook.writer import SheetRows, cell_value, translated


def sheet_rows(stored: list[StoreRow], data: SheetData | None, held_ids: set[int],
                locale: str, moved: dict[tuple[str, int], int],
                new_extras: dict[str, tuple[object, ...]]) -> SheetRows | None:
    """The rows an input sheet shows after the sync: the store's, then what was held back as typed."""
    if data is None:
        return None
    schema = data.schema
    extras_by_id = {r.row_id: r.extras for r in data.rows if r.row_id} | new_extras
    n_extra = len(data.extra_headers)
    blank_extras = ("",) * n_extra
    keys = [key if key in schema.by_key else None for key in data.layout]
    at_id = data.layout.index(ID_COLUMN) if ID_COLUMN in data.layout else None
    at_rev = data.layout.index(REV_COLUMN) if REV_COLUMN in data.layout else None
    at_extras = [i for i, key in enumerate(data.layout) if key.startswith("+")]
    shown = [i for i, key in enumerate(keys) if key is not None and translated(schema.by_key[key], locale)]
    out: list[list[object]] = []
    for row in stored:
        if row.id in held_ids:
            continue
        get = row.values.get
        cells = [None if key is None else get(key) for key in keys]
        for i in shown:
            cells[i] = cell_value(schema, data.layout[i], cells[i], locale)
        if at_id is not None:
            cells[at_id] = row.id
        if at_rev is not None:
            cells[at_rev] = rev_cell(row.rev, schema, row.values)
        if at_extras:
            for i, value in zip(at_extras, extras_by_id.get(str(row.id)) or blank_extras, strict=False):
                cells[i] = value
        out.append(cells)
    for excel_row, raw in sorted(data.held.items()):
        moved[(schema.name, excel_row)] = data.header_row + 1 + len(out)
        out.append(list(raw))
    return SheetRows(schema, data.title, data.header_row, data.layout, out, _already_shown(data, out))


def _already_shown(data: SheetData, out: list[list[object]]) -> bool:
    """True when DATA's rows, read where they stand (one after another below the header, none
    held), show every cell of OUT already: writing the sheet again would change nothing."""
    if data.held or len(data.rows) != len(out):
        return False
    first = data.header_row + 1
    for n, (row, cells) in enumerate(zip(data.rows, out, strict=True)):
        raw = row.raw
        if row.excel_row != first + n or len(raw) < len(cells) or any(not is_blank(v) for v in raw[len(cells):]):
            return False
        if not all(map(_shows, raw, cells)):
            return False
    return True


def _shows(raw: object, cell: object) -> bool:
    """Whether a cell read as RAW shows CELL, the value a sync would write there (a number as
    the float it reads back as; a date as a date, or a date and time at midnight)."""
    if cell is None or cell == "":
        return raw is None or raw == ""
    if isinstance(cell, bool) or isinstance(raw, bool):
        return raw is cell
    if isinstance(cell, str):
        return isinstance(raw, str) and raw == cell
    if isinstance(cell, date):
        if isinstance(cell, datetime):
            return isinstance(raw, datetime) and raw == cell
        return (isinstance(raw, datetime) and raw.time() == time() and raw.date() == cell) or \
            (type(raw) is date and raw == cell)
    if isinstance(cell, (int, Decimal)) and isinstance(raw, (int, float)):
        return Decimal(repr(raw)) == cell if isinstance(raw, float) else raw == cell
    # a float as it is; any other value (a time, a duration) a sync writes as its text: rewrite
    return type(cell) is float and type(raw) is float and raw == cell


def untouched(book: WorkbookGateway, store: Store, as_of: date) -> SyncReport | None:
    """The report of a sync with nothing to do, when the workbook is what the last sync wrote
    (a file: byte for byte), for the same date, and the store has not changed since, by xlar
    (its version) or behind its back (its rows add up to their seals): no input cell is read."""
    state = read_state(book)
    if state.as_of != as_of or not state.parts:
        return None
    with store.read() as conn:
        if store_version(conn) != state.store_version:
            return None
    if not book.untouched(state):
        return None
    with store.read() as conn:
        if not seals.intact(conn):
            return None
    return SyncReport(issues=issues_shown(book), locale=book_locale(book.titles()))


def outside_issues(found: Sequence[sealcheck.Difference], shown: int = 10) -> list[Issue]:
    """The rows changed outside xlar (another program, an edit of the database file): one
    warning each, the first SHOWN of them; the sheets show the store as it is now."""
    issues = [Issue("", 0, None, Code.W107, f"{d.text()} since xlar last wrote it: the sheets show the store as it is "
                    "now; an admin who has checked it takes it as it is with `xlar audit accept`")
              for d in found[:shown]]
    if len(found) > shown:
        issues.append(Issue("", 0, None, Code.W107, f"… and {len(found) - shown} more row(s) changed outside "
                            "xlar (`xlar check` names them all)"))
    return issues


def shows_store(book: WorkbookData, stored: dict[str, list[StoreRow]], report: SyncReport, version: str) -> bool:
    """True when every sheet already shows what the store holds and the Errors sheet shows
    these very issues: writing would change no cell, so nothing is written. A store changed
    since the last sync (a bank import, say) may change output sheets alone: they are written."""
    if book.state.store_version != version:
        return False
    if [tuple(row) for row in book.errors_shown] != [issue_cells(i, book.locale) for i in report.issues]:
        return False
    for name, rows in stored.items():
        data = book.sheets.get(name)
        if data is None:
            continue
        schema = data.schema
        kept = [r for r in data.rows if r.excel_row not in data.held]
        shown = {(int(r.row_id), r.rev, r.synced_hash) for r in kept if r.row_id}
        if any(r.row_id is None for r in kept):
            return False
        if shown != {(r.id, r.rev, content_hash(schema, r.values)) for r in rows}:
            return False
        if any(r.edited for r in kept):
            return False
    return True
