"""Rows as sync sees them: a store row shown on a sheet, and the content hash of a row."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from xlar.schema.columns import SheetSchema
from xlar.schema.hashing import canonical, content_hash, input_keys

__all__ = ["DRAFT_PREFIX", "StoreRow", "content_hash", "name_of", "new_row_mark", "rev_cell", "typed_ref"]

DRAFT_PREFIX = "DRAFT-"   # a draft document is shown as DRAFT-<id> until it is posted


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


def typed_ref(values: Mapping[str, object]) -> str | None:
    """What a new row is called by the user: its Your ref., else the number typed on it (a new
    row's number is the user's own; the store numbers the document)."""
    for key in ("your_ref", "number"):
        value = values.get(key)
        if value is not None and not str(value).upper().startswith(DRAFT_PREFIX):
            return str(value)
    return None


def name_of(values: Mapping[str, object]) -> str:
    """How InvoiceLines rows name an Invoices row: its number (a new row's typed number), else its Your ref."""
    return str(values.get("number") or values.get("your_ref"))
