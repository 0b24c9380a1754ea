"""Editing the book's rows directly in the database, behind xlar's back, case by case: the way
someone with the database file (or its password) and a SQL tool could. Each case runs on a
connection of its own (none of xlar's: no seal marks), with the store's guards lifted (SQLite's
triggers dropped, PostgreSQL's disabled as a superuser can), inside a transaction rolled back
afterwards; `sealcheck.verify` is asked in that same transaction whether it names what changed.

The last cases change a row's seal with it, and then the table's sum too: the chain, which
holds every sum xlar sealed, still tells."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tests.books import USER
from tests.reliability.tamper import fill as tamper_fill
from xlar.services import matching
from xlar.store import audit, sealcheck, seals
from xlar.store.engine import Store
from xlar.store.tables import (
    allocations,
    customers,
    document_lines,
    documents,
    journal_lines,
    number_series,
    open_items,
    row_seals,
    seal_heads,
    settings,
)

Expected = tuple[str, str]            # (table, inserted | changed | deleted | rewritten)
Edit = Callable[[Connection], Expected]


@dataclass
class DirectEditFigures:
    tried: int = 0
    detected: int = 0
    failures: list[str] = field(default_factory=list)


def _first(conn: Connection, table: sa.Table, *where: sa.ColumnElement[bool]) -> dict[str, object]:
    row = conn.execute(sa.select(table).where(*where).order_by(*table.primary_key.columns).limit(1)).mappings().first()
    if row is None:
        raise AssertionError(f"the book to edit has no {table.name} row")
    return dict(row)


def _next_id(conn: Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.max(table.c.id))).scalar_one()) + 1000


def invoice_in_a_closed_month(conn: Connection) -> Expected:
    """A posted invoice (and its open item) slipped in, dated in a month long closed."""
    doc = _first(conn, documents, documents.c.kind == "invoice", documents.c.status == "posted")
    new_id = _next_id(conn, documents)
    conn.execute(documents.insert().values({**doc, "id": new_id, "number": "INV-FORGED-1",
                                            "doc_on": date(2025, 1, 15), "due_on": date(2025, 2, 14)}))
    item = _first(conn, open_items, open_items.c.document_id == doc["id"])
    conn.execute(open_items.insert().values({**item, "id": _next_id(conn, open_items), "document_id": new_id,
                                             "doc_on": date(2025, 1, 15), "due_on": date(2025, 2, 14)}))
    return ("documents", "inserted")


def credit_limit_raised(conn: Connection) -> Expected:
    conn.execute(customers.update().where(customers.c.id == _first(conn, customers)["id"])
                 .values(credit_limit_minor=sa.func.coalesce(customers.c.credit_limit_minor, 100_000) * 1000))
    return ("customers", "changed")


def open_item_lowered(conn: Connection) -> Expected:
    item = _first(conn, open_items)
    conn.execute(open_items.update().where(open_items.c.id == item["id"])
                 .values(amount_minor=open_items.c.amount_minor - 10_000))
    return ("open_items", "changed")


def allocation_deleted(conn: Connection) -> Expected:
    conn.execute(allocations.delete().where(allocations.c.id == _first(conn, allocations)["id"]))
    return ("allocations", "deleted")


def journal_line_changed(conn: Connection) -> Expected:
    line = _first(conn, journal_lines, journal_lines.c.debit_minor > 0)
    conn.execute(journal_lines.update().where(journal_lines.c.id == line["id"])
                 .values(debit_minor=journal_lines.c.debit_minor + 1, base_debit_minor=journal_lines.c.base_debit_minor + 1))
    return ("journal_lines", "changed")


def document_line_deleted(conn: Connection) -> Expected:
    conn.execute(document_lines.delete().where(document_lines.c.id == _first(conn, document_lines)["id"]))
    return ("document_lines", "deleted")


def setting_changed(conn: Connection) -> Expected:
    key = _first(conn, settings)["key"]
    conn.execute(settings.update().where(settings.c.key == key).values(value="999"))
    return ("settings", "changed")


def customer_inserted(conn: Connection) -> Expected:
    row = _first(conn, customers)
    conn.execute(customers.insert().values({**row, "id": _next_id(conn, customers), "code": "FORGED",
                                            "name": "Forged Ltd."}))
    return ("customers", "inserted")


def number_series_moved_back(conn: Connection) -> Expected:
    conn.execute(number_series.update().values(last_no=number_series.c.last_no - 1))
    return ("number_series", "changed")


def _reseal_by_hand(conn: Connection, table: sa.Table, row_id: int, *, head: bool) -> None:
    """What a forger who read store/seals.py does: the row's seal recomputed, and the table's
    sum with it (HEAD)."""
    new = seals.row_hashes(conn, table, [str(row_id)])[str(row_id)]
    s = row_seals.c
    old = conn.execute(sa.select(s.hash).where(s.tbl == table.name, s.row_key == str(row_id))).scalar_one()
    conn.execute(row_seals.update().where(s.tbl == table.name, s.row_key == str(row_id)).values(hash=new))
    if head:
        digest = conn.execute(sa.select(seal_heads.c.digest).where(seal_heads.c.tbl == table.name)).scalar_one()
        total = (int(digest, 16) + int(new, 16) - int(old, 16)) % (1 << 256)
        conn.execute(seal_heads.update().where(seal_heads.c.tbl == table.name).values(digest=f"{total:064x}"))


def row_and_seal_changed(conn: Connection) -> Expected:
    row_id = int(_first(conn, customers)["id"])
    conn.execute(customers.update().where(customers.c.id == row_id).values(name="Someone Else Ltd."))
    _reseal_by_hand(conn, customers, row_id, head=False)
    return ("customers", "rewritten")


def row_seal_and_sum_changed(conn: Connection) -> Expected:
    item_id = int(_first(conn, open_items)["id"])
    conn.execute(open_items.update().where(open_items.c.id == item_id).values(amount_minor=1))
    _reseal_by_hand(conn, open_items, item_id, head=True)
    return ("open_items", "rewritten")


def row_and_seal_deleted(conn: Connection) -> Expected:
    row_id = int(_first(conn, allocations)["id"])
    conn.execute(allocations.delete().where(allocations.c.id == row_id))
    conn.execute(row_seals.delete().where(row_seals.c.tbl == "allocations", row_seals.c.row_key == str(row_id)))
    return ("allocations", "rewritten")


CASES: dict[str, Edit] = {f.__name__: f for f in (
    invoice_in_a_closed_month, credit_limit_raised, open_item_lowered, allocation_deleted,
    journal_line_changed, document_line_deleted, setting_changed, customer_inserted,
    number_series_moved_back, row_and_seal_changed, row_seal_and_sum_changed, row_and_seal_deleted)}


def outside_engine(store: Store) -> sa.Engine:
    """Another program's connections to the store: not those of xlar's writes (no seal marks on
    them), and opened as xlar opens them (on SQLite: BEGIN before anything, DDL included)."""
    return Store.connect(store.url).engine


def lift_guards(conn: Connection) -> None:
    """The store's own guards off, in this transaction only (rolled back, or committed by a case
    that means to leave its edit)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        return
    for name in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars().all():
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')


