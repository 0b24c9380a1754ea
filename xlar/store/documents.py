"""Documents read and written as `Document` records (xlar.domain.records): the one place a row
of the documents table becomes a record, so no service reads a document as a database row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain.errors import NotFound
from xlar.domain.records import Document
from xlar.store.tables import documents
from xlar.store.writes import insert_rows


def load(conn: Connection, doc_id: int, *, lock: bool = False) -> Document:
    """The document with id DOC_ID; LOCK holds its row for this transaction."""
    stmt = sa.select(documents).where(documents.c.id == doc_id)
    row = conn.execute(stmt.with_for_update() if lock else stmt).mappings().first()
    if row is None:
        raise NotFound(f"no document with id {doc_id}")
    return Document.of(row)


def find(conn: Connection, number: str, *, lock: bool = False) -> Document:
    """A document by its number, or by its draft name ("DRAFT-12" or "12")."""
    stmt = sa.select(documents).where(documents.c.number == number)
    row = conn.execute(stmt.with_for_update() if lock else stmt).mappings().first()
    if row is None:
        draft_id = number.upper().removeprefix("DRAFT-").removeprefix("#")
        if draft_id.isdigit():
            return load(conn, int(draft_id), lock=lock)
        raise NotFound(f"no document {number!r}")
    return Document.of(row)


def select(conn: Connection, where: sa.ColumnElement[bool], *, lock: bool = False) -> list[Document]:
    """The documents WHERE holds for, by id; LOCK holds their rows for this transaction."""
    stmt = sa.select(documents).where(where).order_by(documents.c.id)
    return [Document.of(row) for row in conn.execute(stmt.with_for_update() if lock else stmt).mappings()]


def insert(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[Document]:
    """Store new documents (their columns by name, without an id) in one batch; returns them as
    stored, in order."""
    ids = insert_rows(conn, documents, rows)
    return [Document.of({**row, "id": doc_id}) for row, doc_id in zip(rows, ids, strict=True)]
