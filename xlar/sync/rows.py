"""Rows as sync sees them: a store row shown on a sheet, and the content hash of a row."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from xlar.schema.columns import SheetSchema


@dataclass(frozen=True, slots=True)
class StoreRow:
    id: int
    rev: int
    values: dict[str, object]     # by sheet column key, typed as the reader types them
    parent: str | None = None     # for lines: the shown number of their document


def _canonical(value: object) -> str:
    if value is None:
        return ""
    if type(value) is str:
        return value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@functools.cache
def _inputs(schema: SheetSchema) -> tuple[str, ...]:
    return tuple(c.key for c in schema.columns if not c.computed)


def content_hash(schema: SheetSchema, values: dict[str, object]) -> str:
    """A short hash of the input columns' values: what the user may have edited."""
    get = values.get
    text = "\x1f".join([_canonical(get(key)) for key in _inputs(schema)])
    return hashlib.blake2s(text.encode("utf-8"), digest_size=4).hexdigest()


def new_row_mark(schema: SheetSchema, values: dict[str, object]) -> str:
    """A new row's sheet and input values, hashed long enough to tell thousands of rows apart
    from thousands of others (a superseded workbook's rows are looked for by it)."""
    get = values.get
    text = "\x1f".join([schema.name, *(_canonical(get(key)) for key in _inputs(schema))])
    return hashlib.blake2s(text.encode("utf-8"), digest_size=8).hexdigest()


def rev_cell(rev: int, schema: SheetSchema, values: dict[str, object]) -> str:
    return f"{rev}:{content_hash(schema, values)}"
