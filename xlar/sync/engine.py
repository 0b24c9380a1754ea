"""`xlar sync`: push the workbook's changes to the store, pull the store back, in one transaction.

Push, sheet by sheet in dependency order: rows without _id are inserted; rows whose
content hash differs from the last sync are updates when their _rev is still the store's,
else conflicts (the store's version goes into the sheet, the user's into Conflicts);
rows the workbook showed last time and no longer has are deletions. Each row is applied
in its own savepoint: a refused row becomes an issue, the rest goes through.
Pull: every input sheet is rewritten from the store (held-back rows stay as typed),
then Balances, Aging, Errors and Conflicts are regenerated.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import partial
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.codes import Code, is_warning
from xlar.domain.errors import Interrupted, Issue, XlarError
from xlar.schema.cells import is_blank
from xlar.schema.columns import ID_COLUMN, REV_COLUMN, Column, Kind, SheetSchema
from xlar.schema.hashing import untouched_template_row
from xlar.schema.messages import localize_memo, sheet_title
from xlar.schema.sheets import (
    ALLOCATIONS,
    CONTACTS,
    CONTRACTS,
    CUSTOMERS,
    DELIVERIES,
    FX_RATES,
    INSTALLMENT_TERMS,
    INVOICE_LINES,
    INVOICES,
    ORDERS,
    PAYMENT_TERMS,
    REMINDER_LEVELS,
)
from xlar.services import suggest as suggest_service
from xlar.store import audit, seals
from xlar.store.audit import store_version
from xlar.store.engine import Store
from xlar.store.mapping import MAPPINGS
from xlar.store.tables import audit_log, document_lines, documents
from xlar.store.writes import in_chunks
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
from xlar.sync.context import Context
from xlar.sync.documents import (
    AllocationsAdapter,
    DocumentAdapter,
    InvoicesAdapter,
    PayablesAdapter,
    ReceiptsAdapter,
    shown_number,
    shown_numbers,
)
from xlar.sync.identity import identify
from xlar.sync.outputs import outputs_for
from xlar.sync.plan import Add, AddMany, Change, Hold, SheetPlan, plan_sheet
from xlar.sync.plan import Conflict as PlannedConflict
from xlar.sync.rows import StoreRow, content_hash, name_of, new_row_mark, rev_cell, typed_ref
from xlar.workbook.gateway import (
    FileGateway,
    WorkbookGateway,
    finish_interrupted,
    kept_beside,
    pending_interruption,
    refuse_open,
)
from xlar.workbook.reader import (
    Row,
    SheetData,
    WorkbookData,
    book_locale,
    issue_cells,
    issues_shown,
    read_book,
    read_state,
)
from xlar.workbook.state import SyncState
from xlar.workbook.writer import SheetRows, cell_value, translated

NOT_TAKEN = Code.W108   # typed in a cell xlar computes: shown as computed, what was typed not taken


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


@dataclass(slots=True)
class Conflict:
    sheet: str
    key: str
    reason: str
    yours: dict[str, object]
    theirs: dict[str, object] | None


@dataclass(slots=True)
class SyncReport:
    counts: Counter[str] = field(default_factory=Counter)
    issues: list[Issue] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    written: bool = False
    dry_run: bool = False
    finished: str | None = None   # what was done about an earlier, interrupted sync
    planned: Counter[str] = field(default_factory=Counter)   # what the sheets' plans asked ('Invoices add': 2)
    notes: list[str] = field(default_factory=list)   # written, but not quite as usual (the .bak elsewhere)
    locale: str = "en"                               # the workbook's language: the summary's

    @property
    def changed(self) -> bool:
        return bool(self.counts or self.conflicts)

    def summary(self) -> str:
        zh = self.locale == "zh-CN"
        if not self.changed and not self.written:
            head = "没有变化" if zh else "no changes"
        else:
            done = ("，" if zh else ", ").join(_counted(what, n, zh) for what, n in sorted(self.counts.items())) or (
                ("工作簿已按账簿刷新" if zh else "workbook refreshed from the store") if self.written else
                ("账簿未变" if zh else "store unchanged"))
            head = (("将执行：" if zh else "would apply: ") if self.dry_run else "") + done
        tail = []
        if self.conflicts:
            tail.append(f"{len(self.conflicts)} 处冲突（见“冲突”表）" if zh else
                        f"{len(self.conflicts)} conflicts (see the Conflicts sheet)")
        errors = [i for i in self.issues if not is_warning(i.code)]
        if errors:
            tail.append(f"{len(errors)} 个问题（见“错误”表）" if zh else f"{len(errors)} problems (see the Errors sheet)")
        return ("；" if zh else "; ").join([*([self.finished] if self.finished else []), head, *tail, *self.notes])


_DONE_ZH = {"added": "新增", "changed": "修改", "deleted": "删除", "suggested": "建议"}


def _counted(what: str, n: int, zh: bool) -> str:
    """'3 Invoices added'; in a zh-CN book '发票新增 3'."""
    if not zh:
        return f"{n} {what}"
    sheet, _, done = what.partition(" ")
    return f"{sheet_title(sheet, 'zh-CN')}{_DONE_ZH.get(done, done)} {n}"


class _Push:
    """Applies one workbook's changes inside the sync's transaction."""

    def __init__(self, conn: Connection, ctx: Context, book: WorkbookData, report: SyncReport, on: date) -> None:
        self.conn, self.ctx, self.book, self.report, self.on = conn, ctx, book, report, on
        self.held_ids: dict[str, set[int]] = defaultdict(set)
        self.new_extras: dict[str, dict[str, tuple[object, ...]]] = defaultdict(dict)  # user columns of new rows

    def _try(self, sheet: SheetSchema, excel_row: int, what: str, action: Callable[[], object]) -> bool:
        """Apply one row in a savepoint; a refusal becomes an issue and undoes only that row."""
        try:
            with self.conn.begin_nested():
                done = action()
        except XlarError as exc:
            self.report.issues.append(Issue(sheet.name, excel_row, None, exc.code, exc.message))
            return False
        except (sa.exc.IntegrityError, sa.exc.DataError) as exc:
            reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
            self.report.issues.append(Issue(sheet.name, excel_row, None, Code.E126,
                                            f"the store refused the row: {reason}"))
            return False
        if done is not False:
            self.report.counts[what] += 1
        return True

    def _conflict(self, sheet: SheetSchema, row: Row, reason: str, theirs: StoreRow | None) -> None:
        key = "/".join(str(row.values.get(k)) for k in sheet.key) or f"row {row.excel_row}"
        self.report.conflicts.append(Conflict(sheet.name, key, reason, row.values,
                                              None if theirs is None else theirs.values))

    def sheet(self, adapter: Adapter, data: SheetData, lines: SheetData | None = None) -> None:
        """Push one sheet (an invoice sheet with its lines): adds, edits, then deletions."""
        schema = adapter.sheet
        self.ctx.warnings.clear()
        current = {r.id: r for r in adapter.load(self.conn, self.ctx)}
        found = identify(schema, data.rows, current, checked=not isinstance(adapter, (AllocationsAdapter, PayablesAdapter)))
        data.rows = found.rows
        self.report.issues.extend(found.issues)
        if lines is not None:   # a copied line is a new line (its invoice's number is the store's)
            copied = identify(INVOICE_LINES, lines.rows, {}, checked=False)
            lines.rows = copied.rows
            self.report.issues.extend(copied.issues)
        seen = {int(r.row_id) for r in data.rows if r.row_id} | _held_ids(data) | found.kept
        self.held_ids[schema.name] = _held_ids(data)
        left = self._moves(lines) if lines is not None else set()
        held_parents = self._held_parents(lines)
        if lines is not None:
            self._hold_orphan_lines(schema, data, lines)
            self.held_ids[INVOICE_LINES.name] |= _held_ids(lines)
        plan = plan_sheet(schema, data.rows, current, self.book.state.ids.get(schema.name, set()), seen,
                          children=self._children(data, lines, left), held_parents=held_parents,
                          batched=adapter.batched, corrections_first=adapter.corrections_first)
        self.report.planned.update({f"{schema.name} {what}": n for what, n in plan.counts().items()})
        self._apply(adapter, data, lines, plan)

    def _apply(self, adapter: Adapter, data: SheetData, lines: SheetData | None, plan: SheetPlan) -> None:
        """Carry out PLAN's steps in order, each row in a savepoint (a refusal holds that row only)."""
        schema = adapter.sheet
        for step in plan.steps:
            if isinstance(step, Hold):
                self.report.issues.append(step.issue)
                self._hold(data, lines, step.row)
            elif isinstance(step, Add):
                self._add_one(adapter, data, lines, step.row, step.lines)
            elif isinstance(step, AddMany):
                self._add(adapter, data, lines, list(step.rows))
            elif isinstance(step, Change):
                if not self._try(schema, step.row.excel_row, f"{schema.name} changed",
                                 partial(self._update, adapter, step.row, step.store, (step.lines, step.lines_changed))):
                    self._conflict(schema, step.row, self.report.issues[-1].message, step.store)
            elif isinstance(step, PlannedConflict):
                self._conflict(schema, step.row, step.reason, step.theirs)
            elif not self._try(schema, 0, f"{schema.name} deleted",
                               partial(adapter.delete, self.conn, self.ctx, step.row_id)):
                refused = self.report.issues.pop()
                what = step.store.values.get(schema.key[0]) if schema.key else step.row_id
                self.report.issues.append(Issue(schema.name, 0, None, refused.code,
                                                f"deleting {what!r} refused ({refused.message}); the row is back"))

    def _add_one(self, adapter: Adapter, data: SheetData, lines: SheetData | None, row: Row,
                 kids: list[dict[str, object]]) -> None:
        if not self._try(adapter.sheet, row.excel_row, f"{adapter.sheet.name} added",
                         partial(self._insert, adapter, row, kids)):
            self._hold(data, lines, row)  # kept as typed, to be fixed

    def _add(self, adapter: Adapter, data: SheetData, lines: SheetData | None,
             fresh: list[tuple[Row, list[dict[str, object]]]]) -> None:
        """New rows in batches; if the store refuses a batch, row by row to find which row it refuses."""
        if not fresh:
            return
        schema = adapter.sheet
        try:
            with self.conn.begin_nested():
                results = adapter.insert_many(self.conn, self.ctx, [(row.values, kids) for row, kids in fresh])
        except (XlarError, sa.exc.IntegrityError, sa.exc.DataError):
            for row, kids in fresh:
                self._add_one(adapter, data, lines, row, kids)
            return
        for (row, _kids), result in zip(fresh, results, strict=True):
            if isinstance(result, XlarError):
                self.report.issues.append(Issue(schema.name, row.excel_row, None, result.code, result.message))
                self._hold(data, lines, row)
            else:
                self.report.counts[f"{schema.name} added"] += 1
                self.new_extras[schema.name][str(result)] = row.extras
                self._warned(schema, row, result)
        self._known_as([(row, result) for (row, _), result in zip(fresh, results, strict=True)
                        if isinstance(adapter, DocumentAdapter) and isinstance(result, int)])

    def _known_as(self, entered: Sequence[tuple[Row, int]]) -> None:
        """New documents are named by what the user typed (number or Your ref.) for the rest of the
        sync: other rows of it (Allocations, credit notes, receipts' references) may name them so.
        A store number keeps meaning its own document."""
        names = {typed_ref(row.values): doc_id for row, doc_id in entered} | {
            str(row.values["number"]): doc_id for row, doc_id in entered if row.values.get("number")}
        names.pop(None, None)
        if not names:
            return
        taken = {number for chunk in in_chunks(list(names)) for number in self.conn.execute(
            sa.select(documents.c.number).where(documents.c.number.in_(chunk))).scalars()}
        numbers = shown_numbers(self.conn, list(set(names.values())))
        self.ctx.aliases.update({str(name): numbers[doc_id] for name, doc_id in names.items() if name not in taken})

    def _warned(self, schema: SheetSchema, row: Row, row_id: int) -> None:
        """A warning the row's write gave (a credit limit that only warns) goes to the Errors sheet."""
        message = self.ctx.warnings.pop(row_id, None)
        if message:
            self.report.issues.append(Issue(schema.name, row.excel_row, None, Code.W060, message))
        note = self.ctx.notes.pop(row_id, None)
        if note:
            self.report.issues.append(Issue(schema.name, row.excel_row, None, NOT_TAKEN, note))

    def _hold(self, data: SheetData, lines: SheetData | None, row: Row) -> None:
        """Keep ROW (and an invoice's lines) as typed; the store's version is not written over it."""
        data.held[row.excel_row] = list(row.raw)
        self._hold_lines(lines, name_of(row.values))
        if row.row_id:
            self.held_ids[data.schema.name].add(int(row.row_id))

    def _hold_orphan_lines(self, schema: SheetSchema, data: SheetData, lines: SheetData) -> None:
        """Lines of an invoice row that was held back, or of no invoice row at all, stay as typed."""
        at = [data.layout.index(key) for key in ("number", "your_ref") if key in data.layout]
        held_numbers = {str(raw[i]).strip().removesuffix(".0") for raw in data.held.values() for i in at
                        if not is_blank(raw[i])}
        known = {name_of(r.values) for r in data.rows} | {str(r.values.get("your_ref")) for r in data.rows} | held_numbers
        for number in held_numbers:
            self._hold_lines(lines, number)
        for line in lines.rows:
            number = str(line.values.get("invoice"))
            if number not in known and line.excel_row not in lines.held:
                self.report.issues.append(Issue(INVOICE_LINES.name, line.excel_row, None, Code.E125,
                                                f"no invoice {number!r} on the {schema.name} sheet"))
                self._hold_lines(lines, number)

    def _hold_lines(self, lines: SheetData | None, number: str) -> None:
        """Keep a held invoice's good lines as typed too, so none of it is lost."""
        if lines is None:
            return
        for line in lines.rows:
            if str(line.values.get("invoice")) == number:
                lines.held[line.excel_row] = list(line.raw)
                if line.row_id:
                    self.held_ids[INVOICE_LINES.name].add(int(line.row_id))

    def _held_parents(self, lines: SheetData | None) -> dict[str, str]:
        """Invoice number -> the InvoiceLines rows of it that were held back."""
        if lines is None:
            return {}
        key = lines.layout.index("invoice") if "invoice" in lines.layout else None
        found: dict[str, list[int]] = defaultdict(list)
        for excel_row, raw in lines.held.items():
            if key is not None and not is_blank(raw[key]):
                found[str(raw[key]).strip().removesuffix(".0")].append(excel_row)
        return {number: ", ".join(map(str, rows)) for number, rows in found.items()}

    def _children(self, data: SheetData, lines: SheetData | None,
                  left: set[str]) -> dict[str, tuple[list[dict[str, object]], bool]]:
        """Invoice number -> (its line values, whether any line changed since the last sync)."""
        if lines is None:
            return {}
        grouped: dict[str, tuple[list[dict[str, object]], bool]] = {}
        for row in lines.rows:
            number = str(row.values.get("invoice"))
            values, changed = grouped.get(number, ([], False))
            changed = changed or row.row_id is None or row.edited
            grouped[number] = ([*values, row.values], changed)
        known = self.book.state.ids.get(INVOICE_LINES.name, set())
        still = {int(r.row_id) for r in lines.rows if r.row_id}
        if known - still:  # a line was deleted: its invoice changed
            for number, (values, _) in grouped.items():
                grouped[number] = (values, True)
        for number in left:   # a line moved to another invoice: the one it left changed too
            values, _ = grouped.get(number, ([], False))
            grouped[number] = (values, True)
        return grouped

    def _moves(self, lines: SheetData) -> set[str]:
        """Lines typed over to name another invoice: the drafts they left (which change too). A
        line cannot leave a posted invoice: it is held as typed, and so is the invoice it names."""
        edited = {int(r.row_id): r for r in lines.rows
                  if r.row_id and r.excel_row not in lines.held
                  and r.edited}
        d, ln = documents.c, document_lines.c
        left = set()
        remaining = Counter(str(r.values.get("invoice")) for r in lines.rows if r.excel_row not in lines.held)
        for chunk in in_chunks(edited):
            for line_id, line_no, number, doc_id, status in self.conn.execute(
                    sa.select(ln.id, ln.line_no, d.number, d.id, d.status)
                    .join(documents, d.id == ln.document_id).where(ln.id.in_(chunk))):
                was, row = shown_number(number, doc_id), edited[line_id]
                if was == str(row.values.get("invoice")):
                    continue
                if status == "draft" and remaining[was] > 0:
                    left.add(was)
                    continue
                why = (f"{was} is {status} (a credit note takes it off" if status != "draft" else
                       f"it is {was}'s only line (delete {was}'s row, or give it another line first")
                self.report.issues.append(Issue(INVOICE_LINES.name, row.excel_row, None, Code.E020,
                                                f"line {line_no} of {was} cannot move to {row.values.get('invoice')}: "
                                                f"{why}; set the Invoice no. back to {was} to keep it)"))
                lines.held[row.excel_row] = list(row.raw)
        return left

    def _insert(self, adapter: Adapter, row: Row, lines: list[dict[str, object]]) -> bool:
        if isinstance(adapter, SettingsAdapter):
            return adapter.offer(self.conn, self.ctx, row.values, template=untouched_template_row(
                adapter.sheet, row.values, row.rev, row.synced_hash))
        new_id = adapter.insert(self.conn, self.ctx, row.values, lines)
        self.new_extras[adapter.sheet.name][str(new_id)] = row.extras
        if isinstance(adapter, DocumentAdapter):
            self._known_as([(row, new_id)])
        self._warned(adapter.sheet, row, new_id)
        return True

    def _update(self, adapter: Adapter, row: Row, store_row: StoreRow,
                kids: tuple[list[dict[str, object]], bool]) -> None:
        if isinstance(adapter, DocumentAdapter):
            # the revision matched, so the store still holds what was last synced: compare with it
            inputs = [c.key for c in adapter.sheet.columns if not c.computed and c.key not in ("status", "number")]
            changed = kids[1] or any(_differs(row.values.get(k), store_row.values.get(k)) for k in inputs)
            adapter.update(self.conn, self.ctx, store_row.id, row.values, kids[0], on=self.on,
                           content_changed=changed)
        else:
            adapter.update(self.conn, self.ctx, store_row.id, row.values)
        self._warned(adapter.sheet, row, store_row.id)


