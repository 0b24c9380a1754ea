"""Rows as sync sees them: a store row shown on a sheet, and the content hash of a row."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from xlar.schema.columns import SheetSchema
from xlar.schema.hashing import canonical, content_hash, input_keys

__all__ = ["StoreRow", "content_hash", "new_row_mark", "rev_cell"]


@dataclass(frozen=True, slots=True)
class StoreRow:
    id: int
    rev: int
    values: dict[str, object]     # by sheet column key, typed as the reader types them
    parent: str | None = None     # for lines: the shown number of their document


def new_row_mark(schema: SheetSchema, values: dict[str, object]) -> str:
    """A new row's sheet and input values, hashed long enough to tell thousands of rows apart
    from thousands of others (a superseded workbook's rows are looked for by it)."""
    get = values.get
    text = "\x1f".join([schema.name, *(canonical(get(key)) for key in input_keys(schema))])
    return hashlib.blake2s(text.encode("utf-8"), digest_size=8).hexdigest()


def rev_cell(rev: int, schema: SheetSchema, values: dict[str, object]) -> str:
    return f"{rev}:{content_hash(schema, values)}"
