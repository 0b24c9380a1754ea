"""Allocation (核销): matching credit items (receipts, credit notes) to debit items.

An allocation takes effect on the later of its two documents' dates, moved on to the first
open day when that falls in a closed period, and to the first date from which both items have
the room for it (after an undo: the undo's date). Nothing is deleted: undo writes reversing
allocations, from the day given (never before the match took effect). No item is ever applied
beyond its amount, on any date, and what was recorded for past dates stays as it was.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from xlar.domain import allocation
from xlar.domain.allocation import Side
from xlar.domain.batches import Applied, Held, Moves, decide, reversal
from xlar.domain.documents import DocKind, fx_realized_journal
from xlar.domain.errors import InvalidAllocation, NotFound, OverAllocation
from xlar.domain.ledger import fifo_plan
from xlar.domain.money import from_minor
from xlar.domain.periods import ensure_open, first_open_day
from xlar.store.audit import record
from xlar.store.documents import insert as insert_documents
from xlar.store.documents import load
from xlar.store.ledger import OPEN, as_open_item, journal_rows, listed_stmt, write_journal
from xlar.store.numbering import next_number
from xlar.store.settings import BookSettings, read_settings
from xlar.store.tables import (
    allocation_batches,
    allocations,
    customers,
    document_lines,
    documents,
    open_items,
)
from xlar.store.writes import in_chunks, insert_row

METHODS = ("manual", "fifo", "void", "auto", "due_date", "exact", "reference", "product", "installment",
           "write_off", "transfer", "netting", "refund", "undo")
LIVE = allocation.LIVE   # document statuses that stand in the ledger
SETTLING = ("write_off", "netting", "transfer", "refund")   # matches made with a settlement document


@dataclass(frozen=True, slots=True)
class Match:
    debit_item_id: int
    credit_item_id: int
    amount: Decimal
    item: str | None = None   # by product: the debit's invoice lines of this item are paid


def clears(kind: str, status: str, book: BookSettings) -> bool:
    """Whether a document in STATUS can take part in matches, under the book's receipt_clearing."""
    return allocation.clears(kind, status, book.receipt_clearing)


def _items(conn: Connection, ids: set[int]) -> dict[int, Held]:
    """The open items IDS, locked, as a batch holds them."""
    stmt = (
        sa.select(open_items, documents.c.number, documents.c.kind, documents.c.status,
                  customers.c.code.label("customer"))
        .join_from(open_items, documents, documents.c.id == open_items.c.document_id)
        .join(customers, customers.c.id == open_items.c.customer_id)
        .with_for_update(of=open_items)
    )
    found = {row["id"]: Held(row["id"], row["document_id"], row["customer_id"], row["doc_on"],
                             row["base_amount_minor"],
                             Side(row["kind"], row["number"], row["installment_no"], row["amount_minor"],
                                  row["status"], row["customer"], row["currency"]))
             for chunk in in_chunks(ids) for row in conn.execute(stmt.where(open_items.c.id.in_(chunk))).mappings()}
    missing = ids - found.keys()
    if missing:
        raise NotFound(f"no open item with id {', '.join(map(str, sorted(missing)))}")
    return found


def _moves(conn: Connection, ids: set[int]) -> Moves:
    """(effective date, amount, base) applied to each item so far, both sides."""
    a = allocations.c
    stmt = sa.select(a.id, a.debit_item_id, a.credit_item_id, a.amount_minor, a.debit_base_minor,
                     a.credit_base_minor, a.effective_on)
    rows = {row[0]: row[1:] for chunk in in_chunks(ids) for row in conn.execute(
        stmt.where(sa.or_(a.debit_item_id.in_(chunk), a.credit_item_id.in_(chunk))))}
    moves: Moves = defaultdict(list)
    for debit, credit, amount, debit_base, credit_base, on in rows.values():
        moves[debit].append((on, amount, debit_base))
        moves[credit].append((on, amount, credit_base))
    return moves


def _insert_batch(conn: Connection, method: str, user: str, memo: str | None, rows: Sequence[Applied],
                  items: Mapping[int, Held], book: BookSettings, reverses: int | None = None) -> int:
    batch_id = insert_row(conn, allocation_batches, {
        "method": method, "user_name": user, "created_at": datetime.now(UTC), "memo": memo,
        "reverses_batch_id": reverses})
    conn.execute(allocations.insert(), [{**r._asdict(), "batch_id": batch_id} for r in rows])
    record(conn, user, "undo" if method == "undo" else "allocate", "allocation_batch", batch_id, None,
           {"method": method, "memo": memo, "reverses": reverses, "allocations": [
               {"debit_item_id": r.debit_item_id, "credit_item_id": r.credit_item_id, "amount_minor": r.amount_minor,
                "effective_on": r.effective_on, "item": r.item, "reverses_id": r.reverses_id} for r in rows]})
    _book_realized_fx(conn, batch_id, rows, items, book, user)
    return batch_id


