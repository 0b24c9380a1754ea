"""`xlar sync`: push the workbook's changes to the store, pull the store back, in one transaction.

The steps, each in its own module:
- recovery: finish an interrupted sync of the file; refuse a workbook whose new rows a later
  sync already entered;
- push: sheet by sheet in dependency order, plan the sheet's rows (plan: pure) and apply the
  plan, each row in its own savepoint (a refused row becomes an issue, the rest goes through);
- pull: every input sheet rebuilt from the store (held-back rows stay as typed), then the
  output sheets (outputs), Errors and Conflicts; nothing is written when the workbook already
  shows the store.
A dry run rolls the push back and writes nothing.
"""

from __future__ import annotations

import dataclasses
import gc
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Connection

from xlar.domain.errors import XlarError
from xlar.schema.messages import localize_memo
from xlar.schema.sheets import (
    ALLOCATIONS,
    CONTACTS,
    CONTRACTS,
    CUSTOMERS,
    DELIVERIES,
    FX_RATES,
    INSTALLMENT_TERMS,
    ORDERS,
    PAYMENT_TERMS,
    REMINDER_LEVELS,
)
from xlar.services import suggest as suggest_service
from xlar.store import audit, sealcheck, seals
from xlar.store.audit import store_version
from xlar.store.engine import Store
from xlar.store.mapping import MAPPINGS
from xlar.sync.adapters import (
    Adapter,
    CustomersAdapter,
    DeliveriesAdapter,
    FxRatesAdapter,
    OrdersAdapter,
    SettingsAdapter,
    TableAdapter,
    TermsAdapter,
)
from xlar.sync.allocations import AllocationsAdapter, PayablesAdapter
from xlar.sync.context import Context
from xlar.sync.documents import (
    InvoicesAdapter,
    ReceiptsAdapter,
)
from xlar.sync.outputs import outputs_for
from xlar.sync.pull import outside_issues, sheet_rows, shows_store, untouched
from xlar.sync.push import Push
from xlar.sync.recovery import (
    SUPERSEDED,
    WORKBOOK_ENTITY,
    finish_interrupted_sync,
    new_rows,
    refuse_superseded,
)
from xlar.sync.report import SyncReport
from xlar.workbook.gateway import (
    FileGateway,
    WorkbookGateway,
    refuse_open,
)
from xlar.workbook.reader import (
    WorkbookData,
    read_book,
)
from xlar.workbook.state import SyncState
from xlar.workbook.writer import SheetRows, cell_value


def adapters() -> list[Adapter]:
    """Every input sheet's adapter, in the order their rows depend on each other."""
    return [
        SettingsAdapter(), TermsAdapter(MAPPINGS[PAYMENT_TERMS.name]),
        TableAdapter(MAPPINGS[INSTALLMENT_TERMS.name]), CustomersAdapter(MAPPINGS[CUSTOMERS.name]),
        FxRatesAdapter(MAPPINGS[FX_RATES.name]), TableAdapter(MAPPINGS[CONTRACTS.name]),
        OrdersAdapter(MAPPINGS[ORDERS.name]), DeliveriesAdapter(MAPPINGS[DELIVERIES.name]),
        InvoicesAdapter(), ReceiptsAdapter(), AllocationsAdapter(), PayablesAdapter(),
        TableAdapter(MAPPINGS[CONTACTS.name]), TableAdapter(MAPPINGS[REMINDER_LEVELS.name]),
    ]


