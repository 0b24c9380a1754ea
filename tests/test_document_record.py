"""The stored records (xlar.domain.records) have every column of their tables; a Document, a Party
and a Delivery are read and written through xlar.store.documents, .customers and .deliveries,
on SQLite and PostgreSQL."""

from dataclasses import FrozenInstanceError
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.books import USER, customer, invoice, line
from xlar.domain.documents import DocKind, DocStatus
from xlar.domain.errors import NotFound
from xlar.domain.money import Money
from xlar.domain.records import (
    COLUMNS,
    PARTY_COLUMNS,
    Contract,
    Delivery,
    Document,
    Order,
    Payable,
    PeriodClose,
    StatementLine,
)
from xlar.services import documents as docs
from xlar.store import customers as parties
from xlar.store import deliveries as delivery_lines
from xlar.store import documents as stored
from xlar.store import tables
from xlar.store.tables import customers, deliveries, documents


def test_the_records_have_every_column_of_their_tables_in_its_order():
    assert COLUMNS == tuple(c.name for c in documents.columns)
    assert PARTY_COLUMNS == tuple(c.name for c in customers.columns)
    for record, table in ((Delivery, deliveries), (Order, tables.orders), (Contract, tables.contracts),
                          (Payable, tables.payables), (StatementLine, tables.bank_lines),
                          (PeriodClose, tables.period_closes)):
        assert record._fields == tuple(c.name for c in table.columns), table.name


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


def test_customers_read_back_as_parties(store):
    with store.write() as conn:
        for code in ("C2", "C1", "C3"):
            customer(conn, code, currency="USD" if code == "C2" else "CNY", closing_day=25 if code == "C3" else None)
        found = parties.by_codes(conn, ["C3", "C2", "C9"])
        one = parties.by_code(conn, "C1")
        with pytest.raises(NotFound, match="unknown customer 'C9'"):
            parties.by_code(conn, "C9")
        row = conn.execute(sa.select(customers).where(customers.c.code == "C1")).mappings().one()
        every = parties.every(conn)
    assert sorted(found) == ["C2", "C3"]
    assert (found["C2"].currency, found["C3"].closing_day, found["C3"].inactive) == ("USD", 25, False)
    assert {f: getattr(one, f) for f in PARTY_COLUMNS} == dict(row)
    assert [p.code for p in every] == ["C1", "C2", "C3"]


def test_delivery_lines_read_back_as_records(store):
    from tests.test_billing import deliver

    with store.write() as conn:
        customer(conn, "C1")
        deliver(conn, "SH2", date(2026, 6, 2), "C1", qty="3", price="10")
        deliver(conn, "SH1", date(2026, 6, 1), "C1", qty="2", price="5")
        found = delivery_lines.by_keys(conn, [("SH1", 1), ("SH2", 1), ("SH9", 1)], lock=True)
        row = conn.execute(sa.select(deliveries).where(deliveries.c.number == "SH2")).mappings().one()
        one = delivery_lines.load(conn, row["id"])
        every = delivery_lines.select(conn, deliveries.c.customer_id == row["customer_id"])
        with pytest.raises(NotFound, match="no delivery line with id 999"):
            delivery_lines.load(conn, 999)
    assert sorted(found) == [("SH1", 1), ("SH2", 1)]
    assert one._asdict() == dict(row) and one.key == ("SH2", 1) and one.qty == Decimal(3)
    assert [d.number for d in every] == ["SH1", "SH2"]    # by date