def _book_realized_fx(conn: Connection, batch_id: int, rows: Sequence[Applied],
                      items: Mapping[int, Held], book: BookSettings, user: str) -> None:
    """A match of foreign-currency items clears the invoice at its own rate and the receipt at
    its own: the difference in base currency is a realized exchange gain or loss, booked as a
    journal-only document per customer, currency and date (an undo books the reverse)."""
    differences: dict[tuple[int, str, date], int] = defaultdict(int)
    for r in rows:
        debit = items[r.debit_item_id]
        if debit.currency != book.base_currency:
            differences[(debit.customer_id, debit.currency, r.effective_on)] += r.debit_base_minor - r.credit_base_minor
    now = datetime.now(UTC)
    for (customer_id, currency, on), difference in sorted(differences.items()):
        if not difference:
            continue
        row = {"kind": DocKind.FX_REALIZED.value, "status": "posted",
               "number": next_number(conn, DocKind.FX_REALIZED, on), "customer_id": customer_id, "doc_on": on,
               "due_on": on, "currency": currency, "fx_rate": Decimal(1), "net_minor": 0, "tax_minor": 0,
               "amount_minor": 0, "base_amount_minor": abs(difference), "batch_id": batch_id,
               "memo": f"realized exchange {'loss' if difference > 0 else 'gain'} of match batch {batch_id}",
               "created_by": user, "created_at": now, "posted_by": user, "posted_at": now}
        doc = insert_documents(conn, [row])[0]
        write_journal(conn, journal_rows(doc, fx_realized_journal(difference, book.accounts)),
                      book.accounts.receivable)
        record(conn, user, "create", "document", doc.id, None, row)


def allocate(conn: Connection, matches: Sequence[Match], *, method: str, user: str,
             memo: str | None = None, not_before: date | None = None) -> int:
    """Record MATCHES as one batch; refuse the whole batch if any match is not allowed.

    A match takes effect on the latest of: its two documents' dates, the first open day,
    NOT_BEFORE (a changed match: the day the amount it replaces is undone), and the first date
    from which both items have the room for it on every later date. It never over-applies an
    item on any date and never needs an undo to be backdated; the memo says why when the date
    is later than the documents'. Refused only when an item has less open than the amount.
    """
    if not matches:
        raise InvalidAllocation("nothing to allocate")
    if method not in METHODS:
        raise InvalidAllocation(f"unknown matching method {method!r}")
    book = read_settings(conn)
    ids = {m.debit_item_id for m in matches} | {m.credit_item_id for m in matches}
    items = _items(conn, ids)
    rows, why = decide(matches, items, _moves(conn, ids), method=method, receipt_clearing=book.receipt_clearing,
                       base_currency=book.base_currency, opens=first_open_day(book.closed_period),
                       not_before=not_before)
    _check_products(conn, rows, items)
    said = "; ".join(dict.fromkeys([*([memo] if memo else []), *why])) or None
    return _insert_batch(conn, method, user, said[:500] if said else None, rows, items, book)


def _check_products(conn: Connection, rows: Sequence[Applied], items: Mapping[int, Held]) -> None:
    """A match by product never pays more of an item than the invoice's lines of it hold."""
    wanted: dict[tuple[int, str], int] = defaultdict(int)
    for r in rows:
        if r.item:
            wanted[(items[r.debit_item_id].document_id, r.item)] += r.amount_minor
    if not wanted:
        return
    doc_ids = {doc_id for doc_id, _ in wanted}
    ln, a, oi = document_lines.c, allocations.c, open_items.c
    gross = {(doc_id, item): total for doc_id, item, total in conn.execute(
        sa.select(ln.document_id, ln.item, sa.func.sum(ln.net_minor + ln.tax_minor))
        .where(ln.document_id.in_(doc_ids)).group_by(ln.document_id, ln.item))}
    paid = {(doc_id, item): total for doc_id, item, total in conn.execute(
        sa.select(oi.document_id, a.item, sa.func.sum(a.amount_minor))
        .join(open_items, oi.id == a.debit_item_id)
        .where(oi.document_id.in_(doc_ids), a.item.is_not(None)).group_by(oi.document_id, a.item))}
    for (doc_id, item), amount in wanted.items():
        room = gross.get((doc_id, item), 0) - (paid.get((doc_id, item)) or 0)
        if amount > room:
            debit = next(i for i in items.values() if i.document_id == doc_id)
            raise OverAllocation(f"{debit.name} has {from_minor(max(room, 0), debit.currency)} "
                                 f"{debit.currency} of item {item} open; cannot apply "
                                 f"{from_minor(amount, debit.currency)}")


def undo(conn: Connection, batch_id: int, *, on: date, user: str) -> int:
    """Reverse what is still live of a match batch from ON (or its own date, if later);
    returns the undo batch."""
    batch = conn.execute(sa.select(allocation_batches).where(allocation_batches.c.id == batch_id)
                         .with_for_update()).mappings().first()
    if batch is None:
        raise NotFound(f"no match batch {batch_id}")
    if batch["method"] in ("void", "undo"):
        raise InvalidAllocation(f"match batch {batch_id} ({batch['method']}) cannot be undone")
    if batch["method"] in SETTLING:
        raise InvalidAllocation(f"match batch {batch_id} belongs to a {batch['method'].replace('_', '-')}: void "
                                "that document instead (xlar void)")
    live = _live_of(conn, allocations.c.batch_id == batch_id)
    if not live:
        a = allocations.c
        by = conn.execute(sa.select(a.batch_id).distinct().where(a.reverses_id.in_(
            sa.select(a.id).where(a.batch_id == batch_id)))).scalars().all()
        raise InvalidAllocation(f"match batch {batch_id} was already undone by batch "
                                f"{', '.join(map(str, sorted(by)))}")
    return _reverse(conn, live, on, user, f"undo of batch {batch_id}", batch_id)


