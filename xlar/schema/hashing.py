"""The content hash of a row: what the user may have edited since a sync (or since the
template) wrote it. Sync compares it; the template marks its own rows with it."""

from __future__ import annotations

import functools
import hashlib
from datetime import date
from decimal import Decimal

from xlar.schema.columns import SheetSchema


def canonical(value: object) -> str:
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
def input_keys(schema: SheetSchema) -> tuple[str, ...]:
    return tuple(c.key for c in schema.columns if not c.computed)


def content_hash(schema: SheetSchema, values: dict[str, object]) -> str:
    """A short hash of the input columns' values: what the user may have edited."""
    get = values.get
    text = "\x1f".join([canonical(get(key)) for key in input_keys(schema)])
    return hashlib.blake2s(text.encode("utf-8"), digest_size=4).hexdigest()


TEMPLATE_REV = 0   # the revision in a template's own rows (a sync's start at 1)


def template_rev(schema: SheetSchema, values: dict[str, object]) -> str:
    """The _rev the template gives a row of its own: a row that still has it, with the same
    content, was never typed by the user (its values are offers, not changes)."""
    return f"{TEMPLATE_REV}:{content_hash(schema, values)}"


def untouched_template_row(schema: SheetSchema, values: dict[str, object], rev: int | None,
                           synced_hash: str | None) -> bool:
    return rev == TEMPLATE_REV and synced_hash == content_hash(schema, values)
