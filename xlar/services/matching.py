"""Allocation (核销): matching credit items (receipts, credit notes) to debit items.

An allocation takes effect on the later of its two documents' dates (moved to the
first open day when that falls in a closed period). Nothing is deleted: undo writes
reversing allocations. No item is ever applied beyond its amount, on any date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from xlar.domain.errors import InvalidAllocation, NotFound, OverAllocation
from xlar.domain.ledger import OpenItem, base_share, check_never_overdrawn, fifo_plan
from xlar.domain.money import from_minor, to_minor
from xlar.domain.periods import ensure_open, first_open_day
from xlar.store.audit import record
from xlar.store.ledger import OPEN, open_items_stmt
from xlar.store.settings import read_settings
from xlar.store.tables import allocation_batches, allocations, customers, documents, open_items
from xlar.store.writes import insert_row

METHODS = ("manual", "fifo", "void", "auto", "due_date", "exact", "reference", "product", "installment")
LIVE = ("posted", "approved")


@dataclass(frozen=True, slots=True)
class Match:
    debit_item_id: int
    credit_item_id: int
    amount: Decimal


def _items(conn: Connection, ids: set[int]) -> dict[int, RowMapping]:
    stmt = (
        sa.select(open_items, documents.c.number, documents.c.kind, documents.c.status,
                  customers.c.code.label("customer"))
        .join_from(open_items, documents, documents.c.id == open_items.c.document_id)
        .join(customers, customers.c.id == open_items.c.customer_id)
        .where(open_items.c.id.in_(ids))
        .with_for_update(of=open_items)
    )
    found = {row["id"]: row for row in conn.execute(stmt).mappings()}
    missing = ids - found.keys()
    if missing:
        raise NotFound(f"no open item with id {', '.join(map(str, sorted(missing)))}")
    return found


def _moves(conn: Connection, ids: set[int]) -> dict[int, list[tuple[date, int, int]]]:
    """(effective date, amount, base) applied to each item so far, both sides."""
    a = allocations.c
    rows = conn.execute(
        sa.select(a.debit_item_id, a.credit_item_id, a.amount_minor, a.debit_base_minor,
                  a.credit_base_minor, a.effective_on)
        .where(sa.or_(a.debit_item_id.in_(ids), a.credit_item_id.in_(ids)))
    )
    moves: dict[int, list[tuple[date, int, int]]] = defaultdict(list)
    for debit, credit, amount, debit_base, credit_base, on in rows:
        moves[debit].append((on, amount, debit_base))
        moves[credit].append((on, amount, credit_base))
    return moves


def _name(item: RowMapping) -> str:
    return f"{item['kind']} {item['number']}" + (f" #{item['installment_no']}" if item["installment_no"] > 1 else "")


def _check(debit: RowMapping, credit: RowMapping) -> None:
    if debit["amount_minor"] <= 0:
        raise InvalidAllocation(f"{_name(debit)} is a credit, not something to be paid")
    if credit["amount_minor"] >= 0:
        raise InvalidAllocation(f"{_name(credit)} is not a receipt or credit")
    for item in (debit, credit):
        if item["status"] not in LIVE:
            raise InvalidAllocation(f"{_name(item)} is {item['status']}: only posted documents can be matched")
    if debit["customer"] != credit["customer"]:
        raise InvalidAllocation(
            f"{_name(credit)} of {credit['customer']} cannot pay {_name(debit)} of {debit['customer']}")
    if debit["currency"] != credit["currency"]:
        raise InvalidAllocation(
            f"{_name(credit)} in {credit['currency']} cannot pay {_name(debit)} in {debit['currency']}")


def _insert_batch(conn: Connection, method: str, user: str, memo: str | None,
                  rows: list[dict[str, Any]], reverses: int | None = None) -> int:
    batch_id = insert_row(conn, allocation_batches, {
        "method": method, "user_name": user, "created_at": datetime.now(UTC), "memo": memo,
        "reverses_batch_id": reverses})
    conn.execute(allocations.insert(), [{"batch_id": batch_id, **r} for r in rows])
    record(conn, user, "undo" if reverses else "allocate", "allocation_batch", batch_id, None,
           {"method": method, "memo": memo, "reverses": reverses, "allocations": [
               {k: r[k] for k in ("debit_item_id", "credit_item_id", "amount_minor", "effective_on")}
               for r in rows]})
    return batch_id


def _never_overdrawn(items: dict[int, RowMapping], moves: dict[int, list[tuple[date, int, int]]]) -> None:
    for item_id, item in items.items():
        cur = item["currency"]
        check_never_overdrawn(
            _name(item), from_minor(abs(item["amount_minor"]), cur),
            [(on, from_minor(amount, cur)) for on, amount, _base in moves[item_id]])


def allocate(conn: Connection, matches: Sequence[Match], *, method: str, user: str,
             memo: str | None = None) -> int:
    """Record MATCHES as one batch; refuse the whole batch if any match is not allowed."""
    if not matches:
        raise InvalidAllocation("nothing to allocate")
    if method not in METHODS:
        raise InvalidAllocation(f"unknown matching method {method!r}")
    book = read_settings(conn)
    ids = {m.debit_item_id for m in matches} | {m.credit_item_id for m in matches}
    items = _items(conn, ids)
    moves = _moves(conn, ids)
    opens = first_open_day(book.closed_period)
    rows = []
    for m in matches:
        debit, credit = items[m.debit_item_id], items[m.credit_item_id]
        _check(debit, credit)
        cur = debit["currency"]
        amount = to_minor(m.amount, cur)
        if amount <= 0:
            raise InvalidAllocation(f"matching {_name(credit)} to {_name(debit)}: amount {m.amount} must be positive")
        on = max(debit["doc_on"], credit["doc_on"], opens or date.min)
        shares = []
        for item in (debit, credit):
            applied = sum(mv[1] for mv in moves[item["id"]])
            applied_base = sum(mv[2] for mv in moves[item["id"]])
            open_ = abs(item["amount_minor"]) - applied
            if amount > open_:
                raise OverAllocation(
                    f"{_name(item)} has {from_minor(open_, cur)} {cur} open; cannot apply {m.amount}")
            open_base = abs(item["base_amount_minor"]) - applied_base
            share = base_share(from_minor(amount, cur), from_minor(open_, cur),
                               from_minor(open_base, book.base_currency), book.base_currency)
            shares.append(to_minor(share, book.base_currency))
            moves[item["id"]].append((on, amount, shares[-1]))
        rows.append({"debit_item_id": debit["id"], "credit_item_id": credit["id"], "amount_minor": amount,
                     "debit_base_minor": shares[0], "credit_base_minor": shares[1], "effective_on": on})
    _never_overdrawn(items, moves)
    return _insert_batch(conn, method, user, memo, rows)


def undo(conn: Connection, batch_id: int, *, on: date, user: str) -> int:
    """Reverse a match batch from ON (or its own date, if later); returns the undo batch."""
    batch = conn.execute(sa.select(allocation_batches).where(allocation_batches.c.id == batch_id)
                         .with_for_update()).mappings().first()
    if batch is None:
        raise NotFound(f"no match batch {batch_id}")
    if batch["reverses_batch_id"] is not None or batch["method"] == "void":
        raise InvalidAllocation(f"match batch {batch_id} ({batch['method']}) cannot be undone")
    done = conn.execute(sa.select(allocation_batches.c.id)
                        .where(allocation_batches.c.reverses_batch_id == batch_id)).scalar()
    if done is not None:
        raise InvalidAllocation(f"match batch {batch_id} was already undone by batch {done}")
    ensure_open(on, read_settings(conn).closed_period, f"undo of match batch {batch_id}")
    originals = conn.execute(sa.select(allocations).where(allocations.c.batch_id == batch_id)).mappings().all()
    ids = {r["debit_item_id"] for r in originals} | {r["credit_item_id"] for r in originals}
    items = _items(conn, ids)
    moves = _moves(conn, ids)
    rows = []
    for r in originals:
        when = max(on, r["effective_on"])
        rows.append({"debit_item_id": r["debit_item_id"], "credit_item_id": r["credit_item_id"],
                     "amount_minor": -r["amount_minor"], "debit_base_minor": -r["debit_base_minor"],
                     "credit_base_minor": -r["credit_base_minor"], "effective_on": when,
                     "reverses_id": r["id"]})
        moves[r["debit_item_id"]].append((when, -r["amount_minor"], -r["debit_base_minor"]))
        moves[r["credit_item_id"]].append((when, -r["amount_minor"], -r["credit_base_minor"]))
    _never_overdrawn(items, moves)
    return _insert_batch(conn, "undo", user, f"undo of batch {batch_id}", rows, reverses=batch_id)


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


def _as_item(row: RowMapping, base_currency: str) -> OpenItem:
    cur = row["currency"]
    return OpenItem(row["id"], str(row["customer_id"]), cur, from_minor(row["amount_minor"], cur),
                    from_minor(row["base_amount_minor"], base_currency), row["doc_on"], row["due_on"],
                    row["number"] or "", row["installment_no"])


def match_fifo(conn: Connection, credit_document_id: int, *, user: str) -> int | None:
    """Apply a receipt's or credit note's open amount to its customer's debits, oldest due first.

    Returns the batch id, or None when nothing could be matched.
    """
    doc = conn.execute(sa.select(documents).where(documents.c.id == credit_document_id)).mappings().first()
    if doc is None:
        raise NotFound(f"no document with id {credit_document_id}")
    listing = open_items_stmt(None, doc["customer_id"]).subquery("listing")
    rows = conn.execute(
        sa.select(listing, documents.c.number)
        .join(documents, documents.c.id == listing.c.document_id)
        .where(documents.c.status.in_(LIVE), listing.c.currency == doc["currency"], listing.c[OPEN] != 0)
    ).mappings().all()
    base_currency = read_settings(conn).base_currency
    debits = [(_as_item(r, base_currency), from_minor(r[OPEN], r["currency"])) for r in rows if r[OPEN] > 0]
    matches: list[Match] = []
    for credit in (r for r in rows if r["document_id"] == credit_document_id and r[OPEN] < 0):
        plan = fifo_plan(from_minor(-credit[OPEN], credit["currency"]), debits)
        matches += [Match(item.id, credit["id"], amount) for item, amount in plan]
        taken = {item.id: amount for item, amount in plan}
        debits = [(item, open_ - taken.get(item.id, Decimal(0))) for item, open_ in debits]
    if not matches:
        return None
    return allocate(conn, matches, method="fifo", user=user)
