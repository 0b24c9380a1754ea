"""Which store row a sheet row is: its hidden _id, when the row is still that row.

Copying a row in Excel copies its hidden _id and _rev; sorting a range without the hidden
columns moves the content away from them. A row's _id is honoured only when

- the row is where its content is: a row that changed since the sync and shows exactly what
  another changed row's hidden cells were written with is that other row, moved (sorted without
  the hidden columns); it takes those hidden cells, and a row whose own hidden cells were taken
  so, and that is nobody's moved content, is a new row (XLAR-W105);
- no other row of the sheet carries it (of copies, the one that still is the store's row
  keeps it: same key, untouched first; the others are new rows, XLAR-W103);
- its key (code, number) is the store row's: a key is never renamed through a sheet, so a row
  whose key was typed over is a new row, and the row it came from stays (XLAR-W104).

A store row none of whose rows keeps its id is kept, never deleted: only a row that is gone,
with no other row carrying its id, deletes. Each decision is a warning on the Errors sheet.
Pure: rows and the store's rows in, rows and decisions out.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from xlar.domain.codes import Code
from xlar.domain.errors import Issue
from xlar.schema.columns import SheetSchema
from xlar.schema.hashing import canonical
from xlar.sync.rows import StoreRow
from xlar.workbook.reader import Row

COPIED = Code.W103
REKEYED = Code.W104
MOVED = Code.W105


@dataclass(slots=True)
class Identified:
    rows: list[Row]
    kept: set[int] = field(default_factory=set)        # store rows kept though no row keeps their id
    issues: list[Issue] = field(default_factory=list)


def key_of(schema: SheetSchema, values: Mapping[str, object]) -> tuple[object, ...]:
    return tuple(values.get(k) for k in schema.key)


def _untouched(row: Row) -> bool:
    return row.synced_hash is not None and not row.edited


def _hidden_of(row: Row, other: Row) -> Row:
    return dataclasses.replace(row, row_id=other.row_id, rev=other.rev, synced_hash=other.synced_hash)


def _anonymous(row: Row) -> Row:
    return dataclasses.replace(row, row_id=None, rev=None, synced_hash=None)


def _rejoin(schema: SheetSchema, rows: list[Row]) -> tuple[list[Row], list[Issue], set[int]]:
    """Rows moved away from their hidden cells (a sort without the hidden columns) joined to them
    again by content. Only a changed row's hidden cells are free to take: a row pasted over with
    another's content, beside an untouched original, is an edit of the row pasted over. Also
    returns the ids of hidden cells a moved row left and no row took."""
    free: dict[str, list[int]] = defaultdict(list)     # written hash -> changed rows holding such cells
    changed: dict[int, str] = {}
    for n, row in enumerate(rows):
        if row.row_id and row.synced_hash is not None:
            now = row.content
            if now != row.synced_hash:
                changed[n] = now
                free[row.synced_hash].append(n)
    moves: dict[int, int] = {}                          # row -> the row whose hidden cells it takes
    for n, now in changed.items():
        pool = [m for m in free.get(now, ()) if m != n and rows[m].row_id != rows[n].row_id]
        if pool:
            m = pool[0]
            free[now].remove(m)
            moves[n] = m
    if not moves:
        return rows, [], set()
    out = list(rows)
    for n, m in moves.items():
        out[n] = _hidden_of(rows[n], rows[m])
    taken = set(moves.values())
    left = {int(rows[n].row_id) for n in set(moves) - taken}   # type: ignore[arg-type]  # a row whose hidden cells another row took had them: its own row id
    issues = []
    for n in sorted(taken - set(moves)):                # its cells taken, its content nobody's
        out[n] = _anonymous(rows[n])
        issues.append(Issue(schema.name, rows[n].excel_row, None, MOVED,
                            f"this row's hidden cells were another row's (rows sorted without the columns _id and "
                            f"_rev?) and it was changed: {_described(schema, rows[n].values)} was added as a new "
                            f"row; the row it was written as stays"))
    first = min(moves)
    issues.insert(0, Issue(schema.name, rows[first].excel_row, None, MOVED,
                           f"{len(moves)} row(s) moved without their hidden cells (sorted without the columns _id "
                           f"and _rev?): each was matched to its row again by its content, so nothing changed "
                           f"through the move; the sheet is written back in order"))
    return out, issues, left


def identify(schema: SheetSchema, rows: Sequence[Row], current: Mapping[int, StoreRow], *,
             checked: bool = True) -> Identified:
    """ROWS with every _id that is not its row's taken away (see the module doc). CHECKED: the
    sheet's key shows only values that change with their own revision, so it can be checked
    against the store's row (not so for documents and matches, which show numbers that change
    when a draft is posted; for them only moves and copies are told apart)."""
    rejoined, issues, left = _rejoin(schema, list(rows))
    carriers: dict[int, list[int]] = defaultdict(list)
    for n, row in enumerate(rejoined):
        if row.row_id:
            carriers[int(row.row_id)].append(n)
    out = list(rejoined)
    result = Identified(out, issues=issues)
    result.kept |= {row_id for row_id in left if row_id not in carriers and row_id in current}
    for row_id, members in carriers.items():
        store = current.get(row_id)
        rekeyed = {n for n in members if checked and _rekeyed(schema, rejoined[n], store)}
        fitting = [n for n in members if n not in rekeyed]
        if store is not None:   # of copies, the one with the store's key
            same_key = [n for n in fitting if key_of(schema, rejoined[n].values) == key_of(schema, store.values)]
            fitting = same_key or fitting
        keeper = next((n for n in fitting if _untouched(rejoined[n])), fitting[0] if fitting else None)
        if keeper is None and store is not None:
            result.kept.add(row_id)
        for n in members:
            if n != keeper:
                out[n] = _anonymous(rejoined[n])
                code = REKEYED if n in rekeyed and len(members) == 1 else COPIED
                result.issues.append(_issue(schema, rejoined[n], code, store,
                                            rejoined[keeper] if keeper is not None else None))
    return result


def _rekeyed(schema: SheetSchema, row: Row, store: StoreRow | None) -> bool:
    """The row's key was typed over since the sync that wrote it (a colleague's later revision
    is the conflict rules' to decide; a key never changes in the store)."""
    return bool(schema.key) and store is not None and row.rev == store.rev and not _untouched(row) \
        and key_of(schema, row.values) != key_of(schema, store.values)


def _described(schema: SheetSchema, values: Mapping[str, object]) -> str:
    """A row as a person would name it: its key, else its first few filled cells."""
    if schema.key:
        return repr("/".join(canonical(values.get(k)) for k in schema.key))
    shown = [canonical(values.get(c.key)) for c in schema.columns if not c.computed]
    return repr(", ".join(s for s in shown if s)[:60] or "(blank)")


def _issue(schema: SheetSchema, row: Row, code: Code, store: StoreRow | None, keeper: Row | None) -> Issue:
    mine = _described(schema, row.values)
    theirs = _described(schema, store.values) if store is not None else "its original"
    if code == COPIED:
        where = f"row {keeper.excel_row}" if keeper is not None else "another row"
        text = (f"this row is a copy of {where} ({theirs}), hidden cells and all: it was added as a new row {mine}, "
                f"and {where} is unchanged")
    else:
        text = (f"{theirs} was typed over with {mine}: {mine} was added as a new row and {theirs} is unchanged "
                f"(a code or number is never renamed; delete {theirs}'s row to remove it)")
    return Issue(schema.name, row.excel_row, None, code, text)