def undo_allocations(conn: Connection, allocation_ids: Sequence[int], *, on: date, user: str,
                     memo: str | None = None) -> int:
    """Reverse single matches (rows of the Allocations sheet) in one undo batch."""
    live = {match_id: match for chunk in in_chunks(allocation_ids)
            for match_id, match in _live_of(conn, allocations.c.id.in_(chunk)).items()}
    gone = set(allocation_ids) - live.keys()
    if gone:
        raise InvalidAllocation(f"match {', '.join(map(str, sorted(gone)))} is not a live match "
                                "(already undone, or a void)")
    return _reverse(conn, live, on, user, memo or f"undo of match {', '.join(map(str, allocation_ids))}", None)


def undo_items(conn: Connection, item_ids: Sequence[int], *, on: date, user: str, memo: str) -> int | None:
    """Reverse every live match of the open items ITEM_IDS (before their document is voided)."""
    a = allocations.c
    live = {match_id: match for chunk in in_chunks(item_ids)
            for match_id, match in _live_of(conn, sa.or_(a.debit_item_id.in_(chunk),
                                                         a.credit_item_id.in_(chunk))).items()}
    return _reverse(conn, live, on, user, memo, None) if live else None


def _live_of(conn: Connection, where: sa.ColumnElement[bool]) -> dict[int, Applied]:
    """The matches WHERE selects that are neither reversals, reversed, nor part of a void, by id."""
    a = allocations.c
    reversed_ids = sa.select(a.reverses_id).where(a.reverses_id.is_not(None))
    voids = sa.select(allocation_batches.c.id).where(allocation_batches.c.method.in_(("void", "undo")))
    return {match_id: Applied(*fields) for match_id, *fields in conn.execute(
        sa.select(a.id, *(a[name] for name in Applied._fields)).where(
            where, a.reverses_id.is_(None), a.id.not_in(reversed_ids), a.batch_id.not_in(voids))
        .order_by(a.id).with_for_update())}


def _reverse(conn: Connection, originals: Mapping[int, Applied], on: date, user: str, memo: str,
             batch_id: int | None) -> int:
    """Undo the live matches ORIGINALS (by id) from ON, in one batch (reversing BATCH_ID, when whole)."""
    book = read_settings(conn)
    ensure_open(on, book.closed_period, memo)
    ids = {m.debit_item_id for m in originals.values()} | {m.credit_item_id for m in originals.values()}
    items = _items(conn, ids)
    rows = reversal(sorted(originals.items()), on, items, _moves(conn, ids))
    return _insert_batch(conn, "undo", user, memo, rows, items, book, reverses=batch_id)


def refuse_if_matched(conn: Connection, item_ids: Sequence[int], what: str) -> None:
    """Refuse when any of the items still has a live match (voiding needs them undone first)."""
    moves = _moves(conn, set(item_ids))
    live = [i for i in item_ids if sum(mv[1] for mv in moves[i]) != 0]
    if live:
        batches = conn.execute(
            sa.select(allocations.c.batch_id).distinct()
            .where(sa.or_(allocations.c.debit_item_id.in_(live), allocations.c.credit_item_id.in_(live)))
        ).scalars().all()
        raise InvalidAllocation(
            f"{what} is matched (batches {', '.join(map(str, sorted(batches)))}): undo the matches first")


def match_fifo(conn: Connection, credit_document_id: int, *, user: str) -> int | None:
    """Apply a receipt's or credit note's open amount to its customer's debits, oldest due first.

    Returns the batch id, or None when nothing could be matched.
    """
    doc = load(conn, credit_document_id)
    stmt, listing = listed_stmt(None, doc.customer_id)
    base_currency = read_settings(conn).base_currency
    items = [as_open_item(r, base_currency) for r in conn.execute(
        stmt.where(documents.c.status.in_(LIVE), listing.c.currency == doc.currency, listing.c[OPEN] != 0)
    ).mappings()]
    debits = [(item, item.open.amount) for item in items if item.open.minor > 0]
    matches: list[Match] = []
    for credit in (i for i in items if i.document_id == credit_document_id and i.open.minor < 0):
        plan = fifo_plan((-credit.open).amount, debits)
        matches += [Match(item.id, credit.id, amount) for item, amount in plan]
        taken = {item.id: amount for item, amount in plan}
        debits = [(item, open_ - taken.get(item.id, Decimal(0))) for item, open_ in debits]
    if not matches:
        return None
    return allocate(conn, matches, method="fifo", user=user)
