"""Which store row a sheet row is: its hidden _id, when the row is still that row.

Copying a row in Excel copies its _id and _rev; sorting a range without the hidden columns
moves the content away from them. A row's _id is honoured only when

- no other row of the sheet carries it (of copies, the one that still is the store's row
  keeps it: same key, untouched first; the others are new rows),
- its _rev belongs to it: at the store's revision, the _rev's content hash is the store row's,
- its key (code, number) is the store row's: a key is never renamed through a sheet, so a row
  whose key was typed over is a new row, and the row it came from stays.

A store row none of whose rows keeps its id is kept, never deleted: only a row that is gone,
with no other row carrying its id, deletes. Each decision is a warning on the Errors sheet.
Pure: rows and the store's rows in, rows and decisions out.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from xlar.domain.errors import Issue
from xlar.schema.columns import SheetSchema
from xlar.schema.hashing import content_hash
from xlar.sync.rows import StoreRow
from xlar.workbook.reader import Row

COPIED = "XLAR-W103"
REKEYED = "XLAR-W104"
NOT_ITS_REV = "XLAR-W105"


@dataclass(slots=True)
class Identified:
    rows: list[Row]
    kept: set[int] = field(default_factory=set)        # store rows kept though no row keeps their id
    issues: list[Issue] = field(default_factory=list)


def key_of(schema: SheetSchema, values: Mapping[str, object]) -> tuple[object, ...]:
    return tuple(values.get(k) for k in schema.key)


def _shown(key: tuple[object, ...]) -> str:
    return "/".join("" if k is None else str(k) for k in key)


def _fault(schema: SheetSchema, row: Row, store: StoreRow | None, checked: bool) -> str | None:
    """Why ROW is not STORE's row any more (None when it is). A row untouched since the sync
    that wrote it is its row; so is one a colleague changed since (the conflict rules decide)."""
    if not checked or store is None or row.rev != store.rev or _untouched(schema, row):
        return None
    if row.synced_hash is not None and row.synced_hash != content_hash(schema, store.values):
        return NOT_ITS_REV
    if schema.key and key_of(schema, row.values) != key_of(schema, store.values):
        return REKEYED
    return None


def _untouched(schema: SheetSchema, row: Row) -> bool:
    return row.synced_hash is not None and content_hash(schema, row.values) == row.synced_hash


def identify(schema: SheetSchema, rows: Sequence[Row], current: Mapping[int, StoreRow], *,
             checked: bool = True) -> Identified:
    """ROWS with every _id that is not its row's taken away (see the module doc). CHECKED: the
    sheet's rows show only values that change with their own revision, so their _rev and key
    can be checked against the store's row (not so for matches, which show their documents'
    numbers: a draft's number changes when it is posted; for them only copies are told apart)."""
    carriers: dict[int, list[int]] = defaultdict(list)
    for n, row in enumerate(rows):
        if row.row_id:
            carriers[int(row.row_id)].append(n)
    out = list(rows)
    result = Identified(out)
    for row_id, members in carriers.items():
        store = current.get(row_id)
        faults = {n: _fault(schema, rows[n], store, checked) for n in members}
        fitting = [n for n in members if faults[n] is None]
        if store is not None:   # of copies, the one with the store's key
            same_key = [n for n in fitting if key_of(schema, rows[n].values) == key_of(schema, store.values)]
            fitting = same_key or fitting
        keeper = next((n for n in fitting if _untouched(schema, rows[n])), fitting[0] if fitting else None)
        if keeper is None and store is not None:
            result.kept.add(row_id)
        for n in members:
            if n != keeper:
                out[n] = dataclasses.replace(rows[n], row_id=None, rev=None, synced_hash=None)
                why = COPIED if len(members) > 1 else faults[n] or COPIED
                result.issues.append(_issue(schema, rows[n], why, store,
                                            rows[keeper] if keeper is not None else None))
    return result


def _issue(schema: SheetSchema, row: Row, code: str, store: StoreRow | None, keeper: Row | None) -> Issue:
    mine = _shown(key_of(schema, row.values))
    theirs = _shown(key_of(schema, store.values)) if store is not None else ""
    if code == COPIED:
        where = f"row {keeper.excel_row}" if keeper is not None else "another row"
        text = (f"this row carries the hidden _id of {where} ({theirs or 'the same row'}), as a copied row does: "
                f"it is taken as a new row {mine!r}, and {where} stays as it was")
    elif code == REKEYED:
        text = (f"the key of {theirs!r} was typed over with {mine!r}: a key is not renamed through the sheet, so "
                f"{mine!r} is taken as a new row and {theirs!r} stays (delete its row to remove it)")
    else:
        text = (f"the hidden _id and _rev of this row belong to {theirs!r}, not to what the row holds (rows sorted "
                f"without the hidden columns?): it is taken as a new row {mine!r}, and {theirs!r} stays")
    return Issue(schema.name, row.excel_row, None, code, text)