@contextmanager
def _without_gc_pauses() -> Iterator[None]:
    """A sync builds millions of small objects that live until it ends and form no cycles:
    Python's cyclic collector would re-scan them again and again (a tenth of a large
    sync's time) and free nothing. It is paused for the sync and runs once after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect()


@dataclass(frozen=True, slots=True)
class Suggest:
    """Ask a sync to add matching suggestions to the Allocations sheet (xlar match --suggest)."""

    strategy: str = "auto"
    customer: str | None = None


def sync_workbook(path: Path, store: Store, user: str, *, dry_run: bool = False,
                  as_of: date | None = None, suggest: Suggest | None = None, force: bool = False) -> SyncReport:
    """Sync the workbook file at PATH with STORE as USER (one transaction); see the module doc.
    With SUGGEST, the Allocations sheet gains the matches a strategy proposes, as new rows the
    accountant edits, deletes or keeps: the next sync commits what is left of them. A file open
    in Excel or LibreOffice is refused before the store is touched, unless FORCE (a stale lock)."""
    if not (dry_run or force):
        refuse_open(path)
    finished = finish_interrupted_sync(path, store, dry_run=dry_run)
    book = FileGateway(path)
    try:
        report = sync_book(book, store, user, dry_run=dry_run, as_of=as_of, suggest=suggest)
    finally:
        book.close()
    report.finished = finished
    return report


def sync_book(book: WorkbookGateway, store: Store, user: str, *, dry_run: bool = False,
              as_of: date | None = None, suggest: Suggest | None = None) -> SyncReport:
    """Sync the workbook BOOK gives access to (a file, or the workbook open in Excel)."""
    with _without_gc_pauses():
        return _sync(book, store, user, dry_run=dry_run, as_of=as_of or date.today(), suggest=suggest)


def _named_credits(book: WorkbookData) -> set[str]:
    data = book.sheets.get(ALLOCATIONS.name)
    if data is None:
        return set()
    return {str(r.values["credit_doc"]) for r in data.rows if r.row_id is None and r.values.get("credit_doc")}


def _suggestion_rows(conn: Connection, suggest: Suggest, sheet: SheetRows, locale: str) -> int:
    """Append the proposals as new Allocations rows (no id: the next sync commits them)."""
    proposals = suggest_service.propose(conn, suggest.strategy, customer=suggest.customer)
    for p in proposals:
        values = {"credit_doc": p.credit.number if p.credit else None, "invoice": p.debit.number,
                  "installment_no": p.debit.installment_no if p.debit.installment_no > 1 else None,
                  "item": p.item, "amount": p.amount, "method": p.method, "reason_code": p.reason_code,
                  "memo": localize_memo(p.reason, locale)}
        sheet.rows.append([cell_value(ALLOCATIONS, key, values[key], locale) if key in values else None
                           for key in sheet.layout])
    return len(proposals)


def _sync(gateway: WorkbookGateway, store: Store, user: str, *, dry_run: bool, as_of: date,
          suggest: Suggest | None = None) -> SyncReport:
    quiet = None if suggest else untouched(gateway, store, as_of)
    if quiet is not None:
        quiet.dry_run = dry_run
        return quiet
    book = read_book(gateway)
    report = SyncReport(issues=list(book.issues), dry_run=dry_run, locale=book.locale)
    with store.write() as conn:
        refuse_superseded(conn, book, gateway)
        outside = sealcheck.outside(conn)
        report.issues.extend(outside_issues(outside))
        ctx = Context.load(conn, user)
        ctx.named_credits, ctx.as_of, ctx.locale = _named_credits(book), as_of, book.locale
        push = Push(conn, ctx, book, report, as_of)
        savepoint = conn.begin_nested()
        for adapter in adapters():
            data = book.sheets.get(adapter.sheet.name)
            if data is None:
                continue
            lines = book.sheets.get(adapter.sheet.lines) if adapter.sheet.lines else None
            push.sheet(adapter, data, lines)
        if dry_run:
            savepoint.rollback()
            return report
        savepoint.commit()
        seals.seal(conn)   # now, so the version the workbook records is the one this sync commits
        ctx.refresh(conn)
        stored = {a.sheet.name: a.load(conn, ctx) for a in adapters()}
        for adapter in adapters():
            if adapter.sheet.lines:
                stored[adapter.sheet.lines] = adapter.load_lines(conn, ctx)
        sheets = []
        moved: dict[tuple[str, int], int] = {}
        for name, rows in stored.items():
            built = sheet_rows(rows, book.sheets.get(name), push.held_ids.get(name, set()),
                                book.locale, moved, push.new_extras.get(name, {}))
            if built is not None:
                sheets.append(built)
        # held rows now stand after the store's rows: the Errors sheet points at where they are
        report.issues = [dataclasses.replace(i, excel_row=moved.get((i.sheet, i.excel_row), i.excel_row))
                         for i in report.issues]
        if suggest is not None:
            grid = next((sheet for sheet in sheets if sheet.schema is ALLOCATIONS), None)
            if grid is None:
                raise XlarError(f"{gateway.name} has no Allocations sheet to write suggestions into")
            report.counts["Allocations suggested"] += _suggestion_rows(conn, suggest, grid, book.locale)
            sheets = [dataclasses.replace(sheet, shown=False) if sheet is grid else sheet for sheet in sheets]
        elif not report.changed and not outside and book.state.as_of == as_of and shows_store(book, stored, report,
                                                                           store_version(conn)):
            return report
        ids = {name: {r.id for r in rows} for name, rows in stored.items()}
        for name, held in push.held_ids.items():
            ids[name] = ids.get(name, set()) | held
        token = None
        if report.changed:  # the store records the workbook it is about to get (finish_interrupted)
            token = uuid.uuid4().hex
            audit.record(conn, user, "sync", WORKBOOK_ENTITY, token, None,
                         {"workbook": gateway.name, "as_of": as_of})
            if book.state.token:   # ... and which new rows of the workbook it read are in now
                audit.record(conn, user, SUPERSEDED, WORKBOOK_ENTITY, book.state.token, None,
                             {"by": token, "rows": sorted(new_rows(book))})
        # suggested Allocations rows are the workbook's, not yet the store's: the next sync must
        # read them even though the file is as this sync wrote it (no store version recorded)
        suggested = suggest is not None and report.counts["Allocations suggested"] > 0
        state = SyncState(ids, None if suggested else store_version(conn), as_of, token=token)
        gateway.stage(sheets, outputs_for(conn, as_of, report, book.locale, book.conflicts_shown), state,
                      book.locale)
    note = gateway.commit()
    if note:
        report.notes.append(note)
    report.written = True
    return report


