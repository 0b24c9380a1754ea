"""What a sync does with one sheet, decided before anything is written: the plan.

`plan_sheet` is pure: the sheet's rows as read (identified), the store's rows of the sheet,
which ids the workbook showed at its last sync and the invoice lines grouped by invoice go
in; the steps come out, in the order they are applied. The engine applies them (each in a
savepoint, so the store may still refuse one row) and a test can check the decisions without
a database. The rules:

- a row never synced is added; a sheet whose adapter takes new rows in batches adds them in
  one step at the end, a credit note naming an invoice typed in this sync after that invoice;
- a synced row is changed only when it was edited (or its lines were), and only when the store
  still has it at the revision the workbook saw; else it is a conflict, and the user's version
  stays on the sheet;
- a row the workbook showed and no longer has is deleted (for a sheet whose corrections go
  first, before any new row: a new row may use what a correction frees);
- an invoice some of whose lines are held back (bad cells) is held back too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from xlar.domain.codes import Code
from xlar.domain.errors import Issue
from xlar.schema.columns import SheetSchema
from xlar.sync.rows import StoreRow, name_of, typed_ref
from xlar.workbook.reader import Row

Lines = list[dict[str, object]]                 # an invoice's lines, as their rows' values
Children = Mapping[str, tuple[Lines, bool]]      # invoice name -> its lines, whether any changed


@dataclass(frozen=True, slots=True)
class Add:
    row: Row
    lines: Lines


@dataclass(frozen=True, slots=True)
class AddMany:
    """New rows of a batched sheet, stored together (row by row if the store refuses the batch)."""

    rows: tuple[tuple[Row, Lines], ...]


@dataclass(frozen=True, slots=True)
class Change:
    row: Row
    store: StoreRow
    lines: Lines
    lines_changed: bool


@dataclass(frozen=True, slots=True)
class Conflict:
    row: Row
    reason: str
    theirs: StoreRow | None


@dataclass(frozen=True, slots=True)
class Delete:
    row_id: int
    store: StoreRow


@dataclass(frozen=True, slots=True)
class Hold:
    """Kept on the sheet as typed, with the problem that holds it back."""

    row: Row
    issue: Issue


Step = Add | AddMany | Change | Conflict | Delete | Hold


@dataclass(slots=True)
class SheetPlan:
    schema: SheetSchema
    steps: list[Step] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        """How many rows each kind of step takes ('add': 3, 'change': 1 …)."""
        found: Counter[str] = Counter()
        for step in self.steps:
            found[type(step).__name__.lower()] += len(step.rows) if isinstance(step, AddMany) else 1
        found["add"] += found.pop("addmany", 0)
        return +found


def plan_sheet(schema: SheetSchema, rows: Sequence[Row], current: Mapping[int, StoreRow], shown: set[int],
               seen: set[int], *, children: Children | None = None, held_parents: Mapping[str, str] | None = None,
               batched: bool = False, corrections_first: bool = False) -> SheetPlan:
    """The steps that bring the store to ROWS (the sheet's rows, identified). CURRENT: the store's
    rows of the sheet by id; SHOWN: the ids the workbook showed at its last sync; SEEN: the ids
    it still shows (held rows included); CHILDREN and HELD_PARENTS: an invoice sheet's lines."""
    plan = SheetPlan(schema)
    children, held_parents = children or {}, held_parents or {}
    deletions = [Delete(row_id, current[row_id]) for row_id in sorted(shown - seen) if row_id in current]
    if corrections_first:
        plan.steps += deletions
        rows = [r for r in rows if r.row_id] + [r for r in rows if not r.row_id]
    fresh: list[tuple[Row, Lines]] = []
    for row in rows:
        number = name_of(row.values)
        lines, lines_changed = children.get(number, ([], False))
        if number in held_parents:
            plan.steps.append(Hold(row, Issue(schema.name, row.excel_row, None, Code.E124,
                                              f"{number} is held back until its lines on rows "
                                              f"{held_parents[number]} are fixed")))
        elif row.row_id is None:
            if batched:
                fresh.append((row, lines))
            else:
                plan.steps.append(Add(row, lines))
        elif row.edited or lines_changed:
            theirs = current.get(int(row.row_id))
            if theirs is None:
                plan.steps.append(Conflict(row, "deleted in the store by a colleague; your version is kept here",
                                           None))
            elif row.rev is not None and theirs.rev != row.rev:
                plan.steps.append(Conflict(row, "changed in the store by a colleague since your last sync", theirs))
            else:
                plan.steps.append(Change(row, theirs, lines, lines_changed))
    # a credit note naming an invoice typed in this sync goes in after it (by the store's number)
    typed = {typed_ref(row.values) for row, _ in fresh} - {None}
    names_typed = [str(row.values.get("original")) in typed for row, _ in fresh]
    first = [f for f, after in zip(fresh, names_typed, strict=True) if not after]
    later = [f for f, after in zip(fresh, names_typed, strict=True) if after]
    plan.steps += [AddMany(tuple(batch)) for batch in (first, later) if batch]
    if not corrections_first:
        plan.steps += deletions
    return plan