def _differs(mine: object, theirs: object) -> bool:
    return content_hash(_ONE, {"v": mine}) != content_hash(_ONE, {"v": theirs})


_ONE = SheetSchema("_", "_", "_", (Column("v", Kind.TEXT, "v", "v"),), key=(), store_table=None)


def _held_ids(data: SheetData) -> set[int]:
    """Store ids of the rows the reader held back (they keep their place, as typed)."""
    if ID_COLUMN not in data.layout:
        return set()
    at = data.layout.index(ID_COLUMN)
    return {int(float(str(raw[at]))) for raw in data.held.values() if str(raw[at]).strip()}


def _sheet_rows(stored: list[StoreRow], data: SheetData | None, held_ids: set[int],
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


def _untouched(book: WorkbookGateway, store: Store, as_of: date) -> SyncReport | None:
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


WORKBOOK_ENTITY = "workbook"


SUPERSEDED = "superseded"


def _refuse_superseded(conn: Connection, book: WorkbookData, gateway: WorkbookGateway) -> None:
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
    mine = _new_rows(book)
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


def _new_rows(book: WorkbookData) -> dict[str, tuple[str, int]]:
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
    untouched = None if suggest else _untouched(gateway, store, as_of)
    if untouched is not None:
        untouched.dry_run = dry_run
        return untouched
    book = read_book(gateway)
    report = SyncReport(issues=list(book.issues), dry_run=dry_run, locale=book.locale)
    with store.write() as conn:
        _refuse_superseded(conn, book, gateway)
        outside = seals.outside(conn)
        report.issues.extend(_outside_issues(outside))
        ctx = Context.load(conn, user)
        ctx.named_credits, ctx.as_of, ctx.locale = _named_credits(book), as_of, book.locale
        push = _Push(conn, ctx, book, report, as_of)
        savepoint = conn.begin_nested()
        for adapter in adapters():
            data = book.sheets.get(adapter.sheet.name)
            if data is None:
                continue
            lines = book.sheets.get(INVOICE_LINES.name) if adapter.sheet is INVOICES else None
            push.sheet(adapter, data, lines)
        if dry_run:
            savepoint.rollback()
            return report
        savepoint.commit()
        seals.seal(conn)   # now, so the version the workbook records is the one this sync commits
        ctx.refresh(conn)
        stored = {a.sheet.name: a.load(conn, ctx) for a in adapters()}
        stored[INVOICE_LINES.name] = InvoicesAdapter().load_lines(conn, ctx)
        sheets = []
        moved: dict[tuple[str, int], int] = {}
        for name, rows in stored.items():
            built = _sheet_rows(rows, book.sheets.get(name), push.held_ids.get(name, set()),
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
        elif not report.changed and not outside and book.state.as_of == as_of and _current(book, stored, report,
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
                             {"by": token, "rows": sorted(_new_rows(book))})
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


def _outside_issues(found: Sequence[seals.Difference], shown: int = 10) -> list[Issue]:
    """The rows changed outside xlar (another program, an edit of the database file): one
    warning each, the first SHOWN of them; the sheets show the store as it is now."""
    issues = [Issue("", 0, None, Code.W107, f"{d.text()} since xlar last wrote it: the sheets show the store as it is "
                    "now; an admin who has checked it takes it as it is with `xlar audit accept`")
              for d in found[:shown]]
    if len(found) > shown:
        issues.append(Issue("", 0, None, Code.W107, f"… and {len(found) - shown} more row(s) changed outside "
                            "xlar (`xlar check` names them all)"))
    return issues


def _current(book: WorkbookData, stored: dict[str, list[StoreRow]], report: SyncReport, version: str) -> bool:
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