def fill(store: Store) -> None:
    """A book with every kind of row the cases edit: the audit tampering book (customers,
    posted invoices, approved receipts) with each receipt allocated to an invoice."""
    tamper_fill(store)
    with store.write() as conn:
        d, o = documents.c, open_items.c
        for code in conn.execute(sa.select(customers.c.code).order_by(customers.c.code)).scalars().all():
            items = {kind: conn.execute(sa.select(o.id).join(documents, d.id == o.document_id)
                                        .join(customers, customers.c.id == d.customer_id)
                                        .where(customers.c.code == code, d.kind == kind).order_by(o.id)).scalars().first()
                     for kind in ("invoice", "receipt")}
            if items["invoice"] and items["receipt"]:
                matching.allocate(conn, [matching.Match(items["invoice"], items["receipt"], Decimal("5.00"))],
                                  method="manual", user=USER)


def run_direct_edits(store: Store) -> DirectEditFigures:
    """Every case against STORE (a filled book whose seals hold), each rolled back."""
    figures = DirectEditFigures()
    with store.read() as conn:
        clean = sealcheck.verify(conn, audit.verify(conn).seals)
    if not clean.holds:
        raise AssertionError(f"the book to edit is not clean: {clean.text()}")
    engine = outside_engine(store)
    try:
        for name, edit in CASES.items():
            figures.tried += 1
            with engine.connect() as conn:
                tx = conn.begin()
                try:
                    lift_guards(conn)
                    table, kind = edit(conn)
                    verdict = sealcheck.verify(conn, audit.verify(conn).seals)
                finally:
                    tx.rollback()
            named = (table in verdict.rewritten if kind == "rewritten"
                     else any(d.table == table and d.kind == kind for d in verdict.differences))
            if verdict.holds:
                figures.failures.append(f"{name}: not detected")
            elif not named:
                figures.failures.append(f"{name}: detected, but not as {table} {kind}: {verdict.text()}")
            else:
                figures.detected += 1
    finally:
        engine.dispose()
    return figures
