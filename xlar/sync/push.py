"""Push: the workbook's changes into the store, sheet by sheet, in the sync's transaction.

Each sheet is planned first (xlar.sync.plan): rows without _id are inserted; rows whose
content hash differs from the last sync are updates when their _rev is still the store's,
else conflicts (the store's version goes into the sheet, the user's into Conflicts); rows
the workbook showed last time and no longer has are deletions. Push applies the plan, each
row in its own savepoint: a refused row becomes an issue and is held as typed, the rest goes
through."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from functools import partial

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.codes import Code
from xlar.domain.errors import Issue, XlarError
from xlar.schema.cells import is_blank
from xlar.schema.columns import ID_COLUMN, SheetSchema
from xlar.schema.hashing import untouched_template_row
from xlar.store.tables import document_lines, documents
from xlar.store.writes import in_chunks
from xlar.sync.adapters import Adapter
from xlar.sync.context import Context
from xlar.sync.documents import (
    shown_number,
    shown_numbers,
)
from xlar.sync.identity import identify
from xlar.sync.plan import Add, AddMany, Change, Hold, SheetPlan, plan_sheet
from xlar.sync.plan import Conflict as PlannedConflict
from xlar.sync.report import Conflict, SyncReport
from xlar.sync.rows import StoreRow, name_of, typed_ref
from xlar.workbook.reader import (
    Row,
    SheetData,
    WorkbookData,
)

NOT_TAKEN = Code.W108   # typed in a cell xlar computes: shown as computed, what was typed not taken


class Push:
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
        found = identify(schema, data.rows, current, checked=adapter.checks_identity)
        data.rows = found.rows
        self.report.issues.extend(found.issues)
        if lines is not None:   # a copied line is a new line (its invoice's number is the store's)
            copied = identify(lines.schema, lines.rows, {}, checked=False)
            lines.rows = copied.rows
            self.report.issues.extend(copied.issues)
        seen = {int(r.row_id) for r in data.rows if r.row_id} | _held_ids(data) | found.kept
        self.held_ids[schema.name] = _held_ids(data)
        left = self._moves(lines) if lines is not None else set()
        held_parents = self._held_parents(lines)
        if lines is not None:
            self._hold_orphan_lines(schema, data, lines)
            self.held_ids[lines.schema.name] |= _held_ids(lines)
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
                        if adapter.names_documents and isinstance(result, int)])

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
            number = lines.schema.parent_name(line.values)
            if number not in known and line.excel_row not in lines.held:
                self.report.issues.append(Issue(lines.schema.name, line.excel_row, None, Code.E125,
                                                f"no invoice {number!r} on the {schema.name} sheet"))
                self._hold_lines(lines, number)

    def _hold_lines(self, lines: SheetData | None, number: str) -> None:
        """Keep a held invoice's good lines as typed too, so none of it is lost."""
        if lines is None:
            return
        for line in lines.rows:
            if lines.schema.parent_name(line.values) == number:
                lines.held[line.excel_row] = list(line.raw)
                if line.row_id:
                    self.held_ids[lines.schema.name].add(int(line.row_id))

    def _held_parents(self, lines: SheetData | None) -> dict[str, str]:
        """Invoice number -> the InvoiceLines rows of it that were held back."""
        if lines is None:
            return {}
        parent = lines.schema.parent_key
        key = lines.layout.index(parent) if parent in lines.layout else None
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
            number = lines.schema.parent_name(row.values)
            values, changed = grouped.get(number, ([], False))
            changed = changed or row.row_id is None or row.edited
            grouped[number] = ([*values, row.values], changed)
        known = self.book.state.ids.get(lines.schema.name, set())
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
        remaining = Counter(lines.schema.parent_name(r.values) for r in lines.rows if r.excel_row not in lines.held)
        for chunk in in_chunks(edited):
            for line_id, line_no, number, doc_id, status in self.conn.execute(
                    sa.select(ln.id, ln.line_no, d.number, d.id, d.status)
                    .join(documents, d.id == ln.document_id).where(ln.id.in_(chunk))):
                was, row = shown_number(number, doc_id), edited[line_id]
                if was == lines.schema.parent_name(row.values):
                    continue
                if status == "draft" and remaining[was] > 0:
                    left.add(was)
                    continue
                why = (f"{was} is {status} (a credit note takes it off" if status != "draft" else
                       f"it is {was}'s only line (delete {was}'s row, or give it another line first")
                self.report.issues.append(Issue(lines.schema.name, row.excel_row, None, Code.E020,
                                                f"line {line_no} of {was} cannot move to {row.values.get('invoice')}: "
                                                f"{why}; set the Invoice no. back to {was} to keep it)"))
                lines.held[row.excel_row] = list(row.raw)
        return left

    def _insert(self, adapter: Adapter, row: Row, lines: list[dict[str, object]]) -> bool:
        if adapter.offers:
            return adapter.offer(self.conn, self.ctx, row.values, template=untouched_template_row(
                adapter.sheet, row.values, row.rev, row.synced_hash))
        new_id = adapter.insert(self.conn, self.ctx, row.values, lines)
        self.new_extras[adapter.sheet.name][str(new_id)] = row.extras
        if adapter.names_documents:
            self._known_as([(row, new_id)])
        self._warned(adapter.sheet, row, new_id)
        return True

    def _update(self, adapter: Adapter, row: Row, store_row: StoreRow,
                kids: tuple[list[dict[str, object]], bool]) -> None:
        adapter.change(self.conn, self.ctx, row, store_row, kids[0], kids[1], self.on)
        self._warned(adapter.sheet, row, store_row.id)


def _held_ids(data: SheetData) -> set[int]:
    """Store ids of the rows the reader held back (they keep their place, as typed)."""
    if ID_COLUMN not in data.layout:
        return set()
    at = data.layout.index(ID_COLUMN)
    return {int(float(str(raw[at]))) for raw in data.held.values() if str(raw[at]).strip()}
