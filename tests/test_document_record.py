"""The document record (xlar.domain.records.Document): every column of the documents table, read
and written through xlar.store.documents, on SQLite and PostgreSQL."""

from dataclasses import FrozenInstanceError
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.books import USER, customer, invoice, line
from xlar.domain.documents import DocKind, DocStatus
from xlar.domain.errors import NotFound
from xlar.domain.money import Money
from xlar.domain.records import COLUMNS, Document
from xlar.services import documents as docs
from xlar.store import documents as stored
from xlar.store.tables import documents


def test_the_record_has_every_column_of_the_table_in_its_order():
    assert COLUMNS == tuple(c.name for c in documents.columns)


def test_a_row_with_a_column_the_record_lacks_is_refused():
    """A column added to the table but not to the record fails loudly, never silently dropped."""
    row = {c: None for c in COLUMNS} | {"kind": "invoice", "status": "draft", "new_column": 1}
    with pytest.raises(TypeError, match="new_column"):
        Document.of(row)


def test_a_stored_document_reads_back_as_a_record(store):
    with store.write() as conn:
        customer(conn, "C1", terms="NET30")
        draft_id = invoice(conn, "C1", date(2026, 3, 10), line("3", "33.333", "0.13"), post=False)
        draft = stored.load(conn, draft_id)
        assert (draft.kind, draft.status, draft.number) == (DocKind.INVOICE, DocStatus.DRAFT, None)
        assert draft.label == f"invoice draft #{draft_id}"
        assert not draft.live
        assert stored.find(conn, f"DRAFT-{draft_id}") == draft == stored.find(conn, str(draft_id))
        number = docs.post(conn, draft_id, USER)
        doc = stored.find(conn, number)
        row = conn.execute(sa.select(documents).where(documents.c.id == draft_id)).mappings().one()
    assert doc.columns() == dict(row)
    assert (doc.id, doc.number, doc.status, doc.label, doc.live) == (
        draft_id, "INV-2026-00001", DocStatus.POSTED, "invoice INV-2026-00001", True)
    assert (doc.net_minor, doc.tax_minor, doc.amount_minor, doc.due_on) == (10000, 1300, 11300, date(2026, 4, 9))
    assert doc.amount == Money(Decimal("113.00"), "CNY") and doc.totals.total == 11300
    assert doc.rev == row["rev"] > draft.rev
    with pytest.raises(FrozenInstanceError):
        doc.status = DocStatus.VOID


def test_new_documents_come_back_as_stored(store):
    with store.write() as conn:
        customer(conn, "C1")
        cid = conn.execute(sa.text("select id from customers where code = 'C1'")).scalar_one()
        made = stored.insert(conn, [
            {"kind": "receipt", "status": "posted", "number": f"RC-{n}", "customer_id": cid,
             "doc_on": date(2026, 5, n), "currency": "CNY", "fx_rate": Decimal(1), "net_minor": 100 * n,
             "tax_minor": 0, "amount_minor": 100 * n, "base_amount_minor": 100 * n, "created_by": USER,
             "created_at": conn.execute(sa.select(sa.func.current_timestamp())).scalar_one()}
            for n in (1, 2)])
        again = stored.select(conn, documents.c.id.in_([d.id for d in made]))
        with pytest.raises(NotFound, match="RC-9"):
            stored.find(conn, "RC-9")
    assert [d.number for d in made] == ["RC-1", "RC-2"] and made[0].id < made[1].id
    assert [d.kind for d in again] == [DocKind.RECEIPT] * 2
    fields = ("id", "kind", "status", "number", "customer_id", "doc_on", "amount_minor", "rev", "memo")
    assert [[getattr(d, f) for f in fields] for d in made] == [[getattr(d, f) for f in fields] for d in again]
